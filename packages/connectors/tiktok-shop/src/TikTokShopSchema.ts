/**
 * TikTokShopSchema: the wire shapes of the TikTok Shop Open API (version 202309) and its webhooks,
 * as Effect Schemas. Everything from TikTok passes through these before it is used.
 *
 * Ids are 64-bit integers that TikTok sends as strings; `Id` also accepts a JSON number (already
 * made exact by `TikTokShopJson.parse`) and always yields a string. Money amounts are strings, times
 * Unix seconds. Fields TikTok may send as `null` are treated as absent; unknown fields are ignored,
 * so newer endpoint versions that add fields decode unchanged.
 *
 * @see https://partner.tiktokshop.com/docv2/page/650aa8094a0bb702c06df242 (Get Order List 202309)
 * @since 0.1.0
 */
import { Schema } from "effect"

const SafeIntegerToString = Schema.transform(
  Schema.Number.pipe(Schema.filter((n) => Number.isSafeInteger(n) || "must be an integer id")),
  Schema.String,
  { strict: true, decode: (n) => String(n), encode: (s) => Number(s) }
)

/** A platform id: a string, or a bare JSON integer normalised to its exact decimal string. */
export const Id = Schema.Union(Schema.String, SafeIntegerToString).annotations({ identifier: "TikTokShopId" })

/** Free text that TikTok sometimes sends as a number (money amounts, codes). Always a string. */
export const Text = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, {
    strict: true,
    decode: (n) => String(n),
    encode: (s) => Number(s)
  })
)

/** Unix seconds, as a JSON integer or a numeric string (webhook `expiration_time`). */
export const Seconds = Schema.Union(Schema.Int, Schema.NumberFromString.pipe(Schema.int()))

const o = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { nullable: true })

/** The response envelope: `code` 0 with `data` on success; `code` ≠ 0 with a message otherwise. */
export const Envelope = Schema.Struct({
  code: Schema.Int,
  message: o(Schema.String),
  request_id: o(Schema.String),
  data: o(Schema.Unknown)
})
/** @since 0.1.0 */
export type Envelope = typeof Envelope.Type

/** `data` of `/api/v2/token/get` and `/api/v2/token/refresh`. Expiries are absolute Unix seconds. */
export const TokenData = Schema.Struct({
  access_token: Schema.String,
  access_token_expire_in: Seconds,
  refresh_token: o(Schema.String),
  refresh_token_expire_in: o(Seconds),
  open_id: o(Schema.String),
  seller_name: o(Schema.String),
  seller_base_region: o(Schema.String),
  user_type: o(Schema.Int),
  granted_scopes: o(Schema.Array(Schema.String))
})
/** @since 0.1.0 */
export type TokenData = typeof TokenData.Type

/** One authorized shop (`GET /authorization/202309/shops`). */
export const AuthorizedShop = Schema.Struct({
  id: Id,
  name: o(Schema.String),
  region: o(Schema.String),
  seller_type: o(Schema.String),
  cipher: Schema.String,
  code: o(Schema.String)
})
/** @since 0.1.0 */
export type AuthorizedShop = typeof AuthorizedShop.Type

/** `data` of Get Authorized Shops. */
export const ShopsData = Schema.Struct({ shops: o(Schema.Array(AuthorizedShop)) })

/** An order line item. Each line item is one unit; quantity is expressed by repeating line items. */
export const LineItem = Schema.Struct({
  id: Id,
  sku_id: Id,
  product_id: o(Id),
  product_name: o(Schema.String),
  sku_name: o(Schema.String),
  seller_sku: o(Schema.String),
  sale_price: o(Text),
  original_price: o(Text),
  currency: o(Schema.String),
  display_status: o(Schema.String),
  package_id: o(Id),
  package_status: o(Schema.String),
  tracking_number: o(Schema.String),
  shipping_provider_id: o(Id),
  shipping_provider_name: o(Schema.String),
  cancel_user: o(Schema.String),
  cancel_reason: o(Schema.String)
})
/** @since 0.1.0 */
export type LineItem = typeof LineItem.Type

/** A recipient address. Absent while an order is UNPAID or ON_HOLD. */
export const RecipientAddress = Schema.Struct({
  full_address: o(Schema.String),
  phone_number: o(Schema.String),
  name: o(Schema.String),
  first_name: o(Schema.String),
  last_name: o(Schema.String),
  address_detail: o(Schema.String),
  address_line1: o(Schema.String),
  address_line2: o(Schema.String),
  address_line3: o(Schema.String),
  address_line4: o(Schema.String),
  district_info: o(
    Schema.Array(
      Schema.Struct({
        address_level_name: o(Schema.String),
        address_name: o(Schema.String),
        address_level: o(Schema.String)
      })
    )
  ),
  postal_code: o(Schema.String),
  region_code: o(Schema.String),
  post_town: o(Schema.String)
})
/** @since 0.1.0 */
export type RecipientAddress = typeof RecipientAddress.Type

