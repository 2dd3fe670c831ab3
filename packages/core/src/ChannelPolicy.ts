/**
 * ChannelPolicy: how much of the pool a channel is shown. Applied per connection, optionally
 * overridden per listing. Every term is whole units and the result always rounds down.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalSku, LocationId, Quantity } from "./Ids.ts"

/** Show the channel a percentage (0–100) of what is available. */
export class ShareAllocation extends Schema.TaggedClass<ShareAllocation>()("share", {
  percent: Schema.Number.pipe(Schema.between(0, 100, { message: () => "percent must be between 0 and 100" }))
}) {}

/** Set aside a fixed number of units for the channel (never more than is available). */
export class FixedAllocation extends Schema.TaggedClass<FixedAllocation>()("fixed", {
  quantity: Quantity
}) {}

/** How the available quantity is allocated to a channel. */
export const Allocation = Schema.Union(ShareAllocation, FixedAllocation)
/** @since 0.1.0 */
export type Allocation = typeof Allocation.Type

/** The publishing rules for one connection, or one listing on it when `externalSku` is set. */
export class ChannelPolicy extends Schema.Class<ChannelPolicy>("@tkbridge/core/ChannelPolicy")({
  connection: ConnectionId,
  externalSku: Schema.optional(ExternalSku),
  allocation: Schema.optionalWith(Allocation, { default: () => new ShareAllocation({ percent: 100 }) }),
  /** Units subtracted after allocation (a per-channel cushion against slow channels). */
  safetyBuffer: Schema.optionalWith(Quantity, { default: () => 0 }),
  /** Publish 0 when the computed quantity is at or below this number. */
  floor: Schema.optionalWith(Quantity, { default: () => 0 }),
  /** Never publish more than this. */
  cap: Schema.optional(Quantity),
  /** The locations this connection may sell from; all locations when absent. */
  locations: Schema.optional(Schema.Array(LocationId))
}) {}

/**
 * Last-units rule: when an item's available quantity is at or below `threshold`, only `channel`
 * keeps stock and every other channel is shown 0.
 */
export class LastUnitsRule extends Schema.Class<LastUnitsRule>("@tkbridge/core/LastUnitsRule")({
  threshold: Quantity,
  channel: ConnectionId
}) {}
