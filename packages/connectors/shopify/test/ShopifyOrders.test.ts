/**
 * `orders.pull` against the sandbox: incremental windows and paging, `get`, and how Shopify's
 * orders map onto tkbridge's (status, lines, prices, address).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { ShopifyOrders } from "../src/index.ts"
import { ShopifySandbox } from "../src/sandbox/index.ts"
import { connect } from "./support.ts"

describe("orders.pull", () => {
  it.scopedLive("reads the orders changed in a window, oldest change first, every page", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.seedSkus([{ sku: "OP-1", quantity: 100 }])
      const old = sandbox.placeOrder({ lines: [{ sku: "OP-1", quantity: 1 }] })
      sandbox.clock.advance(60_000)
      const since = new Date(sandbox.clock.now())
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        sandbox.clock.advance(10_000)
        ids.push(sandbox.placeOrder({ lines: [{ sku: "OP-1", quantity: 1 }] }))
      }
      // The old order changes inside the window: it comes back too, last (it changed last).
      sandbox.clock.advance(1_000)
      sandbox.cancelOrder(old)
      const seen: Array<string> = []
      let cursor: string | undefined
      do {
        const page = yield* services["orders.pull"].list({ updatedSince: since, cursor, pageSize: 2 })
        seen.push(...page.items.map((o) => o.externalId))
        cursor = page.next
      } while (cursor !== undefined)
      expect(seen).toEqual([...ids, old])
      const calls = sandbox.server.requestsTo(ShopifySandbox.routes.graphql).map((r) => JSON.parse(r.text))
      expect(calls[0].variables.query).toMatch(/^updated_at:>='\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'$/)
      // An upper bound narrows the window (widened to whole seconds, as Shopify searches).
      const until = new Date(since.getTime() + 25_000)
      const bounded = yield* services["orders.pull"].list({ updatedSince: since, updatedUntil: until })
      expect(bounded.items.map((o) => o.externalId)).toEqual(ids.slice(0, 2))
    })
  )

  it.scopedLive("maps status, lines, prices and address; get accepts numeric ids and GIDs", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ connection: "shopify-eu" })
      sandbox.seedSkus([
        { sku: "MAP-1", quantity: 10, price: "12.50" },
        { sku: "MAP-2", quantity: 10, price: "3.05" }
      ])
      const id = sandbox.placeOrder({
        lines: [
          { sku: "MAP-1", quantity: 2 },
          { sku: "MAP-2", quantity: 1 }
        ],
        shippingAddress: {
          firstName: "Ana",
          lastName: "Lopez",
          address1: "Calle Mayor 1",
          city: "Madrid",
          zip: "28013",
          countryCode: "ES"
        }
      })
      const order = yield* services["orders.pull"].get(id)
      expect(order.connection).toBe("shopify-eu")
      expect(order.externalId).toBe(id)
      expect(order.status).toBe("awaiting_shipment")
      expect(order.currency).toBe("USD")
      expect(order.lines.map((l) => [l.externalSku, l.qty, l.unitPrice])).toEqual([
        ["MAP-1", 2, 1250],
        ["MAP-2", 1, 305]
      ])
      expect(order.lines[0]?.lineId).toBe(sandbox.order(id).lines[0]?.id)
      expect(order.shipTo).toMatchObject({ name: "Ana Lopez", line1: "Calle Mayor 1", city: "Madrid", country: "ES" })
      expect((yield* services["orders.pull"].get(`gid://shopify/Order/${id}`)).externalId).toBe(id)
      const missing = yield* Effect.either(services["orders.pull"].get("424242"))
      expect(
        Either.getLeft(missing).pipe(
          Option.map((e) => e._tag),
          Option.getOrNull
        )
      ).toBe("NotFound")
    })
  )

  it.scopedLive("follows the order through its life: unpaid, shipped, partly refunded, cancelled", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.seedSkus([
        { sku: "LIFE-1", quantity: 10 },
        { sku: "LIFE-2", quantity: 10 }
      ])
      const get = (id: string) => services["orders.pull"].get(id)
      const pending = sandbox.placeOrder({ lines: [{ sku: "LIFE-1", quantity: 1 }], financialStatus: "PENDING" })
      expect((yield* get(pending)).status).toBe("unpaid")
      const shipped = sandbox.placeOrder({ lines: [{ sku: "LIFE-1", quantity: 1 }] })
      yield* services["fulfillment.push"].ship({
        orderId: shipped,
        carrier: "DHL",
        trackingNumber: "LIFE1",
        idempotencyKey: "l1"
      })
      expect((yield* get(shipped)).status).toBe("in_transit")
      const refunded = sandbox.placeOrder({
        lines: [
          { sku: "LIFE-1", quantity: 3 },
          { sku: "LIFE-2", quantity: 1 }
        ]
      })
      const lineId = sandbox.order(refunded).lines[0]!.id
      sandbox.refund(refunded, { lines: [{ lineItemId: lineId, quantity: 1 }] })
      const partly = yield* get(refunded)
      expect(partly.lines.map((l) => [l.externalSku, l.qty])).toEqual([
        ["LIFE-1", 2],
        ["LIFE-2", 1]
      ])
      expect(partly.platformStatus).toBe("PARTIALLY_REFUNDED/UNFULFILLED")
      sandbox.refund(refunded)
      const fully = yield* get(refunded)
      // Nothing left to ship: the order releases its stock, lines keep what was ordered.
      expect(fully.status).toBe("cancelled")
      expect(fully.lines.map((l) => l.qty)).toEqual([3, 1])
      const cancelled = sandbox.placeOrder({ lines: [{ sku: "LIFE-2", quantity: 1 }] })
      sandbox.cancelOrder(cancelled)
      expect((yield* get(cancelled)).status).toBe("cancelled")
    })
  )

  it.scopedLive("orders with more lines than one page come back whole", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const skus = Array.from({ length: 27 }, (_, i) => ({ sku: `MANY-${i}`, quantity: 5 }))
      sandbox.seedSkus(skus)
      const id = sandbox.placeOrder({ lines: skus.map((s) => ({ sku: s.sku, quantity: 1 })) })
      const order = yield* services["orders.pull"].get(id)
      expect(order.lines).toHaveLength(27)
      const page = yield* services["orders.pull"].list({ updatedSince: new Date(sandbox.clock.now() - 60_000) })
      expect(page.items.find((o) => o.externalId === id)?.lines).toHaveLength(27)
      const operations = sandbox.server
        .requestsTo(ShopifySandbox.routes.graphql)
        .map((r) => JSON.parse(r.text).operationName)
      expect(operations.filter((o) => o === "OrderLines")).toHaveLength(2)
    })
  )

  it.scopedLive("without the shipping address option, the address is neither asked for nor kept", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ config: { includeShippingAddress: false } })
      sandbox.seedSkus([{ sku: "NOADDR", quantity: 5 }])
      const id = sandbox.placeOrder({ lines: [{ sku: "NOADDR", quantity: 1 }] })
      const order = yield* services["orders.pull"].get(id)
      expect(order.shipTo).toBeUndefined()
      const [call] = sandbox.server.requestsTo(ShopifySandbox.routes.graphql).map((r) => JSON.parse(r.text))
      expect(call.variables.withAddress).toBe(false)
    })
  )
})

describe("order mapping", () => {
  it("amounts become minor units without floating point, per currency exponent", () => {
    expect(ShopifyOrders.toMinor("12.50", "USD")).toBe(1250)
    expect(ShopifyOrders.toMinor("0.1", "EUR")).toBe(10)
    expect(ShopifyOrders.toMinor("1500", "JPY")).toBe(1500)
    expect(ShopifyOrders.toMinor("1.234", "KWD")).toBe(1234)
    expect(ShopifyOrders.toMinor("1.234", "USD")).toBeUndefined()
    expect(ShopifyOrders.toMinor("abc", "USD")).toBeUndefined()
  })

  it("status follows cancellation, then fulfilment, then payment", () => {
    const s = (facts: Partial<ShopifyOrders.StatusFacts>) =>
      ShopifyOrders.statusOf({ cancelled: false, closed: false, fulfillment: undefined, financial: "PAID", ...facts })
    expect(s({ cancelled: true, fulfillment: "FULFILLED" })).toBe("cancelled")
    expect(s({ fulfillment: "FULFILLED" })).toBe("in_transit")
    expect(s({ fulfillment: "FULFILLED", closed: true })).toBe("completed")
    expect(s({ fulfillment: "PARTIALLY_FULFILLED" })).toBe("partially_shipped")
    expect(s({ fulfillment: "ON_HOLD" })).toBe("on_hold")
    expect(s({ fulfillment: "UNFULFILLED", financial: "PENDING" })).toBe("unpaid")
    expect(s({ fulfillment: "FULFILLED", financial: "PENDING" })).toBe("in_transit")
    expect(s({ fulfillment: "UNFULFILLED", financial: "AUTHORIZED" })).toBe("awaiting_shipment")
  })

  it("lines without a SKU keep their variant; custom lines without either are left out", () => {
    const mapped = ShopifyOrders.fromWebhook(
      {
        id: "7",
        created_at: "2026-11-01T10:00:00+00:00",
        updated_at: "2026-11-01T10:05:00+00:00",
        financial_status: "paid",
        currency: "USD",
        line_items: [
          { id: "1", sku: "", variant_id: "55", quantity: 1, title: "No SKU", price: "1.00" },
          { id: "2", sku: null, variant_id: null, quantity: 1, title: "Gift wrap", price: "2.00" },
          { id: "3", sku: "REAL", variant_id: "56", quantity: 2, current_quantity: 2, title: "Real", price: "3.00" }
        ]
      },
      "shop"
    )
    expect(mapped.ok).toBe(true)
    if (mapped.ok)
      expect(mapped.value.lines.map((l) => [l.lineId, l.externalSku, l.qty])).toEqual([
        ["1", "variant:55", 1],
        ["3", "REAL", 2]
      ])
    const onlyCustom = ShopifyOrders.fromWebhook(
      {
        id: "8",
        created_at: "2026-11-01T10:00:00+00:00",
        line_items: [{ id: "9", sku: null, variant_id: null, quantity: 1, title: "Tip" }]
      },
      "shop"
    )
    expect(onlyCustom.ok).toBe(false)
  })
})
