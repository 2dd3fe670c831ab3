/**
 * The reconciliation checkpoint against a Memory shop over real HTTP, on both composition roots: the
 * very first poll of a connection reaches back `firstLookback`; each later window starts `overlap`
 * before the end of the last complete one; a pass that fails leaves the checkpoint where it was; and
 * the checkpoint is kept in the store, so a second engine on the same database resumes from it
 * (minus the overlap) instead of reaching back `firstLookback` again. Across both engines no window
 * ever starts earlier than the one before it. Read from the shop's recorded order searches.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { Engine, EngineFlows } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"
import { durableRoot } from "./support/StockHarness.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const overlap = Duration.minutes(2)
const firstLookback = Duration.days(30)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"] })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.seconds(1) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.millis(400), overlap, firstLookback })
})

/** A recorded order search: its window and how it was answered. */
interface Search {
  readonly since: number
  readonly until: number
  readonly status: number | undefined
}

const searches = (shop: MemorySandbox.MemorySandbox): ReadonlyArray<Search> =>
  shop.server.requestsTo("orders.list").map((r) => {
    const query = new URLSearchParams(r.query)
    return {
      since: Date.parse(query.get("updated_at_min") ?? ""),
      until: Date.parse(query.get("updated_at_max") ?? ""),
      status: r.status
    }
  })

const answered = (shop: MemorySandbox.MemorySandbox) => searches(shop).filter((s) => s.status === 200)

for (const root of roots) {
  describe(`reconciliation checkpoint, ${root.name}`, () => {
    it.live(
      "windows start at the last complete one's end minus the overlap, also after a failed pass and a restart",
      () =>
        Effect.gen(function* () {
          const database = yield* durableRoot(root.name)
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems([{ sku: "MUG", title: "Mug", stock: 10 }])
          shop.seedItems([{ sku: "MUG", stock: 0 }])
          const engineOn = () =>
            engineWithEdge({
              root: database(),
              connections: [
                connection("shop", MemoryConnector.connector, decode(shop.connectorConfig())),
                connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
              ],
              flows
            })
          const overlapMs = Duration.toMillis(overlap)

          // The first engine: the first window reaches back 30 days, the next ones only the overlap.
          const startedAt = Date.now()
          yield* Effect.gen(function* () {
            const engine = yield* startEngine({
              grants: [
                ["shop", MemoryFakeChannel.tokenSetOf(shop)],
                ["erp", MemoryFakeChannel.tokenSetOf(erp)]
              ],
              imports: ["erp", "shop"],
              published: () => shop.stock("MUG") === 10,
              subscribe: () => undefined
            })
            yield* eventually(Effect.sync(() => answered(shop).length >= 3))
            const [first, second] = answered(shop)
            expect(first!.since).toBeLessThanOrEqual(startedAt - Duration.toMillis(firstLookback) + 1_000)
            expect(second!.since).toBe(first!.until - overlapMs)

            // A pass whose every attempt fails leaves the checkpoint: the next one asks the same window start.
            const before = searches(shop).length
            shop.server.fault("orders.list", { status: 500, body: "upstream error", times: 3 })
            yield* eventually(
              Effect.sync(() =>
                searches(shop)
                  .slice(before)
                  .some((s) => s.status === 200)
              )
            )
            const around = searches(shop).slice(before)
            const failed = around.filter((s) => s.status === 500)
            const next = around.find((s) => s.status === 200)!
            expect(failed).toHaveLength(3)
            expect(new Set(failed.map((s) => s.since)).size).toBe(1)
            expect(next.since).toBe(failed[0]!.since)
            expect(searches(shop)[before - 1]!.until - overlapMs).toBe(next.since)
            yield* engine.stop()
          }).pipe(Effect.provide(engineOn()))

          // Later, a second engine on the same database resumes from the saved checkpoint.
          const firstRun = searches(shop)
          const ends = answered(shop).map((s) => s.until)
          yield* Effect.sleep("1 second")
          yield* Effect.gen(function* () {
            const engine = yield* Engine.Engine
            yield* engine.start
            yield* eventually(Effect.sync(() => answered(shop).length > ends.length))
            yield* engine.stop()
          }).pipe(Effect.provide(engineOn()))
          const resumed = searches(shop)[firstRun.length]!
          // The end of one of the first engine's last complete windows (the very last one may not
          // have been recorded when it stopped), minus the overlap.
          expect(ends.slice(-2).map((end) => end - overlapMs)).toContain(resumed.since)

          // No window ever started before the one ahead of it.
          const starts = searches(shop).map((s) => s.since)
          expect(starts).toEqual([...starts].sort((a, b) => a - b))
        }).pipe(Effect.scoped),
      60_000
    )
  })
}
