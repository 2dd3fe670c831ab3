/**
 * ShopifyCatalog: `catalog.pull` — the shop's product variants with their SKU and the ids a stock
 * push needs (`inventoryItemId`), paged by id. Variants without a SKU cannot be paired with a pool
 * item and are left out. Shopify does not keep SKUs unique; pairing reports duplicates.
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10/queries/productVariants
 * @since 0.1.0
 */
import type { Connector, ConnectorError as Errors } from "@tkbridge/core"
import { Effect } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import * as Documents from "./ShopifyDocuments.ts"
import { legacyId } from "./ShopifyGid.ts"
import * as Wire from "./ShopifySchema.ts"
import { ids } from "./ShopifyStock.ts"

/** A variant as the channel lists it, or undefined when it has no SKU. */
export const toListing = (v: Wire.Variant): Connector.ChannelListing | undefined => {
  const sku = v.sku?.trim() ?? ""
  if (sku === "") return undefined
  return {
    externalSku: sku,
    externalIds: {
      [ids.variant]: legacyId(v.id),
      [ids.inventoryItem]: legacyId(v.inventoryItem.id),
      [ids.product]: legacyId(v.product.id)
    },
    // Single-variant products carry Shopify's placeholder variant title "Default Title".
    title: v.title === "Default Title" ? v.product.title : (v.displayName ?? `${v.product.title} - ${v.title}`),
    quantity: v.inventoryQuantity ?? undefined
  }
}

/** Builds `catalog.pull` on a client. */
export const make = (client: ShopifyClientShape): Connector.CatalogPull => ({
  list: (query) =>
    Effect.gen(function* () {
      const first = Math.min(250, Math.max(1, Math.floor(query.pageSize ?? client.config.pageSize)))
      const data = yield* client.run(
        Documents.CatalogVariants,
        { first, after: query.cursor ?? null },
        Wire.CatalogVariantsData
      )
      const items = data.productVariants.nodes.flatMap((v) => toListing(v) ?? [])
      const info = data.productVariants.pageInfo
      return { items, next: info.hasNextPage && info.endCursor ? info.endCursor : undefined }
    }) satisfies Effect.Effect<Connector.Page<Connector.ChannelListing>, Errors.ConnectorError>
})
