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
/** The append-only audit trail of quantity decisions and outbound writes. */
export * as Audit from "./Audit.ts"
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
/** The dead-letter queue: failed work with its whole context. */
export * as DeadLetter from "./DeadLetter.ts"
/** Redacted records of HTTP calls. */
export * as HttpExchange from "./HttpExchange.ts"
/** Identifier and quantity schemas. */
export * as Ids from "./Ids.ts"
/** The webhook inbox: stored deliveries applied exactly once. */
export * as Inbox from "./Inbox.ts"
/** Master SKUs. */
export * as Item from "./Item.ts"
/** The ledger port: the pool's one write path. */
export * as Ledger from "./Ledger.ts"
/** The laws every ledger implementation keeps, as executable checks. */
export * as LedgerLaws from "./LedgerLaws.ts"
/** The ledger in memory: the reference model of the pool's semantics. */
export * as LedgerMemory from "./LedgerMemory.ts"
/** Channel SKUs and their components. */
export * as Listing from "./Listing.ts"
/** Stock locations. */
export * as Location from "./Location.ts"
/** Orders and their lines. */
export * as Order from "./Order.ts"
/** The stock-push outbox (coalescing) and the outbound-job queue. */
export * as Outbox from "./Outbox.ts"
/** Listing ↔ item pairing: explicit map and auto-pair rules. */
export * as Pairing from "./Pairing.ts"
/** Parcels booked for orders: tracking numbers, labels and tracking events. */
export * as Parcels from "./Parcels.ts"
/** Masking of personal data for the audit trail and logs. */
export * as Pii from "./Pii.ts"
/** The pool's arithmetic: available, published quantities and their explanations. */
export * as Pool from "./Pool.ts"
/** Per-connection rate, daily quota with headroom, priority lanes and suspensions. */
export * as Quota from "./Quota.ts"
/** Stock reservations for order lines. */
export * as Reservation from "./Reservation.ts"
/** Parcels and labels. */
export * as Shipment from "./Shipment.ts"
/** What to publish when a compare-and-set channel moved underneath: held units and credit. */
export * as StockDecision from "./StockDecision.ts"
/** Stock on hand per item and location. */
export * as StockLevel from "./StockLevel.ts"
/** The sync-state store failed. */
export * as StoreError from "./StoreError.ts"
/** Versioned OAuth grants per connection. */
export * as TokenStore from "./TokenStore.ts"
/** Carrier tracking events. */
export * as TrackingEvent from "./TrackingEvent.ts"
/** Webhook deliveries and their rejections. */
export * as Webhook from "./Webhook.ts"
/** The webhook edge: verify, record, answer. */
export * as WebhookEdge from "./WebhookEdge.ts"
