/**
 * Stock pushes within the platform's limits, against the Memory sandbox over real HTTP with business
 * time on the sandbox's clock running faster than real time, on both roots:
 *
 * - a 429 storm with `Retry-After`: no call reaches the sandbox before the stated time;
 * - a 2-hour suspension: nothing is sent before it ends, also by a new process on the same database;
 * - a daily quota across simulated days: never exceeded, with the headroom kept for orders and
 *   tracking (the `high` lane keeps spending after stock pushes were parked), and the backlog resumes
 *   at 00:00 UTC with the latest value.
 *
 * Every assertion reads the sandbox's own record of requests (times in the sandbox's clock).
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { SandboxClock } from "@tkbridge/connector-testkit"
import { Quota, TokenStore } from "@tkbridge/core"
import { EngineClock } from "@tkbridge/engine"
import { Effect, Option, Schema } from "effect"
import { roots } from "./support/Roots.ts"
import { clockOf, connection, durableRoot, eventually, publish, settled, stockLayer } from "./support/StockHarness.ts"

const hour = 3_600_000
const day = 24 * hour

const sandboxWith = (clock: SandboxClock.SandboxClock) =>
  MemorySandbox.scoped({
    rateLimit: false,
    clock,
    // Long-lived grants: the simulated days must not be about token refresh.
    accessTokenTtlMs: 400 * day,
    refreshTokenTtlMs: 800 * day
  })

const memory = (id: string, sandbox: MemorySandbox.MemorySandbox, quota?: Parameters<typeof connection>[3]) =>
  connection(
    id,
    MemoryConnector.connector,
    Schema.decodeUnknownSync(MemoryConnector.manifest.config)(sandbox.connectorConfig()),
    quota
  )

const authorize = (id: string, sandbox: MemorySandbox.MemorySandbox) =>
  Effect.flatMap(TokenStore.TokenStore, (store) => store.save(id, MemoryFakeChannel.tokenSetOf(sandbox)))

const writes = (sandbox: MemorySandbox.MemorySandbox) => sandbox.server.requestsTo("inventory.set")

for (const root of roots) {
  describe(`StockPusher quotas and suspensions, ${root.name}`, () => {
    it.live(
      "a 429 storm with Retry-After: no call before the stated time, then every value lands once",
      () =>
        Effect.gen(function* () {
          // 50× real time: a 30-second Retry-After passes in 0.6 s.
          const clock = new SandboxClock.SandboxClock({ speed: 50 })
          const sandbox = yield* sandboxWith(clock)
          const skus = ["A", "B", "C", "D"]
          sandbox.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
          sandbox.server.fault("inventory.set", { retryAfterSeconds: 30, times: 4 })
          const engine = stockLayer({
            root: root.layer(),
            connections: [memory("mem", sandbox)],
            clock: clockOf(clock)
          })
          yield* Effect.gen(function* () {
            yield* authorize("mem", sandbox)
            for (const [i, sku] of skus.entries()) yield* publish("mem", sku, 10 + i)
            yield* eventually(Effect.sync(() => skus.every((sku, i) => sandbox.stock(sku) === 10 + i)))
          }).pipe(Effect.provide(engine))
          const calls = writes(sandbox)
          expect(calls.filter((c) => c.status === 429)).toHaveLength(4)
          for (let i = 1; i < calls.length; i++) {
            const previous = calls[i - 1]!
            if (previous.status === 429) expect(calls[i]!.at).toBeGreaterThanOrEqual(previous.at + 30_000)
          }
          // No retry storm: the four refusals and the writes that landed, nothing more.
          expect(calls.filter((c) => c.status === 200).length).toBeLessThanOrEqual(skus.length)
          for (const sku of skus) expect(sandbox.stockWrites(sku)).toHaveLength(1)
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "a 2-hour suspension: nothing is sent before it ends, and a restarted engine keeps to it",
      () =>
        Effect.gen(function* () {
          // 2,000× real time: two hours pass in 3.6 s.
          const clock = new SandboxClock.SandboxClock({ speed: 2_000 })
          const sandbox = yield* sandboxWith(clock)
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const until = clock.now() + 2 * hour
          sandbox.server.fault("inventory.set", {
            status: 429,
            times: 1,
            body: {
              error: { code: "app_suspended", message: "daily quota exceeded", until: new Date(until).toISOString() }
            }
          })
          const database = yield* durableRoot(root.name)
          const engine = () =>
            stockLayer({ root: database(), connections: [memory("mem", sandbox)], clock: clockOf(clock) })

          // First process: the platform suspends the app; the suspension is stored for the scope.
          yield* Effect.gen(function* () {
            yield* authorize("mem", sandbox)
            yield* publish("mem", "A", 5)
            const quota = yield* Quota.Quota
            yield* eventually(Effect.map(EngineClock.business(quota.suspension("mem")), (s) => Option.isSome(s)))
          }).pipe(Effect.provide(engine()), Effect.scoped)
          expect(writes(sandbox).map((c) => c.status)).toEqual([429])

          // Second process on the same database, with a newer value to write.
          yield* Effect.gen(function* () {
            yield* publish("mem", "A", 6)
            yield* eventually(Effect.sync(() => sandbox.stock("A") === 6))
            yield* eventually(settled("mem", "A"))
          }).pipe(Effect.provide(engine()), Effect.scoped)
          const calls = writes(sandbox)
          expect(calls.map((c) => c.status)).toEqual([429, 200])
          expect(calls[1]!.at).toBeGreaterThanOrEqual(until)
          expect(sandbox.stockWrites("A").map((w) => w.quantity)).toEqual([6])
        }).pipe(Effect.scoped),
      120_000
    )

    it.live(
      "a daily quota is never exceeded across simulated days; orders keep its headroom; the backlog resumes at 00:00 UTC",
      () =>
        Effect.gen(function* () {
          // 3,600× real time from 20:00 UTC: an hour a second.
          const start = Date.UTC(2026, 10, 26, 20, 0, 0)
          const clock = new SandboxClock.SandboxClock({ start, speed: 3_600 })
          const sandbox = yield* sandboxWith(clock)
          sandbox.seedItems([{ sku: "A", stock: 0 }])
          const policy: Quota.Policy = { daily: 12, headroom: 4 }
          const engine = stockLayer({
            root: root.layer(),
            connections: [memory("mem", sandbox, { daily: 12, headroom: 4 })],
            clock: clockOf(clock)
          })
          const highGranted: Array<number> = []
          let last = 0
          yield* Effect.gen(function* () {
            yield* authorize("mem", sandbox)
            const quota = yield* Quota.Quota
            // A change every 9 simulated minutes until 02:00 the next day.
            while (clock.now() < start + 6 * hour) {
              last += 1
              yield* publish("mem", "A", last)
              yield* Effect.sleep("150 millis")
              // Once stock pushes are parked for the day, orders and tracking still get their calls.
              const usage = yield* EngineClock.business(quota.usage("mem", policy))
              if (usage.usedToday >= 8 && highGranted.length === 0 && clock.now() < start + 4 * hour) {
                for (let i = 0; i < 5; i++) {
                  const spent = yield* EngineClock.business(quota.spend({ connection: "mem", lane: "high", policy }))
                  if (spent._tag === "Granted") highGranted.push(clock.now())
                }
              }
            }
            // Let the next day's window come quickly; the parked latest value must land.
            clock.speed(200_000)
            yield* eventually(Effect.sync(() => sandbox.stock("A") === last))
          }).pipe(Effect.provide(engine))

          // The headroom served the orders: four high-lane calls on day one, the fifth refused.
          expect(highGranted).toHaveLength(4)
          const perDay = new Map<number, number>()
          for (const c of writes(sandbox).filter((c) => c.status === 200)) {
            const d = Math.floor(c.at / day)
            perDay.set(d, (perDay.get(d) ?? 0) + 1)
          }
          const first = Math.floor(start / day)
          // Day one: stock pushes used exactly their share (12 − 4 kept for orders), never more.
          expect(perDay.get(first)).toBe(8)
          for (const n of perDay.values()) expect(n).toBeLessThanOrEqual(8)
          // The backlog resumed in the next window (at or after 00:00 UTC).
          expect(perDay.get(first + 1) ?? 0).toBeGreaterThan(0)
          expect(sandbox.stock("A")).toBe(last)
        }).pipe(Effect.scoped),
      180_000
    )
  })
}
