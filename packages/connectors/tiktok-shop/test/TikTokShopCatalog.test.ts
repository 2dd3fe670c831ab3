/**
 * `catalog.pull` against the sandbox: every SKU of every live product becomes a listing with the
 * ids a stock push needs; deleted products are left out.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect } from "effect"
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
        ["LAMP-S", "LAMP-L", "DRAFT"]
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
})
