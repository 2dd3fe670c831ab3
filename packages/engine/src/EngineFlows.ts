/**
 * EngineFlows: what the engine is asked to do between connections — plain data over core's schemas,
 * so the runner maps its YAML onto it and a test or an embedding program writes it by hand:
 *
 * - **orders**: orders come `from` channel connections, are reserved in the pool, optionally handed to
 *   a `fulfilment` connection (a logistics provider's `shipment.create`, or nothing when the seller
 *   ships by hand), and the carrier and tracking number go back to the channel (`trackingBack`);
 * - **stock**: `sources` with `stock.pull` are read every `every` (their readings carry source
 *   versions, so an older reading never overwrites a newer one), and the pool's published quantities
 *   go to the `channels` with `stock.push`;
 * - **afterSales**: cancellations, returns and refunds from channels; a cancellation before pickup can
 *   cancel the parcel at the fulfilment connection;
 * - **pool**: channel policies and the last-units rule, the unpaid-order TTL, when returned units go
 *   back on hand, and the pairing rules `catalog.pull` imports apply;
 * - **reconciliation**: how often each order and after-sales source is polled (the backstop behind
 *   webhooks) and how far each window reaches back over the previous one;
 * - **fulfilment**: the defaults a parcel request needs that an order does not carry (service code,
 *   weights, customs declaration), per fulfilment connection when they differ.
 *
 * Durations are `Duration`s (encoded as milliseconds).
 *
 * @since 0.1.0
 */
import type { AfterSale } from "@tkbridge/core"
import { Ids, Ledger, Pairing, Pool } from "@tkbridge/core"
import { Context, Duration, Schema } from "effect"

const ms = Schema.DurationFromMillis
const duration = (value: Duration.DurationInput) => Schema.optionalWith(ms, { default: () => Duration.decode(value) })

/** Orders from channels, reserved, fulfilled and tracked back. */
export class OrderFlow extends Schema.Class<OrderFlow>("@tkbridge/engine/OrderFlow")({
  /** The channels orders come from. */
  from: Schema.NonEmptyArray(Ids.ConnectionId),
  /** The connection that ships them (`shipment.create`); absent when the seller ships by hand. */
  fulfilment: Schema.optional(Ids.ConnectionId),
  /** Write the carrier and tracking number back to the order's channel (`fulfillment.push`). */
  trackingBack: Schema.optionalWith(Schema.Boolean, { default: () => true })
}) {}

/** A source of truth for stock, read with `stock.pull`. */
export class StockSource extends Schema.Class<StockSource>("@tkbridge/engine/StockSource")({
  connection: Ids.ConnectionId,
  /** How often it is read. */
  every: duration("1 minute")
}) {}

/** Stock read from sources and published to channels. */
export class StockFlow extends Schema.Class<StockFlow>("@tkbridge/engine/StockFlow")({
  sources: Schema.optionalWith(Schema.Array(StockSource), { default: () => [] }),
  /** Where the pool's quantities are published (`stock.push`). */
  channels: Schema.optionalWith(Schema.Array(Ids.ConnectionId), { default: () => [] }),
  /**
   * How often every published quantity is recomputed and compared with what the channel was last
   * sent (a lost notification, a pairing change): a backstop, not the trigger.
   */
  reconcileEvery: duration("15 minutes")
}) {}

/**
 * When returned units go back on hand: `on_receipt` (the return completed: goods received),
 * `on_approval` (the return was approved) or `never` (returns are recorded, stock is counted by hand).
 */
export const RestockPolicy = Schema.Literal("on_receipt", "on_approval", "never")
/** When returned units go back on hand. */
export type RestockPolicy = typeof RestockPolicy.Type

/** Cancellations, returns and refunds from channels. */
export class AfterSalesFlow extends Schema.Class<AfterSalesFlow>("@tkbridge/engine/AfterSalesFlow")({
  from: Schema.NonEmptyArray(Ids.ConnectionId),
  /** Cancel the parcel at the fulfilment connection when the order is cancelled before pickup. */
  cancelShipment: Schema.optionalWith(Schema.Boolean, { default: () => true })
}) {}

/** The pool's settings: publishing rules, unpaid-order TTL, returns and pairing. */
export class PoolSettings extends Schema.Class<PoolSettings>("@tkbridge/engine/PoolSettings")({
  /** Channel policies (per connection, per listing) and the last-units rule. */
  rules: Schema.optionalWith(Pool.PoolRules, { default: () => new Pool.PoolRules({}) }),
  /** Explicit pairs and auto-pairing rules `catalog.pull` imports apply. */
  pairing: Schema.optionalWith(Pairing.PairingConfig, { default: () => new Pairing.PairingConfig({}) }),
  /** The connection whose catalogue defines the pool's items (an ERP/WMS); its SKUs are item ids. */
  itemsFrom: Schema.optional(Ids.ConnectionId),
  /** How long an unpaid order holds stock before it is released. */
  unpaidTtl: duration("24 hours"),
  /** When returned units go back on hand. */
  restock: Schema.optionalWith(RestockPolicy, { default: () => "on_receipt" as const }),
  /** Where returned units go (per connection or for all); default: where they shipped from. */
  returns: Schema.optionalWith(Schema.Array(Ledger.ReturnRule), { default: () => [] })
}) {}

