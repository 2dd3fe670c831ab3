/**
 * The coalescing benchmark behind `pnpm bench:coalesce` (launched by the repository's
 * `bench/coalesce.ts`): how many channel writes the engine's stock pusher spends per 1,000 stock changes,
 * and how long a change takes to reach the channel, on the embedded engine (SQLite) against the
 * Memory sandbox over real HTTP.
 *
 * - Burst: 1,000 changes over 100 SKUs in 10 s (one every 10 ms, SKUs in a seeded random order).
 *   Reports writes per 1,000 changes (target ≤ 50) and the p95 delay from a change's commit to the
 *   sandbox holding that value or a newer one (target ≤ 250 ms).
 * - Sparse: isolated changes, 4 SKUs each changed once a second (a change every 250 ms), for 10 s.
 *   Reports the p95 delay (target ≤ 50 ms): a lone change must not wait for a coalescing window.
 *
 * Side by side (printed, not stored): the same burst with coalescing off (`intervalMs: 0`, a write
 * whenever the previous one finished), to show what the coalescing window saves and what it costs.
 *
 * Writes `bench/results/coalesce.json`:
 * `{"changes":N,"writes":N,"writes_per_1000_changes":N,"p95_delay_ms":N,"sparse_p95_delay_ms":N}`.
 * Run with `pnpm bench:coalesce`.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { SandboxServer } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { Outbox, TokenStore } from "@tkbridge/core"
import {
  ConnectionAuth,
  ConnectionRegistry,
  EngineAlerts,
  EngineClock,
  EngineCluster,
  StockPusher
} from "@tkbridge/engine"
import { Effect, Layer, Logger, LogLevel, Schema } from "effect"

const quantile = (samples: ReadonlyArray<number>, q: number): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? 0
}
const p95 = (samples: ReadonlyArray<number>): number => quantile(samples, 0.95)

interface Change {
  readonly sku: string
  readonly quantity: number
  readonly at: number
}

/** Runs `changes` against a fresh engine and sandbox; answers the writes spent and each change's delay. */
const runLoad = (
  plan: ReadonlyArray<{ readonly sku: string; readonly offsetMs: number }>,
  skus: ReadonlyArray<string>,
  push: Partial<StockPusher.Options> = {}
) =>
  Effect.gen(function* () {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
    const sandbox = yield* MemorySandbox.scoped({})
    sandbox.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
    const spec: ConnectionRegistry.ConnectionSpec = {
      id: "bench",
      connector: MemoryConnector.connector as unknown as Connector.Connector<Connector.Capability, unknown>,
      config: Schema.decodeUnknownSync(MemoryConnector.manifest.config)(sandbox.connectorConfig())
    }
    const base = Layer.mergeAll(
      EngineClock.layerSystem,
      EngineAlerts.layer,
      NodeHttpClient.layerUndici,
      Layer.succeed(StockPusher.StockPushOptions, { ...StockPusher.defaults, ...push })
    )
    const root = EngineCluster.embedded({ filename: Path.join(dir, "bench.db") })
    const providers = ConnectionAuth.layerTokenProviders.pipe(Layer.provideMerge(root), Layer.provideMerge(base))
    const engine = Layer.mergeAll(ConnectionAuth.layer, StockPusher.layer).pipe(
      Layer.provideMerge(StockPusher.layerLanes),
      Layer.provideMerge(ConnectionRegistry.layerFromConnectors([spec]).pipe(Layer.provideMerge(providers))),
      Layer.orDie
    )
    return yield* Effect.gen(function* () {
      const store = yield* TokenStore.TokenStore
      yield* store.save("bench", MemoryFakeChannel.tokenSetOf(sandbox))
      const outbox = yield* Outbox.StockOutbox
      const quantities = new Map(skus.map((s) => [s, 0]))
      const changes: Array<Change> = []
      const writesBefore = sandbox.server.requestsTo("inventory.set").length
      const start = Date.now()
      for (const step of plan) {
        const wait = start + step.offsetMs - Date.now()
        // Behind schedule or not, give the event loop a turn: the sandbox serves HTTP in this process.
        yield* Effect.sleep(`${Math.max(0, wait)} millis`)
        const quantity = (quantities.get(step.sku) ?? 0) + 1
        quantities.set(step.sku, quantity)
        const { version, changed } = yield* outbox.setDesired({ connection: "bench", listing: step.sku, quantity })
        changes.push({ sku: step.sku, quantity, at: Date.now() })
        if (changed) yield* StockPusher.notify("bench", step.sku, version)
      }
      const producedMs = Date.now() - start
      while (![...quantities].every(([sku, q]) => sandbox.stock(sku) === q)) yield* Effect.sleep("20 millis")
      if (process.env.TKB_BENCH_DEBUG) {
        const reqs = sandbox.server.requestsTo("inventory.set").map((r) => `${r.at - start}:${r.status}`)
        process.stderr.write(`writes at ${reqs.join(" ")}\n`)
      }
      const calls = sandbox.server.requestsTo("inventory.set").slice(writesBefore)
      const writes = calls.length
      const updates = calls.map((r) => (JSON.parse(r.text) as { updates: Array<unknown> }).updates.length)
      const delays = changes.map((c) => {
        const landed = sandbox.stockWrites(c.sku).find((w) => w.quantity >= c.quantity && w.at >= c.at - 1)
        return landed === undefined ? Number.NaN : Math.max(0, landed.at - c.at)
      })
      if (process.env.TKB_BENCH_DEBUG) process.stderr.write(`delays ${delays.join(" ")}\n`)
      return { writes, delays, producedMs, maxUpdates: Math.max(0, ...updates) }
    }).pipe(Effect.provide(engine))
  }).pipe(Effect.scoped)

