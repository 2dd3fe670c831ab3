/**
 * The connector contract. A connector is a value — a manifest saying what it can do, how it
 * authenticates, which scopes each capability needs and what limits the platform imposes — plus
 * `make(config)`, which builds the capability services for one connection. A connector provides
 * exactly the capabilities its manifest claims; `defineConnector` checks that when an instance is made.
 *
 * Connectors never retry, sleep or queue: they make one call and report what happened, mapped onto
 * the error taxonomy (`ConnectorError`). Retries, pacing, quotas and dead letters are the engine's.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import type { Scope } from "effect"
import { Context, Effect, Layer, ParseResult, Schema } from "effect"
import type { AccessToken, TokenSet } from "./AccessToken.ts"
import type { Address } from "./Address.ts"
import type { AfterSale } from "./AfterSale.ts"
import type { ConnectorError } from "./ConnectorError.ts"
import type { Location } from "./Location.ts"
import type { Order } from "./Order.ts"
import type { Label } from "./Shipment.ts"
import type { TrackingEvent } from "./TrackingEvent.ts"
import type { WebhookDelivery, WebhookMalformed, WebhookRejected, WebhookRequest } from "./Webhook.ts"

/** What a connector can do. */
export const Capability = Schema.Literal(
  "orders.pull",
  "orders.webhook",
  "stock.push",
  "stock.pull",
  "fulfillment.push",
  "shipment.create",
  "tracking.pull",
  "aftersales.pull",
  "aftersales.webhook",
  "catalog.pull",
  "locations.pull"
)
/** What a connector can do. */
export type Capability = typeof Capability.Type

/** A page of results and the cursor of the next page (absent on the last page). */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next?: string | undefined
}

/** A time window and cursor for paged reads. `cursor` is the `next` of the previous page. */
export interface PullQuery {
  readonly updatedSince?: Date | undefined
  readonly updatedUntil?: Date | undefined
  readonly cursor?: string | undefined
  readonly pageSize?: number | undefined
}

/** `orders.pull`: read orders changed in a window, page by page, and one order by id. */
export interface OrdersPull {
  readonly list: (query: PullQuery) => Effect.Effect<Page<Order>, ConnectorError>
  readonly get: (orderId: string) => Effect.Effect<Order, ConnectorError>
}

/** `aftersales.pull`: read cancellations, returns and refunds changed in a window. */
export interface AftersalesPull {
  readonly list: (query: PullQuery) => Effect.Effect<Page<AfterSale>, ConnectorError>
  readonly get?: (afterSaleId: string, kind: AfterSale["kind"]) => Effect.Effect<AfterSale, ConnectorError>
}

/**
 * `orders.webhook` / `aftersales.webhook`: check a delivery's signature in constant time, then turn it
 * into domain events. `verify` runs before anything is stored; `decode` must be deterministic, because
 * the inbox stores the raw delivery and decodes it again when it applies it.
 */
export interface WebhookReceiver {
  readonly verify: (request: WebhookRequest) => Effect.Effect<void, WebhookRejected>
  readonly decode: (request: WebhookRequest) => Effect.Effect<WebhookDelivery, WebhookMalformed>
}

/** A listing as the channel reports it, for pairing with pool items. */
export interface ChannelListing {
  readonly externalSku: string
  /** Platform ids a stock push needs (product id, SKU id, inventory item id …). */
  readonly externalIds: Readonly<Record<string, string>>
  readonly title?: string | undefined
  /** The quantity the channel currently shows, when it says. */
  readonly quantity?: number | undefined
}

/** `catalog.pull`: list the channel's SKUs. */
export interface CatalogPull {
  readonly list: (query: {
    readonly cursor?: string | undefined
    readonly pageSize?: number | undefined
  }) => Effect.Effect<Page<ChannelListing>, ConnectorError>
}

