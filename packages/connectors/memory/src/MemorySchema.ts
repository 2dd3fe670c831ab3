/**
 * MemorySchema: the wire schemas of the Memory platform's API and webhooks. Every byte the
 * platform sends goes through one of these before the connector uses it; ids stay strings (the
 * platform's ids exceed JavaScript's safe integers).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const Id = Schema.String.pipe(Schema.minLength(1))
const Count = Schema.Int.pipe(Schema.nonNegative())
/** `next_cursor` is `null` (or absent) on the last page. */
const NextCursor = Schema.optional(Schema.NullOr(Schema.String))

/** The platform's error envelope: `{ "error": { "code", "message", … } }`. */
export const ApiError = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.optional(Schema.String),
    scope: Schema.optional(Schema.String),
    until: Schema.optional(Schema.String)
  })
})

/** The token endpoint's success answer (RFC 6749 §5.1). */
export const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.String,
  expires_in: Schema.optional(Count),
  refresh_token: Schema.optional(Schema.String),
  refresh_token_expires_in: Schema.optional(Count),
  scope: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type TokenResponse = typeof TokenResponse.Type

/** The token endpoint's error answer (RFC 6749 §5.2). */
export const TokenError = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

/** A location. */
export const Location = Schema.Struct({ id: Id, name: Schema.String, kind: Schema.optional(Schema.String) })

/** The locations list. */
export const LocationsResponse = Schema.Struct({ locations: Schema.Array(Location) })

/** A SKU in the catalogue. */
export const Sku = Schema.Struct({
  sku: Id,
  product_id: Id,
  variant_id: Id,
  title: Schema.String,
  inventory: Schema.Array(Schema.Struct({ location_id: Id, quantity: Count }))
})

/** A catalogue page. */
export const SkusResponse = Schema.Struct({ skus: Schema.Array(Sku), next_cursor: NextCursor })

/** One result of a stock write. */
export const StockResult = Schema.Union(
  Schema.Struct({
    sku: Id,
    location_id: Id,
    status: Schema.Literal("applied"),
    quantity: Count,
    replayed: Schema.optional(Schema.Boolean)
  }),
  Schema.Struct({ sku: Id, location_id: Id, status: Schema.Literal("stale"), actual_quantity: Count }),
  Schema.Struct({
    sku: Id,
    location_id: Id,
    status: Schema.Literal("error"),
    error: Schema.Struct({ code: Schema.String, message: Schema.String })
  })
)

/** The answer to a stock write. */
export const StockSetResponse = Schema.Struct({ results: Schema.Array(StockResult) })

/** A stock level. */
export const StockLevel = Schema.Struct({ sku: Id, location_id: Id, on_hand: Count, version: Count })

/** A stock levels page. */
export const InventoryResponse = Schema.Struct({ levels: Schema.Array(StockLevel), next_cursor: NextCursor })

/** Order statuses in the platform's words. */
export const OrderStatus = Schema.Literal(
  "pending_payment",
  "paid",
  "on_hold",
  "partially_shipped",
  "shipped",
  "delivered",
  "completed",
  "cancelled"
)

/** A delivery address. */
export const Address = Schema.Struct({
  name: Schema.String,
  phone: Schema.optional(Schema.NullOr(Schema.String)),
  line1: Schema.String,
  line2: Schema.optional(Schema.NullOr(Schema.String)),
  city: Schema.String,
  province: Schema.optional(Schema.NullOr(Schema.String)),
  postal_code: Schema.optional(Schema.NullOr(Schema.String)),
  country_code: Schema.String
})

/** A fulfilment on an order. */
export const Fulfillment = Schema.Struct({
  id: Id,
  order_id: Id,
  carrier: Schema.String,
  tracking_number: Schema.String,
  line_items: Schema.Array(Schema.Struct({ line_id: Id, quantity: Count })),
  created_at: Schema.String
})

