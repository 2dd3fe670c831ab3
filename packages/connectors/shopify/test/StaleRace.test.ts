/**
 * Scenario: the shop's stock changes underneath a push (a sale in the shop whose order the pool has
 * not seen yet, a manual edit, a restock). The push's compare-and-set comes back stale, the engine
 * re-reads and decides with `decideAfterStale`, and — whatever the race — the shop never shows
 * more than the pool can actually sell.
 */
import { describe, expect, it } from "@effect/vitest"
import { SandboxServer } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { ChannelPolicy, Pool } from "@tkbridge/core"
import { Effect } from "effect"
import { ShopifyStock } from "../src/index.ts"
import { connect } from "./support.ts"

/** The pool for one item sold on two channels (Shopify and TikTok), from its own view. */
interface PoolView {
  onHand: number
  /** Units held by orders the pool has seen (TikTok and Shopify orders that arrived). */
  held: number
  /** Units the shop gave away that the pool has not seen orders for (held by the engine, see decideAfterStale). */
  unseen: number
}

const connection = "shopify-test"
const rules = new Pool.PoolRules({ policies: [new ChannelPolicy.ChannelPolicy({ connection })] })

/**
 * What the pool publishes to Shopify for a listing of one item, by core's pool arithmetic. The
 * engine holds the units a stale write revealed as sold (`unseen`) like reservations until their
 * orders arrive.
 */
const publishFor = (externalSku: string) => (pool: PoolView) =>
  Pool.publish(
    { connection, externalSku, components: [{ item: `item-${externalSku}`, qty: 1 }] },
    (item) =>
      item === `item-${externalSku}`
        ? {
            item,
            safetyStock: 0,
            held: pool.held + pool.unseen,
            locations: [{ location: "erp-main", onHand: pool.onHand }]
          }
        : undefined,
    rules
  ).published

let serial = 0