/** One absolute stock write. */
export interface StockUpdate {
  readonly externalSku: string
  readonly externalIds: Readonly<Record<string, string>>
  /** The quantity the channel must show after the write. Never negative. */
  readonly quantity: number
  /** The platform's location/warehouse id, for multi-location channels. */
  readonly location?: string | undefined
  /** The last quantity we know the channel holds, for compare-and-set where the platform has it. */
  readonly expected?: number | undefined
  /** Same key ⇒ same write: a replay must not apply twice (`connection:listing:version`). */
  readonly idempotencyKey: string
}

/**
 * The outcome of one update in a batch: applied; `stale` when compare-and-set found a different
 * quantity (`actual`) on the channel and nothing was written; or failed with a taxonomy error.
 */
export type StockPushResult =
  | { readonly _tag: "Applied"; readonly externalSku: string; readonly location?: string | undefined }
  | {
      readonly _tag: "Stale"
      readonly externalSku: string
      readonly location?: string | undefined
      readonly actual: number
    }
  | {
      readonly _tag: "Failed"
      readonly externalSku: string
      readonly location?: string | undefined
      readonly error: ConnectorError
    }

/** `stock.push`: set published quantities, batched up to `limits.stockPushBatch` updates per call. */
export interface StockPush {
  readonly push: (updates: ReadonlyArray<StockUpdate>) => Effect.Effect<ReadonlyArray<StockPushResult>, ConnectorError>
}

/** A stock reading from a source of truth (ERP/WMS, a store's inventory levels). */
export interface StockReading {
  readonly externalSku: string
  readonly location: string
  readonly onHand: number
  /** Orders readings: a lower version never overwrites a higher one. */
  readonly sourceVersion?: number | undefined
}

/** `stock.pull`: read stock levels, page by page. */
export interface StockPull {
  readonly list: (query: {
    readonly cursor?: string | undefined
    readonly skus?: ReadonlyArray<string> | undefined
  }) => Effect.Effect<Page<StockReading>, ConnectorError>
}

/** `locations.pull`: list the platform's stock locations. */
export interface LocationsPull {
  readonly list: Effect.Effect<ReadonlyArray<Location>, ConnectorError>
}

/** A request to mark (part of) a channel order shipped with a tracking number. */
export interface ShipRequest {
  readonly orderId: string
  /** Lines covered; the whole order when absent. */
  readonly lines?: ReadonlyArray<{ readonly lineId: string; readonly qty: number }> | undefined
  readonly carrier: string
  readonly trackingNumber: string
  readonly idempotencyKey: string
}

/** `fulfillment.push`: write shipment and tracking back to the channel. Already shipped with the same tracking number is success. */
export interface FulfillmentPush {
  readonly ship: (
    request: ShipRequest
  ) => Effect.Effect<{ readonly externalId?: string | undefined; readonly alreadyShipped: boolean }, ConnectorError>
}

/** One item declared for customs. */
export interface Declaration {
  readonly externalSku: string
  readonly description: string
  readonly descriptionLocal?: string | undefined
  readonly qty: number
  /** Declared unit value in minor units of `currency`. */
  readonly unitValue: number
  readonly currency: string
  readonly hsCode?: string | undefined
  readonly originCountry?: string | undefined
  readonly unitWeightGrams?: number | undefined
}

/** A parcel to create at a logistics provider. `reference` is our idempotency key there. */
export interface ParcelRequest {
  readonly reference: string
  readonly order: Order
  readonly shipTo: Address
  /** The provider's logistics product (service) code. */
  readonly service?: string | undefined
  readonly weightGrams: number
  readonly dimensionsCm?: { readonly length: number; readonly width: number; readonly height: number } | undefined
  readonly declarations: ReadonlyArray<Declaration>
}

/** A parcel as the provider created it. */
export interface ParcelCreated {
  readonly externalId: string
  readonly reference: string
  readonly trackingNumber?: string | undefined
  readonly carrier: string
  /** The provider is still processing; ask again later for the tracking number. */
  readonly pending: boolean
}

