/**
 * Issue 6 — TikTok Shop orders fulfilled by 4PX through the engine, over real HTTP against both
 * sandboxes (signed TikTok Open API calls and webhooks, signed FOP calls), with a Memory platform as
 * the ERP that holds the stock, on both composition roots.
 *
 * 500 orders arrive while one call in ten fails transiently on each side: 5xx and TikTok's
 * "service unavailable" at the shop; 5xx, empty 200s, FOP "request timeout / exception" envelopes and creates whose
 * answer is lost after 4PX made the parcel. Every one of the 500 ends with exactly one 4PX parcel and
 * that parcel's tracking number on the TikTok order. Orders 4PX refuses for good (a consignee name
 * its rules reject) sit in the dead-letter queue with the reason and 4PX's field code, their units
 * still held; no other letter is left open. Each parcel is kept with its tracking number and label,
 * and once 4PX delivers them the tracking schedule (its calls failing one in ten as well) marks every
 * one delivered from the carrier's own scans.
 */
import { describe, expect, it } from "@effect/vitest"
import { FourPxConfig, FourPxConnector } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { TikTokShopConfig, TikTokShopConnector } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { DeadLetter, Ledger, Parcels } from "@tkbridge/core"
import { EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { Duration, Effect, Option, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decodeMemory = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const decodeTikTok = Schema.decodeUnknownSync(TikTokShopConfig.TikTokShopConfig)
const decodeFourPx = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)

const skus = ["TEE-S", "TEE-M", "TEE-L", "CAP-1", "MUG-1"]
const orderCount = 500
const refusedCount = 4
const faultShare = 0.1

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["tiktok"], fulfilment: "4px" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.seconds(2) })],
    channels: ["tiktok"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.seconds(5) }),
  fulfilment: new EngineFlows.FulfilmentDefaults({
    trackingPollEvery: Duration.millis(300),
    trackingEventsEvery: Duration.millis(300)
  })
})

