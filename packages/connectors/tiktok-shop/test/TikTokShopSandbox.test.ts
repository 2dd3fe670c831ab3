/**
 * The sandbox's own behaviour: the order status machine and its stock effects, webhooks signed
 * like TikTok and retried on TikTok's schedule in sandbox time (200 and 401 end delivery), lost
 * webhooks, TikTok's documented spellings, and bare-number ids on request.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSign, TikTokShopWebhook } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox as Sandbox, TikTokShopSandboxWebhooks } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect, Redacted } from "effect"
import { eventually } from "./support.ts"

const { tiktokRetrySchedule } = TikTokShopSandboxWebhooks

interface Received {
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A local webhook receiver answering with the statuses given, one per request (the last repeats). */
const receiver = (statuses: ReadonlyArray<number>) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ url: string; received: Array<Received>; server: Http.Server }>((resolve) => {
          const received: Array<Received> = []
          const server = Http.createServer((req, res) => {
            const chunks: Array<Buffer> = []
            req.on("data", (c: Buffer) => chunks.push(c))
            req.on("end", () => {
              received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") })
              res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200)
              res.end()
            })
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/tiktok`,
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
            server.close(() => resolve())
            server.closeAllConnections()
          })
      )
  )

describe("order status machine", () => {
  it.scopedLive("UNPAID → ON_HOLD → AWAITING_SHIPMENT → shipped → delivered, with stock committed and released", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ remorseWindowMs: 3_600_000 })
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const warehouse = sandbox.warehouses()[0]!.id
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }], paid: false })
      assert.strictEqual(sandbox.orderStatus(orderId), "UNPAID")
      assert.deepStrictEqual(sandbox.stockByWarehouse("MUG")[warehouse], { available: 3, committed: 2 })
      sandbox.pay(orderId)
      assert.strictEqual(sandbox.orderStatus(orderId), "ON_HOLD")
      assert.throws(() => sandbox.ship(orderId, { trackingNumber: "RM0000001" }), /AWAITING_SHIPMENT/)
      sandbox.clock.advance(3_600_000)
      yield* eventually(() => sandbox.orderStatus(orderId) !== "ON_HOLD")
      assert.strictEqual(sandbox.orderStatus(orderId), "AWAITING_SHIPMENT")
      sandbox.ship(orderId, { trackingNumber: "RM0000001", carrier: "Royal Mail" })
      assert.strictEqual(sandbox.orderStatus(orderId), "AWAITING_COLLECTION")
      assert.deepStrictEqual(sandbox.stockByWarehouse("MUG")[warehouse], { available: 3, committed: 0 })
      assert.throws(() => sandbox.advance(orderId, "DELIVERED"), /cannot move/)
      sandbox.advance(orderId, "IN_TRANSIT")
      sandbox.advance(orderId, "DELIVERED")
      sandbox.advance(orderId, "COMPLETED")
      assert.throws(() => sandbox.cancel(orderId), /completed or cancelled/)
      assert.throws(() => sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 4 }] }), /available/)
    })
  )

  it.scopedLive("cancellations give stock back; a buyer's request after the hold waits for the seller", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const a = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
      sandbox.cancel(a, { by: "BUYER" })
      assert.strictEqual(sandbox.orderStatus(a), "CANCELLED")
      assert.strictEqual(sandbox.stock("MUG"), 5)
      const b = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
      sandbox.releaseHold(b)
      const request = sandbox.cancel(b, { by: "BUYER" })
      assert.deepInclude(sandbox.cancellation(request), {
        type: "BUYER_CANCEL",
        status: "CANCELLATION_REQUEST_PENDING"
      })
      assert.strictEqual(sandbox.orderStatus(b), "AWAITING_SHIPMENT")
      assert.strictEqual(sandbox.stock("MUG"), 3)
      sandbox.decideCancellation(request, true)
      assert.strictEqual(sandbox.orderStatus(b), "CANCELLED")
      assert.strictEqual(sandbox.stock("MUG"), 5)
      // Part of an order: it stays open until every line is cancelled.
      const c = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
      sandbox.releaseHold(c)
      const [first] = sandbox.order(c).lineItems
      sandbox.cancel(c, { by: "SELLER", lineItemIds: [first!.id] })
      assert.strictEqual(sandbox.orderStatus(c), "AWAITING_SHIPMENT")
      assert.strictEqual(sandbox.stock("MUG"), 4)
    })
  )
})

/** The data of every order-status (type 1) notification the sandbox produced for an order. */
const orderStatusesSent = (sandbox: Sandbox.TikTokShopSandbox, orderId: string) =>
  sandbox.webhooks.notifications
    .map((n) => JSON.parse(n.body) as { type: number; data: { order_id?: string; order_status?: string } })
    .filter((b) => b.type === 1 && b.data.order_id === orderId)
    .map((b) => b.data.order_status)

describe("cancelling shipped and partly shipped orders (reference §6.1)", () => {
  it.scopedLive("AWAITING_COLLECTION → CANCELLED: only the seller of a US shop, and only the whole order", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({
        shops: [
          { name: "US", region: "US" },
          { name: "UK", region: "GB" }
        ]
      })
      const [us, uk] = sandbox.shops()
      const shipped = (shopId: string, tracking: string) => {
        sandbox.addProduct({ shopId, title: "Mug", skus: [{ sellerSku: `MUG-${tracking}`, stock: 5 }] })
        const orderId = sandbox.placeOrder({ shopId, lines: [{ sku: `MUG-${tracking}`, qty: 2 }] })
        sandbox.releaseHold(orderId)
        sandbox.ship(orderId, { trackingNumber: tracking, carrier: "USPS" })
        assert.strictEqual(sandbox.orderStatus(orderId), "AWAITING_COLLECTION")
        return orderId
      }
      const ukOrder = shipped(uk!.id, "UK00000001")
      assert.throws(() => sandbox.cancel(ukOrder, { by: "SELLER" }), /25001045|shipped/)
      const usOrder = shipped(us!.id, "US00000001")
      assert.throws(() => sandbox.cancel(usOrder, { by: "BUYER" }), /shipped/)
      assert.throws(() => sandbox.cancel(usOrder, { by: "SYSTEM" }), /shipped/)
      const [line] = sandbox.order(usOrder).lineItems
      assert.throws(
        () => sandbox.cancel(usOrder, { by: "SELLER", lineItemIds: [line!.id] }),
        /Individual line items of a shipped order/
      )
      const cancelId = sandbox.cancel(usOrder, { by: "SELLER" })
      assert.strictEqual(sandbox.cancellation(cancelId).status, "CANCELLATION_REQUEST_SUCCESS")
      assert.strictEqual(sandbox.orderStatus(usOrder), "CANCELLED")
      assert.deepStrictEqual(
        sandbox.shipments(usOrder).map((p) => p.status),
        ["CANCELLED"]
      )
      assert.isTrue(sandbox.order(usOrder).lineItems.every((l) => l.packageStatus === "CANCELLED"))
      // The webhook spells it CANCEL (reference §6.1).
      assert.deepStrictEqual(orderStatusesSent(sandbox, usOrder).slice(-2), ["AWAITING_COLLECTION", "CANCEL"])
    })
  )

  it.scopedLive("IN_TRANSIT → CANCELLED by the platform only; DELIVERED no longer cancels", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ shops: [{ region: "US" }] })
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const inTransit = () => {
        const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
        sandbox.releaseHold(orderId)
        sandbox.ship(orderId, { trackingNumber: `TR${orderId.slice(-8)}` })
        sandbox.advance(orderId, "IN_TRANSIT")
        return orderId
      }
      const lost = inTransit()
      assert.throws(() => sandbox.cancel(lost, { by: "SELLER" }), /shipped/)
      assert.throws(() => sandbox.cancel(lost, { by: "BUYER" }), /shipped/)
      sandbox.cancel(lost, { by: "SYSTEM" })
      assert.strictEqual(sandbox.orderStatus(lost), "CANCELLED")
      assert.strictEqual(sandbox.order(lost).cancellationInitiator, "SYSTEM")
      const delivered = inTransit()
      sandbox.advance(delivered, "DELIVERED")
      assert.throws(() => sandbox.cancel(delivered, { by: "SYSTEM" }), /shipped/)
    })
  )

  it.scopedLive("cancelling the last unshipped lines of a PARTIALLY_SHIPPING order makes it AWAITING_COLLECTION", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const warehouse = sandbox.warehouses()[0]!.id
      const seller = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 3 }] })
      sandbox.releaseHold(seller)
      const [first] = sandbox.order(seller).lineItems
      sandbox.ship(seller, { trackingNumber: "RM0000011", lineItemIds: [first!.id] })
      assert.strictEqual(sandbox.orderStatus(seller), "PARTIALLY_SHIPPING")
      sandbox.cancel(seller, { by: "SELLER" })
      assert.strictEqual(sandbox.orderStatus(seller), "AWAITING_COLLECTION")
      assert.deepStrictEqual(
        sandbox.order(seller).lineItems.map((l) => l.displayStatus),
        ["AWAITING_COLLECTION", "CANCELLED", "CANCELLED"]
      )
      // The two cancelled units are back; the shipped one left with the carrier.
      assert.deepStrictEqual(sandbox.stockByWarehouse("MUG")[warehouse], { available: 4, committed: 0 })
      assert.deepStrictEqual(orderStatusesSent(sandbox, seller).slice(-2), [
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION"
      ])
      // The shipped part moves on as usual.
      sandbox.advance(seller, "IN_TRANSIT")

      // A buyer's request for the rest waits for the seller; approving it has the same effect.
      const buyer = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
      sandbox.releaseHold(buyer)
      const [shippedLine] = sandbox.order(buyer).lineItems
      sandbox.ship(buyer, { trackingNumber: "RM0000012", lineItemIds: [shippedLine!.id] })
      const request = sandbox.cancel(buyer, { by: "BUYER" })
      assert.strictEqual(sandbox.orderStatus(buyer), "PARTIALLY_SHIPPING")
      sandbox.decideCancellation(request, true)
      assert.strictEqual(sandbox.orderStatus(buyer), "AWAITING_COLLECTION")
      assert.strictEqual(orderStatusesSent(sandbox, buyer).at(-1), "AWAITING_COLLECTION")
    })
  )
})

describe("return status machine", () => {
  it.scopedLive("setReturnStatus moves one step at a time; out-of-turn moves are refused with 25001003", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 10 }] })
      const delivered = () => {
        const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
        sandbox.releaseHold(orderId)
        sandbox.ship(orderId, { trackingNumber: `RM${orderId.slice(-8)}` })
        sandbox.advance(orderId, "IN_TRANSIT")
        sandbox.advance(orderId, "DELIVERED")
        return orderId
      }
      const ret = sandbox.requestReturn(delivered())
      assert.throws(() => sandbox.setReturnStatus(ret, "RETURN_OR_REFUND_REQUEST_COMPLETE"), /25001003|cannot move/)
      assert.throws(() => sandbox.setReturnStatus(ret, "BUYER_SHIPPED_ITEM"), /cannot move/)
      for (const status of [
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
      ] as const) {
        sandbox.setReturnStatus(ret, status)
        assert.strictEqual(sandbox.returnRequest(ret).status, status)
      }
      assert.match(sandbox.returnRequest(ret).returnTrackingNumber ?? "", /^RT/)
      // Complete is final.
      assert.throws(() => sandbox.setReturnStatus(ret, "RETURN_OR_REFUND_REQUEST_CANCEL"), /cannot move/)
      // A refund without a return never waits for a parcel.
      const refund = sandbox.requestReturn(delivered(), { type: "REFUND" })
      assert.throws(() => sandbox.setReturnStatus(refund, "AWAITING_BUYER_SHIP"), /cannot move/)
      sandbox.setReturnStatus(refund, "REFUND_OR_RETURN_REQUEST_REJECT")
      // Arbitration may still side with the buyer.
      sandbox.setReturnStatus(refund, "RETURN_OR_REFUND_REQUEST_SUCCESS")
      // Replacements have their own statuses.
      const replacement = sandbox.requestReturn(delivered(), { type: "REPLACEMENT" })
      assert.throws(() => sandbox.setReturnStatus(replacement, "RETURN_OR_REFUND_REQUEST_SUCCESS"), /cannot move/)
      sandbox.setReturnStatus(replacement, "REPLACEMENT_REQUEST_COMPLETE")
      // Every move was announced (type 12), the refused ones were not.
      const announced = sandbox.webhooks.notifications
        .map((n) => JSON.parse(n.body) as { type: number; data: { return_id?: string; return_status?: string } })
        .filter((b) => b.type === 12 && b.data.return_id === ret)
        .map((b) => b.data.return_status)
      assert.deepStrictEqual(announced, [
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
      ])
    })
  )
})

describe("webhooks", () => {
  it.scopedLive("signs like TikTok and retries at +2 min, +30 min, +3 h, +12 h with the same notification id", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const hook = yield* receiver([500, 503, 502, 200])
      sandbox.subscribe(hook.url)
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG" }], paid: false })
      const [notification] = sandbox.webhooks.notifications
      assert.isDefined(notification)
      const start = sandbox.clock.now()
      for (const [i, wait] of tiktokRetrySchedule.slice(0, 3).entries()) {
        // Once an attempt is recorded the emitter is already waiting for the next one.
        yield* eventually(() => notification!.attempts.length === i + 1)
        sandbox.clock.advance(wait)
      }
      yield* Effect.promise(() => sandbox.webhooks.settled())
      assert.strictEqual(notification!.state, "delivered")
      assert.deepStrictEqual(
        notification!.attempts.map((a) => a.status),
        [500, 503, 502, 200]
      )
      const offsets = notification!.attempts.map((a) => a.at - start)
      assert.isBelow(offsets[0]!, 1_000)
      assert.isAtLeast(offsets[1]! - offsets[0]!, 2 * 60_000)
      assert.isAtLeast(offsets[2]! - offsets[1]!, 30 * 60_000)
      assert.isAtLeast(offsets[3]! - offsets[2]!, 3 * 3_600_000)
      assert.strictEqual(hook.received.length, 4)
      assert.strictEqual(new Set(hook.received.map((r) => r.body)).size, 1)
      const body = JSON.parse(hook.received[0]!.body)
      assert.deepInclude(body, { type: 1, shop_id: sandbox.defaultShop().id })
      assert.deepInclude(body.data, { order_id: orderId, order_status: "UNPAID" })
      assert.match(body.tts_notification_id, /^\d+$/)
      // The connector's verifier (a separate implementation) accepts every attempt.
      const config = {
        appKey: sandbox.appKey,
        appSecret: Redacted.make(sandbox.appSecret),
        webhookSignature: "app_key+body" as const,
        webhookMaxBytes: 1 << 20
      }
      for (const r of hook.received) {
        yield* TikTokShopWebhook.verify(config, {
          method: "POST",
          url: "/webhooks/tiktok",
          headers: { authorization: String(r.headers.authorization) },
          rawBody: new TextEncoder().encode(r.body)
        })
      }
    })
  )

  it.scopedLive("inventory status (27) and package updates (4) are delivered signed and decode", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ lowStockThreshold: 2 })
      const hook = yield* receiver([200])
      sandbox.subscribe(hook.url)
      // 27 is opt-in, as in Partner Center.
      sandbox.setTopic(27, true)
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 10 }] })
      const mug = sandbox.skuId("MUG")
      sandbox.setStock("MUG", 2)
      // The seller ships one unit of three, then cancels the rest: two package updates.
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 3 }], allowOversell: true })
      sandbox.releaseHold(orderId)
      const [first] = sandbox.order(orderId).lineItems
      const packageId = sandbox.ship(orderId, { trackingNumber: "RM0000021", lineItemIds: [first!.id] })
      sandbox.cancel(orderId, { by: "SELLER" })
      yield* Effect.promise(() => sandbox.webhooks.settled())

      const sent = sandbox.webhooks.notifications.filter((n) => n.type === 4 || n.type === 27)
      assert.deepStrictEqual(
        sent.map((n) => n.type),
        [27, 27, 4, 27, 4]
      )
      for (const n of sent) {
        assert.strictEqual(n.state, "delivered")
        assert.deepStrictEqual(
          n.attempts.map((a) => a.status),
          [200]
        )
      }
      const config = {
        appKey: sandbox.appKey,
        appSecret: Redacted.make(sandbox.appSecret),
        webhookSignature: "app_key+body" as const,
        webhookMaxBytes: 1 << 20
      }
      const events = []
      for (const n of sent) {
        const delivered = hook.received.find((r) => r.body === n.body)
        assert.isDefined(delivered, `type ${n.type} reached the receiver`)
        const request = {
          method: "POST",
          url: "/webhooks/tiktok",
          headers: { authorization: String(delivered!.headers.authorization) },
          rawBody: new TextEncoder().encode(delivered!.body)
        }
        // The connector's verifier (a separate implementation) accepts the signature.
        yield* TikTokShopWebhook.verify(config, request)
        events.push(...(yield* TikTokShopWebhook.decode(config, request)).events)
      }
      const inventory = sent.filter((n) => n.type === 27).map((n) => JSON.parse(n.body).data)
      assert.deepStrictEqual(
        inventory.map((d) => [d.sku_id, d.current_inventory_status]),
        [
          [mug, "LOW_STOCK"],
          [mug, "OUT_OF_STOCK"],
          [mug, "LOW_STOCK"]
        ]
      )
      const packages = sent.filter((n) => n.type === 4).map((n) => JSON.parse(n.body).data)
      assert.deepStrictEqual(packages[0], {
        sc_type: "SPLIT",
        role_type: "ROLE_SELLER",
        package_list: [{ package_id: packageId, order_id_list: [orderId] }],
        update_time: packages[0].update_time
      })
      assert.deepInclude(packages[1], { sc_type: "PARTLY_CANCEL_SPLIT", role_type: "ROLE_SELLER" })
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        ["InventoryChanged", "InventoryChanged", "FulfillmentChanged", "InventoryChanged", "FulfillmentChanged"]
      )
      assert.deepInclude(events[2], { packageId, orderId, status: "SPLIT" })
    })
  )

  it.scopedLive("401 is an acceptable answer (no retry); after the fourth retry TikTok gives up", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ webhookRetrySchedule: [10, 10, 10, 10] })
      const unauthorized = yield* receiver([401])
      sandbox.subscribe(unauthorized.url)
      sandbox.deauthorize()
      yield* Effect.promise(() => sandbox.webhooks.settled())
      assert.deepStrictEqual(
        sandbox.webhooks.notifications[0]!.attempts.map((a) => a.status),
        [401]
      )
      const broken = yield* receiver([500])
      sandbox.subscribe(broken.url)
      sandbox.authorizationExpiring()
      yield* Effect.promise(() => sandbox.webhooks.settled())
      const last = sandbox.webhooks.notifications[1]!
      assert.strictEqual(last.state, "failed")
      assert.strictEqual(last.attempts.length, 5)
      assert.strictEqual(JSON.parse(last.body).type, 7)
    })
  )

  it.scopedLive("a receiver slower than the deadline counts as a failure", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ webhookTimeoutMs: 100, webhookRetrySchedule: [] })
      const slow = yield* Effect.acquireRelease(
        Effect.promise(
          () =>
            new Promise<Http.Server>((resolve) => {
              const server = Http.createServer((_req, res) => {
                setTimeout(() => res.end(), 1_000).unref()
              })
              server.listen(0, "127.0.0.1", () => resolve(server))
            })
        ),
        (server) =>
          Effect.sync(() => server.closeAllConnections()).pipe(Effect.andThen(Effect.sync(() => server.close())))
      )
      sandbox.subscribe(`http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`)
      sandbox.deauthorize()
      yield* Effect.promise(() => sandbox.webhooks.settled())
      const [n] = sandbox.webhooks.notifications
      assert.strictEqual(n!.state, "failed")
      assert.strictEqual(n!.attempts[0]!.status, 0)
    })
  )

  it.scopedLive("muted webhooks are lost until redelivered; the documented spellings; bare-number ids", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ bareNumberIds: true })
      const hook = yield* receiver([200])
      sandbox.subscribe(hook.url)
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      sandbox.muteWebhooks(true)
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      sandbox.cancel(orderId, { by: "BUYER" })
      yield* Effect.promise(() => sandbox.webhooks.settled())
      assert.strictEqual(hook.received.length, 0)
      sandbox.muteWebhooks(false)
      assert.strictEqual(sandbox.redeliverMuted(), sandbox.webhooks.notifications.length)
      yield* Effect.promise(() => sandbox.webhooks.settled())
      const bodies = hook.received.map((r) => r.body)
      // Order ids come as bare numbers and keep their digits only through a 64-bit-safe parser.
      assert.isTrue(bodies.every((b) => b.includes(`"order_id":${orderId}`)))
      const statuses = bodies.map((b) => /"(?:order_status|cancel_status)":"(\w+)"/.exec(b)?.[1])
      assert.includeMembers(statuses, ["UNPAID", "ON_HOLD", "CANCEL", "CANCELLATION_REQUEST_SUCCESS"])
      const webhook = {
        appKey: sandbox.appKey,
        appSecret: Redacted.make(sandbox.appSecret),
        webhookSignature: "app_key+body" as const,
        webhookMaxBytes: 1 << 20
      }
      const decoded = yield* TikTokShopWebhook.decode(webhook, {
        method: "POST",
        url: "/",
        headers: {},
        rawBody: new TextEncoder().encode(bodies.find((b) => b.includes('"CANCEL"'))!)
      })
      assert.deepInclude(decoded.events[0], { _tag: "OrderChanged", orderId, status: "cancelled" })
    })
  )

  it.scopedLive("per-shop addresses set through the Event API take precedence for their topic", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const app = yield* receiver([200])
      const orders = yield* receiver([200])
      sandbox.subscribe(app.url)
      const token = sandbox.issueToken()
      const path = "/event/202309/webhooks"
      const query = {
        app_key: sandbox.appKey,
        timestamp: String(sandbox.clock.nowSeconds()),
        shop_cipher: sandbox.defaultShop().cipher
      }
      const body = JSON.stringify({ address: orders.url, event_type: "ORDER_STATUS_CHANGE" })
      const signature = TikTokShopSign.sign({
        secret: sandbox.appSecret,
        path,
        query,
        body,
        contentType: "application/json"
      })
      const put = yield* Effect.promise(() =>
        fetch(`${sandbox.url}${path}?${new URLSearchParams({ ...query, sign: signature })}`, {
          method: "PUT",
          headers: { "content-type": "application/json", "x-tts-access-token": token.accessToken },
          body
        }).then((r) => r.json() as Promise<{ code: number }>)
      )
      assert.strictEqual(put.code, 0)
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 5 }] })
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      sandbox.cancel(orderId, { by: "BUYER" })
      yield* Effect.promise(() => sandbox.webhooks.settled())
      assert.isTrue(orders.received.every((r) => JSON.parse(r.body).type === 1))
      assert.strictEqual(orders.received.length, 3)
      assert.deepStrictEqual(
        app.received.map((r) => JSON.parse(r.body).type),
        [11]
      )
    })
  )
})