/** A logistics product the provider offers. */
export interface LogisticsService {
  readonly code: string
  readonly name: string
}

/** `shipment.create`: create parcels, fetch labels, cancel before pickup, list services. */
export interface ShipmentCreate {
  readonly create: (request: ParcelRequest) => Effect.Effect<ParcelCreated, ConnectorError>
  /** The parcel's state by our reference (tracking number once assigned). */
  readonly get: (reference: string) => Effect.Effect<ParcelCreated, ConnectorError>
  /** The label; fails `Transient` while it is not ready yet. */
  readonly label: (reference: string) => Effect.Effect<Label, ConnectorError>
  readonly cancel: (reference: string) => Effect.Effect<void, ConnectorError>
  readonly services: Effect.Effect<ReadonlyArray<LogisticsService>, ConnectorError>
}

/** `tracking.pull`: read carrier events for tracking numbers. */
export interface TrackingPull {
  readonly track: (
    trackingNumbers: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<TrackingEvent>, ConnectorError>
}

/** OAuth 2 authorization for connectors whose `auth.kind` is `oauth2`. */
export interface OAuth2 {
  /**
   * The link the seller opens to authorize the app. `state` comes back on the callback. `scopes` are
   * the ones the connection's flows use: a platform whose link names scopes is asked for exactly
   * these (a scope asked for but unused trips platforms' risk controls); one that fixes scopes in the
   * app's registration ignores them. Absent: the connector's own default.
   */
  readonly authorizeUrl: (input: {
    readonly state: string
    readonly redirectUri: string
    readonly scopes?: ReadonlyArray<string> | undefined
  }) => string
  /** Trades the callback for tokens. `params` is the callback's whole query (some platforms sign it). */
  readonly exchange: (input: {
    readonly params: Readonly<Record<string, string>>
    readonly redirectUri: string
  }) => Effect.Effect<TokenSet, ConnectorError>
  /** Uses the refresh token. A 200 that carries an error fails `AuthRevoked`. */
  readonly refresh: (tokens: TokenSet) => Effect.Effect<TokenSet, ConnectorError>
}

/** The service each capability is provided by. */
export interface CapabilityServices {
  readonly "orders.pull": OrdersPull
  readonly "orders.webhook": WebhookReceiver
  readonly "stock.push": StockPush
  readonly "stock.pull": StockPull
  readonly "fulfillment.push": FulfillmentPush
  readonly "shipment.create": ShipmentCreate
  readonly "tracking.pull": TrackingPull
  readonly "aftersales.pull": AftersalesPull
  readonly "aftersales.webhook": WebhookReceiver
  readonly "catalog.pull": CatalogPull
  readonly "locations.pull": LocationsPull
}

/** The services of a connector that claims `C`, plus `auth` when it uses OAuth 2. */
export type Services<C extends Capability> = { readonly [K in C]: CapabilityServices[K] } & {
  readonly auth?: OAuth2 | undefined
}

/** How a connector authenticates. OAuth lifetimes are read from responses, never hard-coded. */
export type AuthKind = { readonly kind: "oauth2" } | { readonly kind: "apiKey" }

/** Limits the platform imposes; the engine paces and batches by them. */
export interface Limits {
  /** Calls per second per connection. */
  readonly requestsPerSecond?: number | undefined
  /** Calls per day per app; the engine keeps headroom under it. */
  readonly dailyQuota?: number | undefined
  /** Updates per `stock.push` call. */
  readonly stockPushBatch?: number | undefined
  /** How fast the platform wants a webhook acknowledged, in milliseconds. */
  readonly webhookAckMs?: number | undefined
  /** Largest webhook body accepted, in bytes. */
  readonly webhookMaxBytes?: number | undefined
}

/** What the platform's stock writes support. */
export interface StockFeatures {
  /** The platform honours an idempotency key, so a replayed write is not applied twice. */
  readonly idempotencyKeys: boolean
  /** The platform supports compare-and-set (`expected` quantity). */
  readonly compareAndSet: boolean
  /** Stock is set per location/warehouse. */
  readonly multiLocation: boolean
}

/** What a connector is: everything the runner, the doctor and the test kit read before making one. */
export interface Manifest<C extends Capability = Capability, Config = unknown> {
  /** Kebab-case id; equals the package folder name (`tiktok-shop`, `4px`). */
  readonly id: string
  readonly displayName: string
  /** The vendor API version the connector is pinned to. */
  readonly apiVersion: string
  readonly capabilities: ReadonlyArray<C>
  readonly auth: AuthKind
  /**
   * How a connection with this config authenticates, when the config decides it (4PX: a direct
   * customer signs with its API key, a software vendor's app authorizes by OAuth). Absent: `auth`.
   * A method, so a manifest with a typed config still widens to `Manifest<C, unknown>`.
   */
  authFor?(config: Config): AuthKind
  /** The minimal scopes each capability needs. */
  readonly scopes: { readonly [K in C]?: ReadonlyArray<string> }
  readonly limits: Limits
  readonly stock?: StockFeatures | undefined
  /** Webhook topics the connector decodes. */
  readonly webhookTopics?: ReadonlyArray<string> | undefined
  /** The connection config, decoded from the runner's YAML. Secrets are `Redacted`. */
  // biome-ignore lint/suspicious/noExplicitAny: the encoded side is whatever the YAML holds; only the decoded type matters here
  readonly config: Schema.Schema<Config, any>
  readonly docs?: string | undefined
}

/** Who the instance works for: the connection id, handed to every connector instance by the runner. */
export class ConnectionContext extends Context.Tag("@tkbridge/core/ConnectionContext")<
  ConnectionContext,
  { readonly connection: string }
>() {}

/** What `make` may use: an HTTP client, the connection's identity and token, and a scope for its resources. */
export type MakeContext = HttpClient.HttpClient | AccessToken | ConnectionContext | Scope.Scope

/** The connector's config failed to build an instance (bad value, missing key). */
export class ConnectorConfigError extends Schema.TaggedError<ConnectorConfigError>(
  "@tkbridge/core/ConnectorConfigError"
)("ConnectorConfigError", { connector: Schema.String, message: Schema.String }) {}

/** What a connection's layer needs: `MakeContext` without the scope, which the layer brings. */
export type LayerContext = HttpClient.HttpClient | AccessToken | ConnectionContext

/** Decodes a connection config as written in YAML/JSON with the manifest's schema; failures name the connector. */
export const decodeConfig =
  <Config>(manifest: Pick<Manifest<Capability, Config>, "id" | "config">) =>
  (input: unknown): Effect.Effect<Config, ConnectorConfigError> =>
    Schema.decodeUnknown(manifest.config)(input).pipe(
      Effect.mapError(
        (e) =>
          new ConnectorConfigError({ connector: manifest.id, message: ParseResult.TreeFormatter.formatErrorSync(e) })
      )
    )

/** Turns a connector's `layer(config)` into its `layerConfig(input)`: decode as `decodeConfig`, then provide. */
export const layerFromConfig =
  <Config, ROut, E, RIn>(
    manifest: Pick<Manifest<Capability, Config>, "id" | "config">,
    layer: (config: Config) => Layer.Layer<ROut, E, RIn>
  ) =>
  (input: unknown): Layer.Layer<ROut, E | ConnectorConfigError, RIn> =>
    Layer.unwrapEffect(Effect.map(decodeConfig(manifest)(input), layer))

/**
 * A connection's layer from one build: its services under `tag` and the vendor client under
 * `clientTag`, so callers reach methods beyond the contract on the same client the services use.
 */
export const layerServices = <Id, S, ClientId, Client, E, R>(
  tag: Context.Tag<Id, S>,
  clientTag: Context.Tag<ClientId, Client>,
  build: Effect.Effect<{ readonly services: S; readonly client: Client }, E, R>
): Layer.Layer<Id | ClientId, E, R> =>
  Layer.effectContext(
    Effect.map(build, ({ client, services }) => Context.make(tag, services).pipe(Context.add(clientTag, client)))
  )

/** A connector: its manifest and how to make an instance for one connection. */
export interface Connector<C extends Capability = Capability, Config = unknown> {
  readonly manifest: Manifest<C, Config>
  readonly make: (config: Config) => Effect.Effect<Services<C>, ConnectorConfigError, MakeContext>
}

/** The scopes needed for a set of capabilities: the union of each one's minimal scopes. */
export const requiredScopes = <C extends Capability>(
  manifest: Pick<Manifest<C, unknown>, "capabilities" | "scopes">,
  capabilities: ReadonlyArray<C> = manifest.capabilities
): ReadonlyArray<string> => {
  const out = new Set<string>()
  for (const c of capabilities) for (const s of manifest.scopes[c] ?? []) out.add(s)
  return [...out].sort()
}

/** How a connection with `config` authenticates: the manifest's `authFor(config)`, else its `auth`. */
export const authKindOf = <Config>(
  manifest: Pick<Manifest<Capability, Config>, "auth" | "authFor">,
  config: Config
): AuthKind => manifest.authFor?.(config) ?? manifest.auth

const kebab = /^[a-z0-9]+(-[a-z0-9]+)*$/

/**
 * Declares a connector. Checks the manifest when called, and each instance when made: a connector
 * must provide exactly the capabilities it claims (a claimed capability is a tested capability),
 * and an `oauth2` connector must provide `auth`.
 */
export const defineConnector = <const C extends Capability, Config>(definition: {
  readonly manifest: Manifest<C, Config>
  readonly make: (config: Config) => Effect.Effect<Services<C>, ConnectorConfigError, MakeContext>
}): Connector<C, Config> => {
  const { manifest } = definition
  if (!kebab.test(manifest.id)) throw new Error(`connector id "${manifest.id}" must be kebab-case`)
  if (manifest.capabilities.length === 0) throw new Error(`connector ${manifest.id} claims no capability`)
  for (const c of manifest.capabilities) {
    if (!Schema.is(Capability)(c)) throw new Error(`connector ${manifest.id} claims unknown capability "${c}"`)
  }
  for (const key of Object.keys(manifest.scopes)) {
    if (!manifest.capabilities.includes(key as C)) {
      throw new Error(`connector ${manifest.id} lists scopes for "${key}", which it does not claim`)
    }
  }
  if (manifest.capabilities.includes("stock.push" as C) && manifest.stock === undefined) {
    throw new Error(`connector ${manifest.id} claims stock.push but does not describe its stock features`)
  }
  const fail = (message: string) => new ConnectorConfigError({ connector: manifest.id, message })
  return {
    manifest,
    make: (config) =>
      Effect.flatMap(definition.make(config), (services) => {
        const provided = Object.keys(services).filter(
          (k) => k !== "auth" && (services as Record<string, unknown>)[k] !== undefined
        )
        const missing = manifest.capabilities.filter((c) => !provided.includes(c))
        if (missing.length > 0) {
          return Effect.fail(fail(`claims ${missing.join(", ")} but provides no implementation`))
        }
        const extra = provided.filter((k) => !manifest.capabilities.includes(k as C))
        if (extra.length > 0) {
          return Effect.fail(fail(`provides ${extra.join(", ")} without claiming it in the manifest`))
        }
        if (manifest.auth.kind === "oauth2" && services.auth === undefined) {
          return Effect.fail(fail("uses oauth2 but provides no auth service"))
        }
        return Effect.succeed(services)
      })
  }
}
