/**
 * bench:pool — the inventory pool on both dialects:
 *
 * - reservations per second and p50/p99 latency per order: SQLite (the embedded default, 128
 *   concurrent callers sharing group commits, `synchronous=FULL`) and PostgreSQL (8 workers on 8
 *   connections, group commit);
 * - the published-quantity recompute after one stock change in a catalogue of 10,000 listings
 *   (2,500 per channel on 4 channels: singles, multipacks and bundles): the stock change names the
 *   listings it touched and only those are recomputed;
 * - oversold units after the runs, counted from the rows (reserved above on hand, or held
 *   reservation rows that disagree with the counters) — must be 0.
 *
 * Orders have one or two lines over random channel SKUs (singles, packs of 2–3, two-item bundles).
 * Writes `{"sqlite":{"reservations_per_s","p50_ms","p99_ms"},"postgres":{…},"recompute_ms","oversold"}`.
 * The launcher is `bench/pool.ts` at the repository root (`pnpm bench:pool`).
 */

import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { SqlClient } from "@effect/sql"
import { Item, Ledger, Pairing } from "@tkbridge/core"
import { SqlLedger, SqlStore, SqlTesting } from "@tkbridge/store-sql"
import { Effect, Layer, Random } from "effect"

const channels = ["tiktok-uk", "tiktok-us", "shopify-main", "shoplazza-eu"] as const
const itemCount = 2_000
const singlesPerChannel = 2_000
const packsPerChannel = 300
const bundlesPerChannel = 200
const locations = ["WH1", "WH2", "WH3"] as const
/** Concurrent callers on SQLite: the embedded runner's inbox processor and webhook edge at full load. */
const sqliteCallers = 128

const itemId = (i: number) => `SKU-${String(i).padStart(5, "0")}`
const prefix = (connection: string) => (connection.startsWith("tiktok") ? "TT-" : "")

