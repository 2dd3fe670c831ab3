/**
 * Ledger: the port through which every stock change flows — the pool's one write path.
 *
 * Stock is set per (item, location) from a source of truth (an ERP/WMS reading carries a source
 * version, so an older reading never overwrites a newer one) or adjusted by a delta. Orders reserve
 * their lines atomically — all lines or none, with demand summed per item across lines and bundle
 * components — and idempotently on (connection, order, line), so a redelivered order reserves once.
 * Reservations are committed on shipment (on hand goes down), released on cancel, expire when an
 * unpaid order outlives its TTL, and returns can put units back.
 *
 * Every mutation appends a {@link Movement} per changed counter (who, why, before, after) and answers
 * with the listings whose published quantity may have changed; {@link LedgerService.published}
 * recomputes exactly those. A mutation run inside a caller's SQL transaction joins it (as a savepoint)
 * so the caller can write its outbox rows atomically with the change.
 *
 * Implementations: `LedgerMemory` (core, in memory — the reference model) and `SqlLedger`
 * (`@tkbridge/store-sql`, SQLite and PostgreSQL).
 *
 * Physical readings are the truth: a set or adjustment may bring on hand below what open orders hold.
 * Nothing is released then (the orders exist); the result reports the item's `shortfall`, the pool
 * publishes 0 and refuses further reservations until stock returns. Only physical readings can cause
 * a shortfall; reservations never do.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Context, Schema } from "effect"
import { ConnectionId, ExternalId, ExternalSku, ItemId, LocationId, PositiveQuantity, Quantity } from "./Ids.ts"
import type { Item } from "./Item.ts"
import type { Listing } from "./Listing.ts"
import type { PairedBy, Unpaired } from "./Pairing.ts"
import { PairingConfig } from "./Pairing.ts"
import type { Explanation, ItemStock } from "./Pool.ts"
import { PoolRules } from "./Pool.ts"
import type { Reservation } from "./Reservation.ts"

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * An order line names a SKU the pool cannot resolve to items. Carries the SKU (and line) so the inbox
 * can dead-letter the event with a reason a person can act on.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnknownSku extends Schema.TaggedError<UnknownSku>("@tkbridge/core/UnknownSku")("UnknownSku", {
  connection: ConnectionId,
  externalSku: ExternalSku,
  orderId: Schema.optional(ExternalId),
  lineId: Schema.optional(Schema.String),
  /**
   * `unknown`: never seen and no item matches; `no_match`: a known listing no item matches;
   * `ambiguous`: several items match; `manual`: a person unpaired the listing.
   */
  reason: Schema.Literal("unknown", "no_match", "ambiguous", "manual")
}) {
  override get message(): string {
    return `SKU ${this.externalSku} on ${this.connection} is not paired with any item (${this.reason})`
  }
}

/**
 * One item an order wanted more of than the pool had.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Shortage = Schema.Struct({ item: ItemId, requested: PositiveQuantity, available: Quantity })
/** @since 0.1.0 */
export type Shortage = typeof Shortage.Type

/**
 * The pool cannot cover an order: nothing was reserved. `shortages` lists every item that fell short.
 *
 * @category errors
 * @since 0.1.0
 */
export class InsufficientStock extends Schema.TaggedError<InsufficientStock>("@tkbridge/core/InsufficientStock")(
  "InsufficientStock",
  { connection: ConnectionId, orderId: ExternalId, shortages: Schema.Array(Shortage) }
) {
  override get message(): string {
    const what = this.shortages.map((s) => `${s.item} wanted ${s.requested}, available ${s.available}`).join("; ")
    return `order ${this.orderId} on ${this.connection} cannot be reserved: ${what}`
  }
}

/**
 * No reservation exists for the order (or for the named lines).
 *
 * @category errors
 * @since 0.1.0
 */
export class UnknownOrder extends Schema.TaggedError<UnknownOrder>("@tkbridge/core/UnknownOrder")("UnknownOrder", {
  connection: ConnectionId,
  orderId: ExternalId,
  lineIds: Schema.optional(Schema.Array(Schema.String))
}) {
  override get message(): string {
    return `no reservation for order ${this.orderId} on ${this.connection}`
  }
}

/**
 * The transition is not allowed from the line's state (e.g. shipping a cancelled line, returning a
 * line that never shipped).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>("@tkbridge/core/InvalidTransition")(
  "InvalidTransition",
  {
    connection: ConnectionId,
    orderId: ExternalId,
    lineId: Schema.String,
    state: Schema.Literal("held", "committed", "released"),
    attempted: Schema.Literal("commit", "restock", "confirm")
  }
) {
  override get message(): string {
    return `cannot ${this.attempted} line ${this.lineId} of order ${this.orderId} on ${this.connection}: it is ${this.state}`
  }
}

/**
 * A return names more units than were shipped on the line (counting earlier returns).
 *
 * @category errors
 * @since 0.1.0
 */
