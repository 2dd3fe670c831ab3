/**
 * The first write to a compare-and-set channel compares against the count its catalogue reported,
 * over real HTTP against Memory sandboxes on both roots: the shop shows 5 when tkbridge starts, the
 * pool allows 12, and the first write says "12 if you still hold 5" — so a sale in the shop between
 * the catalogue read and that write would come back stale and be decided against the pool instead of
 * being overwritten (what that decision does is `StockPusherCompareAndSet.test.ts`'s subject).
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { EngineFlows } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)

const flows = new EngineFlows.EngineFlows({
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.seconds(1) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" })
})

/** The quantities and compare-and-set values each `inventory.set` call to the shop carried. */
const writes = (shop: MemorySandbox.MemorySandbox) =>
  shop.server
    .requestsTo("inventory.set")
    .flatMap(
      (r) =>
        (JSON.parse(r.text) as { updates: Array<{ sku: string; quantity: number; expected_quantity?: number }> })
          .updates
    )
    .map((u) => [u.sku, u.quantity, u.expected_quantity ?? null] as const)

for (const root of roots) {
  describe(`first write to a compare-and-set channel, ${root.name}`, () => {
    it.live(
      "compares against the count the catalogue reported instead of overwriting it",
      () =>
        Effect.gen(function* () {
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          erp.seedItems([
            { sku: "A", stock: 12 },
            { sku: "B", stock: 7 }
          ])
          shop.seedItems([
            { sku: "A", stock: 5 },
            { sku: "B", stock: 3 }
          ])
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("erp", MemoryConnector.connector, decode(erp.connectorConfig())),
              connection("shop", MemoryConnector.connector, decode(shop.connectorConfig()))
            ],
            flows
          })
          yield* Effect.gen(function* () {
            const engine = yield* startEngine({
              grants: [
                ["erp", MemoryFakeChannel.tokenSetOf(erp)],
                ["shop", MemoryFakeChannel.tokenSetOf(shop)]
              ],
              imports: ["erp", "shop"],
              published: () => shop.stock("A") === 12 && shop.stock("B") === 7,
              subscribe: () => {}
            })
            yield* engine.stop()
          }).pipe(Effect.provide(layer))
          // Whatever the pool allowed at that moment, the first write of each listing compared against
          // the count the catalogue read; every later one against the count the write before left.
          const first = (sku: string) => writes(shop).find(([s]) => s === sku)
          expect(first("A")?.[2]).toBe(5)
          expect(first("B")?.[2]).toBe(3)
          expect(shop.stock("A")).toBe(12)
          expect(shop.stock("B")).toBe(7)
        }).pipe(Effect.scoped),
      60_000
    )
  })
}
