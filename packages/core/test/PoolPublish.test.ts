import { describe, expect, it } from "@effect/vitest"
import { ChannelPolicy, Pool } from "@tkbridge/core"
import { FastCheck as fc } from "effect"

const { ChannelPolicy: Policy, FixedAllocation, LastUnitsRule, ShareAllocation } = ChannelPolicy

const stock = (item: string, locations: Record<string, number>, held = 0, safetyStock = 0): Pool.ItemStock => ({
  item,
  safetyStock,
  held,
  locations: Object.entries(locations).map(([location, onHand]) => ({ location, onHand }))
})

const lookup =
  (...stocks: ReadonlyArray<Pool.ItemStock>) =>
  (item: string) =>
    stocks.find((s) => s.item === item)

const single = (connection: string, item: string, qty = 1): Pool.ListingShape => ({
  connection,
  externalSku: qty === 1 ? item : `${item}*${qty}`,
  components: [{ item, qty }]
})

describe("Pool.available", () => {
  it("counts on hand over the connection's locations, minus held and safety stock", () => {
    const mug = stock("MUG", { WH1: 10, WH2: 5, FBA: 7 }, 3, 2)
    expect(Pool.available("MUG", mug).available).toBe(17)
    const scoped = Pool.available("MUG", mug, ["WH1", "WH2"])
    expect(scoped).toMatchObject({ onHand: 15, held: 3, safetyStock: 2, available: 10 })
    expect(scoped.locations.map((l) => l.location)).toEqual(["WH1", "WH2"])
  })

  it("never goes below zero, and an unknown item has nothing", () => {
    expect(Pool.available("MUG", stock("MUG", { WH1: 2 }, 5, 1)).available).toBe(0)
    expect(Pool.available("GHOST", undefined).available).toBe(0)
  })
})

