/**
 * ConformanceKit: what the conformance suites give a connector under test and the helpers the
 * checks share.
 *
 * The kit provides the connector's requirements itself, as the runner would: a real keep-alive HTTP
 * client (`NodeHttpClient.layerUndici`), a `ConnectionContext`, and an `AccessToken` provider.
 *
 * Token provider: for `oauth2` manifests the first grant comes from the fake's token server
 * (`fake.tokens.issue()`). `refresh(stale)` is single-flight: under one lock it re-checks whether
 * someone already replaced `stale` and, if not, obtains a fresh grant through the connector's own
 * `auth.refresh` (so the connector's refresh call is exercised against the sandbox's token
 * endpoint); a connector without an `auth` service gets a fresh `fake.tokens.issue()` instead. A
 * failed refresh surfaces as `AuthRevoked` when the platform said so and `AuthExpired` otherwise —
 * the two errors `TokenProvider.refresh` may fail with. For `apiKey` manifests the provider is fixed
 * (the fake's `tokens.issue()` grant when it has a token server, a placeholder otherwise).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import type { Scope } from "effect"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import type { ConnectorServices, FakeChannelShape } from "../FakeChannel.ts"
import { ConnectorUnderTest, FakeChannel } from "../FakeChannel.ts"

/** A conformance check found the connector (or its fake) doing something the contract forbids. */
export class ConformanceFailure extends Schema.TaggedError<ConformanceFailure>(
  "@tkbridge/connector-testkit/ConformanceFailure"
)("ConformanceFailure", { message: Schema.String }) {}

/** The parts of a manifest the kit reads (any `Connector.Manifest<C, Config>` fits). */
export type ManifestView = Pick<
  Connector.Manifest<Connector.Capability, unknown>,
  "id" | "displayName" | "capabilities" | "auth" | "limits" | "stock" | "webhookTopics"
>

/** The kit's own state for one suite: the manifest and the token provider it handed the connector. */
export interface KitShape {
  readonly manifest: ManifestView
  readonly connection: string
  readonly provider: AccessToken.TokenProvider
  /** How many fresh grants the provider obtained through `refresh`. */
  readonly refreshes: () => number
  /** Routes `provider.refresh` through this instance's `auth.refresh` until the scope closes. */
  readonly attach: (services: ConnectorServices) => Effect.Effect<void, never, Scope.Scope>
}

/** The kit's state, for checks. */
export class Kit extends Context.Tag("@tkbridge/connector-testkit/internal/Kit")<Kit, KitShape>() {}

/** The requirements a connector layer may have; the kit provides all but `FakeChannel` itself. */
export type ConnectorRequirements =
  | FakeChannel
  | HttpClient.HttpClient
  | AccessToken.AccessToken
  | Connector.ConnectionContext

const sameToken = (a: AccessToken.TokenSet, b: AccessToken.TokenSet) =>
  Redacted.value(a.accessToken) === Redacted.value(b.accessToken)

const refreshFailed = (
  error: ConnectorError.ConnectorError
): ConnectorError.AuthRevoked | ConnectorError.AuthExpired =>
  error._tag === "AuthRevoked" || error._tag === "AuthExpired"
    ? error
    : new ConnectorError.AuthExpired({ message: `token refresh failed: ${error._tag}: ${error.message}` })

