/**
 * PolledEvents: orders and after-sales read by polling go through the same inbox as webhooks, so one
 * path applies them — one at a time per connection, once, in one transaction each.
 *
 * A polled snapshot is stored as an inbox entry of its own kind: method `POLL`, path
 * `/poll/<connection>`, a JSON body holding the encoded `Order` or `AfterSale`, and the dedupe key
 * `poll:order:<id>:<update time in ms>` (`poll:aftersale:…`). Polling the same state again — the
 * windows overlap on purpose — stores nothing new; a webhook and a poll of the same state are each
 * stored once and the second application is harmless (the ordering guard lets an equal update time
 * through and every ledger step is idempotent); an older state is skipped by the guard.
 *
 * The processor recognises these entries by their method and decodes them here instead of with the
 * connection's webhook receiver.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { Inbox } from "@tkbridge/core"
import { AfterSale, ChannelEvent, Order, Webhook } from "@tkbridge/core"
import { Effect, ParseResult, Schema } from "effect"

/** The method polled entries are stored with (no webhook arrives with it: the edge takes POSTs). */
export const method = "POLL"

/** A polled snapshot. */
export const Polled = Schema.Union(
  Schema.TaggedStruct("PolledOrder", { order: Order.Order }),
  Schema.TaggedStruct("PolledAfterSale", { afterSale: AfterSale.AfterSale })
)
/** A polled snapshot. */
export type Polled = typeof Polled.Type

const encode = Schema.encodeSync(Schema.parseJson(Polled))
const decodeBody = Schema.decodeUnknown(Schema.parseJson(Polled))

/** The ordering guard's entity of an order. */
export const orderEntity = (orderId: string): string => `order:${orderId}`

/** The ordering guard's entity of an after-sale. */
export const afterSaleEntity = (kind: AfterSale.AfterSaleKind, afterSaleId: string): string =>
  `aftersale:${kind}:${afterSaleId}`

const digest = (json: unknown) => createHash("sha256").update(JSON.stringify(json)).digest("hex").slice(0, 32)
const encodeOrder = Schema.encodeSync(Order.Order)
const encodeAfterSale = Schema.encodeSync(AfterSale.AfterSale)

/** A digest of an order's whole state (what the ordering guard keeps next to its update time). */
export const orderState = (order: Order.Order): string => digest(encodeOrder(order))

/** A digest of an after-sale's whole state. */
export const afterSaleState = (afterSale: AfterSale.AfterSale): string => digest(encodeAfterSale(afterSale))

/** Where a polled snapshot stands for the ordering guard: its entity, update time and state digest. */
export interface Clock {
  readonly entity: string
  readonly updatedAt: Date
  readonly state: string
}

/** The ordering guard's entity, update time and state digest of a polled snapshot. */
export const clockOf = (polled: Polled): Clock =>
  polled._tag === "PolledOrder"
    ? {
        entity: orderEntity(polled.order.externalId),
        updatedAt: polled.order.updatedAt,
        state: orderState(polled.order)
      }
    : {
        entity: afterSaleEntity(polled.afterSale.kind, polled.afterSale.externalId),
        updatedAt: polled.afterSale.updatedAt,
        state: afterSaleState(polled.afterSale)
      }

/**
 * True when the guard already let this snapshot's state (its {@link clockOf}) through (or a newer one): recording it
 * would only queue a no-op behind live webhooks. The same update time counts only with the same
 * digest — platforms with one-second update times can show two states under one time.
 */
export const alreadyApplied = (clock: Clock, applied: Inbox.AppliedState | undefined): boolean => {
  if (applied === undefined) return false
  const at = applied.updatedAt.getTime()
  const mine = clock.updatedAt.getTime()
  return at > mine || (at === mine && applied.state === clock.state)
}

/** The dedupe key of a polled order state. */
export const orderKey = (order: Order.Order): string => `poll:order:${order.externalId}:${order.updatedAt.getTime()}`

/** The dedupe key of a polled after-sale state. */
export const afterSaleKey = (afterSale: AfterSale.AfterSale): string =>
  `poll:aftersale:${afterSale.kind}:${afterSale.externalId}:${afterSale.updatedAt.getTime()}`

/** The inbox entry to record for a polled snapshot. */
export const record = (connection: string, polled: Polled): Inbox.RecordInput => {
  const body = new TextEncoder().encode(encode(polled))
  const { dedupeKey, topic, occurredAt } =
    polled._tag === "PolledOrder"
      ? { dedupeKey: orderKey(polled.order), topic: "poll/order", occurredAt: polled.order.updatedAt }
      : { dedupeKey: afterSaleKey(polled.afterSale), topic: "poll/aftersale", occurredAt: polled.afterSale.updatedAt }
  return {
    connection,
    delivery: { dedupeKey, topic, occurredAt },
    request: {
      method,
      url: `/poll/${encodeURIComponent(connection)}`,
      headers: { "content-type": "application/json" },
      rawBody: body
    }
  }
}

/** True for entries recorded by polling. */
export const isPolled = (request: Webhook.WebhookRequest): boolean => request.method === method

/** The events of a polled entry (the snapshot it holds). */
export const decode = (entry: Inbox.InboxEntry): Effect.Effect<Webhook.WebhookDelivery, Webhook.WebhookMalformed> =>
  decodeBody(new TextDecoder().decode(entry.request.rawBody)).pipe(
    Effect.map((polled): Webhook.WebhookDelivery => {
      if (polled._tag === "PolledOrder") {
        const o = polled.order
        return {
          dedupeKey: entry.dedupeKey,
          topic: entry.topic,
          occurredAt: o.updatedAt,
          events: [
            new ChannelEvent.OrderChanged({ orderId: o.externalId, status: o.status, updatedAt: o.updatedAt, order: o })
          ]
        }
      }
      const a = polled.afterSale
      return {
        dedupeKey: entry.dedupeKey,
        topic: entry.topic,
        occurredAt: a.updatedAt,
        events: [
          new ChannelEvent.AfterSaleChanged({
            afterSaleId: a.externalId,
            orderId: a.orderId,
            kind: a.kind,
            status: a.status,
            updatedAt: a.updatedAt,
            afterSale: a
          })
        ]
      }
    }),
    Effect.mapError(
      (e) =>
        new Webhook.WebhookMalformed({
          message: `a polled entry cannot be read: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
        })
    )
  )
