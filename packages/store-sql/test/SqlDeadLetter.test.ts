import { SqlClient } from "@effect/sql"
import { assert, expect, layer } from "@effect/vitest"
import { Audit, ConnectorError, DeadLetter, HttpExchange, Inbox, Outbox } from "@tkbridge/core"
import { Duration, Effect, Option, TestClock } from "effect"
import { dialects, recordDelivery, request, unique } from "./support.ts"

const exchange = new HttpExchange.HttpExchange({
  method: "POST",
  url: "https://open-api.tiktokglobalshop.com/product/202309/products/1/inventory/update?app_key=k&sign=***",
  curl: "curl -X POST 'https://open-api.tiktokglobalshop.com/product/202309/products/1/inventory/update' -H 'x-tts-access-token: ***'",
  status: 400,
  responseHeaders: { "content-type": "application/json" },
  responseBody: '{"code":12052700,"message":"sku is frozen"}',
  durationMs: 84
})

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlDeadLetter (${dialect.name})`, (it) => {
    it.effect("a letter keeps the whole context: request as cURL, response, error, every attempt, the source", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_000)
        const jobs = yield* Outbox.OutboundJobs
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        yield* jobs.enqueue({
          connection,
          kind: "stock.adjust",
          lane: "low",
          idempotencyKey: "k1",
          payload: { sku: "RED-XL" }
        })
        const first = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 1000 }))
        yield* jobs.fail(first, {
          message: "timeout",
          error: new ConnectorError.Transient({ message: "no response within 30s", connection }),
          retryAt: new Date(2_000)
        })
        yield* TestClock.setTime(2_000)
        const second = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 1000 }))
        const error = new ConnectorError.Rejected({
          message: "sku is frozen",
          code: "12052700",
          connection,
          httpStatus: 400,
          exchange
        })
        const id = yield* jobs.deadLetter(second, {
          reason: DeadLetter.reasonFor(error),
          message: error.message,
          error
        })
        const letter = Option.getOrThrow(yield* letters.show(id))
        expect(letter).toMatchObject({
          id,
          kind: "job",
          connection,
          reason: "rejected",
          status: "open",
          httpStatus: 400,
          attempts: 2,
          replayCount: 0
        })
        expect(letter.firstFailedAt).toEqual(new Date(2_000))
        expect(letter.exchange?.curl).toContain("x-tts-access-token: ***")
        expect(letter.exchange?.responseBody).toBe('{"code":12052700,"message":"sku is frozen"}')
        assert(letter.error?._tag === "Rejected")
        expect(letter.error.code).toBe("12052700")
        expect(letter.error.exchange?.status).toBe(400)
        expect(letter.history.map((a) => [a.at.getTime(), a.message, a.error?._tag])).toEqual([
          [1_000, "timeout", "Transient"],
          [2_000, "sku is frozen", "Rejected"]
        ])
        expect(letter.history[1]?.exchange?.status).toBe(400)
        expect(letter.source).toMatchObject({ kind: "stock.adjust", payload: { sku: "RED-XL" }, status: "dead" })
      })
    )

    it.effect("list filters by connection, reason, kind and age; counts match", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const a = unique("tts")
        const b = unique("shopify")
        const dead = (connection: string, key: string, reason: DeadLetter.Reason, at: number) =>
          Effect.gen(function* () {
            yield* TestClock.setTime(at)
            const { id } = yield* recordDelivery(connection, key)
            return yield* inbox.deadLetter(id, { reason, message: `${reason} ${key}` })
          })
        const a1 = yield* dead(a, "1", "unknown_sku", 10_000)
        const a2 = yield* dead(a, "2", "unmappable_payload", 20_000)
        const b1 = yield* dead(b, "1", "unknown_sku", 30_000)
        const ids = (list: ReadonlyArray<DeadLetter.Summary>) => list.map((l) => l.id)
        expect(ids(yield* letters.list({ connection: a }))).toEqual([a1, a2])
        expect(ids(yield* letters.list({ connection: a, reason: "unknown_sku" }))).toEqual([a1])
        expect(ids(yield* letters.list({ reason: "unknown_sku", newerThan: new Date(5_000) }))).toEqual(
          expect.arrayContaining([a1, b1])
        )
        expect(ids(yield* letters.list({ connection: b, olderThan: new Date(29_999) }))).toEqual([])
        expect(ids(yield* letters.list({ connection: a, olderThan: new Date(15_000) }))).toEqual([a1])
        expect(ids(yield* letters.list({ connection: a, kind: "stock_push" }))).toEqual([])
        expect(yield* letters.count({ connection: a })).toBe(2)
        expect(ids(yield* letters.list({ connection: a, limit: 1 }))).toEqual([a1])
      })
    )

    it.effect("replay resets the inbox entry so it re-enters the normal path; replaying again is a no-op", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "r")
        yield* inbox.fail(id, { message: "transient", retryAt: new Date(8.64e15) })
        const letterId = yield* inbox.deadLetter(id, { reason: "unknown_sku", message: "SKU X not paired" })
        expect(yield* letters.replay(letterId)).toEqual({
          id: letterId,
          outcome: "replayed",
          kind: "inbox",
          connection,
          key: String(id)
        })
        expect(yield* letters.replay(letterId)).toEqual({ id: letterId, outcome: "already_replayed" })
        const entry = Option.getOrThrow(yield* inbox.get(id))
        expect(entry).toMatchObject({ status: "pending", attempts: 0 })
        expect((yield* inbox.pending({ dueAt: new Date(0), connection })).map((p) => p.id)).toEqual([id])
        const replayed = Option.getOrThrow(yield* letters.show(letterId))
        expect(replayed).toMatchObject({ status: "replayed", replayCount: 1 })
        // it fails again: the same letter re-opens with the whole history
        yield* inbox.deadLetter(id, { reason: "unknown_sku", message: "still not paired" })
        const reopened = Option.getOrThrow(yield* letters.show(letterId))
        expect(reopened).toMatchObject({ status: "open", replayCount: 1 })
        expect(reopened.history.map((a) => a.message)).toEqual(["transient", "SKU X not paired", "still not paired"])
        // and once applied, it is done
        expect((yield* letters.replay(letterId)).outcome).toBe("replayed")
        expect((yield* inbox.process(id, () => Effect.void))._tag).toBe("Applied")
      })
    )

    it.effect("two operators replaying at once reset the row once", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "rr")
        const letterId = yield* inbox.deadLetter(id, { reason: "apply_failed", message: "boom" })
        const outcomes = yield* Effect.all(
          Array.from({ length: 10 }, () => letters.replay(letterId)),
          { concurrency: "unbounded" }
        )
        expect(outcomes.filter((o) => o.outcome === "replayed")).toHaveLength(1)
        const audit = yield* Audit.Audit
        const rows = yield* audit.list({ subject: `dead-letter:${letterId}`, action: "dlq.replay" })
        expect(rows).toHaveLength(1)
      })
    )

    it.effect("replay all matching a filter, only open letters", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const make = (key: string, reason: DeadLetter.Reason) =>
          Effect.flatMap(recordDelivery(connection, key), ({ id }) => inbox.deadLetter(id, { reason, message: key }))
        const x = yield* make("x", "unknown_sku")
        const y = yield* make("y", "unknown_sku")
        const z = yield* make("z", "unmappable_payload")
        yield* letters.discard(y, "test order, not real")
        const outcomes = yield* letters.replayMatching({ connection, reason: "unknown_sku" })
        expect(outcomes.map((o) => [o.id, o.outcome])).toEqual([[x, "replayed"]])
        expect(yield* letters.replayMatching({ connection, reason: "unknown_sku" })).toEqual([])
        expect((yield* letters.list({ connection })).map((l) => l.id)).toEqual([z])
      })
    )

    it.effect("discard keeps the letter with its reason and writes it to the audit trail", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Duration.toMillis("3 days"))
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const audit = yield* Audit.Audit
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "d")
        const letterId = yield* inbox.deadLetter(id, { reason: "unknown_sku", message: "SKU Z" })
        expect(yield* letters.discard(letterId, "SKU retired")).toEqual({ id: letterId, outcome: "discarded" })
        expect(yield* letters.discard(letterId, "again")).toEqual({ id: letterId, outcome: "already_discarded" })
        expect(yield* letters.replay(letterId)).toEqual({ id: letterId, outcome: "discarded" })
        expect(Option.getOrThrow(yield* inbox.get(id)).status).toBe("dead")
        expect(yield* letters.list({ connection })).toEqual([])
        const kept = yield* letters.list({ connection, status: "discarded" })
        expect(kept.map((l) => [l.id, l.discardReason])).toEqual([[letterId, "SKU retired"]])
        const trail = yield* audit.list({ connection, action: "dlq.discard" })
        expect(trail).toHaveLength(1)
        expect(trail[0]).toMatchObject({ kind: "operator", subject: `dead-letter:${letterId}`, outcome: "discarded" })
        expect(trail[0]?.detail).toMatchObject({ reason: "SKU retired", kind: "inbox" })
        expect(yield* letters.discard(987_654_321, "x")).toEqual({ id: 987_654_321, outcome: "not_found" })
        expect(Option.isNone(yield* letters.show(987_654_321))).toBe(true)
      })
    )

    it.effect("an inbox letter shows the delivery it holds", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const sql = yield* SqlClient.SqlClient
        const connection = unique("tts")
        const recorded = yield* inbox.recordMalformed({
          connection,
          request: request('{"type":1,', { "x-shopify-topic": "orders/create" }),
          message: "Unexpected end of JSON input"
        })
        const letter = Option.getOrThrow(yield* letters.show(recorded.deadLetter))
        expect(letter.source).toMatchObject({
          body: '{"type":1,',
          topic: "(malformed)",
          headers: { "x-shopify-topic": "orders/create" }
        })
        expect(letter.reason).toBe("malformed_payload")
        const rows = yield* sql<{
          n: number
        }>`SELECT COUNT(*) AS n FROM tkb_inbox WHERE connection = ${connection} AND status = 'pending'`
        expect(Number(rows[0]?.n)).toBe(0)
      })
    )
  })
}
