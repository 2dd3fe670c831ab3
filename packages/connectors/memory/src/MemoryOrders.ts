/**
 * MemoryOrders: `orders.pull` and the mapping of the platform's orders onto the domain `Order`
 * (also used by the webhook decoder).
 *
 * Orders are read with `GET /v1/orders?updated_at_min&updated_at_max&limit&cursor`; the platform
 * orders them by (`updated_at`, `id`) and its cursor carries the window, so paging never skips or
 * repeats an order while new ones arrive.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Address, ConnectorError, Order } from "@tkbridge/core"
import { Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import { segment } from "./MemoryClient.ts"
import type * as Wire from "./MemorySchema.ts"
import { OrderResponse, OrdersResponse } from "./MemorySchema.ts"

/** The platform's order statuses in the domain's words. */
export const statusMap: Readonly<Record<Wire.Order["status"], Order.OrderStatus>> = {
  pending_payment: "unpaid",
  paid: "awaiting_shipment",
  on_hold: "on_hold",
  partially_shipped: "partially_shipped",
  shipped: "in_transit",
  delivered: "delivered",
  completed: "completed",
  cancelled: "cancelled"
}

const optional = (v: string | null | undefined) => (v === null || v === undefined || v === "" ? undefined : v)

/** Maps a platform order onto the domain; throws when it does not fit (no lines, a bad country code). */
export const toOrder = (o: Wire.Order, connection: string): Order.Order => {
  const [first, ...rest] = o.line_items.map(
    (l) =>
      new Order.OrderLine({
        lineId: l.id,
        externalSku: l.sku,
        qty: l.quantity,
        title: l.title,
        unitPrice: l.unit_price
      })
  )
  if (first === undefined) throw new Error(`order ${o.id} has no lines`)
  const a = o.shipping_address ?? undefined
  return new Order.Order({
    connection,
    externalId: o.id,
    status: statusMap[o.status],
    lines: [first, ...rest],
    shipTo:
      a === undefined
        ? undefined
        : new Address.Address({
            name: a.name,
            phone: optional(a.phone),
            line1: a.line1,
            line2: optional(a.line2),
            city: a.city,
            state: optional(a.province),
            postalCode: optional(a.postal_code),
            country: a.country_code
          }),
    currency: o.currency,
    placedAt: o.created_at,
    updatedAt: o.updated_at,
    platformStatus: o.status
  })
}

/** `toOrder` as an effect: an order that does not fit is `Transient` (the answer is not usable). */
export const orderOf = (o: Wire.Order, connection: string): Effect.Effect<Order.Order, ConnectorError.Transient> =>
  Effect.try({
    try: () => toOrder(o, connection),
    catch: (e) =>
      new ConnectorError.Transient({
        connection,
        message: `order ${o.id} does not fit the domain model: ${e instanceof Error ? e.message : String(e)}`
      })
  })

/** Builds `orders.pull`. */
export const make = (client: MemoryClientShape): Connector.OrdersPull => ({
  list: ({ updatedSince, updatedUntil, cursor, pageSize }) =>
    Effect.gen(function* () {
      const { orders, next_cursor } = yield* client.api(
        {
          method: "GET",
          path: "/v1/orders",
          query: {
            updated_at_min: updatedSince?.toISOString(),
            updated_at_max: updatedUntil?.toISOString(),
            cursor,
            limit: pageSize === undefined ? undefined : String(Math.min(Math.max(pageSize, 1), 100))
          }
        },
        OrdersResponse
      )
      const items = yield* Effect.forEach(orders, (o) => orderOf(o, client.connection))
      return { items, next: next_cursor ?? undefined }
    }),
  get: (orderId) =>
    Effect.flatMap(client.api({ method: "GET", path: `/v1/orders/${segment(orderId)}` }, OrderResponse), ({ order }) =>
      orderOf(order, client.connection)
    )
})
