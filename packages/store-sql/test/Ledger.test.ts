import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ChannelPolicy, Item, Ledger, LedgerMemory, Pairing, Pool } from "@tkbridge/core"
import { SqlLedger, SqlTesting } from "@tkbridge/store-sql"
import type { Scope } from "effect"
import { Effect, Either } from "effect"

type Body = (
  ledger: Ledger.LedgerService,
  sql: SqlClient.SqlClient | undefined
) => Effect.Effect<void, Ledger.LedgerError | import("@effect/sql/SqlError").SqlError, Scope.Scope>

/** Each behaviour runs against the reference model and both SQL dialects, each on a fresh store. */
const implementations: ReadonlyArray<{
  readonly name: string
  readonly run: (config: Ledger.LedgerConfig, body: Body) => Effect.Effect<void, unknown>
}> = [
  {
    name: "memory",
    run: (config, body) => Effect.scoped(Effect.flatMap(LedgerMemory.make(config), (l) => body(l, undefined)))
  },
  ...SqlTesting.dialects.map((d) => ({
    name: d.name,
    run: (config: Ledger.LedgerConfig, body: Body) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const ledger = yield* SqlLedger.make({ config })
        yield* body(ledger, sql)
      }).pipe(Effect.scoped, Effect.provide(d.name === "postgres" ? SqlTesting.pg({ maxConnections: 4 }) : d.layer()))
  }))
]

const { ChannelPolicy: Policy, LastUnitsRule, ShareAllocation } = ChannelPolicy

const config = new Ledger.LedgerConfig({
  pool: new Pool.PoolRules({
    policies: [
      new Policy({ connection: "tiktok-uk", allocation: new ShareAllocation({ percent: 80 }), safetyBuffer: 1 }),
      new Policy({ connection: "shopify-main", locations: ["WH1"] })
    ],
    lastUnits: new LastUnitsRule({ threshold: 1, channel: "tiktok-uk" })
  }),
  pairing: new Pairing.PairingConfig({
    explicit: [
      new Pairing.ExplicitPair({
        externalSku: "MUG-LID-SET",
        components: [
          { item: "MUG", qty: 1 },
          { item: "LID", qty: 1 }
        ]
      })
    ],
    rules: [
      new Pairing.PairingRules({
        connection: "tiktok-uk",
        ignorePrefixes: ["TT-"],
        packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$"]
      })
    ]
  }),
  returns: [
    new Ledger.ReturnRule({ connection: "tiktok-uk", location: "RETURNS" }),
    new Ledger.ReturnRule({ connection: "shopify-main", restock: false })
  ]
})

/** Items, both channels' catalogues and stock: MUG 3 @WH1 + 4 @WH2, LID 5 @WH1. */
const prepare = (ledger: Ledger.LedgerService) =>
  Effect.gen(function* () {
    yield* ledger.upsertItems([
      new Item.Item({ id: "MUG", safetyStock: 1 }),
      new Item.Item({ id: "LID" }),
      new Item.Item({ id: "TEA" })
    ])
    yield* ledger.importCatalog("tiktok-uk", [
      { externalSku: "TT-MUG", externalIds: { product_id: "1729587123456789012", sku_id: "1729587123456789013" } },
      { externalSku: "TT-MUG*2" },
      { externalSku: "MUG-LID-SET" },
      { externalSku: "TT-LID" }
    ])
    yield* ledger.importCatalog("shopify-main", [
      { externalSku: "MUG" },
      { externalSku: "MUG-LID-SET" },
      { externalSku: "LID" }
    ])
    yield* ledger.setStock([
      { item: "MUG", location: "WH1", onHand: 3, sourceVersion: 10 },
      { item: "MUG", location: "WH2", onHand: 4, sourceVersion: 10 },
      { item: "LID", location: "WH1", onHand: 5, sourceVersion: 10 }
    ])
  })

const balance = (ledger: Ledger.LedgerService, item: string) => Effect.map(ledger.balances([item]), (bs) => bs[0]!)

const order = (orderId: string, ...lines: ReadonlyArray<readonly [string, string, number]>): Ledger.ReserveInput => ({
  connection: "tiktok-uk",
  orderId,
  lines: lines.map(([lineId, externalSku, qty]) => ({ lineId, externalSku, qty }))
})

