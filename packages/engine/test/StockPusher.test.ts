/**
 * Stock pushes end to end over real HTTP against the Memory sandbox, on both composition roots:
 * coalesced and batched writes that converge on the latest value, without a cluster message on the
 * hot path; transient partner failures retried, then dead-lettered with a reason; a replay after
 * recovery delivered exactly once; a value committed before a crash written by the next process;
 * compare-and-set with the channel's count moving underneath (a sale the pool already saw, a count
 * that finds less and is let go after the reconciliation window).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { DeadLetter, Outbox, TokenStore } from "@tkbridge/core"
import { StockChannelState, StockPusher } from "@tkbridge/engine"
import { Effect, Option } from "effect"
import { authorize, memoryConnection, stockEngine } from "./support/Engine.ts"
import { roots } from "./support/Roots.ts"
import { durableRoot, settled } from "./support/StockHarness.ts"

/** Polls `check` until it holds (no timing assertion: the test's own timeout is the only limit). */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function* () {
    while (!(yield* check)) yield* Effect.sleep("20 millis")
  })

/** The quantities each `inventory.set` call carried, with their compare-and-set values. */
const calls = (sandbox: MemorySandbox.MemorySandbox) =>
  sandbox.server.requestsTo("inventory.set").map(
    (r) =>
      (
        JSON.parse(r.text) as {
          updates: Array<{ sku: string; quantity: number; expected_quantity?: number; idempotency_key: string }>
        }
      ).updates
  )

/** Sets a listing's desired quantity and notifies its pusher, as the pool does after a commit. */
const publish = (connection: string, listing: string, quantity: number) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox.StockOutbox
    const { version, changed } = yield* outbox.setDesired({ connection, listing, quantity })
    if (changed) yield* StockPusher.notify(connection, listing, version)
  })

