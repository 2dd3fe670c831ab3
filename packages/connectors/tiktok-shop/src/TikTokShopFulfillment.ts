/**
 * TikTokShopFulfillment: the `fulfillment.push` capability — Mark Package As Shipped
 * (`POST /fulfillment/202309/orders/{order_id}/packages`) with the tracking number and TikTok's
 * `shipping_provider_id`, for the whole order or for chosen line items (split shipping).
 *
 * Replays are safe: when TikTok answers "duplicate tracking number" or "already shipped", the
 * order is read back, and if it carries this tracking number the write counts as done
 * (`alreadyShipped: true`). A different tracking number on the order, or this number on another
 * order, stays `Rejected` — that is a conflict an operator must see.
 *
 * The carrier is resolved to a provider id from the `shippingProviders` config, a numeric id as
 * given, or by name among the providers of the order's delivery option (Get Shipping Providers).
 *
 * @see https://partner.tiktokshop.com/docv2/page/6503c95456e2bb0289ee4e81 (Mark Package As Shipped)
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { ConnectorError as Errors } from "@tkbridge/core"
import { Effect, Either } from "effect"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import * as TikTokShopError from "./TikTokShopError.ts"
import { fetchDetail } from "./TikTokShopOrders.ts"
import * as Wire from "./TikTokShopSchema.ts"

const normalize = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "")

/** Builds `fulfillment.push` on a client. */
export const make = (client: TikTokShopClientShape, connection: string): Connector.FulfillmentPush => {
  const providersByOption = new Map<
    string,
    ReadonlyArray<{ readonly id: string; readonly name?: string | undefined }>
  >()

  const loadOrder = (orderId: string): Effect.Effect<Wire.Order, Errors.ConnectorError> =>
    fetchDetail(client, [orderId]).pipe(
      Effect.flatMap((orders) => {
        const order = orders.find((o) => o.id === orderId)
        return order === undefined
          ? Effect.fail(
              new Errors.NotFound({ connection, message: `TikTok Shop has no order ${orderId} in this shop` })
            )
          : Effect.succeed(order)
      })
    )

  const resolveProvider = (carrier: string, orderId: string): Effect.Effect<string, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const configured = client.config.shippingProviders
      const direct =
        configured[carrier] ?? Object.entries(configured).find(([name]) => normalize(name) === normalize(carrier))?.[1]
      if (direct !== undefined) return direct
      if (/^\d+$/.test(carrier)) return carrier
      const order = yield* loadOrder(orderId)
      const option = order.delivery_option_id
      if (option === undefined || option === "") {
        return yield* new Errors.Rejected({
          code: "unknown_carrier",
          connection,
          message: `order ${orderId} has no delivery option to look carrier "${carrier}" up in; map it in shippingProviders`
        })
      }
      const cached = providersByOption.get(option)
      const providers =
        cached ??
        (yield* client
          .call({
            method: "GET",
            path: client.path("shippingProviders", option),
            shopScoped: true,
            data: Wire.ShippingProvidersData
          })
          .pipe(Effect.map((d) => d.shipping_providers ?? [])))
      providersByOption.set(option, providers)
      const found = providers.find((p) => p.name !== undefined && normalize(p.name) === normalize(carrier))
      if (found !== undefined) return found.id
      return yield* new Errors.Rejected({
        code: "unknown_carrier",
        connection,
        message: `carrier "${carrier}" is not a shipping provider of order ${orderId}'s delivery option (${
          providers.map((p) => p.name ?? p.id).join(", ") || "none"
        }); map it in shippingProviders`
      })
    })

  const ship = (
    request: Connector.ShipRequest
  ): Effect.Effect<
    { readonly externalId?: string | undefined; readonly alreadyShipped: boolean },
    Errors.ConnectorError
  > =>
    Effect.gen(function* () {
      const lines = request.lines
      if (lines?.some((l) => l.qty !== 1)) {
        return yield* new Errors.Rejected({
          code: "line_quantity",
          connection,
          message: "TikTok Shop line items are single units: ship lines with qty 1 (one per line item id)"
        })
      }
      const providerId = yield* resolveProvider(request.carrier, request.orderId)
      const outcome = yield* Effect.either(
        client.call({
          method: "POST",
          path: client.path("markShipped", request.orderId),
          shopScoped: true,
          body: {
            tracking_number: request.trackingNumber,
            shipping_provider_id: providerId,
            ...(lines && lines.length > 0 ? { order_line_item_ids: lines.map((l) => l.lineId) } : {})
          },
          data: Wire.MarkShippedData
        })
      )
      if (Either.isRight(outcome)) return { externalId: outcome.right.package_id, alreadyShipped: false }
      const error = outcome.left
      const code = Number(error.code)
      if (
        error._tag !== "Rejected" ||
        !(TikTokShopError.alreadyShippedCodes.has(code) || code === TikTokShopError.duplicateTrackingCode)
      ) {
        return yield* Effect.fail(error)
      }
      // A replay (or a shipment made by hand with the same number) is success; anything else is a conflict.
      const order = yield* loadOrder(request.orderId)
      const wanted = lines?.map((l) => l.lineId)
      const items = (order.line_items ?? []).filter((i) => wanted === undefined || wanted.includes(i.id))
      const carrying = items.filter((i) => i.tracking_number === request.trackingNumber)
      const orderLevel = order.tracking_number === request.trackingNumber
      if ((items.length > 0 && carrying.length === items.length) || (carrying.length === 0 && orderLevel && !wanted)) {
        const packageId = carrying.find((i) => i.package_id)?.package_id ?? order.packages?.[0]?.id
        return { externalId: packageId, alreadyShipped: true }
      }
      const shippedWith = [...new Set(items.map((i) => i.tracking_number).filter(Boolean))].join(", ")
      return yield* new Errors.Rejected({
        code: error.code,
        connection,
        httpStatus: error.httpStatus,
        exchange: error.exchange,
        message:
          code === TikTokShopError.duplicateTrackingCode && shippedWith === ""
            ? `tracking number ${request.trackingNumber} is already used on another TikTok order (${error.message})`
            : `order ${request.orderId} is already shipped with tracking ${shippedWith || "unknown"}, not ${request.trackingNumber} (${error.message})`
      })
    })

  return { ship }
}
