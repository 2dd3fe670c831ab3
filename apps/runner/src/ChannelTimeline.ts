/**
 * ChannelTimeline: what each sandbox channel showed buyers, and when — recorded from the sandboxes
 * themselves, never from the runner's own counters. It is how the demo and `bench:e2e` measure stock
 * propagation ("how long until every other channel holds the new quantity").
 *
 * - **TikTok Shop**: every Update Inventory call the sandbox answered 200 (its recorded requests:
 *   arrival time and body), the quantity being the sum over the SKU's warehouses;
 * - **Shopify**: every `inventory_levels/update` the shop's state announced outside our own order
 *   placement (those are API writes), with the level's `available`;
 * - **orders**: a shopper's order lowers the channel's own quantity at once; `recordOrder` reads the
 *   sandbox right after placing it.
 *
 * @since 0.1.0
 */
import type { DemoListing, Platforms } from "./DemoWorld.ts"
import { names } from "./DemoWorld.ts"

/** One change of a channel SKU's shown quantity. */
export interface Change {
  readonly at: number
  readonly quantity: number
  readonly cause: "write" | "order"
}

/** The channels the timeline follows. */
export type Channel = typeof names.tiktok | typeof names.shopify

/** What a channel shows for a SKU right now. */
export const shown = (platforms: Platforms, channel: Channel, sku: string): number =>
  channel === names.tiktok ? (platforms.tiktok.stock(sku) ?? 0) : (platforms.shopify.available(sku) ?? 0)

/** The recorder. Start it before the runner publishes anything; `stop` detaches it. */
export class ChannelTimeline {
  private readonly platforms: Platforms
  private readonly changes = new Map<string, Array<Change>>()
  private readonly calls: Record<Channel, number> = { [names.tiktok]: 0, [names.shopify]: 0 }
  private readonly seen = new WeakSet<object>()
  private placing = false
  private readonly detach: () => void
  private readonly timer: ReturnType<typeof setInterval>

  constructor(platforms: Platforms) {
    this.platforms = platforms
    const state = platforms.shopify.state
    this.detach = state.onEvent((topic, payload) => {
      if (topic !== "inventory_levels/update" || this.placing) return
      const itemId = String(payload["inventory_item_id"])
      const variant = state.variants.get(state.items.get(itemId) ?? "")
      if (variant?.sku === undefined || variant.sku === null) return
      this.add(names.shopify, variant.sku, {
        at: platforms.shopify.clock.now(),
        quantity: Number(payload["available"]),
        cause: "write"
      })
    })
    // The sandboxes keep their last 10,000 requests; read them as they come so none is missed.
    this.timer = setInterval(() => this.harvest(), 200)
    this.timer.unref()
  }

  private add(channel: Channel, sku: string, change: Change): void {
    const k = key(channel, sku)
    const list = this.changes.get(k) ?? []
    list.push(change)
    this.changes.set(k, list)
  }

  /** Runs a shopper's order placement, recording the channel's own change for the SKUs it touched. */
  placeOrder<A>(channel: Channel, skus: ReadonlyArray<string>, place: () => A): A {
    this.placing = true
    try {
      const result = place()
      const at = channel === names.tiktok ? this.platforms.tiktok.clock.now() : this.platforms.shopify.clock.now()
      for (const sku of new Set(skus)) {
        this.add(channel, sku, { at, quantity: shown(this.platforms, channel, sku), cause: "order" })
      }
      return result
    } finally {
      this.placing = false
    }
  }

  /** Reads the requests the sandboxes answered since the last look: API calls, and TikTok's inventory writes. */
  harvest(): void {
    const world = this.platforms.tiktok.world
    for (const request of this.platforms.tiktok.api.requests) {
      if (request.status === undefined || this.seen.has(request)) continue
      this.seen.add(request)
      this.calls[names.tiktok] += 1
      if (request.route !== "inventory.update" || request.status !== 200) continue
      let body: unknown
      try {
        body = JSON.parse(request.text)
      } catch {
        continue
      }
      const skus = (
        body as { skus?: ReadonlyArray<{ id?: unknown; inventory?: ReadonlyArray<{ quantity?: unknown }> }> }
      ).skus
      for (const s of skus ?? []) {
        const sku = typeof s.id === "string" ? world.skus.get(s.id) : undefined
        if (sku === undefined) continue
        const quantity = (s.inventory ?? []).reduce((n, c) => n + Number(c.quantity ?? 0), 0)
        this.add(names.tiktok, sku.sellerSku, { at: request.at, quantity, cause: "write" })
      }
    }
    for (const request of this.platforms.shopify.server.requests) {
      if (request.status === undefined || this.seen.has(request)) continue
      this.seen.add(request)
      if (request.path.includes("/admin/")) this.calls[names.shopify] += 1
    }
  }

  /** Every change of every channel SKU (`key(channel, sku)`), oldest first. */
  snapshot(): ReadonlyMap<string, ReadonlyArray<Change>> {
    this.harvest()
    const out = new Map<string, ReadonlyArray<Change>>()
    for (const [k, list] of this.changes)
      out.set(
        k,
        [...list].sort((a, b) => a.at - b.at)
      )
    return out
  }

  /** API calls each channel answered (OAuth and webhooks not counted). */
  apiCalls(): Readonly<Record<Channel, number>> {
    this.harvest()
    return { ...this.calls }
  }

  /** Stops listening. */
  stop(): void {
    this.harvest()
    clearInterval(this.timer)
    this.detach()
  }
}

/** The key `snapshot` files a channel SKU under. */
export const key = (channel: Channel, sku: string): string => `${channel}\u0000${sku}`

/** A listing of a channel, with the channel. */
export interface ChannelListing extends DemoListing {
  readonly channel: Channel
}
