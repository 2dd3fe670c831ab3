import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Item, Ledger, Pairing } from "@tkbridge/core"
import { SqlLedger, SqlTesting } from "@tkbridge/store-sql"
import { Effect, Either, Random } from "effect"

const channels = ["tiktok-uk", "tiktok-us", "shopify-main", "shoplazza-eu"] as const
const skuOn = (connection: string) => (connection.startsWith("tiktok") ? "TT-LAST" : "LAST")
const config = new Ledger.LedgerConfig({
  pairing: new Pairing.PairingConfig({ rules: [new Pairing.PairingRules({ ignorePrefixes: ["TT-"] })] })
})
const lastUnits = 37
const orders = 2000

/**
 * 2,000 one-unit orders from four channels, each delivered twice and shuffled, race for the last 37
 * units: exactly 37 orders hold stock, their second deliveries are duplicates, every other delivery
 * is refused, and the store agrees with itself to the unit.
 */
const race = (concurrency: number, options: Partial<SqlLedger.SqlLedgerOptions> = {}) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* SqlLedger.make({ config, ...options })
    yield* ledger.upsertItems([new Item.Item({ id: "LAST" })])
    for (const c of channels) yield* ledger.importCatalog(c, [{ externalSku: skuOn(c) }])
    yield* ledger.setStock([
      { item: "LAST", location: "WH1", onHand: 20 },
      { item: "LAST", location: "WH2", onHand: lastUnits - 20 }
    ])
    const deliveries = yield* Random.shuffle(
      Array.from({ length: orders * 2 }, (_, i) => {
        const n = i % orders
        const connection = channels[n % channels.length]!
        return { connection, orderId: `race-${n}`, lines: [{ lineId: "1", externalSku: skuOn(connection), qty: 1 }] }
      })
    )
    const outcomes = yield* Effect.forEach(deliveries, (d) => Effect.either(ledger.reserve(d)), { concurrency })
    const tally = new Map<string, number>()
    for (const o of outcomes) {
      const key = Either.isRight(o) ? o.right.outcome : o.left._tag
      tally.set(key, (tally.get(key) ?? 0) + 1)
    }
    expect(Object.fromEntries(tally)).toEqual({
      reserved: lastUnits,
      duplicate: lastUnits,
      InsufficientStock: orders * 2 - 2 * lastUnits
    })
    // Independent of what the ledger answered: the rows themselves.
    const [counters] = yield* sql<{ on_hand: number; reserved: number }>`
      SELECT on_hand, reserved FROM tkb_items WHERE item = 'LAST'`
    expect(counters).toEqual({ on_hand: lastUnits, reserved: lastUnits })
    const [held] = yield* sql<{ lines: number; units: number; orders: number }>`
      SELECT COUNT(*) AS lines, SUM(item_qty) AS units, COUNT(DISTINCT order_id) AS orders
      FROM tkb_reservations WHERE state = 'held'`
    expect([Number(held!.lines), Number(held!.units), Number(held!.orders)]).toEqual([lastUnits, lastUnits, lastUnits])
    const [moved] = yield* sql<{ n: number; total: number }>`
      SELECT COUNT(*) AS n, SUM(delta) AS total FROM tkb_movements WHERE kind = 'reserved'`
    expect([Number(moved!.n), Number(moved!.total)]).toEqual([lastUnits, lastUnits])
    const perChannel = yield* sql<{ connection: string; n: number }>`
      SELECT connection, COUNT(*) AS n FROM tkb_reservations GROUP BY connection`
    expect(perChannel.reduce((sum, r) => sum + Number(r.n), 0)).toBe(lastUnits)
    const [published] = yield* ledger.published([{ connection: "shopify-main", externalSku: "LAST" }])
    expect(published?.published).toBe(0)
    return sql
  })

describe("the last units under concurrency", () => {
  // The pool only opens a connection when every open one is busy: 16+ open means 16+ at once.
  const openConnections = (sql: SqlClient.SqlClient) =>
    Effect.map(
      sql<{ n: number }>`
        SELECT COUNT(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'tkbridge'`,
      ([row]) => Number(row!.n)
    )

  it.live(
    "PostgreSQL: 2,000 orders from 4 channels, one transaction each over ≥ 16 connections — exactly N succeed",
    () =>
      Effect.gen(function* () {
        const sql = yield* race(64, { groupCommit: false })
        expect(yield* openConnections(sql)).toBeGreaterThanOrEqual(16)
      }).pipe(Effect.scoped, Effect.provide(SqlTesting.pg({ maxConnections: 24 }))),
    300_000
  )

  it.live(
    "PostgreSQL: the same race through 16 concurrent group commits — exactly N succeed",
    () =>
      Effect.gen(function* () {
        const sql = yield* race(64, { batchWorkers: 16 })
        expect(yield* openConnections(sql)).toBeGreaterThanOrEqual(16)
      }).pipe(Effect.scoped, Effect.provide(SqlTesting.pg({ maxConnections: 24 }))),
    300_000
  )

  it.live(
    "SQLite: the same race from concurrent fibers — exactly N succeed, zero oversell",
    () => race(256).pipe(Effect.asVoid, Effect.scoped, Effect.provide(SqlTesting.sqlite)),
    300_000
  )
})
