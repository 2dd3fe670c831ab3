/**
 * ChannelEvent: what a connector tells tkbridge happened on the platform, from a webhook or a poll.
 * Events that carry a full snapshot (`order`, `afterSale`) are applied directly; the others name
 * what changed and the inbox processor fetches the current state, because platforms deliver
 * webhooks out of order and a notice may be older than what we hold.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { AfterSale, AfterSaleKind, AfterSaleStatus } from "./AfterSale.ts"
import { ExternalId, ExternalSku } from "./Ids.ts"
import { Order, OrderStatus } from "./Order.ts"

/** An order was created or changed. */
export class OrderChanged extends Schema.TaggedClass<OrderChanged>("@tkbridge/core/OrderChanged")("OrderChanged", {
  orderId: ExternalId,
  status: Schema.optional(OrderStatus),
  updatedAt: Schema.optional(Schema.Date),
  /** The full order, when the platform sent it. */
  order: Schema.optional(Order)
}) {}

/** A cancellation, return or refund was created or changed. */
export class AfterSaleChanged extends Schema.TaggedClass<AfterSaleChanged>("@tkbridge/core/AfterSaleChanged")(
  "AfterSaleChanged",
  {
    afterSaleId: ExternalId,
    orderId: ExternalId,
    kind: AfterSaleKind,
    status: Schema.optional(AfterSaleStatus),
    updatedAt: Schema.optional(Schema.Date),
    afterSale: Schema.optional(AfterSale)
  }
) {}

/** The seller withdrew the app's authorization (deauthorization, app uninstalled). */
export class AuthorizationRevoked extends Schema.TaggedClass<AuthorizationRevoked>(
  "@tkbridge/core/AuthorizationRevoked"
)("AuthorizationRevoked", {
  reason: Schema.optional(Schema.String)
}) {}

/** The authorization will expire soon; the seller must re-authorize before `expiresAt`. */
export class AuthorizationExpiring extends Schema.TaggedClass<AuthorizationExpiring>(
  "@tkbridge/core/AuthorizationExpiring"
)("AuthorizationExpiring", {
  expiresAt: Schema.optional(Schema.Date)
}) {}

/** The platform reports a stock change on its side (informational; the pool stays the source of truth). */
export class InventoryChanged extends Schema.TaggedClass<InventoryChanged>("@tkbridge/core/InventoryChanged")(
  "InventoryChanged",
  {
    externalSku: Schema.optional(ExternalSku),
    productId: Schema.optional(ExternalId),
    detail: Schema.optional(Schema.String)
  }
) {}

/** A package/fulfilment changed on the platform (e.g. TikTok package update). */
export class FulfillmentChanged extends Schema.TaggedClass<FulfillmentChanged>("@tkbridge/core/FulfillmentChanged")(
  "FulfillmentChanged",
  {
    orderId: Schema.optional(ExternalId),
    packageId: Schema.optional(ExternalId),
    status: Schema.optional(Schema.String)
  }
) {}

/** A topic tkbridge does not act on; recorded so nothing disappears silently. */
export class Unhandled extends Schema.TaggedClass<Unhandled>("@tkbridge/core/Unhandled")("Unhandled", {
  topic: Schema.String
}) {}

/** Any event a connector can report. */
export const ChannelEvent = Schema.Union(
  OrderChanged,
  AfterSaleChanged,
  AuthorizationRevoked,
  AuthorizationExpiring,
  InventoryChanged,
  FulfillmentChanged,
  Unhandled
)
/** Any event a connector can report. */
export type ChannelEvent = typeof ChannelEvent.Type