export class ReturnExceedsShipment extends Schema.TaggedError<ReturnExceedsShipment>(
  "@tkbridge/core/ReturnExceedsShipment"
)("ReturnExceedsShipment", {
  connection: ConnectionId,
  orderId: ExternalId,
  lineId: Schema.String,
  shipped: Quantity,
  returned: Quantity,
  requested: PositiveQuantity
}) {
  override get message(): string {
    return `line ${this.lineId} of order ${this.orderId}: ${this.requested} returned, but only ${this.shipped - this.returned} shipped units remain`
  }
}

/**
 * An adjustment would take a location below zero.
 *
 * @category errors
 * @since 0.1.0
 */
export class NegativeStock extends Schema.TaggedError<NegativeStock>("@tkbridge/core/NegativeStock")("NegativeStock", {
  item: ItemId,
  location: LocationId,
  onHand: Quantity,
  delta: Schema.Int
}) {
  override get message(): string {
    return `${this.item} at ${this.location}: on hand ${this.onHand} cannot change by ${this.delta}`
  }
}

/**
 * The ledger's storage failed. `retryable`: a deadlock, serialization failure or busy database —
 * running the whole transaction again may succeed.
 *
 * @category errors
 * @since 0.1.0
 */
export class LedgerUnavailable extends Schema.TaggedError<LedgerUnavailable>("@tkbridge/core/LedgerUnavailable")(
  "LedgerUnavailable",
  { message: Schema.String, retryable: Schema.Boolean, cause: Schema.optional(Schema.Defect) }
) {}

/**
 * Any ledger error.
 *
 * @category errors
 * @since 0.1.0
 */
export type LedgerError =
  | UnknownSku
  | InsufficientStock
  | UnknownOrder
  | InvalidTransition
  | ReturnExceedsShipment
  | NegativeStock
  | LedgerUnavailable

// ---------------------------------------------------------------------------------------------
// Inputs and results
// ---------------------------------------------------------------------------------------------

/**
 * Who asked for a change and why; recorded on every movement. `actor` defaults to `system`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Meta {
  readonly actor?: string | undefined
  readonly reason?: string | undefined
}

/**
 * A listing, by connection and channel SKU.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListingRef {
  readonly connection: string
  readonly externalSku: string
}

/**
 * What every mutation answers: the listings whose published quantity may have changed (sorted by
 * connection, then SKU). The pusher recomputes exactly these.
 *
 * @category models
 * @since 0.1.0
 */
export interface Changes {
  readonly changed: ReadonlyArray<ListingRef>
}

/**
 * An item whose on hand is below what open orders hold, after a physical reading.
 *
 * @category models
 * @since 0.1.0
 */
export interface Shortfall {
  readonly item: string
  readonly onHand: number
  readonly reserved: number
  /** reserved − onHand. */
  readonly shortfall: number
}

/**
 * An absolute on-hand reading for one (item, location). `sourceVersion` orders readings from the
 * source of truth; a reading whose version is not newer than the stored one is ignored. Without a
 * version the reading always applies and the stored version is kept.
 *
 * @category models
 * @since 0.1.0
 */
export interface StockReading {
  readonly item: string
  readonly location: string
  readonly onHand: number
  readonly sourceVersion?: number | undefined
}

/**
 * The outcome of a batch of readings.
 *
 * @category models
 * @since 0.1.0
 */
export interface SetStockResult extends Changes {
  readonly applied: ReadonlyArray<{
    readonly item: string
    readonly location: string
    readonly before: number
    readonly after: number
  }>
  /** Readings ignored because the stored reading is as new or newer. */
  readonly stale: ReadonlyArray<{
    readonly item: string
    readonly location: string
    readonly sourceVersion: number
    readonly storedVersion: number
  }>
  readonly shortfalls: ReadonlyArray<Shortfall>
}

/**
 * A relative change to one (item, location). With an `idempotencyKey` a repeated call changes nothing.
 *
 * @category models
 * @since 0.1.0
 */
export interface Adjustment {
  readonly item: string
  readonly location: string
  readonly delta: number
  readonly idempotencyKey?: string | undefined
}

