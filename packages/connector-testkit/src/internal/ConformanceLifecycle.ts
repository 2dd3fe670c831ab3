/**
 * ConformanceLifecycle: a connector instance owns nothing beyond its scope. The check builds a
 * fresh instance (with its own HTTP client) in a scope, makes one call per capability so keep-alive
 * sockets are open, closes the scope, and then expects every server of the fake to see its
 * connections gone within two seconds — shorter than any keep-alive timeout, so a socket the
 * connector opened outside its scope (its own agent, the global fetch dispatcher, a raw socket) is
 * caught rather than timing out by itself.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import type { ConnectorUnderTest } from "../FakeChannel.ts"
import { FakeChannel } from "../FakeChannel.ts"
import { calling, triggers } from "./ConformanceErrors.ts"
import type { Check, ConnectorRequirements, ManifestView } from "./ConformanceKit.ts"
import { ConformanceFailure, check, connectorLayer, describeError, fail } from "./ConformanceKit.ts"

const settleMs = 2_000

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
      yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(connectorLayer(layer)).pipe(
            Effect.mapError(
              (e) => new ConformanceFailure({ message: `building the connector failed: ${describeError(e)}` })
            )
          )
          for (const capability of calling(manifest)) {
            const act = yield* Effect.provide(triggers[capability]!.prepare, context)
            // Any answer will do: the calls are only there to open connections.
            yield* Effect.provide(act, context)
          }
        })
      )
      const deadline = Date.now() + settleMs
      while (open() > baseline && Date.now() < deadline) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      }
      const left = open() - baseline
      if (left > 0) {
        return yield* fail(
          `${left} connection(s) to the platform stayed open after the connector's scope closed: the connector leaks sockets`
        )
      }
    }),
    { needsConnector: false }
  )
]
