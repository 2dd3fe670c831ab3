/**
 * @tkbridge/connector-tiktok-shop — the TikTok Shop connector: orders and after-sales in, stock and
 * tracking numbers out, over the signed Open API (202309) with webhooks. The protocol-faithful
 * sandbox lives at `@tkbridge/connector-tiktok-shop/sandbox`.
 *
 * @since 0.1.0
 */

/** `aftersales.pull` and after-sale status mapping. */
export * as TikTokShopAftersales from "./TikTokShopAftersales.ts"
/** Seller authorization: link, code exchange, refresh. */
export * as TikTokShopAuth from "./TikTokShopAuth.ts"
/** `catalog.pull`. */
export * as TikTokShopCatalog from "./TikTokShopCatalog.ts"
/** The signed API client. */
export * as TikTokShopClient from "./TikTokShopClient.ts"
/** The connection config. */
export * as TikTokShopConfig from "./TikTokShopConfig.ts"
/** Manifest, make and layers. */
export * as TikTokShopConnector from "./TikTokShopConnector.ts"
/** Vendor error codes → core taxonomy. */
export * as TikTokShopError from "./TikTokShopError.ts"
/** `fulfillment.push`. */
export * as TikTokShopFulfillment from "./TikTokShopFulfillment.ts"
/** 64-bit-safe JSON parsing. */
export * as TikTokShopJson from "./TikTokShopJson.ts"
/** `orders.pull` and order mapping. */
export * as TikTokShopOrders from "./TikTokShopOrders.ts"
/** Wire schemas. */
export * as TikTokShopSchema from "./TikTokShopSchema.ts"
/** Request and webhook signatures. */
export * as TikTokShopSign from "./TikTokShopSign.ts"
/** `stock.push`. */
export * as TikTokShopStock from "./TikTokShopStock.ts"
/** Webhook verification and decoding. */
export * as TikTokShopWebhook from "./TikTokShopWebhook.ts"
