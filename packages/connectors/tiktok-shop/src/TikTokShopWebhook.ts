/**
 * TikTokShopWebhook: verifies TikTok Shop webhook deliveries and turns them into channel events
 * (the `orders.webhook` and `aftersales.webhook` capabilities; TikTok sends every topic to one URL).
 *
 * Verification: the `Authorization` header holds hex HMAC-SHA256(app_secret, app_key + raw body),
 * compared in constant time against the bytes exactly as received. TikTok signs no timestamp, so
 * the signature gives no replay protection; the inbox's dedupe key does that job:
 * `tts_notification_id` when present, otherwise `type:shop_id:entity id:status:update time`.
 *
 * Decoding parses with 64-bit-safe JSON, so a bare-number `product_id` above 2^53 keeps its exact
 * digits. Topics: 1 order status, 3 address, 4 package, 6 deauthorization, 7 authorization
 * expiring, 11 cancellation, 12 return, 27 inventory status; others are recorded as `Unhandled`.
 *
 * @see https://partner.tiktokshop.com/docv2/page/650512b42f024f02be19755f (Webhook configuration)
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { ChannelEvent, Webhook } from "@tkbridge/core"
import { Effect, Redacted, Schema } from "effect"
import { cancelStatuses, returnKind, returnStatuses } from "./TikTokShopAftersales.ts"
import type { TikTokShopConfig } from "./TikTokShopConfig.ts"
import * as TikTokShopJson from "./TikTokShopJson.ts"
import { orderStatuses } from "./TikTokShopOrders.ts"
import * as Wire from "./TikTokShopSchema.ts"
import * as TikTokShopSign from "./TikTokShopSign.ts"

/** The header carrying the signature. */
export const signatureHeader = "authorization"

/** Topic names by webhook `type` (the subscription `event_type`; 27 has none, so a descriptive name). */
export const topics: Readonly<Record<number, string>> = {
  1: "ORDER_STATUS_CHANGE",
  2: "REVERSE_STATUS_UPDATE",
  3: "RECIPIENT_ADDRESS_UPDATE",
  4: "PACKAGE_UPDATE",
  5: "PRODUCT_STATUS_CHANGE",
  6: "SELLER_DEAUTHORIZATION",
  7: "UPCOMING_AUTHORIZATION_EXPIRATION",
  11: "CANCELLATION_STATUS_CHANGE",
  12: "RETURN_STATUS_CHANGE",
  13: "NEW_CONVERSATION",
  14: "NEW_MESSAGE",
  15: "PRODUCT_INFORMATION_CHANGE",
  16: "PRODUCT_CREATION",
  18: "PRODUCT_CATEGORY_CHANGE",
  27: "INVENTORY_STATUS_CHANGE",
  33: "NEW_MESSAGE_LISTENER",
  36: "INVOICE_STATUS_CHANGE",
  37: "PRODUCT_AUDIT_STATUS_CHANGE"
}

/** The topics this connector turns into events (the rest become `Unhandled`). */
export const handledTopics: ReadonlyArray<string> = [1, 3, 4, 6, 7, 11, 12, 27].map((t) => topics[t]!)

/** The name of a webhook type. */
export const topicOf = (type: number): string => topics[type] ?? `TYPE_${type}`

/** What verification needs from the config. */
export type WebhookConfig = Pick<TikTokShopConfig, "appKey" | "appSecret" | "webhookSignature" | "webhookMaxBytes"> & {
  readonly shopId?: string | undefined
  readonly skuKey?: TikTokShopConfig["skuKey"] | undefined
}

/** The expected `Authorization` value for a raw body under `config`. */
export const expectedSignature = (config: WebhookConfig, rawBody: Uint8Array): string =>
  config.webhookSignature === "body"
    ? TikTokShopSign.signWebhook("", Redacted.value(config.appSecret), rawBody)
    : TikTokShopSign.signWebhook(config.appKey, Redacted.value(config.appSecret), rawBody)

/** Checks the `Authorization` header in constant time. */
export const verify = (
  config: WebhookConfig,
  request: Webhook.WebhookRequest
): Effect.Effect<void, Webhook.WebhookRejected> =>
  Effect.suspend(() => {
    const headers = Webhook.normalizeHeaders(request.headers)
    const received = headers[signatureHeader]?.trim()
    if (received === undefined || received === "") {
      return Effect.fail(
        new Webhook.WebhookRejected({ reason: "missing_signature", message: "no Authorization header" })
      )
    }
    if (!TikTokShopSign.safeEqualHex(expectedSignature(config, request.rawBody), received)) {
      return Effect.fail(
        new Webhook.WebhookRejected({
          reason: "bad_signature",
          message: "the Authorization header does not match HMAC-SHA256(app_secret, app_key + body)"
        })
      )
    }
    return Effect.void
  })

