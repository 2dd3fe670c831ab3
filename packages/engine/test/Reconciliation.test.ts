/**
 * Reconciliation against a Memory shop over real HTTP, on both composition roots: a poll reads every
 * recent order but queues only what webhooks did not bring — an order whose state a webhook already
 * applied is left out (queued, it would be a no-op ahead of the live webhooks), an order whose
 * webhook was lost is recorded and reserved, and a later change of an applied order is recorded.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { Ledger, Order } from "@tkbridge/core"
import type { Engine } from "@tkbridge/engine"
import { EngineFlows, PolledEvents } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"] })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  // Only the passes the test asks for (and the one at start) run.
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) })
})

const reserved = (orderId: string, state: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations("shop", orderId), (rows) => rows.length > 0 && rows.every((r) => r.state === state))
  )

const ordersPass = (engine: Engine.EngineShape) =>
  Effect.map(engine.reconcileNow("shop"), (report) => report.connections.find((c) => c.connection === "shop")!.orders)

for (const root of roots) {
  describe(`reconciliation, ${root.name}`, () => {
    it.live(
      "a poll leaves out the states webhooks applied and records the order whose webhook was lost",
      () =>
        Effect.gen(function* () {
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems([{ sku: "MUG", title: "Mug", stock: 50 }])
          shop.seedItems([{ sku: "MUG", stock: 0 }])
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("shop", MemoryConnector.connector, decode(shop.connectorConfig())),
              connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
            ],
            flows
          })
          yield* Effect.gen(function* () {
            const engine = yield* startEngine({
              grants: [
                ["shop", MemoryFakeChannel.tokenSetOf(shop)],
                ["erp", MemoryFakeChannel.tokenSetOf(erp)]
              ],
              imports: ["erp", "shop"],
              published: () => shop.stock("MUG") === 50,
              subscribe: (url) => shop.subscribe(`${url}/webhooks/shop`)
            })

            const byWebhook = Array.from({ length: 5 }, () => shop.placeOrder({ lines: [{ sku: "MUG", quantity: 1 }] }))
            for (const id of byWebhook) yield* eventually(reserved(id, "held"))

            // Every order is read; none is queued again.
            const first = yield* ordersPass(engine)
            expect(first.read).toBe(5)
            expect(first.recorded).toBe(0)

            // A lost webhook: the poll records that order, and it is reserved.
            const lost = shop.placeOrder({ lines: [{ sku: "MUG", quantity: 2 }], notify: false })
            // (The sandbox's clock ticks ahead of real time under a burst of changes: pass until it shows.)
            let recorded = 0
            yield* eventually(
              Effect.map(ordersPass(engine), (pass) => {
                recorded += pass.recorded
                return pass.read === 6
              })
            )
            expect(recorded).toBe(1)
            yield* eventually(reserved(lost, "held"))

            // The order the poll brought is now applied too: the next pass queues nothing.
            expect(yield* ordersPass(engine)).toMatchObject({ read: 6, recorded: 0 })

            // A change of an applied order whose webhook was lost is a newer state: recorded.
            shop.subscribe(undefined)
            shop.setOrderStatus(byWebhook[0]!, "cancelled")
            recorded = 0
            yield* eventually(
              Effect.map(ordersPass(engine), (pass) => {
                recorded += pass.recorded
                return recorded > 0
              })
            )
            expect(recorded).toBe(1)
            yield* eventually(reserved(byWebhook[0]!, "released"))
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      120_000
    )
  })
}

describe("PolledEvents.alreadyApplied", () => {
  const order = (status: Order.OrderStatus) =>
    new Order.Order({
      connection: "shop",
      externalId: "1001",
      status,
      currency: "GBP",
      lines: [new Order.OrderLine({ lineId: "1", externalSku: "MUG", qty: 1 })],
      placedAt: new Date(1_000),
      updatedAt: new Date(5_000)
    })
  const polled = (o: Order.Order) => PolledEvents.clockOf({ _tag: "PolledOrder", order: o })
  const applied = (o: Order.Order, updatedAt = o.updatedAt) => ({ updatedAt, state: PolledEvents.orderState(o) })

  it("skips the state applied and older ones, never another state under the same update time", () => {
    const paid = order("awaiting_shipment")
    const cancelled = order("cancelled")
    expect(PolledEvents.alreadyApplied(polled(paid), undefined)).toBe(false)
    expect(PolledEvents.alreadyApplied(polled(paid), applied(paid))).toBe(true)
    expect(PolledEvents.alreadyApplied(polled(paid), applied(cancelled, new Date(6_000)))).toBe(true)
    // Two states under one (one-second) update time: the poll's may be the one a webhook missed.
    expect(PolledEvents.alreadyApplied(polled(cancelled), applied(paid))).toBe(false)
    // Applied without a digest (a status-only notice): only a newer time counts.
    expect(PolledEvents.alreadyApplied(polled(paid), { updatedAt: new Date(5_000) })).toBe(false)
    expect(PolledEvents.alreadyApplied(polled(paid), { updatedAt: new Date(4_000), state: "x" })).toBe(false)
  })
})
