import { SqlClient } from "@effect/sql"
import { assert, expect, layer } from "@effect/vitest"
import { ConnectorError, DeadLetter, Outbox } from "@tkbridge/core"
import { Effect, Option, TestClock } from "effect"
import { dialects, unique } from "./support.ts"

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlOutbox (${dialect.name})`, (it) => {
    it.effect("the latest desired value wins; an unchanged value bumps nothing", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        expect(yield* outbox.setDesired({ connection, listing: "SKU-1", quantity: 7 })).toEqual({
          version: 1,
          changed: true
        })
        expect(yield* outbox.setDesired({ connection, listing: "SKU-1", quantity: 7 })).toEqual({
          version: 1,
          changed: false
        })
        expect(yield* outbox.setDesired({ connection, listing: "SKU-1", quantity: 5 })).toEqual({
          version: 2,
          changed: true
        })
        expect(yield* outbox.setDesired({ connection, listing: "SKU-1", quantity: 5, force: true })).toEqual({
          version: 3,
          changed: true
        })
        const row = Option.getOrThrow(yield* outbox.get(connection, "SKU-1"))
        expect(row).toMatchObject({ desiredQuantity: 5, desiredVersion: 3, pushedVersion: 0, status: "pending" })
        const refused = yield* outbox.setDesired({ connection, listing: "SKU-1", quantity: -1 }).pipe(Effect.flip)
        expect(refused._tag).toBe("StoreError")
      })
    )

    it.effect("a push claims the current version with its idempotency key and marks it pushed once", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        yield* outbox.setDesired({ connection, listing: "A", quantity: 3 })
        yield* outbox.setDesired({ connection, listing: "B", quantity: 4 })
        const claims = yield* outbox.claimDue({ connection, limit: 10, leaseMs: 30_000 })
        expect(claims.map((c) => [c.listing, c.quantity, c.version, c.idempotencyKey])).toEqual([
          ["A", 3, 1, `${connection}:A:1`],
          ["B", 4, 1, `${connection}:B:1`]
        ])
        // claimed rows are not handed out twice while the lease holds
        expect(yield* outbox.claimDue({ connection, limit: 10, leaseMs: 30_000 })).toEqual([])
        expect(yield* outbox.markPushed(claims[0]!)).toBe(true)
        expect(yield* outbox.markPushed(claims[0]!)).toBe(false)
        const a = Option.getOrThrow(yield* outbox.get(connection, "A"))
        expect(a).toMatchObject({ pushedVersion: 1, pushedQuantity: 3 })
        expect(a.claimedUntil).toBeUndefined()
        expect(yield* outbox.backlog(connection)).toBe(1)
      })
    )

    it.effect(
      "a value that changes during a push is pushed afterwards; an old claim never overwrites a newer push",
      () =>
        Effect.gen(function* () {
          const outbox = yield* Outbox.StockOutbox
          const connection = unique("shop")
          yield* outbox.setDesired({ connection, listing: "A", quantity: 3 })
          const [first] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 1 })
          yield* outbox.setDesired({ connection, listing: "A", quantity: 9 })
          yield* TestClock.adjust("2 millis") // the first worker's lease ran out
          const [second] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 30_000 })
          expect(second).toMatchObject({ quantity: 9, version: 2, pushedQuantity: undefined })
          expect(yield* outbox.markPushed(second!)).toBe(true)
          // the slow first worker finishes last: its older version must not win
          expect(yield* outbox.markPushed(first!)).toBe(false)
          const row = Option.getOrThrow(yield* outbox.get(connection, "A"))
          expect(row).toMatchObject({ pushedVersion: 2, pushedQuantity: 9, desiredVersion: 2 })
          expect(yield* outbox.claimDue({ connection, limit: 1, leaseMs: 30_000 })).toEqual([])
        })
    )

    it.effect("coalescing: the first change goes at once, a burst after it folds into one trailing push", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_000_000)
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        const coalesceMs = 2_000
        yield* outbox.setDesired({ connection, listing: "A", quantity: 10, coalesceMs })
        const [first] = yield* outbox.claimDue({ connection, limit: 5, leaseMs: 10_000 })
        expect(first?.quantity).toBe(10)
        yield* outbox.markPushed(first!)
        for (const q of [9, 8, 7, 6]) {
          yield* TestClock.adjust("100 millis")
          yield* outbox.setDesired({ connection, listing: "A", quantity: q, coalesceMs })
        }
        expect(yield* outbox.claimDue({ connection, limit: 5, leaseMs: 10_000 })).toEqual([])
        expect(Option.getOrThrow(yield* outbox.nextDue(connection)).getTime()).toBe(1_000_000 + coalesceMs)
        yield* TestClock.setTime(1_000_000 + coalesceMs)
        const trailing = yield* outbox.claimDue({ connection, limit: 5, leaseMs: 10_000 })
        expect(trailing.map((c) => [c.quantity, c.version])).toEqual([[6, 5]])
        yield* outbox.markPushed(trailing[0]!)
        // quiet for longer than the window: the next change goes at once again
        yield* TestClock.adjust("1 minute")
        yield* outbox.setDesired({ connection, listing: "A", quantity: 1, coalesceMs })
        expect((yield* outbox.claimDue({ connection, limit: 5, leaseMs: 10_000 })).map((c) => c.quantity)).toEqual([1])
      })
    )

    it.effect("a change landing during a push waits out the window after that push", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(5_000_000)
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        yield* outbox.setDesired({ connection, listing: "A", quantity: 10, coalesceMs: 1_000 })
        const [claim] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
        yield* outbox.setDesired({ connection, listing: "A", quantity: 4, coalesceMs: 1_000 })
        yield* TestClock.adjust("300 millis")
        yield* outbox.markPushed(claim!)
        expect(Option.getOrThrow(yield* outbox.nextDue(connection)).getTime()).toBe(5_000_300 + 1_000)
      })
    )

    it.effect(
      "a newer version during a push at a real epoch time: the trailing push is scheduled (no int4 overflow)",
      () =>
        Effect.gen(function* () {
          // Epoch milliseconds today are far beyond a 32-bit integer; PostgreSQL must not type them as one.
          const start = Date.UTC(2026, 10, 26, 12, 0, 0)
          yield* TestClock.setTime(start)
          const outbox = yield* Outbox.StockOutbox
          const connection = unique("shop")
          yield* outbox.setDesired({ connection, listing: "A", quantity: 10, coalesceMs: 250 })
          const [claim] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          yield* outbox.setDesired({ connection, listing: "A", quantity: 4, coalesceMs: 250 })
          yield* TestClock.adjust("40 millis")
          expect(yield* outbox.markPushed(claim!)).toBe(true)
          expect(Option.getOrThrow(yield* outbox.nextDue(connection)).getTime()).toBe(start + 40 + 250)
          const row = Option.getOrThrow(yield* outbox.get(connection, "A"))
          expect(row).toMatchObject({ pushedVersion: 1, pushedQuantity: 10, desiredVersion: 2, desiredQuantity: 4 })
          expect(row.pushedAt?.getTime()).toBe(start + 40)
          yield* TestClock.adjust("250 millis")
          const [next] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          expect(next).toMatchObject({ quantity: 4, version: 2, pushedQuantity: 10 })
        })
    )

    it.effect(
      "failures back off and are recorded; a dead push keeps coalescing and a replay sends the latest value",
      () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(0)
          const outbox = yield* Outbox.StockOutbox
          const letters = yield* DeadLetter.DeadLetters
          const connection = unique("shop")
          yield* outbox.setDesired({ connection, listing: "A", quantity: 3 })
          const [claim] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          yield* outbox.fail(claim!, {
            message: "HTTP 503",
            error: new ConnectorError.Transient({ message: "HTTP 503", connection, httpStatus: 503 }),
            retryAt: new Date(60_000)
          })
          expect(yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })).toEqual([])
          yield* TestClock.setTime(60_000)
          const [retry] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          expect(retry).toMatchObject({ version: 1, attempts: 1 })
          const letterId = yield* outbox.deadLetter(retry!, {
            reason: "rejected",
            message: "listing is frozen",
            error: new ConnectorError.Rejected({ message: "listing is frozen", code: "12052700", connection })
          })
          yield* outbox.setDesired({ connection, listing: "A", quantity: 8 })
          yield* TestClock.adjust("1 hour")
          expect(yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })).toEqual([])
          const letter = Option.getOrThrow(yield* letters.show(letterId))
          expect(letter).toMatchObject({ kind: "stock_push", key: "A", reason: "rejected", attempts: 2 })
          expect(letter.error?._tag).toBe("Rejected")
          expect(letter.source).toMatchObject({ desiredQuantity: 8, pushedVersion: 0 })
          expect((yield* letters.replay(letterId)).outcome).toBe("replayed")
          const [replayed] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          expect(replayed).toMatchObject({ quantity: 8, version: 2, attempts: 0 })
        })
    )

    it.effect("discarding a dead push gives up its number, not the listing: the next change goes out", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(0)
        const outbox = yield* Outbox.StockOutbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("shop")
        yield* outbox.setDesired({ connection, listing: "A", quantity: 3 })
        const [claim] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
        const letterId = yield* outbox.deadLetter(claim!, {
          reason: "rejected",
          message: "the product is under review",
          error: new ConnectorError.Rejected({ message: "the product is under review", code: "12052901", connection })
        })
        expect((yield* letters.discard(letterId, "review done; the next change will do")).outcome).toBe("discarded")
        // The discarded number is not written again …
        expect(yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })).toEqual([])
        expect(Option.getOrThrow(yield* outbox.get(connection, "A"))).toMatchObject({ status: "pending" })
        // … and the pool's next number is.
        yield* outbox.setDesired({ connection, listing: "A", quantity: 2 })
        const [next] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
        expect(next).toMatchObject({ listing: "A", quantity: 2, version: 2, attempts: 0 })
      })
    )

    it.effect("expedite ends the back-off of a connection's unpushed listings only", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(0)
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        const other = unique("shop")
        for (const c of [connection, other]) {
          yield* outbox.setDesired({ connection: c, listing: "A", quantity: 3 })
          const [claim] = yield* outbox.claimDue({ connection: c, limit: 1, leaseMs: 10_000 })
          yield* outbox.fail(claim!, {
            message: "needs re-authorization",
            error: new ConnectorError.AuthRevoked({ message: "token revoked", connection: c }),
            retryAt: new Date(3_600_000)
          })
        }
        // The lease of the failed claim is over; only the back-off holds the rows.
        yield* TestClock.setTime(20_000)
        expect(yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })).toEqual([])
        expect(yield* outbox.expedite(connection)).toBe(1)
        const [due] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
        expect(due).toMatchObject({ listing: "A", quantity: 3, attempts: 1 })
        expect(yield* outbox.claimDue({ connection: other, limit: 1, leaseMs: 10_000 })).toEqual([])
        expect(yield* outbox.expedite(connection)).toBe(0)
      })
    )

    it.effect("concurrent upserts converge to the value of the latest version", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox.StockOutbox
        const connection = unique("shop")
        const writes = Array.from({ length: 60 }, (_, i) => i + 1)
        const results = yield* Effect.all(
          writes.map((q) =>
            outbox.setDesired({ connection, listing: "HOT", quantity: q }).pipe(Effect.map((r) => ({ q, ...r })))
          ),
          { concurrency: "unbounded" }
        )
        const versions = results.map((r) => r.version).sort((a, b) => a - b)
        expect(versions).toEqual(writes) // every write got its own version, none lost
        const last = results.find((r) => r.version === writes.length)!
        const row = Option.getOrThrow(yield* outbox.get(connection, "HOT"))
        expect(row).toMatchObject({ desiredVersion: writes.length, desiredQuantity: last.q })
      })
    )

    it.effect("concurrent pushers never claim one version twice", () =>
      Effect.gen(function* () {
        const outbox = yield* Outbox.StockOutbox
        const sql = yield* SqlClient.SqlClient
        const connection = unique("shop")
        yield* Effect.forEach(
          Array.from({ length: 30 }, (_, i) => `L${i}`),
          (listing) => outbox.setDesired({ connection, listing, quantity: 1 })
        )
        const batches = yield* Effect.all(
          Array.from({ length: 8 }, () => outbox.claimDue({ connection, limit: 5, leaseMs: 60_000 })),
          { concurrency: "unbounded" }
        )
        const claimed = batches.flat().map((c) => c.listing)
        expect(new Set(claimed).size).toBe(claimed.length)
        const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_stock_outbox
          WHERE connection = ${connection} AND claimed_version IS NOT NULL`
        expect(Number(rows[0]?.n)).toBe(claimed.length)
        assert(claimed.length > 0)
      })
    )
  })
}
