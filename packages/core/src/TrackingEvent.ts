/**
 * TrackingEvent: one step in a parcel's journey, mapped from the carrier's own codes.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** The normalised milestones a parcel passes through. */
export const TrackingStatus = Schema.Literal(
  "info_received",
  "picked_up",
  "in_transit",
  "customs",
  "out_for_delivery",
  "delivered",
  "exception",
  "returned"
)
/** @since 0.1.0 */
export type TrackingStatus = typeof TrackingStatus.Type

/** A carrier scan. `rawCode` keeps the carrier's code so unmapped codes are never lost. */
export class TrackingEvent extends Schema.Class<TrackingEvent>("@tkbridge/core/TrackingEvent")({
  trackingNumber: Schema.String,
  carrier: Schema.String,
  status: TrackingStatus,
  rawCode: Schema.String,
  description: Schema.String,
  occurredAt: Schema.Date,
  location: Schema.optional(Schema.String)
}) {}