describe("Pool.publish", () => {
  it("rounds every percentage down, in whole basis points (70 % of 10 is 7, 33.33 % of 10 is 3)", () => {
    const rules = (percent: number) =>
      new Pool.PoolRules({
        policies: [new Policy({ connection: "tiktok-uk", allocation: new ShareAllocation({ percent }) })]
      })
    const mug = lookup(stock("MUG", { WH1: 10 }))
    expect(Pool.publish(single("tiktok-uk", "MUG"), mug, rules(70)).published).toBe(7)
    expect(Pool.publish(single("tiktok-uk", "MUG"), mug, rules(33.33)).published).toBe(3)
    expect(Pool.publish(single("tiktok-uk", "MUG"), mug, rules(95)).published).toBe(9)
    expect(Pool.publish(single("tiktok-uk", "MUG"), lookup(stock("MUG", { WH1: 19 })), rules(50)).published).toBe(9)
  })

  it("publishes a multipack as whole packs and a bundle as the scarcest component allows", () => {
    const stocks = lookup(stock("MUG", { WH1: 10 }), stock("LID", { WH1: 4 }, 1))
    const rules = new Pool.PoolRules({})
    expect(Pool.publish(single("shopify-main", "MUG", 3), stocks, rules).published).toBe(3)
    const bundle: Pool.ListingShape = {
      connection: "shopify-main",
      externalSku: "MUG-LID-SET",
      components: [
        { item: "MUG", qty: 2 },
        { item: "LID", qty: 1 }
      ]
    }
    const e = Pool.publish(bundle, stocks, rules)
    expect(e.published).toBe(3)
    expect(e.base).toBe(3)
    expect(e.limitingItem).toBe("LID")
    expect(e.components.map((c) => [c.item, c.available, c.units])).toEqual([
      ["MUG", 10, 5],
      ["LID", 3, 3]
    ])
  })

  it("applies share, safety buffer, floor and cap in that order, and records each step", () => {
    const rules = new Pool.PoolRules({
      policies: [
        new Policy({
          connection: "tiktok-uk",
          allocation: new ShareAllocation({ percent: 80 }),
          safetyBuffer: 1,
          floor: 2,
          cap: 6
        })
      ]
    })
    const e = Pool.publish(single("tiktok-uk", "MUG"), lookup(stock("MUG", { WH1: 12 }, 1, 1)), rules)
    expect(e.steps).toEqual([
      { term: "share", value: 80, result: 8 },
      { term: "safetyBuffer", value: 1, result: 7 },
      { term: "floor", value: 2, result: 7 },
      { term: "cap", value: 6, result: 6 }
    ])
    expect(e.published).toBe(6)
    expect(e.policy).toBe("connection")
    expect(Pool.describe(e)).toBe(
      "tiktok-uk/MUG = 6: MUG×1 available 10 (on hand 12 [WH1 12] − held 1 − safety 1) → 10; base 10; share 80% → 8; safety buffer 1 → 7; floor 2 → 7; cap 6 → 6"
    )
  })

  it("publishes 0 at or below the floor, and never more than a fixed allocation", () => {
    const floor = new Pool.PoolRules({ policies: [new Policy({ connection: "c", floor: 3 })] })
    expect(Pool.publish(single("c", "MUG"), lookup(stock("MUG", { WH1: 3 })), floor).published).toBe(0)
    expect(Pool.publish(single("c", "MUG"), lookup(stock("MUG", { WH1: 4 })), floor).published).toBe(4)
    const fixed = new Pool.PoolRules({
      policies: [new Policy({ connection: "c", allocation: new FixedAllocation({ quantity: 5 }) })]
    })
    expect(Pool.publish(single("c", "MUG"), lookup(stock("MUG", { WH1: 3 })), fixed).published).toBe(3)
    expect(Pool.publish(single("c", "MUG"), lookup(stock("MUG", { WH1: 30 })), fixed).published).toBe(5)
  })

  it("keeps the last units for the priority channel and shows every other channel 0", () => {
    const rules = new Pool.PoolRules({ lastUnits: new LastUnitsRule({ threshold: 3, channel: "tiktok-uk" }) })
    const low = lookup(stock("MUG", { WH1: 3 }))
    const tiktok = Pool.publish(single("tiktok-uk", "MUG"), low, rules)
    const shopify = Pool.publish(single("shopify-main", "MUG"), low, rules)
    expect([tiktok.published, shopify.published]).toEqual([3, 0])
    expect(tiktok.lastUnits?.outcome).toBe("priority")
    expect(shopify.lastUnits).toMatchObject({ outcome: "withheld", item: "MUG", available: 3, threshold: 3 })
    const plenty = lookup(stock("MUG", { WH1: 4 }))
    expect(Pool.publish(single("shopify-main", "MUG"), plenty, rules).published).toBe(4)
  })

  it("judges last units on the whole pool even when the channel sells from fewer locations", () => {
    const rules = new Pool.PoolRules({
      policies: [new Policy({ connection: "shopify-main", locations: ["WH1"] })],
      lastUnits: new LastUnitsRule({ threshold: 2, channel: "tiktok-uk" })
    })
    const e = Pool.publish(single("shopify-main", "MUG"), lookup(stock("MUG", { WH1: 2, WH2: 10 })), rules)
    expect(e.lastUnits?.outcome).toBe("inactive")
    expect(e.published).toBe(2)
    expect(e.locations).toEqual(["WH1"])
  })

  it("lets a listing override its connection's policy, keeping the connection's locations", () => {
    const rules = new Pool.PoolRules({
      policies: [
        new Policy({
          connection: "shopify-main",
          locations: ["WH2"],
          allocation: new ShareAllocation({ percent: 50 })
        }),
        new Policy({ connection: "shopify-main", externalSku: "MUG", safetyBuffer: 2 })
      ]
    })
    const stocks = lookup(stock("MUG", { WH1: 100, WH2: 10 }))
    const override = Pool.publish(single("shopify-main", "MUG"), stocks, rules)
    expect(override.policy).toBe("listing")
    expect(override.published).toBe(8)
    const other = Pool.publish(single("shopify-main", "MUG", 2), stocks, rules)
    expect(other.policy).toBe("connection")
    expect(other.published).toBe(2)
    expect(Pool.publish(single("tiktok-uk", "MUG"), stocks, rules).policy).toBe("default")
  })

  it("encodes its explanation for the audit log", () => {
    const e = Pool.publish(single("c", "MUG"), lookup(stock("MUG", { WH1: 5 })), new Pool.PoolRules({}))
    expect(JSON.parse(JSON.stringify(e))).toEqual(e)
  })
})

describe("Pool.demand", () => {
  it("sums an item across lines and bundle components (two lines sharing an item count once, in total)", () => {
    expect(
      Pool.demand([
        { qty: 2, components: [{ item: "MUG", qty: 1 }] },
        {
          qty: 1,
          components: [
            { item: "MUG", qty: 2 },
            { item: "LID", qty: 1 }
          ]
        },
        { qty: 3, components: [{ item: "MUG", qty: 3 }] }
      ])
    ).toEqual([
      { item: "LID", qty: 1 },
      { item: "MUG", qty: 13 }
    ])
  })
})