/**
 * The outcome of an adjustment.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdjustResult extends Changes {
  readonly outcome: "adjusted" | "duplicate"
  readonly before: number
  readonly after: number
  readonly shortfalls: ReadonlyArray<Shortfall>
}

/**
 * An order line to reserve for: a channel SKU and how many of it.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReserveLine {
  readonly lineId: string
  readonly externalSku: string
  readonly qty: number
}

/**
 * An order to reserve for. `expiresAt`: unpaid orders hold stock only until then (see
 * {@link LedgerService.expire}); {@link LedgerService.confirm} clears it once paid.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReserveInput {
  readonly connection: string
  readonly orderId: string
  readonly lines: ReadonlyArray<ReserveLine>
  readonly expiresAt?: Date | undefined
}

/**
 * The outcome of a reservation. `duplicate`: every line was already known — nothing changed.
 * `reservations` are the order's per-item rows after the call; `demand` what this call reserved.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReserveResult extends Changes {
  readonly outcome: "reserved" | "duplicate"
  readonly demand: ReadonlyArray<{ readonly item: string; readonly qty: number }>
  readonly reservations: ReadonlyArray<Reservation>
}

/**
 * An order, or some of its lines (all lines when `lineIds` is absent).
 *
 * @category models
 * @since 0.1.0
 */
export interface OrderRef {
  readonly connection: string
  readonly orderId: string
  readonly lineIds?: ReadonlyArray<string> | undefined
}

/**
 * A shipment: the order's held lines leave. `location` is the warehouse that shipped; units are
 * taken from it first, then from the locations holding most.
 *
 * @category models
 * @since 0.1.0
 */
export interface CommitInput extends OrderRef {
  readonly location?: string | undefined
}

/**
 * The outcome of a state change on an order's lines: the lines that changed (empty when they had
 * already changed — the call is idempotent).
 *
 * @category models
 * @since 0.1.0
 */
export interface TransitionResult extends Changes {
  readonly lines: ReadonlyArray<string>
}

/**
 * The outcome of an expiry sweep.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExpireResult extends Changes {
  readonly expired: ReadonlyArray<{ readonly connection: string; readonly orderId: string; readonly lineId: string }>
}

/**
 * A return: these listing units of these lines came back. `restock` and `location` override the
 * configured return rule. Idempotent on (connection, returnId).
 *
 * @category models
 * @since 0.1.0
 */
export interface RestockInput {
  readonly connection: string
  readonly orderId: string
  readonly returnId: string
  readonly lines: ReadonlyArray<{ readonly lineId: string; readonly qty: number }>
  readonly restock?: boolean | undefined
  readonly location?: string | undefined
}

/**
 * The outcome of a return: `restocked` (units back on hand), `recorded` (returned, not restocked, per
 * the rule) or `duplicate`.
 *
 * @category models
 * @since 0.1.0
 */
export interface RestockResult extends Changes {
  readonly outcome: "restocked" | "recorded" | "duplicate"
  readonly items: ReadonlyArray<{ readonly item: string; readonly location: string; readonly qty: number }>
}

/**
 * A SKU from a channel's catalogue, to be paired.
 *
 * @category models
 * @since 0.1.0
 */
export interface CatalogEntry {
  readonly externalSku: string
  readonly externalIds?: Readonly<Record<string, string>> | undefined
  readonly title?: string | undefined
}

/**
 * The outcome of importing a catalogue: what paired (and how), and what did not.
 *
 * @category models
 * @since 0.1.0
 */
export interface PairingReport extends Changes {
  readonly paired: ReadonlyArray<{
    readonly externalSku: string
    readonly by: PairedBy
    readonly components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
  }>
  readonly unpaired: ReadonlyArray<Unpaired>
}

/**
 * Which counter a movement changed.
 *
 * @category schemas
 * @since 0.1.0
 */
export const MovementKind = Schema.Literal("on_hand", "reserved")
/** @since 0.1.0 */
export type MovementKind = typeof MovementKind.Type

/**
 * The operation behind a movement.
 *
 * @category schemas
 * @since 0.1.0
 */
export const MovementOp = Schema.Literal(
  "set",
  "adjust",
  "reserve",
  "confirm",
  "commit",
  "release",
  "expire",
  "restock",
  "repair"
)
/** @since 0.1.0 */
export type MovementOp = typeof MovementOp.Type

/**
 * One append-only ledger row: a counter of an item (on hand at a location, or reserved) went from
 * `before` to `after`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Movement = Schema.Struct({
  id: Schema.Int,
  at: Schema.DateFromNumber,
  op: MovementOp,
  actor: Schema.String,
  reason: Schema.optional(Schema.String),
  /** What caused it: `order:<connection>/<orderId>/<lineId>`, `return:<connection>/<returnId>`, `version:<n>` … */
  reference: Schema.optional(Schema.String),
  item: ItemId,
  /** Set for `on_hand` movements. */
  location: Schema.optional(LocationId),
  kind: MovementKind,
  before: Schema.Int,
  after: Schema.Int,
  delta: Schema.Int
})
/** @since 0.1.0 */
export type Movement = typeof Movement.Type

