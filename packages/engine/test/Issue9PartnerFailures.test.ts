/**
 * Issue 9 — partners failing for a while, on both composition roots, over real HTTP against Memory
 * platforms. The fulfiller first answers empty 200s, then lets calls time out, then answers 500s:
 * each order's parcel step is retried, then dead-lettered with the reason, the last response and the
 * redacted request. Replayed once the fulfiller recovers — while the shop now refuses tracking
 * write-backs with 503s — the orders get their parcels and dead-letter again at the write-back, on
 * the shop's connection. Replayed again after the shop recovers, every order ends with exactly one
 * parcel, one fulfilment and its units committed; replaying a third time changes nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { Audit, DeadLetter, Ledger, TokenStore } from "@tkbridge/core"
import { Engine, EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { Duration, Effect, Option, Schema } from "effect"
import { connection, EdgeUrl, engineWithEdge, eventually } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const skus = ["MUG-RED", "MUG-BLUE"]

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.seconds(1) })
})

for (const root of roots) {
  describe(`issue 9 partner failures, ${root.name}`, () => {
    it.live(
      "empty 200s, timeouts and 5xx: retried, dead-lettered with a reason, replayed into exactly one parcel and fulfilment",
      () =>
        Effect.gen(function* () {
          const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems(skus.map((sku) => ({ sku, stock: 50 })))
          shop.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
          const timeoutMs = 300
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("shop", MemoryConnector.connector, decode({ ...shop.connectorConfig(), timeoutMs })),
              connection("erp", MemoryConnector.connector, decode({ ...erp.connectorConfig(), timeoutMs }))
            ],
            flows,
            stepRetry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 60 }
          })
          yield* Effect.gen(function* () {
            const engine = yield* Engine.Engine
            const tokens = yield* TokenStore.TokenStore
            const letters = yield* DeadLetter.DeadLetters
            const ledger = yield* Ledger.Ledger
            const audit = yield* Audit.Audit
            const { url } = yield* EdgeUrl
            yield* tokens.save("shop", MemoryFakeChannel.tokenSetOf(shop))
            yield* tokens.save("erp", MemoryFakeChannel.tokenSetOf(erp))
            yield* engine.importCatalog("erp")
            yield* engine.importCatalog("shop")
            yield* engine.start
            yield* eventually(Effect.sync(() => skus.every((s) => shop.stock(s) === 50)))
            shop.subscribe(`${url}/webhooks/shop`)

            // The fulfiller fails every way a partner can for a while.
            erp.server.fault("parcels.create", { empty: true, times: 2 })
            erp.server.fault("parcels.create", { hang: true, times: 2 })
            erp.server.fault("parcels.create", {
              status: 500,
              body: { error: { code: "internal", message: "upstream" } }
            })
            const orders = [
              shop.placeOrder({ lines: [{ sku: "MUG-RED", quantity: 1 }] }),
              shop.placeOrder({ lines: [{ sku: "MUG-BLUE", quantity: 2 }] }),
              shop.placeOrder({
                lines: [
                  { sku: "MUG-RED", quantity: 1 },
                  { sku: "MUG-BLUE", quantity: 1 }
                ]
              })
            ]
            const open = (c: string) => letters.count({ connection: c, kind: "job", status: "open" })
            yield* eventually(Effect.map(open("erp"), (n) => n === orders.length))
            expect(erp.server.requestsTo("parcels.create").length).toBeGreaterThanOrEqual(orders.length * 3)
            expect(erp.parcels()).toHaveLength(0)
            const statuses: Array<number | undefined> = []
            for (const summary of yield* letters.list({ connection: "erp", kind: "job" })) {
              expect(summary.reason).toBe("retry_exhausted")
              expect(summary.message).toContain("create-parcel")
              const letter = Option.getOrThrow(yield* letters.show(summary.id))
              expect(letter.error?._tag).toBe("Transient")
              statuses.push(letter.httpStatus)
              if (letter.httpStatus !== undefined) expect(letter.exchange?.curl).toContain("/v1/parcels")
              expect(JSON.stringify(letter)).not.toContain(erp.clientSecret)
            }
            // The last answer each order got was the 500 (the empty 200s and time-outs came first).
            expect(statuses).toContain(500)
            for (const id of orders) {
              const rows = yield* ledger.reservations("shop", id)
              expect(rows.every((r) => r.state === "held")).toBe(true)
              // Every failed attempt is in the audit trail with its outcome, not only in the letter.
              const trail = yield* audit.list({ subject: id, action: "shipment.create" })
              expect(trail.length).toBeGreaterThanOrEqual(3)
              expect(trail.every((row) => row.outcome === "failed:Transient")).toBe(true)
            }

            // The fulfiller recovers; the shop now refuses write-backs.
            erp.server.clearFaults()
            shop.server.fault("fulfillments.create", {
              status: 503,
              body: { error: { code: "unavailable", message: "maintenance" } }
            })
            const first = yield* engine.replayDeadLetters({ connection: "erp", kind: "job" })
            expect(first.map((r) => r.outcome)).toEqual(orders.map(() => "replayed"))
            yield* eventually(Effect.map(open("shop"), (n) => n === orders.length))
            for (const id of orders) {
              expect(erp.parcels(FulfilmentWorkflow.parcelReference("shop", id))).toHaveLength(1)
              expect(shop.fulfillments(id)).toHaveLength(0)
            }
            const [writeBack] = yield* letters.list({ connection: "shop", kind: "job" })
            expect(writeBack!.message).toContain("write-tracking")
            expect(writeBack!.httpStatus).toBe(503)

            // The shop recovers: replaying the letters by id, as an operator names them, ships every
            // order exactly once.
            shop.server.clearFaults()
            const ids = (yield* letters.list({ connection: "shop", kind: "job" })).map((l) => l.id)
            const second = yield* engine.replayLetters(ids)
            expect(second.map((r) => r.outcome)).toEqual(orders.map(() => "replayed"))
            yield* eventually(Effect.sync(() => orders.every((id) => shop.fulfillments(id).length > 0)))
            for (const id of orders) {
              const parcels = erp.parcels(FulfilmentWorkflow.parcelReference("shop", id))
              expect(parcels).toHaveLength(1)
              expect(shop.fulfillments(id).map((f) => f.trackingNumber)).toEqual([parcels[0]!.trackingNumber])
              yield* eventually(
                Effect.map(ledger.reservations("shop", id), (rows) => rows.every((r) => r.state === "committed"))
              )
            }
            expect(yield* letters.count({ status: "open" })).toBe(0)

            // Replaying again is harmless.
            const again = yield* engine.replayDeadLetters({ kind: "job", status: "any" })
            expect(again.every((r) => r.outcome !== "replayed")).toBe(true)
            expect(erp.parcels()).toHaveLength(orders.length)
            for (const id of orders) expect(shop.fulfillments(id)).toHaveLength(1)
            yield* engine.stop()
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      180_000
    )
  })
}
