/**
 * Item: a master SKU, the unit the inventory pool counts (多平台一盘货 — one pool, every channel).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ItemId } from "./Ids.ts"

/** A master SKU. Listings on channels are made of items. */
export class Item extends Schema.Class<Item>("@tkbridge/core/Item")({
  id: ItemId,
  title: Schema.optional(Schema.String),
  barcode: Schema.optional(Schema.String),
  /** Units held back from every channel (the pool's safety stock for this item). */
  safetyStock: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 })
}) {}
