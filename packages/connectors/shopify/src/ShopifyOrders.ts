/**
 * ShopifyOrders: `orders.pull` and the mapping of Shopify orders (GraphQL and REST-style webhook
 * payloads alike) onto tkbridge's `Order`.
 *
 * `list` reads `orders(query: "updated_at:>=… AND updated_at:<=…", sortKey: UPDATED_AT)` page by
 * page, oldest change first; orders with more lines than one page are completed line by line.
 * `get` reads one order by id (numeric or GID).
 *
 * Mapping: ids are the numeric ids (strings). A line counts `currentQuantity` (refunded and
 * removed units excluded); lines that carry neither a SKU nor a variant (custom items, tips) hold
 * no stock and are left out; a line without a SKU but with a variant is kept as
 * `variant:<id>`, so pairing reports it instead of losing it. Status: cancelled first, then what
 * fulfilment says (fulfilled → in transit, or completed once the order is closed), then payment
 * (pending, expired or voided → unpaid), else awaiting shipment.
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10/queries/orders
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Address, ConnectorError as Errors, Order } from "@tkbridge/core"
import { Effect, Option, Schema } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import * as Documents from "./ShopifyDocuments.ts"
import { legacyId, toGid } from "./ShopifyGid.ts"
import * as Wire from "./ShopifySchema.ts"

/** Orders per page at most: each costs up to 84 points with 20 lines, under the 1,000-point cap. */
export const maxOrdersPerPage = 10

/** Lines read with each order, and per page of the remaining lines. */
export const linesPerPage = { first: 20, more: 100 } as const

const threeDecimals = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
const zeroDecimals = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "ISK",
  "JPY",
  "KMF",
  "KRW",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF"
])

/** Minor units per major unit of a currency (ISO 4217 exponent). */
export const exponent = (currency: string): number =>
  zeroDecimals.has(currency) ? 0 : threeDecimals.has(currency) ? 3 : 2

/** A decimal amount (`"12.50"`) in minor units, without going through binary floating point. */
export const toMinor = (amount: string, currency: string): number | undefined => {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim())
  if (m === null) return undefined
  const digits = exponent(currency)
  const fraction = (m[3] ?? "").padEnd(digits, "0")
  if (fraction.slice(digits).replace(/0/g, "") !== "") return undefined
  const value = Number(`${m[2]}${fraction.slice(0, digits)}`)
  return Number.isSafeInteger(value) ? (m[1] === "-" ? -value : value) : undefined
}

/** The facts a status is decided from, whichever API they came from. */
export interface StatusFacts {
  readonly cancelled: boolean
  readonly closed: boolean
  /** `FULFILLED`, `PARTIALLY_FULFILLED`, `ON_HOLD`, `RESTOCKED`, `FULFILLMENT_NOT_REQUIRED`, … (upper case). */
  readonly fulfillment: string | undefined
  /** `PAID`, `PENDING`, `AUTHORIZED`, `VOIDED`, … (upper case). */
  readonly financial: string | undefined
}

/** tkbridge's status of a Shopify order. */
export const statusOf = (facts: StatusFacts): Order.OrderStatus => {
  if (facts.cancelled) return "cancelled"
  switch (facts.fulfillment) {
    case "FULFILLED":
      return facts.closed ? "completed" : "in_transit"
    case "PARTIALLY_FULFILLED":
    case "PARTIAL":
      return "partially_shipped"
    case "RESTOCKED":
      return "cancelled"
    case "FULFILLMENT_NOT_REQUIRED":
      return "completed"
    case "ON_HOLD":
      return "on_hold"
  }
  if (facts.financial === "PENDING" || facts.financial === "EXPIRED" || facts.financial === "VOIDED") return "unpaid"
  return "awaiting_shipment"
}

/** A line as the mapping needs it. */
interface LineFacts {
  readonly id: string
  readonly sku: string | null | undefined
  readonly variantId: string | null | undefined
  readonly title: string | null | undefined
  readonly quantity: number
  readonly current: number
  readonly unitPrice: number | undefined
}

/** The fields of an order the mapping needs. */
interface OrderFacts extends StatusFacts {
  readonly id: string
  readonly currency: string | undefined
  readonly placedAt: string
  readonly updatedAt: string
  readonly shipTo: Address.Address | undefined
  readonly lines: ReadonlyArray<LineFacts>
  readonly platformStatus: string
}

