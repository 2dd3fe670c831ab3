/**
 * Config: the shape of `tkbridge.yaml`, the one file a seller writes. Decoded by Effect Schema; the
 * same schema generates `tkbridge.schema.json` for editor completion.
 *
 * The file names connections (one seller account on one connector each), the store, the webhook
 * server, the inventory pool's rules and the flows between connections. A connection's own
 * `config` block is checked in a second pass against its connector's `manifest.config` (see
 * `ConfigLoader`), because the connector is only known once the first pass has named it.
 *
 * @since 0.1.0
 */
import { ChannelPolicy as CP, Ids, Listing } from "@tkbridge/core"
import { Duration, Redacted, Schema } from "effect"

/** The default store: an embedded SQLite file beside the config. */
export const DEFAULT_STORE = "sqlite:./data/tkbridge.db"

/** The default port of the webhook server. */
export const DEFAULT_PORT = 8787

const described = <S extends Schema.Schema.Any>(schema: S, description: string) =>
  schema.annotations({ description }) as S

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** A duration written as a number and a unit: `500ms`, `30s`, `15m`, `24h`, `7d`. */
export const DurationText = Schema.transform(
  Schema.String.pipe(
    Schema.pattern(/^\d+(\.\d+)?(ms|s|m|h|d)$/, {
      message: () => "must be a duration such as 500ms, 30s, 15m, 24h or 7d"
    })
  ).annotations({ description: "a duration: a number and a unit (ms, s, m, h, d), e.g. 30m" }),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (text) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text)!
      return Duration.millis(Number(m[1]) * unitMs[m[2] as keyof typeof unitMs])
    },
    encode: (d) => {
      const ms = Duration.toMillis(d)
      const unit = (["d", "h", "m", "s"] as const).find((u) => ms % unitMs[u] === 0)
      return unit === undefined ? `${ms}ms` : `${ms / unitMs[unit]}${unit}`
    }
  }
).annotations({ identifier: "Duration" })

/** A store URL: `sqlite:<file>` (embedded, the default) or `postgres://…` (scale-out). Kept `Redacted` (it may carry a password). */
export const StoreUrl = Schema.Redacted(
  Schema.String.pipe(
    Schema.filter(
      (s) =>
        (s.startsWith("sqlite:") && s.length > "sqlite:".length) ||
        /^postgres(ql)?:\/\/.+/.test(s) ||
        "must be sqlite:<file> (e.g. sqlite:./data/tkbridge.db) or a postgres:// URL"
    )
  )
).annotations({
  identifier: "StoreUrl",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax, shown to sellers
  description: "sqlite:./data/tkbridge.db (embedded, default) or postgres://user:${PGPASSWORD}@host/db (scale-out)"
})

/** An absolute http(s) URL. */
export const AbsoluteUrl = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const u = new URL(s)
      return u.protocol === "https:" || u.protocol === "http:" || "must be an http:// or https:// URL"
    } catch {
      return "must be an absolute URL such as https://sync.example.com"
    }
  })
).annotations({ identifier: "AbsoluteUrl" })

/** TLS for the webhook server when it terminates HTTPS itself (no reverse proxy in front). */
export class ServerTls extends Schema.Class<ServerTls>("ServerTls")({
  cert: described(
    Schema.NonEmptyTrimmedString,
    "PEM file: the certificate followed by every intermediate (full chain)"
  ),
  key: described(Schema.NonEmptyTrimmedString, "PEM file: the private key")
}) {}

/** How a scale-out runner (PostgreSQL store) is reached by the others sharing the work. */
export class ClusterConfig extends Schema.Class<ClusterConfig>("ClusterConfig")({
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 34431 }).annotations({
    description: "port the runners talk to each other on (default 34431)"
  }),
  listenHost: Schema.optionalWith(Schema.String, { default: () => "0.0.0.0" }).annotations({
    description: "interface to listen on for the other runners"
  }),
  advertiseHost: Schema.optional(Schema.NonEmptyTrimmedString).annotations({
    description: "the host name the other runners reach this one at (default: this machine's host name)"
  })
}) {}

