/**
 * DemoSummary: how a demo (or end-to-end) run went, computed from what the sandboxes hold — the
 * orders the channels took, the parcels 4PX booked, the tracking numbers the channels show — and
 * from the pool only for what only the pool knows (was an order reserved, what waits in the
 * dead-letter queue). Oversells are counted against the ERP's stock: units the channels sold beyond
 * what existed, whatever the runner believes.
 *
 * @since 0.1.0
 */
import type { Pool, StoreError } from "@tkbridge/core"
import { DeadLetter, Ledger } from "@tkbridge/core"
import { Effect } from "effect"
import type { Channel, ChannelTimeline } from "./ChannelTimeline.ts"
import type { DemoListing, Platforms } from "./DemoWorld.ts"
import { names } from "./DemoWorld.ts"
import type { OutputShape } from "./Output.ts"
import { paint, table } from "./Output.ts"
import * as Propagation from "./Propagation.ts"
import type { ShoppingStats } from "./Shoppers.ts"

/** An order a channel holds. */
export interface ChannelOrder {
  readonly channel: Channel
  readonly orderId: string
  readonly cancelled: boolean
  /** Channel SKU → units. */
  readonly lines: ReadonlyArray<{ readonly sku: string; readonly qty: number }>
  /** Tracking numbers written back to the channel. */
  readonly tracking: ReadonlyArray<string>
}

/** Every order the two channels hold, as they hold them. */
export const channelOrders = (platforms: Platforms): ReadonlyArray<ChannelOrder> => {
  const out: Array<ChannelOrder> = []
  for (const order of platforms.tiktok.world.orders.values()) {
    const bySku = new Map<string, number>()
    for (const line of order.lineItems) bySku.set(line.sellerSku, (bySku.get(line.sellerSku) ?? 0) + 1)
    out.push({
      channel: names.tiktok,
      orderId: order.id,
      cancelled: order.status === "CANCELLED",
      lines: [...bySku].map(([sku, qty]) => ({ sku, qty })),
      tracking: platforms.tiktok.shipments(order.id).map((s) => s.trackingNumber)
    })
  }
  for (const order of platforms.shopify.state.orders.values()) {
    const view = platforms.shopify.order(order.id)
    out.push({
      channel: names.shopify,
      orderId: order.id,
      cancelled: view.cancelled,
      lines: view.lines.filter((l) => l.sku !== null).map((l) => ({ sku: l.sku!, qty: l.current })),
      tracking: platforms.shopify
        .fulfillments(order.id)
        .flatMap((f) => f.tracking.flatMap((t) => (t.number === null ? [] : [t.number])))
    })
  }
  return out
}

/** Units each item lost to orders the channels did not cancel. */
export const soldUnits = (platforms: Platforms, orders: ReadonlyArray<ChannelOrder>): Map<string, number> => {
  const listings = (c: Channel): ReadonlyArray<DemoListing> =>
    c === names.tiktok ? platforms.catalogue.tiktok : platforms.catalogue.shopify
  const sold = new Map<string, number>()
  for (const o of orders) {
    if (o.cancelled) continue
    for (const [item, qty] of Propagation.unitsOf(o.lines, listings(o.channel)))
      sold.set(item, (sold.get(item) ?? 0) + qty)
  }
  return sold
}

/** The summary. */
export interface Summary {
  readonly orders: { readonly total: number; readonly byChannel: Readonly<Record<string, number>> }
  /** Orders the pool holds reservations for. */
  readonly reserved: number
  /** Orders whose channel shows a tracking number written back. */
  readonly shippedWithTracking: number
  /** Parcels 4PX booked. */
  readonly parcels: number
  /** Units sold beyond the ERP's stock, per item (must be empty). */
  readonly oversold: number
  readonly oversoldItems: ReadonlyArray<{ readonly item: string; readonly stock: number; readonly sold: number }>
  /** Orders the channels took that never reached the pool. */
  readonly lost: ReadonlyArray<string>
  readonly deadLetters: number
  readonly soldOut: number
  readonly race?: ShoppingStats["race"]
  readonly propagation: {
    readonly samples: number
    readonly p50Ms?: number | undefined
    readonly p95Ms?: number | undefined
    readonly p99Ms?: number | undefined
    readonly unreached: number
  }
  readonly apiCalls: ReadonlyArray<{
    readonly connection: string
    readonly calls: number
    readonly quota?: number | undefined
    readonly note?: string | undefined
  }>
}

