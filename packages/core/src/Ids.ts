/**
 * Identifiers. Every id tkbridge stores is a string: platforms hand out 64-bit ids (TikTok Shop) that
 * lose precision as JavaScript numbers, so a number where an id belongs is rejected, never coerced.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const id = (identifier: string, description: string) =>
  Schema.String.pipe(
    Schema.filter((s) => s.trim().length > 0 || "must not be empty or blank"),
    Schema.maxLength(512)
  ).annotations({ identifier, description })

/** An id assigned by a platform (order id, product id, SKU id, package id …). Always a string. */
export const ExternalId = id("ExternalId", "an id assigned by a platform, kept as a string")

/** A connection: one seller account on one connector (e.g. `tiktok-uk`, `shopify-main`). */
export const ConnectionId = id("ConnectionId", "the name of a configured connection")

/** A master SKU: the unit the inventory pool counts. */
export const ItemId = id("ItemId", "a master SKU in the inventory pool")

/** A stock location (warehouse, store, 3PL). */
export const LocationId = id("LocationId", "a stock location")

/** A SKU as a channel knows it (seller SKU / variant SKU). */
export const ExternalSku = id("ExternalSku", "a SKU as the channel knows it")

/** A quantity of units: a whole number, never negative. */
export const Quantity = Schema.Int.pipe(Schema.nonNegative()).annotations({
  identifier: "Quantity",
  description: "a whole, non-negative number of units"
})

/** A quantity that must be at least one unit (order lines, bundle components, reservations). */
export const PositiveQuantity = Schema.Int.pipe(Schema.positive()).annotations({
  identifier: "PositiveQuantity",
  description: "a whole number of units, at least 1"
})
