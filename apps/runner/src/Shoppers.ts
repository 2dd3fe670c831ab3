/**
 * Shoppers: simulated buyers for `tkbridge demo` and `bench:e2e`. They buy on the TikTok Shop and
 * Shopify sandboxes — single SKUs, bundles and multipacks, one or two units, now and then two lines —
 * at a steady rate, and at a chosen moment several of them race for the last units of one item on
 * both channels at once. A shopper only sees what the channel shows: a channel that shows too little
 * refuses the order (the sandbox enforces it), which the simulation counts as "sold out".
 *
 * Every buyer has their own name, phone and address (4PX refuses a phone shared by too many
 * consignees), drawn from a seeded random source, so a run with the same `seed` places the same
 * orders.
 *
 * @since 0.1.0
 */
import { SandboxServer } from "@tkbridge/connector-testkit"
import type { ChannelTimeline } from "./ChannelTimeline.ts"
import { shown } from "./ChannelTimeline.ts"
import type { DemoListing, Platforms } from "./DemoWorld.ts"
import { names } from "./DemoWorld.ts"
import type { AcceptedOrder } from "./Propagation.ts"
import { unitsOf } from "./Propagation.ts"

const givenNames = [
  "Olivia",
  "Amelia",
  "Isla",
  "Ava",
  "Grace",
  "Jack",
  "Oliver",
  "Harry",
  "George",
  "Noah",
  "Freya",
  "Theo"
]
const familyNames = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"]
const cities = [
  { city: "London", state: "England", postalCode: "EC1A 1BB" },
  { city: "Manchester", state: "England", postalCode: "M1 1AE" },
  { city: "Leeds", state: "England", postalCode: "LS1 4AP" },
  { city: "Bristol", state: "England", postalCode: "BS1 4ST" },
  { city: "Edinburgh", state: "Scotland", postalCode: "EH1 1YZ" },
  { city: "Cardiff", state: "Wales", postalCode: "CF10 1EP" }
]
const streets = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane"]

/** What the simulated buyers are made of (names, cities, streets), so a test can look for them in logs. */
export const buyerParts = { givenNames, familyNames, cities, streets } as const

/** What the shoppers did. */
export interface ShoppingStats {
  readonly attempts: number
  readonly accepted: ReadonlyArray<AcceptedOrder>
  /** Orders a channel refused because it showed too little. */
  readonly soldOut: number
  readonly byChannel: Readonly<Record<string, number>>
  /** The race for the last units, once it happened. */
  readonly race?:
    | {
        readonly item: string
        readonly attempts: number
        readonly accepted: Readonly<Record<string, number>>
        readonly refused: number
      }
    | undefined
}

/** How the shoppers behave. */
export interface ShopperOptions {
  readonly seed: number
  /** Orders attempted per second across both channels. */
  readonly rate: number
  /** Place bundles, multipacks and two-line orders (default true); off for plain single-SKU orders. */
  readonly mixed?: boolean | undefined
  /** Stop once this many orders were accepted (default: only the duration ends the run). */
  readonly maxOrders?: number | undefined
  /** The item whose last units shoppers race for, and when (0–1 of the run); none when absent. */
  readonly race?: { readonly item: string; readonly at: number; readonly shoppers: number } | undefined
}

/** Simulated shoppers over the platforms. */
export class Shoppers {
  private readonly platforms: Platforms
  private readonly timeline: ChannelTimeline
  private readonly options: ShopperOptions
  private readonly next: () => number
  private buyer = 0
  private attempts = 0
  private soldOut = 0
  private readonly accepted: Array<AcceptedOrder> = []
  private readonly byChannel: Record<string, number> = { [names.tiktok]: 0, [names.shopify]: 0 }
  private raceResult: ShoppingStats["race"]
  private raced = false

  constructor(platforms: Platforms, timeline: ChannelTimeline, options: ShopperOptions) {
    this.platforms = platforms
    this.timeline = timeline
    this.options = options
    this.next = SandboxServer.seededRandom(options.seed)
  }

  private pick<A>(xs: ReadonlyArray<A>): A {
    return xs[Math.floor(this.next() * xs.length)]!
  }

  private person() {
    this.buyer += 1
    const given = this.pick(givenNames)
    const family = this.pick(familyNames)
    const place = this.pick(cities)
    const phone = `7700${String(100000 + this.buyer).slice(-6)}`
    const street = `${1 + Math.floor(this.next() * 180)} ${this.pick(streets)}`
    return { given, family, place, phone, street }
  }

