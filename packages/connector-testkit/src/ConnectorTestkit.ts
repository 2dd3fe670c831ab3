/**
 * ConnectorTestkit: the conformance suites every connector must pass. A claimed capability is a
 * tested capability: `suite` reads `manifest.capabilities` and registers one vitest `describe` per
 * claimed capability (plus `errors` and `lifecycle`), each running against its own fake platform.
 * Every assertion reads the fake's state through its probes (`FakeChannel`), never what the
 * connector says it did.
 *
 * ```ts
 * ConnectorTestkit.suite({
 *   name: "memory",
 *   manifest: MemoryConnector.manifest,
 *   fake: MemoryFakeChannel.layer(sandboxOptions),
 *   layer: Layer.effect(ConnectorUnderTest, Effect.flatMap(FakeChannel, (fake) => MemoryConnector.make(configFor(fake)))),
 *   skip: [{ test: "errors/tracking.pull/timeout", reason: "…", link: "https://…" }]
 * })
 * ```
 *
 * The kit provides the connector's requirements: real keep-alive HTTP, a `ConnectionContext` and
 * an `AccessToken` provider (see `ConformanceKit` for how it refreshes). Each check is a plain
 * effect: `checks` lists them and `runCheck` runs one outside `suite`, which is how the kit's own
 * tests prove every check fails against a broken connector.
 *
 * A skip entry names a test by id (shown in brackets after each test's title), and needs a reason
 * and a tracking link; an entry naming no test of the suite fails the suite at once.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { AccessToken } from "@tkbridge/core"
import { Cause, Effect, Exit, Layer } from "effect"
import type { ConnectorUnderTest, FakeChannel } from "./FakeChannel.ts"
import * as ConformanceErrors from "./internal/ConformanceErrors.ts"
import type { Check, CheckEnv, ConnectorRequirements, ManifestView } from "./internal/ConformanceKit.ts"
import { ConformanceFailure, connectorLayer, Kit, kitLayer } from "./internal/ConformanceKit.ts"
import * as ConformanceLifecycle from "./internal/ConformanceLifecycle.ts"
import * as ConformanceReads from "./internal/ConformanceReads.ts"
import * as ConformanceShipping from "./internal/ConformanceShipping.ts"
import * as ConformanceStock from "./internal/ConformanceStock.ts"
import * as ConformanceWebhooks from "./internal/ConformanceWebhooks.ts"

export type {
  /** One conformance check: a plain effect with a stable id. */
  Check,
  /** The requirements a connector layer under test may have. */
  ConnectorRequirements
}
export {
  /** A conformance check found the connector breaking the contract. */
  ConformanceFailure
}

/** Skips one test of the suite. All three fields are required: no silent skip lists. */
export interface SkipEntry {
  /** The test id, e.g. `"errors/tracking.pull/timeout"` (shown in brackets after each test's title). */
  readonly test: string
  /** Why the connector cannot pass it (a platform limitation, not a bug to hide). */
  readonly reason: string
  /** An issue or vendor-doc URL tracking it. */
  readonly link: string
}

/** What a conformance suite runs. */
export interface SuiteOptions<C extends Connector.Capability, Config, E1 = never, E2 = never> {
  /** The suite's name (usually the connector id). */
  readonly name: string
  /** The connector's manifest: its capabilities decide which suites run. */
  readonly manifest: Connector.Manifest<C, Config>
  /** Starts the fake platform (the connector's sandbox) and provides its probes. */
  readonly fake: Layer.Layer<FakeChannel, E1>
  /** The connector under test, configured against the fake. */
  readonly layer: Layer.Layer<ConnectorUnderTest, E2, ConnectorRequirements>
  readonly skip?: ReadonlyArray<SkipEntry> | undefined
}

const groupOrder = [
  "stock.push",
  "stock.pull",
  "locations.pull",
  "catalog.pull",
  "orders.pull",
  "aftersales.pull",
  "orders.webhook",
  "aftersales.webhook",
  "fulfillment.push",
  "shipment.create",
  "tracking.pull",
  "errors",
  "lifecycle"
]

/** Every check the suite runs for these options, in registration order (skips not applied). */
export const checks = <C extends Connector.Capability, Config, E1, E2>(
  options: SuiteOptions<C, Config, E1, E2>
): ReadonlyArray<Check> => {
  const manifest: ManifestView = options.manifest
  const all = [
    ...ConformanceStock.checks(manifest),
    ...ConformanceReads.checks(manifest),
    ...ConformanceWebhooks.checks(manifest),
    ...ConformanceShipping.checks(manifest),
    ...ConformanceErrors.checks(manifest),
    ...ConformanceLifecycle.checks(manifest, options.layer)
  ]
  return all.toSorted((a, b) => groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group))
}

/** The environment one group of checks runs in: its own fake, the kit and (usually) the connector. */
const environment = <C extends Connector.Capability, Config, E1, E2>(
  options: SuiteOptions<C, Config, E1, E2>,
  withConnector: boolean
): Layer.Layer<CheckEnv, E1 | E2 | ConformanceFailure> => {
  const base = kitLayer(options.manifest, options.name).pipe(Layer.provideMerge(options.fake))
  // Checks that build their own instance get a context without one; `runFor` only gives them that.
  return (withConnector ? connectorLayer(options.layer).pipe(Layer.provideMerge(base)) : base) as Layer.Layer<
    CheckEnv,
    E1 | E2 | ConformanceFailure
  >
}

