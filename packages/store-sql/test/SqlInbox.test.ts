import { SqlClient } from "@effect/sql"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { ConnectorError, DeadLetter, Inbox } from "@tkbridge/core"
import { Effect, Either, Option, TestClock } from "effect"
import { countRows, dialects, hmacReceiver, recordDelivery, request, unique } from "./support.ts"

const body = (id: string, extra = "") =>
  `{"id":"${id}","topic":"orders/updated","orderId":"5770000000000000001"${extra}}`

/** The table the tests' apply functions write to, standing in for the caller's own state. */
const createEffectsTable = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql`CREATE TABLE IF NOT EXISTS test_effects (inbox_id INTEGER NOT NULL, note TEXT NOT NULL)`
)

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlInbox (${dialect.name})`, (it) => {
    it.effect("keeps the body byte-exact and masks secret-looking headers", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const raw = new Uint8Array([0x7b, 0x22, 0xff, 0x00, 0xc3, 0x28, 0x0a, 0x7d]) // not valid UTF-8
        const recorded = yield* inbox.record({
          connection,
          delivery: { dedupeKey: "evt-1", topic: "ORDER_STATUS_CHANGE", occurredAt: new Date(1_700_000_000_000) },
          request: request(raw, {
            Authorization: "c0ffee",
            "X-Shopify-Topic": "orders/updated",
            Cookie: "session=abc",
            "x-api-key": "k"
          })
        })
        expect(recorded.duplicate).toBe(false)
        const entry = Option.getOrThrow(yield* inbox.get(recorded.id))
        expect([...entry.request.rawBody]).toEqual([...raw])
        expect(entry.request.headers).toEqual({
          authorization: "***",
          "x-shopify-topic": "orders/updated",
          cookie: "***",
          "x-api-key": "***"
        })
        expect(entry).toMatchObject({ connection, dedupeKey: "evt-1", status: "pending", attempts: 0 })
        const withQuery = yield* inbox.record({
          connection,
          delivery: { dedupeKey: "evt-2", topic: "t" },
          request: { ...request("{}"), url: "/webhooks/erp?access_token=s3cr3t&shop=main&sign=abc" }
        })
        expect(Option.getOrThrow(yield* inbox.get(withQuery.id)).request.url).toBe(
          "/webhooks/erp?access_token=***&shop=main&sign=abc"
        )
        expect(entry.occurredAt?.getTime()).toBe(1_700_000_000_000)
      })
    )

    it.effect("a redelivery is a no-op answering the first entry", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const first = yield* inbox.record({
          connection,
          delivery: { dedupeKey: "n-1", topic: "t" },
          request: request(body("n-1"))
        })
        const again = yield* inbox.record({
          connection,
          delivery: { dedupeKey: "n-1", topic: "t" },
          request: request(body("n-1", `,"x":1`))
        })
        expect(again).toEqual({ id: first.id, duplicate: true })
        expect(yield* countRows("tkb_inbox", "connection", connection)).toBe(1)
        // the same key on another connection is another event
        const other = yield* inbox.record({
          connection: `${connection}-b`,
          delivery: { dedupeKey: "n-1", topic: "t" },
          request: request(body("n-1"))
        })
        expect(other.duplicate).toBe(false)
      })
    )

    it.effect("concurrent duplicate deliveries: exactly one wins", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const results = yield* Effect.all(
          Array.from({ length: 40 }, () =>
            inbox.record({ connection, delivery: { dedupeKey: "race", topic: "t" }, request: request(body("race")) })
          ),
          { concurrency: "unbounded" }
        )
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1)
        expect(new Set(results.map((r) => r.id)).size).toBe(1)
        expect(yield* countRows("tkb_inbox", "connection", connection)).toBe(1)
      })
    )

    it.effect("very long dedupe keys are stored hashed and still dedupe", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const key = "k".repeat(2000)
        const a = yield* recordDelivery(connection, key)
        const b = yield* recordDelivery(connection, key)
        expect(b).toEqual({ id: a.id, duplicate: true })
        const entry = Option.getOrThrow(yield* inbox.get(a.id))
        expect(entry.dedupeKey).toMatch(/^sha256:[0-9a-f]{64}$/)
      })
    )

    it.effect("a malformed delivery is kept dead with a dead letter, once per body", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const first = yield* inbox.recordMalformed({ connection, request: request("{not json"), message: "bad json" })
        const again = yield* inbox.recordMalformed({ connection, request: request("{not json"), message: "bad json" })
        expect(again).toEqual({ id: first.id, duplicate: true, deadLetter: first.deadLetter })
        const entry = Option.getOrThrow(yield* inbox.get(first.id))
        expect(entry.status).toBe("dead")
        expect(new TextDecoder().decode(entry.request.rawBody)).toBe("{not json")
        const listed = yield* letters.list({ connection })
        expect(listed.map((l) => [l.kind, l.key, l.reason, l.status])).toEqual([
          ["inbox", String(first.id), "malformed_payload", "open"]
        ])
        expect(yield* inbox.pending({ dueAt: new Date(8.64e15), connection })).toEqual([])
      })
    )

    it.effect("process applies once, in the same transaction as the caller's writes", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const sql = yield* SqlClient.SqlClient
        yield* createEffectsTable
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "p")

        // a failing apply leaves no trace and the entry pending
        const failed = yield* inbox
          .process(id, (entry) =>
            Effect.gen(function* () {
              yield* sql`INSERT INTO test_effects (inbox_id, note) VALUES (${entry.id}, 'first try')`
              return yield* Effect.fail("unknown sku" as const)
            })
          )
          .pipe(Effect.either)
        expect(failed).toEqual(Either.left("unknown sku"))
        expect(yield* countRows("test_effects", "inbox_id", id)).toBe(0)
        expect(Option.getOrThrow(yield* inbox.get(id)).status).toBe("pending")

        const applied = yield* inbox.process(id, (entry) =>
          sql`INSERT INTO test_effects (inbox_id, note) VALUES (${entry.id}, 'applied')`.pipe(
            Effect.as(entry.dedupeKey)
          )
        )
        assert(applied._tag === "Applied")
        expect(applied.value).toBe("p")
        const again = yield* inbox.process(
          id,
          () => sql`INSERT INTO test_effects (inbox_id, note) VALUES (${id}, 'twice')`
        )
        expect(again).toEqual({ _tag: "Skipped", status: "done" })
        expect(yield* countRows("test_effects", "inbox_id", id)).toBe(1)
        expect(Option.getOrThrow(yield* inbox.get(id)).status).toBe("done")
        expect(yield* inbox.process(999_999_999, () => Effect.void)).toEqual({ _tag: "Skipped", status: "missing" })
      })
    )

    it.effect("concurrent processors of one entry: exactly one applies it", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const sql = yield* SqlClient.SqlClient
        yield* createEffectsTable
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "c")
        const outcomes = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) =>
            inbox.process(id, () => sql`INSERT INTO test_effects (inbox_id, note) VALUES (${id}, ${`worker ${i}`})`)
          ),
          { concurrency: "unbounded" }
        )
        expect(outcomes.filter((o) => o._tag === "Applied")).toHaveLength(1)
        expect(yield* countRows("test_effects", "inbox_id", id)).toBe(1)
      })
    )

    it.effect("failed attempts back off; the sweep lists what is due", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_000_000)
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const a = yield* recordDelivery(connection, "a")
        const b = yield* recordDelivery(connection, "b")
        yield* inbox.fail(a.id, {
          message: "order detail fetch timed out",
          error: new ConnectorError.Transient({ message: "timeout", connection }),
          retryAt: new Date(1_060_000)
        })
        const now = yield* inbox.pending({ dueAt: new Date(1_000_000), connection })
        expect(now.map((p) => p.id)).toEqual([b.id])
        const later = yield* inbox.pending({ dueAt: new Date(1_060_000), connection })
        expect(later.map((p) => [p.id, p.attempts])).toEqual([
          [a.id, 1],
          [b.id, 0]
        ])
        const entry = Option.getOrThrow(yield* inbox.get(a.id))
        expect(entry).toMatchObject({ attempts: 1, lastError: "order detail fetch timed out" })
        expect(entry.nextAttemptAt?.getTime()).toBe(1_060_000)
        expect(
          yield* inbox.pending({ dueAt: new Date(1_060_000), connection, receivedBefore: new Date(999_999) })
        ).toEqual([])
      })
    )

    it.effect("unknown SKUs go to the dead-letter queue with a reason and are skipped", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const letters = yield* DeadLetter.DeadLetters
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "u")
        const letter = yield* inbox.deadLetter(id, { reason: "unknown_sku", message: "SKU RED-XL is not paired" })
        expect(yield* inbox.process(id, () => Effect.void)).toEqual({ _tag: "Skipped", status: "dead" })
        const shown = Option.getOrThrow(yield* letters.show(letter))
        expect(shown).toMatchObject({ kind: "inbox", key: String(id), reason: "unknown_sku", status: "open" })
        expect(shown.history.map((a) => a.message)).toEqual(["SKU RED-XL is not paired"])
        expect(yield* inbox.depth).toEqual(expect.arrayContaining([{ connection, pending: 0, dead: 1 }]))
      })
    )

    it.effect("ordering: an older update_time never overwrites a newer state", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        expect(yield* inbox.advance(connection, "order:1", new Date(2000))).toBe(true)
        expect(yield* inbox.advance(connection, "order:1", new Date(1000))).toBe(false)
        expect(yield* inbox.advance(connection, "order:1", new Date(2000))).toBe(true)
        expect(yield* inbox.advance(connection, "order:1", new Date(3000))).toBe(true)
        expect(yield* inbox.advance(connection, "order:1", new Date(2500))).toBe(false)
        expect(yield* inbox.advance(connection, "order:2", new Date(1))).toBe(true)
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ updated_at: number }>`SELECT updated_at FROM tkb_entity_clock
          WHERE connection = ${connection} AND entity = 'order:1'`
        expect(rows.map((r) => Number(r.updated_at))).toEqual([3000])
      })
    )

    it.effect(
      "applied answers the newest state let through per entity, with its digest, and nothing for the rest",
      () =>
        Effect.gen(function* () {
          const inbox = yield* Inbox.Inbox
          const connection = unique("tts")
          const long = `order:${"9".repeat(300)}`
          yield* inbox.advance(connection, "order:1", new Date(2000), "state-a")
          yield* inbox.advance(connection, "order:1", new Date(1000), "older")
          yield* inbox.advance(connection, "order:2", new Date(5000))
          yield* inbox.advance(connection, long, new Date(7000), "state-long")
          yield* inbox.advance(unique("other"), "order:3", new Date(1))
          const applied = yield* inbox.applied(connection, ["order:1", "order:2", "order:3", long])
          expect(Object.fromEntries(applied)).toEqual({
            "order:1": { updatedAt: new Date(2000), state: "state-a" },
            "order:2": { updatedAt: new Date(5000) },
            [long]: { updatedAt: new Date(7000), state: "state-long" }
          })
          // A newer state replaces the digest; a state without one clears it.
          yield* inbox.advance(connection, "order:1", new Date(3000), "state-b")
          yield* inbox.advance(connection, "order:2", new Date(5000))
          expect((yield* inbox.applied(connection, ["order:1"])).get("order:1")).toEqual({
            updatedAt: new Date(3000),
            state: "state-b"
          })
          yield* inbox.advance(connection, "order:1", new Date(3000))
          expect((yield* inbox.applied(connection, ["order:1"])).get("order:1")).toEqual({ updatedAt: new Date(3000) })
          expect((yield* inbox.applied(connection, [])).size).toBe(0)
        })
    )

    it.effect("the ordering guard rolls back with the transaction it ran in", () =>
      Effect.gen(function* () {
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const { id } = yield* recordDelivery(connection, "o")
        yield* inbox
          .process(id, () =>
            Effect.zipRight(inbox.advance(connection, "order:9", new Date(5000)), Effect.fail("boom" as const))
          )
          .pipe(Effect.either)
        // the failed apply recorded nothing, so an older state still applies
        expect(yield* inbox.advance(connection, "order:9", new Date(4000))).toBe(true)
      })
    )

    it.effect("retention deletes applied entries only", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(10_000)
        const inbox = yield* Inbox.Inbox
        const connection = unique("tts")
        const done = yield* recordDelivery(connection, "d")
        const waiting = yield* recordDelivery(connection, "w")
        yield* inbox.process(done.id, () => Effect.void)
        yield* TestClock.setTime(20_000)
        expect(yield* inbox.prune(new Date(15_000))).toBeGreaterThanOrEqual(1)
        expect(Option.isNone(yield* inbox.get(done.id))).toBe(true)
        expect(Option.isSome(yield* inbox.get(waiting.id))).toBe(true)
      })
    )
  })
}

describe("Inbox.decode", () => {
  it.effect("decodes a stored entry with the connection's receiver", () =>
    Effect.gen(function* () {
      const delivery = yield* Inbox.decode(hmacReceiver("s"), {
        id: 1,
        connection: "c",
        dedupeKey: "x",
        topic: "t",
        status: "pending",
        receivedAt: new Date(0),
        attempts: 0,
        request: request(body("x"))
      })
      expect(delivery.dedupeKey).toBe("x")
      expect(delivery.events[0]?._tag).toBe("OrderChanged")
    })
  )
})