const refKeys = (refs: ReadonlyArray<Ledger.ListingRef>) => refs.map((r) => `${r.connection}/${r.externalSku}`)

for (const impl of implementations) {
  describe(`Ledger (${impl.name})`, () => {
    it.effect("an older ERP reading never overwrites a newer one; each applied reading is a movement", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const stale = yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 1, sourceVersion: 9 }])
          expect(stale.applied).toEqual([])
          expect(stale.stale).toEqual([{ item: "LID", location: "WH1", sourceVersion: 9, storedVersion: 10 }])
          expect(stale.changed).toEqual([])
          const same = yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 1, sourceVersion: 10 }])
          expect(same.stale).toHaveLength(1)
          expect((yield* balance(ledger, "LID")).onHand).toBe(5)
          const newer = yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 2, sourceVersion: 11 }], {
            actor: "erp-main",
            reason: "stock pull"
          })
          expect(newer.applied).toEqual([{ item: "LID", location: "WH1", before: 5, after: 2 }])
          expect(refKeys(newer.changed)).toEqual([
            "shopify-main/LID",
            "shopify-main/MUG-LID-SET",
            "tiktok-uk/MUG-LID-SET",
            "tiktok-uk/TT-LID"
          ])
          // A manual count without a version still applies, and keeps the stored version.
          yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 4 }])
          const again = yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 0, sourceVersion: 11 }])
          expect(again.stale).toHaveLength(1)
          const moves = yield* ledger.movements({ item: "LID" })
          expect(moves.map((m) => [m.op, m.before, m.after, m.delta, m.reference ?? null])).toEqual([
            ["set", 0, 5, 5, "version:10"],
            ["set", 5, 2, -3, "version:11"],
            ["set", 2, 4, 2, null]
          ])
          expect(moves[1]).toMatchObject({ actor: "erp-main", reason: "stock pull", location: "WH1", kind: "on_hand" })
        })
      )
    )

    it.effect("reserves an order's lines all or none, summing demand across lines and bundles", () =>
      impl.run(config, (ledger, sql) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          // MUG: 2 singles + 1 in the set + 2 in a double pack = 5 of 7; LID: 1.
          const ok = yield* ledger.reserve(
            order("A1", ["1", "TT-MUG", 2], ["2", "MUG-LID-SET", 1], ["3", "TT-MUG*2", 1])
          )
          expect(ok.outcome).toBe("reserved")
          expect(ok.demand).toEqual([
            { item: "LID", qty: 1 },
            { item: "MUG", qty: 5 }
          ])
          expect(ok.reservations.map((r) => [r.lineId, r.item, r.qty, r.state])).toEqual([
            ["1", "MUG", 2, "held"],
            ["2", "LID", 1, "held"],
            ["2", "MUG", 1, "held"],
            ["3", "MUG", 2, "held"]
          ])
          // Three more MUGs would fit line by line (2 + 1), but not together: nothing is reserved.
          const refused = yield* Effect.either(
            ledger.reserve(order("A2", ["1", "TT-LID", 2], ["2", "TT-MUG", 2], ["3", "TT-MUG", 1]))
          )
          expect(Either.isLeft(refused) && refused.left).toMatchObject({
            _tag: "InsufficientStock",
            orderId: "A2",
            shortages: [{ item: "MUG", requested: 3, available: 2 }]
          })
          expect((yield* balance(ledger, "LID")).held).toBe(1)
          expect((yield* balance(ledger, "MUG")).held).toBe(5)
          expect(yield* ledger.reservations("tiktok-uk", "A2")).toEqual([])
          if (sql !== undefined) {
            const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_reservations WHERE order_id = 'A2'`
            expect(Number(row!.n)).toBe(0)
            const items = yield* sql<{
              item: string
              reserved: number
            }>`SELECT item, reserved FROM tkb_items ORDER BY item`
            expect(items.map((r) => [r.item, r.reserved])).toEqual([
              ["LID", 1],
              ["MUG", 5],
              ["TEA", 0]
            ])
          }
        })
      )
    )

    it.effect("a redelivered order reserves once; a redelivery with a new line reserves only that line", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          yield* ledger.reserve(order("B1", ["1", "TT-MUG", 2]))
          const movesBefore = (yield* ledger.movements()).length
          const again = yield* ledger.reserve(order("B1", ["1", "TT-MUG", 2]))
          expect(again.outcome).toBe("duplicate")
          expect(again.changed).toEqual([])
          expect(again.reservations.map((r) => [r.lineId, r.qty])).toEqual([["1", 2]])
          expect((yield* balance(ledger, "MUG")).held).toBe(2)
          expect((yield* ledger.movements()).length).toBe(movesBefore)
          const more = yield* ledger.reserve(order("B1", ["1", "TT-MUG", 2], ["2", "TT-LID", 1]))
          expect(more.outcome).toBe("reserved")
          expect(more.demand).toEqual([{ item: "LID", qty: 1 }])
          expect((yield* balance(ledger, "MUG")).held).toBe(2)
          expect((yield* ledger.reservations("tiktok-uk", "B1")).map((r) => r.item)).toEqual(["MUG", "LID"])
          // The SKU is re-paired as a bundle; a late redelivery still reserves nothing more.
          yield* ledger.pair("tiktok-uk", "TT-MUG", [
            { item: "MUG", qty: 1 },
            { item: "TEA", qty: 1 }
          ])
          yield* ledger.setStock([{ item: "TEA", location: "WH1", onHand: 5 }])
          const late = yield* ledger.reserve(order("B1", ["1", "TT-MUG", 2]))
          expect(late.outcome).toBe("duplicate")
          expect(late.reservations.map((r) => [r.item, r.qty])).toEqual([["MUG", 2]])
          expect((yield* balance(ledger, "TEA")).held).toBe(0)
        })
      )
    )

    it.effect("an unknown SKU fails with the SKU and line so the event can be dead-lettered; nothing is held", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const failed = yield* Effect.either(ledger.reserve(order("C1", ["1", "TT-MUG", 1], ["2", "TT-PLATE", 1])))
          expect(Either.isLeft(failed) && failed.left).toMatchObject({
            _tag: "UnknownSku",
            connection: "tiktok-uk",
            orderId: "C1",
            lineId: "2",
            externalSku: "TT-PLATE",
            reason: "unknown"
          })
          expect(Either.isLeft(failed) && failed.left.message).toContain("TT-PLATE")
          expect((yield* balance(ledger, "MUG")).held).toBe(0)
        })
      )
    )

    it.effect("pairs an unseen SKU by the connection's rules at the first order and remembers it", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const r = yield* ledger.reserve(order("D1", ["1", "tt-lid*2", 1]))
          expect(r.demand).toEqual([{ item: "LID", qty: 2 }])
          expect(refKeys(r.changed)).toContain("tiktok-uk/tt-lid*2")
          const listing = (yield* ledger.listings("tiktok-uk")).find((l) => l.externalSku === "tt-lid*2")
          expect(listing?.components.map((c) => [c.item, c.qty])).toEqual([["LID", 2]])
          // 5 − 2 held = 3 lids make 1 pair; TikTok's 80 % of 1 rounds down to 0.
          const [pair] = yield* ledger.published([{ connection: "tiktok-uk", externalSku: "tt-lid*2" }])
          expect(pair?.base).toBe(1)
          expect(pair?.steps[0]).toEqual({ term: "share", value: 80, result: 0 })
        })
      )
    )

    it.effect("shipping commits held lines and takes units from the shipping location first", () =>
      impl.run(config, (ledger, sql) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          yield* ledger.reserve(order("E1", ["1", "TT-MUG", 4]))
          const shipped = yield* ledger.commit({ connection: "tiktok-uk", orderId: "E1", location: "WH1" })
          expect(shipped.lines).toEqual(["1"])
          const mug = yield* balance(ledger, "MUG")
          expect(mug.held).toBe(0)
          expect(mug.locations).toEqual([
            { location: "WH1", onHand: 0 },
            { location: "WH2", onHand: 3 }
          ])
          expect((yield* ledger.reservations("tiktok-uk", "E1"))[0]?.state).toBe("committed")
          // Shipping notices arrive more than once; cancelling a shipped order changes nothing.
          expect((yield* ledger.commit({ connection: "tiktok-uk", orderId: "E1" })).lines).toEqual([])
          expect((yield* ledger.release({ connection: "tiktok-uk", orderId: "E1" })).lines).toEqual([])
          expect((yield* balance(ledger, "MUG")).onHand).toBe(3)
          const unknown = yield* Effect.either(ledger.commit({ connection: "tiktok-uk", orderId: "nope" }))
          expect(Either.isLeft(unknown) && unknown.left._tag).toBe("UnknownOrder")
          if (sql !== undefined) {
            const rows = yield* sql<{ location: string; on_hand: number }>`
              SELECT location, on_hand FROM tkb_stock WHERE item = 'MUG' ORDER BY location`
            expect(rows.map((r) => [r.location, r.on_hand])).toEqual([
              ["WH1", 0],
              ["WH2", 3]
            ])
          }
        })
      )
    )

    it.effect("cancelling releases held lines; shipping a cancelled line is refused", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          yield* ledger.reserve(order("F1", ["1", "TT-MUG", 1], ["2", "TT-LID", 2]))
          const released = yield* ledger.release({ connection: "tiktok-uk", orderId: "F1", lineIds: ["2"] })
          expect(released.lines).toEqual(["2"])
          expect((yield* balance(ledger, "LID")).held).toBe(0)
          expect((yield* balance(ledger, "MUG")).held).toBe(1)
          const refused = yield* Effect.either(
            ledger.commit({ connection: "tiktok-uk", orderId: "F1", lineIds: ["2"] })
          )
          expect(Either.isLeft(refused) && refused.left).toMatchObject({
            _tag: "InvalidTransition",
            lineId: "2",
            state: "released",
            attempted: "commit"
          })
          // Shipping the whole order ships what is still held.
          expect((yield* ledger.commit({ connection: "tiktok-uk", orderId: "F1" })).lines).toEqual(["1"])
          const missing = yield* Effect.either(
            ledger.release({ connection: "tiktok-uk", orderId: "F1", lineIds: ["9"] })
          )
          expect(Either.isLeft(missing) && missing.left).toMatchObject({ _tag: "UnknownOrder", lineIds: ["9"] })
        })
      )
    )

    it.effect("unpaid orders hold stock until their TTL; paying later holds again only if the pool still can", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const due = new Date("2026-12-01T10:30:00Z")
          yield* ledger.reserve({ ...order("G1", ["1", "TT-LID", 3]), expiresAt: due })
          yield* ledger.reserve({ ...order("G2", ["1", "TT-LID", 1]), expiresAt: due })
          expect((yield* ledger.expire(new Date(due.getTime() - 1))).expired).toEqual([])
          const swept = yield* ledger.expire(due)
          expect(swept.expired).toEqual([
            { connection: "tiktok-uk", orderId: "G1", lineId: "1" },
            { connection: "tiktok-uk", orderId: "G2", lineId: "1" }
          ])
          expect(refKeys(swept.changed)).toContain("tiktok-uk/TT-LID")
          expect((yield* balance(ledger, "LID")).held).toBe(0)
          expect((yield* ledger.expire(due)).expired).toEqual([])
          // G1 pays late and is held again; then another order takes the rest and G2 cannot be.
          expect((yield* ledger.confirm({ connection: "tiktok-uk", orderId: "G1" })).lines).toEqual(["1"])
          yield* ledger.reserve(order("G3", ["1", "TT-LID", 2]))
          const late = yield* Effect.either(ledger.confirm({ connection: "tiktok-uk", orderId: "G2" }))
          expect(Either.isLeft(late) && late.left).toMatchObject({
            _tag: "InsufficientStock",
            shortages: [{ item: "LID", requested: 1, available: 0 }]
          })
          expect((yield* ledger.reservations("tiktok-uk", "G2"))[0]?.state).toBe("released")
          // A paid order no longer expires.
          yield* ledger.reserve({ ...order("G4", ["1", "TT-MUG", 1]), expiresAt: due })
          yield* ledger.confirm({ connection: "tiktok-uk", orderId: "G4" })
          expect((yield* ledger.expire(new Date(due.getTime() + 60_000))).expired).toEqual([])
          expect((yield* ledger.reservations("tiktok-uk", "G4"))[0]?.expiresAt).toBeUndefined()
        })
      )
    )

    it.effect("returns restock to the configured location once, or are only recorded where the rule says so", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          yield* ledger.reserve(order("H1", ["1", "MUG-LID-SET", 2]))
          yield* ledger.commit({ connection: "tiktok-uk", orderId: "H1" })
          const back = yield* ledger.restock({
            connection: "tiktok-uk",
            orderId: "H1",
            returnId: "R-1",
            lines: [{ lineId: "1", qty: 1 }]
          })
          expect(back.outcome).toBe("restocked")
          expect(back.items).toEqual([
            { item: "LID", location: "RETURNS", qty: 1 },
            { item: "MUG", location: "RETURNS", qty: 1 }
          ])
          const mug = yield* balance(ledger, "MUG")
          expect(mug.locations.find((l) => l.location === "RETURNS")?.onHand).toBe(1)
          const dup = yield* ledger.restock({
            connection: "tiktok-uk",
            orderId: "H1",
            returnId: "R-1",
            lines: [{ lineId: "1", qty: 1 }]
          })
          expect(dup.outcome).toBe("duplicate")
          expect((yield* balance(ledger, "MUG")).onHand).toBe(mug.onHand)
          const tooMany = yield* Effect.either(
            ledger.restock({
              connection: "tiktok-uk",
              orderId: "H1",
              returnId: "R-2",
              lines: [{ lineId: "1", qty: 2 }]
            })
          )
          expect(Either.isLeft(tooMany) && tooMany.left).toMatchObject({
            _tag: "ReturnExceedsShipment",
            shipped: 2,
            returned: 1,
            requested: 2
          })
          // To the shipping location when overridden; not at all on a connection that does not restock.
          const here = yield* ledger.restock({
            connection: "tiktok-uk",
            orderId: "H1",
            returnId: "R-3",
            lines: [{ lineId: "1", qty: 1 }],
            location: "WH2"
          })
          expect(here.items.map((i) => i.location)).toEqual(["WH2", "WH2"])
          yield* ledger.reserve({
            connection: "shopify-main",
            orderId: "S1",
            lines: [{ lineId: "1", externalSku: "LID", qty: 1 }]
          })
          yield* ledger.commit({ connection: "shopify-main", orderId: "S1" })
          const kept = yield* ledger.restock({
            connection: "shopify-main",
            orderId: "S1",
            returnId: "R-9",
            lines: [{ lineId: "1", qty: 1 }]
          })
          expect(kept).toEqual({ outcome: "recorded", items: [], changed: [] })
          yield* ledger.reserve(order("H2", ["1", "TT-MUG", 1]))
          const notShipped = yield* Effect.either(
            ledger.restock({
              connection: "tiktok-uk",
              orderId: "H2",
              returnId: "R-4",
              lines: [{ lineId: "1", qty: 1 }]
            })
          )
          expect(Either.isLeft(notShipped) && notShipped.left).toMatchObject({
            _tag: "InvalidTransition",
            state: "held"
          })
        })
      )
    )

    it.effect("a count below open orders is reported as a shortfall; the pool publishes 0 and refuses new orders", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          yield* ledger.reserve(order("K1", ["1", "TT-LID", 4]))
          const counted = yield* ledger.setStock([{ item: "LID", location: "WH1", onHand: 1, sourceVersion: 12 }])
          expect(counted.shortfalls).toEqual([{ item: "LID", onHand: 1, reserved: 4, shortfall: 3 }])
          expect((yield* balance(ledger, "LID")).shortfall).toBe(3)
          const published = yield* ledger.published(counted.changed)
          expect(published.map((e) => e.published)).toEqual([0, 0, 0, 0])
          const refused = yield* Effect.either(ledger.reserve(order("K2", ["1", "TT-LID", 1])))
          expect(Either.isLeft(refused) && refused.left._tag).toBe("InsufficientStock")
          // Shipping part of it brings the counters back in line.
          yield* ledger.commit({ connection: "tiktok-uk", orderId: "K1" })
          expect(yield* balance(ledger, "LID")).toMatchObject({ onHand: 0, held: 0, shortfall: 0 })
        })
      )
    )

    it.effect("adjustments never take a location below zero and apply once per idempotency key", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const neg = yield* Effect.either(ledger.adjustStock({ item: "LID", location: "WH1", delta: -6 }))
          expect(Either.isLeft(neg) && neg.left).toMatchObject({
            _tag: "NegativeStock",
            item: "LID",
            location: "WH1",
            onHand: 5,
            delta: -6
          })
          const nowhere = yield* Effect.either(ledger.adjustStock({ item: "LID", location: "WH9", delta: -1 }))
          expect(Either.isLeft(nowhere) && nowhere.left).toMatchObject({ _tag: "NegativeStock", onHand: 0 })
          const found = yield* ledger.adjustStock({ item: "LID", location: "WH1", delta: 2, idempotencyKey: "cycle-7" })
          expect(found).toMatchObject({ outcome: "adjusted", before: 5, after: 7 })
          const again = yield* ledger.adjustStock({ item: "LID", location: "WH1", delta: 2, idempotencyKey: "cycle-7" })
          expect(again).toMatchObject({ outcome: "duplicate", before: 7, after: 7, changed: [] })
          expect((yield* balance(ledger, "LID")).onHand).toBe(7)
        })
      )
    )

    it.effect("every mutation names the listings to republish, and published explains each number", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const r = yield* ledger.reserve(order("P1", ["1", "TT-MUG", 2]))
          expect(refKeys(r.changed)).toEqual([
            "shopify-main/MUG",
            "shopify-main/MUG-LID-SET",
            "tiktok-uk/MUG-LID-SET",
            "tiktok-uk/TT-MUG",
            "tiktok-uk/TT-MUG*2"
          ])
          const published = yield* ledger.published(r.changed)
          // MUG: 7 on hand − 2 held − 1 safety = 4 everywhere; Shopify sells from WH1 only (3 − 2 − 1 = 0).
          expect(published.map((e) => [`${e.connection}/${e.externalSku}`, e.published])).toEqual([
            ["shopify-main/MUG", 0],
            ["shopify-main/MUG-LID-SET", 0],
            ["tiktok-uk/MUG-LID-SET", 2],
            ["tiktok-uk/TT-MUG", 2],
            ["tiktok-uk/TT-MUG*2", 0]
          ])
          const why = published.find((e) => e.externalSku === "TT-MUG")!
          expect(Pool.describe(why)).toBe(
            "tiktok-uk/TT-MUG = 2: MUG×1 available 4 (on hand 7 [WH1 3, WH2 4] − held 2 − safety 1) → 4; base 4; share 80% → 3; safety buffer 1 → 2; floor 0 → 2"
          )
          // Unpaired and unknown listings have no published quantity.
          expect(yield* ledger.published([{ connection: "tiktok-uk", externalSku: "NOPE" }])).toEqual([])
        })
      )
    )

    it.effect("imports catalogues, reports unpaired SKUs, and keeps manual pairings through re-imports", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const report = yield* ledger.importCatalog("tiktok-uk", [
            { externalSku: "TT-TEA", title: "Green tea" },
            { externalSku: "TT-PLATE", title: "Plate" }
          ])
          expect(report.paired).toEqual([{ externalSku: "TT-TEA", by: "auto", components: [{ item: "TEA", qty: 1 }] }])
          expect(report.unpaired.map((u) => [u.externalSku, u.reason, u.title])).toEqual([
            ["TT-PLATE", "no_match", "Plate"]
          ])
          expect(refKeys(report.changed)).toEqual(["tiktok-uk/TT-TEA"])
          expect((yield* ledger.unpaired()).map((u) => u.externalSku)).toEqual(["TT-PLATE"])
          const tiktokMug = (yield* ledger.listings("tiktok-uk")).find((l) => l.externalSku === "TT-MUG")
          expect(tiktokMug?.externalIds).toEqual({ product_id: "1729587123456789012", sku_id: "1729587123456789013" })
          // A person pairs the plate with a new item; a later import keeps it. Unpairing sticks too.
          yield* ledger.pair("tiktok-uk", "TT-PLATE", [{ item: "PLATE", qty: 1 }])
          yield* ledger.unpair("tiktok-uk", "TT-TEA")
          const later = yield* ledger.importCatalog("tiktok-uk", [
            { externalSku: "TT-PLATE" },
            { externalSku: "TT-TEA" }
          ])
          expect(later.paired.map((p) => [p.externalSku, p.by])).toEqual([["TT-PLATE", "manual"]])
          expect(later.unpaired.map((u) => [u.externalSku, u.reason])).toEqual([["TT-TEA", "manual"]])
          const tea = yield* Effect.either(ledger.reserve(order("M1", ["1", "TT-TEA", 1])))
          expect(Either.isLeft(tea) && tea.left).toMatchObject({ _tag: "UnknownSku", reason: "manual" })
        })
      )
    )

    it.effect("a safety-stock change republishes the item's listings", () =>
      impl.run(config, (ledger) =>
        Effect.gen(function* () {
          yield* prepare(ledger)
          const same = yield* ledger.upsertItems([new Item.Item({ id: "LID", title: "Lid" })])
          expect(same.changed).toEqual([])
          const raised = yield* ledger.upsertItems([new Item.Item({ id: "LID", safetyStock: 2 })])
          expect(refKeys(raised.changed)).toContain("tiktok-uk/TT-LID")
          const [lid] = yield* ledger.published([{ connection: "shopify-main", externalSku: "LID" }])
          expect(lid?.published).toBe(3)
        })
      )
    )
  })
}

for (const dialect of SqlTesting.dialects) {
  describe(`SqlLedger (${dialect.name})`, () => {
    it.effect(
      "joins the caller's transaction: it rolls back with it, and a refused order leaves the caller's work",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const ledger = yield* SqlLedger.make({ config })
          yield* prepare(ledger)
          const marker = (key: string) =>
            sql`INSERT INTO tkb_ledger_ops (op_key, at) VALUES (${key}, 0)`.pipe(Effect.asVoid)
          // The caller fails after the reservation: both are gone.
          const failed = yield* Effect.either(
            sql.withTransaction(
              Effect.gen(function* () {
                yield* marker("outer-1")
                yield* ledger.reserve(order("T1", ["1", "TT-MUG", 2]))
                return yield* Effect.fail("outbox write failed" as const)
              })
            )
          )
          expect(Either.isLeft(failed)).toBe(true)
          expect((yield* balance(ledger, "MUG")).held).toBe(0)
          // The reservation is refused inside the caller's transaction: the caller records that and commits.
          yield* sql.withTransaction(
            Effect.gen(function* () {
              yield* marker("outer-2")
              const refused = yield* Effect.either(ledger.reserve(order("T2", ["1", "TT-LID", 1], ["2", "TT-MUG", 50])))
              expect(Either.isLeft(refused) && refused.left._tag).toBe("InsufficientStock")
              yield* ledger.reserve(order("T3", ["1", "TT-LID", 1]))
            })
          )
          const keys = yield* sql<{ op_key: string }>`SELECT op_key FROM tkb_ledger_ops WHERE op_key LIKE 'outer-%'`
          expect(keys.map((k) => k.op_key)).toEqual(["outer-2"])
          const lines = yield* sql<{ order_id: string }>`SELECT order_id FROM tkb_reservations ORDER BY order_id`
          expect(lines.map((l) => l.order_id)).toEqual(["T3"])
          expect((yield* balance(ledger, "LID")).held).toBe(1)
        }).pipe(Effect.scoped, Effect.provide(dialect.layer()))
    )

    it.effect("keeps movements append-only and backs the guard with CHECK constraints", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const ledger = yield* SqlLedger.make({ config })
        yield* prepare(ledger)
        yield* ledger.reserve(order("U1", ["1", "TT-MUG", 1]))
        const update = yield* Effect.either(sql`UPDATE tkb_movements SET delta = 0`)
        expect(Either.isLeft(update) && String(update.left.cause)).toContain("append-only")
        const remove = yield* Effect.either(sql`DELETE FROM tkb_movements`)
        expect(Either.isLeft(remove) && String(remove.left.cause)).toContain("append-only")
        const oversell = yield* Effect.either(sql`UPDATE tkb_items SET reserved = on_hand + 1 WHERE item = 'MUG'`)
        expect(Either.isLeft(oversell)).toBe(true)
        const negative = yield* Effect.either(sql`UPDATE tkb_stock SET on_hand = -1 WHERE item = 'MUG'`)
        expect(Either.isLeft(negative)).toBe(true)
        const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_movements`
        expect(Number(row!.n)).toBe((yield* ledger.movements()).length)
      }).pipe(Effect.scoped, Effect.provide(dialect.layer()))
    )
  })
}
