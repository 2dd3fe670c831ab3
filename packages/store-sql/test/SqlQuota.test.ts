import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Quota } from "@tkbridge/core"
import { SqlQuota, SqlStore, SqlTesting } from "@tkbridge/store-sql"
import { Effect, Layer, Option, TestClock } from "effect"
import { dialects, unique } from "./support.ts"

const day = 86_400_000

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlQuota (${dialect.name})`, (it) => {
    it.effect("per-second rate: the window fills, the next second has room again", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(10 * day + 500)
        const quota = yield* Quota.Quota
        const connection = unique("tts")
        const policy: Quota.Policy = { perSecond: 3 }
        const answers = []
        for (let i = 0; i < 4; i++) answers.push(yield* quota.spend({ connection, lane: "high", policy }))
        expect(answers.map((a) => a._tag)).toEqual(["Granted", "Granted", "Granted", "Denied"])
        expect(answers[3]).toEqual({ _tag: "Denied", reason: "rate", retryAt: new Date(10 * day + 1000) })
        yield* TestClock.setTime(10 * day + 1000)
        expect((yield* quota.spend({ connection, lane: "high", policy }))._tag).toBe("Granted")
      })
    )

    it.effect("a connection without a daily quota still has its calls of the day counted, never denied", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(15 * day + 1)
        const quota = yield* Quota.Quota
        const connection = unique("shopify")
        const policy: Quota.Policy = {}
        for (let i = 0; i < 5; i++)
          expect((yield* quota.spend({ connection, lane: "low", policy }))._tag).toBe("Granted")
        const usage = yield* quota.usage(Quota.scopeOf(connection, policy), policy)
        expect(usage).toMatchObject({ usedToday: 5, dailyLimit: undefined })
        yield* TestClock.setTime(16 * day + 1)
        expect((yield* quota.usage(Quota.scopeOf(connection, policy), policy)).usedToday).toBe(0)
      })
    )

    it.effect("daily quota with headroom: low lanes stop first, high lanes spend the rest, then nobody", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(20 * day + 1)
        const quota = yield* Quota.Quota
        const connection = unique("tts")
        const policy: Quota.Policy = { daily: 10, headroom: 4 }
        const spend = (lane: Quota.Lane) => quota.spend({ connection, lane, policy })
        for (let i = 0; i < 6; i++) expect((yield* spend("low"))._tag).toBe("Granted")
        expect(yield* spend("low")).toEqual({ _tag: "Denied", reason: "headroom", retryAt: new Date(21 * day) })
        expect(yield* spend("normal")).toEqual({ _tag: "Denied", reason: "headroom", retryAt: new Date(21 * day) })
        for (let i = 0; i < 4; i++) expect((yield* spend("high"))._tag).toBe("Granted")
        expect(yield* spend("high")).toEqual({ _tag: "Denied", reason: "daily", retryAt: new Date(21 * day) })
        expect(yield* quota.usage(connection, policy)).toMatchObject({ usedToday: 10, dailyLimit: 10 })
        // the next platform day starts from zero
        yield* TestClock.setTime(21 * day)
        expect(yield* spend("low")).toEqual({ _tag: "Granted", usedToday: 1 })
      })
    )

    it.effect("windows and suspensions at real epoch times (beyond 32-bit integers) on every dialect", () =>
      Effect.gen(function* () {
        const start = Date.UTC(2026, 10, 26, 23, 59, 59, 500)
        yield* TestClock.setTime(start)
        const quota = yield* Quota.Quota
        const connection = unique("tts")
        const policy: Quota.Policy = { perSecond: 2, daily: 3, headroom: 0 }
        expect(yield* quota.spend({ connection, lane: "low", policy })).toEqual({ _tag: "Granted", usedToday: 1 })
        expect(yield* quota.spend({ connection, lane: "low", policy, calls: 2 })).toMatchObject({ _tag: "Denied" })
        const until = new Date(start + 2 * 3_600_000)
        expect(yield* quota.suspend({ scope: connection, until, reason: "429" })).toMatchObject({ until })
        expect(yield* quota.spend({ connection, lane: "high", policy })).toEqual({
          _tag: "Denied",
          reason: "suspended",
          retryAt: until
        })
        yield* TestClock.setTime(until.getTime())
        expect(yield* quota.spend({ connection, lane: "high", policy })).toEqual({ _tag: "Granted", usedToday: 1 })
        expect(yield* quota.prune(new Date(until.getTime() + day))).toBeGreaterThan(0)
      })
    )

    it.effect("a call denied by the daily window leaves the per-second window untouched", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(30 * day)
        const quota = yield* Quota.Quota
        const sql = yield* SqlClient.SqlClient
        const connection = unique("tts")
        const policy: Quota.Policy = { perSecond: 100, daily: 2, headroom: 0 }
        yield* quota.spend({ connection, lane: "low", policy, calls: 2 })
        expect((yield* quota.spend({ connection, lane: "low", policy }))._tag).toBe("Denied")
        const rows = yield* sql<{ used: number }>`SELECT used FROM tkb_quota_windows
          WHERE scope = ${connection} AND kind = 'second'`
        expect(rows.map((r) => Number(r.used))).toEqual([2])
      })
    )

    it.effect("connections sharing an app share its daily quota; rates stay per connection", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(40 * day)
        const quota = yield* Quota.Quota
        const app = unique("app")
        const policy: Quota.Policy = { scope: app, daily: 3, headroom: 0, perSecond: 2 }
        const a = unique("shop-a")
        const b = unique("shop-b")
        expect((yield* quota.spend({ connection: a, lane: "high", policy, calls: 2 }))._tag).toBe("Granted")
        expect((yield* quota.spend({ connection: b, lane: "high", policy }))._tag).toBe("Granted")
        expect(yield* quota.spend({ connection: b, lane: "high", policy })).toMatchObject({ reason: "daily" })
        expect((yield* quota.usage(app, policy)).usedToday).toBe(3)
      })
    )

    it.effect("suspensions deny every lane until their end and are never shortened", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(50 * day)
        const quota = yield* Quota.Quota
        const connection = unique("tts")
        const policy: Quota.Policy = { daily: 100 }
        const twoHours = new Date(50 * day + 2 * 3_600_000)
        yield* quota.suspend({ scope: connection, until: twoHours, reason: "429 daily quota" })
        const shorter = yield* quota.suspend({
          scope: connection,
          until: new Date(50 * day + 60_000),
          reason: "retry-after 60"
        })
        expect(shorter.until).toEqual(twoHours)
        expect(shorter.reason).toBe("429 daily quota")
        expect(yield* quota.spend({ connection, lane: "high", policy })).toEqual({
          _tag: "Denied",
          reason: "suspended",
          retryAt: twoHours
        })
        const longer = new Date(50 * day + 3 * 3_600_000)
        expect((yield* quota.suspend({ scope: connection, until: longer, reason: "extended" })).until).toEqual(longer)
        yield* TestClock.setTime(longer.getTime())
        expect(Option.isNone(yield* quota.suspension(connection))).toBe(true)
        expect((yield* quota.spend({ connection, lane: "low", policy }))._tag).toBe("Granted")
        yield* quota.suspend({ scope: connection, until: new Date(longer.getTime() + 1000), reason: "again" })
        yield* quota.lift(connection)
        expect(Option.isNone(yield* quota.suspension(connection))).toBe(true)
      })
    )

    it.effect("concurrent writers of one suspension: the latest end wins whatever the order", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(60 * day)
        const quota = yield* Quota.Quota
        const scope = unique("app")
        const ends = Array.from({ length: 25 }, (_, i) => 60 * day + (i + 1) * 60_000).sort(() => Math.random() - 0.5)
        yield* Effect.all(
          ends.map((end) => quota.suspend({ scope, until: new Date(end), reason: `until ${end}` })),
          { concurrency: "unbounded" }
        )
        const current = Option.getOrThrow(yield* quota.suspension(scope))
        expect(current.until.getTime()).toBe(Math.max(...ends))
      })
    )

    it.effect("concurrent spends never exceed the limit", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(70 * day)
        const quota = yield* Quota.Quota
        const sql = yield* SqlClient.SqlClient
        const connection = unique("tts")
        const policy: Quota.Policy = { daily: 37, headroom: 0 }
        const answers = yield* Effect.all(
          Array.from({ length: 120 }, () => quota.spend({ connection, lane: "high", policy })),
          { concurrency: "unbounded" }
        )
        expect(answers.filter((a) => a._tag === "Granted")).toHaveLength(37)
        const rows = yield* sql<{ used: number }>`SELECT used FROM tkb_quota_windows
          WHERE scope = ${connection} AND kind = 'day'`
        expect(rows.map((r) => Number(r.used))).toEqual([37])
      })
    )

    it.effect("old windows are pruned", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(80 * day)
        const quota = yield* Quota.Quota
        const connection = unique("tts")
        yield* quota.spend({ connection, lane: "high", policy: { perSecond: 5, daily: 5 } })
        yield* TestClock.setTime(82 * day)
        expect(yield* quota.prune(new Date(81 * day))).toBeGreaterThanOrEqual(2)
        expect((yield* quota.usage(connection, { daily: 5 })).usedToday).toBe(0)
      })
    )
  })
}

describe("SqlQuota across restarts", () => {
  const policy: Quota.Policy = { daily: 5, headroom: 0 }
  const spendAll = (connection: string, n: number) =>
    Effect.gen(function* () {
      const quota = yield* Quota.Quota
      const answers = yield* Effect.all(
        Array.from({ length: n }, () => quota.spend({ connection, lane: "high", policy })),
        { concurrency: 4 }
      )
      return answers.filter((a) => a._tag === "Granted").length
    })

  it.live("a restarted SQLite process keeps what was spent", () =>
    Effect.gen(function* () {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-quota-"))
      const store = () =>
        SqlQuota.layer.pipe(Layer.provideMerge(SqlStore.layerSqlite({ filename: Path.join(dir, "db.sqlite") })))
      const first = yield* spendAll("tts-restart", 3).pipe(Effect.provide(store()))
      const second = yield* spendAll("tts-restart", 5).pipe(Effect.provide(store()))
      Fs.rmSync(dir, { recursive: true, force: true })
      expect([first, second]).toEqual([3, 2])
    })
  )

  it.live(
    "two PostgreSQL runners share one count",
    () =>
      Effect.gen(function* () {
        const url = yield* SqlTesting.freshPgDatabase
        const runner = () => SqlQuota.layer.pipe(Layer.provideMerge(SqlStore.layerPg({ url, maxConnections: 5 })))
        const granted = yield* Effect.all(
          [
            spendAll("tts-shared", 6).pipe(Effect.provide(runner())),
            spendAll("tts-shared", 6).pipe(Effect.provide(runner()))
          ],
          { concurrency: "unbounded" }
        )
        expect(granted[0] + granted[1]).toBe(5)
      }).pipe(Effect.scoped),
    60_000
  )
})
