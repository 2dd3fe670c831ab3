/**
 * Pool: the arithmetic of the inventory pool (多平台一盘货) — what each channel is shown, and why.
 *
 * Pure functions, no I/O. The store feeds them rows, the in-memory ledger feeds them maps; both get
 * the same numbers.
 *
 * - available(item) = Σ onHand over the locations the connection may sell from − Σ held reservations
 *   − the item's safety stock, never below 0;
 * - a listing's base = min over its components of floor(available(item) / qty) (bundles and
 *   multipacks);
 * - then the last-units rule (when an item's pool-wide available is at or below the threshold only the
 *   priority channel keeps stock), the allocation (share % or fixed), the safety buffer, the floor
 *   ("publish 0 at or below N") and the cap.
 *
 * Every step rounds down — rounding up (9.5 → 10) is how one ERP oversells — and every published
 * number comes with an {@link Explanation} listing each term and its value, for the audit log and for
 * "why did TikTok get 7?".
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ChannelPolicy, LastUnitsRule } from "./ChannelPolicy.ts"
import { ConnectionId, ExternalSku, ItemId, LocationId, PositiveQuantity, Quantity } from "./Ids.ts"

/**
 * On-hand units of an item at one location.
 *
 * @category models
 * @since 0.1.0
 */
export interface LocationStock {
  readonly location: string
  readonly onHand: number
}

/**
 * Everything the pool needs to know about one item: its safety stock, the units held by open
 * reservations, and what is on hand where.
 *
 * @category models
 * @since 0.1.0
 */
export interface ItemStock {
  readonly item: string
  readonly safetyStock: number
  readonly held: number
  readonly locations: ReadonlyArray<LocationStock>
}

/**
 * The part of a listing the pool reads: which connection, which SKU, made of which items.
 * `Listing.Listing` satisfies it.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListingShape {
  readonly connection: string
  readonly externalSku: string
  readonly components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
}

/**
 * The publishing rules of the whole pool: channel policies (per connection, optionally per listing)
 * and the last-units rule.
 *
 * @category models
 * @since 0.1.0
 */
export class PoolRules extends Schema.Class<PoolRules>("@tkbridge/core/PoolRules")({
  policies: Schema.optionalWith(Schema.Array(ChannelPolicy), { default: () => [] }),
  lastUnits: Schema.optional(LastUnitsRule)
}) {}

/**
 * On-hand units at one location, as an explanation term.
 *
 * @category schemas
 * @since 0.1.0
 */
export const LocationTerm = Schema.Struct({ location: LocationId, onHand: Quantity })

/**
 * How one component of a listing contributes: its availability and the listing units it allows.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ComponentTerm = Schema.Struct({
  item: ItemId,
  /** Units of the item one listing unit consumes (the multipack factor or bundle quantity). */
  qty: PositiveQuantity,
  /** Σ on hand over the locations counted. */
  onHand: Quantity,
  /** The locations counted and their on-hand units. */
  locations: Schema.Array(LocationTerm),
  /** Units held by open reservations (all channels). */
  held: Quantity,
  safetyStock: Quantity,
  /** max(0, onHand − held − safetyStock). */
  available: Quantity,
  /** floor(available / qty). */
  units: Quantity
})
/** @since 0.1.0 */
export type ComponentTerm = typeof ComponentTerm.Type

/**
 * The terms applied after the base, in order.
 *
 * @category schemas
 * @since 0.1.0
 */
export const StepTerm = Schema.Literal("lastUnits", "share", "fixed", "safetyBuffer", "floor", "cap")
/** @since 0.1.0 */
export type StepTerm = typeof StepTerm.Type

/**
 * One policy step: the term, its setting and the quantity after it.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Step = Schema.Struct({ term: StepTerm, value: Schema.Number, result: Quantity })
/** @since 0.1.0 */
export type Step = typeof Step.Type

/**
 * What the last-units rule did for this listing. `withheld`: another channel has priority and an item
 * is at or below the threshold; `priority`: this is the priority channel; `inactive`: no item is at or
 * below the threshold.
 *
 * @category schemas
 * @since 0.1.0
 */
export const LastUnitsTerm = Schema.Struct({
  threshold: Quantity,
  channel: ConnectionId,
  outcome: Schema.Literal("withheld", "priority", "inactive"),
  /** The component with the lowest pool-wide availability, and that availability. */
  item: ItemId,
  available: Quantity
})
/** @since 0.1.0 */
export type LastUnitsTerm = typeof LastUnitsTerm.Type

