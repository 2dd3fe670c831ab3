/**
 * Propagation: how long an order placed on one channel takes to reach every OTHER channel — the time
 * from the order to the moment each other channel holds a quantity that accounts for it — computed
 * from what the sandboxes recorded (`ChannelTimeline`) and an availability model of our own: the
 * ERP's starting stock minus every unit the channels accepted, in the order they accepted them.
 *
 * For order k the expected quantity of a listing is the pool's arithmetic (`Pool.publish`, with the
 * configured channel policies) over that model after orders 1…k. Availability only falls while
 * shoppers buy, and the published quantity never rises when availability falls, so "holds the new
 * quantity" is "shows at most the expected quantity": a channel that already shows less (its own
 * shoppers bought in the meantime) holds it with no delay. An order whose other channels never get
 * there is unreached.
 *
 * @since 0.1.0
 */
import { Pool } from "@tkbridge/core"
import type { Change, Channel } from "./ChannelTimeline.ts"
import { key } from "./ChannelTimeline.ts"
import type { DemoListing } from "./DemoWorld.ts"

/** An order a channel accepted: when, where, and the item units it takes. */
export interface AcceptedOrder {
  readonly at: number
  readonly channel: Channel
  readonly orderId: string
  readonly units: ReadonlyMap<string, number>
}

/** Delays per order (ms), in order, and the orders some channel never caught up with. */
export interface Result {
  readonly delays: ReadonlyArray<number>
  readonly unreached: ReadonlyArray<string>
}

/** The item units an order's lines take. */
export const unitsOf = (
  lines: ReadonlyArray<{ readonly sku: string; readonly qty: number }>,
  listings: ReadonlyArray<DemoListing>
): Map<string, number> => {
  const units = new Map<string, number>()
  for (const line of lines) {
    const listing = listings.find((l) => l.sku === line.sku)
    for (const c of listing?.components ?? []) units.set(c.item, (units.get(c.item) ?? 0) + c.qty * line.qty)
  }
  return units
}

/** The first index whose change is at or after `at`. */
const firstAtOrAfter = (changes: ReadonlyArray<Change>, at: number): number => {
  let lo = 0
  let hi = changes.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (changes[mid]!.at < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Computes the delay of every order to every other channel. */
export const measure = (input: {
  readonly orders: ReadonlyArray<AcceptedOrder>
  readonly initial: ReadonlyMap<string, number>
  readonly listings: ReadonlyMap<Channel, ReadonlyArray<DemoListing>>
  readonly rules: Pool.PoolRules
  readonly timeline: ReadonlyMap<string, ReadonlyArray<Change>>
}): Result => {
  const available = new Map(input.initial)
  const delays: Array<number> = []
  const unreached: Array<string> = []
  const ordered = [...input.orders].sort((a, b) => a.at - b.at)
  for (const order of ordered) {
    for (const [item, qty] of order.units) available.set(item, (available.get(item) ?? 0) - qty)
    const stockOf = (item: string): Pool.ItemStock => ({
      item,
      safetyStock: 0,
      held: 0,
      locations: [{ location: "pool", onHand: Math.max(0, available.get(item) ?? 0) }]
    })
    let worst = 0
    let reached = true
    for (const [channel, listings] of input.listings) {
      if (channel === order.channel) continue
      for (const listing of listings) {
        if (!listing.components.some((c) => order.units.has(c.item))) continue
        const expected = Pool.publish(
          { connection: channel, externalSku: listing.sku, components: listing.components },
          stockOf,
          input.rules
        ).published
        const changes = input.timeline.get(key(channel, listing.sku)) ?? []
        const from = firstAtOrAfter(changes, order.at)
        const before = from > 0 ? changes[from - 1]!.quantity : 0
        if (from > 0 && before <= expected) continue
        let found: number | undefined
        for (let i = from; i < changes.length; i++) {
          if (changes[i]!.quantity <= expected) {
            found = changes[i]!.at
            break
          }
        }
        if (found === undefined) reached = false
        else worst = Math.max(worst, found - order.at)
      }
    }
    if (reached) delays.push(worst)
    else unreached.push(order.orderId)
  }
  return { delays, unreached }
}

/** The p-th percentile (0–100) of samples, nearest rank; undefined without samples. */
export const percentile = (samples: ReadonlyArray<number>, p: number): number | undefined => {
  if (samples.length === 0) return undefined
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1]
}