/** The webhook server. */
export class ServerConfig extends Schema.Class<ServerConfig>("ServerConfig")({
  // Also accepts text: `port: ${PORT}` is the usual way to take it from the environment, and env values are text.
  port: Schema.optionalWith(
    Schema.Union(Schema.Int, Schema.NumberFromString.pipe(Schema.int())).pipe(Schema.between(1, 65535)),
    { default: () => DEFAULT_PORT }
  ).annotations({
    description: "port the webhook server listens on"
  }),
  host: Schema.optionalWith(Schema.String, { default: () => "0.0.0.0" }).annotations({
    description: "interface to listen on"
  }),
  publicUrl: Schema.optional(AbsoluteUrl).annotations({
    description: "the HTTPS URL platforms reach this server at; webhooks arrive at <publicUrl>/webhooks/<connection>"
  }),
  tls: Schema.optional(ServerTls).annotations({ description: "serve HTTPS directly with these PEM files" }),
  cluster: Schema.optionalWith(ClusterConfig, { default: () => ClusterConfig.make({}) }).annotations({
    description: "with a postgres:// store: how the runners sharing it reach each other"
  }),
  selfTestSecret: Schema.optional(Schema.Redacted(Schema.NonEmptyString)).annotations({
    description:
      "shared key signing `tkbridge doctor`'s webhook self-test; set it (from the environment) when several runners sit behind one URL"
  })
}) {}

/** TikTok Shop's daily API quota tiers (per app): basic 50,000 calls, enterprise 200,000. */
export const Plan = Schema.Literal("basic", "enterprise").annotations({
  description: "API plan: basic (50,000 calls/day) or enterprise (200,000 calls/day)"
})
/** @since 0.1.0 */
export type Plan = typeof Plan.Type

/** Daily quota of each plan. */
export const planDailyQuota: Readonly<Record<Plan, number>> = { basic: 50_000, enterprise: 200_000 }

/** Overrides of the connector's published limits. */
export class QuotaOverride extends Schema.Class<QuotaOverride>("QuotaOverride")({
  daily: Schema.optional(Schema.Int.pipe(Schema.positive())).annotations({ description: "calls per day per app" }),
  perSecond: Schema.optional(Schema.Number.pipe(Schema.positive())).annotations({
    description: "calls per second per connection"
  }),
  headroom: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 90)), { default: () => 10 }).annotations({
    description: "percent of the daily quota kept in reserve for orders and tracking (default 10)"
  })
}) {}

/**
 * A first-party connector id, or the npm package name of a partner connector.
 * First-party ids: memory, tiktok-shop, shopify, 4px.
 */
export const ConnectorRef = Schema.String.pipe(
  Schema.filter(
    (s) =>
      /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s) ||
      /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(s) ||
      "must be a connector id (memory, tiktok-shop, shopify, 4px) or an npm package name"
  )
).annotations({
  identifier: "ConnectorRef",
  description: "a first-party connector id (memory, tiktok-shop, shopify, 4px) or a partner's npm package name",
  examples: ["tiktok-shop", "shopify", "4px", "memory"]
})

/** One connection: a seller account on one connector. */
export class ConnectionConfig extends Schema.Class<ConnectionConfig>("ConnectionConfig")({
  connector: ConnectorRef,
  displayName: Schema.optional(Schema.String),
  config: Schema.optionalWith(Schema.Unknown, { default: () => ({}) }).annotations({
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax, shown to sellers
    description: "the connector's own settings (see its README); secrets as ${ENV_VAR}"
  }),
  licence: Schema.optional(Ids.ExternalId).annotations({
    description: "the business licence this shop is registered under (one licence may bind at most 5 apps)"
  }),
  app: Schema.optional(Schema.NonEmptyTrimmedString).annotations({
    description:
      "the third-party app this connection authorizes (default: the connector); connections sharing an app count once per licence"
  }),
  plan: Schema.optional(Plan),
  quota: Schema.optional(QuotaOverride)
}) {}

/** A business licence and the apps already bound to it outside tkbridge. */
export class LicenceConfig extends Schema.Class<LicenceConfig>("LicenceConfig")({
  name: Schema.optional(Schema.String),
  otherApps: Schema.optionalWith(Schema.Array(Schema.NonEmptyTrimmedString), { default: () => [] }).annotations({
    description: "third-party apps bound to this licence that tkbridge does not run (ERP, other tools)"
  })
}) {}

/** How a channel SKU maps onto pool items: one item, or components for bundles and multipacks. */
export const PairingTarget = Schema.Union(Ids.ItemId, Schema.NonEmptyArray(Listing.Component)).annotations({
  description: "an item id, or [{item, qty}] for a bundle or multipack"
})

/** Listing ↔ item pairing. */
export class PairingConfig extends Schema.Class<PairingConfig>("PairingConfig")({
  map: Schema.optionalWith(
    Schema.Record({ key: Ids.ConnectionId, value: Schema.Record({ key: Ids.ExternalSku, value: PairingTarget }) }),
    { default: () => ({}) }
  ).annotations({ description: "explicit pairs: connection → channel SKU → item (or components)" }),
  ignorePrefixes: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }).annotations({
    description: "prefixes stripped from channel SKUs before matching item ids (e.g. TT-)"
  }),
  ignoreSuffixes: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }).annotations({
    description: "suffixes stripped from channel SKUs before matching item ids (e.g. -UK)"
  }),
  caseSensitive: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/** A channel's publishing rules (core `ChannelPolicy`), written per connection. */
