/**
 * Issue 4 — a TikTok Shop shop run by the engine, over real HTTP against the TikTok Shop sandbox
 * (signed Open API calls, signed webhooks) with a Memory platform as the ERP (stock source, items
 * source and fulfiller), on both composition roots:
 *
 * - the shop's catalogue pairs with the ERP's items and TikTok shows the pool's quantities;
 * - an order placed on TikTok reaches the pool by webhook (TikTok's notices carry no order: the
 *   engine fetches it), is reserved while on hold, gets one parcel at the ERP once it awaits
 *   shipment, and TikTok receives the tracking number; its units are committed. TikTok's order
 *   search fails throughout this leg, so reconciliation cannot stand in for the webhooks: every
 *   notice must be acknowledged 200 by the edge and sit in the inbox as that delivery, applied;
 * - with webhooks lost (`muteWebhooks`), an order still arrives by polling; redelivering the lost
 *   webhooks afterwards changes nothing;
 * - a seller cancellation releases the held units (and no parcel is made); a completed return puts
 *   them back on hand;
 * - a deauthorization webhook marks the connection `needs_reauth`: an order and a stock change that
 *   arrive meanwhile wait (nothing dead-lettered, nothing lost) and go through once the seller
 *   authorizes again.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { TikTokShopConfig, TikTokShopConnector } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { DeadLetter, Inbox, Ledger, Outbox, TokenStore, WebhookEdge } from "@tkbridge/core"
import { Engine, EngineFlows, FulfilmentWorkflow, RetryPolicy } from "@tkbridge/engine"
import { Duration, Effect, Option, Schema } from "effect"
import { connection, EdgeUrl, engineWithEdge, eventually } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decodeMemory = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const decodeTikTok = Schema.decodeUnknownSync(TikTokShopConfig.TikTokShopConfig)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["tiktok"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["tiktok"]
  }),
  afterSales: new EngineFlows.AfterSalesFlow({ from: ["tiktok"] }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.millis(700) }),
  fulfilment: new EngineFlows.FulfilmentDefaults({ trackingPollEvery: Duration.millis(200) })
})

const states = (orderId: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations("tiktok", orderId), (rows) => rows.map((r) => r.state))
  )
const all = (orderId: string, state: string) =>
  Effect.map(states(orderId), (s) => s.length > 0 && s.every((x) => x === state))
/** The sandbox's order-status notices (type 1) about an order, oldest first. */
const noticesOf = (tiktok: TikTokShopSandbox.TikTokShopSandbox, orderId: string) =>
  tiktok.webhooks.notifications.filter(
    (n) => n.type === 1 && (JSON.parse(n.body) as { data: { order_id?: string } }).data.order_id === orderId
  )
const published = (sku: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.published([{ connection: "tiktok", externalSku: sku }]), (e) => e[0]?.published)
  )