/**
 * A query over movements: one item's, and/or those after an id, oldest first.
 *
 * @category models
 * @since 0.1.0
 */
export interface MovementQuery {
  readonly item?: string | undefined
  readonly afterId?: number | undefined
  readonly limit?: number | undefined
}

/**
 * An item's counters as stored: on hand per location and in total, units held, safety stock, and the
 * shortfall a physical reading left (0 normally).
 *
 * @category models
 * @since 0.1.0
 */
export interface ItemBalance extends ItemStock {
  readonly onHand: number
  readonly shortfall: number
}

/**
 * What to do with returned units on a connection (or, without `connection`, on every connection).
 *
 * @category models
 * @since 0.1.0
 */
export class ReturnRule extends Schema.Class<ReturnRule>("@tkbridge/core/ReturnRule")({
  connection: Schema.optional(ConnectionId),
  /** Put returned units back on hand (default true). */
  restock: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Where to; default: the location the units shipped from. */
  location: Schema.optional(LocationId)
}) {}

/**
 * The ledger's configuration: publishing rules, pairing, returns.
 *
 * @category models
 * @since 0.1.0
 */
export class LedgerConfig extends Schema.Class<LedgerConfig>("@tkbridge/core/LedgerConfig")({
  pool: Schema.optionalWith(PoolRules, { default: () => new PoolRules({}) }),
  pairing: Schema.optionalWith(PairingConfig, { default: () => new PairingConfig({}) }),
  returns: Schema.optionalWith(Schema.Array(ReturnRule), { default: () => [] })
}) {}

/**
 * The return rule for a connection: its own, else the general one, else restock to the shipping
 * location.
 *
 * @category constructors
 * @since 0.1.0
 */
export const returnRuleFor = (config: LedgerConfig, connection: string): ReturnRule =>
  config.returns.find((r) => r.connection === connection) ??
  config.returns.find((r) => r.connection === undefined) ??
  defaultReturnRule

const defaultReturnRule = new ReturnRule({})

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/**
 * The ledger's operations. See the module documentation for the guarantees.
 *
 * @category services
 * @since 0.1.0
 */