export class PolicyConfig extends Schema.Class<PolicyConfig>("PolicyConfig")({
  share: Schema.optional(Schema.Number.pipe(Schema.between(0, 100))).annotations({
    description: "percent of the available quantity shown (default 100)"
  }),
  fixed: Schema.optional(Ids.Quantity).annotations({ description: "a fixed allocation of units instead of a share" }),
  safetyBuffer: Schema.optional(Ids.Quantity),
  floor: Schema.optional(Ids.Quantity).annotations({ description: "publish 0 at or below this quantity" }),
  cap: Schema.optional(Ids.Quantity),
  locations: Schema.optional(Schema.Array(Ids.LocationId))
}) {}

/** A connection's policy plus per-listing overrides. */
export class ChannelPolicyConfig extends PolicyConfig.extend<ChannelPolicyConfig>("ChannelPolicyConfig")({
  listings: Schema.optionalWith(Schema.Record({ key: Ids.ExternalSku, value: PolicyConfig }), {
    default: () => ({})
  })
}) {}

/** What happens to stock when a return comes back. */
export const RestockPolicy = Schema.Literal("on_receipt", "on_approval", "never").annotations({
  description: "on_receipt (when the parcel is back, default), on_approval (when the return is approved) or never"
})

/** The inventory pool. */
export class PoolConfig extends Schema.Class<PoolConfig>("PoolConfig")({
  items: Schema.Struct({
    from: Ids.ConnectionId.annotations({ description: "the connection whose catalog defines the items (ERP/WMS)" })
  }),
  pairing: Schema.optionalWith(PairingConfig, { default: () => PairingConfig.make({}) }),
  channels: Schema.optionalWith(Schema.Record({ key: Ids.ConnectionId, value: ChannelPolicyConfig }), {
    default: () => ({})
  }),
  lastUnits: Schema.optional(CP.LastUnitsRule),
  unpaidReservationTtl: Schema.optionalWith(DurationText, { default: () => Duration.hours(24) }).annotations({
    description: "how long an unpaid order holds stock before it is released (default 24h)"
  }),
  returns: Schema.optionalWith(Schema.Struct({ restock: RestockPolicy }), {
    default: () => ({ restock: "on_receipt" as const })
  })
}) {}

const connectionList = Schema.Union(Ids.ConnectionId, Schema.NonEmptyArray(Ids.ConnectionId))

/** Orders flow: from channels, fulfilled by a logistics connection, tracking written back. */
export class OrderFlow extends Schema.Class<OrderFlow>("OrderFlow")({
  from: connectionList.annotations({ description: "channels orders come from" }),
  fulfilment: Schema.optional(Ids.ConnectionId).annotations({
    description: "the connection that ships them (4PX, an ERP/WMS); absent when shipped by hand"
  }),
  trackingBack: Schema.optionalWith(Schema.Boolean, { default: () => true }).annotations({
    description: "write carrier and tracking number back to the channel the order came from (default true)"
  })
}) {}

/** Stock flow: a source of truth published to channels. */
export class StockFlow extends Schema.Class<StockFlow>("StockFlow")({
  source: connectionList.annotations({ description: "where stock levels are read (ERP/WMS, warehouses)" }),
  channels: Schema.NonEmptyArray(Ids.ConnectionId).annotations({ description: "where quantities are published" }),
  pollEvery: Schema.optionalWith(DurationText, { default: () => Duration.minutes(1) }).annotations({
    description: "how often stock levels are read from the source (default 1m)"
  }),
  reconcileEvery: Schema.optionalWith(DurationText, { default: () => Duration.minutes(15) }).annotations({
    description: "how often every published quantity is compared with what the channel was sent (default 15m)"
  })
}) {}

/** Polling of order and after-sales sources: the backstop behind webhooks. */
export class ReconcileConfig extends Schema.Class<ReconcileConfig>("ReconcileConfig")({
  every: Schema.optionalWith(DurationText, { default: () => Duration.minutes(5) }).annotations({
    description:
      "how often each channel is polled for orders and after-sales; a lost webhook costs at most this (default 5m)"
  }),
  overlap: Schema.optionalWith(DurationText, { default: () => Duration.minutes(10) }).annotations({
    description: "each poll window starts this long before the previous one ended (default 10m)"
  }),
  firstLookback: Schema.optionalWith(DurationText, { default: () => Duration.days(1) }).annotations({
    description: "how far back the first poll of a connection looks (default 1d)"
  })
}) {}

