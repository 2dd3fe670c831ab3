/**
 * When a channel's daily quota runs low, orders keep flowing ahead of stock pushes — through the
 * whole engine, over real HTTP against Memory platforms, on both composition roots. The shop's plan
 * allows 40 calls a day with 15 kept for orders and tracking; once stock pushes have spent their
 * share, an order placed in the shop still arrives, is reserved, gets its parcel at the ERP and its
 * tracking number written back to the shop, while the stock write its sale calls for is parked (not
 * dropped) and the day's count never passes the quota.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { Ledger, Outbox, Quota } from "@tkbridge/core"
import { ConnectionRegistry, EngineFlows } from "@tkbridge/engine"
import { Duration, Effect, Option, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(300) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  // Webhooks bring the order; no polling spends the shop's calls meanwhile.
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) })
})

for (const root of roots) {
  describe(`orders ahead of stock pushes when the quota runs low, ${root.name}`, () => {
    it.live(
      "the order is reserved, shipped and tracked back on the headroom while its stock write waits",
      () =>
        Effect.gen(function* () {
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems([{ sku: "MUG", title: "Mug", stock: 10 }])
          shop.seedItems([{ sku: "MUG", stock: 0 }])
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("shop", MemoryConnector.connector, decode(shop.connectorConfig()), {
                daily: 40,
                headroom: 15
              }),
              connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
            ],
            flows
          })
          yield* Effect.gen(function* () {
            yield* startEngine({
              grants: [
                ["shop", MemoryFakeChannel.tokenSetOf(shop)],
                ["erp", MemoryFakeChannel.tokenSetOf(erp)]
              ],
              imports: ["erp", "shop"],
              published: () => shop.stock("MUG") === 10,
              subscribe: (url) => shop.subscribe(`${url}/webhooks/shop`)
            })
            const registry = yield* ConnectionRegistry.ConnectionRegistry
            const entry = yield* registry.get("shop")
            const policy = Quota.policyFromLimits(entry.manifest.limits, entry.quota)
            const quota = yield* Quota.Quota
            const used = () => Effect.map(quota.usage(Quota.scopeOf("shop", policy), policy), (u) => u.usedToday)

            // The ERP's count moves until the stock pushes have spent everything but the headroom.
            let level = 10
            while ((yield* used()) < 40 - 15) {
              level = level === 10 ? 9 : 10
              erp.setStock("MUG", level)
              yield* Effect.sleep("350 millis")
            }
            const writesBefore = shop.server.requestsTo("inventory.set").length
            const outbox = yield* Outbox.StockOutbox
            const ledger = yield* Ledger.Ledger

            // A shopper buys 2 in the shop.
            const order = shop.placeOrder({ lines: [{ sku: "MUG", quantity: 2 }] })
            yield* eventually(Effect.sync(() => shop.fulfillments(order).length > 0))
            const reserved = yield* ledger.reservations("shop", order)
            expect(reserved.map((r) => r.qty)).toEqual([2])
            expect(erp.parcels()).toHaveLength(1)
            expect(shop.fulfillments(order)[0]!.trackingNumber).toBe(erp.parcels()[0]!.trackingNumber)

            // The sale's stock write is waiting for tomorrow's quota, not lost: the outbox still wants it
            // (a lane with quota would have written it within a fraction of this second).
            yield* Effect.sleep("1 second")
            const row = Option.getOrThrow(yield* outbox.get("shop", "MUG"))
            expect(row.desiredVersion).toBeGreaterThan(row.pushedVersion)
            expect(shop.server.requestsTo("inventory.set")).toHaveLength(writesBefore)
            expect(yield* used()).toBeLessThanOrEqual(40)
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      120_000
    )
  })
}
