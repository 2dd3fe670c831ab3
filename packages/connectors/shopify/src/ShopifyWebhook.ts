/**
 * ShopifyWebhook: verifies and decodes Shopify webhook deliveries (`orders.webhook`).
 *
 * Verification: `X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(client secret, raw body)),
 * compared in constant time over the exact bytes received (never a re-serialised body). During a
 * secret rotation Shopify may sign with the previous secret for up to an hour, so
 * `previousClientSecret` is accepted too. A delivery for another shop (`X-Shopify-Shop-Domain`) is
 * refused. The un-prefixed header names of Shopify's newer Events delivery are read as a fallback.
 *
 * Decoding: the dedupe key is `X-Shopify-Event-Id` (one event, whichever subscription or retry
 * brought it), falling back to `X-Shopify-Webhook-Id`. Topics:
 * `orders/create`, `orders/updated`, `orders/cancelled` → `OrderChanged` with the full order;
 * `refunds/create` → `AfterSaleChanged` (a completed refund) plus an `OrderChanged` notice;
 * `app/uninstalled` → `AuthorizationRevoked`; `inventory_levels/update` (when subscribed) →
 * `InventoryChanged`; anything else → `Unhandled`, so nothing disappears silently.
 *
 * @see https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
 * @since 0.1.0
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import type { Connector, Webhook } from "@tkbridge/core"
import { AfterSale, ChannelEvent, Webhook as WebhookErrors } from "@tkbridge/core"
import { Effect, Either, ParseResult, Redacted, Schema } from "effect"
import type { ShopifyConfig } from "./ShopifyConfig.ts"
import * as ShopifyOrders from "./ShopifyOrders.ts"
import * as Wire from "./ShopifySchema.ts"

/** The topics tkbridge subscribes to (header values). `inventory_levels/update` is decoded too, when subscribed. */
export const handledTopics: ReadonlyArray<string> = [
  "orders/create",
  "orders/updated",
  "orders/cancelled",
  "refunds/create",
  "app/uninstalled"
]

/** Header names (lower case). */
export const headers = {
  hmac: "x-shopify-hmac-sha256",
  topic: "x-shopify-topic",
  shop: "x-shopify-shop-domain",
  apiVersion: "x-shopify-api-version",
  webhookId: "x-shopify-webhook-id",
  eventId: "x-shopify-event-id",
  triggeredAt: "x-shopify-triggered-at",
  name: "x-shopify-name"
} as const

/** Reads a header by its `X-Shopify-*` name, or the un-prefixed name of the Events delivery. */
const header = (request: Webhook.WebhookRequest, name: string): string | undefined =>
  request.headers[name] ?? request.headers[name.replace(/^x-/, "")]

/** base64(HMAC-SHA256(secret, body)): the value of `X-Shopify-Hmac-Sha256`. */
export const sign = (body: Uint8Array | string, secret: string): string =>
  createHmac("sha256", secret).update(body).digest("base64")

/** Checks a signature against the raw body in constant time, for any of `secrets`. */
export const verifySignature = (body: Uint8Array, signature: string, secrets: ReadonlyArray<string>): boolean => {
  const given = Buffer.from(signature.trim(), "base64")
  let ok = false
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(body).digest()
    // Compare every candidate fully (no early exit), equal lengths only.
    const match = given.length === expected.length && timingSafeEqual(given, expected)
    ok = ok || match
  }
  return ok
}

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, json: unknown, what: string) =>
  Schema.decodeUnknown(schema)(json).pipe(
    Effect.mapError(
      (e) =>
        new WebhookErrors.WebhookMalformed({
          message: `${what}: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 500)}`
        })
    )
  )