for (const root of roots) {
  describe(`issue 6: TikTok Shop orders fulfilled by 4PX, ${root.name}`, () => {
    it.live(
      `${orderCount} orders with ${faultShare * 100}% transient faults on both sides all end with tracking on TikTok; refused parcels are dead-lettered`,
      () =>
        Effect.gen(function* () {
          // Orders skip the buyer-remorse hold so they can ship at once.
          const tiktok = yield* TikTokShopSandbox.scoped({ shops: [{ name: "UK" }], remorseWindowMs: 0 })
          // 4PX publishes no request budget; its sandbox's per-minute limit is lifted for the burst.
          const fourpx = yield* FourPxSandbox.scoped({
            seed: 6,
            labelDelayMs: 0,
            autoAdvance: false,
            rateLimitPerMinute: null
          })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems(skus.map((sku) => ({ sku, stock: 10_000 })))
          tiktok.addProduct({ title: "Tee and things", skus: skus.map((sellerSku) => ({ sellerSku, stock: 0 })) })
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection("tiktok", TikTokShopConnector.connector, decodeTikTok(tiktok.connectorConfig())),
              connection("4px", FourPxConnector.connector, decodeFourPx(fourpx.connectorConfig({ timeoutMs: 2_000 }))),
              connection("erp", MemoryConnector.connector, decodeMemory(erp.connectorConfig()))
            ],
            flows,
            stepRetry: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 1_000 }
          })
          yield* Effect.gen(function* () {
            const letters = yield* DeadLetter.DeadLetters
            const ledger = yield* Ledger.Ledger
            const parcels = yield* Parcels.Parcels
            const engine = yield* startEngine({
              grants: [
                ["tiktok", tiktok.issueTokenSet()],
                ["erp", MemoryFakeChannel.tokenSetOf(erp)]
              ],
              imports: ["erp", "tiktok"],
              published: () => skus.every((s) => tiktok.stock(s) === 10_000),
              subscribe: (url) => tiktok.subscribe(`${url}/webhooks/tiktok`)
            })

            // One call in ten fails on each side, every way a transient failure shows.
            const p = faultShare
            for (const route of ["orders.detail", "orders.search", "packages.mark_shipped", "inventory.update"]) {
              tiktok.fault(route, { status: 500, body: "upstream error", probability: p / 2 })
              tiktok.fault(route, { ...tiktok.tiktokError(36009003), probability: p / 2 })
            }
            fourpx.fault("ds.xms.order.create", { status: 502, body: "Bad Gateway", probability: p / 4 })
            fourpx.fault("ds.xms.order.create", { empty: true, probability: p / 4 })
            fourpx.fault("ds.xms.order.create", fourPxBusy(fourpx, p / 4))
            // The parcel is made but the answer is lost: the retry must find it, not make a second.
            fourpx.fault("ds.xms.order.create", {
              status: 504,
              body: "Gateway Timeout",
              afterEffect: true,
              probability: p / 4
            })
            for (const method of ["ds.xms.order.get", "tr.order.tracking.get"]) {
              fourpx.fault(method, { status: 503, body: "Service Unavailable", probability: p / 2 })
              fourpx.fault(method, fourPxBusy(fourpx, p / 2))
            }

            // Orders arrive in waves, as a flash sale brings them; a few carry a name 4PX refuses.
            const orders: Array<string> = []
            const refused: Array<string> = []
            for (let i = 0; i < orderCount + refusedCount; i++) {
              const lines = [{ sku: skus[i % skus.length]!, qty: 1 + (i % 3) }]
              if (i % 7 === 0) lines.push({ sku: skus[(i + 2) % skus.length]!, qty: 1 })
              if (i % Math.floor(orderCount / refusedCount) === 1 && refused.length < refusedCount) {
                // The sandbox's usual buyer (the first order's), under a name 4PX's consignee rules refuse.
                const recipient = { ...tiktok.order(orders[0]!).recipient, name: "X" }
                refused.push(tiktok.placeOrder({ lines, recipient }))
              } else orders.push(tiktok.placeOrder({ lines }))
              if (i % 50 === 49) yield* Effect.sleep("200 millis")
            }
            expect(orders).toHaveLength(orderCount)

            const tracked = () => orders.filter((id) => tiktok.shipments(id).length > 0).length
            yield* eventually(
              Effect.sync(() => tracked() === orderCount),
              500
            )

            // The faults really happened, on both sides.
            const failed = (requests: ReadonlyArray<{ readonly status: number | undefined }>) =>
              requests.filter((r) => (r.status ?? 0) >= 500).length
            expect(failed(tiktok.requestsTo("orders.detail"))).toBeGreaterThan(0)
            expect(failed(tiktok.requestsTo("packages.mark_shipped"))).toBeGreaterThan(0)
            expect(failed(fourpx.requests("gateway"))).toBeGreaterThan(0)

            // Exactly one parcel per order, and its number is the one on TikTok.
            for (const id of orders) {
              const reference = FulfilmentWorkflow.parcelReference("tiktok", id)
              expect(fourpx.count(reference)).toBe(1)
              const parcel = fourpx.parcel(reference)!
              expect(tiktok.shipments(id).map((s) => s.trackingNumber)).toEqual([parcel.trackingNumber])
              expect(tiktok.shipments(id)[0]!.carrier).toBe("4PX")
            }
            expect(fourpx.parcels()).toHaveLength(orderCount)

            // Each parcel is kept with its tracking number and the label 4PX rendered for it.
            for (const id of orders) {
              const reference = FulfilmentWorkflow.parcelReference("tiktok", id)
              yield* eventually(
                Effect.map(parcels.ofOrder("tiktok", id), (kept) => kept.length === 1 && kept[0]!.label !== undefined)
              )
              const [kept] = yield* parcels.ofOrder("tiktok", id)
              expect(kept).toMatchObject({
                fulfiller: "4px",
                reference,
                trackingNumber: fourpx.parcel(reference)!.trackingNumber
              })
              expect(kept!.label?.url).toMatch(/^https?:\/\//)
            }
            // 4PX delivers them all: the tracking schedule reads the scans and marks each delivered.
            fourpx.advanceAll("F")
            const delivered = () =>
              Effect.map(
                parcels.list({ connection: "4px", limit: orderCount + refusedCount }),
                (all) => all.filter((p) => p.status === "delivered").length
              )
            yield* eventually(
              Effect.map(delivered(), (n) => n === orderCount),
              500
            )
            const sample = (yield* parcels.ofOrder("tiktok", orders[0]!))[0]!
            expect(sample.deliveredAt).toBeDefined()
            expect(sample.lastEvent?.status).toBe("delivered")
            expect((yield* parcels.events("4px", sample.trackingNumber!)).length).toBeGreaterThan(1)
            for (const id of orders) {
              yield* eventually(
                Effect.map(
                  ledger.reservations("tiktok", id),
                  (rows) => rows.length > 0 && rows.every((r) => r.state === "committed")
                )
              )
            }

            // The refused ones wait in the dead-letter queue with 4PX's reason, their units held.
            yield* eventually(
              Effect.map(letters.count({ connection: "4px", kind: "job", status: "open" }), (n) => n === refusedCount)
            )
            const open = yield* letters.list({ status: "open" })
            expect(open).toHaveLength(refusedCount)
            for (const summary of open) {
              expect(summary.reason).toBe("rejected")
              const letter = Option.getOrThrow(yield* letters.show(summary.id))
              expect(letter.error?._tag).toBe("Rejected")
              expect(JSON.stringify(letter)).toContain("010101005")
              expect(JSON.stringify(letter)).not.toContain(fourpx.appSecret)
            }
            for (const id of refused) {
              expect(tiktok.shipments(id)).toHaveLength(0)
              expect(fourpx.count(FulfilmentWorkflow.parcelReference("tiktok", id))).toBe(0)
              const rows = yield* ledger.reservations("tiktok", id)
              expect(rows.length > 0 && rows.every((r) => r.state === "held")).toBe(true)
            }
            yield* engine.stop()
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      420_000
    )
  })
}

/** FOP's "request timeout / exception" envelope (`000020`), answered with HTTP 200 as 4PX does. */
const fourPxBusy = (sandbox: FourPxSandbox.FourPxSandbox, probability: number) =>
  sandbox.fourPxError("000020", { probability })