describe("stale compare-and-set race", () => {
  it.scopedLive("a sale in the shop during a push: the retry publishes what is really left", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const [created] = sandbox.seedSkus([{ sku: "RACE", quantity: 0 }])
      const listing = { externalSku: "RACE", externalIds: { inventoryItemId: created!.variants[0]!.inventoryItemId } }
      const push = (quantity: number, expected: number | undefined) =>
        services["stock.push"].push([{ ...listing, quantity, expected, idempotencyKey: `race-${++serial}` }])
      const pool: PoolView = { onHand: 10, held: 0, unseen: 0 }
      const publish = publishFor("RACE")

      expect((yield* push(publish(pool), undefined))[0]?._tag).toBe("Applied")
      let lastPushed = 10
      // A shopper buys 3 in the shop; the order's webhook has not reached the pool yet.
      const shopOrder = sandbox.placeOrder({ lines: [{ sku: "RACE", quantity: 3 }] })
      // Meanwhile a TikTok order for 1 reaches the pool: it now allows 9.
      pool.held += 1
      const [stale] = yield* push(publish(pool), lastPushed)
      expect(stale).toMatchObject({ _tag: "Stale", actual: 7 })
      expect(sandbox.available("RACE")).toBe(7)
      if (stale?._tag !== "Stale") return
      const decision = ShopifyStock.decideAfterStale({ published: publish(pool), lastPushed, actual: stale.actual })
      expect(decision).toEqual({ quantity: 6, expected: 7, unseen: 3, write: true })
      pool.unseen += decision.unseen
      expect((yield* push(decision.quantity, decision.expected))[0]?._tag).toBe("Applied")
      lastPushed = decision.quantity
      // 10 on hand − 1 TikTok − 3 sold in the shop = 6: exactly what the shop shows.
      expect(sandbox.available("RACE")).toBe(6)

      // The shop's order arrives: the unseen units become a reservation; nothing to write.
      const order = yield* services["orders.pull"].get(shopOrder)
      const qty = order.lines.reduce((n, l) => n + l.qty, 0)
      pool.held += qty
      pool.unseen -= qty
      expect(publish(pool)).toBe(6)
      expect((yield* push(publish(pool), lastPushed))[0]?._tag).toBe("Applied")

      // The merchant adds 20 in the Shopify admin: the pool is the source of truth, not the shop.
      sandbox.setStock("RACE", 26)
      const [up] = yield* push(publish(pool), lastPushed)
      expect(up).toMatchObject({ _tag: "Stale", actual: 26 })
      if (up?._tag !== "Stale") return
      const down = ShopifyStock.decideAfterStale({ published: publish(pool), lastPushed, actual: up.actual })
      expect(down).toMatchObject({ quantity: 6, expected: 26, unseen: 0 })
      yield* push(down.quantity, down.expected)
      expect(sandbox.available("RACE")).toBe(6)
    })
  )

  it.scopedLive(
    "random races never leave the shop showing more than the pool can sell",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect({ sandbox: { plan: "plus" } })
        const [created] = sandbox.seedSkus([{ sku: "FUZZ", quantity: 0 }])
        const listing = { externalSku: "FUZZ", externalIds: { inventoryItemId: created!.variants[0]!.inventoryItemId } }
        const random = SandboxServer.seededRandom(20261126)
        const pick = (n: number) => Math.floor(random() * n)
        const pool: PoolView = { onHand: 40, held: 0, unseen: 0 }
        const publish = publishFor("FUZZ")
        /** Units sold in the shop whose orders have not reached the pool. */
        const inFlight: Array<{ readonly orderId: string; readonly qty: number }> = []
        let soldInShop = 0
        let soldOnTikTok = 0
        let lastPushed: number | undefined
        let stales = 0

        /** The engine: push what the pool publishes; on Stale, decide and write again. */
        const sync = Effect.gen(function* () {
          let quantity = publish(pool)
          let expected = lastPushed
          for (let round = 0; round < 5; round++) {
            const update: Connector.StockUpdate = { ...listing, quantity, expected, idempotencyKey: `fuzz-${++serial}` }
            const [result] = yield* services["stock.push"].push([update])
            if (result?._tag === "Applied") {
              lastPushed = quantity
              return
            }
            expect(result?._tag).toBe("Stale")
            if (result?._tag !== "Stale") return
            stales++
            const d = ShopifyStock.decideAfterStale({ published: publish(pool), lastPushed, actual: result.actual })
            pool.unseen += d.unseen
            if (!d.write) {
              lastPushed = d.quantity
              return
            }
            quantity = d.quantity
            expected = d.expected
            lastPushed = result.actual
          }
        })

        for (let step = 0; step < 120; step++) {
          const shown = sandbox.available("FUZZ") ?? 0
          switch (pick(5)) {
            case 0: {
              // A sale in the shop (its order will reach the pool later).
              if (shown <= 0) break
              const qty = 1 + pick(Math.min(shown, 3))
              inFlight.push({ orderId: sandbox.placeOrder({ lines: [{ sku: "FUZZ", quantity: qty }] }), qty })
              soldInShop += qty
              break
            }
            case 1: {
              // A TikTok order reaches the pool.
              if (publish(pool) <= 0) break
              pool.held += 1
              soldOnTikTok += 1
              break
            }
            case 2: {
              // A shop order reaches the pool: its units move from "unseen" (if counted) to held.
              const arrived = inFlight.shift()
              if (arrived === undefined) break
              const order = yield* services["orders.pull"].get(arrived.orderId)
              const qty = order.lines.reduce((n, l) => n + l.qty, 0)
              pool.held += qty
              pool.unseen = Math.max(0, pool.unseen - qty)
              break
            }
            case 3:
              // The warehouse receives stock.
              pool.onHand += pick(5)
              break
            default:
              // A stock count in the shop's admin finds less (an upward edit is the test above).
              sandbox.setStock("FUZZ", pick(shown + 1))
          }
          // Several changes may pile up between two pushes.
          if (pick(2) === 0) continue
          yield* sync
          const truth = Math.max(0, pool.onHand - soldOnTikTok - soldInShop)
          const held = sandbox.available("FUZZ") ?? 0
          expect({ step, held, truth, ok: held <= truth }).toMatchObject({ step, ok: true })
          expect(held).toBeLessThanOrEqual(publish(pool) + pool.unseen)
        }
        // The races really happened.
        expect(stales).toBeGreaterThan(5)
        expect(soldInShop).toBeGreaterThan(0)
      }),
    { timeout: 60_000 }
  )
})
