/**
 * Scenario: the shop's stock changes underneath a push (a sale in the shop whose order the pool has
 * not seen yet, a manual edit, a restock). The push's compare-and-set comes back stale and the
 * engine decides the next write with core's `StockDecision` — `afterStale` on a stale answer,
 * `orderSeen` when the shop's order reaches the pool, `publishable` before each write — keeping a
 * `ChannelBalance` per listing as the engine's `StockPusher` does. Whatever the race, the shop
 * never shows more than the pool can actually sell.
 */
import { describe, expect, it } from "@effect/vitest"
import { SandboxServer } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { ChannelPolicy, Pool, StockDecision } from "@tkbridge/core"
import { Effect } from "effect"
import { connect } from "./support.ts"

/** The pool for one item sold on two channels (Shopify and TikTok), from its own view. */
interface PoolView {
  onHand: number
  /** Units held by orders the pool has seen (TikTok and Shopify orders that arrived). */
  held: number
}

/**
 * What the engine remembers about the Shopify listing between writes: the quantity the shop last
 * confirmed or reported (the next write's `expected`) and the balance of units the shop gave away
 * whose orders the pool has not seen (held) or has seen before the drop showed (credit).
 */
interface EngineView {
  known: number | undefined
  balance: StockDecision.ChannelBalance
}

/** The reconciliation window: long enough that nothing held expires during a test. */
const windowMs = 24 * 3_600_000
/** The engine's clock; the decisions only compare it with the windows, which never pass here. */
const now = 0

const connection = "shopify-test"
const rules = new Pool.PoolRules({ policies: [new ChannelPolicy.ChannelPolicy({ connection })] })