/** The catalogue: per channel, singles, `*n` packs and bundles (explicit pairs shared by every channel). */
const catalogue = () => {
  const bundles = Array.from({ length: bundlesPerChannel }, (_, b) => {
    const a = (b * 7) % itemCount
    const c = (b * 13 + 1) % itemCount
    return new Pairing.ExplicitPair({
      externalSku: `KIT-${b}`,
      components: [
        { item: itemId(a), qty: 1 },
        { item: itemId(c === a ? (c + 1) % itemCount : c), qty: 2 }
      ]
    })
  })
  const skus = new Map<string, Array<string>>()
  for (const connection of channels) {
    const list: Array<string> = []
    for (let i = 0; i < singlesPerChannel; i++) list.push(`${prefix(connection)}${itemId(i)}`)
    for (let i = 0; i < packsPerChannel; i++)
      list.push(`${prefix(connection)}${itemId((i * 3) % itemCount)}*${2 + (i % 2)}`)
    for (let b = 0; b < bundlesPerChannel; b++) list.push(`KIT-${b}`)
    skus.set(connection, list)
  }
  const config = new Ledger.LedgerConfig({
    pairing: new Pairing.PairingConfig({
      explicit: bundles,
      rules: [new Pairing.PairingRules({ ignorePrefixes: ["TT-"], packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$"] })]
    })
  })
  return { config, skus }
}

const setup = (ledger: Ledger.LedgerService, skus: Map<string, Array<string>>) =>
  Effect.gen(function* () {
    yield* ledger.upsertItems(Array.from({ length: itemCount }, (_, i) => new Item.Item({ id: itemId(i) })))
    let listings = 0
    for (const [connection, list] of skus) {
      const report = yield* ledger.importCatalog(
        connection,
        list.map((externalSku) => ({ externalSku }))
      )
      if (report.unpaired.length > 0) return yield* Effect.dieMessage(`unpaired: ${report.unpaired[0]?.externalSku}`)
      listings += report.paired.length
    }
    for (let i = 0; i < itemCount; i += 500) {
      yield* ledger.setStock(
        Array.from({ length: Math.min(500, itemCount - i) }, (_, k) => k + i).flatMap((n) =>
          locations.map((location) => ({ item: itemId(n), location, onHand: 1_000_000, sourceVersion: 1 }))
        )
      )
    }
    return listings
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const round = (n: number, digits: number) => Number(n.toFixed(digits))

/** Runs `count` orders through `workers` concurrent callers; returns throughput and latency. */
const reservations = (
  ledger: Ledger.LedgerService,
  skus: Map<string, Array<string>>,
  options: { readonly label: string; readonly count: number; readonly workers: number; readonly warmup: number }
) =>
  Effect.gen(function* () {
    const orders = yield* Effect.forEach(Array.from({ length: options.warmup + options.count }), (_, n) =>
      Effect.gen(function* () {
        const connection = channels[n % channels.length]!
        const list = skus.get(connection)!
        const lines = (yield* Random.nextIntBetween(0, 10)) < 7 ? 1 : 2
        const picked = yield* Effect.forEach(Array.from({ length: lines }), (_, l) =>
          Effect.map(Random.nextIntBetween(0, list.length), (i) => ({
            lineId: String(l + 1),
            externalSku: list[i]!,
            qty: 1
          }))
        )
        return { connection, orderId: `${options.label}-${n}`, lines: picked }
      })
    )
    const latencies: Array<number> = []
    let refused = 0
    const place = (order: Ledger.ReserveInput, record: boolean) =>
      Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.map(Effect.either(ledger.reserve(order)), (r) => {
          if (!record) return
          latencies.push(performance.now() - t0)
          if (r._tag === "Left") refused++
        })
      })
    yield* Effect.forEach(orders.slice(0, options.warmup), (o) => place(o, false), { concurrency: options.workers })
    const started = performance.now()
    yield* Effect.forEach(orders.slice(options.warmup), (o) => place(o, true), { concurrency: options.workers })
    const elapsed = performance.now() - started
    latencies.sort((a, b) => a - b)
    return {
      reservations_per_s: Math.round((options.count / elapsed) * 1000),
      p50_ms: round(percentile(latencies, 50), 3),
      p99_ms: round(percentile(latencies, 99), 3),
      refused
    }
  })

/** One stock change, then the published quantities of exactly the listings it names. */
const recompute = (ledger: Ledger.LedgerService, rounds: number) =>
  Effect.gen(function* () {
    const recomputes: Array<number> = []
    const cycles: Array<number> = []
    let affected = 0
    for (let r = 0; r < rounds; r++) {
      const item = itemId(yield* Random.nextIntBetween(0, itemCount))
      const t0 = performance.now()
      const change = yield* ledger.setStock([{ item, location: "WH1", onHand: 500_000 + r, sourceVersion: 10 + r }])
      const t1 = performance.now()
      const published = yield* ledger.published(change.changed)
      const t2 = performance.now()
      if (published.length !== change.changed.length)
        return yield* Effect.dieMessage("a changed listing was not recomputed")
      affected += published.length
      recomputes.push(t2 - t1)
      cycles.push(t2 - t0)
    }
    recomputes.sort((a, b) => a - b)
    cycles.sort((a, b) => a - b)
    return {
      recompute_p50_ms: round(percentile(recomputes, 50), 3),
      recompute_p99_ms: round(percentile(recomputes, 99), 3),
      change_and_recompute_p50_ms: round(percentile(cycles, 50), 3),
      listings_per_change: round(affected / rounds, 1)
    }
  })

/** Units sold twice, counted from the rows alone. */
const oversold = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const [counters] = yield* sql<{ units: number | null }>`
    SELECT SUM(CASE WHEN reserved > on_hand THEN reserved - on_hand ELSE 0 END) AS units FROM tkb_items`
  const [rows] = yield* sql<{ units: number | null }>`
    SELECT SUM(ABS(i.reserved - COALESCE(h.qty, 0))) AS units
    FROM tkb_items i LEFT JOIN (
      SELECT item, SUM(item_qty) AS qty FROM tkb_reservations WHERE state = 'held' GROUP BY item
    ) h ON h.item = i.item`
  return Number(counters?.units ?? 0) + Number(rows?.units ?? 0)
})

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

/** Runs the benchmark and writes the results to `outFile`. */
export const run = (outFile: string): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const { config, skus } = catalogue()
      yield* say(
        `bench:pool — node ${process.version}, ${Os.cpus().length} cpus, load ${Os.loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}`
      )

      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-bench-pool-"))
      const sqlite = yield* Effect.gen(function* () {
        const ledger = yield* SqlLedger.make({ config })
        const listings = yield* setup(ledger, skus)
        yield* say(`sqlite: ${listings} listings on ${channels.length} channels, ${itemCount} items`)
        const r = yield* reservations(ledger, skus, {
          label: "lite",
          count: 20_000,
          workers: sqliteCallers,
          warmup: 2_000
        })
        yield* say(
          `sqlite: ${r.reservations_per_s} reservations/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (${sqliteCallers} callers, group commit, synchronous=FULL; ${r.refused} refused)`
        )
        const c = yield* recompute(ledger, 300)
        yield* say(
          `sqlite: recompute after one stock change: p50 ${c.recompute_p50_ms} ms, p99 ${c.recompute_p99_ms} ms for ${c.listings_per_change} of ${listings} listings (change + recompute p50 ${c.change_and_recompute_p50_ms} ms)`
        )
        const bad = yield* oversold
        return { r, c, bad }
      }).pipe(Effect.scoped, Effect.provide(SqlStore.layerSqlite({ filename: Path.join(dir, "pool.db") })))
      Fs.rmSync(dir, { recursive: true, force: true })

      const postgres = yield* Effect.gen(function* () {
        const url = yield* SqlTesting.freshPgDatabase
        return yield* Effect.gen(function* () {
          const ledger = yield* SqlLedger.make({ config })
          yield* setup(ledger, skus)
          const r = yield* reservations(ledger, skus, { label: "pg", count: 10_000, workers: 8, warmup: 1_000 })
          yield* say(
            `postgres: ${r.reservations_per_s} reservations/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (8 workers, 8 connections; ${r.refused} refused)`
          )
          const c = yield* recompute(ledger, 100)
          yield* say(
            `postgres: recompute after one stock change: p50 ${c.recompute_p50_ms} ms, p99 ${c.recompute_p99_ms} ms`
          )
          const bad = yield* oversold
          return { r, bad }
        }).pipe(Effect.provide(Layer.orDie(SqlStore.layerPg({ url, maxConnections: 8 }))))
      }).pipe(Effect.scoped)

      const result = {
        sqlite: {
          reservations_per_s: sqlite.r.reservations_per_s,
          p50_ms: sqlite.r.p50_ms,
          p99_ms: sqlite.r.p99_ms
        },
        postgres: {
          reservations_per_s: postgres.r.reservations_per_s,
          p50_ms: postgres.r.p50_ms,
          p99_ms: postgres.r.p99_ms
        },
        recompute_ms: sqlite.c.recompute_p50_ms,
        oversold: sqlite.bad + postgres.bad
      }
      yield* say(`oversold units: ${result.oversold}`)
      Fs.mkdirSync(Path.dirname(outFile), { recursive: true })
      Fs.writeFileSync(outFile, `${JSON.stringify(result)}\n`)
      yield* say(`wrote ${outFile}`)
    }).pipe(Effect.orDie)
  )
