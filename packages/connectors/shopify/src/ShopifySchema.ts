/**
 * ShopifySchema: the wire shapes the connector reads — the GraphQL response envelope with its cost
 * extension, the `data` of every document in `ShopifyDocuments`, the OAuth token response and the
 * REST-style webhook payloads. Everything from Shopify is decoded through these before use; a shape
 * that does not match is a `Transient` (unknown answer), never a guess.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------------------------
// Envelope

/** `extensions.cost.throttleStatus`: the leaky bucket after the call. */
export const ThrottleStatus = Schema.Struct({
  maximumAvailable: Schema.Number,
  currentlyAvailable: Schema.Number,
  restoreRate: Schema.Number
})
/** @since 0.1.0 */
export type ThrottleStatus = typeof ThrottleStatus.Type

/** `extensions.cost`. `actualQueryCost` is null when the query did not run (throttled). */
export const Cost = Schema.Struct({
  requestedQueryCost: Schema.Number,
  actualQueryCost: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  throttleStatus: ThrottleStatus
})
/** @since 0.1.0 */
export type Cost = typeof Cost.Type

/** A top-level GraphQL error. `extensions.code` is Shopify's machine-readable code (`THROTTLED`, `ACCESS_DENIED` …). */
export const GraphqlError = Schema.Struct({
  message: Schema.String,
  path: Schema.optional(Schema.Array(Schema.Union(Schema.String, Schema.Number))),
  extensions: Schema.optional(
    Schema.Struct(
      {
        code: Schema.optional(Schema.String),
        requiredAccess: Schema.optional(Schema.String)
      },
      Schema.Record({ key: Schema.String, value: Schema.Unknown })
    )
  )
})
/** @since 0.1.0 */
export type GraphqlError = typeof GraphqlError.Type

/** The response envelope of `POST /admin/api/<version>/graphql.json`. */
export const Envelope = Schema.Struct({
  data: Schema.optional(Schema.Unknown),
  errors: Schema.optional(Schema.Array(GraphqlError)),
  extensions: Schema.optional(
    Schema.Struct({ cost: Schema.optional(Cost) }, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  )
})
/** @since 0.1.0 */
export type Envelope = typeof Envelope.Type

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** `pageInfo { hasNextPage endCursor }`. */
export const PageInfo = Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullishOr(Schema.String) })

const connection = <A, I>(node: Schema.Schema<A, I>) => Schema.Struct({ nodes: Schema.Array(node), pageInfo: PageInfo })

const Id = Schema.Struct({ id: Schema.String })

/** `quantities(names: …) { name quantity }`. */
export const Quantity = Schema.Struct({ name: Schema.String, quantity: Schema.Number })

/** A user error of a mutation payload. `code` is absent on the generic `UserError` type. */
export const UserError = Schema.Struct({
  code: Schema.optional(Schema.NullOr(Schema.String)),
  field: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  message: Schema.String
})
/** @since 0.1.0 */
export type UserError = typeof UserError.Type

// ---------------------------------------------------------------------------------------------
// Catalog and stock

/** One node of `CatalogVariants`. */
export const Variant = Schema.Struct({
  id: Schema.String,
  sku: Schema.NullishOr(Schema.String),
  title: Schema.String,
  displayName: Schema.optional(Schema.String),
  inventoryQuantity: Schema.NullishOr(Schema.Number),
  product: Schema.Struct({ id: Schema.String, title: Schema.String }),
  inventoryItem: Schema.Struct({ id: Schema.String, tracked: Schema.Boolean })
})
/** @since 0.1.0 */
export type Variant = typeof Variant.Type

/** `data` of `CatalogVariants`. */
export const CatalogVariantsData = Schema.Struct({ productVariants: connection(Variant) })

/** One inventory level with its quantities. */
export const Level = Schema.Struct({ location: Id, quantities: Schema.Array(Quantity) })
/** @since 0.1.0 */
export type Level = typeof Level.Type

/** An inventory item with a page of its levels. */
export const ItemWithLevels = Schema.Struct({
  id: Schema.String,
  sku: Schema.NullishOr(Schema.String),
  tracked: Schema.optional(Schema.Boolean),
  inventoryLevels: connection(Level)
})
/** @since 0.1.0 */
export type ItemWithLevels = typeof ItemWithLevels.Type