/**
 * Why a listing is published at `published`: every term and its value.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Explanation = Schema.Struct({
  connection: ConnectionId,
  externalSku: ExternalSku,
  published: Quantity,
  components: Schema.Array(ComponentTerm),
  /** min over components of `units`. */
  base: Quantity,
  /** The component that set the base. */
  limitingItem: ItemId,
  /** Where the channel policy came from: a listing override, the connection, or the default (100 %). */
  policy: Schema.Literal("listing", "connection", "default"),
  /** The locations counted; absent when every location is. */
  locations: Schema.optional(Schema.Array(LocationId)),
  lastUnits: Schema.optional(LastUnitsTerm),
  steps: Schema.Array(Step)
})
/** @since 0.1.0 */
export type Explanation = typeof Explanation.Type

/**
 * The availability of one item from the view of a set of locations.
 *
 * @category models
 * @since 0.1.0
 */
export interface Availability {
  readonly item: string
  readonly onHand: number
  readonly locations: ReadonlyArray<LocationStock>
  readonly held: number
  readonly safetyStock: number
  readonly available: number
}

const nonNegative = (n: number): number => Math.max(n, 0)

/**
 * available(item) = max(0, Σ onHand over `locations` (every location when absent) − held − safety
 * stock). An unknown item has nothing available.
 *
 * @category constructors
 * @since 0.1.0
 */
export const available = (
  item: string,
  stock: ItemStock | undefined,
  locations?: ReadonlyArray<string> | undefined
): Availability => {
  if (stock === undefined) return { item, onHand: 0, locations: [], held: 0, safetyStock: 0, available: 0 }
  const counted =
    locations === undefined ? stock.locations : stock.locations.filter((l) => locations.includes(l.location))
  let onHand = 0
  for (const l of counted) onHand += l.onHand
  return {
    item,
    onHand,
    locations: counted,
    held: stock.held,
    safetyStock: stock.safetyStock,
    available: nonNegative(onHand - stock.held - stock.safetyStock)
  }
}

/**
 * The policy that applies to a listing: a policy naming the listing wins over the connection's, which
 * wins over the default (100 %, no buffer, no floor, no cap, every location). A listing override
 * without `locations` keeps the connection's locations. The first matching policy wins.
 *
 * @category constructors
 * @since 0.1.0
 */
export const policyFor = (
  rules: PoolRules,
  connection: string,
  externalSku: string
): { readonly policy: ChannelPolicy; readonly source: "listing" | "connection" | "default" } => {
  let forConnection: ChannelPolicy | undefined
  let forListing: ChannelPolicy | undefined
  for (const p of rules.policies) {
    if (p.connection !== connection) continue
    if (p.externalSku === undefined) forConnection ??= p
    else if (p.externalSku === externalSku) forListing ??= p
  }
  if (forListing !== undefined) {
    if (forListing.locations === undefined && forConnection?.locations !== undefined) {
      return { policy: new ChannelPolicy({ ...forListing, locations: forConnection.locations }), source: "listing" }
    }
    return { policy: forListing, source: "listing" }
  }
  if (forConnection !== undefined) return { policy: forConnection, source: "connection" }
  return { policy: new ChannelPolicy({ connection }), source: "default" }
}

// Percentages are applied in whole basis points so 70 % of 10 is 7, not 6.999… → 6; anything finer
// than 0.01 % is dropped, which can only lower the result.
const basisPoints = (percent: number): number => Math.floor(percent * 100 + 1e-6)

/**
 * The published quantity of a listing and its explanation. `stockOf` returns the pool's view of an
 * item (undefined: nothing known, nothing available).
 *
 * @category constructors
 * @since 0.1.0
 */
