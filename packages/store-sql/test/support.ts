/**
 * Test support for the sync-state suites: every suite runs once per dialect (a fresh SQLite file and
 * a fresh PostgreSQL database), plus a small HMAC-signed webhook receiver standing in for a connector.
 */

import * as Crypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import type { Connector, StoreError } from "@tkbridge/core"
import { ChannelEvent, Inbox, Webhook } from "@tkbridge/core"
import { SqlSyncState, SqlTesting, TokenCipher } from "@tkbridge/store-sql"
import { Effect, Layer, Schema } from "effect"

/** Both dialects with every sync-state repository (tokens in plaintext unless a cipher is given). */
export const dialects = SqlTesting.dialects.map((d) => ({
  name: d.name,
  layer: (cipher: Layer.Layer<TokenCipher.TokenCipher, never> = TokenCipher.layerPlaintext) =>
    SqlSyncState.layer({ tokenCipher: cipher }).pipe(Layer.provideMerge(d.layer()), Layer.orDie)
}))

/** A unique name per test, so tests sharing a database never see each other's rows. */
let counter = 0
export const unique = (prefix: string): string => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 7)}`

/** Counts the rows of a table whose `column` equals `value`. */
export const countRows = (table: string, column: string, value: string | number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM ${sql(table)} WHERE ${sql(column)} = ${value}`
    return Number(rows[0]?.n ?? 0)
  })

/** The header the test receiver reads its signature from. */
export const signatureHeader = "x-test-signature"

/** hex(HMAC-SHA256(secret, body)). */
export const sign = (secret: string, body: Uint8Array | string): string =>
  Crypto.createHmac("sha256", secret).update(body).digest("hex")

const Payload = Schema.parseJson(
  Schema.Struct({
    id: Schema.String.pipe(Schema.minLength(1)),
    topic: Schema.String,
    orderId: Schema.String,
    updatedAt: Schema.optional(Schema.Number)
  })
)

/**
 * A connector's receiver as the platforms sign: hex HMAC-SHA256 of the raw body in a header, compared
 * in constant time; the body `{"id","topic","orderId","updatedAt"}` decodes to one `OrderChanged`.
 */
export const hmacReceiver = (secret: string): Connector.WebhookReceiver => ({
  verify: (request) =>
    Effect.suspend(() => {
      const received = request.headers[signatureHeader]
      if (received === undefined) {
        return Effect.fail(new Webhook.WebhookRejected({ reason: "missing_signature", message: "no signature" }))
      }
      const expected = Buffer.from(sign(secret, request.rawBody), "hex")
      const got = Buffer.from(/^[0-9a-f]{64}$/.test(received) ? received : "", "hex")
      return got.length === expected.length && Crypto.timingSafeEqual(got, expected)
        ? Effect.void
        : Effect.fail(new Webhook.WebhookRejected({ reason: "bad_signature", message: "signature mismatch" }))
    }),
  decode: (request) =>
    Schema.decodeUnknown(Payload)(new TextDecoder().decode(request.rawBody)).pipe(
      Effect.mapError((e) => new Webhook.WebhookMalformed({ message: e.message.slice(0, 300) })),
      Effect.map((p) => ({
        dedupeKey: p.id,
        topic: p.topic,
        ...(p.updatedAt !== undefined ? { occurredAt: new Date(p.updatedAt) } : {}),
        events: [
          new ChannelEvent.OrderChanged({
            orderId: p.orderId,
            ...(p.updatedAt !== undefined ? { updatedAt: new Date(p.updatedAt) } : {})
          })
        ]
      }))
    )
})

/** A webhook request for a body. */
export const request = (body: Uint8Array | string, headers: Record<string, string> = {}): Webhook.WebhookRequest => ({
  method: "POST",
  url: "/webhooks/test",
  headers,
  rawBody: typeof body === "string" ? new TextEncoder().encode(body) : body
})

/** Records a delivery with an empty JSON body under `dedupeKey` (topic `t`) in the inbox. */
export const recordDelivery = (
  connection: string,
  dedupeKey: string
): Effect.Effect<Inbox.Recorded, StoreError.StoreError, Inbox.Inbox> =>
  Effect.flatMap(Inbox.Inbox, (inbox) =>
    inbox.record({ connection, delivery: { dedupeKey, topic: "t" }, request: request("{}") })
  )