/** `data` of `StockLevels`. */
export const StockLevelsData = Schema.Struct({ inventoryItems: connection(ItemWithLevels) })

/** `data` of `ItemLevels`. */
export const ItemLevelsData = Schema.Struct({ inventoryItem: Schema.NullOr(ItemWithLevels) })

/** `data` of `StockAvailable`. Nodes that are not inventory items (or unknown ids) come back null or empty. */
export const StockAvailableData = Schema.Struct({
  nodes: Schema.Array(
    Schema.NullOr(
      Schema.Struct({
        id: Schema.optional(Schema.String),
        sku: Schema.optional(Schema.NullOr(Schema.String)),
        inventoryLevel: Schema.optional(Schema.NullOr(Schema.Struct({ quantities: Schema.Array(Quantity) })))
      })
    )
  )
})

/** `data` of `StockSet`. */
export const StockSetData = Schema.Struct({
  inventorySetQuantities: Schema.NullOr(
    Schema.Struct({
      inventoryAdjustmentGroup: Schema.NullOr(
        Schema.Struct({
          id: Schema.String,
          changes: Schema.Array(
            Schema.Struct({
              name: Schema.String,
              delta: Schema.Number,
              quantityAfterChange: Schema.NullishOr(Schema.Number),
              item: Schema.NullishOr(Id),
              location: Schema.NullishOr(Id)
            })
          )
        })
      ),
      userErrors: Schema.Array(UserError)
    })
  )
})

/** `data` of `DefaultLocation`. */
export const DefaultLocationData = Schema.Struct({ locations: Schema.Struct({ nodes: Schema.Array(Id) }) })

/** One node of `Locations`. */
export const LocationNode = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  isActive: Schema.Boolean,
  fulfillsOnlineOrders: Schema.Boolean,
  shipsInventory: Schema.optional(Schema.Boolean),
  address: Schema.Struct({ countryCode: Schema.NullishOr(Schema.String) })
})
/** @since 0.1.0 */
export type LocationNode = typeof LocationNode.Type

/** `data` of `Locations`. */
export const LocationsData = Schema.Struct({ locations: connection(LocationNode) })

// ---------------------------------------------------------------------------------------------
// Orders

/** `LineFields`. */
export const LineNode = Schema.Struct({
  id: Schema.String,
  sku: Schema.NullishOr(Schema.String),
  name: Schema.optional(Schema.String),
  title: Schema.String,
  quantity: Schema.Number,
  currentQuantity: Schema.Number,
  requiresShipping: Schema.Boolean,
  variant: Schema.NullishOr(Id),
  originalUnitPriceSet: Schema.optional(
    Schema.Struct({ shopMoney: Schema.Struct({ amount: Schema.String, currencyCode: Schema.String }) })
  )
})
/** @since 0.1.0 */
export type LineNode = typeof LineNode.Type

/** `shippingAddress`. */
export const MailingAddress = Schema.Struct({
  name: Schema.NullishOr(Schema.String),
  firstName: Schema.NullishOr(Schema.String),
  lastName: Schema.NullishOr(Schema.String),
  phone: Schema.NullishOr(Schema.String),
  company: Schema.NullishOr(Schema.String),
  address1: Schema.NullishOr(Schema.String),
  address2: Schema.NullishOr(Schema.String),
  city: Schema.NullishOr(Schema.String),
  provinceCode: Schema.NullishOr(Schema.String),
  zip: Schema.NullishOr(Schema.String),
  countryCodeV2: Schema.NullishOr(Schema.String)
})
/** @since 0.1.0 */
export type MailingAddress = typeof MailingAddress.Type

/** `OrderFields`. */
export const OrderNode = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  processedAt: Schema.NullishOr(Schema.String),
  cancelledAt: Schema.NullishOr(Schema.String),
  cancelReason: Schema.NullishOr(Schema.String),
  closed: Schema.Boolean,
  closedAt: Schema.NullishOr(Schema.String),
  test: Schema.optional(Schema.Boolean),
  displayFinancialStatus: Schema.NullishOr(Schema.String),
  displayFulfillmentStatus: Schema.String,
  currencyCode: Schema.String,
  shippingAddress: Schema.optional(Schema.NullOr(MailingAddress)),
  lineItems: connection(LineNode)
})
/** @since 0.1.0 */
export type OrderNode = typeof OrderNode.Type