  /** Places one order on a channel; undefined when the channel refused it. */
  private place(
    channel: typeof names.tiktok | typeof names.shopify,
    lines: ReadonlyArray<{ sku: string; qty: number }>
  ) {
    this.attempts += 1
    const listings = channel === names.tiktok ? this.platforms.catalogue.tiktok : this.platforms.catalogue.shopify
    // A shopper only buys what the page shows.
    if (lines.some((l) => shown(this.platforms, channel, l.sku) < l.qty)) {
      this.soldOut += 1
      return undefined
    }
    const p = this.person()
    try {
      const at = Date.now()
      const orderId = this.timeline.placeOrder(
        channel,
        lines.map((l) => l.sku),
        () =>
          channel === names.tiktok
            ? this.platforms.tiktok.placeOrder({
                lines: lines.map((l) => ({ sku: l.sku, qty: l.qty })),
                recipient: {
                  name: `${p.given} ${p.family}`,
                  phone: `(+44)${p.phone}`,
                  addressLine1: p.street,
                  city: p.place.city,
                  state: p.place.state,
                  postalCode: p.place.postalCode,
                  regionCode: "GB"
                }
              })
            : this.platforms.shopify.placeOrder({
                lines: lines.map((l) => ({ sku: l.sku, quantity: l.qty })),
                financialStatus: "PAID",
                shippingAddress: {
                  firstName: p.given,
                  lastName: p.family,
                  phone: `+44${p.phone}`,
                  address1: p.street,
                  city: p.place.city,
                  provinceCode: p.place.state,
                  zip: p.place.postalCode,
                  countryCode: "GB"
                }
              })
      )
      const order: AcceptedOrder = { at, channel, orderId, units: unitsOf(lines, listings) }
      this.accepted.push(order)
      this.byChannel[channel] = (this.byChannel[channel] ?? 0) + 1
      return order
    } catch {
      // The channel refused it (it showed too little for every line at once).
      this.soldOut += 1
      return undefined
    }
  }

  private lines(listings: ReadonlyArray<DemoListing>): Array<{ sku: string; qty: number }> {
    const mixed = this.options.mixed ?? true
    const pool = mixed ? listings : listings.filter((l) => l.components.length === 1 && l.components[0]!.qty === 1)
    const raceItem = this.options.race?.item
    const choices = pool.filter((l) => !l.components.some((c) => c.item === raceItem))
    const first = this.pick(choices)
    const qty = mixed && this.next() < 0.25 ? 2 : 1
    const out = [{ sku: first.sku, qty }]
    if (mixed && this.next() < 0.15) {
      const second = this.pick(choices)
      if (second.sku !== first.sku) out.push({ sku: second.sku, qty: 1 })
    }
    return out
  }

  /** One shopper buys something on a channel picked at random. */
  shop(): AcceptedOrder | undefined {
    const channel = this.next() < 0.5 ? names.tiktok : names.shopify
    const listings = channel === names.tiktok ? this.platforms.catalogue.tiktok : this.platforms.catalogue.shopify
    return this.place(channel, this.lines(listings))
  }

  /** Several shoppers on both channels try to buy the race item at the same instant. */
  race(): void {
    const race = this.options.race
    if (race === undefined || this.raced) return
    this.raced = true
    const accepted: Record<string, number> = { [names.tiktok]: 0, [names.shopify]: 0 }
    let refused = 0
    for (let i = 0; i < race.shoppers; i++) {
      const channel = i % 2 === 0 ? names.tiktok : names.shopify
      const listings = channel === names.tiktok ? this.platforms.catalogue.tiktok : this.platforms.catalogue.shopify
      const listing = listings.find((l) => l.components.length === 1 && l.components[0]!.item === race.item)
      if (listing === undefined) continue
      const order = this.place(channel, [{ sku: listing.sku, qty: 1 }])
      if (order === undefined) refused += 1
      else accepted[channel] = (accepted[channel] ?? 0) + 1
    }
    this.raceResult = { item: race.item, attempts: race.shoppers, accepted, refused }
  }

  /**
   * Shops at the configured rate for `durationMs` (the race at its moment), calling `tick` about
   * once a second. Resolves when the time is up.
   */
  async run(durationMs: number, tick?: (elapsedMs: number) => void, signal?: AbortSignal): Promise<void> {
    const started = Date.now()
    const gap = 1000 / Math.max(0.1, this.options.rate)
    let due = started
    let lastTick = started
    while (signal?.aborted !== true) {
      const now = Date.now()
      const elapsed = now - started
      if (elapsed >= durationMs || this.accepted.length >= (this.options.maxOrders ?? Number.POSITIVE_INFINITY)) break
      if (this.options.race !== undefined && elapsed >= this.options.race.at * durationMs) this.race()
      while (due <= now && this.accepted.length < (this.options.maxOrders ?? Number.POSITIVE_INFINITY)) {
        this.shop()
        // Exponential gaps: shoppers arrive independently, in bursts and lulls.
        due += -Math.log(1 - this.next()) * gap
      }
      if (tick !== undefined && now - lastTick >= 1000) {
        lastTick = now
        tick(elapsed)
      }
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, due - Date.now()))))
    }
    if (this.options.race !== undefined) this.race()
  }

  /** What happened so far. */
  stats(): ShoppingStats {
    return {
      attempts: this.attempts,
      accepted: [...this.accepted],
      soldOut: this.soldOut,
      byChannel: { ...this.byChannel },
      ...(this.raceResult !== undefined ? { race: this.raceResult } : {})
    }
  }
}
