/**
 * Order: a buyer's order on a channel, its lines and its status.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Address } from "./Address.ts"
import { ConnectionId, ExternalId, ExternalSku, PositiveQuantity } from "./Ids.ts"

/**
 * Order status across channels. `unpaid` orders hold stock only for a while; `cancelled` releases it;
 * `in_transit` and later mean the stock has left.
 */
export const OrderStatus = Schema.Literal(
  "unpaid",
  "on_hold",
  "awaiting_shipment",
  "partially_shipped",
  "awaiting_collection",
  "in_transit",
  "delivered",
  "completed",
  "cancelled"
)
/** @since 0.1.0 */
export type OrderStatus = typeof OrderStatus.Type

/** Statuses in which the order's units have left the warehouse. */
export const shippedStatuses: ReadonlySet<OrderStatus> = new Set([
  "awaiting_collection",
  "in_transit",
  "delivered",
  "completed"
])

/** A line of an order: a quantity of one channel SKU. */
export class OrderLine extends Schema.Class<OrderLine>("@tkbridge/core/OrderLine")({
  lineId: Schema.String,
  externalSku: ExternalSku,
  qty: PositiveQuantity,
  title: Schema.optional(Schema.String),
  /** Unit price in minor units of `Order.currency`. */
  unitPrice: Schema.optional(Schema.Int)
}) {}

/** A channel order. `updatedAt` orders versions of the same order: an older one never overwrites a newer one. */
export class Order extends Schema.Class<Order>("@tkbridge/core/Order")({
  connection: ConnectionId,
  externalId: ExternalId,
  status: OrderStatus,
  lines: Schema.NonEmptyArray(OrderLine),
  shipTo: Schema.optional(Address),
  currency: Schema.optional(Schema.String),
  placedAt: Schema.Date,
  updatedAt: Schema.Date,
  /** The platform's own status word, kept for the operator. */
  platformStatus: Schema.optional(Schema.String)
}) {}
