/**
 * TikTokShopCatalog: the `catalog.pull` capability — Search Products
 * (`POST /product/202309/products/search`) page by page, each SKU of each product becoming one
 * `ChannelListing` whose `externalIds` hold what a stock push needs: `product_id`, `sku_id` and the
 * SKU's `warehouse_ids` (comma-separated).
 *
 * Only `ACTIVATE` products become listings: Update Inventory refuses every other status (drafts,
 * products under review or failed review, seller- or platform-deactivated, frozen, deleted) with
 * `12052901`, so pairing them would only make each stock push fail per SKU. The search asks TikTok
 * for active products and the status is checked again on what comes back.
 *
 * A page is a page of products, so the number of listings per page varies with SKUs per product.
 *
 * @see https://partner.tiktokshop.com/docv2/page/67b837b685619104a6846369 (Search Products)
 * @since 0.1.0
 */
import type { Connector, ConnectorError as Errors } from "@tkbridge/core"
import { Effect } from "effect"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import type { TikTokShopConfig } from "./TikTokShopConfig.ts"
import { externalSkuOf } from "./TikTokShopOrders.ts"
import * as Wire from "./TikTokShopSchema.ts"

/** The one product status Update Inventory accepts (reference §5.2). */
export const stockableStatus = "ACTIVATE"

/** Whether a product can take stock; a product whose status TikTok leaves out is given the benefit of the doubt. */
export const isStockable = (product: Wire.Product): boolean =>
  product.status === undefined || product.status === stockableStatus

/** The listings of one product. */
export const toListings = (
  product: Wire.Product,
  skuKey: TikTokShopConfig["skuKey"]
): ReadonlyArray<Connector.ChannelListing> =>
  (product.skus ?? []).flatMap((sku) => {
    const externalSku = externalSkuOf(skuKey, { sku_id: sku.id, seller_sku: sku.seller_sku })
    if (externalSku === undefined) return []
    const warehouses = (sku.inventory ?? []).map((i) => i.warehouse_id).filter((w): w is string => !!w)
    const externalIds: Record<string, string> = { product_id: product.id, sku_id: sku.id }
    if (warehouses.length > 0) externalIds.warehouse_ids = warehouses.join(",")
    if (sku.seller_sku) externalIds.seller_sku = sku.seller_sku
    const title = product.title
    return [
      {
        externalSku,
        externalIds,
        ...(title ? { title } : {}),
        ...(sku.inventory ? { quantity: sku.inventory.reduce((n, i) => n + (i.quantity ?? 0), 0) } : {})
      }
    ]
  })

/** Builds `catalog.pull` on a client. The cursor is TikTok's `next_page_token`. */
export const make = (client: TikTokShopClientShape): Connector.CatalogPull => ({
  list: (query): Effect.Effect<Connector.Page<Connector.ChannelListing>, Errors.ConnectorError> =>
    client
      .call({
        method: "POST",
        path: client.path("productSearch"),
        shopScoped: true,
        query: { page_size: Math.min(100, query.pageSize ?? client.config.pageSize), page_token: query.cursor },
        // Every page repeats the filter, so a page token always travels with the filters it was issued under.
        body: { status: stockableStatus },
        data: Wire.ProductSearchData
      })
      .pipe(
        Effect.map((data) => ({
          items: (data.products ?? []).filter(isStockable).flatMap((p) => toListings(p, client.config.skuKey)),
          next: data.next_page_token ? data.next_page_token : undefined
        }))
      )
})
