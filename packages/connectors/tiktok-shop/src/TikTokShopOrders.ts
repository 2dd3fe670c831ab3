/**
 * TikTokShopOrders: the `orders.pull` capability — Get Order List (`POST /order/202309/orders/search`)
 * by update time with TikTok's page cursor, Get Order Detail (`GET /order/202309/orders?ids=`) for
 * one order — and the mapping of a TikTok order onto the domain `Order`.
 *
 * TikTok expresses quantity by repeating line items (one unit each), so every line item becomes an
 * order line of quantity 1 whose `lineId` is the line item id — the id fulfilment writes back.
 *
 * @see https://partner.tiktokshop.com/docv2/page/650aa8094a0bb702c06df242 (Get Order List)
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Address, ConnectorError as Errors, Order } from "@tkbridge/core"
import { Effect } from "effect"
import * as Cursor from "./internal/cursor.ts"
import { toMinorUnits } from "./internal/money.ts"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import type { TikTokShopConfig } from "./TikTokShopConfig.ts"
import * as Wire from "./TikTokShopSchema.ts"

/**
 * TikTok order status → domain status. The webhook documentation spells the cancelled status
 * `CANCEL`, the API `CANCELLED`; both are accepted.
 */
export const orderStatuses: Readonly<Record<string, Order.OrderStatus>> = {
  UNPAID: "unpaid",
  ON_HOLD: "on_hold",
  AWAITING_SHIPMENT: "awaiting_shipment",
  PARTIALLY_SHIPPING: "partially_shipped",
  AWAITING_COLLECTION: "awaiting_collection",
  IN_TRANSIT: "in_transit",
  DELIVERED: "delivered",
  COMPLETED: "completed",
  CANCELLED: "cancelled",
  CANCEL: "cancelled"
}

/** The SKU tkbridge pairs on for a TikTok SKU, per the `skuKey` setting. */
export const externalSkuOf = (
  skuKey: TikTokShopConfig["skuKey"],
  sku: { readonly sku_id?: string | undefined; readonly seller_sku?: string | undefined }
): string | undefined => {
  const sellerSku = sku.seller_sku?.trim()
  if (skuKey === "seller_sku" && sellerSku) return sellerSku
  return sku.sku_id === undefined || sku.sku_id === "" ? undefined : sku.sku_id
}

const levelName = (r: Wire.RecipientAddress, pattern: RegExp) =>
  r.district_info?.find((d) => d.address_level_name !== undefined && pattern.test(d.address_level_name))?.address_name

/** The shipping address, when TikTok discloses it (never while UNPAID or ON_HOLD). */
export const toAddress = (r: Wire.RecipientAddress | undefined, email?: string): Address.Address | undefined => {
  if (r === undefined) return undefined
  const name = r.name?.trim() || [r.first_name, r.last_name].filter(Boolean).join(" ").trim()
  const line1 = r.address_line1?.trim() || r.address_detail?.trim() || r.full_address?.trim()
  const levels = [...(r.district_info ?? [])].sort((a, b) =>
    (a.address_level ?? "").localeCompare(b.address_level ?? "")
  )
  const city =
    levelName(r, /city|town/i) ??
    r.post_town ??
    (levels.length > 1 ? levels[levels.length - 1]?.address_name : undefined)
  const state =
    levelName(r, /state|province|prefecture|region/i) ?? levels.find((d) => d.address_level === "L1")?.address_name
  const country = r.region_code?.trim().toUpperCase()
  if (!name || !line1 || !city || !country || !/^[A-Z]{2}$/.test(country)) return undefined
  const line2 = [r.address_line2, r.address_line3, r.address_line4].filter((l) => l?.trim()).join(", ")
  return new Address.Address({
    name,
    line1,
    city,
    country,
    ...(line2 ? { line2 } : {}),
    ...(state ? { state } : {}),
    ...(r.postal_code ? { postalCode: r.postal_code } : {}),
    ...(r.phone_number ? { phone: r.phone_number } : {}),
    ...(email ? { email } : {})
  })
}

