/**
 * `fulfillment.push` against the sandbox: Mark Package As Shipped with the tracking number and
 * TikTok's provider id; replays and shipments made by hand with the same number are success;
 * conflicting numbers stay errors; split shipping by line item.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect } from "effect"
import { connect } from "./support.ts"

const readyOrder = (sandbox: Sandbox.TikTokShopSandbox, qty = 1) => {
  const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG", qty }] })
  sandbox.releaseHold(orderId)
  return orderId
}

describe("fulfillment.push", () => {
  it.scopedLive("ships with the tracking number; a replay is already shipped; a different number conflicts", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 20 }] })
      const orderId = readyOrder(sandbox, 2)
      const { services } = yield* connect(sandbox)
      const ship = services["fulfillment.push"]
      const first = yield* ship.ship({
        orderId,
        carrier: "royal mail",
        trackingNumber: "RM123456789GB",
        idempotencyKey: "a"
      })
      assert.isFalse(first.alreadyShipped)
      const shipments = sandbox.shipments(orderId)
      assert.deepStrictEqual(
        shipments.map((s) => [s.trackingNumber, s.carrier, s.lineItemIds.length]),
        [["RM123456789GB", "Royal Mail", 2]]
      )
      assert.strictEqual(first.externalId, shipments[0]!.packageId)
      assert.strictEqual(sandbox.orderStatus(orderId), "AWAITING_COLLECTION")
      const replay = yield* ship.ship({
        orderId,
        carrier: "Royal Mail",
        trackingNumber: "RM123456789GB",
        idempotencyKey: "a"
      })
      assert.deepStrictEqual(replay, { externalId: shipments[0]!.packageId, alreadyShipped: true })
      assert.strictEqual(sandbox.shipments(orderId).length, 1)
      const conflict = yield* Effect.flip(
        ship.ship({ orderId, carrier: "Royal Mail", trackingNumber: "RM999999999GB", idempotencyKey: "b" })
      )
      assert.deepInclude(conflict, { _tag: "Rejected", code: "21008099" })
      assert.include(conflict.message, "RM123456789GB")

      // The number is already used on another order.
      const other = readyOrder(sandbox)
      const duplicate = yield* Effect.flip(
        ship.ship({ orderId: other, carrier: "Royal Mail", trackingNumber: "RM123456789GB", idempotencyKey: "c" })
      )
      assert.deepInclude(duplicate, { _tag: "Rejected", code: "21011025" })
      assert.include(duplicate.message, "another TikTok order")
      assert.deepStrictEqual(sandbox.shipments(other), [])
    })
  )

  it.scopedLive("a shipment made in Seller Center with the same number counts as done", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 20 }] })
      const orderId = readyOrder(sandbox)
      sandbox.ship(orderId, { trackingNumber: "DPD0001112223", carrier: "DPD" })
      const { services } = yield* connect(sandbox)
      const result = yield* services["fulfillment.push"].ship({
        orderId,
        carrier: "DPD",
        trackingNumber: "DPD0001112223",
        idempotencyKey: "x"
      })
      assert.isTrue(result.alreadyShipped)
    })
  )

  it.scopedLive("split shipping by line item; carriers by config, id or name; unknown carriers rejected", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 20 }] })
      const orderId = readyOrder(sandbox, 2)
      const [a, b] = sandbox.order(orderId).lineItems
      const fourPx = sandbox.shippingProviders().find((p) => p.name === "4PX")!
      const { services } = yield* connect(sandbox, { config: { shippingProviders: { "4px-express": fourPx.id } } })
      const ship = services["fulfillment.push"]
      yield* ship.ship({
        orderId,
        lines: [{ lineId: a!.id, qty: 1 }],
        carrier: "4px-express",
        trackingNumber: "4PX0000001",
        idempotencyKey: "1"
      })
      assert.strictEqual(sandbox.orderStatus(orderId), "PARTIALLY_SHIPPING")
      const yanwen = sandbox.shippingProviders().find((p) => p.name === "Yanwen")!
      yield* ship.ship({
        orderId,
        lines: [{ lineId: b!.id, qty: 1 }],
        carrier: yanwen.id,
        trackingNumber: "YW0000002",
        idempotencyKey: "2"
      })
      assert.strictEqual(sandbox.orderStatus(orderId), "AWAITING_COLLECTION")
      assert.deepStrictEqual(
        sandbox.shipments(orderId).map((s) => [s.carrier, s.trackingNumber, s.lineItemIds]),
        [
          ["4PX", "4PX0000001", [a!.id]],
          ["Yanwen", "YW0000002", [b!.id]]
        ]
      )
      // Replaying the first line's shipment is success, not a conflict with the second.
      const replay = yield* ship.ship({
        orderId,
        lines: [{ lineId: a!.id, qty: 1 }],
        carrier: "4px-express",
        trackingNumber: "4PX0000001",
        idempotencyKey: "1"
      })
      assert.isTrue(replay.alreadyShipped)
      const next = readyOrder(sandbox)
      const unknown = yield* Effect.flip(
        ship.ship({ orderId: next, carrier: "Pigeon Post", trackingNumber: "PP1234", idempotencyKey: "3" })
      )
      assert.deepInclude(unknown, { _tag: "Rejected", code: "unknown_carrier" })
      assert.include(unknown.message, "Royal Mail")
      const onHold = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      const early = yield* Effect.flip(
        ship.ship({ orderId: onHold, carrier: "DPD", trackingNumber: "DPD77777", idempotencyKey: "4" })
      )
      assert.deepInclude(early, { _tag: "Rejected", code: "21042057" })
    })
  )
})
