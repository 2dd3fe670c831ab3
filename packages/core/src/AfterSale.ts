/**
 * AfterSale: a cancellation, return or refund request on a channel order.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalId, ExternalSku, PositiveQuantity } from "./Ids.ts"

/** What the buyer or seller asked for. */
export const AfterSaleKind = Schema.Literal("cancel", "return", "refund")
/** @since 0.1.0 */
export type AfterSaleKind = typeof AfterSaleKind.Type

/**
 * Normalised after-sale status. `completed` is the point where stock effects apply: a completed
 * cancellation releases held stock, a completed return (goods received) restocks per policy.
 */
export const AfterSaleStatus = Schema.Literal("requested", "approved", "rejected", "completed", "cancelled")
/** @since 0.1.0 */
export type AfterSaleStatus = typeof AfterSaleStatus.Type

/** A cancellation, return or refund, with the lines it covers (all lines when absent). */
export class AfterSale extends Schema.Class<AfterSale>("@tkbridge/core/AfterSale")({
  connection: ConnectionId,
  externalId: ExternalId,
  orderId: ExternalId,
  kind: AfterSaleKind,
  status: AfterSaleStatus,
  lines: Schema.optional(Schema.Array(Schema.Struct({ externalSku: ExternalSku, qty: PositiveQuantity }))),
  reason: Schema.optional(Schema.String),
  updatedAt: Schema.Date,
  platformStatus: Schema.optional(Schema.String)
}) {}