const date = (s: string | null | undefined): Date | undefined => {
  if (s == null) return undefined
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Builds the webhook receiver of one connection. */
export const make = (config: ShopifyConfig, connection: string): Connector.WebhookReceiver => {
  const secrets = (): ReadonlyArray<string> => [
    Redacted.value(config.clientSecret),
    ...(config.previousClientSecret ? [Redacted.value(config.previousClientSecret)] : [])
  ]

  const verify = (request: Webhook.WebhookRequest): Effect.Effect<void, Webhook.WebhookRejected> =>
    Effect.suspend(() => {
      const signature = header(request, headers.hmac)
      if (signature === undefined || signature.trim() === "") {
        return Effect.fail(
          new WebhookErrors.WebhookRejected({
            reason: "missing_signature",
            message: "the delivery carries no X-Shopify-Hmac-Sha256 header"
          })
        )
      }
      if (!verifySignature(request.rawBody, signature, secrets())) {
        return Effect.fail(
          new WebhookErrors.WebhookRejected({
            reason: "bad_signature",
            message: "X-Shopify-Hmac-Sha256 does not match the body: not signed with this app's client secret"
          })
        )
      }
      const shop = header(request, headers.shop)
      if (shop !== undefined && shop.toLowerCase() !== config.shop) {
        return Effect.fail(
          new WebhookErrors.WebhookRejected({
            reason: "unknown_app",
            message: `the delivery is for ${shop}, this connection serves ${config.shop}`
          })
        )
      }
      return Effect.void
    })

  const orderEvent = (topic: string, json: unknown) =>
    Effect.gen(function* () {
      const order = yield* decodeJson(Wire.WebhookOrder, json, `${topic} payload`)
      const mapped = ShopifyOrders.fromWebhook(order, connection)
      if (!mapped.ok) {
        const orderId = ShopifyOrders.webhookId(order)
        if (orderId === undefined)
          return yield* new WebhookErrors.WebhookMalformed({ message: `${topic}: ${mapped.reason}` })
        return [new ChannelEvent.Unhandled({ topic: `${topic} (${mapped.reason})` })]
      }
      const o = mapped.value
      return [
        new ChannelEvent.OrderChanged({ orderId: o.externalId, status: o.status, updatedAt: o.updatedAt, order: o })
      ]
    })

  const refundEvents = (json: unknown) =>
    Effect.gen(function* () {
      const refund = yield* decodeJson(Wire.WebhookRefund, json, "refunds/create payload")
      const refundId = ShopifyOrders.webhookId(refund)
      if (refundId === undefined)
        return yield* new WebhookErrors.WebhookMalformed({ message: "refunds/create: no refund id" })
      const updatedAt = date(refund.processed_at) ?? date(refund.created_at)
      if (updatedAt === undefined) {
        return yield* new WebhookErrors.WebhookMalformed({ message: "refunds/create: unreadable created_at" })
      }
      const lines = refund.refund_line_items.flatMap((l) => {
        const sku = l.line_item?.sku?.trim()
        const variant = l.line_item?.variant_id
        if (l.quantity <= 0 || (!sku && !variant)) return []
        return [{ externalSku: sku ? sku : `variant:${variant}`, qty: l.quantity }]
      })
      const restock = [...new Set(refund.refund_line_items.map((l) => l.restock_type ?? "no_restock"))].join(",")
      const afterSale = new AfterSale.AfterSale({
        connection,
        externalId: refundId,
        orderId: refund.order_id,
        kind: "refund",
        status: "completed",
        lines: lines.length > 0 ? lines : undefined,
        reason: refund.note ?? undefined,
        updatedAt,
        platformStatus: restock === "" ? undefined : `restock:${restock}`
      })
      return [
        new ChannelEvent.AfterSaleChanged({
          afterSaleId: refundId,
          orderId: refund.order_id,
          kind: "refund",
          status: "completed",
          updatedAt,
          afterSale
        }),
        new ChannelEvent.OrderChanged({ orderId: refund.order_id, updatedAt })
      ]
    })

  const decode = (request: Webhook.WebhookRequest): Effect.Effect<Webhook.WebhookDelivery, Webhook.WebhookMalformed> =>
    Effect.gen(function* () {
      if (request.rawBody.byteLength > config.webhookMaxBytes) {
        return yield* new WebhookErrors.WebhookMalformed({
          message: `the body is ${request.rawBody.byteLength} bytes, more than the ${config.webhookMaxBytes} accepted`
        })
      }
      const topic = header(request, headers.topic)?.trim()
      if (topic === undefined || topic === "") {
        return yield* new WebhookErrors.WebhookMalformed({ message: "the delivery carries no X-Shopify-Topic header" })
      }
      const parsed = Either.try(() => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(request.rawBody)))
      if (Either.isLeft(parsed)) {
        return yield* new WebhookErrors.WebhookMalformed({ message: `${topic}: the body is not JSON` })
      }
      const json: unknown = parsed.right
      const eventId = header(request, headers.eventId)?.trim()
      const webhookId = header(request, headers.webhookId)?.trim()
      const dedupeKey =
        eventId || webhookId || `${topic}:${createHash("sha256").update(request.rawBody).digest("hex").slice(0, 32)}`
      const occurredAt = date(header(request, headers.triggeredAt))
      let events: ReadonlyArray<ChannelEvent.ChannelEvent>
      switch (topic) {
        case "orders/create":
        case "orders/updated":
        case "orders/cancelled":
        case "orders/paid":
        case "orders/fulfilled":
        case "orders/partially_fulfilled":
        case "orders/edited":
          events = topic === "orders/edited" ? yield* editedEvent(json) : yield* orderEvent(topic, json)
          break
        case "refunds/create":
          events = yield* refundEvents(json)
          break
        case "app/uninstalled":
          events = [new ChannelEvent.AuthorizationRevoked({ reason: `the app was uninstalled from ${config.shop}` })]
          break
        case "inventory_levels/update": {
          const level = yield* decodeJson(Wire.WebhookInventoryLevel, json, "inventory_levels/update payload")
          events = [
            new ChannelEvent.InventoryChanged({
              detail: `inventory item ${level.inventory_item_id} at location ${level.location_id}: available ${level.available ?? "unknown"}`
            })
          ]
          break
        }
        default:
          events = [new ChannelEvent.Unhandled({ topic })]
      }
      return { dedupeKey, topic, ...(occurredAt ? { occurredAt } : {}), events } satisfies Webhook.WebhookDelivery
    })

  // `orders/edited` carries an edit summary, not the order: a notice makes the inbox fetch it.
  const editedEvent = (json: unknown) =>
    Effect.gen(function* () {
      const edit = yield* decodeJson(
        Schema.Struct({ order_edit: Schema.Struct({ order_id: Wire.NumericId }) }),
        json,
        "orders/edited payload"
      )
      return [new ChannelEvent.OrderChanged({ orderId: edit.order_edit.order_id })]
    })

  return { verify, decode }
}
