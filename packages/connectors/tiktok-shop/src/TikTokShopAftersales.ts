/**
 * TikTokShopAftersales: the `aftersales.pull` capability — Search Cancellations and Search Returns
 * (`POST /return_refund/202309/{cancellations,returns}/search`) read together by update time, one
 * cursor carrying both streams — and the mapping of TikTok's cancel and return statuses onto the
 * domain `AfterSale`.
 *
 * A return of type `REFUND` (money only, the goods stay with the buyer) is kind `refund`;
 * `RETURN_AND_REFUND` and `REPLACEMENT` bring goods back and are kind `return`. Statuses TikTok
 * adds later map to `requested`, which has no stock effect; `platformStatus` keeps the original.
 *
 * @see https://partner.tiktokshop.com/docv2/page/650ab69edefece02be70785b (Search Returns)
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { AfterSale, ConnectorError as Errors } from "@tkbridge/core"
import { Effect } from "effect"
import * as Cursor from "./internal/cursor.ts"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import type { TikTokShopConfig } from "./TikTokShopConfig.ts"
import { externalSkuOf } from "./TikTokShopOrders.ts"
import * as Wire from "./TikTokShopSchema.ts"

/** Cancellation status → domain status. Both spellings of the withdrawn status are accepted. */
export const cancelStatuses: Readonly<Record<string, AfterSale.AfterSaleStatus>> = {
  CANCELLATION_REQUEST_PENDING: "requested",
  CANCELLATION_REQUEST_SUCCESS: "completed",
  CANCELLATION_REQUEST_COMPLETE: "completed",
  CANCELLATION_REQUEST_CANCELLED: "cancelled",
  CANCELLATION_REQUEST_CANCEL: "cancelled"
}

/** Return status → domain status. */
export const returnStatuses: Readonly<Record<string, AfterSale.AfterSaleStatus>> = {
  RETURN_OR_REFUND_REQUEST_PENDING: "requested",
  AWAITING_BUYER_RESPONSE: "requested",
  REPLACEMENT_REQUEST_PENDING: "requested",
  REFUND_OR_RETURN_REQUEST_REJECT: "rejected",
  REJECT_RECEIVE_PACKAGE: "rejected",
  REPLACEMENT_REQUEST_REJECT: "rejected",
  AWAITING_BUYER_SHIP: "approved",
  BUYER_SHIPPED_ITEM: "approved",
  RETURN_OR_REFUND_REQUEST_SUCCESS: "completed",
  RETURN_OR_REFUND_REQUEST_COMPLETE: "completed",
  REPLACEMENT_REQUEST_REFUND_SUCCESS: "completed",
  REPLACEMENT_REQUEST_COMPLETE: "completed",
  RETURN_OR_REFUND_REQUEST_CANCEL: "cancelled",
  RETURN_OR_REFUND__REQUEST_CANCELLED: "cancelled",
  REPLACEMENT_REQUEST_CANCEL: "cancelled"
}

/** The domain kind of a TikTok return type. */
export const returnKind = (returnType: string | undefined): AfterSale.AfterSaleKind =>
  returnType === "REFUND" ? "refund" : "return"

const groupLines = (
  skuKey: TikTokShopConfig["skuKey"],
  items: ReadonlyArray<{ readonly sku_id?: string | undefined; readonly seller_sku?: string | undefined }>
) => {
  const counts = new Map<string, number>()
  for (const item of items) {
    const sku = externalSkuOf(skuKey, item)
    if (sku !== undefined) counts.set(sku, (counts.get(sku) ?? 0) + 1)
  }
  return counts.size === 0 ? undefined : [...counts].map(([externalSku, qty]) => ({ externalSku, qty }))
}

/** Maps a TikTok cancellation onto an `AfterSale`. */
export const fromCancellation = (
  c: Wire.Cancellation,
  connection: string,
  skuKey: TikTokShopConfig["skuKey"],
  now: number
): AfterSale.AfterSale => {
  const lines = groupLines(skuKey, c.cancel_line_items ?? [])
  const reason = c.cancel_reason_text ?? c.cancel_reason
  return new AfterSale.AfterSale({
    connection,
    externalId: c.cancel_id,
    orderId: c.order_id,
    kind: "cancel",
    status: cancelStatuses[c.cancel_status] ?? "requested",
    updatedAt: new Date((c.update_time ?? c.create_time ?? Math.floor(now / 1000)) * 1000),
    platformStatus: c.cancel_status,
    ...(lines ? { lines } : {}),
    ...(reason ? { reason } : {})
  })
}

