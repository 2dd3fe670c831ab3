/**
 * @tkbridge/core — the domain model, the connector contract, the error taxonomy, the inventory pool
 * rules and the ports the store and engine implement. Everything public is exported here.
 *
 * @since 0.1.0
 */

/** Access tokens and the provider connectors ask for them. */
export * as AccessToken from "./AccessToken.ts"
/** Postal address and buyer contact (personal data). */
export * as Address from "./Address.ts"
/** Cancellations, returns and refunds. */
export * as AfterSale from "./AfterSale.ts"
/** Events connectors report from webhooks and polls. */
export * as ChannelEvent from "./ChannelEvent.ts"
/** Per-channel publishing rules. */
export * as ChannelPolicy from "./ChannelPolicy.ts"
/** Connections: one seller account on one connector. */
export * as Connection from "./Connection.ts"
/** The connector contract. */
export * as Connector from "./Connector.ts"
/** The error taxonomy. */
export * as ConnectorError from "./ConnectorError.ts"
/** Shared HTTP plumbing for connectors. */
export * as ConnectorHttp from "./ConnectorHttp.ts"
/** Redacted records of HTTP calls. */
export * as HttpExchange from "./HttpExchange.ts"
/** Identifier and quantity schemas. */
export * as Ids from "./Ids.ts"
/** Master SKUs. */
export * as Item from "./Item.ts"
/** Channel SKUs and their components. */
export * as Listing from "./Listing.ts"
/** Stock locations. */
export * as Location from "./Location.ts"
/** Orders and their lines. */
export * as Order from "./Order.ts"
/** Stock reservations for order lines. */
export * as Reservation from "./Reservation.ts"
/** Parcels and labels. */
export * as Shipment from "./Shipment.ts"
/** Stock on hand per item and location. */
export * as StockLevel from "./StockLevel.ts"
/** Carrier tracking events. */
export * as TrackingEvent from "./TrackingEvent.ts"
/** Webhook deliveries and their rejections. */
export * as Webhook from "./Webhook.ts"
