/**
 * ConnectionRegistry: the configured connections the engine works for — each one's id, the connector
 * manifest (capabilities, limits, stock features), its live instance (`Connector.Services`) and its
 * config. The runner fills it from the config file; entities, crons and workflows look connections up
 * here by id, so one engine serves any number of seller accounts on any connectors.
 *
 * `layerFromConnectors` makes the instances itself: each connector's `make` gets the connection's
 * identity, an HTTP client, a scope and the engine's own access-token provider for that connection
 * (single-flight refresh through `ConnectionAuth`).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { AccessToken, Connector } from "@tkbridge/core"
import { Context, Effect, Layer, Schema } from "effect"

/** Per-connection limits the operator set on top of the connector's manifest. */
export interface QuotaOverrides {
  /** The key the daily quota and suspensions count under (connections sharing one app key share it). */
  readonly scope?: string | undefined
  readonly perSecond?: number | undefined
  readonly daily?: number | undefined
  /** Daily calls kept for orders, fulfilment and tracking when the quota runs low. */
  readonly headroom?: number | undefined
}

/** One configured connection. */
export interface ConnectionEntry {
  readonly id: string
  readonly manifest: Connector.Manifest<Connector.Capability, unknown>
  readonly services: Connector.Services<Connector.Capability>
  readonly config?: unknown
  readonly quota?: QuotaOverrides | undefined
}

/** No connection with this id is configured. */
export class UnknownConnection extends Schema.TaggedError<UnknownConnection>("@tkbridge/engine/UnknownConnection")(
  "UnknownConnection",
  { connection: Schema.String }
) {
  override get message(): string {
    return `connection ${this.connection} is not configured`
  }
}

/** The connection's connector does not provide a capability a flow needs. */
export class CapabilityMissing extends Schema.TaggedError<CapabilityMissing>("@tkbridge/engine/CapabilityMissing")(
  "CapabilityMissing",
  { connection: Schema.String, capability: Schema.String }
) {
  override get message(): string {
    return `connection ${this.connection} cannot do ${this.capability}: its connector does not provide it`
  }
}

/** Looks connections up by id. */
export interface ConnectionRegistryShape {
  readonly get: (connection: string) => Effect.Effect<ConnectionEntry, UnknownConnection>
  readonly all: ReadonlyArray<ConnectionEntry>
  /** The service behind one capability of a connection. */
  readonly capability: <C extends Connector.Capability>(
    connection: string,
    capability: C
  ) => Effect.Effect<Connector.CapabilityServices[C], UnknownConnection | CapabilityMissing>
}

/** The configured connections. */
export class ConnectionRegistry extends Context.Tag("@tkbridge/engine/ConnectionRegistry")<
  ConnectionRegistry,
  ConnectionRegistryShape
>() {}

/** A registry over connections whose instances are already made. */
export const make = (entries: ReadonlyArray<ConnectionEntry>): ConnectionRegistryShape => {
  const byId = new Map(entries.map((e) => [e.id, e]))
  const get = (connection: string) => {
    const entry = byId.get(connection)
    return entry ? Effect.succeed(entry) : Effect.fail(new UnknownConnection({ connection }))
  }
  return {
    get,
    all: entries,
    capability: <C extends Connector.Capability>(connection: string, capability: C) =>
      Effect.flatMap(get(connection), (entry) => {
        const service = (entry.services as Partial<Connector.CapabilityServices>)[capability]
        return service === undefined || !entry.manifest.capabilities.includes(capability)
          ? Effect.fail(new CapabilityMissing({ connection, capability }))
          : Effect.succeed(service as Connector.CapabilityServices[C])
      })
  }
}

/** The registry as a layer over made instances. */
export const layer = (entries: ReadonlyArray<ConnectionEntry>): Layer.Layer<ConnectionRegistry> =>
  Layer.succeed(ConnectionRegistry, make(entries))

/** A connection to make: the connector, its decoded config and the operator's quota overrides. */
export interface ConnectionSpec {
  readonly id: string
  readonly connector: Connector.Connector<Connector.Capability, unknown>
  readonly config: unknown
  readonly quota?: QuotaOverrides | undefined
}

/** Hands each connection the access-token provider connectors ask for (the engine's single-flight one). */
export class TokenProviders extends Context.Tag("@tkbridge/engine/TokenProviders")<
  TokenProviders,
  { readonly forConnection: (connection: string) => AccessToken.TokenProvider }
>() {}

/**
 * Makes every connection's instance — with its identity, an HTTP client, the scope of the layer and
 * its token provider — and registers them.
 */
export const layerFromConnectors = (
  specs: ReadonlyArray<ConnectionSpec>
): Layer.Layer<ConnectionRegistry, Connector.ConnectorConfigError, HttpClient.HttpClient | TokenProviders> =>
  Layer.scoped(
    ConnectionRegistry,
    Effect.gen(function* () {
      const providers = yield* TokenProviders
      const entries = yield* Effect.forEach(specs, (spec) =>
        spec.connector.make(spec.config).pipe(
          Effect.provideService(Connector.ConnectionContext, { connection: spec.id }),
          Effect.provideService(AccessToken.AccessToken, providers.forConnection(spec.id)),
          Effect.map(
            (services): ConnectionEntry => ({
              id: spec.id,
              manifest: spec.connector.manifest,
              services,
              config: spec.config,
              quota: spec.quota
            })
          )
        )
      )
      return make(entries)
    })
  )
