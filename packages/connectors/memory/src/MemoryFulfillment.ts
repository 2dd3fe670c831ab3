/**
 * MemoryFulfillment: `fulfillment.push` — `POST /v1/orders/{id}/fulfillments` with the carrier,
 * tracking number, optional lines (split shipping) and an idempotency key.
 *
 * Replays are success: the platform answers a repeated idempotency key with the first fulfilment.
 * When it refuses because the tracking number is already on the order (or nothing is left to
 * ship), the order is read back; if it carries this tracking number the write counts as done
 * (`alreadyShipped: true`), otherwise the refusal stands — a conflict an operator must see.
 *
 * @since 0.1.0
 */
import type { Connector, ConnectorError } from "@tkbridge/core"
import { Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import { segment } from "./MemoryClient.ts"
import { FulfillmentResponse, OrderResponse } from "./MemorySchema.ts"

const conflict = (e: ConnectorError.ConnectorError) =>
  e._tag === "Rejected" && (e.code === "duplicate_tracking_number" || e.code === "already_fulfilled")

/** Builds `fulfillment.push`. */
export const make = (client: MemoryClientShape): Connector.FulfillmentPush => ({
  ship: (request) => {
    const path = `/v1/orders/${segment(request.orderId)}`
    const readBack = (refusal: ConnectorError.ConnectorError) =>
      Effect.flatMap(client.api({ method: "GET", path }, OrderResponse), ({ order }) => {
        const mine = order.fulfillments.find((f) => f.tracking_number === request.trackingNumber)
        return mine === undefined ? Effect.fail(refusal) : Effect.succeed({ externalId: mine.id, alreadyShipped: true })
      })
    return client
      .api(
        {
          method: "POST",
          path: `${path}/fulfillments`,
          body: {
            carrier: request.carrier,
            tracking_number: request.trackingNumber,
            line_items: request.lines?.map((l) => ({ line_id: l.lineId, quantity: l.qty })),
            idempotency_key: request.idempotencyKey
          }
        },
        FulfillmentResponse
      )
      .pipe(
        Effect.map(({ fulfillment, replayed }) => ({ externalId: fulfillment.id, alreadyShipped: replayed === true })),
        Effect.catchIf(conflict, readBack)
      )
  }
})