export const publish = (
  listing: ListingShape,
  stockOf: (item: string) => ItemStock | undefined,
  rules: PoolRules
): Explanation => {
  const { policy, source } = policyFor(rules, listing.connection, listing.externalSku)
  const components: Array<ComponentTerm> = []
  let base = Number.POSITIVE_INFINITY
  let limitingItem = listing.components[0]?.item ?? ""
  let lowestItem = limitingItem
  let lowestPoolAvailable = Number.POSITIVE_INFINITY
  for (const c of listing.components) {
    const stock = stockOf(c.item)
    const a = available(c.item, stock, policy.locations)
    const units = Math.floor(a.available / c.qty)
    components.push({
      item: c.item,
      qty: c.qty,
      onHand: a.onHand,
      locations: a.locations.map((l) => ({ location: l.location, onHand: l.onHand })),
      held: a.held,
      safetyStock: a.safetyStock,
      available: a.available,
      units
    })
    if (units < base) {
      base = units
      limitingItem = c.item
    }
    if (rules.lastUnits !== undefined) {
      const poolWide = policy.locations === undefined ? a.available : available(c.item, stock).available
      if (poolWide < lowestPoolAvailable) {
        lowestPoolAvailable = poolWide
        lowestItem = c.item
      }
    }
  }
  if (!Number.isFinite(base)) base = 0

  const steps: Array<Step> = []
  let q = base
  let lastUnits: LastUnitsTerm | undefined
  const rule = rules.lastUnits
  if (rule !== undefined && Number.isFinite(lowestPoolAvailable)) {
    const triggered = lowestPoolAvailable <= rule.threshold
    const outcome = !triggered ? "inactive" : rule.channel === listing.connection ? "priority" : "withheld"
    lastUnits = {
      threshold: rule.threshold,
      channel: rule.channel,
      outcome,
      item: lowestItem,
      available: lowestPoolAvailable
    }
    if (outcome === "withheld") {
      q = 0
      steps.push({ term: "lastUnits", value: rule.threshold, result: q })
    }
  }
  const allocation = policy.allocation
  if (allocation._tag === "share") {
    q = Math.floor((q * basisPoints(allocation.percent)) / 10000)
    steps.push({ term: "share", value: allocation.percent, result: q })
  } else {
    q = Math.min(q, allocation.quantity)
    steps.push({ term: "fixed", value: allocation.quantity, result: q })
  }
  q = nonNegative(q - policy.safetyBuffer)
  steps.push({ term: "safetyBuffer", value: policy.safetyBuffer, result: q })
  if (q <= policy.floor) q = 0
  steps.push({ term: "floor", value: policy.floor, result: q })
  if (policy.cap !== undefined) {
    q = Math.min(q, policy.cap)
    steps.push({ term: "cap", value: policy.cap, result: q })
  }
  return {
    connection: listing.connection,
    externalSku: listing.externalSku,
    published: q,
    components,
    base,
    limitingItem,
    policy: source,
    ...(policy.locations !== undefined ? { locations: policy.locations } : {}),
    ...(lastUnits !== undefined ? { lastUnits } : {}),
    steps
  }
}

/**
 * Published quantities for many listings at once, in the order given.
 *
 * @category constructors
 * @since 0.1.0
 */
export const publishAll = (
  listings: ReadonlyArray<ListingShape>,
  stockOf: (item: string) => ItemStock | undefined,
  rules: PoolRules
): ReadonlyArray<Explanation> => listings.map((l) => publish(l, stockOf, rules))

/**
 * One order line resolved to the items it consumes.
 *
 * @category models
 * @since 0.1.0
 */
export interface ResolvedLine {
  readonly qty: number
  readonly components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
}

/**
 * The summed demand per item of a set of resolved lines — two lines and a bundle sharing an item
 * count against that item once, in total (the Medusa #16502 oversell). Sorted by item, which is also
 * the order rows are locked in.
 *
 * @category constructors
 * @since 0.1.0
 */
export const demand = (
  lines: ReadonlyArray<ResolvedLine>
): ReadonlyArray<{ readonly item: string; readonly qty: number }> => {
  const totals = new Map<string, number>()
  for (const line of lines) {
    for (const c of line.components) totals.set(c.item, (totals.get(c.item) ?? 0) + c.qty * line.qty)
  }
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([item, qty]) => ({ item, qty }))
}

const termText = (s: Step): string => {
  switch (s.term) {
    case "lastUnits":
      return `last units for another channel (threshold ${s.value}) → ${s.result}`
    case "share":
      return `share ${s.value}% → ${s.result}`
    case "fixed":
      return `fixed allocation ${s.value} → ${s.result}`
    case "safetyBuffer":
      return `safety buffer ${s.value} → ${s.result}`
    case "floor":
      return `floor ${s.value} → ${s.result}`
    case "cap":
      return `cap ${s.value} → ${s.result}`
  }
}

/**
 * A one-line account of an explanation, e.g.
 * `tiktok-uk/MUG = 7: MUG×1 available 10 (on hand 12 [WH1 12] − held 1 − safety 1) → 10; base 10; share 80% → 8; safety buffer 1 → 7; floor 0 → 7`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const describe = (e: Explanation): string => {
  const parts = e.components.map((c) => {
    const where = c.locations.map((l) => `${l.location} ${l.onHand}`).join(", ")
    return `${c.item}×${c.qty} available ${c.available} (on hand ${c.onHand} [${where}] − held ${c.held} − safety ${c.safetyStock}) → ${c.units}`
  })
  return `${e.connection}/${e.externalSku} = ${e.published}: ${[...parts, `base ${e.base}`, ...e.steps.map(termText)].join("; ")}`
}
