/**
 * Stock pushes end to end over real HTTP against the Memory sandbox, on both composition roots:
 * coalesced and batched writes that converge on the latest value; transient partner failures retried,
 * then dead-lettered with a reason; a replay after recovery delivered exactly once.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { DeadLetter, Outbox } from "@tkbridge/core"
import { StockPusher } from "@tkbridge/engine"
import { Effect } from "effect"
import { authorize, memoryConnection, stockEngine } from "./support/Engine.ts"
import { roots } from "./support/Roots.ts"

/** Polls `check` until it holds (no timing assertion: the test's own timeout is the only limit). */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function* () {
    while (!(yield* check)) yield* Effect.sleep("50 millis")
  })

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
  })
}
