/**
 * The propagation measure the demo and `bench:e2e` report: an order's delay is the time until every
 * other channel shows at most what the pool publishes once the order is counted — a channel that
 * already shows less needs nothing, a write that still carries the old number does not count, and
 * a channel that never catches up leaves the order unreached.
 */
import { ChannelPolicy, Pool } from "@tkbridge/core"
import { describe, expect, it } from "vitest"
import type { Change } from "../src/ChannelTimeline.ts"
import { key } from "../src/ChannelTimeline.ts"
import { names } from "../src/DemoWorld.ts"
import * as Propagation from "../src/Propagation.ts"

const listings = new Map([
  [names.tiktok, [{ sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }]],
  [names.shopify, [{ sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }]]
] as const)
const write = (at: number, quantity: number): Change => ({ at, quantity, cause: "write" })
const order = (at: number, channel: typeof names.tiktok | typeof names.shopify, qty: number, orderId: string) => ({
  at,
  channel,
  orderId,
  units: new Map([["MUG", qty]])
})

describe("Propagation.measure", () => {
  it("waits for the write that carries the order, skips stale ones, and reports channels that never catch up", () => {
    const timeline = new Map<string, ReadonlyArray<Change>>([
      // Shopify: published 10, a stale 10 right after the TikTok order, then 8, then 7 (after the second order).
      [key(names.shopify, "MUG"), [write(0, 10), write(1_050, 10), write(1_300, 8), write(2_400, 7)]],
      // TikTok: published 10, its own order took it to 8 at once; never written 7.
      [key(names.tiktok, "MUG"), [write(0, 10), { at: 1_000, quantity: 8, cause: "order" }]]
    ])
    const result = Propagation.measure({
      orders: [order(1_000, names.tiktok, 2, "tt-1"), order(2_000, names.shopify, 1, "sh-1")],
      initial: new Map([["MUG", 10]]),
      listings,
      rules: Pool.PoolRules.make({}),
      timeline
    })
    expect(result.delays).toEqual([300])
    expect(result.unreached).toEqual(["sh-1"])
  })

  it("holds the other channel to its own policy (a safety buffer) when deciding what it must show", () => {
    const rules = Pool.PoolRules.make({
      policies: [ChannelPolicy.ChannelPolicy.make({ connection: names.shopify, safetyBuffer: 3 })]
    })
    const timeline = new Map<string, ReadonlyArray<Change>>([
      [key(names.shopify, "MUG"), [write(0, 7), write(500, 6)]],
      [key(names.tiktok, "MUG"), [write(0, 10)]]
    ])
    const result = Propagation.measure({
      // 10 − 1 = 9 available: Shopify should show 6 (9 − 3).
      orders: [order(100, names.tiktok, 1, "tt-1")],
      initial: new Map([["MUG", 10]]),
      listings,
      rules,
      timeline
    })
    expect(result.delays).toEqual([400])
    expect(Propagation.percentile([5, 1, 4, 2, 3], 50)).toBe(3)
    expect(Propagation.percentile([5, 1, 4, 2, 3], 95)).toBe(5)
  })
})
