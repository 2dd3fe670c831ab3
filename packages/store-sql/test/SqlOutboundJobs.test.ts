import { expect, layer } from "@effect/vitest"
import { ConnectorError, DeadLetter, Outbox } from "@tkbridge/core"
import { Effect, Option, TestClock } from "effect"
import { countRows, dialects, unique } from "./support.ts"

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlOutboundJobs (${dialect.name})`, (it) => {
    it.effect("a job is queued once per idempotency key and never coalesced with others", () =>
      Effect.gen(function* () {
        const jobs = yield* Outbox.OutboundJobs
        const connection = unique("tts")
        const ship = (order: string) =>
          jobs.enqueue({
            connection,
            kind: "fulfillment.ship",
            lane: "high",
            idempotencyKey: `ship:${order}`,
            payload: { orderId: order, trackingNumber: "4PX3000123", buyerName: "Ada" }
          })
        const a = yield* ship("577001")
        const b = yield* ship("577002")
        const again = yield* ship("577001")
        expect(a.duplicate).toBe(false)
        expect(b.duplicate).toBe(false)
        expect(again).toEqual({ id: a.id, duplicate: true })
        expect(yield* countRows("tkb_outbound_jobs", "connection", connection)).toBe(2)
        const job = Option.getOrThrow(yield* jobs.get(a.id))
        expect(job).toMatchObject({ kind: "fulfillment.ship", lane: "high", status: "pending", attempts: 0 })
        expect(job.payload).toEqual({ orderId: "577001", trackingNumber: "4PX3000123", buyerName: "Ada" })
      })
    )

    it.effect("claims follow lane priority, then due time", () =>
      Effect.gen(function* () {
        const jobs = yield* Outbox.OutboundJobs
        const connection = unique("tts")
        const enqueue = (key: string, lane: "high" | "normal" | "low") =>
          jobs.enqueue({ connection, kind: "k", lane, idempotencyKey: key, payload: key })
        yield* enqueue("low-1", "low")
        yield* enqueue("normal-1", "normal")
        yield* enqueue("high-1", "high")
        yield* enqueue("high-2", "high")
        const order: Array<string> = []
        for (let i = 0; i < 4; i++) {
          const job = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 60_000 }))
          order.push(job.idempotencyKey)
          expect(yield* jobs.complete(job, { ok: true })).toBe(true)
        }
        expect(order).toEqual(["high-1", "high-2", "normal-1", "low-1"])
        expect(Option.isNone(yield* jobs.claimNext({ connection, leaseMs: 60_000 }))).toBe(true)
        yield* enqueue("low-2", "low")
        expect(Option.isNone(yield* jobs.claimNext({ connection, leaseMs: 60_000, lanes: ["high"] }))).toBe(true)
      })
    )

    it.effect("a lost lease: the stale worker's completion changes nothing", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(0)
        const jobs = yield* Outbox.OutboundJobs
        const connection = unique("tts")
        yield* jobs.enqueue({ connection, kind: "k", lane: "high", idempotencyKey: "x", payload: null })
        const stale = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 1_000 }))
        expect(Option.isNone(yield* jobs.claimNext({ connection, leaseMs: 1_000 }))).toBe(true)
        yield* TestClock.setTime(1_001)
        const fresh = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 1_000 }))
        expect(fresh.id).toBe(stale.id)
        expect(fresh.claimToken).not.toBe(stale.claimToken)
        expect(yield* jobs.complete(stale, "stale")).toBe(false)
        expect(yield* jobs.complete(fresh, "fresh")).toBe(true)
        const done = Option.getOrThrow(yield* jobs.get(fresh.id))
        expect(done).toMatchObject({ status: "done", result: "fresh" })
      })
    )

    it.effect("failures back off with their history; dead jobs keep it for the operator", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(0)
        const jobs = yield* Outbox.OutboundJobs
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const { id } = yield* jobs.enqueue({
          connection,
          kind: "fulfillment.ship",
          lane: "high",
          idempotencyKey: "ship:1",
          payload: { orderId: "1" }
        })
        for (let attempt = 1; attempt <= 3; attempt++) {
          const job = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))
          expect(job.attempts).toBe(attempt - 1)
          expect(
            yield* jobs.fail(job, {
              message: `attempt ${attempt}: HTTP 502`,
              error: new ConnectorError.Transient({ message: "HTTP 502", httpStatus: 502, connection }),
              retryAt: new Date(attempt * 60_000)
            })
          ).toBe(true)
          expect(Option.isNone(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))).toBe(true)
          yield* TestClock.setTime(attempt * 60_000)
        }
        const last = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))
        const letterId = yield* jobs.deadLetter(last, {
          reason: "retry_exhausted",
          message: "gave up after 4 attempts",
          error: new ConnectorError.Transient({ message: "HTTP 502", httpStatus: 502, connection })
        })
        expect(Option.getOrThrow(yield* jobs.get(id)).status).toBe("dead")
        const letter = Option.getOrThrow(yield* letters.show(letterId))
        expect(letter.history.map((a) => a.message)).toEqual([
          "attempt 1: HTTP 502",
          "attempt 2: HTTP 502",
          "attempt 3: HTTP 502",
          "gave up after 4 attempts"
        ])
        expect(letter.httpStatus).toBe(502)
        expect(letter.source).toMatchObject({ kind: "fulfillment.ship", idempotencyKey: "ship:1" })
        // replay restores the retry budget and puts it back in line
        expect((yield* letters.replay(letterId)).outcome).toBe("replayed")
        const replayed = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))
        expect(replayed).toMatchObject({ id, attempts: 0 })
        expect(yield* jobs.complete(replayed)).toBe(true)
      })
    )

    it.effect("concurrent workers never get the same job", () =>
      Effect.gen(function* () {
        const jobs = yield* Outbox.OutboundJobs
        const connection = unique("tts")
        yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (i) => jobs.enqueue({ connection, kind: "k", lane: "normal", idempotencyKey: `j${i}`, payload: i })
        )
        const claimed = yield* Effect.all(
          Array.from({ length: 30 }, () => jobs.claimNext({ connection, leaseMs: 60_000 })),
          { concurrency: "unbounded" }
        )
        const ids = claimed.flatMap((o) => (Option.isSome(o) ? [o.value.id] : []))
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.length).toBeLessThanOrEqual(20)
        expect(ids.length).toBeGreaterThan(0)
        const backlog = yield* jobs.backlog(connection)
        expect(backlog).toEqual([
          { lane: "high", pending: 0 },
          { lane: "normal", pending: 20 },
          { lane: "low", pending: 0 }
        ])
      })
    )
  })
}