const seconds = (s: number | undefined) => (s === undefined ? undefined : new Date(s * 1000))

const stringField = (data: unknown, key: string): string | undefined => {
  if (typeof data !== "object" || data === null) return undefined
  const v = (data as Record<string, unknown>)[key]
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined
}

/**
 * The dedupe key: `tts_notification_id`, or — for payloads without one — the composite
 * `type:shop_id:entity:status:time` (entity = order, return, cancel or product id).
 */
export const dedupeKey = (envelope: Wire.WebhookEnvelope): string => {
  if (envelope.tts_notification_id !== undefined && envelope.tts_notification_id !== "") {
    return envelope.tts_notification_id
  }
  const data = envelope.data
  const entity =
    stringField(data, "return_id") ??
    stringField(data, "cancel_id") ??
    stringField(data, "order_id") ??
    [stringField(data, "product_id"), stringField(data, "sku_id")].filter(Boolean).join("/")
  const packages =
    typeof data === "object" && data !== null && Array.isArray((data as { package_list?: unknown }).package_list)
      ? (data as { package_list: Array<unknown> }).package_list.map((p) => stringField(p, "package_id")).join(",")
      : ""
  const status =
    stringField(data, "order_status") ??
    stringField(data, "return_status") ??
    stringField(data, "cancel_status") ??
    stringField(data, "current_inventory_status") ??
    stringField(data, "sc_type") ??
    stringField(data, "status") ??
    ""
  const time =
    stringField(data, "update_time") ??
    stringField(data, "create_time") ??
    stringField(data, "expiration_time") ??
    String(envelope.timestamp ?? "")
  return [envelope.type, envelope.shop_id ?? "", entity || packages, status, time].join(":")
}

const malformed = (message: string) => new Webhook.WebhookMalformed({ message })

const decodeData = <A, I>(schema: Schema.Schema<A, I>, data: unknown, topic: string) =>
  Schema.decodeUnknown(schema)(data ?? {}).pipe(
    Effect.mapError((e) => malformed(`${topic} payload has an unexpected shape: ${e.message.slice(0, 300)}`))
  )