/** An order as Get Order List and Get Order Detail return it (the fields tkbridge reads). */
export const Order = Schema.Struct({
  id: Id,
  status: Schema.String,
  create_time: Seconds,
  update_time: Seconds,
  paid_time: o(Seconds),
  buyer_email: o(Schema.String),
  cancellation_initiator: o(Schema.String),
  cancel_reason: o(Schema.String),
  shipping_provider: o(Schema.String),
  shipping_provider_id: o(Id),
  shipping_type: o(Schema.String),
  tracking_number: o(Schema.String),
  fulfillment_type: o(Schema.String),
  delivery_option_id: o(Id),
  warehouse_id: o(Id),
  user_id: o(Id),
  is_on_hold_order: o(Schema.Boolean),
  packages: o(Schema.Array(Schema.Struct({ id: Id }))),
  payment: o(Schema.Struct({ currency: o(Schema.String), total_amount: o(Text), sub_total: o(Text) })),
  recipient_address: o(RecipientAddress),
  line_items: o(Schema.Array(LineItem))
})
/** @since 0.1.0 */
export type Order = typeof Order.Type

/** `data` of Get Order List (`POST /order/202309/orders/search`). */
export const OrderSearchData = Schema.Struct({
  next_page_token: o(Schema.String),
  total_count: o(Schema.Int),
  orders: o(Schema.Array(Order))
})

/** `data` of Get Order Detail (`GET /order/202309/orders?ids=`). */
export const OrderDetailData = Schema.Struct({ orders: o(Schema.Array(Order)) })

/** Stock of a SKU in one warehouse, as Search Products reports it. */
export const SkuInventory = Schema.Struct({
  warehouse_id: o(Id),
  quantity: o(Schema.Int)
})

/** A SKU of a product. */
export const Sku = Schema.Struct({
  id: Id,
  seller_sku: o(Schema.String),
  price: o(Schema.Struct({ currency: o(Schema.String), sale_price: o(Text), tax_exclusive_price: o(Text) })),
  inventory: o(Schema.Array(SkuInventory)),
  status_info: o(Schema.Struct({ status: o(Schema.String) }))
})
/** @since 0.1.0 */
export type Sku = typeof Sku.Type

/** A product as Search Products returns it. */
export const Product = Schema.Struct({
  id: Id,
  title: o(Schema.String),
  status: o(Schema.String),
  create_time: o(Seconds),
  update_time: o(Seconds),
  skus: o(Schema.Array(Sku))
})
/** @since 0.1.0 */
export type Product = typeof Product.Type

/** `data` of Search Products (`POST /product/202309/products/search`). */
export const ProductSearchData = Schema.Struct({
  next_page_token: o(Schema.String),
  total_count: o(Schema.Int),
  products: o(Schema.Array(Product))
})

/** One per-SKU failure of Update Inventory (HTTP 200, `code` 0, listed in `data.errors`). */
export const InventoryUpdateError = Schema.Struct({
  code: Schema.Int,
  message: o(Schema.String),
  detail: o(
    Schema.Struct({
      sku_id: o(Id),
      extra_errors: o(
        Schema.Array(Schema.Struct({ warehouse_id: o(Id), code: o(Schema.Int), message: o(Schema.String) }))
      )
    })
  )
})
/** @since 0.1.0 */
export type InventoryUpdateError = typeof InventoryUpdateError.Type

/** `data` of Update Inventory (`POST /product/202309/products/{product_id}/inventory/update`). */
export const InventoryUpdateData = Schema.Struct({ errors: o(Schema.Array(InventoryUpdateError)) })

/** `data` of Inventory Search (`POST /product/202309/inventory/search`). */
export const InventorySearchData = Schema.Struct({
  inventory: o(
    Schema.Array(
      Schema.Struct({
        product_id: Id,
        skus: o(
          Schema.Array(
            Schema.Struct({
              id: Id,
              seller_sku: o(Schema.String),
              total_available_quantity: o(Schema.Int),
              total_committed_quantity: o(Schema.Int),
              warehouse_inventory: o(
                Schema.Array(
                  Schema.Struct({
                    warehouse_id: Id,
                    available_quantity: o(Schema.Int),
                    committed_quantity: o(Schema.Int)
                  })
                )
              )
            })
          )
        )
      })
    )
  )
})
/** @since 0.1.0 */
export type InventorySearchData = typeof InventorySearchData.Type

/** `data` of Get Shipping Providers. */
export const ShippingProvidersData = Schema.Struct({
  shipping_providers: o(Schema.Array(Schema.Struct({ id: Id, name: o(Schema.String) })))
})

/** `data` of Mark Package As Shipped (`POST /fulfillment/202309/orders/{order_id}/packages`). */
export const MarkShippedData = Schema.Struct({
  order_id: o(Id),
  package_id: o(Id),
  order_line_item_ids: o(Schema.Array(Id)),
  warning: o(Schema.Struct({ message: o(Schema.String) }))
})

/** A line of a return. */
export const ReturnLineItem = Schema.Struct({
  return_line_item_id: o(Id),
  order_line_item_id: o(Id),
  sku_id: o(Id),
  seller_sku: o(Schema.String),
  sku_name: o(Schema.String),
  product_name: o(Schema.String)
})