/** Polling of order and after-sales sources: the backstop behind webhooks. */
export class Reconciliation extends Schema.Class<Reconciliation>("@tkbridge/engine/Reconciliation")({
  /** How often each source is polled. A lost webhook costs at most this long. */
  every: duration("5 minutes"),
  /** Each window starts this long before the previous one ended (late writes, clock skew). */
  overlap: duration("10 minutes"),
  /** How far back the very first poll of a connection looks. */
  firstLookback: duration("1 day"),
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 50 })
}) {}

/** The customs line a parcel declares per order line when nothing more specific is known. */
export class DeclarationDefaults extends Schema.Class<DeclarationDefaults>("@tkbridge/engine/DeclarationDefaults")({
  description: Schema.optionalWith(Schema.NonEmptyString, { default: () => "Merchandise" }),
  descriptionLocal: Schema.optional(Schema.NonEmptyString),
  /** Declared unit value in minor units of `currency`, when the order line has no price. */
  unitValue: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1000 }),
  /** Used when the order names no currency. */
  currency: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/)), { default: () => "USD" }),
  hsCode: Schema.optional(Schema.String),
  originCountry: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Z]{2}$/)))
}) {}

/** What a parcel request needs that an order does not carry. */
export class FulfilmentDefaults extends Schema.Class<FulfilmentDefaults>("@tkbridge/engine/FulfilmentDefaults")({
  /** The provider's logistics product; absent: the connection's own default. */
  service: Schema.optional(Schema.NonEmptyString),
  /** Packaging weight of a parcel, in grams. */
  packagingWeightGrams: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 100 }),
  /** Weight of one unit of any item, in grams. */
  unitWeightGrams: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 250 }),
  declaration: Schema.optionalWith(DeclarationDefaults, { default: () => new DeclarationDefaults({}) }),
  /** How often a parcel without a tracking number is asked again. */
  trackingPollEvery: duration("5 minutes"),
  /** How long to wait for a tracking number before the parcel goes to the dead-letter queue. */
  trackingTimeout: duration("3 days"),
  /** Fetch each parcel's label into the parcels record (for the warehouse to print). */
  labels: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** How often the carrier's events of parcels on their way are pulled (`tracking.pull`). */
  trackingEventsEvery: duration("30 minutes")
}) {}

/** Everything the engine runs. */
export class EngineFlows extends Schema.Class<EngineFlows>("@tkbridge/engine/EngineFlows")({
  orders: Schema.optionalWith(Schema.Array(OrderFlow), { default: () => [] }),
  stock: Schema.optional(StockFlow),
  afterSales: Schema.optional(AfterSalesFlow),
  pool: Schema.optionalWith(PoolSettings, { default: () => new PoolSettings({}) }),
  reconciliation: Schema.optionalWith(Reconciliation, { default: () => new Reconciliation({}) }),
  fulfilment: Schema.optionalWith(FulfilmentDefaults, { default: () => new FulfilmentDefaults({}) }),
  /** Per fulfilment connection, defaults that differ from `fulfilment`. */
  fulfilmentFor: Schema.optionalWith(Schema.Record({ key: Ids.ConnectionId, value: FulfilmentDefaults }), {
    default: () => ({})
  })
}) {}

/** The flows the engine runs, for its entities, workflows and schedules. */
export class CurrentFlows extends Context.Tag("@tkbridge/engine/CurrentFlows")<CurrentFlows, EngineFlows>() {}

/** The ledger configuration the flows imply: publishing rules, pairing, returns. */
export const ledgerConfig = (flows: EngineFlows): Ledger.LedgerConfig =>
  new Ledger.LedgerConfig({
    pool: flows.pool.rules,
    pairing: flows.pool.pairing,
    returns: flows.pool.restock === "never" ? [new Ledger.ReturnRule({ restock: false })] : flows.pool.returns
  })

/** The order flow a channel's orders follow, if any. */
export const orderFlowOf = (flows: EngineFlows, connection: string): OrderFlow | undefined =>
  flows.orders.find((f) => f.from.includes(connection))

/** True when the connection's after-sales are followed. */
export const takesAfterSales = (flows: EngineFlows, connection: string): boolean =>
  flows.afterSales?.from.includes(connection) ?? false

/** The channels quantities are published to. */
export const stockChannels = (flows: EngineFlows): ReadonlyArray<string> => flows.stock?.channels ?? []

/** The fulfilment defaults for a fulfilment connection. */
export const fulfilmentDefaults = (flows: EngineFlows, fulfiller: string): FulfilmentDefaults =>
  flows.fulfilmentFor[fulfiller] ?? flows.fulfilment

/** Every connection the flows poll for orders, after-sales or both. */
export const polledConnections = (
  flows: EngineFlows
): ReadonlyArray<{ readonly connection: string; readonly orders: boolean; readonly afterSales: boolean }> => {
  const out = new Map<string, { connection: string; orders: boolean; afterSales: boolean }>()
  const entry = (connection: string) => {
    const found = out.get(connection) ?? { connection, orders: false, afterSales: false }
    out.set(connection, found)
    return found
  }
  for (const flow of flows.orders) for (const c of flow.from) entry(c).orders = true
  for (const c of flows.afterSales?.from ?? []) entry(c).afterSales = true
  return [...out.values()]
}

/**
 * Whether an after-sale status puts returned units back on hand under a policy: `on_receipt` at
 * `completed`; `on_approval` at `approved` (or `completed`, when the approval was never seen);
 * `never` records the return at `completed` without restocking.
 */
export const restockDue = (policy: RestockPolicy, status: AfterSale.AfterSaleStatus): boolean =>
  status === "completed" || (policy === "on_approval" && status === "approved")