/** An order. */
export const Order = Schema.Struct({
  id: Id,
  status: OrderStatus,
  currency: Schema.String,
  created_at: Schema.Date,
  updated_at: Schema.Date,
  line_items: Schema.Array(
    Schema.Struct({
      id: Id,
      sku: Id,
      quantity: Schema.Int.pipe(Schema.positive()),
      title: Schema.optional(Schema.String),
      unit_price: Schema.optional(Schema.Int)
    })
  ),
  shipping_address: Schema.optional(Schema.NullOr(Address)),
  fulfillments: Schema.Array(Fulfillment)
})
/** @since 0.1.0 */
export type Order = typeof Order.Type

/** An orders page. */
export const OrdersResponse = Schema.Struct({ orders: Schema.Array(Order), next_cursor: NextCursor })

/** One order. */
export const OrderResponse = Schema.Struct({ order: Order })

/** The answer to a fulfilment. */
export const FulfillmentResponse = Schema.Struct({
  fulfillment: Fulfillment,
  replayed: Schema.optional(Schema.Boolean)
})

/** After-sale kinds and statuses in the platform's words. */
export const AfterSaleKind = Schema.Literal("cancellation", "return", "refund")
/** @since 0.1.0 */
export const AfterSaleStatus = Schema.Literal("requested", "approved", "rejected", "completed", "withdrawn")

/** A cancellation, return or refund. */
export const AfterSale = Schema.Struct({
  id: Id,
  order_id: Id,
  kind: AfterSaleKind,
  status: AfterSaleStatus,
  reason: Schema.optional(Schema.String),
  line_items: Schema.Array(Schema.Struct({ sku: Id, quantity: Schema.Int.pipe(Schema.positive()) })),
  created_at: Schema.Date,
  updated_at: Schema.Date
})
/** @since 0.1.0 */
export type AfterSale = typeof AfterSale.Type

/** An after-sales page. */
export const AfterSalesResponse = Schema.Struct({ aftersales: Schema.Array(AfterSale), next_cursor: NextCursor })

/** One after-sale. */
export const AfterSaleResponse = Schema.Struct({ aftersale: AfterSale })

/** A parcel. `tracking_number` is `null` while the carrier has not assigned one. */
export const Parcel = Schema.Struct({
  id: Id,
  reference: Id,
  order_id: Id,
  service: Schema.String,
  carrier: Schema.String,
  tracking_number: Schema.NullOr(Schema.String),
  status: Schema.Literal("created", "labelled", "in_transit", "delivered", "cancelled"),
  created_at: Schema.String
})

/** One parcel. */
export const ParcelResponse = Schema.Struct({ parcel: Parcel })

/** A label. */
export const LabelResponse = Schema.Struct({
  label: Schema.Struct({ format: Schema.Literal("pdf", "png", "zpl"), content_base64: Schema.String })
})

/** The logistics services. */
export const ServicesResponse = Schema.Struct({
  services: Schema.Array(Schema.Struct({ code: Id, name: Schema.String }))
})

/** Carrier event codes. */
export const TrackingCode = Schema.Literal(
  "INFO",
  "PICKUP",
  "TRANSIT",
  "CUSTOMS",
  "OUT_FOR_DELIVERY",
  "DELIVERED",
  "EXCEPTION",
  "RETURNED"
)

/** Tracking events. */
export const TrackingResponse = Schema.Struct({
  events: Schema.Array(
    Schema.Struct({
      tracking_number: Schema.String,
      carrier: Schema.String,
      code: Schema.String,
      description: Schema.String,
      occurred_at: Schema.Date,
      location: Schema.optional(Schema.NullOr(Schema.String))
    })
  )
})

/** A webhook delivery's body. */
export const WebhookEnvelope = Schema.Struct({
  id: Id,
  topic: Schema.String,
  created_at: Schema.Date,
  data: Schema.Struct({
    order: Schema.optional(Order),
    aftersale: Schema.optional(AfterSale),
    reason: Schema.optional(Schema.String),
    sku: Schema.optional(Schema.String)
  })
})
/** @since 0.1.0 */
export type WebhookEnvelope = typeof WebhookEnvelope.Type
