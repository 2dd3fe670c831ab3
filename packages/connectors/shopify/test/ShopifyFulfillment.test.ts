/**
 * `fulfillment.push` against the sandbox: what the shop holds afterwards (fulfillments, tracking,
 * fulfillment order state, stock taken off hand), partial shipments, replays and refusals.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Option } from "effect"
import { ShopifySandbox } from "../src/sandbox/index.ts"
import { connect } from "./support.ts"

const failure = <A, E extends { readonly _tag: string }>(e: Either.Either<A, E>) =>
  Either.getLeft(e).pipe(Option.getOrThrow)

describe("fulfillment.push", () => {
  it.scopedLive("ships the whole order: tracking lands, the units leave the shelf", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ config: { carriers: { "4PX": "4PX Express" } } })
      sandbox.seedSkus([{ sku: "SHIP-1", quantity: 10 }])
      const id = sandbox.placeOrder({ lines: [{ sku: "SHIP-1", quantity: 3 }] })
      expect(sandbox.levels("SHIP-1")[0]).toMatchObject({ available: 7, committed: 3, onHand: 10 })
      const result = yield* services["fulfillment.push"].ship({
        orderId: id,
        carrier: "4PX",
        trackingNumber: "4PX123456789CN",
        idempotencyKey: "ship-1"
      })
      expect(result.alreadyShipped).toBe(false)
      const [fulfillment] = sandbox.fulfillments(id)
      expect(result.externalId).toBe(fulfillment?.id)
      expect(fulfillment?.tracking).toEqual([{ company: "4PX Express", number: "4PX123456789CN", url: null }])
      expect(sandbox.order(id).fulfillmentStatus).toBe("FULFILLED")
      expect(sandbox.levels("SHIP-1")[0]).toMatchObject({ available: 7, committed: 0, onHand: 7 })
    })
  )

  it.scopedLive("shipping again with the same tracking number is a success that leaves one fulfillment", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.seedSkus([{ sku: "TWICE", quantity: 5 }])
      const id = sandbox.placeOrder({ lines: [{ sku: "TWICE", quantity: 1 }] })
      const request = { orderId: id, carrier: "UPS", trackingNumber: "1Z999", idempotencyKey: "twice" }
      const first = yield* services["fulfillment.push"].ship(request)
      const again = yield* services["fulfillment.push"].ship(request)
      expect(again).toEqual({ externalId: first.externalId, alreadyShipped: true })
      expect(sandbox.fulfillments(id)).toHaveLength(1)
    })
  )

  it.scopedLive("partial shipments: named lines only, then the rest under another tracking number", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.seedSkus([
        { sku: "PART-1", quantity: 5 },
        { sku: "PART-2", quantity: 5 }
      ])
      const id = sandbox.placeOrder({
        lines: [
          { sku: "PART-1", quantity: 2 },
          { sku: "PART-2", quantity: 1 }
        ]
      })
      const [line1, line2] = sandbox.order(id).lines
      yield* services["fulfillment.push"].ship({
        orderId: id,
        lines: [{ lineId: line1!.id, qty: 1 }],
        carrier: "DHL",
        trackingNumber: "DHL-A",
        idempotencyKey: "p1"
      })
      expect(sandbox.order(id).fulfillmentStatus).toBe("PARTIALLY_FULFILLED")
      expect(sandbox.order(id).lines.map((l) => l.unshipped)).toEqual([1, 1])
      // Asking for more than is left is refused, and nothing changes.
      const over = yield* Effect.either(
        services["fulfillment.push"].ship({
          orderId: id,
          lines: [{ lineId: line2!.id, qty: 2 }],
          carrier: "DHL",
          trackingNumber: "DHL-X",
          idempotencyKey: "p2"
        })
      )
      expect(failure(over)).toMatchObject({ _tag: "Rejected", code: "line_not_fulfillable" })
      yield* services["fulfillment.push"].ship({
        orderId: id,
        carrier: "DHL",
        trackingNumber: "DHL-B",
        idempotencyKey: "p3"
      })
      expect(sandbox.order(id).fulfillmentStatus).toBe("FULFILLED")
      expect(sandbox.fulfillments(id).map((f) => [f.tracking[0]?.number, f.lines.map((l) => l.quantity)])).toEqual([
        ["DHL-A", [1]],
        ["DHL-B", [1, 1]]
      ])
      // The first shipment replayed line by line: already shipped, not refused.
      const replay = yield* services["fulfillment.push"].ship({
        orderId: id,
        lines: [{ lineId: line1!.id, qty: 1 }],
        carrier: "DHL",
        trackingNumber: "DHL-A",
        idempotencyKey: "p1"
      })
      expect(replay.alreadyShipped).toBe(true)
    })
  )

  it.scopedLive("refuses cancelled orders, orders shipped under another number and unknown orders", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.seedSkus([{ sku: "NOPE", quantity: 5 }])
      const cancelled = sandbox.placeOrder({ lines: [{ sku: "NOPE", quantity: 1 }] })
      sandbox.cancelOrder(cancelled)
      const ship = (orderId: string, trackingNumber: string) =>
        Effect.either(
          services["fulfillment.push"].ship({ orderId, carrier: "UPS", trackingNumber, idempotencyKey: trackingNumber })
        )
      expect(failure(yield* ship(cancelled, "T1"))).toMatchObject({ _tag: "Rejected", code: "order_cancelled" })
      const shipped = sandbox.placeOrder({ lines: [{ sku: "NOPE", quantity: 1 }] })
      yield* services["fulfillment.push"].ship({
        orderId: shipped,
        carrier: "UPS",
        trackingNumber: "T2",
        idempotencyKey: "t2"
      })
      const other = failure(yield* ship(shipped, "T3"))
      expect(other).toMatchObject({ _tag: "Rejected", code: "already_fulfilled" })
      expect(other.message).toContain("T2")
      expect(failure(yield* ship("777777", "T4"))._tag).toBe("NotFound")
      expect(sandbox.fulfillments(shipped)).toHaveLength(1)
      expect(sandbox.fulfillments(cancelled)).toHaveLength(0)
    })
  )

  it.scopedLive(
    "a fulfillmentCreate user error (Shopify gives it no code) is Rejected with Shopify's message",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect()
        sandbox.seedSkus([{ sku: "RACED", quantity: 5 }])
        const id = sandbox.placeOrder({ lines: [{ sku: "RACED", quantity: 1 }] })
        // Every call waits 200 ms on the way in, so the order can be cancelled in the shop's admin
        // after the connector has read it open and before its fulfillmentCreate is run.
        sandbox.fault(ShopifySandbox.routes.graphql, { latencyMs: 200 })
        const fiber = yield* Effect.fork(
          Effect.either(
            services["fulfillment.push"].ship({
              orderId: id,
              carrier: "UPS",
              trackingNumber: "R1",
              idempotencyKey: "r1"
            })
          )
        )
        const requests = () => sandbox.server.requestsTo(ShopifySandbox.routes.graphql)
        for (let i = 0; i < 300 && requests().length < 2; i++) yield* Effect.sleep("10 millis")
        expect(requests().map((r) => JSON.parse(r.text).operationName)).toEqual([
          "FulfillmentState",
          "FulfillmentCreate"
        ])
        sandbox.cancelOrder(id)
        const error = failure(yield* Fiber.join(fiber))
        // `USER_ERROR` is what the connector calls a user error that carries no code of its own.
        expect(error).toMatchObject({ _tag: "Rejected", code: "USER_ERROR" })
        expect(error.message).toMatch(/^order \d+: Fulfillment order \d+ has an unfulfillable status= closed\./)
        expect(error.message).toContain("(fulfillment.lineItemsByFulfillmentOrder.0.fulfillmentOrderId)")
        expect(sandbox.fulfillments(id)).toHaveLength(0)
      }),
    { timeout: 10_000 }
  )

  it.scopedLive("without a fulfillment-order write scope the push is ScopeMissing and nothing ships", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({
        token: (s) => s.issueToken({ scopes: ["read_orders", "read_merchant_managed_fulfillment_orders"] })
      })
      sandbox.seedSkus([{ sku: "SCOPE", quantity: 5 }])
      const id = sandbox.placeOrder({ lines: [{ sku: "SCOPE", quantity: 1 }] })
      const result = yield* Effect.either(
        services["fulfillment.push"].ship({ orderId: id, carrier: "UPS", trackingNumber: "S1", idempotencyKey: "s1" })
      )
      expect(failure(result)).toMatchObject({ _tag: "ScopeMissing", scope: "write_assigned_fulfillment_orders" })
      expect(sandbox.fulfillments(id)).toHaveLength(0)
    })
  )
})
