/**
 * The TikTok Shop sandbox's Open API endpoints: the same paths, versions, envelopes and field
 * names as TikTok (reference §5), answering from the sandbox world. Ids, money and times go out as
 * TikTok sends them: ids and amounts as strings, times as Unix seconds. Page tokens are opaque
 * standard-base64 strings that contain `+` and `/`, so a client that does not percent-encode them
 * fails its signature, as it would against TikTok.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { SandboxServer } from "@tkbridge/connector-testkit"
import type { EndpointContext, EndpointSpec, Gateway } from "./TikTokShopSandboxGateway.ts"
import type {
  Cancellation,
  LineItem,
  Order,
  OrderStatus,
  Package,
  Product,
  ReturnRequest,
  Shop,
  Sku,
  Warehouse,
  World
} from "./TikTokShopSandboxState.ts"
import { returnStatuses, TikTokError } from "./TikTokShopSandboxState.ts"

/** API packages (scopes) as Partner Center names them. */
export const sandboxScopes = {
  orders: "Order Information",
  productRead: "Product Basic",
  productWrite: "Product Modify",
  logistics: "Logistics Basic",
  fulfillment: "Fulfillment Basic",
  aftersales: "Return & Refund Basic"
} as const

/** Every scope the sandbox knows. */
export const allScopes: ReadonlyArray<string> = Object.values(sandboxScopes)

/** `event_type` values Update Shop Webhook accepts, and the webhook `type` each stands for. */
export const subscribableEvents: Readonly<Record<string, number>> = {
  ORDER_STATUS_CHANGE: 1,
  REVERSE_STATUS_UPDATE: 2,
  RECIPIENT_ADDRESS_UPDATE: 3,
  PACKAGE_UPDATE: 4,
  PRODUCT_STATUS_CHANGE: 5,
  SELLER_DEAUTHORIZATION: 6,
  UPCOMING_AUTHORIZATION_EXPIRATION: 7,
  CANCELLATION_STATUS_CHANGE: 11,
  RETURN_STATUS_CHANGE: 12,
  NEW_CONVERSATION: 13,
  NEW_MESSAGE: 14,
  PRODUCT_INFORMATION_CHANGE: 15,
  PRODUCT_CREATION: 16,
  PRODUCT_CATEGORY_CHANGE: 18,
  NEW_MESSAGE_LISTENER: 33,
  INVOICE_STATUS_CHANGE: 36,
  PRODUCT_AUDIT_STATUS_CHANGE: 37
}

/** Per-shop webhook addresses set through the Event API (`event_type` → address). */
export type ShopSubscriptions = Map<string, Map<string, { address: string; createTime: number; updateTime: number }>>

/** What the endpoints need besides the world. */
export interface ApiDeps {
  readonly world: World
  readonly gateway: Gateway
  readonly subscriptions: ShopSubscriptions
  /** How the last page is signalled: `next_page_token: ""` or no `next_page_token` (undocumented). */
  readonly lastPage: "empty" | "absent"
  /** Reject webhook addresses TikTok would reject (https only, a domain, no port). Off for local receivers. */
  readonly enforceWebhookUrlRules: boolean
}

const v = (path: string) =>
  new RegExp(`^${path.replace(/\{([a-z_]{2,})\}/g, "(?<$1>[^/]+)").replace("{v}", "(?<version>\\d{6})")}$`)