// ---- properties -------------------------------------------------------------------------------

const policyArb = fc.record({
  percent: fc.integer({ min: 0, max: 10000 }).map((bp) => bp / 100),
  fixed: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  safetyBuffer: fc.integer({ min: 0, max: 5 }),
  floor: fc.integer({ min: 0, max: 5 }),
  cap: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  locations: fc.option(fc.subarray(["WH1", "WH2", "WH3"]), { nil: undefined }),
  lastUnits: fc.option(fc.record({ threshold: fc.integer({ min: 0, max: 6 }), priority: fc.boolean() }), {
    nil: undefined
  })
})

const rulesOf = (p: typeof policyArb extends fc.Arbitrary<infer A> ? A : never) =>
  new Pool.PoolRules({
    policies: [
      new Policy({
        connection: "c",
        allocation:
          p.fixed !== undefined
            ? new FixedAllocation({ quantity: p.fixed })
            : new ShareAllocation({ percent: p.percent }),
        safetyBuffer: p.safetyBuffer,
        floor: p.floor,
        ...(p.cap !== undefined ? { cap: p.cap } : {}),
        ...(p.locations !== undefined ? { locations: p.locations } : {})
      })
    ],
    ...(p.lastUnits !== undefined
      ? {
          lastUnits: new LastUnitsRule({
            threshold: p.lastUnits.threshold,
            channel: p.lastUnits.priority ? "c" : "other"
          })
        }
      : {})
  })

const itemArb = (item: string) =>
  fc
    .record({
      WH1: fc.integer({ min: 0, max: 40 }),
      WH2: fc.integer({ min: 0, max: 40 }),
      WH3: fc.integer({ min: 0, max: 40 }),
      held: fc.integer({ min: 0, max: 50 }),
      safety: fc.integer({ min: 0, max: 5 })
    })
    .map((s) => stock(item, { WH1: s.WH1, WH2: s.WH2, WH3: s.WH3 }, s.held, s.safety))

const listingArb = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((qty) => single("c", "A", qty)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(
    ([a, b]): Pool.ListingShape => ({
      connection: "c",
      externalSku: "KIT",
      components: [
        { item: "A", qty: a },
        { item: "B", qty: b }
      ]
    })
  )
)

/** Adds units to on hand or removes held units, never the other way. */
const moreAvailable = (s: Pool.ItemStock, add: ReadonlyArray<number>, free: number): Pool.ItemStock => ({
  ...s,
  held: Math.max(0, s.held - free),
  locations: s.locations.map((l, i) => ({ ...l, onHand: l.onHand + (add[i] ?? 0) }))
})

describe("Pool properties", () => {
  it("never publishes more than the pool has, for any policy, bundle or multipack", () =>
    fc.assert(
      fc.property(policyArb, listingArb, itemArb("A"), itemArb("B"), (p, listing, a, b) => {
        const e = Pool.publish(listing, lookup(a, b), rulesOf(p))
        expect(Number.isInteger(e.published) && e.published >= 0).toBe(true)
        for (const c of listing.components) {
          const s = c.item === "A" ? a : b
          const onHand = s.locations.reduce((n, l) => n + l.onHand, 0)
          expect(e.published * c.qty).toBeLessThanOrEqual(Math.max(0, onHand - s.held - s.safetyStock))
        }
        expect(e.published).toBeLessThanOrEqual(e.base)
        if (p.cap !== undefined) expect(e.published).toBeLessThanOrEqual(p.cap)
      }),
      { numRuns: 2000 }
    ))

  it("is monotone in available: more on hand or fewer held never publishes less", () =>
    fc.assert(
      fc.property(
        policyArb,
        listingArb,
        itemArb("A"),
        itemArb("B"),
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (p, listing, a, b, add, free, which) => {
          const rules = rulesOf(p)
          const before = Pool.publish(listing, lookup(a, b), rules).published
          const more = which ? lookup(moreAvailable(a, add, free), b) : lookup(a, moreAvailable(b, add, free))
          expect(Pool.publish(listing, more, rules).published).toBeGreaterThanOrEqual(before)
        }
      ),
      { numRuns: 2000 }
    ))
})
