/**
 * ShopifyFulfillment: `fulfillment.push` — marks (part of) an order shipped with its tracking
 * number through the FulfillmentOrder API.
 *
 * 1. Read the order's fulfillments and fulfillment orders (all pages).
 * 2. Work out what the request covers: the named lines (spread over the fulfillment orders that
 *    still hold them) or everything left to ship. Only fulfillment orders that are open or in
 *    progress and offer `CREATE_FULFILLMENT` are used.
 * 3. Nothing left to ship and a fulfillment with the same tracking number exists → success,
 *    `alreadyShipped` (a replay). Nothing left and no such fulfillment → `Rejected`.
 * 4. `fulfillmentCreate` once per fulfillment order (Shopify requires one location per call, and a
 *    fulfillment order has one), with `trackingInfo { company number }`. `fulfillmentCreate` takes
 *    no idempotency key; the check in step 3 is what makes a retry safe.
 *
 * Scopes: `read_orders` and `write_merchant_managed_fulfillment_orders` (which grants the read).
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/fulfillmentCreate
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Effect } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import * as Documents from "./ShopifyDocuments.ts"
import * as ShopifyError from "./ShopifyError.ts"
import { legacyId, toGid } from "./ShopifyGid.ts"
import * as Wire from "./ShopifySchema.ts"

/** Fulfillment order states that can still be fulfilled. */
const fulfillable = new Set(["OPEN", "IN_PROGRESS"])

/** Fulfillment states that count as shipped for the replay check. */
const shipped = new Set(["SUCCESS", "OPEN", "PENDING"])

interface Plan {
  readonly fulfillmentOrderId: string
  /** Undefined: everything the fulfillment order still holds. */
  readonly lines: ReadonlyArray<{ readonly id: string; readonly quantity: number }> | undefined
}

