import { describe, expect, it } from "@effect/vitest"
import { StockDecision } from "@tkbridge/core"
import { FastCheck as fc } from "effect"

const minute = 60_000
const window = 15 * minute

describe("StockDecision", () => {
  it("a sale in the shop the pool has not seen is held until its order arrives", () => {
    // Last written 10; the pool now allows 9 (a TikTok order); the shop sold 3 and shows 7.
    const stale = StockDecision.afterStale({
      published: 9,
      expected: 10,
      actual: 7,
      balance: StockDecision.emptyBalance,
      now: 1_000,
      windowMs: window
    })
    expect(stale).toEqual({
      quantity: 6,
      expected: 7,
      unseen: 3,
      write: true,
      balance: { held: 3, heldUntil: 1_000 + window, credit: 0, creditUntil: 0 }
    })
    // The shop's order arrives: the pool publishes 6 on its own and nothing stays held.
    const arrived = StockDecision.orderSeen(stale.balance, { units: 3, now: 2_000, windowMs: window })
    expect(arrived).toEqual(StockDecision.emptyBalance)
    expect(StockDecision.publishable(6, arrived, 2_000)).toBe(6)
  })

  it("an order that arrived before the drop was revealed settles it: nothing is held twice", () => {
    // The shop sold 2, its order reached the pool (8 → published 8), then the write found the shop at 8.
    const seen = StockDecision.orderSeen(StockDecision.emptyBalance, { units: 2, now: 0, windowMs: window })
    expect(seen).toEqual({ held: 0, heldUntil: 0, credit: 2, creditUntil: window })
    expect(StockDecision.publishable(8, seen, 0)).toBe(8)
    const stale = StockDecision.afterStale({
      published: 8,
      expected: 10,
      actual: 8,
      balance: seen,
      now: 10,
      windowMs: window
    })
    expect(stale).toMatchObject({ quantity: 8, expected: 8, unseen: 0, write: false })
    expect(stale.balance).toEqual(StockDecision.emptyBalance)
  })

  it("a channel showing more than written never raises what is published", () => {
    const up = StockDecision.afterStale({
      published: 6,
      expected: 6,
      actual: 26,
      balance: StockDecision.emptyBalance,
      now: 0,
      windowMs: window
    })
    expect(up).toMatchObject({ quantity: 6, expected: 26, unseen: 0, write: true })
    // Never written before: the channel's own number caps the first compared write.
    expect(StockDecision.decideAfterStale({ published: 12, actual: 5 })).toEqual({
      quantity: 5,
      expected: 5,
      unseen: 0,
      write: false
    })
  })

  it("held units are let go when the reconciliation window passes without their orders", () => {
    const balance = { held: 4, heldUntil: 10_000, credit: 1, creditUntil: 5_000 }
    expect(StockDecision.publishable(10, balance, 9_999)).toBe(6)
    expect(StockDecision.publishable(10, balance, 10_000)).toBe(10)
    expect(StockDecision.current(balance, 6_000)).toEqual({ held: 4, heldUntil: 10_000, credit: 0, creditUntil: 0 })
    expect(StockDecision.publishable(3, balance, 0)).toBe(0)
  })

  it("random races between shop sales, late orders, other channels, restocks and counts never publish more than is left, and settle on the pool's number", () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant("shopSale" as const), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant("orderArrives" as const) }),
      fc.record({ kind: fc.constant("otherChannelSale" as const) }),
      fc.record({ kind: fc.constant("restock" as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant("countDown" as const), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant("sync" as const) })
    )
    return fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.array(event, { maxLength: 80 }), (start, events) => {
        let onHand = start
        let poolHeld = 0
        let shopSold = 0
        let otherSold = 0
        let shop = 0
        const inFlight: Array<number> = []
        let known: number | undefined
        let balance = StockDecision.emptyBalance
        let now = 0
        const published = () => Math.max(0, onHand - poolHeld)
        const sync = () => {
          for (let round = 0; round < 6; round++) {
            const quantity = StockDecision.publishable(published(), balance, now)
            if (known === undefined || shop === known) {
              shop = quantity
              known = quantity
              return
            }
            const d = StockDecision.afterStale({
              published: published(),
              expected: known,
              actual: shop,
              balance,
              now,
              windowMs: window
            })
            balance = d.balance
            known = shop
            if (!d.write) return
          }
        }
        sync()
        for (const e of events) {
          now += 1_000
          switch (e.kind) {
            case "shopSale": {
              const n = Math.min(e.n, shop)
              if (n === 0) break
              shop -= n
              shopSold += n
              inFlight.push(n)
              break
            }
            case "orderArrives": {
              const n = inFlight.shift()
              if (n === undefined) break
              poolHeld += n
              balance = StockDecision.orderSeen(balance, { units: n, now, windowMs: window })
              break
            }
            case "otherChannelSale":
              if (onHand - shopSold - otherSold <= 0) break
              poolHeld += 1
              otherSold += 1
              break
            case "restock":
              onHand += e.n
              break
            case "countDown": {
              // A stock count in the shop's admin finds less than it shows (no sale, no order).
              const n = Math.min(e.n, shop)
              shop -= n
              break
            }
            case "sync": {
              sync()
              const left = Math.max(0, onHand - shopSold - otherSold)
              if (shop > left) return false
            }
          }
        }
        // Liveness: once every order arrived and the window passed, the shop shows what the pool allows.
        for (const n of inFlight.splice(0)) {
          poolHeld += n
          balance = StockDecision.orderSeen(balance, { units: n, now, windowMs: window })
        }
        sync()
        now += window
        sync()
        return shop === published()
      }),
      { seed: 20261126, numRuns: 400 }
    )
  })
})