/** The events of a verified envelope. */
export const events = (
  envelope: Wire.WebhookEnvelope
): Effect.Effect<ReadonlyArray<ChannelEvent.ChannelEvent>, Webhook.WebhookMalformed> =>
  Effect.gen(function* () {
    const topic = topicOf(envelope.type)
    switch (envelope.type) {
      case 1: {
        const d = yield* decodeData(Wire.OrderStatusChange, envelope.data, topic)
        const status = d.order_status === undefined ? undefined : orderStatuses[d.order_status]
        return [
          new ChannelEvent.OrderChanged({
            orderId: d.order_id,
            ...(status ? { status } : {}),
            ...(d.update_time !== undefined ? { updatedAt: seconds(d.update_time) } : {})
          })
        ]
      }
      case 3: {
        const d = yield* decodeData(Wire.RecipientAddressUpdate, envelope.data, topic)
        return [
          new ChannelEvent.OrderChanged({
            orderId: d.order_id,
            ...(d.update_time !== undefined ? { updatedAt: seconds(d.update_time) } : {})
          })
        ]
      }
      case 4: {
        const d = yield* decodeData(Wire.PackageUpdate, envelope.data, topic)
        return (d.package_list ?? []).flatMap((p) => {
          const orders = p.order_id_list ?? []
          const base = { packageId: p.package_id, ...(d.sc_type ? { status: d.sc_type } : {}) }
          return orders.length === 0
            ? [new ChannelEvent.FulfillmentChanged(base)]
            : orders.map((orderId) => new ChannelEvent.FulfillmentChanged({ ...base, orderId }))
        })
      }
      case 6: {
        const d = yield* decodeData(Wire.SellerDeauthorization, envelope.data, topic)
        return [new ChannelEvent.AuthorizationRevoked(d.message ? { reason: d.message } : {})]
      }
      case 7: {
        const d = yield* decodeData(Wire.UpcomingAuthorizationExpiration, envelope.data, topic)
        return [
          new ChannelEvent.AuthorizationExpiring(
            d.expiration_time !== undefined ? { expiresAt: seconds(d.expiration_time) } : {}
          )
        ]
      }
      case 11: {
        const d = yield* decodeData(Wire.CancellationStatusChange, envelope.data, topic)
        const status = d.cancel_status === undefined ? undefined : cancelStatuses[d.cancel_status]
        const at = d.update_time ?? d.create_time
        return [
          new ChannelEvent.AfterSaleChanged({
            afterSaleId: d.cancel_id,
            orderId: d.order_id,
            kind: "cancel",
            ...(status ? { status } : {}),
            ...(at !== undefined ? { updatedAt: seconds(at) } : {})
          })
        ]
      }
      case 12: {
        const d = yield* decodeData(Wire.ReturnStatusChange, envelope.data, topic)
        const status = d.return_status === undefined ? undefined : returnStatuses[d.return_status]
        const at = d.update_time ?? d.create_time
        return [
          new ChannelEvent.AfterSaleChanged({
            afterSaleId: d.return_id,
            orderId: d.order_id,
            kind: returnKind(d.return_type),
            ...(status ? { status } : {}),
            ...(at !== undefined ? { updatedAt: seconds(at) } : {})
          })
        ]
      }
      case 27: {
        const d = yield* decodeData(Wire.InventoryStatusChange, envelope.data, topic)
        const dist = d.inventory_distribution
        const detail = [
          d.sku_id ? `sku_id=${d.sku_id}` : undefined,
          d.current_inventory_status ? `status=${d.current_inventory_status}` : undefined,
          dist?.available_quantity !== undefined ? `available=${dist.available_quantity}` : undefined,
          dist?.total_quantity !== undefined ? `total=${dist.total_quantity}` : undefined
        ]
          .filter(Boolean)
          .join(" ")
        return [
          new ChannelEvent.InventoryChanged({
            ...(d.product_id ? { productId: d.product_id } : {}),
            ...(detail ? { detail } : {})
          })
        ]
      }
      default:
        return [new ChannelEvent.Unhandled({ topic })]
    }
  })

/** Parses and decodes a delivery (signature already verified). Deterministic: the inbox decodes again later. */
export const decode = (
  config: WebhookConfig,
  request: Webhook.WebhookRequest
): Effect.Effect<Webhook.WebhookDelivery, Webhook.WebhookMalformed> =>
  Effect.gen(function* () {
    if (request.rawBody.byteLength > config.webhookMaxBytes) {
      return yield* malformed(`body of ${request.rawBody.byteLength} bytes exceeds ${config.webhookMaxBytes}`)
    }
    let json: unknown
    try {
      json = TikTokShopJson.parse(new TextDecoder("utf-8", { fatal: true }).decode(request.rawBody))
    } catch (e) {
      return yield* malformed(`body is not JSON: ${String(e).slice(0, 200)}`)
    }
    const envelope = yield* Schema.decodeUnknown(Wire.WebhookEnvelope)(json).pipe(
      Effect.mapError((e) => malformed(`not a TikTok Shop notification: ${e.message.slice(0, 300)}`))
    )
    const topic = topicOf(envelope.type)
    const key = dedupeKey(envelope)
    const occurredAt = seconds(envelope.timestamp)
    const base = { dedupeKey: key, topic, ...(occurredAt ? { occurredAt } : {}) }
    if (config.shopId !== undefined && envelope.shop_id !== undefined && envelope.shop_id !== config.shopId) {
      // TikTok sends every shop's notifications to the app's one URL; another shop's event is not ours to apply.
      return {
        ...base,
        events: [new ChannelEvent.Unhandled({ topic: `${topic} for shop ${envelope.shop_id}, not ${config.shopId}` })]
      }
    }
    return { ...base, events: yield* events(envelope) }
  })

/** The shop a raw delivery is for (`shop_id`), for routing one app-wide webhook URL to connections. */
export const shopIdOf = (rawBody: Uint8Array): string | undefined => {
  try {
    const json = TikTokShopJson.parse(new TextDecoder().decode(rawBody))
    const id = typeof json === "object" && json !== null ? (json as Record<string, unknown>).shop_id : undefined
    return typeof id === "string" ? id : typeof id === "number" ? String(id) : undefined
  } catch {
    return undefined
  }
}

/** The webhook receiver of one connection. */
export const make = (config: WebhookConfig): Connector.WebhookReceiver => ({
  verify: (request) => verify(config, request),
  decode: (request) => decode(config, request)
})