const toDate = (s: string): Date | undefined => {
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Builds an `Order`; fails with a reason when the order holds no line that carries stock. */
const build = (facts: OrderFacts, connection: string): Either<Order.Order, string> => {
  const stockLines = facts.lines.filter((l) => (l.sku?.trim() ?? "") !== "" || l.variantId)
  const line = (l: LineFacts, qty: number) =>
    new Order.OrderLine({
      lineId: l.id,
      externalSku: l.sku?.trim() ? l.sku.trim() : `variant:${l.variantId}`,
      qty,
      title: l.title ?? undefined,
      unitPrice:
        l.unitPrice !== undefined && Number.isSafeInteger(l.unitPrice) && l.unitPrice >= 0 ? l.unitPrice : undefined
    })
  const current = stockLines.filter((l) => l.current > 0).map((l) => line(l, l.current))
  let status = statusOf(facts)
  let lines = current
  if (lines.length === 0) {
    // Every unit refunded or removed: nothing left to ship, so the order releases its stock.
    lines = stockLines.filter((l) => l.quantity > 0).map((l) => line(l, l.quantity))
    if (lines.length > 0) status = "cancelled"
  }
  const [first, ...rest] = lines
  if (first === undefined) return { ok: false, reason: `order ${facts.id} has no line that carries stock` }
  const placedAt = toDate(facts.placedAt)
  const updatedAt = toDate(facts.updatedAt)
  if (placedAt === undefined || updatedAt === undefined)
    return { ok: false, reason: `order ${facts.id} has unreadable dates` }
  return {
    ok: true,
    value: new Order.Order({
      connection,
      externalId: facts.id,
      status,
      lines: [first, ...rest],
      shipTo: facts.shipTo,
      currency: facts.currency,
      placedAt,
      updatedAt,
      platformStatus: facts.platformStatus
    })
  }
}

type Either<A, E> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly reason: E }

const address = (input: {
  readonly name?: string | null | undefined
  readonly first?: string | null | undefined
  readonly last?: string | null | undefined
  readonly phone?: string | null | undefined
  readonly company?: string | null | undefined
  readonly line1?: string | null | undefined
  readonly line2?: string | null | undefined
  readonly city?: string | null | undefined
  readonly state?: string | null | undefined
  readonly zip?: string | null | undefined
  readonly country?: string | null | undefined
}): Address.Address | undefined => {
  const name = input.name?.trim() || [input.first, input.last].filter((s) => s?.trim()).join(" ")
  const nonEmpty = (s: string | null | undefined) => (s?.trim() ? s.trim() : undefined)
  const line1 = nonEmpty(input.line1)
  const city = nonEmpty(input.city)
  if (name === "" || line1 === undefined || city === undefined) return undefined
  return Option.getOrUndefined(
    Schema.decodeUnknownOption(Address.Address)({
      name,
      phone: nonEmpty(input.phone),
      company: nonEmpty(input.company),
      line1,
      line2: nonEmpty(input.line2),
      city,
      state: nonEmpty(input.state),
      postalCode: nonEmpty(input.zip),
      country: input.country ?? ""
    })
  )
}

/** Maps a GraphQL order (with all its lines) onto an `Order`. */
export const fromGraphql = (
  node: Wire.OrderNode,
  lines: ReadonlyArray<Wire.LineNode>,
  connection: string
): Either<Order.Order, string> => {
  const a = node.shippingAddress
  return build(
    {
      id: legacyId(node.id),
      cancelled: node.cancelledAt != null,
      closed: node.closed,
      fulfillment: node.displayFulfillmentStatus,
      financial: node.displayFinancialStatus ?? undefined,
      currency: node.currencyCode,
      placedAt: node.processedAt ?? node.createdAt,
      updatedAt: node.updatedAt,
      shipTo:
        a == null
          ? undefined
          : address({
              name: a.name,
              first: a.firstName,
              last: a.lastName,
              phone: a.phone,
              company: a.company,
              line1: a.address1,
              line2: a.address2,
              city: a.city,
              state: a.provinceCode,
              zip: a.zip,
              country: a.countryCodeV2
            }),
      lines: lines.map((l) => ({
        id: legacyId(l.id),
        sku: l.sku,
        variantId: l.variant ? legacyId(l.variant.id) : undefined,
        title: l.name ?? l.title,
        quantity: l.quantity,
        current: l.currentQuantity,
        unitPrice: l.originalUnitPriceSet
          ? toMinor(l.originalUnitPriceSet.shopMoney.amount, l.originalUnitPriceSet.shopMoney.currencyCode)
          : undefined
      })),
      platformStatus: [node.displayFinancialStatus ?? "NO_PAYMENT", node.displayFulfillmentStatus]
        .concat(node.cancelledAt ? ["CANCELLED"] : [])
        .concat(node.closed ? ["CLOSED"] : [])
        .join("/")
    },
    connection
  )
}

/** The numeric id of a webhook resource: from `admin_graphql_api_id`, else `id`. */
export const webhookId = (resource: {
  readonly id?: string | undefined
  readonly admin_graphql_api_id?: string | undefined
}) => (resource.admin_graphql_api_id ? legacyId(resource.admin_graphql_api_id) : resource.id)

