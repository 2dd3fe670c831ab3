/**
 * Issue 9 — the engine end to end over real HTTP against two Memory platforms (a shop and an ERP that
 * is the stock source, the items source and the fulfiller), on both composition roots: stock flows
 * from the ERP to the shop; an order placed on the shop reaches the pool by webhook — and by polling
 * when its webhook is lost — is reserved once, gets one parcel at the ERP, its tracking number on the
 * shop, and its units committed; an unpaid order that is cancelled gives its units back; a completed
 * return restocks; an order naming an unpaired SKU waits in the dead-letter queue with the SKU and is
 * applied once the SKU is paired and the letter replayed.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { DeadLetter, Ledger, TokenStore } from "@tkbridge/core"
import { Engine, EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, EdgeUrl, engineWithEdge, eventually } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const skus = ["MUG-RED", "MUG-BLUE", "TEE-S"]
const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["shop"]
  }),
  afterSales: new EngineFlows.AfterSalesFlow({ from: ["shop"] }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.millis(700) }),
  fulfilment: new EngineFlows.FulfilmentDefaults({ trackingPollEvery: Duration.millis(200) })
})

const reservedStates = (orderId: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations("shop", orderId), (rows) => rows.map((r) => r.state))
  )

for (const root of roots) {
  describe(`issue 9 order flow, ${root.name}`, () => {
    it.live(
      "stock, orders by webhook and by polling, cancellation, return and an unpaired SKU",
      () =>
        Effect.gen(function* () {
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems(skus.map((sku) => ({ sku, title: `Item ${sku}`, stock: 20 })))
          shop.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("shop", MemoryConnector.connector, decode(shop.connectorConfig())),
              connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
            ],
            flows
          })
          yield* Effect.gen(function* () {
            const engine = yield* Engine.Engine
            const tokens = yield* TokenStore.TokenStore
            const letters = yield* DeadLetter.DeadLetters
            const { url } = yield* EdgeUrl
            yield* tokens.save("shop", MemoryFakeChannel.tokenSetOf(shop))
            yield* tokens.save("erp", MemoryFakeChannel.tokenSetOf(erp))

            const items = yield* engine.importCatalog("erp")
            expect(items.items).toBe(3)
            const paired = yield* engine.importCatalog("shop")
            expect(paired.paired.map((p) => p.externalSku).sort()).toEqual([...skus].sort())
            yield* engine.start
            yield* eventually(Effect.sync(() => skus.every((s) => shop.stock(s) === 20)))
            shop.subscribe(`${url}/webhooks/shop`)

            // A paid order by webhook: reserved, one parcel, tracking on the shop, committed.
            const first = shop.placeOrder({ lines: [{ sku: "MUG-RED", quantity: 2 }] })
            yield* eventually(Effect.sync(() => shop.fulfillments(first).length > 0))
            const reference = FulfilmentWorkflow.parcelReference("shop", first)
            const parcels = erp.parcels(reference)
            expect(parcels).toHaveLength(1)
            expect(shop.fulfillments(first).map((f) => f.trackingNumber)).toEqual([parcels[0]!.trackingNumber])
            yield* eventually(
              Effect.map(reservedStates(first), (s) => s.length > 0 && s.every((x) => x === "committed"))
            )
            yield* eventually(Effect.sync(() => shop.stock("MUG-RED") === 18))

            // A paid order whose webhook is lost: polling brings it in.
            const lost = shop.placeOrder({ lines: [{ sku: "MUG-BLUE", quantity: 1 }], notify: false })
            yield* eventually(Effect.sync(() => shop.fulfillments(lost).length > 0))
            expect(erp.parcels(FulfilmentWorkflow.parcelReference("shop", lost))).toHaveLength(1)
            yield* eventually(Effect.sync(() => shop.stock("MUG-BLUE") === 19))

            // An unpaid order holds stock until it is cancelled.
            const unpaid = shop.placeOrder({ lines: [{ sku: "TEE-S", quantity: 3 }], status: "pending_payment" })
            yield* eventually(Effect.map(reservedStates(unpaid), (s) => s.length > 0 && s.every((x) => x === "held")))
            yield* eventually(Effect.sync(() => shop.stock("TEE-S") === 17))
            shop.setOrderStatus(unpaid, "cancelled")
            yield* eventually(Effect.map(reservedStates(unpaid), (s) => s.every((x) => x === "released")))
            yield* eventually(Effect.sync(() => shop.stock("TEE-S") === 20))
            expect(erp.parcels(FulfilmentWorkflow.parcelReference("shop", unpaid))).toHaveLength(0)

            // A completed return puts the units back.
            const ret = shop.requestAfterSale({ orderId: first, kind: "return" })
            shop.setAfterSaleStatus(ret, "completed")
            yield* eventually(Effect.sync(() => shop.stock("MUG-RED") === 20))

            // An unpaired SKU: dead-lettered with the SKU, applied after pairing and replay.
            shop.seedItems([{ sku: "CAP-GREEN", stock: 4 }])
            const ghost = shop.placeOrder({ lines: [{ sku: "CAP-GREEN", quantity: 1 }] })
            // Its webhook and the next poll each leave an entry that waits.
            yield* eventually(Effect.map(letters.count({ connection: "shop", reason: "unknown_sku" }), (n) => n === 2))
            for (const letter of yield* letters.list({ connection: "shop", reason: "unknown_sku" })) {
              expect(letter.message).toContain("CAP-GREEN")
            }
            expect(yield* reservedStates(ghost)).toEqual([])
            erp.seedItems([{ sku: "CAP-GREEN", stock: 4 }])
            yield* engine.importCatalog("erp")
            yield* engine.importCatalog("shop")
            yield* eventually(
              Effect.flatMap(Ledger.Ledger, (ledger) =>
                Effect.map(ledger.balances(["CAP-GREEN"]), (b) => b[0]?.onHand === 4)
              )
            )
            const replayed = yield* engine.replayDeadLetters({ connection: "shop", reason: "unknown_sku" })
            expect(replayed.map((r) => r.outcome)).toEqual(["replayed", "replayed"])
            yield* eventually(Effect.sync(() => shop.fulfillments(ghost).length > 0))

            // Nothing happened twice downstream.
            for (const order of [first, lost, ghost]) {
              expect(erp.parcels(FulfilmentWorkflow.parcelReference("shop", order))).toHaveLength(1)
              expect(shop.fulfillments(order)).toHaveLength(1)
            }
            const status = yield* engine.status
            expect(status.totals.deadLetters).toBe(0)
            expect(status.propagation.samples).toBeGreaterThan(0)
            yield* engine.stop()
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      180_000
    )
  })
}
