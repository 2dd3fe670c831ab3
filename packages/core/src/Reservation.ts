/**
 * Reservation: units of an item held for an order line between the order arriving and the parcel
 * leaving. held → committed (shipped) | released (cancelled or expired).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalId, ItemId, PositiveQuantity } from "./Ids.ts"

/** The states a reservation passes through. */
export const ReservationState = Schema.Literal("held", "committed", "released")
/** @since 0.1.0 */
export type ReservationState = typeof ReservationState.Type

/** Units of one item held for one order line. */
export class Reservation extends Schema.Class<Reservation>("@tkbridge/core/Reservation")({
  connection: ConnectionId,
  orderId: ExternalId,
  lineId: Schema.String,
  item: ItemId,
  qty: PositiveQuantity,
  state: ReservationState,
  /** Unpaid orders hold stock only until this instant; the sweeper releases them after it. */
  expiresAt: Schema.optional(Schema.Date),
  createdAt: Schema.Date
}) {}