/** What the pool publishes to Shopify for a listing of one item, by core's pool arithmetic. */
const publishFor = (externalSku: string) => (pool: PoolView) =>
  Pool.publish(
    { connection, externalSku, components: [{ item: `item-${externalSku}`, qty: 1 }] },
    (item) =>
      item === `item-${externalSku}`
        ? {
            item,
            safetyStock: 0,
            held: pool.held,
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
      const pool: PoolView = { onHand: 10, held: 0 }
      const engine: EngineView = { known: undefined, balance: StockDecision.emptyBalance }
      const publish = publishFor("RACE")
      const next = () => StockDecision.publishable(publish(pool), engine.balance, now)

      expect((yield* push(next(), engine.known))[0]?._tag).toBe("Applied")
      engine.known = 10
      // A shopper buys 3 in the shop; the order's webhook has not reached the pool yet.
      const shopOrder = sandbox.placeOrder({ lines: [{ sku: "RACE", quantity: 3 }] })
      // Meanwhile a TikTok order for 1 reaches the pool: it now allows 9.
      pool.held += 1
      const [stale] = yield* push(next(), engine.known)
      expect(stale).toMatchObject({ _tag: "Stale", actual: 7 })
      expect(sandbox.available("RACE")).toBe(7)
      if (stale?._tag !== "Stale") return
      const decision = StockDecision.afterStale({
        published: publish(pool),
        expected: engine.known,
        actual: stale.actual,
        balance: engine.balance,
        now,
        windowMs
      })
      expect(decision).toMatchObject({ quantity: 6, expected: 7, unseen: 3, write: true })
      expect(decision.balance).toMatchObject({ held: 3, credit: 0 })
      engine.balance = decision.balance
      engine.known = stale.actual
      expect((yield* push(decision.quantity, decision.expected))[0]?._tag).toBe("Applied")
      engine.known = decision.quantity
      // 10 on hand − 1 TikTok − 3 sold in the shop = 6: exactly what the shop shows.
      expect(sandbox.available("RACE")).toBe(6)

      // The shop's order arrives: the pool reserves its units and the engine lets the held ones go.
      const order = yield* services["orders.pull"].get(shopOrder)
      const qty = order.lines.reduce((n, l) => n + l.qty, 0)
      pool.held += qty
      engine.balance = StockDecision.orderSeen(engine.balance, { units: qty, now, windowMs })
      expect(engine.balance).toMatchObject({ held: 0, credit: 0 })
      expect(next()).toBe(6)
      expect((yield* push(next(), engine.known))[0]?._tag).toBe("Applied")

      // The merchant adds 20 in the Shopify admin: the pool is the source of truth, not the shop.
      sandbox.setStock("RACE", 26)
      const [up] = yield* push(next(), engine.known)
      expect(up).toMatchObject({ _tag: "Stale", actual: 26 })
      if (up?._tag !== "Stale") return
      const down = StockDecision.afterStale({
        published: publish(pool),
        expected: engine.known,
        actual: up.actual,
        balance: engine.balance,
        now,
        windowMs
      })
      expect(down).toMatchObject({ quantity: 6, expected: 26, unseen: 0, write: true })
      yield* push(down.quantity, down.expected)
      expect(sandbox.available("RACE")).toBe(6)
    })
  )

  it.scopedLive(
    "the shop's order reaches the pool before its drop shows: the stale write settles it, nothing held twice",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect()
        const [created] = sandbox.seedSkus([{ sku: "EARLY", quantity: 0 }])
        const listing = {
          externalSku: "EARLY",
          externalIds: { inventoryItemId: created!.variants[0]!.inventoryItemId }
        }
        const push = (quantity: number, expected: number | undefined) =>
          services["stock.push"].push([{ ...listing, quantity, expected, idempotencyKey: `early-${++serial}` }])
        const pool: PoolView = { onHand: 10, held: 0 }
        const engine: EngineView = { known: undefined, balance: StockDecision.emptyBalance }
        const publish = publishFor("EARLY")
        const next = () => StockDecision.publishable(publish(pool), engine.balance, now)
        expect((yield* push(next(), engine.known))[0]?._tag).toBe("Applied")
        engine.known = 10
        // A shopper buys 2 and, this time, the order reaches the pool before the next write, as does
        // a TikTok order for 1: the pool allows 7.
        const shopOrder = sandbox.placeOrder({ lines: [{ sku: "EARLY", quantity: 2 }] })
        const qty = (yield* services["orders.pull"].get(shopOrder)).lines.reduce((n, l) => n + l.qty, 0)
        pool.held += qty
        engine.balance = StockDecision.orderSeen(engine.balance, { units: qty, now, windowMs })
        expect(engine.balance).toMatchObject({ held: 0, credit: 2 })
        pool.held += 1
        const [stale] = yield* push(next(), engine.known)
        expect(stale).toMatchObject({ _tag: "Stale", actual: 8 })
        if (stale?._tag !== "Stale") return
        const decision = StockDecision.afterStale({
          published: publish(pool),
          expected: engine.known,
          actual: stale.actual,
          balance: engine.balance,
          now,
          windowMs
        })
        // The drop of 2 is the order the pool already applied: nothing unseen, nothing held back.
        expect(decision).toMatchObject({ quantity: 7, expected: 8, unseen: 0, write: true })
        expect(decision.balance).toMatchObject({ held: 0, credit: 0 })
        engine.balance = decision.balance
        expect((yield* push(decision.quantity, decision.expected))[0]?._tag).toBe("Applied")
        // 10 on hand − 2 sold in the shop − 1 on TikTok.
        expect(sandbox.available("EARLY")).toBe(7)
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
        const pool: PoolView = { onHand: 40, held: 0 }
        const engine: EngineView = { known: undefined, balance: StockDecision.emptyBalance }
        const publish = publishFor("FUZZ")
        /** Units sold in the shop whose orders have not reached the pool. */
        const inFlight: Array<{ readonly orderId: string; readonly qty: number }> = []
        let soldInShop = 0
        let soldOnTikTok = 0
        let stales = 0

        /** The engine: push what the pool publishes; on Stale, decide with core and write again. */
        const sync = Effect.gen(function* () {
          let quantity = StockDecision.publishable(publish(pool), engine.balance, now)
          for (let round = 0; round < 5; round++) {
            const update: Connector.StockUpdate = {
              ...listing,
              quantity,
              expected: engine.known,
              idempotencyKey: `fuzz-${++serial}`
            }
            const [result] = yield* services["stock.push"].push([update])
            if (result?._tag === "Applied") {
              engine.known = quantity
              return
            }
            expect(result?._tag).toBe("Stale")
            if (result?._tag !== "Stale") return
            stales++
            const d = StockDecision.afterStale({
              published: publish(pool),
              expected: engine.known,
              actual: result.actual,
              balance: engine.balance,
              now,
              windowMs
            })
            engine.balance = d.balance
            engine.known = result.actual
            if (!d.write) return
            quantity = d.quantity
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
              // A shop order reaches the pool: the pool reserves its units; the engine releases the
              // units a stale write held for it, or keeps the rest as credit for a drop not seen yet.
              const arrived = inFlight.shift()
              if (arrived === undefined) break
              const order = yield* services["orders.pull"].get(arrived.orderId)
              const qty = order.lines.reduce((n, l) => n + l.qty, 0)
              pool.held += qty
              engine.balance = StockDecision.orderSeen(engine.balance, { units: qty, now, windowMs })
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
          expect(held).toBeLessThanOrEqual(StockDecision.publishable(publish(pool), engine.balance, now))
        }
        // The races really happened.
        expect(stales).toBeGreaterThan(5)
        expect(soldInShop).toBeGreaterThan(0)
      }),
    { timeout: 60_000 }
  )
})
