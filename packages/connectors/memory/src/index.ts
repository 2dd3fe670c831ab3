/**
 * @tkbridge/connector-memory — the in-memory reference connector: every capability of the
 * contract against the Memory platform (`./sandbox`), the template new connectors copy and the
 * target the conformance kit tests itself against.
 *
 * @since 0.1.0
 */

/** `aftersales.pull` and the after-sale mapping. */
export * as MemoryAftersales from "./MemoryAftersales.ts"
/** The `auth` service: OAuth 2 code grant and refresh. */
export * as MemoryAuth from "./MemoryAuth.ts"
/** `catalog.pull` and `locations.pull`. */
export * as MemoryCatalog from "./MemoryCatalog.ts"
/** The platform's HTTP client. */
export * as MemoryClient from "./MemoryClient.ts"
/** The connection config. */
export * as MemoryConfig from "./MemoryConfig.ts"
/** Manifest, `make`, layers — all the runner needs. */
export * as MemoryConnector from "./MemoryConnector.ts"
/** Platform errors → the core taxonomy. */
export * as MemoryError from "./MemoryError.ts"
/** `fulfillment.push`. */
export * as MemoryFulfillment from "./MemoryFulfillment.ts"
/** `shipment.create` and `tracking.pull`. */
export * as MemoryLogistics from "./MemoryLogistics.ts"
/** `orders.pull` and the order mapping. */
export * as MemoryOrders from "./MemoryOrders.ts"
/** Wire schemas. */
export * as MemorySchema from "./MemorySchema.ts"
/** `stock.push` and `stock.pull`. */
export * as MemoryStock from "./MemoryStock.ts"
/** The webhook receiver. */
export * as MemoryWebhook from "./MemoryWebhook.ts"