/** Maps a TikTok return, refund or replacement onto an `AfterSale`. */
export const fromReturn = (
  r: Wire.Return,
  connection: string,
  skuKey: TikTokShopConfig["skuKey"],
  now: number
): AfterSale.AfterSale => {
  const lines = groupLines(skuKey, r.return_line_items ?? [])
  const reason = r.return_reason_text ?? r.return_reason
  return new AfterSale.AfterSale({
    connection,
    externalId: r.return_id,
    orderId: r.order_id,
    kind: returnKind(r.return_type),
    status: returnStatuses[r.return_status] ?? "requested",
    updatedAt: new Date((r.update_time ?? r.create_time ?? Math.floor(now / 1000)) * 1000),
    platformStatus: r.return_status,
    ...(lines ? { lines } : {}),
    ...(reason ? { reason } : {})
  })
}

const clampPage = (n: number, min: number) => Math.max(min, Math.min(50, n))

/** Builds `aftersales.pull` on a client. */
export const make = (client: TikTokShopClientShape, connection: string): Connector.AftersalesPull => {
  const { config } = client
  const searchQuery = (pageSize: number, min: number, token: string | undefined) => ({
    page_size: clampPage(pageSize, min),
    page_token: token,
    sort_field: "update_time",
    sort_order: "ASC"
  })
  const windowBody = (cursor: Cursor.Cursor, extra: Record<string, unknown> = {}) => {
    const body: Record<string, unknown> = { ...extra }
    if (cursor.ge !== undefined) body.update_time_ge = cursor.ge
    if (cursor.lt !== undefined) body.update_time_lt = cursor.lt
    return Object.keys(body).length === 0 ? undefined : body
  }

  const searchCancellations = (cursor: Cursor.Cursor, pageSize: number, token: string | undefined, ids?: string[]) =>
    client.call({
      method: "POST",
      path: client.path("cancellationsSearch"),
      shopScoped: true,
      query: searchQuery(pageSize, 1, token),
      body: windowBody(cursor, ids ? { cancel_ids: ids } : {}),
      data: Wire.CancellationsSearchData
    })

  const searchReturns = (cursor: Cursor.Cursor, pageSize: number, token: string | undefined, ids?: string[]) =>
    client.call({
      method: "POST",
      path: client.path("returnsSearch"),
      shopScoped: true,
      // Search Returns documents page sizes 10–50.
      query: searchQuery(pageSize, 10, token),
      body: windowBody(cursor, ids ? { return_ids: ids } : {}),
      data: Wire.ReturnsSearchData
    })

  const list = (
    query: Connector.PullQuery
  ): Effect.Effect<Connector.Page<AfterSale.AfterSale>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const cursor: Cursor.Cursor =
        query.cursor === undefined
          ? { ge: Cursor.floorSeconds(query.updatedSince), lt: Cursor.ceilSeconds(query.updatedUntil), streams: {} }
          : yield* Cursor.decode(query.cursor, connection)
      const pageSize = query.pageSize ?? config.pageSize
      const now = yield* client.now
      const items: Array<AfterSale.AfterSale> = []
      const streams: Record<string, string | null> = { ...cursor.streams }
      if (cursor.streams.cancellations !== null) {
        const data = yield* searchCancellations(cursor, pageSize, cursor.streams.cancellations)
        for (const c of data.cancellations ?? []) items.push(fromCancellation(c, connection, config.skuKey, now))
        streams.cancellations = data.next_page_token ? data.next_page_token : null
      }
      if (cursor.streams.returns !== null) {
        const data = yield* searchReturns(cursor, pageSize, cursor.streams.returns)
        for (const r of data.return_orders ?? []) items.push(fromReturn(r, connection, config.skuKey, now))
        streams.returns = data.next_page_token ? data.next_page_token : null
      }
      const done = streams.cancellations === null && streams.returns === null
      return { items, next: done ? undefined : Cursor.encode({ ...cursor, streams }) }
    })

  const get = (
    afterSaleId: string,
    kind: AfterSale.AfterSaleKind
  ): Effect.Effect<AfterSale.AfterSale, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const now = yield* client.now
      const empty: Cursor.Cursor = { streams: {} }
      if (kind === "cancel") {
        const data = yield* searchCancellations(empty, 10, undefined, [afterSaleId])
        const found = (data.cancellations ?? []).find((c) => c.cancel_id === afterSaleId)
        if (found) return fromCancellation(found, connection, config.skuKey, now)
      } else {
        const data = yield* searchReturns(empty, 10, undefined, [afterSaleId])
        const found = (data.return_orders ?? []).find((r) => r.return_id === afterSaleId)
        if (found) return fromReturn(found, connection, config.skuKey, now)
      }
      return yield* new Errors.NotFound({
        connection,
        message: `TikTok Shop has no ${kind} ${afterSaleId} in this shop`
      })
    })

  return { list, get }
}