/** Builds `fulfillment.push` on a client. */
export const make = (client: ShopifyClientShape, connection: string): Connector.FulfillmentPush => {
  const { config } = client

  const reject = (code: string, message: string) => Effect.fail(new Errors.Rejected({ connection, code, message }))

  const loadFulfillmentOrders = (
    orderGid: string,
    first: typeof Wire.FulfillmentStateData.Type
  ): Effect.Effect<ReadonlyArray<Wire.FulfillmentOrderNode>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const order = first.order!
      const out: Array<Wire.FulfillmentOrderNode> = [...order.fulfillmentOrders.nodes]
      let page = order.fulfillmentOrders.pageInfo
      while (page.hasNextPage && page.endCursor) {
        const more = yield* client.run(
          Documents.FulfillmentOrdersPage,
          { id: orderGid, after: page.endCursor },
          Wire.FulfillmentOrdersPageData
        )
        if (more.order === null) break
        out.push(...more.order.fulfillmentOrders.nodes)
        page = more.order.fulfillmentOrders.pageInfo
      }
      // Fulfillment orders with more lines than one page: read the rest.
      const complete: Array<Wire.FulfillmentOrderNode> = []
      for (const fo of out) {
        let lines = fo.lineItems
        const nodes = [...lines.nodes]
        while (lines.pageInfo.hasNextPage && lines.pageInfo.endCursor) {
          const more = yield* client.run(
            Documents.FulfillmentOrderLines,
            { id: fo.id, after: lines.pageInfo.endCursor },
            Wire.FulfillmentOrderLinesData
          )
          if (more.fulfillmentOrder === null) break
          lines = more.fulfillmentOrder.lineItems
          nodes.push(...lines.nodes)
        }
        complete.push({ ...fo, lineItems: { nodes, pageInfo: { hasNextPage: false, endCursor: null } } })
      }
      return complete
    })

  const ship = (
    request: Connector.ShipRequest
  ): Effect.Effect<
    { readonly externalId?: string | undefined; readonly alreadyShipped: boolean },
    Errors.ConnectorError
  > =>
    Effect.gen(function* () {
      const trackingNumber = request.trackingNumber.trim()
      if (trackingNumber === "") return yield* reject("missing_tracking", "the shipment carries no tracking number")
      const orderGid = toGid("Order", request.orderId)
      const state = yield* client.run(Documents.FulfillmentState, { id: orderGid }, Wire.FulfillmentStateData)
      if (state.order === null) {
        return yield* new Errors.NotFound({
          connection,
          code: "ORDER_NOT_FOUND",
          message: `order ${request.orderId} not found`
        })
      }
      const sameTracking = state.order.fulfillments.find(
        (f) => shipped.has(f.status) && f.trackingInfo.some((t) => t.number?.trim() === trackingNumber)
      )
      const open = (yield* loadFulfillmentOrders(orderGid, state)).filter(
        (fo) => fulfillable.has(fo.status) && fo.supportedActions.some((a) => a.action === "CREATE_FULFILLMENT")
      )

      const plans: Array<Plan> = []
      if (request.lines === undefined || request.lines.length === 0) {
        for (const fo of open) {
          if (fo.lineItems.nodes.some((l) => l.remainingQuantity > 0))
            plans.push({ fulfillmentOrderId: fo.id, lines: undefined })
        }
      } else {
        const byFo = new Map<string, Array<{ id: string; quantity: number }>>()
        const remaining = new Map<string, number>()
        for (const fo of open) for (const l of fo.lineItems.nodes) remaining.set(l.id, l.remainingQuantity)
        let shortOf: string | undefined
        for (const wanted of request.lines) {
          let left = wanted.qty
          const lineId = legacyId(wanted.lineId)
          for (const fo of open) {
            for (const l of fo.lineItems.nodes) {
              if (left <= 0 || legacyId(l.lineItem.id) !== lineId) continue
              const take = Math.min(left, remaining.get(l.id) ?? 0)
              if (take <= 0) continue
              remaining.set(l.id, (remaining.get(l.id) ?? 0) - take)
              left -= take
              byFo.set(fo.id, [...(byFo.get(fo.id) ?? []), { id: l.id, quantity: take }])
            }
          }
          if (left > 0) shortOf ??= `line ${lineId} has ${wanted.qty - left} of ${wanted.qty} units left to ship`
        }
        if (shortOf !== undefined) {
          if (sameTracking !== undefined) return { externalId: legacyId(sameTracking.id), alreadyShipped: true }
          return yield* reject("line_not_fulfillable", `order ${request.orderId}: ${shortOf}`)
        }
        for (const [fulfillmentOrderId, lines] of byFo) plans.push({ fulfillmentOrderId, lines })
      }

      if (plans.length === 0) {
        if (sameTracking !== undefined) return { externalId: legacyId(sameTracking.id), alreadyShipped: true }
        if (state.order.cancelledAt != null)
          return yield* reject("order_cancelled", `order ${request.orderId} is cancelled`)
        const other = state.order.fulfillments
          .flatMap((f) => f.trackingInfo.map((t) => t.number))
          .filter((n): n is string => typeof n === "string" && n !== "")
        return yield* reject(
          state.order.displayFulfillmentStatus === "FULFILLED" ? "already_fulfilled" : "not_fulfillable",
          other.length > 0
            ? `order ${request.orderId} has nothing left to ship; it was shipped with ${other.join(", ")}`
            : `order ${request.orderId} has nothing Shopify lets this app fulfil (status ${state.order.displayFulfillmentStatus})`
        )
      }

      const company = config.carriers[request.carrier] ?? request.carrier
      const created: Array<string> = []
      for (const plan of plans) {
        const data = yield* client.run(
          Documents.FulfillmentCreate,
          {
            fulfillment: {
              lineItemsByFulfillmentOrder: [
                {
                  fulfillmentOrderId: plan.fulfillmentOrderId,
                  ...(plan.lines === undefined ? {} : { fulfillmentOrderLineItems: plan.lines })
                }
              ],
              trackingInfo: { company, number: trackingNumber },
              notifyCustomer: config.notifyCustomer
            }
          },
          Wire.FulfillmentCreateData
        )
        const payload = data.fulfillmentCreate
        const now = yield* Clock.currentTimeMillis
        if (payload === null) {
          return yield* new Errors.Transient({ connection, message: "fulfillmentCreate returned nothing" })
        }
        const [error] = payload.userErrors
        if (error !== undefined) {
          return yield* Effect.fail(
            ShopifyError.fromUserError(
              error,
              { connection, now, backoffMs: config.rateLimitBackoffMs },
              `order ${request.orderId}: `
            )
          )
        }
        if (payload.fulfillment === null) {
          return yield* new Errors.Transient({ connection, message: "fulfillmentCreate returned no fulfillment" })
        }
        created.push(legacyId(payload.fulfillment.id))
      }
      return { externalId: created.join(","), alreadyShipped: false }
    })

  return { ship }
}
