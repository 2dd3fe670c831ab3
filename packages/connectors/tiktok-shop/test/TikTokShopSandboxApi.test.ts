/**
 * The sandbox's seller-side endpoints beyond the connector's capabilities, called through the
 * signed client: seller cancellation with TikTok's reason rules, decisions on buyer cancellations
 * and returns (idempotent per `idempotency_key`), package detail, warehouses, product detail and the
 * Event API.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect, Schema } from "effect"
import { connect } from "./support.ts"

const Any = Schema.Unknown

describe("seller endpoints", () => {
  it.scopedLive("cancel an order, answer buyer cancellations and returns, read packages and warehouses", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 20 }] })
      const { client } = yield* connect(sandbox)
      const call = (
        method: "GET" | "POST" | "PUT" | "DELETE",
        path: string,
        body?: unknown,
        query?: Record<string, string>
      ) =>
        client.call({ method, path, shopScoped: true, body, query, data: Any }).pipe(
          Effect.map((data) => ({ ok: true as const, data: data as Record<string, unknown> })),
          Effect.catchAll((e) => Effect.succeed({ ok: false as const, code: e.code, message: e.message }))
        )

      // Seller cancellation: reason keys must be seller reasons that fit the status.
      const unpaid = sandbox.placeOrder({ lines: [{ sku: "MUG" }], paid: false })
      const wrongReason = yield* call("POST", "/return_refund/202309/cancellations", {
        order_id: unpaid,
        cancel_reason: "seller_cancel_reason_out_of_stock"
      })
      assert.deepInclude(wrongReason, { ok: false, code: "25001021" })
      const buyerReason = yield* call("POST", "/return_refund/202309/cancellations", {
        order_id: unpaid,
        cancel_reason: "ecom_order_unpaid_canceled_reason_change_of_mind"
      })
      assert.deepInclude(buyerReason, { ok: false, code: "25001015" })
      const cancelled = yield* call("POST", "/return_refund/202309/cancellations", {
        order_id: unpaid,
        cancel_reason: "seller_cancel_unpaid_reason_buyer_hasnt_paid_within_time_allowed"
      })
      assert.isTrue(cancelled.ok)
      if (cancelled.ok) assert.strictEqual(cancelled.data.cancel_status, "CANCELLATION_REQUEST_SUCCESS")
      assert.strictEqual(sandbox.orderStatus(unpaid), "CANCELLED")

      // A buyer's request after the hold: approve it once, replay the same key harmlessly.
      const paid = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      sandbox.releaseHold(paid)
      const request = sandbox.cancel(paid, { by: "BUYER" })
      const approve = `/return_refund/202309/cancellations/${request}/approve`
      assert.isTrue((yield* call("POST", approve, undefined, { idempotency_key: "k1" })).ok)
      assert.isTrue((yield* call("POST", approve, undefined, { idempotency_key: "k1" })).ok)
      assert.deepInclude(yield* call("POST", approve, undefined, { idempotency_key: "k2" }), {
        ok: false,
        code: "25020009"
      })
      assert.strictEqual(sandbox.orderStatus(paid), "CANCELLED")

      // Ship, then answer a return.
      const shipped = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      sandbox.releaseHold(shipped)
      const packageId = sandbox.ship(shipped, { trackingNumber: "DPD12345678", carrier: "DPD" })
      const pkg = yield* call("GET", `/fulfillment/202309/packages/${packageId}`)
      assert.isTrue(pkg.ok)
      if (pkg.ok)
        assert.deepInclude(pkg.data, {
          package_id: packageId,
          tracking_number: "DPD12345678",
          shipping_provider_name: "DPD"
        })
      sandbox.advance(shipped, "IN_TRANSIT")
      sandbox.advance(shipped, "DELIVERED")
      const returnId = sandbox.requestReturn(shipped)
      const approveReturn = yield* call("POST", `/return_refund/202309/returns/${returnId}/approve`, {
        decision: "APPROVE_RETURN"
      })
      assert.isTrue(approveReturn.ok)
      assert.strictEqual(sandbox.returnRequest(returnId).status, "AWAITING_BUYER_SHIP")
      const tooEarly = yield* call("POST", `/return_refund/202309/returns/${returnId}/approve`, {
        decision: "APPROVE_RECEIVED_PACKAGE"
      })
      assert.deepInclude(tooEarly, { ok: false, code: "25001003" })
      sandbox.setReturnStatus(returnId, "BUYER_SHIPPED_ITEM")
      assert.isTrue(
        (yield* call("POST", `/return_refund/202309/returns/${returnId}/approve`, {
          decision: "APPROVE_RECEIVED_PACKAGE"
        })).ok
      )
      assert.strictEqual(sandbox.returnRequest(returnId).status, "RETURN_OR_REFUND_REQUEST_SUCCESS")

      // Warehouses and product detail.
      const warehouses = yield* call("GET", "/logistics/202309/warehouses")
      if (warehouses.ok) {
        const list = warehouses.data.warehouses as ReadonlyArray<Record<string, unknown>>
        assert.deepInclude(list[0], { id: sandbox.warehouses()[0]!.id, is_default: true, type: "SALES_WAREHOUSE" })
      } else assert.fail(warehouses.message)
      const productId = sandbox.order(shipped).lineItems[0]!.productId
      const product = yield* call("GET", `/product/202309/products/${productId}`)
      assert.isTrue(product.ok && product.data.id === productId)

      // Event API: set, list and delete a shop webhook address.
      assert.isTrue(
        (yield* call("PUT", "/event/202309/webhooks", {
          address: "https://hooks.example/tts",
          event_type: "RETURN_STATUS_CHANGE"
        })).ok
      )
      const listed = yield* call("GET", "/event/202309/webhooks")
      assert.isTrue(listed.ok && listed.data.total_count === 1)
      assert.isTrue((yield* call("DELETE", "/event/202309/webhooks", { event_type: "RETURN_STATUS_CHANGE" })).ok)
      const after = yield* call("GET", "/event/202309/webhooks")
      assert.isTrue(after.ok && after.data.total_count === 0)
      const bogus = yield* call("PUT", "/event/202309/webhooks", {
        address: "https://hooks.example/tts",
        event_type: "NOPE"
      })
      assert.deepInclude(bogus, { ok: false, code: "36009004" })
    })
  )

  it.scopedLive("TikTok's webhook URL rules, when enforced", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ enforceWebhookUrlRules: true })
      const { client } = yield* connect(sandbox)
      const put = (address: string) =>
        client
          .call({
            method: "PUT",
            path: "/event/202309/webhooks",
            shopScoped: true,
            body: { address, event_type: "ORDER_STATUS_CHANGE" },
            data: Any
          })
          .pipe(
            Effect.as("ok"),
            Effect.catchAll((e) => Effect.succeed(e.code ?? e._tag))
          )
      assert.strictEqual(yield* put("https://hooks.example.com/tiktok"), "ok")
      assert.strictEqual(yield* put("http://hooks.example.com/tiktok"), "36009004")
      assert.strictEqual(yield* put("https://hooks.example.com:8443/tiktok"), "36009004")
      assert.strictEqual(yield* put("https://203.0.113.5/tiktok"), "36009004")
    })
  )
})
