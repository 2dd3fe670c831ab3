/**
 * `catalog.pull` against the sandbox: every SKU of every active product becomes a listing with the
 * ids a stock push needs; products in any status Update Inventory refuses (12052901) are left out.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopCatalog } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect, Schema } from "effect"
import { connect } from "./support.ts"

describe("catalog.pull", () => {
  it.scopedLive("lists SKUs with product, SKU and warehouse ids", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const main = sandbox.warehouses()[0]!.id
      const north = sandbox.addWarehouse({ name: "North" }).id
      const lamp = sandbox.addProduct({
        title: "Lamp",
        skus: [
          { sellerSku: "LAMP-S", stock: { [main]: 2, [north]: 3 } },
          { sellerSku: "LAMP-L", stock: 4 }
        ]
      })
      const old = sandbox.addProduct({ title: "Old", skus: [{ sellerSku: "OLD", stock: 1 }] })
      sandbox.setProductStatus(old.productId, "DELETED")
      sandbox.addProduct({ title: "Draft", status: "DRAFT", skus: [{ sellerSku: "DRAFT", stock: 0 }] })
      const { services } = yield* connect(sandbox)
      const items: Array<{
        externalSku: string
        externalIds: Readonly<Record<string, string>>
        quantity?: number | undefined
      }> = []
      let cursor: string | undefined
      do {
        const page = yield* services["catalog.pull"].list({ cursor, pageSize: 1 })
        items.push(...page.items)
        cursor = page.next
      } while (cursor !== undefined)
      assert.deepStrictEqual(
        items.map((l) => l.externalSku),
        ["LAMP-S", "LAMP-L"]
      )
      assert.deepStrictEqual(items[0]!.externalIds, {
        product_id: lamp.productId,
        sku_id: lamp.skus[0]!.skuId,
        warehouse_ids: `${main},${north}`,
        seller_sku: "LAMP-S"
      })
      assert.strictEqual(items[0]!.quantity, 5)
      assert.strictEqual(items[1]!.externalIds.warehouse_ids, main)
    })
  )

  it.scopedLive("only ACTIVATE products become listings: every other status refuses stock (12052901)", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const refusing = [
        "DRAFT",
        "PENDING",
        "FAILED",
        "SELLER_DEACTIVATED",
        "PLATFORM_DEACTIVATED",
        "FREEZE",
        "DELETED"
      ] as const
      for (const status of refusing) {
        sandbox.addProduct({ title: status, status, skus: [{ sellerSku: `SKU-${status}`, stock: 1 }] })
      }
      sandbox.addProduct({ title: "Live", skus: [{ sellerSku: "SKU-LIVE", stock: 1 }] })
      const { services, client } = yield* connect(sandbox)
      const page = yield* services["catalog.pull"].list({})
      assert.deepStrictEqual(
        page.items.map((l) => l.externalSku),
        ["SKU-LIVE"]
      )
      // TikTok is asked for active products only.
      assert.strictEqual(sandbox.requestsTo("products.search")[0]!.text, '{"status":"ACTIVATE"}')
      // What the listing would have met: Update Inventory refuses a deactivated product per SKU.
      const deactivated = sandbox.addProduct({ title: "Paused", skus: [{ sellerSku: "SKU-PAUSED", stock: 1 }] })
      sandbox.setProductStatus(deactivated.productId, "SELLER_DEACTIVATED")
      const refused = yield* Effect.flip(
        client.call({
          method: "POST",
          path: `/product/202309/products/${deactivated.productId}/inventory/update`,
          shopScoped: true,
          body: { skus: [{ id: deactivated.skus[0]!.skuId, inventory: [{ quantity: 3 }] }] },
          data: Schema.Unknown
        })
      )
      assert.strictEqual(refused.code, "12052901")
    })
  )

  it("a status TikTok leaves out is not held against a product; any status other than ACTIVATE is", () => {
    const product = { id: "1", skus: [{ id: "11", seller_sku: "A" }] }
    assert.isTrue(TikTokShopCatalog.isStockable(product))
    assert.isTrue(TikTokShopCatalog.isStockable({ ...product, status: "ACTIVATE" }))
    assert.isFalse(TikTokShopCatalog.isStockable({ ...product, status: "FREEZE" }))
    assert.isFalse(TikTokShopCatalog.isStockable({ ...product, status: "SELLER_DEACTIVATED" }))
  })
})