for (const root of roots) {
  describe(`issue 4: TikTok Shop through the engine, ${root.name}`, () => {
    it.live(
      "orders by webhook and by polling, reserved once, shipped with tracking, cancelled, returned, deauthorized",
      () =>
        Effect.gen(function* () {
          const tiktok = yield* TikTokShopSandbox.scoped({ shops: [{ name: "UK" }] })
          const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
          erp.seedItems([
            { sku: "MUG-RED", title: "Red mug", stock: 30 },
            { sku: "MUG-BLUE", title: "Blue mug", stock: 30 }
          ])
          tiktok.addProduct({
            title: "Mug",
            skus: [
              { sellerSku: "MUG-RED", stock: 0 },
              { sellerSku: "MUG-BLUE", stock: 0 }
            ]
          })
          // The ERP's carrier, as TikTok knows it.
          const provider = tiktok.shippingProviders()[0]!
          const layer = engineWithEdge({
            root: root.layer(),
            connections: [
              connection(
                "tiktok",
                TikTokShopConnector.connector,
                decodeTikTok({ ...tiktok.connectorConfig(), shippingProviders: { "Memory Post": provider.id } })
              ),
              connection("erp", MemoryConnector.connector, decodeMemory(erp.connectorConfig()))
            ],
            flows,
            // A paused connection's stock pushes are tried again after the longest back-off.
            push: { retry: { ...RetryPolicy.defaults, maxDelayMs: 1_000 } }
          })
          yield* Effect.gen(function* () {
            const engine = yield* Engine.Engine
            const tokens = yield* TokenStore.TokenStore
            const letters = yield* DeadLetter.DeadLetters
            const outbox = yield* Outbox.StockOutbox
            const ledger = yield* Ledger.Ledger
            const inbox = yield* Inbox.Inbox
            const edge = yield* WebhookEdge.WebhookEdge
            const { url } = yield* EdgeUrl
            yield* tokens.save("tiktok", tiktok.issueTokenSet())
            yield* tokens.save("erp", MemoryFakeChannel.tokenSetOf(erp))
            yield* engine.importCatalog("erp")
            const paired = yield* engine.importCatalog("tiktok")
            expect(paired.paired.map((p) => p.externalSku).sort()).toEqual(["MUG-BLUE", "MUG-RED"])
            yield* engine.start
            yield* eventually(Effect.sync(() => tiktok.stock("MUG-RED") === 30 && tiktok.stock("MUG-BLUE") === 30))
            tiktok.subscribe(`${url}/webhooks/tiktok`)

            // By webhook: held while on hold, shipped with the ERP's tracking number once released.
            // Order search answers 503 for the whole leg: polling sees nothing, only webhooks bring the order.
            const searchesBefore = tiktok.requestsTo("orders.search").length
            tiktok.fault("orders.search", tiktok.tiktokError(36009003))
            const first = tiktok.placeOrder({ lines: [{ sku: "MUG-RED", qty: 2 }] })
            // UNPAID and ON_HOLD went out; the edge verified, decoded and stored each before answering 200.
            yield* eventually(
              Effect.sync(
                () =>
                  noticesOf(tiktok, first).length === 2 && noticesOf(tiktok, first).every((n) => n.state !== "pending")
              )
            )
            expect(noticesOf(tiktok, first).map((n) => n.attempts.map((a) => a.status))).toEqual([[200], [200]])
            yield* eventually(all(first, "held"))
            expect(erp.parcels()).toHaveLength(0)
            yield* eventually(Effect.sync(() => tiktok.stock("MUG-RED") === 28))
            tiktok.releaseHold(first)
            yield* eventually(Effect.sync(() => tiktok.shipments(first).length > 0))
            const parcel = erp.parcels(FulfilmentWorkflow.parcelReference("tiktok", first))
            expect(parcel).toHaveLength(1)
            expect(tiktok.shipments(first).map((s) => s.trackingNumber)).toEqual([parcel[0]!.trackingNumber])
            yield* eventually(all(first, "committed"))
            expect((yield* states(first)).length).toBe(2)
            // Reconciliation kept polling meanwhile and was turned away every time.
            yield* eventually(Effect.sync(() => tiktok.requestsTo("orders.search").length > searchesBefore))
            expect(
              tiktok
                .requestsTo("orders.search")
                .slice(searchesBefore)
                .every((r) => r.status === 503)
            ).toBe(true)
            tiktok.clearFaults("orders.search")
            // Every notice of the order (UNPAID, ON_HOLD, AWAITING_SHIPMENT, AWAITING_COLLECTION) was
            // acknowledged 200 once, and is in the inbox as that very delivery, applied. Offering it to
            // the edge again is TikTok's redelivery: a no-op that names the stored entry.
            yield* eventually(Effect.sync(() => noticesOf(tiktok, first).every((n) => n.state !== "pending")))
            const notices = noticesOf(tiktok, first)
            expect(
              notices.map((n) => (JSON.parse(n.body) as { data: { order_status: string } }).data.order_status)
            ).toEqual(["UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "AWAITING_COLLECTION"])
            for (const notice of notices) {
              expect(notice.attempts.map((a) => a.status)).toEqual([200])
              const again = yield* edge.receive("tiktok", {
                method: "POST",
                url: "/webhooks/tiktok",
                headers: { "content-type": "application/json", authorization: notice.signature },
                rawBody: new TextEncoder().encode(notice.body)
              })
              expect(again).toMatchObject({ status: 200, outcome: "duplicate" })
              const entryOf = Effect.map(inbox.get(again.id!), Option.getOrThrow)
              // The latest notice may still be on its way through the processor.
              yield* eventually(Effect.map(entryOf, (e) => e.status !== "pending"))
              const entry = yield* entryOf
              expect(entry).toMatchObject({ connection: "tiktok", status: "done", request: { method: "POST" } })
              expect(new TextDecoder().decode(entry.request.rawBody)).toBe(notice.body)
            }

            // Webhooks lost: polling brings the order in; the late redelivery changes nothing.
            tiktok.muteWebhooks(true)
            const second = tiktok.placeOrder({ lines: [{ sku: "MUG-BLUE", qty: 1 }] })
            tiktok.releaseHold(second)
            yield* eventually(Effect.sync(() => tiktok.shipments(second).length > 0))
            yield* eventually(all(second, "committed"))
            tiktok.muteWebhooks(false)
            expect(tiktok.redeliverMuted()).toBeGreaterThan(0)
            const third = tiktok.placeOrder({ lines: [{ sku: "MUG-RED", qty: 1 }] })
            yield* eventually(all(third, "held"))
            // The redelivered notices were applied (they came before the third order's) and did nothing new.
            expect(tiktok.shipments(second)).toHaveLength(1)
            expect(erp.parcels(FulfilmentWorkflow.parcelReference("tiktok", second))).toHaveLength(1)
            expect((yield* states(second)).length).toBe(1)

            // A seller cancellation releases the held unit; no parcel is made.
            tiktok.cancel(third, { by: "SELLER" })
            yield* eventually(all(third, "released"))
            expect(erp.parcels(FulfilmentWorkflow.parcelReference("tiktok", third))).toHaveLength(0)
            const afterCancel = yield* ledger.balances(["MUG-RED"])
            expect(afterCancel[0]).toMatchObject({ onHand: 28, held: 0 })
            yield* eventually(Effect.map(published("MUG-RED"), (q) => q === 28 && tiktok.stock("MUG-RED") === 28))

            // A completed return of the first order puts its two units back.
            const ret = tiktok.requestReturn(first)
            tiktok.setReturnStatus(ret, "RETURN_OR_REFUND_REQUEST_SUCCESS")
            tiktok.setReturnStatus(ret, "RETURN_OR_REFUND_REQUEST_COMPLETE")
            yield* eventually(
              Effect.map(ledger.balances(["MUG-RED"]), (b) => b[0]?.onHand === 30 && tiktok.stock("MUG-RED") === 30)
            )

            // Deauthorized: the connection pauses; an order and a stock change wait, nothing is lost.
            tiktok.deauthorize()
            yield* eventually(Effect.map(engine.status, (s) => s.needsReauth.some((r) => r.connection === "tiktok")))
            const waiting = tiktok.placeOrder({ lines: [{ sku: "MUG-BLUE", qty: 1 }] })
            erp.setStock("MUG-RED", 25)
            yield* eventually(
              Effect.map(engine.status, (s) => {
                const c = s.connections.find((x) => x.connection === "tiktok")!
                return c.state === "needs_reauth" && c.inbox.pending > 0
              })
            )
            yield* eventually(Effect.map(outbox.backlog("tiktok"), (n) => n > 0))
            expect(yield* states(waiting)).toEqual([])
            expect(tiktok.stock("MUG-RED")).toBe(30)
            expect(yield* letters.count({ connection: "tiktok" })).toBe(0)
            // Work that met the paused grant did not mark it again (a late mark would pause the next grant).
            yield* Effect.sleep("1500 millis")
            const paused = Option.getOrThrow(yield* tokens.get("tiktok"))
            expect(paused.needsReauth).toBe(true)
            expect(paused.reauthReason).not.toContain("needs re-authorization")

            // The seller authorizes again: the queued order and push go through.
            yield* tokens.save("tiktok", tiktok.issueTokenSet())
            yield* eventually(all(waiting, "held"))
            yield* eventually(Effect.sync(() => tiktok.stock("MUG-RED") === 25))
            tiktok.releaseHold(waiting)
            yield* eventually(Effect.sync(() => tiktok.shipments(waiting).length > 0))
            expect(yield* letters.count({ connection: "tiktok" })).toBe(0)
            for (const order of [first, second, waiting]) expect(tiktok.shipments(order)).toHaveLength(1)
            yield* engine.stop()
          }).pipe(Effect.provide(layer))
        }).pipe(Effect.scoped),
      180_000
    )
  })
}