/** The endpoints, as the gateway checks them. */
export const specs = {
  shops: { name: "shops", method: "GET", path: v("/authorization/{v}/shops"), versions: ["202309"], shop: "forbidden" },
  ordersSearch: {
    name: "orders.search",
    method: "POST",
    path: v("/order/{v}/orders/search"),
    versions: ["202309"],
    scope: sandboxScopes.orders,
    shop: "required"
  },
  ordersDetail: {
    name: "orders.detail",
    method: "GET",
    path: v("/order/{v}/orders"),
    versions: ["202309", "202507"],
    scope: sandboxScopes.orders,
    shop: "required"
  },
  productsSearch: {
    name: "products.search",
    method: "POST",
    path: v("/product/{v}/products/search"),
    versions: ["202309", "202502"],
    scope: sandboxScopes.productRead,
    shop: "required"
  },
  productsGet: {
    name: "products.get",
    method: "GET",
    path: v("/product/{v}/products/{product_id}"),
    versions: ["202309"],
    scope: sandboxScopes.productRead,
    shop: "required"
  },
  inventoryUpdate: {
    name: "inventory.update",
    method: "POST",
    path: v("/product/{v}/products/{product_id}/inventory/update"),
    versions: ["202309"],
    scope: sandboxScopes.productWrite,
    shop: "optional"
  },
  inventorySearch: {
    name: "inventory.search",
    method: "POST",
    path: v("/product/{v}/inventory/search"),
    versions: ["202309"],
    scope: sandboxScopes.productRead,
    shop: "required"
  },
  imagesUpload: {
    name: "images.upload",
    method: "POST",
    path: v("/product/{v}/images/upload"),
    versions: ["202309"],
    shop: "forbidden",
    multipart: true
  },
  warehouses: {
    name: "warehouses",
    method: "GET",
    path: v("/logistics/{v}/warehouses"),
    versions: ["202309"],
    scope: sandboxScopes.logistics,
    shop: "required"
  },
  shippingProviders: {
    name: "shipping_providers",
    method: "GET",
    path: v("/logistics/{v}/delivery_options/{delivery_option_id}/shipping_providers"),
    versions: ["202309"],
    scope: sandboxScopes.logistics,
    shop: "required"
  },
  markShipped: {
    name: "packages.mark_shipped",
    method: "POST",
    path: v("/fulfillment/{v}/orders/{order_id}/packages"),
    versions: ["202309"],
    scope: sandboxScopes.fulfillment,
    shop: "required"
  },
  packageGet: {
    name: "packages.get",
    method: "GET",
    path: v("/fulfillment/{v}/packages/{package_id}"),
    versions: ["202309"],
    scope: sandboxScopes.fulfillment,
    shop: "required"
  },
  returnsSearch: {
    name: "returns.search",
    method: "POST",
    path: v("/return_refund/{v}/returns/search"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  cancellationsSearch: {
    name: "cancellations.search",
    method: "POST",
    path: v("/return_refund/{v}/cancellations/search"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  cancellationsCreate: {
    name: "cancellations.create",
    method: "POST",
    path: v("/return_refund/{v}/cancellations"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  cancellationsApprove: {
    name: "cancellations.approve",
    method: "POST",
    path: v("/return_refund/{v}/cancellations/{cancel_id}/approve"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  cancellationsReject: {
    name: "cancellations.reject",
    method: "POST",
    path: v("/return_refund/{v}/cancellations/{cancel_id}/reject"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  returnsApprove: {
    name: "returns.approve",
    method: "POST",
    path: v("/return_refund/{v}/returns/{return_id}/approve"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  returnsReject: {
    name: "returns.reject",
    method: "POST",
    path: v("/return_refund/{v}/returns/{return_id}/reject"),
    versions: ["202309"],
    scope: sandboxScopes.aftersales,
    shop: "required"
  },
  webhooksGet: {
    name: "webhooks.get",
    method: "GET",
    path: v("/event/{v}/webhooks"),
    versions: ["202309"],
    shop: "required"
  },
  webhooksPut: {
    name: "webhooks.put",
    method: "PUT",
    path: v("/event/{v}/webhooks"),
    versions: ["202309"],
    shop: "required"
  },
  webhooksDelete: {
    name: "webhooks.delete",
    method: "DELETE",
    path: v("/event/{v}/webhooks"),
    versions: ["202309"],
    shop: "required"
  }
} satisfies Record<string, EndpointSpec>

// ---- request helpers -------------------------------------------------------------------------

const param = (message: string) => new TikTokError(36009004, message)

const record = (body: unknown): Record<string, unknown> =>
  typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}

const optInt = (body: Record<string, unknown>, key: string): number | undefined => {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== "number" || !Number.isInteger(value)) throw param(`Invalid '${key}': must be Unix seconds.`)
  return value
}

const optStrings = (body: Record<string, unknown>, key: string): ReadonlyArray<string> | undefined => {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw param(`Invalid '${key}': must be strings.`)
  return value as ReadonlyArray<string>
}

const pageSize = (query: URLSearchParams, min: number, max: number, code = 36009004): number => {
  const raw = query.get("page_size")
  if (raw === null || raw === "")
    throw new TikTokError(code, "page_size is a required field and has not been provided.")
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TikTokError(code, `Invalid page_size: must be between ${min} and ${max}.`)
  }
  return n
}

const compareIds = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0)

const tokenPrefix = Buffer.from([0xfb, 0xff, 0xbf])

/** Keyset pagination with TikTok-like opaque tokens bound to the filters of the first page. */
const paginate = <T>(
  deps: ApiDeps,
  items: ReadonlyArray<T>,
  key: (t: T) => readonly [number, string],
  order: "ASC" | "DESC",
  size: number,
  token: string | null,
  filters: unknown
): { readonly page: ReadonlyArray<T>; readonly next: string | undefined; readonly total: number } => {
  const hash = createHash("sha1").update(JSON.stringify(filters)).digest("hex").slice(0, 12)
  const sign = order === "ASC" ? 1 : -1
  const cmp = (a: readonly [number, string], b: readonly [number, string]) =>
    sign * (a[0] !== b[0] ? a[0] - b[0] : compareIds(a[1], b[1]))
  const sorted = [...items].sort((a, b) => cmp(key(a), key(b)))
  let start = 0
  if (token !== null && token !== "") {
    let after: { k: number; i: string; f: string } | undefined
    try {
      const raw = Buffer.from(token, "base64")
      if (raw.subarray(0, 3).equals(tokenPrefix)) after = JSON.parse(raw.subarray(3).toString("utf8"))
    } catch {
      after = undefined
    }
    if (after === undefined || after.f !== hash || typeof after.k !== "number" || typeof after.i !== "string") {
      throw param("Invalid page_token: it does not belong to this query.")
    }
    const mark = [after.k, after.i] as const
    start = sorted.findIndex((t) => cmp(key(t), mark) > 0)
    if (start < 0) start = sorted.length
  }
  const page = sorted.slice(start, start + size)
  const last = page[page.length - 1]
  const more = start + size < sorted.length && last !== undefined
  const next = more
    ? Buffer.concat([
        tokenPrefix,
        Buffer.from(JSON.stringify({ k: key(last)[0], i: key(last)[1], f: hash }), "utf8")
      ]).toString("base64")
    : deps.lastPage === "empty"
      ? ""
      : undefined
  return { page, next, total: sorted.length }
}

const sortOf = (
  query: URLSearchParams,
  fields: ReadonlyArray<string>,
  defaultField: string,
  defaultOrder: "ASC" | "DESC"
) => {
  const field = query.get("sort_field") ?? defaultField
  if (!fields.includes(field)) throw param(`Invalid sort_field: ${field}.`)
  const order = (query.get("sort_order") ?? defaultOrder).toUpperCase()
  if (order !== "ASC" && order !== "DESC") throw param(`Invalid sort_order: ${order}.`)
  return { field, order: order as "ASC" | "DESC" }
}

const inWindow = (t: number, ge: number | undefined, lt: number | undefined) =>
  (ge === undefined || t >= ge) && (lt === undefined || t < lt)

const shopOf = (context: EndpointContext): Shop => {
  if (context.shop === undefined)
    throw new TikTokError(106013, "Missing identifier. The 'shop_cipher' query parameter is required.")
  return context.shop
}

// ---- renderers -------------------------------------------------------------------------------

const cents = (amount: string) => Math.round(Number.parseFloat(amount) * 100)
const money = (c: number) => (c / 100).toFixed(2)

/** A line item as TikTok renders it. */
export const renderLineItem = (item: LineItem) => ({
  id: item.id,
  sku_id: item.skuId,
  product_id: item.productId,
  product_name: item.productName,
  sku_name: item.skuName,
  seller_sku: item.sellerSku,
  sku_image: `https://p16-oec-sandbox.tiktokcdn.com/${item.skuId}.jpeg`,
  sku_type: "NORMAL",
  sale_price: item.salePrice,
  original_price: item.salePrice,
  platform_discount: "0",
  seller_discount: "0",
  currency: item.currency,
  display_status: item.displayStatus,
  package_id: item.packageId,
  package_status: item.packageStatus,
  tracking_number: item.trackingNumber,
  shipping_provider_id: item.providerId,
  shipping_provider_name: item.providerName,
  cancel_user: item.cancelUser,
  cancel_reason: item.cancelReason,
  is_gift: false
})

const hidesAddress: ReadonlySet<OrderStatus> = new Set(["UNPAID", "ON_HOLD"])

/** An order as Get Order List / Get Order Detail render it. */
export const renderOrder = (world: World, order: Order) => {
  const option = world.deliveryOptions.get(order.deliveryOptionId)
  const firstPackage = order.packageIds.map((id) => world.packages.get(id)).find(Boolean)
  const subtotal = order.lineItems
    .filter((i) => i.displayStatus !== "CANCELLED")
    .reduce((n, i) => n + cents(i.salePrice), 0)
  const r = order.recipient
  const [first, ...rest] = r.name.split(" ")
  return {
    id: order.id,
    status: order.status,
    create_time: order.createTime,
    update_time: order.updateTime,
    paid_time: order.paidTime,
    rts_time: order.rtsTime,
    delivery_time: order.deliveryTime,
    cancel_time: order.cancelTime,
    user_id: order.buyer.userId,
    buyer_email: order.buyer.email,
    buyer_message: order.buyer.message,
    cancellation_initiator: order.cancellationInitiator,
    cancel_reason: order.cancelReason,
    shipping_provider: firstPackage?.providerName,
    shipping_provider_id: firstPackage?.providerId,
    tracking_number: firstPackage?.trackingNumber,
    shipping_type: option?.fulfilledByTikTok ? "TIKTOK" : "SELLER",
    fulfillment_type: option?.fulfilledByTikTok ? "FULFILLMENT_BY_TIKTOK" : "FULFILLMENT_BY_SELLER",
    delivery_type: "HOME_DELIVERY",
    delivery_option_id: order.deliveryOptionId,
    delivery_option_name: option?.name,
    warehouse_id: order.warehouseId,
    is_on_hold_order: order.status === "ON_HOLD",
    is_cod: false,
    is_sample_order: false,
    is_replacement_order: false,
    is_buyer_request_cancel: [...world.cancellations.values()].some(
      (c) => c.orderId === order.id && c.type === "BUYER_CANCEL" && c.status === "CANCELLATION_REQUEST_PENDING"
    ),
    order_type: "NORMAL",
    split_or_combine_tag: order.packageIds.length > 1 ? "SPLIT" : undefined,
    packages: order.packageIds.map((id) => ({ id })),
    payment: {
      currency: order.currency,
      sub_total: money(subtotal),
      shipping_fee: "0.00",
      seller_discount: "0.00",
      platform_discount: "0.00",
      total_amount: money(subtotal),
      original_total_product_price: money(subtotal),
      original_shipping_fee: "0.00",
      tax: "0.00"
    },
    recipient_address: hidesAddress.has(order.status)
      ? undefined
      : {
          name: r.name,
          first_name: first,
          last_name: rest.join(" "),
          phone_number: r.phone,
          address_detail: [r.addressLine1, r.addressLine2].filter(Boolean).join(", "),
          address_line1: r.addressLine1,
          address_line2: r.addressLine2 ?? "",
          full_address: [r.addressLine1, r.addressLine2, r.city, r.state, r.postalCode, r.regionCode]
            .filter(Boolean)
            .join(", "),
          postal_code: r.postalCode,
          region_code: r.regionCode,
          district_info: [
            { address_level_name: "Country", address_name: r.regionCode, address_level: "L0" },
            ...(r.state ? [{ address_level_name: "State", address_name: r.state, address_level: "L1" }] : []),
            { address_level_name: "City", address_name: r.city, address_level: "L2" }
          ]
        },
    line_items: order.lineItems.map(renderLineItem)
  }
}

/** A SKU as Search Products renders it. */
export const renderSku = (sku: Sku) => ({
  id: sku.id,
  seller_sku: sku.sellerSku,
  price: { currency: sku.currency, sale_price: sku.price, tax_exclusive_price: sku.price },
  inventory: [...sku.inventory].map(([warehouse_id, cell]) => ({ warehouse_id, quantity: cell.available })),
  status_info: { status: "NORMAL" },
  sales_attributes: [{ name: "Variant", value_name: sku.name }]
})

/** A product as Search Products renders it. */
export const renderProduct = (world: World, product: Product) => ({
  id: product.id,
  title: product.title,
  status: product.status,
  create_time: product.createTime,
  update_time: product.updateTime,
  sales_regions: [world.shops.get(product.shopId)?.region ?? "GB"],
  audit: { status: "APPROVED" },
  has_draft: false,
  listing_quality_tier: "GOOD",
  skus: product.skuIds.map((id) => renderSku(world.sku(id)))
})

/** A warehouse as Get Warehouse List renders it. */
export const renderWarehouse = (world: World, w: Warehouse) => ({
  id: w.id,
  entity_id: w.id,
  name: w.name,
  is_default: w.isDefault,
  effect_status: w.effectStatus,
  type: w.type,
  sub_type: w.subType,
  address: {
    region: world.shops.get(w.shopId)?.region ?? "GB",
    region_code: world.shops.get(w.shopId)?.region ?? "GB",
    city: "London",
    contact_person: "Warehouse desk",
    postal_code: "E1 6AN",
    full_address: "Unit 1, Sandbox Park, London",
    phone_number: "(+44)2079460000"
  }
})

/** A package as Get Package Detail renders it. */
export const renderPackage = (world: World, pkg: Package) => {
  const order = world.orders.get(pkg.orderId)
  const option = order ? world.deliveryOptions.get(order.deliveryOptionId) : undefined
  return {
    package_id: pkg.id,
    orders: [{ id: pkg.orderId, skus: [] }],
    package_status: pkg.status,
    split_and_combine_tag: "DEFAULT",
    shipping_provider_id: pkg.providerId,
    shipping_provider_name: pkg.providerName,
    shipping_type: "SELLER",
    delivery_option_id: order?.deliveryOptionId,
    delivery_option_name: option?.name,
    tracking_number: pkg.trackingNumber,
    handover_method: "DROP_OFF",
    order_line_item_ids: pkg.lineItemIds,
    create_time: pkg.createTime,
    update_time: pkg.updateTime
  }
}

const lineRefund = (world: World, orderId: string, lineItemId: string) => {
  const item = world.orders.get(orderId)?.lineItems.find((i) => i.id === lineItemId)
  return item
}

/** A cancellation as Search Cancellations renders it. */
export const renderCancellation = (world: World, c: Cancellation) => {
  const order = world.orders.get(c.orderId)
  const total = c.lineItemIds.reduce((n, id) => n + cents(lineRefund(world, c.orderId, id)?.salePrice ?? "0"), 0)
  return {
    cancel_id: c.id,
    order_id: c.orderId,
    cancel_type: c.type,
    cancel_status: c.status,
    role: c.role,
    cancel_reason: c.reason,
    cancel_reason_text: c.reasonText,
    create_time: c.createTime,
    update_time: c.updateTime,
    seller_next_action_response:
      c.status === "CANCELLATION_REQUEST_PENDING"
        ? [{ action: "SELLER_RESPOND_CANCEL", deadline: c.createTime + 48 * 3600 }]
        : [],
    refund_amount: { currency: order?.currency ?? "GBP", refund_total: money(total), refund_subtotal: money(total) },
    cancel_line_items: c.lineItemIds.map((id) => {
      const item = lineRefund(world, c.orderId, id)
      return {
        cancel_line_item_id: `${c.id}${id.slice(-4)}`,
        order_line_item_id: id,
        sku_id: item?.skuId,
        sku_name: item?.skuName,
        seller_sku: item?.sellerSku,
        product_name: item?.productName,
        refund_amount: { currency: item?.currency ?? "GBP", refund_total: item?.salePrice ?? "0" }
      }
    })
  }
}

/** A return as Search Returns renders it. */
export const renderReturn = (world: World, r: ReturnRequest) => {
  const order = world.orders.get(r.orderId)
  const total = r.lineItemIds.reduce((n, id) => n + cents(lineRefund(world, r.orderId, id)?.salePrice ?? "0"), 0)
  return {
    return_id: r.id,
    order_id: r.orderId,
    return_type: r.type,
    return_status: r.status,
    role: r.role,
    return_reason: r.reason,
    return_reason_text: r.reasonText,
    shipment_type: "PLATFORM",
    return_tracking_number: r.returnTrackingNumber,
    can_buyer_keep_item: r.type === "REFUND",
    create_time: r.createTime,
    update_time: r.updateTime,
    refund_amount: { currency: order?.currency ?? "GBP", refund_total: money(total), refund_subtotal: money(total) },
    return_line_items: r.lineItemIds.map((id) => {
      const item = lineRefund(world, r.orderId, id)
      return {
        return_line_item_id: `${r.id}${id.slice(-4)}`,
        order_line_item_id: id,
        sku_id: item?.skuId,
        sku_name: item?.skuName,
        seller_sku: item?.sellerSku,
        product_name: item?.productName,
        refund_amount: { currency: item?.currency ?? "GBP", refund_total: item?.salePrice ?? "0" }
      }
    })
  }
}

// ---- endpoints -------------------------------------------------------------------------------

const ownedOrder = (world: World, shop: Shop, orderId: string): Order => {
  const order = world.orders.get(orderId)
  if (order === undefined || order.shopId !== shop.id) {
    throw new TikTokError(21008111, "The order or package does not belong to the current seller.")
  }
  return order
}

const ownedProduct = (world: World, shop: Shop, productId: string): Product => {
  const product = world.products.get(productId)
  if (product === undefined || product.shopId !== shop.id)
    throw new TikTokError(12052031, "The product does not exist.")
  return product
}

const idempotent = (decisions: Map<string, string>, key: string | null, run: () => string): string => {
  if (key !== null && key.length > 255) throw param("Invalid idempotency_key: at most 255 characters.")
  if (key !== null && decisions.has(key)) return decisions.get(key)!
  const result = run()
  if (key !== null) decisions.set(key, result)
  return result
}

/** The Open API routes (ending with the unknown-path fallback). */
export const routes = (deps: ApiDeps): ReadonlyArray<SandboxServer.Route> => {
  const { world, gateway } = deps
  const r = (spec: EndpointSpec, handler: (context: EndpointContext) => unknown) => gateway.route(spec, handler)

  const list: Array<SandboxServer.Route> = [
    r(specs.shops, ({ grant }) => ({
      shops: [...grant.shopIds].map((id) => {
        const shop = world.shop(id)
        return {
          id: shop.id,
          name: shop.name,
          region: shop.region,
          seller_type: shop.sellerType,
          cipher: shop.cipher,
          code: shop.code
        }
      })
    })),

    r(specs.ordersSearch, (context) => {
      const shop = shopOf(context)
      const size = pageSize(context.query, 1, 100)
      const sort = sortOf(context.query, ["create_time", "update_time"], "create_time", "DESC")
      const body = record(context.body)
      const status = body.order_status
      if (status !== undefined && typeof status !== "string") throw param("Invalid 'order_status'.")
      const filters = {
        createGe: optInt(body, "create_time_ge"),
        createLt: optInt(body, "create_time_lt"),
        updateGe: optInt(body, "update_time_ge"),
        updateLt: optInt(body, "update_time_lt"),
        status,
        buyer: typeof body.buyer_user_id === "string" ? body.buyer_user_id : undefined,
        warehouses: optStrings(body, "warehouse_ids")
      }
      const matching = [...world.orders.values()].filter(
        (o) =>
          o.shopId === shop.id &&
          inWindow(o.createTime, filters.createGe, filters.createLt) &&
          inWindow(o.updateTime, filters.updateGe, filters.updateLt) &&
          (filters.status === undefined || o.status === filters.status) &&
          (filters.buyer === undefined || o.buyer.userId === filters.buyer) &&
          (filters.warehouses === undefined || filters.warehouses.includes(o.warehouseId))
      )
      const key = (o: Order) => [sort.field === "update_time" ? o.updateTime : o.createTime, o.id] as const
      const { page, next, total } = paginate(deps, matching, key, sort.order, size, context.query.get("page_token"), {
        sort,
        filters
      })
      return { orders: page.map((o) => renderOrder(world, o)), total_count: total, next_page_token: next }
    }),

    r(specs.ordersDetail, (context) => {
      const shop = shopOf(context)
      const ids = (context.query.get("ids") ?? "").split(",").filter((id) => id !== "")
      if (ids.length === 0) throw param("ids is a required field and has not been provided.")
      if (ids.length > 50) throw param("Invalid ids: at most 50 order ids.")
      const orders: Array<Order> = []
      for (const id of ids) {
        const order = world.orders.get(id)
        if (order === undefined) continue
        if (order.shopId !== shop.id)
          throw new TikTokError(21008111, "The order or package does not belong to the current seller.")
        orders.push(order)
      }
      return { orders: orders.map((o) => renderOrder(world, o)) }
    }),

    r(specs.productsSearch, (context) => {
      const shop = shopOf(context)
      const size = pageSize(context.query, 1, 100, 12019109)
      const body = record(context.body)
      const status = body.status ?? "ALL"
      if (typeof status !== "string") throw param("Invalid 'status'.")
      const sellerSkus = optStrings(body, "seller_skus")
      if (sellerSkus && sellerSkus.length > 10)
        throw new TikTokError(12019027, "seller_skus supports at most 10 values.")
      const skuIds = optStrings(body, "sku_ids")
      if (skuIds && skuIds.length > 10) throw new TikTokError(12019087, "sku_ids supports at most 10 values.")
      const filters = {
        status,
        sellerSkus,
        skuIds,
        createGe: optInt(body, "create_time_ge"),
        createLe: optInt(body, "create_time_le"),
        updateGe: optInt(body, "update_time_ge"),
        updateLe: optInt(body, "update_time_le")
      }
      const within = (t: number, ge: number | undefined, le: number | undefined) =>
        (ge === undefined || t >= ge) && (le === undefined || t <= le)
      const matching = [...world.products.values()].filter(
        (p) =>
          p.shopId === shop.id &&
          (status === "ALL" || p.status === status) &&
          within(p.createTime, filters.createGe, filters.createLe) &&
          within(p.updateTime, filters.updateGe, filters.updateLe) &&
          (sellerSkus === undefined || p.skuIds.some((id) => sellerSkus.includes(world.sku(id).sellerSku))) &&
          (skuIds === undefined || p.skuIds.some((id) => skuIds.includes(id)))
      )
      const { page, next, total } = paginate(
        deps,
        matching,
        (p) => [p.createTime, p.id] as const,
        "ASC",
        size,
        context.query.get("page_token"),
        filters
      )
      if (total > 10_000) throw new TikTokError(12052180, "The result set exceeds 10000 products; narrow the query.")
      return { products: page.map((p) => renderProduct(world, p)), total_count: total, next_page_token: next }
    }),

    r(specs.productsGet, (context) =>
      renderProduct(world, ownedProduct(world, shopOf(context), context.params.product_id ?? ""))
    ),

    r(specs.inventoryUpdate, (context) => {
      const shop = shopOf(context)
      const product = ownedProduct(world, shop, context.params.product_id ?? "")
      if (product.status !== "ACTIVATE") {
        throw new TikTokError(12052901, `The product status ${product.status} does not allow this operation.`)
      }
      const body = record(context.body)
      const skus = body.skus
      if (!Array.isArray(skus) || skus.length === 0) throw param("Skus is a required field and has not been provided.")
      const seen = new Set<string>()
      for (const s of skus) {
        const id = record(s).id
        if (typeof id !== "string" || id === "") throw param("skus.id is a required field and has not been provided.")
        if (seen.has(id)) throw new TikTokError(12052553, `Duplicate sku id ${id}.`)
        seen.add(id)
      }
      const errors: Array<unknown> = []
      const writes: Array<{ skuId: string; warehouseId: string; quantity: number }> = []
      for (const raw of skus) {
        const s = record(raw)
        const skuId = s.id as string
        const sku = world.skus.get(skuId)
        if (sku === undefined || sku.productId !== product.id) {
          errors.push({ code: 12052556, message: "The SKU id does not exist.", detail: { sku_id: skuId } })
          continue
        }
        const inventory = s.inventory
        if (!Array.isArray(inventory) || inventory.length === 0) {
          throw param("skus.inventory is a required field and has not been provided.")
        }
        const extra: Array<{ warehouse_id: string; code: number; message: string }> = []
        const planned: Array<{ warehouseId: string; quantity: number }> = []
        const own = [...sku.inventory.keys()]
        for (const rawCell of inventory) {
          const cell = record(rawCell)
          const quantity = cell.quantity
          let warehouseId = cell.warehouse_id
          if (warehouseId === undefined || warehouseId === null || warehouseId === "") {
            if (own.length !== 1) {
              extra.push({
                warehouse_id: "",
                code: 12052097,
                message: "warehouse_id is required: the SKU is stocked in several warehouses."
              })
              continue
            }
            warehouseId = own[0]
          }
          if (typeof warehouseId !== "string") throw param("Invalid warehouse_id.")
          const warehouse = world.warehouses.get(warehouseId)
          if (warehouse === undefined) {
            extra.push({ warehouse_id: warehouseId, code: 12052097, message: "The warehouse does not exist." })
            continue
          }
          if (warehouse.shopId !== shop.id) {
            extra.push({
              warehouse_id: warehouseId,
              code: 12052530,
              message: "The warehouse does not belong to the shop."
            })
            continue
          }
          if (!own.includes(warehouseId)) {
            extra.push({
              warehouse_id: warehouseId,
              code: 12052533,
              message: "The SKU is not stocked in this warehouse; warehouses cannot be added here."
            })
            continue
          }
          if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0 || quantity > 99_999) {
            extra.push({ warehouse_id: warehouseId, code: 12052055, message: "The quantity is invalid: 0 to 99999." })
            continue
          }
          planned.push({ warehouseId, quantity })
        }
        const named = new Set(planned.map((p) => p.warehouseId).concat(extra.map((e) => e.warehouse_id)))
        const dropped = own.filter((w) => !named.has(w))
        if (extra.length === 0 && dropped.length > 0) {
          errors.push({
            code: 12019028,
            message: `Every warehouse of the SKU must be listed; missing ${dropped.join(", ")}.`,
            detail: { sku_id: skuId }
          })
          continue
        }
        if (extra.length > 0) {
          errors.push({ code: 12052990, message: "Check failed", detail: { sku_id: skuId, extra_errors: extra } })
          continue
        }
        for (const p of planned) writes.push({ skuId, ...p })
      }
      for (const w of writes) world.setStock(w.skuId, w.warehouseId, w.quantity, true)
      return { errors }
    }),

    r(specs.inventorySearch, (context) => {
      const shop = shopOf(context)
      const body = record(context.body)
      const productIds = optStrings(body, "product_ids")
      const skuIds = optStrings(body, "sku_ids")
      if (productIds === undefined && skuIds === undefined) throw param("product_ids or sku_ids is required.")
      if (productIds && productIds.length > 100) throw param("product_ids supports at most 100 values.")
      if (skuIds && skuIds.length > 600) throw param("sku_ids supports at most 600 values.")
      const selected = skuIds
        ? skuIds.map((id) => world.skus.get(id)).filter((s): s is Sku => s !== undefined)
        : (productIds ?? []).flatMap((id) => world.products.get(id)?.skuIds.map((s) => world.sku(s)) ?? [])
      const byProduct = new Map<string, Array<Sku>>()
      for (const sku of selected) {
        if (world.products.get(sku.productId)?.shopId !== shop.id) continue
        byProduct.set(sku.productId, [...(byProduct.get(sku.productId) ?? []), sku])
      }
      return {
        inventory: [...byProduct].map(([product_id, skus]) => ({
          product_id,
          skus: skus.map((sku) => {
            const cells = [...sku.inventory]
            return {
              id: sku.id,
              seller_sku: sku.sellerSku,
              total_available_quantity: cells.reduce((n, [, c]) => n + c.available, 0),
              total_committed_quantity: cells.reduce((n, [, c]) => n + c.committed, 0),
              warehouse_inventory: cells.map(([warehouse_id, c]) => ({
                warehouse_id,
                available_quantity: c.available,
                committed_quantity: c.committed
              })),
              total_available_inventory_distribution: {
                in_shop_inventory: { quantity: cells.reduce((n, [, c]) => n + c.available, 0) },
                campaign_inventory: [],
                creator_inventory: []
              }
            }
          })
        }))
      }
    }),

    r(specs.imagesUpload, (context) => {
      if (context.request.body.length === 0) throw param("data is a required field and has not been provided.")
      const uri = `tos-maliva-i-o3syd03w52-us/${createHash("sha1").update(context.request.body).digest("hex")}`
      return {
        uri,
        url: `https://p16-oec-sandbox.tiktokcdn.com/${uri}~tplv-o3syd03w52-origin-jpeg.jpeg`,
        width: 0,
        height: 0,
        use_case: "MAIN_IMAGE"
      }
    }),

    r(specs.warehouses, (context) => ({
      warehouses: world.warehousesOf(shopOf(context).id).map((w) => renderWarehouse(world, w))
    })),

    r(specs.shippingProviders, (context) => {
      const shop = shopOf(context)
      const option = world.deliveryOptions.get(context.params.delivery_option_id ?? "")
      if (option === undefined || option.shopId !== shop.id) {
        throw new TikTokError(21008116, "The shop has no subscription for this delivery option.")
      }
      if (option.fulfilledByTikTok)
        throw new TikTokError(21008117, "The delivery option is fulfilled by TikTok and has no shipping providers.")
      return { shipping_providers: option.providers.map((p) => ({ id: p.id, name: p.name })) }
    }),

    r(specs.markShipped, (context) => {
      const shop = shopOf(context)
      const order = ownedOrder(world, shop, context.params.order_id ?? "")
      const body = record(context.body)
      const tracking = body.tracking_number
      const provider = body.shipping_provider_id
      if (typeof tracking !== "string" || tracking === "") {
        throw param("tracking_number is a required field and has not been provided.")
      }
      if (typeof provider !== "string" || provider === "") {
        throw param("shipping_provider_id is a required field and has not been provided.")
      }
      const lineItemIds = optStrings(body, "order_line_item_ids")
      const pkg = world.markShipped({ orderId: order.id, trackingNumber: tracking, providerId: provider, lineItemIds })
      return { order_id: order.id, order_line_item_ids: pkg.lineItemIds, package_id: pkg.id }
    }),

    r(specs.packageGet, (context) => {
      const shop = shopOf(context)
      const pkg = world.packages.get(context.params.package_id ?? "")
      if (pkg === undefined || pkg.shopId !== shop.id) throw new TikTokError(10006402, "permission denied")
      return renderPackage(world, pkg)
    }),

    r(specs.returnsSearch, (context) => {
      const shop = shopOf(context)
      const size = pageSize(context.query, 10, 50)
      const sort = sortOf(context.query, ["create_time", "update_time"], "create_time", "ASC")
      const body = record(context.body)
      const filters = {
        returnIds: optStrings(body, "return_ids"),
        orderIds: optStrings(body, "order_ids"),
        types: optStrings(body, "return_types"),
        statuses: optStrings(body, "return_status"),
        createGe: optInt(body, "create_time_ge"),
        createLt: optInt(body, "create_time_lt"),
        updateGe: optInt(body, "update_time_ge"),
        updateLt: optInt(body, "update_time_lt")
      }
      const matching = [...world.returns.values()].filter(
        (x) =>
          x.shopId === shop.id &&
          (filters.returnIds === undefined || filters.returnIds.includes(x.id)) &&
          (filters.orderIds === undefined || filters.orderIds.includes(x.orderId)) &&
          (filters.types === undefined || filters.types.includes(x.type)) &&
          (filters.statuses === undefined || filters.statuses.includes(x.status)) &&
          inWindow(x.createTime, filters.createGe, filters.createLt) &&
          inWindow(x.updateTime, filters.updateGe, filters.updateLt)
      )
      const key = (x: ReturnRequest) => [sort.field === "update_time" ? x.updateTime : x.createTime, x.id] as const
      const { page, next, total } = paginate(deps, matching, key, sort.order, size, context.query.get("page_token"), {
        sort,
        filters
      })
      return { return_orders: page.map((x) => renderReturn(world, x)), total_count: total, next_page_token: next }
    }),

    r(specs.cancellationsSearch, (context) => {
      const shop = shopOf(context)
      const size = pageSize(context.query, 1, 50)
      const sort = sortOf(context.query, ["create_time", "update_time"], "create_time", "ASC")
      const body = record(context.body)
      const statuses = optStrings(body, "cancel_status")?.map((s) =>
        // The search filter spells the withdrawn status `…_CANCEL`; responses say `…_CANCELLED`.
        s === "CANCELLATION_REQUEST_CANCEL" ? "CANCELLATION_REQUEST_CANCELLED" : s
      )
      const filters = {
        cancelIds: optStrings(body, "cancel_ids"),
        orderIds: optStrings(body, "order_ids"),
        types: optStrings(body, "cancel_types"),
        statuses,
        createGe: optInt(body, "create_time_ge"),
        createLt: optInt(body, "create_time_lt"),
        updateGe: optInt(body, "update_time_ge"),
        updateLt: optInt(body, "update_time_lt")
      }
      const matching = [...world.cancellations.values()].filter(
        (x) =>
          x.shopId === shop.id &&
          (filters.cancelIds === undefined || filters.cancelIds.includes(x.id)) &&
          (filters.orderIds === undefined || filters.orderIds.includes(x.orderId)) &&
          (filters.types === undefined || filters.types.includes(x.type)) &&
          (filters.statuses === undefined || filters.statuses.includes(x.status)) &&
          inWindow(x.createTime, filters.createGe, filters.createLt) &&
          inWindow(x.updateTime, filters.updateGe, filters.updateLt)
      )
      const key = (x: Cancellation) => [sort.field === "update_time" ? x.updateTime : x.createTime, x.id] as const
      const { page, next, total } = paginate(deps, matching, key, sort.order, size, context.query.get("page_token"), {
        sort,
        filters
      })
      return { cancellations: page.map((x) => renderCancellation(world, x)), total_count: total, next_page_token: next }
    }),

    r(specs.cancellationsCreate, (context) => {
      const shop = shopOf(context)
      const body = record(context.body)
      const orderId = body.order_id
      const reason = body.cancel_reason
      if (typeof orderId !== "string" || orderId === "")
        throw param("order_id is a required field and has not been provided.")
      if (typeof reason !== "string" || reason === "")
        throw param("cancel_reason is a required field and has not been provided.")
      const order = ownedOrder(world, shop, orderId)
      if (reason.startsWith("ecom_order_"))
        throw new TikTokError(25001015, "The cancel reason cannot be used by the seller.")
      if (!reason.startsWith("seller_cancel")) throw new TikTokError(25001014, `Unknown cancel reason ${reason}.`)
      const unpaidReason = reason.startsWith("seller_cancel_unpaid_reason")
      if (unpaidReason !== (order.status === "UNPAID")) {
        throw new TikTokError(25001021, "The cancel reason does not match the order status.")
      }
      const lineItemIds = optStrings(body, "order_line_item_ids")
      const c = world.cancel({ orderId: order.id, role: "SELLER", reason, reasonText: reason, lineItemIds })
      return { cancel_id: c.id, cancel_status: c.status }
    }),

    r(specs.cancellationsApprove, (context) => {
      const shop = shopOf(context)
      const c = world.cancellations.get(context.params.cancel_id ?? "")
      if (c === undefined || c.shopId !== shop.id) throw new TikTokError(25001001, "invalid param")
      idempotent(c.decisions, context.query.get("idempotency_key"), () => world.decideCancellation(c.id, true).status)
      return {}
    }),

    r(specs.cancellationsReject, (context) => {
      const shop = shopOf(context)
      const c = world.cancellations.get(context.params.cancel_id ?? "")
      if (c === undefined || c.shopId !== shop.id) throw new TikTokError(25001001, "invalid param")
      const body = record(context.body)
      if (typeof body.reject_reason !== "string" || body.reject_reason === "") {
        throw param("reject_reason is a required field and has not been provided.")
      }
      idempotent(c.decisions, context.query.get("idempotency_key"), () => world.decideCancellation(c.id, false).status)
      return {}
    }),

    r(specs.returnsApprove, (context) => {
      const shop = shopOf(context)
      const ret = world.returns.get(context.params.return_id ?? "")
      if (ret === undefined || ret.shopId !== shop.id) throw new TikTokError(25001001, "invalid param")
      const decision = record(context.body).decision
      if (
        typeof decision !== "string" ||
        (!decision.startsWith("APPROVE") &&
          decision !== "ISSUE_REPLACEMENT_REFUND" &&
          decision !== "OFFER_PARTIAL_REFUND")
      ) {
        throw param("decision is a required field and must be an approval.")
      }
      idempotent(ret.decisions, context.query.get("idempotency_key"), () => world.decideReturn(ret.id, decision).status)
      return {}
    }),

    r(specs.returnsReject, (context) => {
      const shop = shopOf(context)
      const ret = world.returns.get(context.params.return_id ?? "")
      if (ret === undefined || ret.shopId !== shop.id) throw new TikTokError(25001001, "invalid param")
      const body = record(context.body)
      const decision = body.decision
      if (typeof decision !== "string" || !decision.startsWith("REJECT")) throw param("decision must be a rejection.")
      if (typeof body.reject_reason !== "string" || body.reject_reason === "") {
        throw param("reject_reason is a required field and has not been provided.")
      }
      idempotent(ret.decisions, context.query.get("idempotency_key"), () => world.decideReturn(ret.id, decision).status)
      return {}
    }),

    r(specs.webhooksGet, (context) => {
      const shop = shopOf(context)
      const subs = deps.subscriptions.get(shop.id) ?? new Map()
      return {
        webhooks: [...subs].map(([event_type, s]) => ({
          event_type,
          address: s.address,
          create_time: s.createTime,
          update_time: s.updateTime
        })),
        total_count: subs.size
      }
    }),

    r(specs.webhooksPut, (context) => {
      const shop = shopOf(context)
      const body = record(context.body)
      const address = body.address
      const eventType = body.event_type
      if (typeof eventType !== "string" || !(eventType in subscribableEvents))
        throw param(`Invalid event_type ${String(eventType)}.`)
      if (typeof address !== "string" || address === "" || address.length > 255) {
        throw param("address is required and at most 255 characters.")
      }
      let url: URL
      try {
        url = new URL(address)
      } catch {
        throw param("Invalid address: not a URL.")
      }
      if (deps.enforceWebhookUrlRules) {
        if (
          url.protocol !== "https:" ||
          url.port !== "" ||
          /^[\d.]+$/.test(url.hostname) ||
          url.hostname.includes(":")
        ) {
          throw param("Invalid address: it must be an https URL with a domain name and no port.")
        }
      } else if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw param("Invalid address: not an http(s) URL.")
      }
      const subs = deps.subscriptions.get(shop.id) ?? new Map()
      deps.subscriptions.set(shop.id, subs)
      const now = world.seconds()
      subs.set(eventType, { address, createTime: subs.get(eventType)?.createTime ?? now, updateTime: now })
      return {}
    }),

    r(specs.webhooksDelete, (context) => {
      const shop = shopOf(context)
      const eventType = record(context.body).event_type
      if (typeof eventType !== "string" || !(eventType in subscribableEvents))
        throw param(`Invalid event_type ${String(eventType)}.`)
      deps.subscriptions.get(shop.id)?.delete(eventType)
      return {}
    })
  ]
  list.push(gateway.fallback(Object.values(specs)))
  return list
}

/** Valid return statuses (for control-API checks). */
export const isReturnStatus = (s: string): s is ReturnRequest["status"] =>
  (returnStatuses as ReadonlyArray<string>).includes(s)
