/**
 * Shipment: a parcel for an order, as the fulfilling system (4PX, an ERP/WMS) reports it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalId, ExternalSku, PositiveQuantity } from "./Ids.ts"

/** Where a shipment is in its life. */
export const ShipmentStatus = Schema.Literal("created", "labelled", "shipped", "delivered", "cancelled", "failed")
/** @since 0.1.0 */
export type ShipmentStatus = typeof ShipmentStatus.Type

/** A printable label. */
export class Label extends Schema.Class<Label>("@tkbridge/core/Label")({
  format: Schema.Literal("pdf", "png", "zpl"),
  url: Schema.optional(Schema.String),
  base64: Schema.optional(Schema.String)
}) {}

/** A parcel for (part of) an order. `reference` is our idempotency key at the carrier. */
export class Shipment extends Schema.Class<Shipment>("@tkbridge/core/Shipment")({
  /** The connection of the order this parcel ships. */
  orderConnection: ConnectionId,
  orderId: ExternalId,
  /** The connection that fulfils it (logistics or ERP). */
  fulfiller: ConnectionId,
  reference: Schema.String,
  externalId: Schema.optional(ExternalId),
  carrier: Schema.String,
  service: Schema.optional(Schema.String),
  trackingNumber: Schema.optional(Schema.String),
  status: ShipmentStatus,
  lines: Schema.optional(Schema.Array(Schema.Struct({ externalSku: ExternalSku, qty: PositiveQuantity }))),
  label: Schema.optional(Label)
}) {}