/** `data` of `OrdersPage`. */
export const OrdersPageData = Schema.Struct({ orders: connection(OrderNode) })

/** `data` of `OrderGet`. */
export const OrderGetData = Schema.Struct({ order: Schema.NullOr(OrderNode) })

/** `data` of `OrderLines`. */
export const OrderLinesData = Schema.Struct({
  order: Schema.NullOr(Schema.Struct({ id: Schema.String, lineItems: connection(LineNode) }))
})

// ---------------------------------------------------------------------------------------------
// Fulfillment

/** `trackingInfo { company number url }`. */
export const TrackingInfo = Schema.Struct({
  company: Schema.NullishOr(Schema.String),
  number: Schema.NullishOr(Schema.String),
  url: Schema.NullishOr(Schema.String)
})

/** A fulfillment order line item. */
export const FulfillmentOrderLine = Schema.Struct({
  id: Schema.String,
  remainingQuantity: Schema.Number,
  totalQuantity: Schema.Number,
  lineItem: Schema.Struct({ id: Schema.String, sku: Schema.NullishOr(Schema.String) })
})
/** @since 0.1.0 */
export type FulfillmentOrderLine = typeof FulfillmentOrderLine.Type

/** A fulfillment order with a page of its line items. */
export const FulfillmentOrderNode = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  supportedActions: Schema.Array(Schema.Struct({ action: Schema.String })),
  lineItems: connection(FulfillmentOrderLine)
})
/** @since 0.1.0 */
export type FulfillmentOrderNode = typeof FulfillmentOrderNode.Type

/** A fulfillment (for the replay check). */
export const FulfillmentNode = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  trackingInfo: Schema.Array(TrackingInfo)
})
/** @since 0.1.0 */
export type FulfillmentNode = typeof FulfillmentNode.Type

/** `data` of `FulfillmentState`. */
export const FulfillmentStateData = Schema.Struct({
  order: Schema.NullOr(
    Schema.Struct({
      id: Schema.String,
      cancelledAt: Schema.NullishOr(Schema.String),
      displayFulfillmentStatus: Schema.String,
      fulfillments: Schema.Array(FulfillmentNode),
      fulfillmentOrders: connection(FulfillmentOrderNode)
    })
  )
})

/** `data` of `FulfillmentOrdersPage`. */
export const FulfillmentOrdersPageData = Schema.Struct({
  order: Schema.NullOr(Schema.Struct({ id: Schema.String, fulfillmentOrders: connection(FulfillmentOrderNode) }))
})

/** `data` of `FulfillmentOrderLines`. */
export const FulfillmentOrderLinesData = Schema.Struct({
  fulfillmentOrder: Schema.NullOr(Schema.Struct({ id: Schema.String, lineItems: connection(FulfillmentOrderLine) }))
})

/** `data` of `FulfillmentCreate`. */
export const FulfillmentCreateData = Schema.Struct({
  fulfillmentCreate: Schema.NullOr(
    Schema.Struct({ fulfillment: Schema.NullOr(FulfillmentNode), userErrors: Schema.Array(UserError) })
  )
})

// ---------------------------------------------------------------------------------------------
// OAuth

/**
 * The token endpoint's answer. Expiring offline tokens carry `expires_in`, `refresh_token` and
 * `refresh_token_expires_in`; classic offline tokens only `access_token` and `scope`.
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  scope: Schema.optionalWith(Schema.String, { default: () => "" }),
  expires_in: Schema.optional(Schema.Number),
  refresh_token: Schema.optional(Schema.String),
  refresh_token_expires_in: Schema.optional(Schema.Number),
  associated_user_scope: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type TokenResponse = typeof TokenResponse.Type

/** The token endpoint's error body (OAuth style). */
export const TokenError = Schema.Struct({
  error: Schema.optional(Schema.String),
  error_description: Schema.optional(Schema.String),
  errors: Schema.optional(Schema.Unknown)
})

// ---------------------------------------------------------------------------------------------
// Webhooks (REST-style payloads: snake_case, numeric ids plus `admin_graphql_api_id`)

