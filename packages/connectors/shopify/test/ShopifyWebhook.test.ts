/**
 * Webhooks end to end: the sandbox signs and delivers like Shopify (checked with Shopify's own
 * library), the connector verifies what Shopify's library signs, refuses what it must, dedupes on
 * the event id, decodes every topic it handles, and the sandbox retries 8 times over 4 hours.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import "@shopify/shopify-api/adapters/node"
import { describe, expect, it } from "@effect/vitest"
import { ApiVersion, shopifyApi } from "@shopify/shopify-api"
import { getHmac } from "@shopify/shopify-api/test-helpers"
import { SandboxClock } from "@tkbridge/connector-testkit"
import type { Webhook } from "@tkbridge/core"
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { ShopifyConfig, ShopifyWebhook } from "../src/index.ts"
import { ShopifySandbox, ShopifySandboxFake, ShopifySandboxWebhooks } from "../src/sandbox/index.ts"

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: Buffer
}

/** A webhook receiver on a loopback port answering with `status(n)` for the n-th request. */
const receiver = (status: (n: number) => number | "hang" = () => 200) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ url: string; received: Array<Received>; server: Http.Server }>((resolve) => {
          const received: Array<Received> = []
          const server = Http.createServer((req, res) => {
            const chunks: Array<Buffer> = []
            req.on("data", (c: Buffer) => chunks.push(c))
            req.on("end", () => {
              received.push({
                method: req.method ?? "",
                url: req.url ?? "",
                headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
                body: Buffer.concat(chunks)
              })
              const answer = status(received.length)
              if (answer === "hang") return
              res.writeHead(answer).end()
            })
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`,
              received,
              server
            })
          )
        })
    ),
    ({ server }) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      )
  )

/** Polls a condition the sandbox reaches asynchronously (a delivery attempt landing). */
const waitUntil = (condition: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500 && !condition(); i++) yield* Effect.sleep("10 millis")
    expect(condition()).toBe(true)
  })

const toRequest = (r: Received): Webhook.WebhookRequest => ({
  method: r.method,
  url: r.url,
  headers: r.headers,
  rawBody: new Uint8Array(r.body)
})

const receiverFor = (
  sandbox: ShopifySandbox.ShopifySandbox,
  overrides: Partial<ShopifyConfig.ShopifyConfigInput> = {}
) =>
  ShopifyWebhook.make(Schema.decodeUnknownSync(ShopifyConfig.ShopifyConfig)(sandbox.config(overrides)), "shopify-test")

const library = (sandbox: ShopifySandbox.ShopifySandbox) =>
  shopifyApi({
    apiKey: sandbox.clientId,
    apiSecretKey: sandbox.clientSecret,
    hostName: "tkbridge.example",
    apiVersion: ApiVersion.October26,
    isEmbeddedApp: false,
    logger: { level: 0 }
  })

const rejected = (e: Either.Either<void, Webhook.WebhookRejected>) =>
  Either.getLeft(e).pipe(
    Option.map((x) => x.reason),
    Option.getOrNull
  )

describe("webhooks: signing and verification", () => {
  it.scopedLive("deliveries the sandbox makes over HTTP validate with Shopify's library and with the connector", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const inbox = yield* receiver()
      sandbox.subscribe(inbox.url, { topics: ["orders/create"], name: "tkbridge" })
      sandbox.seedSkus([{ sku: "HOOK-1", quantity: 5 }])
      const orderId = sandbox.placeOrder({ lines: [{ sku: "HOOK-1", quantity: 2 }] })
      yield* Effect.promise(() => sandbox.settleWebhooks())
      expect(inbox.received).toHaveLength(1)
      const [delivered] = inbox.received
      const validation = yield* Effect.promise(() =>
        library(sandbox).webhooks.validate({
          rawBody: delivered!.body.toString("utf8"),
          rawRequest: { method: "POST", url: delivered!.url, headers: delivered!.headers } as never
        })
      )
      expect(validation).toMatchObject({
        valid: true,
        topic: "ORDERS_CREATE",
        domain: sandbox.shop,
        apiVersion: "2026-10",
        name: "tkbridge"
      })
      const present = Object.keys(delivered!.headers).filter((h) => h.startsWith("x-shopify-"))
      expect(present.sort()).toEqual(ShopifySandboxWebhooks.deliveryHeaders.map((h) => h.toLowerCase()).sort())
      expect(delivered!.headers["x-shopify-name"]).toBe("tkbridge")
      const connector = receiverFor(sandbox)
      const request = toRequest(delivered!)
      yield* connector.verify(request)
      const decoded = yield* connector.decode(request)
      expect(decoded.topic).toBe("orders/create")
      expect(decoded.dedupeKey).toBe(delivered!.headers["x-shopify-event-id"])
      const [event] = decoded.events
      expect(event?._tag).toBe("OrderChanged")
      if (event?._tag === "OrderChanged") {
        expect(event.orderId).toBe(orderId)
        expect(event.order?.lines.map((l) => [l.externalSku, l.qty])).toEqual([["HOOK-1", 2]])
        expect(event.status).toBe("awaiting_shipment")
      }
    })
  )

  it.scopedLive("a subscription without a name still gets all eight headers, X-Shopify-Name empty", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const inbox = yield* receiver()
      sandbox.subscribe(inbox.url, { topics: ["orders/create"] })
      sandbox.seedSkus([{ sku: "HOOK-2", quantity: 5 }])
      sandbox.placeOrder({ lines: [{ sku: "HOOK-2", quantity: 1 }] })
      yield* Effect.promise(() => sandbox.settleWebhooks())
      const [delivered] = inbox.received
      const present = Object.keys(delivered!.headers).filter((h) => h.startsWith("x-shopify-"))
      expect(present.sort()).toEqual(ShopifySandboxWebhooks.deliveryHeaders.map((h) => h.toLowerCase()).sort())
      expect(delivered!.headers["x-shopify-name"]).toBe("")
      const validation = yield* Effect.promise(() =>
        library(sandbox).webhooks.validate({
          rawBody: delivered!.body.toString("utf8"),
          rawRequest: { method: "POST", url: delivered!.url, headers: delivered!.headers } as never
        })
      )
      expect(validation).toMatchObject({ valid: true, topic: "ORDERS_CREATE" })
      expect(validation).not.toHaveProperty("name")
      yield* receiverFor(sandbox).verify(toRequest(delivered!))
      // The control API's signed deliveries carry the same eight.
      const signed = sandbox.signWebhook("orders/updated", { id: 1 })
      expect(Object.keys(signed.headers).sort()).toEqual([...ShopifySandboxWebhooks.deliveryHeaders].sort())
    })
  )

  it.scopedLive("the connector accepts a delivery signed with Shopify's library helper", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      sandbox.seedSkus([{ sku: "LIB-1", quantity: 5 }])
      const body = JSON.stringify(sandbox.orderPayload(sandbox.placeOrder({ lines: [{ sku: "LIB-1", quantity: 1 }] })))
      const request: Webhook.WebhookRequest = {
        method: "POST",
        url: "/webhooks/shopify",
        headers: {
          "x-shopify-topic": "orders/updated",
          "x-shopify-hmac-sha256": getHmac(body, sandbox.clientSecret),
          "x-shopify-shop-domain": sandbox.shop,
          "x-shopify-api-version": "2026-10",
          "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
        },
        rawBody: new TextEncoder().encode(body)
      }
      const connector = receiverFor(sandbox)
      yield* connector.verify(request)
      const decoded = yield* connector.decode(request)
      // No event id: the webhook id is the dedupe key.
      expect(decoded.dedupeKey).toBe("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
      expect(decoded.events.map((e) => e._tag)).toEqual(["OrderChanged"])
    })
  )

  it.scopedLive(
    "refuses a changed body, another secret, a missing signature and another shop; accepts the previous secret",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* ShopifySandbox.scoped()
        const fake = ShopifySandboxFake.fakeOf(sandbox)
        const connector = receiverFor(sandbox)
        const good = yield* fake.webhooks!.delivery()
        yield* connector.verify(good)
        const body = new Uint8Array(good.rawBody)
        body[body.length - 2] = body[body.length - 2] === 0x31 ? 0x32 : 0x31
        expect(rejected(yield* Effect.either(connector.verify({ ...good, rawBody: body })))).toBe("bad_signature")
        expect(
          rejected(yield* Effect.either(connector.verify(yield* fake.webhooks!.deliverySignedWith("other-secret"))))
        ).toBe("bad_signature")
        const { "x-shopify-hmac-sha256": _gone, ...unsigned } = good.headers
        expect(rejected(yield* Effect.either(connector.verify({ ...good, headers: unsigned })))).toBe(
          "missing_signature"
        )
        expect(
          rejected(
            yield* Effect.either(
              connector.verify({ ...good, headers: { ...good.headers, "x-shopify-shop-domain": "x.myshopify.com" } })
            )
          )
        ).toBe("unknown_app")
        // Mid-rotation: the app now has a new secret, Shopify still signs with the old one for a while.
        const rotated = receiverFor(sandbox, {
          clientSecret: "shpss_new_secret",
          previousClientSecret: sandbox.clientSecret
        })
        yield* rotated.verify(good)
        const retired = receiverFor(sandbox, { clientSecret: "shpss_new_secret" })
        expect(rejected(yield* Effect.either(retired.verify(good)))).toBe("bad_signature")
      })
  )
})

describe("webhooks: decoding", () => {
  it.scopedLive(
    "decodes cancellations, refunds, uninstalls and inventory; records unknown topics; refuses garbage",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* ShopifySandbox.scoped()
        const inbox = yield* receiver()
        sandbox.subscribe(inbox.url)
        const connector = receiverFor(sandbox)
        sandbox.seedSkus([{ sku: "DEC-1", quantity: 5 }])
        const orderId = sandbox.placeOrder({ lines: [{ sku: "DEC-1", quantity: 3 }] })
        const lineId = sandbox.order(orderId).lines[0]!.id
        const refundId = sandbox.refund(orderId, { lines: [{ lineItemId: lineId, quantity: 1 }], note: "damaged" })
        sandbox.cancelOrder(orderId)
        sandbox.uninstall()
        yield* Effect.promise(() => sandbox.settleWebhooks())
        const decoded = yield* Effect.forEach(inbox.received, (r) =>
          Effect.zipRight(connector.verify(toRequest(r)), connector.decode(toRequest(r)))
        )
        const byTopic = (topic: string) => decoded.filter((d) => d.topic === topic)
        expect(byTopic("refunds/create")).toHaveLength(1)
        const [refundEvent, notice] = byTopic("refunds/create")[0]!.events
        expect(refundEvent?._tag).toBe("AfterSaleChanged")
        if (refundEvent?._tag === "AfterSaleChanged") {
          expect(refundEvent).toMatchObject({ afterSaleId: refundId, orderId, kind: "refund", status: "completed" })
          expect(refundEvent.afterSale?.lines).toEqual([{ externalSku: "DEC-1", qty: 1 }])
          expect(refundEvent.afterSale?.reason).toBe("damaged")
        }
        expect(notice).toMatchObject({ _tag: "OrderChanged", orderId })
        const cancelled = byTopic("orders/cancelled")[0]!.events[0]
        expect(cancelled).toMatchObject({ _tag: "OrderChanged", orderId, status: "cancelled" })
        expect(byTopic("app/uninstalled")[0]!.events.map((e) => e._tag)).toEqual(["AuthorizationRevoked"])
        expect(byTopic("inventory_levels/update")[0]!.events.map((e) => e._tag)).toEqual(["InventoryChanged"])

        const signed = (topic: string, payload: unknown) =>
          ShopifySandboxFake.toRequest(sandbox.signWebhook(topic, payload))
        const unknown = yield* connector.decode(signed("products/update", { id: 1 }))
        expect(unknown.events).toEqual([expect.objectContaining({ _tag: "Unhandled", topic: "products/update" })])
        const garbage = ShopifySandboxFake.toRequest({ ...sandbox.signWebhook("orders/create", {}), body: "{not json" })
        expect(
          Either.getLeft(yield* Effect.either(connector.decode(garbage))).pipe(
            Option.map((e) => e._tag),
            Option.getOrNull
          )
        ).toBe("WebhookMalformed")
        const shapeless = yield* Effect.either(connector.decode(signed("orders/create", { id: "x" })))
        expect(Either.isLeft(shapeless)).toBe(true)
        const { "x-shopify-topic": _t, ...noTopic } = signed("orders/create", {}).headers
        expect(
          Either.isLeft(yield* Effect.either(connector.decode({ ...signed("orders/create", {}), headers: noTopic })))
        ).toBe(true)
      })
  )

  it.scopedLive("one event sent to two subscriptions, and sent again, has one dedupe key", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const a = yield* receiver()
      const b = yield* receiver()
      sandbox.subscribe(a.url, { topics: ["orders/create"] })
      sandbox.subscribe(b.url, { topics: ["orders/create"] })
      sandbox.seedSkus([{ sku: "DUP-1", quantity: 5 }])
      sandbox.placeOrder({ lines: [{ sku: "DUP-1", quantity: 1 }] })
      yield* Effect.promise(() => sandbox.settleWebhooks())
      sandbox.redeliver(a.received[0]!.headers["x-shopify-webhook-id"]!)
      sandbox.placeOrder({ lines: [{ sku: "DUP-1", quantity: 1 }] })
      yield* Effect.promise(() => sandbox.settleWebhooks())
      const connector = receiverFor(sandbox)
      const keys = yield* Effect.forEach([...a.received, ...b.received], (r) =>
        Effect.map(connector.decode(toRequest(r)), (d) => d.dedupeKey)
      )
      // a: event 1, its duplicate, event 2; b: event 1, event 2.
      expect(keys[0]).toBe(keys[1])
      expect(keys[0]).toBe(keys[3])
      expect(keys[2]).toBe(keys[4])
      expect(keys[0]).not.toBe(keys[2])
      expect(a.received[0]!.headers["x-shopify-webhook-id"]).not.toBe(b.received[0]!.headers["x-shopify-webhook-id"])
    })
  )
})

describe("webhooks: delivery and retries", () => {
  it.scopedLive(
    "a failing receiver gets 8 retries over 4 hours, then the delivery is given up",
    () =>
      Effect.gen(function* () {
        // A clock that only moves when the test moves it: each retry's time is exact.
        const clock = new SandboxClock.SandboxClock({ speed: 1e-9 })
        const sandbox = yield* ShopifySandbox.scoped({ clock })
        const inbox = yield* receiver(() => 500)
        sandbox.subscribe(inbox.url, { topics: ["orders/create"] })
        sandbox.seedSkus([{ sku: "RETRY-1", quantity: 5 }])
        sandbox.placeOrder({ lines: [{ sku: "RETRY-1", quantity: 1 }] })
        const [delivery] = sandbox.deliveries()
        yield* waitUntil(() => delivery!.attempts.length === 1)
        for (const [i, wait] of ShopifySandboxWebhooks.defaultRetrySchedule.entries()) {
          // Just short of the wait nothing is sent; at the wait the retry goes out.
          clock.advance(wait - 1_000)
          yield* Effect.sleep("20 millis")
          expect(delivery!.attempts).toHaveLength(i + 1)
          clock.advance(1_000)
          yield* waitUntil(() => delivery!.attempts.length === i + 2)
        }
        yield* Effect.promise(() => sandbox.settleWebhooks())
        expect(delivery?.state).toBe("failed")
        expect(delivery?.attempts).toHaveLength(9)
        expect(inbox.received).toHaveLength(9)
        const span = delivery!.attempts[8]!.at - delivery!.attempts[0]!.at
        expect(Math.round(span / 1000)).toBe(4 * 3_600)
        // Every retry is the same delivery: same ids, same body, same signature.
        expect(new Set(inbox.received.map((r) => r.headers["x-shopify-webhook-id"])).size).toBe(1)
        expect(new Set(inbox.received.map((r) => r.headers["x-shopify-hmac-sha256"])).size).toBe(1)
        expect(new Set(inbox.received.map((r) => r.body.toString())).size).toBe(1)
      }),
    { timeout: 30_000 }
  )

  it.scopedLive("a receiver that recovers gets the delivery on a later attempt; a slow one is cut off", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped({
        webhooks: { retryScheduleMs: [10, 10, 10, 10, 10, 10, 10, 10], timeoutMs: 200 }
      })
      const inbox = yield* receiver((n) => (n === 1 ? "hang" : n < 4 ? 503 : 200))
      sandbox.subscribe(inbox.url, { topics: ["orders/create"] })
      sandbox.seedSkus([{ sku: "RECOVER-1", quantity: 5 }])
      sandbox.placeOrder({ lines: [{ sku: "RECOVER-1", quantity: 1 }] })
      yield* Effect.promise(() => sandbox.settleWebhooks())
      const [delivery] = sandbox.deliveries()
      expect(delivery?.state).toBe("delivered")
      expect(delivery?.attempts.map((a) => a.status)).toEqual([0, 503, 503, 200])
    })
  )

  it.scopedLive("a subscription whose last 8 deliveries all failed is deleted", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped({ webhooks: { retryScheduleMs: [1, 1, 1, 1, 1, 1, 1, 1] } })
      const inbox = yield* receiver(() => 500)
      const id = sandbox.subscribe(inbox.url, { topics: ["orders/create"] })
      sandbox.seedSkus([{ sku: "DEL-1", quantity: 50 }])
      for (let i = 0; i < 8; i++) {
        sandbox.placeOrder({ lines: [{ sku: "DEL-1", quantity: 1 }] })
        yield* Effect.promise(() => sandbox.settleWebhooks())
      }
      expect(sandbox.deliveries().filter((d) => d.state === "failed")).toHaveLength(8)
      sandbox.placeOrder({ lines: [{ sku: "DEL-1", quantity: 1 }] })
      expect(sandbox.deliveries()).toHaveLength(8)
      expect(sandbox.webhooks.subscriptions.get(id)?.deleted).toBe(true)
      expect(Redacted.value(sandbox.issueToken().accessToken)).toMatch(/^shpat_/)
    })
  )
})
