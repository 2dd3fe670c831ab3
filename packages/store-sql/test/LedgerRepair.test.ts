import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Item, Ledger } from "@tkbridge/core"
import { SqlLedger, SqlRepair, SqlTesting } from "@tkbridge/store-sql"
import { Effect } from "effect"

const config = new Ledger.LedgerConfig({})

const prepare = Effect.gen(function* () {
  const ledger = yield* SqlLedger.make({ config })
  yield* ledger.upsertItems([new Item.Item({ id: "MUG" }), new Item.Item({ id: "LID" })])
  yield* ledger.importCatalog("shopify-main", [{ externalSku: "MUG" }, { externalSku: "LID" }])
  yield* ledger.setStock([
    { item: "MUG", location: "WH1", onHand: 10 },
    { item: "LID", location: "WH1", onHand: 6 },
    { item: "LID", location: "WH2", onHand: 2 }
  ])
  const order = (orderId: string, sku: string, qty: number) =>
    ledger.reserve({ connection: "shopify-main", orderId, lines: [{ lineId: "1", externalSku: sku, qty }] })
  yield* order("o1", "MUG", 3)
  yield* order("o2", "MUG", 2)
  yield* order("o3", "LID", 4)
  yield* ledger.commit({ connection: "shopify-main", orderId: "o2" })
  return ledger
})

/** Σ movements per counter, read straight from the table. */
const ledgerSums = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ item: string; location: string | null; kind: string; total: number }>`
    SELECT item, location, kind, SUM(delta) AS total FROM tkb_movements GROUP BY item, location, kind`
  return Object.fromEntries(rows.map((r) => [`${r.kind}:${r.item}@${r.location ?? ""}`, Number(r.total)]))
})

for (const dialect of SqlTesting.dialects) {
  describe(`SqlRepair (${dialect.name})`, () => {
    it.effect("finds nothing to fix in a store only the ledger wrote to", () =>
      Effect.gen(function* () {
        yield* prepare
        expect(yield* SqlRepair.repair()).toEqual({ counters: [], ledger: [], fixed: false, changed: [] })
      }).pipe(Effect.scoped, Effect.provide(dialect.layer()))
    )

    it.effect("reports drifted counters and unrecorded stock changes, then fixes them with repair movements", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const ledger = yield* prepare
        // What a lost update or a hand edit leaves behind: a reserved counter that forgot an order,
        // a total that disagrees with its locations, and a stock row changed outside the ledger.
        yield* sql`UPDATE tkb_items SET reserved = 0 WHERE item = 'MUG'`
        yield* sql`UPDATE tkb_items SET on_hand = on_hand + 5 WHERE item = 'LID'`
        yield* sql`UPDATE tkb_stock SET on_hand = on_hand + 1 WHERE item = 'LID' AND location = 'WH2'`

        const report = yield* SqlRepair.repair()
        expect(report.fixed).toBe(false)
        expect(report.counters).toEqual([
          { item: "LID", counter: "on_hand", recorded: 13, expected: 9 },
          { item: "MUG", counter: "reserved", recorded: 0, expected: 3 }
        ])
        expect(report.ledger).toEqual([
          { item: "LID", kind: "on_hand", location: "WH2", recorded: 3, fromMovements: 2 },
          { item: "MUG", kind: "reserved", recorded: 0, fromMovements: 3 }
        ])
        // Reporting changes nothing.
        const [mug] = yield* sql<{ reserved: number }>`SELECT reserved FROM tkb_items WHERE item = 'MUG'`
        expect(mug?.reserved).toBe(0)

        const fixed = yield* SqlRepair.repair({ fix: true, actor: "ops@seller", reason: "weekly check" })
        expect(fixed.fixed).toBe(true)
        expect(fixed.changed).toEqual([
          { connection: "shopify-main", externalSku: "LID" },
          { connection: "shopify-main", externalSku: "MUG" }
        ])
        const items = yield* sql<{ item: string; on_hand: number; reserved: number }>`
          SELECT item, on_hand, reserved FROM tkb_items ORDER BY item`
        expect(items).toEqual([
          { item: "LID", on_hand: 9, reserved: 4 },
          { item: "MUG", on_hand: 8, reserved: 3 }
        ])
        // Every unit is accounted for again, and the fix is in the history.
        expect(yield* ledgerSums).toEqual({
          "on_hand:LID@WH1": 6,
          "on_hand:LID@WH2": 3,
          "on_hand:MUG@WH1": 8,
          "reserved:LID@": 4,
          "reserved:MUG@": 3
        })
        const repairs = (yield* ledger.movements()).filter((m) => m.op === "repair")
        expect(repairs.map((m) => [m.item, m.kind, m.location ?? null, m.before, m.after])).toEqual([
          ["LID", "on_hand", "WH2", 2, 3],
          ["MUG", "reserved", null, 3, 0],
          ["MUG", "reserved", null, 0, 3]
        ])
        expect(repairs.every((m) => m.actor === "ops@seller" && m.reason === "weekly check")).toBe(true)
        expect(yield* SqlRepair.repair()).toEqual({ counters: [], ledger: [], fixed: false, changed: [] })
        // The repaired pool sells exactly what it has.
        const [published] = yield* ledger.published([{ connection: "shopify-main", externalSku: "MUG" }])
        expect(published?.published).toBe(5)
      }).pipe(Effect.scoped, Effect.provide(dialect.layer()))
    )
  })
}