/** Computes the summary. Needs the pool's ledger and dead-letter queue (read-only). */
export const compute = (input: {
  readonly platforms: Platforms
  readonly timeline: ChannelTimeline
  readonly shopping: ShoppingStats
  readonly rules: Pool.PoolRules
  readonly quotas: Readonly<Record<string, number | undefined>>
}): Effect.Effect<Summary, Ledger.LedgerUnavailable | StoreError.StoreError, Ledger.Ledger | DeadLetter.DeadLetters> =>
  Effect.gen(function* () {
    const { platforms, timeline, shopping } = input
    const ledger = yield* Ledger.Ledger
    const letters = yield* DeadLetter.DeadLetters
    const orders = channelOrders(platforms)
    const reservations = yield* Effect.forEach(orders, (o) => ledger.reservations(o.channel, o.orderId), {
      concurrency: 8
    })
    const reserved = reservations.filter((r) => r.length > 0).length
    const lost = orders.filter((_, i) => reservations[i]!.length === 0).map((o) => `${o.channel}/${o.orderId}`)
    const sold = soldUnits(platforms, orders)
    const oversoldItems = platforms.catalogue.items
      .map((i) => ({ item: i.sku, stock: i.stock, sold: sold.get(i.sku) ?? 0 }))
      .filter((i) => i.sold > i.stock)
    const measured = Propagation.measure({
      orders: shopping.accepted,
      initial: new Map(platforms.catalogue.items.map((i) => [i.sku, i.stock])),
      listings: new Map<Channel, ReadonlyArray<DemoListing>>([
        [names.tiktok, platforms.catalogue.tiktok],
        [names.shopify, platforms.catalogue.shopify]
      ]),
      rules: input.rules,
      timeline: timeline.snapshot()
    })
    const calls = timeline.apiCalls()
    const bucket = platforms.shopify.bucketStatus()
    return {
      orders: {
        total: orders.length,
        byChannel: {
          [names.tiktok]: orders.filter((o) => o.channel === names.tiktok).length,
          [names.shopify]: orders.filter((o) => o.channel === names.shopify).length
        }
      },
      reserved,
      shippedWithTracking: orders.filter((o) => o.tracking.length > 0).length,
      parcels: platforms.fourpx.parcels().length,
      oversold: oversoldItems.reduce((n, i) => n + i.sold - i.stock, 0),
      oversoldItems,
      lost,
      deadLetters: yield* letters.count({ status: "open" }),
      soldOut: shopping.soldOut,
      race: shopping.race,
      propagation: {
        samples: measured.delays.length,
        p50Ms: Propagation.percentile(measured.delays, 50),
        p95Ms: Propagation.percentile(measured.delays, 95),
        p99Ms: Propagation.percentile(measured.delays, 99),
        unreached: measured.unreached.length
      },
      apiCalls: [
        { connection: names.tiktok, calls: calls[names.tiktok], quota: input.quotas[names.tiktok] },
        {
          connection: names.shopify,
          calls: calls[names.shopify],
          quota: input.quotas[names.shopify],
          note: `cost bucket ${Math.floor(bucket.currentlyAvailable)}/${bucket.maximumAvailable} points left, restoring ${bucket.restoreRate}/s`
        },
        {
          connection: names.fourpx,
          calls: platforms.fourpx.server.requests.length,
          quota: input.quotas[names.fourpx]
        }
      ]
    } satisfies Summary
  })

const ms = (n: number | undefined) =>
  n === undefined ? "-" : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`

/** The summary for people. */
export const render = (out: OutputShape, s: Summary): string => {
  const good = (ok: boolean, text: string) => paint(out, ok ? "green" : "red", text)
  const lines = [
    "",
    paint(out, "bold", "Summary"),
    `  orders in                    ${s.orders.total} (${Object.entries(s.orders.byChannel)
      .map(([c, n]) => `${c} ${n}`)
      .join(", ")})`,
    `  reserved in the pool         ${s.reserved}${s.lost.length > 0 ? paint(out, "red", ` — ${s.lost.length} never reached the pool`) : ""}`,
    `  shipped, tracking written    ${s.shippedWithTracking} (${s.parcels} parcels booked at 4PX)`,
    `  oversells                    ${good(s.oversold === 0, String(s.oversold))}${
      s.oversoldItems.length > 0
        ? ` (${s.oversoldItems.map((i) => `${i.item}: ${i.sold} sold of ${i.stock}`).join(", ")})`
        : " (units sold on both channels never exceeded the ERP's stock)"
    }`,
    `  sold out (shopper refused)   ${s.soldOut}`,
    ...(s.race !== undefined
      ? [
          `  race for ${s.race.item.padEnd(19)} ${s.race.attempts} shoppers at once: ${Object.entries(s.race.accepted)
            .map(([c, n]) => `${c} ${n}`)
            .join(", ")}, ${s.race.refused} refused`
        ]
      : []),
    `  dead letters                 ${good(s.deadLetters === 0, String(s.deadLetters))}`,
    `  stock propagation            p50 ${ms(s.propagation.p50Ms)}, p95 ${ms(s.propagation.p95Ms)} over ${s.propagation.samples} orders${
      s.propagation.unreached > 0
        ? paint(out, "red", ` (${s.propagation.unreached} never reached the other channel)`)
        : ""
    }`,
    "",
    table(
      out,
      [
        { header: "  API CALLS" },
        { header: "CALLS", align: "right" },
        { header: "DAILY QUOTA", align: "right" },
        { header: "" }
      ],
      s.apiCalls.map((a) => [
        `  ${a.connection}`,
        String(a.calls),
        a.quota === undefined ? "-" : `${a.quota} (${((a.calls / a.quota) * 100).toFixed(2)}%)`,
        paint(out, "dim", a.note ?? "")
      ])
    )
  ]
  return `${lines.join("\n")}`
}