/** The customs line a parcel declares per order line when nothing more specific is known. */
export class DeclarationConfig extends Schema.Class<DeclarationConfig>("DeclarationConfig")({
  description: Schema.optional(Schema.NonEmptyString).annotations({ description: "default Merchandise" }),
  descriptionLocal: Schema.optional(Schema.NonEmptyString),
  unitValue: Schema.optional(Schema.Int.pipe(Schema.positive())).annotations({
    description: "declared unit value in minor units of currency, when the order line has no price (default 1000)"
  }),
  currency: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/))).annotations({
    description: "ISO currency, when the order names none (default USD)"
  }),
  hsCode: Schema.optional(Schema.String),
  originCountry: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Z]{2}$/)))
}) {}

/** What a parcel request needs that an order does not carry, per fulfilment connection. */
export class ParcelConfig extends Schema.Class<ParcelConfig>("ParcelConfig")({
  service: Schema.optional(Schema.NonEmptyString).annotations({
    description: "the provider's logistics product code (default: the connection's own)"
  }),
  packagingWeightGrams: Schema.optional(Schema.Int.pipe(Schema.nonNegative())).annotations({
    description: "packaging weight of a parcel in grams (default 100)"
  }),
  unitWeightGrams: Schema.optional(Schema.Int.pipe(Schema.positive())).annotations({
    description: "weight of one unit of any item in grams (default 250)"
  }),
  declaration: Schema.optional(DeclarationConfig),
  trackingPollEvery: Schema.optional(DurationText).annotations({
    description: "how often a parcel without a tracking number is asked again (default 5m)"
  }),
  trackingTimeout: Schema.optional(DurationText).annotations({
    description: "how long to wait for a tracking number before the parcel goes to the dead-letter queue (default 3d)"
  }),
  labels: Schema.optional(Schema.Boolean).annotations({
    description: "fetch each parcel's label for the warehouse to print (default true)"
  }),
  trackingEventsEvery: Schema.optional(DurationText).annotations({
    description: "how often the carrier's scans of parcels on their way are read (default 30m)"
  })
}) {}

/** After-sales flow: cancellations, returns and refunds from channels. */
export class AfterSalesFlow extends Schema.Class<AfterSalesFlow>("AfterSalesFlow")({
  from: connectionList,
  cancelShipment: Schema.optionalWith(Schema.Boolean, { default: () => true }).annotations({
    description: "cancel the parcel at the fulfilment connection when the order is cancelled before pickup"
  })
}) {}

/** The flows between connections. */
export class FlowsConfig extends Schema.Class<FlowsConfig>("FlowsConfig")({
  orders: Schema.optionalWith(Schema.Array(OrderFlow), { default: () => [] }),
  stock: Schema.optional(StockFlow),
  afterSales: Schema.optional(AfterSalesFlow),
  reconcile: Schema.optionalWith(ReconcileConfig, { default: () => ReconcileConfig.make({}) }).annotations({
    description: "polling of channels for orders and after-sales, the backstop behind webhooks"
  }),
  parcels: Schema.optionalWith(Schema.Record({ key: Ids.ConnectionId, value: ParcelConfig }), {
    default: () => ({})
  }).annotations({ description: "per fulfilment connection: what a parcel request needs that an order does not carry" })
}) {}