/** A field a webhook payload may leave out or send as null (payloads follow the app's webhook version). */
const Maybe = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.optional(Schema.NullOr(schema))

/** A numeric id as JSON carries it; only safe integers are accepted (a rounded id is a wrong id). */
export const NumericId = Schema.Union(
  Schema.String.pipe(Schema.pattern(/^\d+$/)),
  Schema.Number.pipe(
    Schema.filter((n) => (Number.isSafeInteger(n) && n >= 0) || "must be a whole id within 2^53"),
    Schema.transform(Schema.String, { strict: true, decode: (n) => String(n), encode: (s) => Number(s) })
  )
)

/** A webhook money amount (`"12.50"`). */
const Amount = Schema.Union(
  Schema.String,
  Schema.Number.pipe(
    Schema.transform(Schema.String, {
      strict: true,
      decode: (n) => String(n),
      encode: (s) => Number(s)
    })
  )
)

/** A line item in an order webhook. */
export const WebhookLineItem = Schema.Struct({
  id: Schema.optional(NumericId),
  admin_graphql_api_id: Schema.optional(Schema.String),
  sku: Maybe(Schema.String),
  title: Maybe(Schema.String),
  name: Maybe(Schema.String),
  quantity: Schema.Number,
  current_quantity: Maybe(Schema.Number),
  variant_id: Maybe(NumericId),
  requires_shipping: Maybe(Schema.Boolean),
  price: Maybe(Amount)
})
/** @since 0.1.0 */
export type WebhookLineItem = typeof WebhookLineItem.Type

/** An address in an order webhook. */
export const WebhookAddress = Schema.Struct({
  name: Maybe(Schema.String),
  first_name: Maybe(Schema.String),
  last_name: Maybe(Schema.String),
  phone: Maybe(Schema.String),
  company: Maybe(Schema.String),
  address1: Maybe(Schema.String),
  address2: Maybe(Schema.String),
  city: Maybe(Schema.String),
  province_code: Maybe(Schema.String),
  zip: Maybe(Schema.String),
  country_code: Maybe(Schema.String)
})
/** @since 0.1.0 */
export type WebhookAddress = typeof WebhookAddress.Type

/** The order payload of `orders/create`, `orders/updated` and `orders/cancelled`. */
export const WebhookOrder = Schema.Struct({
  id: Schema.optional(NumericId),
  admin_graphql_api_id: Schema.optional(Schema.String),
  name: Maybe(Schema.String),
  created_at: Schema.String,
  updated_at: Maybe(Schema.String),
  processed_at: Maybe(Schema.String),
  cancelled_at: Maybe(Schema.String),
  cancel_reason: Maybe(Schema.String),
  closed_at: Maybe(Schema.String),
  financial_status: Maybe(Schema.String),
  fulfillment_status: Maybe(Schema.String),
  currency: Maybe(Schema.String),
  test: Maybe(Schema.Boolean),
  shipping_address: Maybe(WebhookAddress),
  line_items: Schema.Array(WebhookLineItem)
})
/** @since 0.1.0 */
export type WebhookOrder = typeof WebhookOrder.Type

/** The payload of `refunds/create`. */
export const WebhookRefund = Schema.Struct({
  id: Schema.optional(NumericId),
  admin_graphql_api_id: Schema.optional(Schema.String),
  order_id: NumericId,
  created_at: Schema.String,
  processed_at: Maybe(Schema.String),
  note: Maybe(Schema.String),
  refund_line_items: Schema.optionalWith(
    Schema.Array(
      Schema.Struct({
        line_item_id: Schema.optional(NumericId),
        quantity: Schema.Number,
        restock_type: Maybe(Schema.String),
        line_item: Maybe(Schema.Struct({ sku: Maybe(Schema.String), variant_id: Maybe(NumericId) }))
      })
    ),
    { default: () => [] }
  )
})
/** @since 0.1.0 */
export type WebhookRefund = typeof WebhookRefund.Type

/** The payload of `inventory_levels/update`. */
export const WebhookInventoryLevel = Schema.Struct({
  inventory_item_id: NumericId,
  location_id: NumericId,
  available: Maybe(Schema.Number),
  updated_at: Maybe(Schema.String)
})
