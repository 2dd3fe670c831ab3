/**
 * ConformanceLifecycle: a connector instance owns nothing beyond its scope. Each check builds a
 * fresh instance (with its own HTTP client) in a scope, makes one call per capability — so
 * keep-alive sockets are open and any background work the instance starts is running — closes the
 * scope, and then gives the process two seconds to settle:
 *
 * - `sockets-closed`: every server of the fake must see its connections gone — shorter than any
 *   keep-alive timeout, so a socket the connector opened outside its scope (its own agent, the
 *   global fetch dispatcher, a raw socket) is caught rather than timing out by itself;
 * - `timers-cleared`: no timer or interval started from the moment the instance is built may still
 *   be pending once the process settled. A `setInterval` or `setTimeout` started outside the scope
 *   (a token refresher, a rate-limit window, a poller forked as a daemon) keeps running after the
 *   scope closed, keeps the process alive and keeps calling the platform for a connection that no
 *   longer exists. Timers are followed from their creation to their end with `node:async_hooks`
 *   (`Timeout` resources), not by counting `process.getActiveResourcesInfo()` before and after:
 *   other timers of the process (the test runner's) come and go meanwhile and would hide a leak. A
 *   timer made `unref()` is not counted, since it holds nothing alive; a daemon loop that sleeps
 *   again and again is, because the check keeps following new timers while it waits.
 *
 * @since 0.1.0
 */
import * as AsyncHooks from "node:async_hooks"
import { Effect, Layer } from "effect"
import type { ConnectorUnderTest } from "../FakeChannel.ts"
import { FakeChannel } from "../FakeChannel.ts"
import { calling, triggers } from "./ConformanceErrors.ts"
import type { Check, ConnectorRequirements, ManifestView } from "./ConformanceKit.ts"
import { ConformanceFailure, check, connectorLayer, describeError, fail } from "./ConformanceKit.ts"

const settleMs = 2_000

/** What the kit reads of a Node `Timeout`: whether it holds the process alive, and whether it ended. */
interface TimeoutResource {
  readonly hasRef: () => boolean
  /** Set by Node when the timer fired (once) or was cleared; the destroy hook runs later, asynchronously. */
  readonly _destroyed?: boolean
}

/**
 * Follows every timer and interval created while it is open. `pending()` counts the ones still
 * scheduled that hold the process alive.
 */
const followTimers = Effect.acquireRelease(
  Effect.sync(() => {
    const live = new Map<number, TimeoutResource>()
    const hook = AsyncHooks.createHook({
      init: (id, type, _trigger, resource) => {
        if (type === "Timeout") live.set(id, resource as TimeoutResource)
      },
      destroy: (id) => {
        live.delete(id)
      }
    }).enable()
    return { hook, pending: () => [...live.values()].filter((t) => t._destroyed !== true && t.hasRef()).length }
  }),
  ({ hook }) => Effect.sync(() => hook.disable())
)

/** Builds a fresh instance in its own scope, calls every capability once, and closes the scope. */
const exercise = <E>(manifest: ManifestView, layer: Layer.Layer<ConnectorUnderTest, E, ConnectorRequirements>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(connectorLayer(layer)).pipe(
        Effect.mapError(
          (e) => new ConformanceFailure({ message: `building the connector failed: ${describeError(e)}` })
        )
      )
      for (const capability of calling(manifest)) {
        const act = yield* Effect.provide(triggers[capability]!.prepare, context)
        // Any answer will do: the calls are only there to open connections and start background work.
        yield* Effect.provide(act, context)
      }
    })
  )

/** Waits up to `settleMs` for `count()` to come back to `baseline`; answers how many are left over. */
const settle = (count: () => number, baseline: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + settleMs
    while (count() > baseline && Date.now() < deadline) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
    return Math.max(0, count() - baseline)
  })

/** The lifecycle checks for a manifest and the connector's layer. */
export const checks = <E>(
  manifest: ManifestView,
  layer: Layer.Layer<ConnectorUnderTest, E, ConnectorRequirements>
): ReadonlyArray<Check> => [
  check(
    "lifecycle",
    "sockets-closed",
    "after the connector's scope closes the platform sees no open connection",
    Effect.gen(function* () {
      const fake = yield* FakeChannel
      const servers = fake.servers ?? [fake.sandbox]
      const open = () => servers.reduce((n, s) => n + s.openConnections(), 0)
      const baseline = open()
      yield* exercise(manifest, layer)
      const left = yield* settle(open, baseline)
      if (left > 0) {
        return yield* fail(
          `${left} connection(s) to the platform stayed open after the connector's scope closed: the connector leaks sockets`
        )
      }
    }),
    { needsConnector: false }
  ),
  check(
    "lifecycle",
    "timers-cleared",
    "after the connector's scope closes no timer or interval it started is still running",
    Effect.scoped(
      Effect.gen(function* () {
        const timers = yield* followTimers
        yield* exercise(manifest, layer)
        const left = yield* settle(timers.pending, 0)
        if (left > 0) {
          return yield* fail(
            `${left} timer(s) or interval(s) started by the connector were still running ${settleMs} ms after its scope closed: the connector leaks timers — run background work in its scope (Effect.sleep, Schedule, forkScoped) or clear it in a finalizer`
          )
        }
      })
    ),
    { needsConnector: false }
  )
]