/** Where `from`/`source` fields name one connection or several. */
export const connections = (ref: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  typeof ref === "string" ? [ref] : ref

const referenceIssues = (config: {
  readonly connections: Readonly<Record<string, unknown>>
  readonly pool?: PoolConfig | undefined
  readonly flows: FlowsConfig
  readonly licences: Readonly<Record<string, unknown>>
}): Array<Schema.FilterIssue> => {
  const issues: Array<Schema.FilterIssue> = []
  const known = new Set(Object.keys(config.connections))
  const names = [...known].join(", ") || "none"
  const check = (path: ReadonlyArray<PropertyKey>, name: string) => {
    if (!known.has(name))
      issues.push({ path, message: `names connection "${name}", which is not configured (${names})` })
  }
  const checkRef = (path: ReadonlyArray<PropertyKey>, ref: string | ReadonlyArray<string>) => {
    if (typeof ref === "string") check(path, ref)
    else
      ref.forEach((n, i) => {
        check([...path, i], n)
      })
  }
  config.flows.orders.forEach((flow, i) => {
    checkRef(["flows", "orders", i, "from"], flow.from)
    if (flow.fulfilment !== undefined) check(["flows", "orders", i, "fulfilment"], flow.fulfilment)
  })
  if (config.flows.stock) {
    checkRef(["flows", "stock", "source"], config.flows.stock.source)
    config.flows.stock.channels.forEach((n, i) => {
      check(["flows", "stock", "channels", i], n)
    })
  }
  if (config.flows.afterSales) checkRef(["flows", "afterSales", "from"], config.flows.afterSales.from)
  for (const n of Object.keys(config.flows.parcels)) check(["flows", "parcels", n], n)
  if (config.pool) {
    check(["pool", "items", "from"], config.pool.items.from)
    for (const n of Object.keys(config.pool.channels)) check(["pool", "channels", n], n)
    for (const n of Object.keys(config.pool.pairing.map)) check(["pool", "pairing", "map", n], n)
    if (config.pool.lastUnits) check(["pool", "lastUnits", "channel"], config.pool.lastUnits.channel)
    for (const [n, policy] of Object.entries(config.pool.channels)) {
      if (policy.share !== undefined && policy.fixed !== undefined) {
        issues.push({ path: ["pool", "channels", n, "fixed"], message: "set either share or fixed, not both" })
      }
    }
  }
  for (const [n, c] of Object.entries(config.connections) as Array<[string, ConnectionConfig]>) {
    if (c.licence !== undefined && Object.keys(config.licences).length > 0 && !(c.licence in config.licences)) {
      issues.push({
        path: ["connections", n, "licence"],
        message: `names licence "${c.licence}", which is not listed under licences`
      })
    }
  }
  return issues
}

/** The whole `tkbridge.yaml`. */
export class RunnerConfig extends Schema.Class<RunnerConfig>("RunnerConfig")(
  Schema.Struct({
    version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
      description: "config format version"
    }),
    store: Schema.optionalWith(StoreUrl, { default: () => Redacted.make(DEFAULT_STORE) }),
    server: Schema.optionalWith(ServerConfig, { default: () => ServerConfig.make({}) }),
    licences: Schema.optionalWith(Schema.Record({ key: Ids.ExternalId, value: LicenceConfig }), {
      default: () => ({})
    }),
    connections: Schema.Record({ key: Ids.ConnectionId, value: ConnectionConfig }).annotations({
      description: "name → connection; the name appears in webhook URLs (/webhooks/<name>) and every report"
    }),
    pool: Schema.optional(PoolConfig),
    flows: Schema.optionalWith(FlowsConfig, { default: () => FlowsConfig.make({}) })
  }).pipe(Schema.filter((c) => referenceIssues(c)))
) {}

/** The connection names a flow or pool entry refers to, for the `ConnectionPlan`. */
export type ConnectionName = string

/** The store URL as text (the caller decides what to print: `Redacted` hides it). */
export const storeUrl = (config: RunnerConfig): string => Redacted.value(config.store)

/** The store location with the password hidden, for reports (`postgres://user:***@host/db`). */
export const storeDisplay = (config: RunnerConfig): string => {
  const url = Redacted.value(config.store)
  if (url.startsWith("sqlite:")) return url
  try {
    const u = new URL(url)
    if (u.password) u.password = "***"
    return u.toString()
  } catch {
    return "postgres://***"
  }
}

/** The core `ChannelPolicy` rows a pool config describes: one per connection and one per listing override. */
export const channelPolicies = (pool: PoolConfig): ReadonlyArray<CP.ChannelPolicy> => {
  const toPolicy = (connection: string, p: PolicyConfig, externalSku?: string) =>
    CP.ChannelPolicy.make({
      connection,
      ...(externalSku !== undefined ? { externalSku } : {}),
      allocation:
        p.fixed !== undefined
          ? CP.FixedAllocation.make({ quantity: p.fixed })
          : CP.ShareAllocation.make({ percent: p.share ?? 100 }),
      safetyBuffer: p.safetyBuffer ?? 0,
      floor: p.floor ?? 0,
      ...(p.cap !== undefined ? { cap: p.cap } : {}),
      ...(p.locations !== undefined ? { locations: p.locations } : {})
    })
  const out: Array<CP.ChannelPolicy> = []
  for (const [connection, policy] of Object.entries(pool.channels)) {
    out.push(toPolicy(connection, policy))
    for (const [sku, override] of Object.entries(policy.listings)) {
      out.push(toPolicy(connection, { ...policy, ...stripUndefined(override) }, sku))
    }
  }
  return out
}

const stripUndefined = <A extends object>(a: A): Partial<A> =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<A>