for (const root of roots) {
  describe(`StockPusher, ${root.name}`, () => {
    it.live(
      "coalesces bursts into batched writes and converges on the latest values",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          const skus = Array.from({ length: 10 }, (_, i) => `SKU-${i}`)
          sandbox.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            for (let round = 1; round <= 5; round++) {
              yield* Effect.forEach(skus, (sku, i) => publish("mem", sku, round * 10 + i), { discard: true })
            }
            yield* eventually(Effect.sync(() => skus.every((sku, i) => sandbox.stock(sku) === 50 + i)))
          }).pipe(Effect.provide(engine))
          const writes = sandbox.server.requestsTo("inventory.set").length
          expect(writes).toBeGreaterThan(0)
          expect(writes).toBeLessThan(50)
          // Every SKU received its final value once, and no idempotency key was applied twice.
          for (const sku of skus) {
            const applied = sandbox.stockWrites(sku)
            expect(new Set(applied.map((w) => w.idempotencyKey)).size).toBe(applied.length)
          }
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "retries a failing partner, dead-letters with a reason, and a replay delivers exactly once",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          sandbox.server.fault("inventory.set", { status: 500, body: { error: "upstream" } })
          const engine = stockEngine({
            root: root.layer(),
            connections: [memoryConnection("mem", sandbox)],
            push: {
              retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, inlineWaitMs: 60_000, maxRateLimitedWaits: 5 }
            }
          })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const letters = yield* DeadLetter.DeadLetters
            yield* publish("mem", "A", 7)
            yield* eventually(Effect.map(letters.count({ connection: "mem" }), (n) => n === 1))
            const [summary] = yield* letters.list({ connection: "mem" })
            expect(summary).toMatchObject({ kind: "stock_push", key: "A", reason: "retry_exhausted", httpStatus: 500 })
            expect(summary!.attempts).toBeGreaterThanOrEqual(3)
            expect(sandbox.stock("A")).toBe(0)

            sandbox.server.clearFaults()
            const replay = yield* letters.replay(summary!.id)
            expect(replay.outcome).toBe("replayed")
            const lanes = yield* StockPusher.StockLanes
            yield* lanes.kick("mem")
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 7))
            // Replaying again changes nothing; the channel applied the value once.
            expect((yield* letters.replay(summary!.id)).outcome).toBe("already_replayed")
          }).pipe(Effect.provide(engine))
          expect(sandbox.stockWrites("A").length).toBe(1)
        }).pipe(Effect.scoped),
      120_000
    )
    it.live(
      "the hot path stores no cluster message; 60 listings go out in batches of at most 50",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          const skus = Array.from({ length: 60 }, (_, i) => `SKU-${String(i).padStart(2, "0")}`)
          sandbox.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            yield* Effect.forEach(skus, (sku, i) => publish("mem", sku, i + 1), { discard: true })
            yield* eventually(Effect.sync(() => skus.every((sku, i) => sandbox.stock(sku) === i + 1)))
            const sql = yield* SqlClient.SqlClient
            const [messages] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM cluster_messages`
            expect(Number(messages?.n)).toBe(0)
          }).pipe(Effect.provide(engine))
          const sent = calls(sandbox)
          expect(sent.every((updates) => updates.length <= 50)).toBe(true)
          // The first change at once, then the rest folded into full batches.
          expect(sent.length).toBeLessThanOrEqual(3)
          expect(
            sent
              .flat()
              .map((u) => u.sku)
              .sort()
          ).toEqual(skus)
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "the durable per-version message reaches the listing's entity, which has the lane write it",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const outbox = yield* Outbox.StockOutbox
            const { version } = yield* outbox.setDesired({ connection: "mem", listing: "A", quantity: 3 })
            // No wake-up: only the persisted message tells the pusher.
            yield* StockPusher.notifyDurable("mem", "A", version)
            yield* StockPusher.notifyDurable("mem", "A", version)
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 3))
            yield* eventually(settled("mem", "A"))
            const sql = yield* SqlClient.SqlClient
            const [messages] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM cluster_messages`
            // Sent twice, stored once (the primary key is connection:listing:version).
            expect(Number(messages?.n)).toBe(1)
          }).pipe(Effect.provide(engine))
          expect(sandbox.stockWrites("A").map((w) => w.quantity)).toEqual([3])
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "a value committed but never notified (a crash before the wake-up) is written when the engine starts",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const database = yield* durableRoot(root.name)
          const engine = () => stockEngine({ root: database(), connections: [memoryConnection("mem", sandbox)] })
          // The store alone, no pusher: an engine's lanes look at pending rows once they start, and
          // one that started late (a loaded machine) would write the value before the "crash".
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const outbox = yield* Outbox.StockOutbox
            yield* outbox.setDesired({ connection: "mem", listing: "A", quantity: 4 })
          }).pipe(Effect.provide(database()), Effect.scoped)
          expect(sandbox.stock("A")).toBe(0)
          yield* Effect.gen(function* () {
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 4))
            yield* eventually(settled("mem", "A"))
          }).pipe(Effect.provide(engine()), Effect.scoped)
          expect(sandbox.stockWrites("A").map((w) => w.quantity)).toEqual([4])
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "a refusal met with the grant the seller replaced while the write was in flight pauses nothing",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const tokens = yield* TokenStore.TokenStore
            // The platform takes its time, then refuses the grant the write went out with …
            sandbox.server.fault("inventory.set", {
              latencyMs: 500,
              status: 401,
              body: { error: { code: "token_revoked", message: "The seller removed the app." } },
              times: 1
            })
            yield* publish("mem", "A", 7)
            yield* eventually(Effect.sync(() => sandbox.server.requestsTo("inventory.set").length > 0))
            // … while the seller authorizes again.
            yield* tokens.save("mem", MemoryFakeChannel.tokenSetOf(sandbox))
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 7))
            expect(Option.getOrThrow(yield* tokens.get("mem")).needsReauth).toBe(false)
            expect(sandbox.server.requestsTo("inventory.set").map((r) => r.status)).toEqual([401, 200])
          }).pipe(Effect.provide(engine))
        }).pipe(Effect.scoped),
      60_000
    )

    it.live(
      "a token still refused as expired after a refresh pauses the connection instead of refreshing on every write",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const tokens = yield* TokenStore.TokenStore
            // However fresh the token, the platform calls it expired (a broken grant on its side).
            sandbox.server.fault("inventory.set", {
              status: 401,
              body: { error: { code: "token_expired", message: "The access token has expired." } }
            })
            const refreshesBefore = sandbox.server.requestsTo("oauth.token").length
            yield* publish("mem", "A", 7)
            yield* eventually(tokens.get("mem").pipe(Effect.map((g) => Option.getOrThrow(g).needsReauth)))
            // Let the lane run a while longer: a paused connection neither writes nor refreshes.
            const writes = sandbox.server.requestsTo("inventory.set").length
            yield* Effect.sleep("1500 millis")
            expect(sandbox.server.requestsTo("inventory.set").length).toBe(writes)
            // The connector's own refresh on each call plus the one the pusher forced: a handful, not one per write.
            expect(sandbox.server.requestsTo("oauth.token").length - refreshesBefore).toBeLessThanOrEqual(3)
            expect(writes).toBeLessThanOrEqual(4)
            expect(sandbox.stock("A")).toBe(0)
          }).pipe(Effect.provide(engine))
        }).pipe(Effect.scoped),
      60_000
    )

    it.live(
      "compare-and-set: a sale the pool already saw settles the stale write without holding anything back",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            yield* publish("mem", "A", 10)
            yield* eventually(settled("mem", "A"))
            // The channel sells 2; its order reaches the pool, which now allows 8.
            sandbox.setStock("A", 8)
            yield* StockPusher.orderSeen({ connection: "mem", listing: "A", units: 2 })
            yield* publish("mem", "A", 8)
            yield* eventually(settled("mem", "A"))
            const state = (yield* StockChannelState.read("mem", ["A"])).get("A")
            expect(state).toMatchObject({ known: 8, balance: { held: 0, credit: 0 } })
          }).pipe(Effect.provide(engine))
          // The write of 8 against 10 came back stale with 8: the channel already shows the pool's number.
          expect(calls(sandbox).map((u) => u.map((x) => [x.quantity, x.expected_quantity ?? null]))).toEqual([
            [[10, null]],
            [[8, 10]]
          ])
          expect(sandbox.stockWrites("A").map((w) => w.quantity)).toEqual([10])
          expect(sandbox.stock("A")).toBe(8)
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "compare-and-set: units the channel lost without an order are held back, then let go after the window",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const engine = stockEngine({
            root: root.layer(),
            connections: [memoryConnection("mem", sandbox)],
            push: { holdWindowMs: 1_500 }
          })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            yield* publish("mem", "A", 10)
            yield* eventually(settled("mem", "A"))
            // A count in the channel's admin finds 3 fewer; the pool then allows 9.
            sandbox.setStock("A", 7)
            yield* publish("mem", "A", 9)
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 6))
            // No order ever explains the 3 units: after the window the pool's number goes out.
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 9))
            yield* eventually(settled("mem", "A"))
            const state = (yield* StockChannelState.read("mem", ["A"])).get("A")
            expect(state).toMatchObject({ known: 9, balance: { held: 0 } })
          }).pipe(Effect.provide(engine))
          const sent = calls(sandbox).map((u) => u.map((x) => [x.quantity, x.expected_quantity ?? null]))
          expect(sent).toEqual([[[10, null]], [[9, 10]], [[6, 7]], [[9, 6]]])
          // Each round went out under its own idempotency key.
          const keys = calls(sandbox).flatMap((u) => u.map((x) => x.idempotency_key))
          expect(new Set(keys).size).toBe(keys.length)
          expect(sandbox.stockWrites("A").map((w) => w.quantity)).toEqual([10, 6, 9])
        }).pipe(Effect.scoped),
      120_000
    )
  })
}