/** Runs both loads and writes the result to `out`. */
export const run = (out: string): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const random = SandboxServer.seededRandom(2026)
      const burstSkus = Array.from({ length: 100 }, (_, i) => `BURST-${String(i).padStart(3, "0")}`)
      const burstPlan = Array.from({ length: 1_000 }, (_, i) => ({
        sku: burstSkus[Math.floor(random() * burstSkus.length)]!,
        offsetMs: i * 10
      }))
      const burst = yield* runLoad(burstPlan, burstSkus)

      const sparseSkus = ["SPARSE-A", "SPARSE-B", "SPARSE-C", "SPARSE-D"]
      const sparsePlan = Array.from({ length: 40 }, (_, i) => ({
        sku: sparseSkus[i % sparseSkus.length]!,
        offsetMs: i * 250
      }))
      const sparse = yield* runLoad(sparsePlan, sparseSkus)
      const eager = yield* runLoad(burstPlan, burstSkus, { intervalMs: 0 })

      const result = {
        changes: burstPlan.length,
        writes: burst.writes,
        writes_per_1000_changes: Math.round((burst.writes / burstPlan.length) * 1000 * 10) / 10,
        p95_delay_ms: p95(burst.delays),
        sparse_p95_delay_ms: p95(sparse.delays)
      }
      Fs.mkdirSync(Path.dirname(out), { recursive: true })
      Fs.writeFileSync(out, `${JSON.stringify(result)}\n`)
      const ratio = (a: number, b: number) => (b === 0 ? "n/a" : `${(a / b).toFixed(1)}×`)
      process.stdout.write(
        [
          JSON.stringify(result, null, 2),
          `burst: ${burstPlan.length} changes produced in ${burst.producedMs} ms; ${burst.writes} writes, at most ${burst.maxUpdates} updates per write; delay p50 ${quantile(burst.delays, 0.5)} ms, p95 ${p95(burst.delays)} ms`,
          `sparse: ${sparsePlan.length} changes; delay p50 ${quantile(sparse.delays, 0.5)} ms, p95 ${p95(sparse.delays)} ms, max ${Math.max(...sparse.delays)} ms`,
          `side by side, the same burst without coalescing: ${eager.writes} writes (coalescing saves ${ratio(eager.writes, burst.writes)}), delay p95 ${p95(eager.delays)} ms`,
          `written to ${out}`,
          ""
        ].join("\n")
      )
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
  )
