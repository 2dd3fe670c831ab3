/**
 * StockLevel: how many units of an item are on hand at a location, as the source of truth last said.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ItemId, LocationId, Quantity } from "./Ids.ts"

/** Units physically on hand. `sourceVersion` orders readings so an older ERP reading never overwrites a newer one. */
export class StockLevel extends Schema.Class<StockLevel>("@tkbridge/core/StockLevel")({
  item: ItemId,
  location: LocationId,
  onHand: Quantity,
  sourceVersion: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  updatedAt: Schema.optional(Schema.Date)
}) {}