/**
 * The environment the suites run in, for a connector's own extra tests: the fake, the connector
 * under test wired to the kit's HTTP client and token provider, and that provider (`AccessToken`).
 */
export const layer = <C extends Connector.Capability, Config, E1, E2>(
  options: SuiteOptions<C, Config, E1, E2>
): Layer.Layer<FakeChannel | ConnectorUnderTest | AccessToken.AccessToken, E1 | E2 | ConformanceFailure> =>
  Layer.effect(
    AccessToken.AccessToken,
    Effect.map(Kit, (kit) => kit.provider)
  ).pipe(Layer.provideMerge(environment(options, true)))

const failureMessage = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const e = failure.value
    return e instanceof Error || (typeof e === "object" && e !== null && "message" in e)
      ? String((e as { message: unknown }).message)
      : String(e)
  }
  return Cause.pretty(cause)
}

/**
 * Runs one check by id, with a fresh fake and connector, outside `suite`. Resolves when the check
 * passes and rejects with an `Error` carrying the failure's message when it does not.
 */
export const runCheck = async <C extends Connector.Capability, Config, E1, E2>(
  options: SuiteOptions<C, Config, E1, E2>,
  id: string
): Promise<void> => {
  const found = checks(options).find((c) => c.id === id)
  if (found === undefined) throw new Error(`no check "${id}" for ${options.name}; known: ${knownIds(options)}`)
  const exit = await Effect.runPromiseExit(Effect.provide(found.run, environment(options, found.needsConnector)))
  if (Exit.isFailure(exit)) throw new Error(`[${id}] ${failureMessage(exit.cause)}`)
}

const knownIds = <C extends Connector.Capability, Config, E1, E2>(options: SuiteOptions<C, Config, E1, E2>) =>
  checks(options)
    .map((c) => c.id)
    .join(", ")

/** Checks the skip list: every entry names a test of this suite, once, with a reason and a link. */
export const validateSkips = (
  suiteName: string,
  entries: ReadonlyArray<SkipEntry>,
  all: ReadonlyArray<Check>
): ReadonlyMap<string, SkipEntry> => {
  const ids = new Set(all.map((c) => c.id))
  const out = new Map<string, SkipEntry>()
  const problems: Array<string> = []
  for (const entry of entries) {
    if (!ids.has(entry.test)) problems.push(`"${entry.test}" names no test of this suite`)
    else if (out.has(entry.test)) problems.push(`"${entry.test}" is skipped twice`)
    if (typeof entry.reason !== "string" || entry.reason.trim() === "") problems.push(`"${entry.test}" has no reason`)
    if (typeof entry.link !== "string" || !/^https?:\/\/\S+$/.test(entry.link)) {
      problems.push(`"${entry.test}" needs a tracking link (an http(s) URL)`)
    }
    out.set(entry.test, entry)
  }
  if (problems.length > 0) {
    throw new Error(
      `ConnectorTestkit.suite(${suiteName}): bad skip list: ${problems.join("; ")}. Known tests: ${[...ids].join(", ")}`
    )
  }
  return out
}

// vitest refuses to load outside a vitest run, and this package's index is also imported by
// sandboxes running in plain Node (the demo, the runner). So the test API loads only inside a vitest
// worker. `VITEST` alone is not enough: a process a test spawns inherits it without being a worker;
// the worker's state global is not inherited.
const insideVitestWorker = process.env.VITEST !== undefined && "__vitest_worker__" in globalThis
const vitest = insideVitestWorker ? { v: await import("vitest"), e: await import("@effect/vitest") } : undefined

/**
 * Registers the conformance suite: a `describe(name)` holding one `describe` per claimed
 * capability, then `errors` and `lifecycle`. Call it at the top level of a vitest test file.
 */
export const suite = <C extends Connector.Capability, Config, E1 = never, E2 = never>(
  options: SuiteOptions<C, Config, E1, E2>
): void => {
  if (vitest === undefined) throw new Error("ConnectorTestkit.suite registers vitest tests; call it inside vitest")
  const { v, e } = vitest
  const all = checks(options)
  const skips = validateSkips(options.name, options.skip ?? [], all)
  const groups = new Map<string, Array<Check>>()
  for (const c of all) groups.set(c.group, [...(groups.get(c.group) ?? []), c])
  const title = (c: Check) => `${c.title} [${c.id}]`
  v.describe(options.name, () => {
    for (const [group, list] of groups) {
      if (list.every((c) => skips.has(c.id))) {
        v.describe(group, () => {
          for (const c of list) {
            v.it.skip(`${title(c)} — skipped: ${skips.get(c.id)!.reason} (${skips.get(c.id)!.link})`, () => {})
          }
        })
        continue
      }
      const withConnector = list.some((c) => c.needsConnector)
      e.layer(environment(options, withConnector), { excludeTestServices: true, timeout: "60 seconds" })(
        group,
        (it) => {
          for (const c of list) {
            const skip = skips.get(c.id)
            if (skip !== undefined) it.skip(`${title(c)} — skipped: ${skip.reason} (${skip.link})`, () => {})
            else it.effect(title(c), () => c.run, c.timeoutMs)
          }
        }
      )
    }
  })
}
