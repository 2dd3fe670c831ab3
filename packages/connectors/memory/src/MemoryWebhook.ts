/**
 * MemoryWebhook: the `orders.webhook` / `aftersales.webhook` receiver.
 *
 * `verify` checks `x-memory-signature: sha256=<hex>` — HMAC-SHA256 of the raw body with the
 * webhook secret — in constant time, before anything is stored. `decode` reads the envelope
 * `{ id, topic, created_at, data }`: the event id is the dedupe key, orders and after-sales carry
 * their full snapshot, `app/uninstalled` means the seller revoked the app. Topics tkbridge does not
 * act on decode to `Unhandled`, so nothing disappears silently.
 *
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import type { Connector } from "@tkbridge/core"
import { ChannelEvent, Webhook } from "@tkbridge/core"
import { Effect, ParseResult, Redacted, Schema } from "effect"
import { toAfterSale } from "./MemoryAftersales.ts"
import type { MemoryConfig } from "./MemoryConfig.ts"
import { toOrder } from "./MemoryOrders.ts"
import { WebhookEnvelope } from "./MemorySchema.ts"

/** The header that carries the signature. */
export const signatureHeader = "x-memory-signature"

/** The topics the receiver decodes into events. */
export const topics: ReadonlyArray<string> = [
  "orders/created",
  "orders/updated",
  "orders/cancelled",
  "aftersales/created",
  "aftersales/updated",
  "app/uninstalled"
]

const decodeEnvelope = Schema.decodeUnknown(Schema.parseJson(WebhookEnvelope))

const reject = (reason: Webhook.WebhookRejected["reason"], message: string) =>
  Effect.fail(new Webhook.WebhookRejected({ reason, message }))

/** Builds the receiver for one connection. */
export const make = (config: MemoryConfig, connection: string): Connector.WebhookReceiver => {
  const malformed = (message: string) => new Webhook.WebhookMalformed({ message })

  const events = (
    envelope: WebhookEnvelope
  ): Effect.Effect<ReadonlyArray<ChannelEvent.ChannelEvent>, Webhook.WebhookMalformed> =>
    Effect.try({
      try: (): ReadonlyArray<ChannelEvent.ChannelEvent> => {
        const { order, aftersale, reason } = envelope.data
        if (envelope.topic.startsWith("orders/")) {
          if (order === undefined) throw new Error(`${envelope.topic} carries no order`)
          const mapped = toOrder(order, connection)
          return [
            new ChannelEvent.OrderChanged({
              orderId: mapped.externalId,
              status: mapped.status,
              updatedAt: mapped.updatedAt,
              order: mapped
            })
          ]
        }
        if (envelope.topic.startsWith("aftersales/")) {
          if (aftersale === undefined) throw new Error(`${envelope.topic} carries no after-sale`)
          const mapped = toAfterSale(aftersale, connection)
          return [
            new ChannelEvent.AfterSaleChanged({
              afterSaleId: mapped.externalId,
              orderId: mapped.orderId,
              kind: mapped.kind,
              status: mapped.status,
              updatedAt: mapped.updatedAt,
              afterSale: mapped
            })
          ]
        }
        if (envelope.topic === "app/uninstalled") return [new ChannelEvent.AuthorizationRevoked({ reason })]
        return [new ChannelEvent.Unhandled({ topic: envelope.topic })]
      },
      catch: (e) => malformed(e instanceof Error ? e.message : String(e))
    })

  return {
    verify: (request) =>
      Effect.suspend(() => {
        const header = request.headers[signatureHeader]
        if (header === undefined || header.trim() === "")
          return reject("missing_signature", `no ${signatureHeader} header`)
        const hex = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())?.[1]
        if (hex === undefined) return reject("bad_signature", `${signatureHeader} is not sha256=<64 hex digits>`)
        const expected = createHmac("sha256", Redacted.value(config.webhookSecret)).update(request.rawBody).digest()
        return timingSafeEqual(expected, Buffer.from(hex, "hex"))
          ? Effect.void
          : reject("bad_signature", "the signature does not match the body")
      }),
    decode: (request) =>
      Effect.gen(function* () {
        const envelope = yield* decodeEnvelope(new TextDecoder().decode(request.rawBody)).pipe(
          Effect.mapError((e) => malformed(`not a Memory webhook: ${ParseResult.TreeFormatter.formatErrorSync(e)}`))
        )
        return {
          dedupeKey: envelope.id,
          topic: envelope.topic,
          occurredAt: envelope.created_at,
          events: yield* events(envelope)
        } satisfies Webhook.WebhookDelivery
      })
  }
}