/** Maps a TikTok order onto the domain `Order`; an unknown status or an order without lines is `Rejected`. */
export const toOrder = (
  order: Wire.Order,
  connection: string,
  skuKey: TikTokShopConfig["skuKey"]
): Effect.Effect<Order.Order, Errors.ConnectorError> =>
  Effect.suspend(() => {
    const reject = (message: string) =>
      Effect.fail(new Errors.Rejected({ code: "unmappable_order", connection, message }))
    const status = orderStatuses[order.status]
    if (status === undefined) return reject(`order ${order.id} has an unknown status ${order.status}`)
    const currency = order.payment?.currency
    const lines: Array<Order.OrderLine> = []
    for (const item of order.line_items ?? []) {
      const externalSku = externalSkuOf(skuKey, item)
      if (externalSku === undefined) return reject(`order ${order.id} line ${item.id} has no SKU`)
      const title = [item.product_name, item.sku_name].filter(Boolean).join(" — ")
      const unitPrice = toMinorUnits(item.sale_price, item.currency ?? currency)
      lines.push(
        new Order.OrderLine({
          lineId: item.id,
          externalSku,
          qty: 1,
          ...(title ? { title } : {}),
          ...(unitPrice !== undefined ? { unitPrice } : {})
        })
      )
    }
    const [first, ...rest] = lines
    if (first === undefined) return reject(`order ${order.id} has no line items`)
    return Effect.try({
      try: () => {
        const shipTo = toAddress(order.recipient_address, order.buyer_email)
        return new Order.Order({
          connection,
          externalId: order.id,
          status,
          lines: [first, ...rest],
          placedAt: new Date(order.create_time * 1000),
          updatedAt: new Date(order.update_time * 1000),
          platformStatus: order.status,
          ...(shipTo ? { shipTo } : {}),
          ...(currency ? { currency } : {})
        })
      },
      catch: (e) =>
        new Errors.Rejected({
          code: "unmappable_order",
          connection,
          message: `order ${order.id} cannot be represented: ${String(e).slice(0, 300)}`
        })
    })
  })

/** Builds `orders.pull` on a client. Orders are read oldest change first (`update_time` ascending). */
export const make = (client: TikTokShopClientShape, connection: string): Connector.OrdersPull => {
  const { config } = client
  const mapAll = (orders: ReadonlyArray<Wire.Order>) =>
    Effect.forEach(orders, (o) => toOrder(o, connection, config.skuKey))

  const list = (query: Connector.PullQuery): Effect.Effect<Connector.Page<Order.Order>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const cursor: Cursor.Cursor =
        query.cursor === undefined
          ? {
              ge: Cursor.floorSeconds(query.updatedSince),
              lt: Cursor.ceilSeconds(query.updatedUntil),
              streams: {}
            }
          : yield* Cursor.decode(query.cursor, connection)
      const body: Record<string, number> = {}
      if (cursor.ge !== undefined) body.update_time_ge = cursor.ge
      if (cursor.lt !== undefined) body.update_time_lt = cursor.lt
      const data = yield* client.call({
        method: "POST",
        path: client.path("orderSearch"),
        shopScoped: true,
        query: {
          page_size: Math.min(100, query.pageSize ?? config.pageSize),
          page_token: cursor.streams.orders ?? undefined,
          sort_field: "update_time",
          sort_order: "ASC"
        },
        body: Object.keys(body).length === 0 ? undefined : body,
        data: Wire.OrderSearchData
      })
      const items = yield* mapAll(data.orders ?? [])
      const next = data.next_page_token
      return {
        items,
        next:
          next === undefined || next === ""
            ? undefined
            : Cursor.encode({ ...cursor, streams: { ...cursor.streams, orders: next } })
      }
    })

  const get = (orderId: string): Effect.Effect<Order.Order, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const orders = yield* fetchDetail(client, [orderId])
      const order = orders.find((o) => o.id === orderId)
      if (order === undefined) {
        return yield* new Errors.NotFound({ connection, message: `TikTok Shop has no order ${orderId} in this shop` })
      }
      return yield* toOrder(order, connection, config.skuKey)
    })

  return { list, get }
}

/** Get Order Detail for up to 50 ids. */
export const fetchDetail = (
  client: TikTokShopClientShape,
  ids: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<Wire.Order>, Errors.ConnectorError> =>
  client
    .call({
      method: "GET",
      path: client.path("orderDetail"),
      shopScoped: true,
      query: { ids: ids.join(",") },
      data: Wire.OrderDetailData
    })
    .pipe(Effect.map((d) => d.orders ?? []))
