/**
 * Listing: a SKU on one channel connection and the items it is made of.
 *
 * A plain listing has one component with quantity 1. A multipack ("pack of 3") has one component
 * whose quantity is the pack factor. A bundle (组合SKU) has several components; selling one bundle
 * consumes every component.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalSku, ItemId, PositiveQuantity } from "./Ids.ts"

/** One item inside a listing, with how many units of it one listing unit consumes. */
export class Component extends Schema.Class<Component>("@tkbridge/core/Component")({
  item: ItemId,
  qty: PositiveQuantity
}) {}

/** A channel SKU on a connection. `externalIds` carries the platform ids a push needs (product id, SKU id, inventory item id …). */
export class Listing extends Schema.Class<Listing>("@tkbridge/core/Listing")({
  connection: ConnectionId,
  externalSku: ExternalSku,
  externalIds: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({})
  }),
  title: Schema.optional(Schema.String),
  components: Schema.NonEmptyArray(Component).pipe(
    Schema.filter((cs) => new Set(cs.map((c) => c.item)).size === cs.length || "must not name an item twice")
  )
}) {
  /** `single`, `multipack` (one item, factor > 1) or `bundle` (several items). */
  get kind(): "single" | "multipack" | "bundle" {
    if (this.components.length > 1) return "bundle"
    return this.components[0].qty > 1 ? "multipack" : "single"
  }

  /** The stable key of this listing: `connection/externalSku`. */
  get key(): string {
    return listingKey(this.connection, this.externalSku)
  }
}

/** The stable key of a listing: `connection/externalSku`. */
export const listingKey = (connection: string, externalSku: string): string => `${connection}/${externalSku}`
