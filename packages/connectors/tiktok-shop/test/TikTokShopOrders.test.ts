/**
 * `orders.pull` against the sandbox: paging by update time without gaps or duplicates, the
 * mapping of a TikTok order (one line per unit, statuses, address only once disclosed, money in
 * minor units), `get` by id, and per-endpoint API versions.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect } from "effect"
import { connect } from "./support.ts"

const pullAll = (
  list: (
    cursor: string | undefined
  ) => Effect.Effect<{ items: ReadonlyArray<{ externalId: string }>; next?: string | undefined }, unknown>
) =>
  Effect.gen(function* () {
    const ids: Array<string> = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = yield* list(cursor)
      ids.push(...page.items.map((o) => o.externalId))
      cursor = page.next
      pages++
    } while (cursor !== undefined && pages < 100)
    return { ids, pages }
  })

describe("orders.pull", () => {
  for (const lastPage of ["empty", "absent"] as const) {
    it.scopedLive(`pages through every order once (last page: ${lastPage} next_page_token)`, () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.scoped({ lastPage })
        sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG-1", stock: 100 }] })
        const now = sandbox.clock.nowSeconds()
        const placed = Array.from({ length: 7 }, (_, i) =>
          sandbox.placeOrder({ lines: [{ sku: "MUG-1" }], at: now - 100 + i })
        )
        const { services } = yield* connect(sandbox)
        const { ids, pages } = yield* pullAll((cursor) =>
          services["orders.pull"].list({ updatedSince: new Date((now - 200) * 1000), cursor, pageSize: 3 })
        )
        assert.deepStrictEqual([...ids].sort(), [...placed].sort())
        assert.strictEqual(new Set(ids).size, ids.length)
        assert.strictEqual(pages, 3)
        // Every page after the first repeated the first page's window.
        const bodies = new Set(sandbox.requestsTo("orders.search").map((r) => r.text))
        assert.strictEqual(bodies.size, 1)
      })
    )
  }

  it.scopedLive("maps a TikTok order: a line per unit, status, disclosed address, minor units", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ remorseWindowMs: 3_600_000 })
      const { skus } = sandbox.addProduct({
        title: "Mug",
        skus: [
          { sellerSku: "MUG-RED", name: "Red", price: "12.50", stock: 10 },
          { sellerSku: "", name: "Blue", price: "9.99", stock: 10 }
        ]
      })
      const orderId = sandbox.placeOrder({
        lines: [
          { sku: skus[0]!.skuId, qty: 2 },
          { sku: skus[1]!.skuId, qty: 1 }
        ]
      })
      const { services } = yield* connect(sandbox, { connection: "tiktok-uk" })
      const onHold = yield* services["orders.pull"].get(orderId)
      assert.strictEqual(onHold.status, "on_hold")
      assert.strictEqual(onHold.connection, "tiktok-uk")
      assert.isUndefined(onHold.shipTo)
      assert.deepStrictEqual(
        onHold.lines.map((l) => [l.externalSku, l.qty, l.unitPrice]),
        [
          ["MUG-RED", 1, 1250],
          ["MUG-RED", 1, 1250],
          // No seller SKU: the SKU id is the key.
          [skus[1]!.skuId, 1, 999]
        ]
      )
      assert.deepStrictEqual(
        onHold.lines.map((l) => l.lineId),
        sandbox.order(orderId).lineItems.map((i) => i.id)
      )
      sandbox.releaseHold(orderId)
      const ready = yield* services["orders.pull"].get(orderId)
      assert.strictEqual(ready.status, "awaiting_shipment")
      assert.strictEqual(ready.platformStatus, "AWAITING_SHIPMENT")
      assert.deepInclude(ready.shipTo, { name: "Alex Buyer", city: "London", country: "GB", postalCode: "EC1A 1BB" })
      assert.strictEqual(ready.currency, "GBP")
      assert.strictEqual(ready.placedAt.getTime(), sandbox.order(orderId).createTime * 1000)
      sandbox.cancel(orderId, { by: "SELLER" })
      assert.strictEqual((yield* services["orders.pull"].get(orderId)).status, "cancelled")
      const missing = yield* Effect.flip(services["orders.pull"].get("7300000000000000001"))
      assert.strictEqual(missing._tag, "NotFound")
    })
  )

  it.scopedLive("skuKey sku_id pairs on TikTok's SKU ids; versions are configurable per endpoint", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const { skus } = sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG-1", stock: 5 }] })
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG-1" }] })
      const { services } = yield* connect(sandbox, {
        config: { skuKey: "sku_id", versions: { orderDetail: "202507" } }
      })
      const order = yield* services["orders.pull"].get(orderId)
      assert.strictEqual(order.lines[0].externalSku, skus[0]!.skuId)
      assert.deepStrictEqual(
        sandbox.requestsTo("orders.detail").map((r) => r.path),
        ["/order/202507/orders"]
      )
    })
  )
})
