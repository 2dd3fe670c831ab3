/**
 * Test support: a connector instance wired to a running sandbox over real HTTP, with a token
 * provider that refreshes through the connector's own `auth.refresh` against the sandbox's token
 * server (single-flight like the engine's: a refresh happens only if nobody refreshed yet).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { SandboxOAuth } from "@tkbridge/connector-testkit"
import {
  TikTokShopAuth,
  TikTokShopClient,
  TikTokShopConfig,
  TikTokShopConnector
} from "@tkbridge/connector-tiktok-shop"
import type { TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { AccessToken, Connector } from "@tkbridge/core"
import type { Clock } from "effect"
import { Effect, Layer, Schema } from "effect"

/** HTTP for tests: real sockets. */
export const http = NodeHttpClient.layerUndici

/** The decoded connector config for a sandbox shop, with overrides. */
export const configFor = (
  sandbox: TikTokShopSandbox.TikTokShopSandbox,
  overrides: Partial<TikTokShopConfig.TikTokShopConfigInput> = {}
): TikTokShopConfig.TikTokShopConfig =>
  Schema.decodeUnknownSync(TikTokShopConfig.TikTokShopConfig)({ ...sandbox.connectorConfig(), ...overrides })

/** A connector instance for a sandbox shop: its services, and the token ref the provider holds. */
export const connect = (
  sandbox: TikTokShopSandbox.TikTokShopSandbox,
  options: {
    readonly config?: Partial<TikTokShopConfig.TikTokShopConfigInput>
    readonly token?: AccessToken.TokenSet
    readonly connection?: string
    /** The clock request timestamps follow (e.g. `TikTokShopSandbox.effectClock(sandbox.clock)`). */
    readonly clock?: Clock.Clock
  } = {}
) =>
  Effect.gen(function* () {
    // The HTTP client lives as long as the test's scope, not just while connecting.
    const httpContext = yield* Layer.build(http)
    const config = configFor(sandbox, options.config)
    // Auth works without a token; the provider refreshes through it.
    const authClient = yield* TikTokShopClient.make(config).pipe(Effect.provide(httpContext))
    const auth = TikTokShopAuth.make(authClient)
    const { provider, current } = yield* SandboxOAuth.refreshingProvider(options.token ?? sandbox.issueTokenSet(), auth)
    // The vendor client with the connection's token, for endpoints beyond the contract.
    const client = yield* TikTokShopClient.make(config).pipe(
      Effect.provideService(AccessToken.AccessToken, provider),
      Effect.provide(httpContext)
    )
    const services = yield* TikTokShopConnector.make(config).pipe(
      Effect.provideService(AccessToken.AccessToken, provider),
      Effect.provideService(Connector.ConnectionContext, { connection: options.connection ?? "tiktok-uk" }),
      Effect.provide(httpContext)
    )
    return { services, current, config, client, auth }
  }).pipe((made) => (options.clock === undefined ? made : Effect.withClock(made, options.clock)))

/** Waits until `condition` holds (checked every few ms), failing after `limitMs` of real time. */
export const eventually = (condition: () => boolean, limitMs = 10_000): Effect.Effect<void> =>
  Effect.promise(
    () =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now()
        const check = () => {
          if (condition()) return resolve()
          if (Date.now() - started > limitMs) return reject(new Error(`condition not met within ${limitMs} ms`))
          setTimeout(check, 5)
        }
        check()
      })
  )