const makeKit = (manifest: ManifestView, name: string): Effect.Effect<KitShape, ConformanceFailure, FakeChannel> =>
  Effect.gen(function* () {
    const fake = yield* FakeChannel
    const connection = `${manifest.id}-conformance`
    let refreshes = 0
    const auths: Array<Connector.OAuth2> = []
    const attach = (services: ConnectorServices) =>
      services.auth === undefined
        ? Effect.void
        : Effect.acquireRelease(
            Effect.sync(() => auths.push(services.auth!)),
            () =>
              Effect.sync(() => {
                const i = auths.lastIndexOf(services.auth!)
                if (i >= 0) auths.splice(i, 1)
              })
          ).pipe(Effect.asVoid)

    if (manifest.auth.kind === "apiKey") {
      const token =
        fake.tokens === undefined
          ? new AccessToken.TokenSet({ accessToken: Redacted.make(`${name}-api-key`) })
          : yield* fake.tokens.issue()
      return { manifest, connection, provider: AccessToken.fixed(token), refreshes: () => refreshes, attach }
    }

    const tokens = fake.tokens
    if (tokens === undefined) {
      return yield* new ConformanceFailure({
        message: `${manifest.id} uses oauth2, so its fake must provide the \`tokens\` probe (the sandbox's token server)`
      })
    }
    let current = yield* tokens.issue()
    const lock = yield* Effect.makeSemaphore(1)
    const provider: AccessToken.TokenProvider = {
      current: Effect.sync(() => current),
      refresh: (stale) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            // Someone refreshed while we waited for the lock: their grant is the fresh one.
            if (!sameToken(current, stale)) return Effect.succeed(current)
            const auth = auths[auths.length - 1]
            const fresh = auth === undefined ? tokens.issue() : Effect.mapError(auth.refresh(current), refreshFailed)
            return Effect.tap(fresh, (grant) =>
              Effect.sync(() => {
                refreshes += 1
                current = grant
              })
            )
          })
        )
    }
    return { manifest, connection, provider, refreshes: () => refreshes, attach }
  })

/** The kit's state on top of a fake. */
export const kitLayer = (manifest: ManifestView, name: string): Layer.Layer<Kit, ConformanceFailure, FakeChannel> =>
  Layer.effect(Kit, makeKit(manifest, name))

/** What the kit hands the connector: real HTTP, the connection's identity, the token provider. */
export const servicesLayer: Layer.Layer<
  HttpClient.HttpClient | AccessToken.AccessToken | Connector.ConnectionContext,
  never,
  Kit
> = Layer.mergeAll(
  NodeHttpClient.layerUndici,
  Layer.effect(
    Connector.ConnectionContext,
    Effect.map(Kit, (kit) => ({ connection: kit.connection }))
  ),
  Layer.effect(
    AccessToken.AccessToken,
    Effect.map(Kit, (kit) => kit.provider)
  )
)

/** The connector under test wired to the kit's services, its `auth` attached to the token provider. */
export const connectorLayer = <E>(
  layer: Layer.Layer<ConnectorUnderTest, E, ConnectorRequirements>
): Layer.Layer<ConnectorUnderTest, E, Kit | FakeChannel> =>
  Layer.scoped(
    ConnectorUnderTest,
    Effect.gen(function* () {
      const services = yield* ConnectorUnderTest
      yield* (yield* Kit).attach(services)
      return services
    })
  ).pipe(Layer.provide(layer), Layer.provide(servicesLayer))

/** Fails the check with `message`. */
export const fail = (message: string): Effect.Effect<never, ConformanceFailure> =>
  Effect.fail(new ConformanceFailure({ message }))

/** Fails the check with `message` unless `condition` holds. */
export const ensure = (
  condition: boolean,
  message: string | (() => string)
): Effect.Effect<void, ConformanceFailure> =>
  condition ? Effect.void : fail(typeof message === "string" ? message : message())

/** Describes a connector error in one line. */
export const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "_tag" in error) {
    const tag = String((error as { _tag: unknown })._tag)
    const message = (error as { message?: unknown }).message
    return typeof message === "string" && message !== "" ? `${tag}: ${message}` : tag
  }
  return String(error)
}

/** Runs a connector call that must succeed; a failure fails the check, saying what was attempted. */
export const call = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, ConformanceFailure, R> =>
  Effect.mapError(effect, (e) => new ConformanceFailure({ message: `${what} failed: ${describeError(e)}` }))

/** A probe the fake must provide for a capability. */
export const probe = <
  K extends "stock" | "orders" | "webhooks" | "fulfillment" | "logistics" | "aftersales" | "catalog"
