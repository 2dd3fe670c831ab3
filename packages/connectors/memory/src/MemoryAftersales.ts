/**
 * MemoryAftersales: `aftersales.pull` and the mapping of the platform's cancellations, returns and
 * refunds onto the domain `AfterSale` (also used by the webhook decoder). Paging works as for
 * orders: (`updated_at`, `id`) order and a cursor that carries the window.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { AfterSale, ConnectorError } from "@tkbridge/core"
import { Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import { segment } from "./MemoryClient.ts"
import type * as Wire from "./MemorySchema.ts"
import { AfterSaleResponse, AfterSalesResponse } from "./MemorySchema.ts"

const kinds: Readonly<Record<Wire.AfterSale["kind"], AfterSale.AfterSaleKind>> = {
  cancellation: "cancel",
  return: "return",
  refund: "refund"
}

const statuses: Readonly<Record<Wire.AfterSale["status"], AfterSale.AfterSaleStatus>> = {
  requested: "requested",
  approved: "approved",
  rejected: "rejected",
  completed: "completed",
  withdrawn: "cancelled"
}

/** Maps a platform after-sale onto the domain. */
export const toAfterSale = (a: Wire.AfterSale, connection: string): AfterSale.AfterSale =>
  new AfterSale.AfterSale({
    connection,
    externalId: a.id,
    orderId: a.order_id,
    kind: kinds[a.kind],
    status: statuses[a.status],
    lines: a.line_items.map((l) => ({ externalSku: l.sku, qty: l.quantity })),
    reason: a.reason,
    updatedAt: a.updated_at,
    platformStatus: a.status
  })

const afterSaleOf = (a: Wire.AfterSale, connection: string) =>
  Effect.try({
    try: () => toAfterSale(a, connection),
    catch: (e) =>
      new ConnectorError.Transient({
        connection,
        message: `after-sale ${a.id} does not fit the domain model: ${e instanceof Error ? e.message : String(e)}`
      })
  })

/** Builds `aftersales.pull`. */
export const make = (client: MemoryClientShape): Connector.AftersalesPull => ({
  list: ({ updatedSince, updatedUntil, cursor, pageSize }) =>
    Effect.gen(function* () {
      const { aftersales, next_cursor } = yield* client.api(
        {
          method: "GET",
          path: "/v1/aftersales",
          query: {
            updated_at_min: updatedSince?.toISOString(),
            updated_at_max: updatedUntil?.toISOString(),
            cursor,
            limit: pageSize === undefined ? undefined : String(Math.min(Math.max(pageSize, 1), 100))
          }
        },
        AfterSalesResponse
      )
      const items = yield* Effect.forEach(aftersales, (a) => afterSaleOf(a, client.connection))
      return { items, next: next_cursor ?? undefined }
    }),
  get: (afterSaleId) =>
    Effect.flatMap(
      client.api({ method: "GET", path: `/v1/aftersales/${segment(afterSaleId)}` }, AfterSaleResponse),
      ({ aftersale }) => afterSaleOf(aftersale, client.connection)
    )
})