export interface LedgerService {
  /** Registers or updates master SKUs (title, safety stock). */
  readonly upsertItems: (items: ReadonlyArray<Item>, meta?: Meta) => Effect.Effect<Changes, LedgerUnavailable>
  /** Applies absolute on-hand readings; stale ones are ignored and reported. Unknown items are created. */
  readonly setStock: (
    readings: ReadonlyArray<StockReading>,
    meta?: Meta
  ) => Effect.Effect<SetStockResult, LedgerUnavailable>
  /** Changes on hand at one location by a delta. */
  readonly adjustStock: (
    adjustment: Adjustment,
    meta?: Meta
  ) => Effect.Effect<AdjustResult, NegativeStock | LedgerUnavailable>
  /** Reserves an order's lines: all or none, idempotent per line. */
  readonly reserve: (
    input: ReserveInput,
    meta?: Meta
  ) => Effect.Effect<ReserveResult, UnknownSku | InsufficientStock | LedgerUnavailable>
  /**
   * The order was paid: its held lines no longer expire, and lines that expired are held again (all
   * or none; fails with `InsufficientStock` when the pool no longer covers them).
   */
  readonly confirm: (
    order: OrderRef,
    meta?: Meta
  ) => Effect.Effect<TransitionResult, UnknownOrder | InsufficientStock | LedgerUnavailable>
  /** The order shipped: held lines become committed and their units leave on hand. */
  readonly commit: (
    input: CommitInput,
    meta?: Meta
  ) => Effect.Effect<TransitionResult, UnknownOrder | InvalidTransition | LedgerUnavailable>
  /** The order was cancelled: held lines are released. Committed lines are left alone. */
  readonly release: (order: OrderRef, meta?: Meta) => Effect.Effect<TransitionResult, UnknownOrder | LedgerUnavailable>
  /** Releases every held line whose `expiresAt` is at or before `now`. */
  readonly expire: (now: Date, meta?: Meta) => Effect.Effect<ExpireResult, LedgerUnavailable>
  /** Records a return and, per the return rule, puts the units back on hand. */
  readonly restock: (
    input: RestockInput,
    meta?: Meta
  ) => Effect.Effect<RestockResult, UnknownOrder | InvalidTransition | ReturnExceedsShipment | LedgerUnavailable>
  /** Imports a channel's catalogue and pairs each SKU (explicit map, then auto rules). */
  readonly importCatalog: (
    connection: string,
    entries: ReadonlyArray<CatalogEntry>,
    meta?: Meta
  ) => Effect.Effect<PairingReport, LedgerUnavailable>
  /** Pairs a listing by hand; it keeps this pairing through later imports. */
  readonly pair: (
    connection: string,
    externalSku: string,
    components: ReadonlyArray<{ readonly item: string; readonly qty: number }>,
    meta?: Meta
  ) => Effect.Effect<Changes, LedgerUnavailable>
  /** Removes a listing's pairing; it publishes nothing until paired again. */
  readonly unpair: (connection: string, externalSku: string, meta?: Meta) => Effect.Effect<Changes, LedgerUnavailable>
  /** The current published quantity and its explanation for each paired listing named. */
  readonly published: (refs: ReadonlyArray<ListingRef>) => Effect.Effect<ReadonlyArray<Explanation>, LedgerUnavailable>
  /** Paired listings of a connection (every connection when absent). */
  readonly listings: (connection?: string) => Effect.Effect<ReadonlyArray<Listing>, LedgerUnavailable>
  /** Listings that are not paired. */
  readonly unpaired: (connection?: string) => Effect.Effect<ReadonlyArray<Unpaired>, LedgerUnavailable>
  /** Counters of the named items (every item when absent). */
  readonly balances: (items?: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<ItemBalance>, LedgerUnavailable>
  /** An order's per-item reservation rows. */
  readonly reservations: (
    connection: string,
    orderId: string
  ) => Effect.Effect<ReadonlyArray<Reservation>, LedgerUnavailable>
  /** Movements, oldest first. */
  readonly movements: (query?: MovementQuery) => Effect.Effect<ReadonlyArray<Movement>, LedgerUnavailable>
}

/**
 * The ledger service.
 *
 * @category services
 * @since 0.1.0
 */
export class Ledger extends Context.Tag("@tkbridge/core/Ledger")<Ledger, LedgerService>() {}

/**
 * Sorts and de-duplicates listing references (connection, then SKU).
 *
 * @category constructors
 * @since 0.1.0
 */
export const sortRefs = (refs: Iterable<ListingRef>): ReadonlyArray<ListingRef> => {
  const seen = new Map<string, ListingRef>()
  for (const r of refs) seen.set(`${r.connection}\u0000${r.externalSku}`, r)
  return [...seen.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({ connection: r.connection, externalSku: r.externalSku }))
}

/** The actor recorded when a caller names none. */
export const defaultActor = "system"

/**
 * Where a shipment's units of one item come from: the shipping location first, then the locations
 * holding most (ties by name). Returns fewer units than asked when the locations hold fewer — the
 * parcel left regardless; on hand cannot go below zero.
 *
 * @category constructors
 * @since 0.1.0
 */
export const allocateShipment = (
  locations: ReadonlyArray<{ readonly location: string; readonly onHand: number }>,
  qty: number,
  preferred?: string | undefined
): ReadonlyArray<{ readonly location: string; readonly qty: number }> => {
  const ordered = [...locations].sort((a, b) => {
    if (a.location === preferred) return -1
    if (b.location === preferred) return 1
    if (a.onHand !== b.onHand) return b.onHand - a.onHand
    return a.location < b.location ? -1 : a.location > b.location ? 1 : 0
  })
  const parts: Array<{ location: string; qty: number }> = []
  let remaining = qty
  for (const l of ordered) {
    if (remaining <= 0) break
    const take = Math.min(remaining, l.onHand)
    if (take > 0) {
      parts.push({ location: l.location, qty: take })
      remaining -= take
    }
  }
  return parts
}

/**
 * The location returned units of an item go back to: the one named, else the rule's, else where the
 * item shipped from, else {@link returnsLocation}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const restockLocation = (input: string | undefined, rule: ReturnRule, shippedFrom: string | undefined): string =>
  input ?? rule.location ?? shippedFrom ?? returnsLocation

/** The location returned units go to when nothing says where they shipped from. */
export const returnsLocation = "returns"

/**
 * The idempotency key of a return.
 *
 * @category constructors
 * @since 0.1.0
 */
export const returnKey = (connection: string, returnId: string): string => `return:${connection}/${returnId}`

/**
 * The idempotency key of an adjustment.
 *
 * @category constructors
 * @since 0.1.0
 */
export const adjustKey = (key: string): string => `adjust:${key}`