>(
  key: K,
  capability: string
): Effect.Effect<NonNullable<FakeChannelShape[K]>, ConformanceFailure, FakeChannel> =>
  Effect.flatMap(FakeChannel, (fake) => {
    const p = fake[key]
    return p === undefined
      ? fail(`the fake provides no \`${key}\` probe, which the ${capability} checks need`)
      : Effect.succeed(p as NonNullable<FakeChannelShape[K]>)
  })

/** The service the connector provides for a capability it claims. */
export const service = <K extends Connector.Capability>(
  capability: K
): Effect.Effect<Connector.CapabilityServices[K], ConformanceFailure, ConnectorUnderTest> =>
  Effect.flatMap(ConnectorUnderTest, (services) => {
    const s = services[capability] as Connector.CapabilityServices[K] | undefined
    return s === undefined
      ? fail(`the connector claims ${capability} but its instance provides no ${capability} service`)
      : Effect.succeed(s)
  })

const runId = Math.random().toString(36).slice(2, 6).toUpperCase()
let serial = 0

/** A name no other check of this process uses (SKUs, tracking numbers, references). */
export const unique = (prefix: string): string => `${prefix}-${runId}${(++serial).toString(36).toUpperCase()}`

/**
 * Reads every page of a paged list. Fails when the cursor never ends (more than `maxPages`) or a
 * cursor comes back twice (the connector would loop forever).
 */
export const pageAll = <A, E>(
  what: string,
  fetch: (cursor: string | undefined) => Effect.Effect<Connector.Page<A>, E>,
  maxPages: number
): Effect.Effect<{ readonly items: ReadonlyArray<A>; readonly pages: number }, ConformanceFailure> =>
  Effect.gen(function* () {
    const items: Array<A> = []
    const seen = new Set<string>()
    let cursor: string | undefined
    let pages = 0
    while (true) {
      pages += 1
      if (pages > maxPages) return yield* fail(`${what}: paging did not end after ${maxPages} pages`)
      const page = yield* call(`${what} (page ${pages})`, fetch(cursor))
      items.push(...page.items)
      if (page.next === undefined || page.next === "") return { items, pages }
      if (seen.has(page.next)) return yield* fail(`${what}: cursor ${JSON.stringify(page.next)} came back twice`)
      seen.add(page.next)
      cursor = page.next
    }
  })

/** Counts how often each key occurs. */
export const countBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

/** Checks that each expected id occurs exactly once and that no id occurs twice. */
export const exactlyOnce = (
  what: string,
  expected: ReadonlyArray<string>,
  counts: ReadonlyMap<string, number>
): Effect.Effect<void, ConformanceFailure> => {
  const missing = expected.filter((id) => !counts.has(id))
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`)
  return Effect.zipRight(
    ensure(
      missing.length === 0,
      () => `${what}: ${missing.length} of ${expected.length} never came: ${missing.join(", ")}`
    ),
    ensure(duplicated.length === 0, () => `${what}: came more than once: ${duplicated.join(", ")}`)
  )
}

/** What a check may use: the fake's probes, the connector instance and the kit's state. */
export type CheckEnv = FakeChannel | ConnectorUnderTest | Kit

/**
 * One conformance check: a plain effect that succeeds or fails with `ConformanceFailure`. `suite`
 * registers each as a vitest test; `runCheck` runs one directly (the kit's self-test does, against
 * broken connectors, expecting the failure).
 */
export interface Check {
  /** Stable id, used in skip lists: `<capability or group>/<name>`. */
  readonly id: string
  /** The describe block it belongs to. */
  readonly group: string
  readonly title: string
  /** False for checks that build their own connector instance (lifecycle). */
  readonly needsConnector: boolean
  readonly timeoutMs: number
  readonly run: Effect.Effect<void, ConformanceFailure, CheckEnv>
}

/** Declares a check. */
export const check = (
  group: string,
  name: string,
  title: string,
  run: Effect.Effect<void, ConformanceFailure, CheckEnv>,
  options: { readonly needsConnector?: boolean; readonly timeoutMs?: number } = {}
): Check => ({
  id: `${group}/${name}`,
  group,
  title,
  needsConnector: options.needsConnector ?? true,
  timeoutMs: options.timeoutMs ?? 30_000,
  run
})
