/**
 * Location: somewhere stock is held — an ERP/WMS warehouse, a 4PX warehouse, a store's location.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalId, LocationId } from "./Ids.ts"

/** A stock location. `source` and `externalId` say which system reports it and under which id. */
export class Location extends Schema.Class<Location>("@tkbridge/core/Location")({
  id: LocationId,
  name: Schema.String,
  kind: Schema.Literal("warehouse", "store", "fulfillment_center", "virtual"),
  source: Schema.optional(ConnectionId),
  externalId: Schema.optional(ExternalId),
  country: Schema.optional(Schema.String)
}) {}