/** Maps a REST-style order payload (`orders/create`, `orders/updated`, `orders/cancelled`) onto an `Order`. */
export const fromWebhook = (order: Wire.WebhookOrder, connection: string): Either<Order.Order, string> => {
  const id = webhookId(order)
  if (id === undefined) return { ok: false, reason: "the order payload carries no id" }
  const currency = order.currency ?? undefined
  const a = order.shipping_address
  return build(
    {
      id,
      cancelled: order.cancelled_at != null,
      closed: order.closed_at != null,
      fulfillment:
        order.fulfillment_status === "fulfilled"
          ? "FULFILLED"
          : order.fulfillment_status === "partial"
            ? "PARTIALLY_FULFILLED"
            : order.fulfillment_status === "restocked"
              ? "RESTOCKED"
              : undefined,
      financial: order.financial_status?.toUpperCase(),
      currency,
      placedAt: order.processed_at ?? order.created_at,
      updatedAt: order.updated_at ?? order.created_at,
      shipTo:
        a == null
          ? undefined
          : address({
              name: a.name,
              first: a.first_name,
              last: a.last_name,
              phone: a.phone,
              company: a.company,
              line1: a.address1,
              line2: a.address2,
              city: a.city,
              state: a.province_code,
              zip: a.zip,
              country: a.country_code
            }),
      lines: order.line_items.flatMap((l) => {
        const lineId = webhookId(l)
        if (lineId === undefined) return []
        return [
          {
            id: lineId,
            sku: l.sku,
            variantId: l.variant_id ?? undefined,
            title: l.name ?? l.title,
            quantity: l.quantity,
            current: l.current_quantity ?? l.quantity,
            unitPrice: l.price != null && currency !== undefined ? toMinor(l.price, currency) : undefined
          }
        ]
      }),
      platformStatus: [order.financial_status ?? "no_payment", order.fulfillment_status ?? "unfulfilled"]
        .concat(order.cancelled_at ? ["cancelled"] : [])
        .concat(order.closed_at ? ["closed"] : [])
        .join("/")
    },
    connection
  )
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/**
 * The search query of an incremental pull (`updated_at:>='…' AND updated_at:<='…'`). Shopify's
 * search works in whole seconds: the window is widened to whole seconds on both sides, so a change
 * is read twice rather than missed (the inbox keeps the newer version).
 */
export const updatedQuery = (since: Date | undefined, until: Date | undefined): string | null => {
  const parts: Array<string> = []
  if (since !== undefined) parts.push(`updated_at:>='${isoSeconds(Math.floor(since.getTime() / 1000) * 1000)}'`)
  if (until !== undefined) parts.push(`updated_at:<='${isoSeconds(Math.ceil(until.getTime() / 1000) * 1000)}'`)
  return parts.length === 0 ? null : parts.join(" AND ")
}

/** Builds `orders.pull` on a client. */
export const make = (client: ShopifyClientShape, connection: string): Connector.OrdersPull => {
  const { config } = client

  const allLines = (node: Wire.OrderNode): Effect.Effect<ReadonlyArray<Wire.LineNode>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const lines = [...node.lineItems.nodes]
      let page = node.lineItems.pageInfo
      while (page.hasNextPage && page.endCursor) {
        const more = yield* client.run(
          Documents.OrderLines,
          { id: node.id, first: linesPerPage.more, after: page.endCursor },
          Wire.OrderLinesData
        )
        if (more.order === null) break
        lines.push(...more.order.lineItems.nodes)
        page = more.order.lineItems.pageInfo
      }
      return lines
    })

  const list = (query: Connector.PullQuery): Effect.Effect<Connector.Page<Order.Order>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const first = Math.min(maxOrdersPerPage, Math.max(1, Math.floor(query.pageSize ?? config.ordersPageSize)))
      const data = yield* client.run(
        Documents.OrdersPage,
        {
          first,
          after: query.cursor ?? null,
          query: updatedQuery(query.updatedSince, query.updatedUntil),
          lines: linesPerPage.first,
          withAddress: config.includeShippingAddress
        },
        Wire.OrdersPageData
      )
      const items: Array<Order.Order> = []
      for (const node of data.orders.nodes) {
        const mapped = fromGraphql(node, yield* allLines(node), connection)
        if (mapped.ok) items.push(mapped.value)
        else yield* Effect.logDebug(`skipping Shopify order ${legacyId(node.id)}: ${mapped.reason}`)
      }
      const info = data.orders.pageInfo
      return { items, next: info.hasNextPage && info.endCursor ? info.endCursor : undefined }
    })

  const get = (orderId: string): Effect.Effect<Order.Order, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const data = yield* client.run(
        Documents.OrderGet,
        { id: toGid("Order", orderId), lines: linesPerPage.first, withAddress: config.includeShippingAddress },
        Wire.OrderGetData
      )
      if (data.order === null) {
        return yield* new Errors.NotFound({
          connection,
          code: "ORDER_NOT_FOUND",
          message: `order ${orderId} not found`
        })
      }
      const mapped = fromGraphql(data.order, yield* allLines(data.order), connection)
      if (!mapped.ok) return yield* new Errors.Rejected({ connection, code: "no_stock_lines", message: mapped.reason })
      return mapped.value
    })

  return { list, get }
}
