/**
 * @tkbridge/connector-shopify — the Shopify connector: catalog, stock (compare-and-set with
 * idempotency keys), orders and tracking over the GraphQL Admin API (2026-10), OAuth with expiring
 * offline tokens, and verified webhooks. The sandbox lives at `@tkbridge/connector-shopify/sandbox`.
 *
 * @since 0.1.0
 */

/** OAuth install, callback verification, token refresh and scopes. */
export * as ShopifyAuth from "./ShopifyAuth.ts"
/** `catalog.pull`. */
export * as ShopifyCatalog from "./ShopifyCatalog.ts"
/** The GraphQL client with cost-aware pacing. */
export * as ShopifyClient from "./ShopifyClient.ts"
/** The connection config. */
export * as ShopifyConfig from "./ShopifyConfig.ts"
/** Manifest, make and layers. */
export * as ShopifyConnector from "./ShopifyConnector.ts"
/** The query cost model. */
export * as ShopifyCost from "./ShopifyCost.ts"
/** Every GraphQL document the connector sends. */
export * as ShopifyDocuments from "./ShopifyDocuments.ts"
/** Shopify failures → core taxonomy. */
export * as ShopifyError from "./ShopifyError.ts"
/** `fulfillment.push`. */
export * as ShopifyFulfillment from "./ShopifyFulfillment.ts"
/** Global ids. */
export * as ShopifyGid from "./ShopifyGid.ts"
/** `locations.pull`. */
export * as ShopifyLocations from "./ShopifyLocations.ts"
/** `orders.pull` and order mapping. */
export * as ShopifyOrders from "./ShopifyOrders.ts"
/** Wire schemas. */
export * as ShopifySchema from "./ShopifySchema.ts"
/** `stock.push`, `stock.pull` and the stale-write decision. */
export * as ShopifyStock from "./ShopifyStock.ts"
/** Webhook verification and decoding. */
export * as ShopifyWebhook from "./ShopifyWebhook.ts"
