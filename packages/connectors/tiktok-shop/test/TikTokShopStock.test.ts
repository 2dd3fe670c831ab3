/**
 * `stock.push` against the sandbox: absolute sets per warehouse, SKUs of one product in one call,
 * multi-warehouse SKUs kept whole, per-SKU failures from `data.errors` surfaced as `Failed` for
 * exactly those SKUs while the rest is applied, and replays that change nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import { connect } from "./support.ts"

const update = (
  listing: { productId: string; skuId: string; warehouses?: ReadonlyArray<string> },
  externalSku: string,
  quantity: number,
  location?: string
): Connector.StockUpdate => ({
  externalSku,
  externalIds: {
    product_id: listing.productId,
    sku_id: listing.skuId,
    ...(listing.warehouses ? { warehouse_ids: listing.warehouses.join(",") } : {})
  },
  quantity,
  ...(location ? { location } : {}),
  idempotencyKey: `tiktok-uk:${externalSku}:${quantity}`
})

describe("stock.push", () => {
  it.scopedLive("sets absolute quantities, one call per product, replays harmless", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const warehouse = sandbox.warehouses()[0]!.id
      const mug = sandbox.addProduct({
        title: "Mug",
        skus: [
          { sellerSku: "MUG-RED", stock: 1 },
          { sellerSku: "MUG-BLUE", stock: 1 }
        ]
      })
      const cap = sandbox.addProduct({ title: "Cap", skus: [{ sellerSku: "CAP", stock: 1 }] })
      const { services } = yield* connect(sandbox)
      const batch = [
        update({ productId: mug.productId, skuId: mug.skus[0]!.skuId, warehouses: [warehouse] }, "MUG-RED", 7),
        update({ productId: mug.productId, skuId: mug.skus[1]!.skuId }, "MUG-BLUE", 0),
        update(
          { productId: cap.productId, skuId: cap.skus[0]!.skuId, warehouses: [warehouse] },
          "CAP",
          99_999,
          warehouse
        )
      ]
      const results = yield* services["stock.push"].push(batch)
      assert.deepStrictEqual(
        results.map((r) => r._tag),
        ["Applied", "Applied", "Applied"]
      )
      assert.strictEqual(sandbox.stock("MUG-RED", warehouse), 7)
      assert.strictEqual(sandbox.stock("MUG-BLUE", warehouse), 0)
      assert.strictEqual(sandbox.stock("CAP", warehouse), 99_999)
      assert.strictEqual(sandbox.requestsTo("inventory.update").length, 2)
      const [first] = sandbox.requestsTo("inventory.update")
      assert.strictEqual(
        first!.text,
        `{"skus":[{"id":"${mug.skus[0]!.skuId}","inventory":[{"warehouse_id":"${warehouse}","quantity":7}]},{"id":"${mug.skus[1]!.skuId}","inventory":[{"quantity":0}]}]}`
      )
      yield* services["stock.push"].push(batch)
      assert.strictEqual(sandbox.stock("MUG-RED", warehouse), 7)
      assert.strictEqual(sandbox.inventoryWrites("MUG-RED"), 2)
    })
  )

  it.scopedLive("keeps every warehouse of a multi-warehouse SKU; a location is required there", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const main = sandbox.warehouses()[0]!.id
      const north = sandbox.addWarehouse({ name: "North" }).id
      const product = sandbox.addProduct({
        title: "Lamp",
        skus: [{ sellerSku: "LAMP", stock: { [main]: 4, [north]: 9 } }]
      })
      const ids = { productId: product.productId, skuId: product.skus[0]!.skuId, warehouses: [main, north] }
      const { services } = yield* connect(sandbox)
      const [applied] = yield* services["stock.push"].push([update(ids, "LAMP", 2, main)])
      assert.strictEqual(applied!._tag, "Applied")
      assert.strictEqual(sandbox.stock("LAMP", main), 2)
      assert.strictEqual(sandbox.stock("LAMP", north), 9)
      assert.strictEqual(sandbox.requestsTo("inventory.search").length, 1)
      const [both] = yield* services["stock.push"].push([update(ids, "LAMP", 1, main), update(ids, "LAMP", 3, north)])
      assert.strictEqual(both!._tag, "Applied")
      assert.deepStrictEqual([sandbox.stock("LAMP", main), sandbox.stock("LAMP", north)], [1, 3])
      assert.strictEqual(sandbox.requestsTo("inventory.search").length, 1)
      const [unnamed] = yield* services["stock.push"].push([update(ids, "LAMP", 5)])
      assert.strictEqual(unnamed!._tag, "Failed")
      if (unnamed!._tag === "Failed") assert.strictEqual(unnamed!.error._tag, "Rejected")
      assert.deepStrictEqual([sandbox.stock("LAMP", main), sandbox.stock("LAMP", north)], [1, 3])
    })
  )

  it.scopedLive("per-SKU failures in data.errors fail only those SKUs", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const main = sandbox.warehouses()[0]!.id
      const product = sandbox.addProduct({
        title: "Tee",
        skus: [
          { sellerSku: "TEE-S", stock: 1 },
          { sellerSku: "TEE-M", stock: 1 }
        ]
      })
      const gone = sandbox.addProduct({ title: "Old", skus: [{ sellerSku: "OLD", stock: 1 }] })
      sandbox.setProductStatus(gone.productId, "SELLER_DEACTIVATED")
      const { services } = yield* connect(sandbox)
      const results = yield* services["stock.push"].push([
        update({ productId: product.productId, skuId: product.skus[0]!.skuId }, "TEE-S", 6),
        // A warehouse TikTok does not know.
        update({ productId: product.productId, skuId: product.skus[1]!.skuId }, "TEE-M", 8, "7399999999999999999"),
        update({ productId: product.productId, skuId: "7399999999999999998" }, "TEE-XL", 8),
        update({ productId: gone.productId, skuId: gone.skus[0]!.skuId }, "OLD", 3),
        update({ productId: product.productId, skuId: product.skus[0]!.skuId }, "TEE-S-TOO-MANY", 100_000),
        { externalSku: "UNPAIRED", externalIds: {}, quantity: 1, idempotencyKey: "k" }
      ])
      const summary = results.map((r) => [
        r.externalSku,
        r._tag,
        r._tag === "Failed" ? `${r.error._tag}:${r.error.code}` : ""
      ])
      assert.deepStrictEqual(summary, [
        ["TEE-S", "Applied", ""],
        ["TEE-M", "Failed", "NotFound:12052097"],
        ["TEE-XL", "Failed", "NotFound:12052556"],
        ["OLD", "Failed", "Rejected:12052901"],
        ["TEE-S-TOO-MANY", "Failed", "Rejected:12052055"],
        ["UNPAIRED", "Failed", "Rejected:missing_ids"]
      ])
      assert.strictEqual(sandbox.stock("TEE-S", main), 6)
      assert.strictEqual(sandbox.stock("TEE-M", main), 1)
      assert.strictEqual(sandbox.stock("OLD", main), 1)
    })
  )

  it.scopedLive("a batch spanning more products than TikTok's per-API budget is paced, not rate limited", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const products = Array.from({ length: 60 }, (_, i) =>
        sandbox.addProduct({ title: `P${i}`, skus: [{ sellerSku: `P-${i}`, stock: 0 }] })
      )
      const { services } = yield* connect(sandbox)
      const results = yield* services["stock.push"].push(
        products.map((p, i) => update({ productId: p.productId, skuId: p.skus[0]!.skuId }, `P-${i}`, i + 1))
      )
      assert.isTrue(results.every((r) => r._tag === "Applied"))
      assert.deepStrictEqual(
        sandbox.requestsTo("inventory.update").map((r) => r.status),
        Array.from({ length: 60 }, () => 200)
      )
      assert.strictEqual(sandbox.stock("P-59"), 60)
    })
  )

  it.scopedLive("connection-level failures fail the push as a whole", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const product = sandbox.addProduct({ title: "Tee", skus: [{ sellerSku: "TEE", stock: 1 }] })
      const { services } = yield* connect(sandbox)
      sandbox.fault("inventory.update", { ...sandbox.tiktokError(36009002), times: 1 })
      const limited = yield* Effect.flip(
        services["stock.push"].push([update({ productId: product.productId, skuId: product.skus[0]!.skuId }, "TEE", 2)])
      )
      assert.strictEqual(limited._tag, "RateLimited")
      sandbox.fault("inventory.update", { ...sandbox.tiktokError(36009003), times: 1 })
      const [transient] = yield* services["stock.push"].push([
        update({ productId: product.productId, skuId: product.skus[0]!.skuId }, "TEE", 2)
      ])
      assert.strictEqual(transient!._tag === "Failed" && transient!.error._tag, "Transient")
      assert.strictEqual(sandbox.stock("TEE"), 1)
    })
  )
})