/** A return, refund or replacement request (Search Returns). */
export const Return = Schema.Struct({
  return_id: Id,
  order_id: Id,
  return_type: o(Schema.String),
  return_status: Schema.String,
  role: o(Schema.String),
  return_reason: o(Schema.String),
  return_reason_text: o(Schema.String),
  create_time: o(Seconds),
  update_time: o(Seconds),
  return_line_items: o(Schema.Array(ReturnLineItem))
})
/** @since 0.1.0 */
export type Return = typeof Return.Type

/** `data` of Search Returns (`POST /return_refund/202309/returns/search`). */
export const ReturnsSearchData = Schema.Struct({
  return_orders: o(Schema.Array(Return)),
  total_count: o(Schema.Int),
  next_page_token: o(Schema.String)
})

/** A line of a cancellation. */
export const CancelLineItem = Schema.Struct({
  cancel_line_item_id: o(Id),
  order_line_item_id: o(Id),
  sku_id: o(Id),
  seller_sku: o(Schema.String),
  sku_name: o(Schema.String),
  product_name: o(Schema.String)
})

/** A cancellation (Search Cancellations). */
export const Cancellation = Schema.Struct({
  cancel_id: Id,
  order_id: Id,
  cancel_type: o(Schema.String),
  cancel_status: Schema.String,
  role: o(Schema.String),
  cancel_reason: o(Schema.String),
  cancel_reason_text: o(Schema.String),
  create_time: o(Seconds),
  update_time: o(Seconds),
  cancel_line_items: o(Schema.Array(CancelLineItem))
})
/** @since 0.1.0 */
export type Cancellation = typeof Cancellation.Type

/** `data` of Search Cancellations (`POST /return_refund/202309/cancellations/search`). */
export const CancellationsSearchData = Schema.Struct({
  cancellations: o(Schema.Array(Cancellation)),
  total_count: o(Schema.Int),
  next_page_token: o(Schema.String)
})

/** A webhook notification's envelope. `tts_notification_id` is missing from some older payloads. */
export const WebhookEnvelope = Schema.Struct({
  type: Schema.Int,
  tts_notification_id: o(Id),
  shop_id: o(Id),
  timestamp: o(Seconds),
  data: o(Schema.Unknown)
})
/** @since 0.1.0 */
export type WebhookEnvelope = typeof WebhookEnvelope.Type

/** Webhook type 1 (ORDER_STATUS_CHANGE). */
export const OrderStatusChange = Schema.Struct({
  order_id: Id,
  order_status: o(Schema.String),
  is_on_hold_order: o(Schema.Boolean),
  update_time: o(Seconds)
})

/** Webhook type 3 (RECIPIENT_ADDRESS_UPDATE). */
export const RecipientAddressUpdate = Schema.Struct({ order_id: Id, update_time: o(Seconds) })

/** Webhook type 4 (PACKAGE_UPDATE). */
export const PackageUpdate = Schema.Struct({
  sc_type: o(Schema.String),
  role_type: o(Schema.String),
  package_list: o(Schema.Array(Schema.Struct({ package_id: Id, order_id_list: o(Schema.Array(Id)) }))),
  update_time: o(Seconds)
})

/** Webhook type 6 (SELLER_DEAUTHORIZATION). */
export const SellerDeauthorization = Schema.Struct({ message: o(Schema.String) })

/** Webhook type 7 (UPCOMING_AUTHORIZATION_EXPIRATION); `expiration_time` is a string of Unix seconds. */
export const UpcomingAuthorizationExpiration = Schema.Struct({
  message: o(Schema.String),
  expiration_time: o(Seconds)
})

/** Webhook type 11 (CANCELLATION_STATUS_CHANGE). */
export const CancellationStatusChange = Schema.Struct({
  order_id: Id,
  cancellations_role: o(Schema.String),
  cancel_status: o(Schema.String),
  cancel_id: Id,
  create_time: o(Seconds),
  update_time: o(Seconds)
})

/** Webhook type 12 (RETURN_STATUS_CHANGE). */
export const ReturnStatusChange = Schema.Struct({
  order_id: Id,
  return_role: o(Schema.String),
  return_type: o(Schema.String),
  return_status: o(Schema.String),
  return_id: Id,
  create_time: o(Seconds),
  update_time: o(Seconds)
})

/** Webhook type 27 (inventory status change). */
export const InventoryStatusChange = Schema.Struct({
  product_id: o(Id),
  sku_id: o(Id),
  current_inventory_status: o(Schema.String),
  trigger_reason: o(
    Schema.Struct({ alert_type: o(Schema.String), lead_days: o(Schema.Int), low_stock_threshold: o(Schema.Int) })
  ),
  inventory_distribution: o(
    Schema.Struct({
      total_quantity: o(Schema.Int),
      available_quantity: o(Schema.Int),
      creator_reserved_quantity: o(Schema.Int),
      campaign_reserved_quantity: o(Schema.Int),
      committed_quantity: o(Schema.Int)
    })
  ),
  update_time: o(Seconds)
})
