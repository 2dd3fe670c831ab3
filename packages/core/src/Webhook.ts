/**
 * Webhook: a delivery as the edge received it (raw bytes, untouched) and the two ways it can be turned
 * away — a bad signature (401) or a payload that cannot be understood (400, and recorded).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { ChannelEvent } from "./ChannelEvent.ts"

/** A webhook delivery exactly as received. `rawBody` is byte-exact: signatures are computed over it. */
export interface WebhookRequest {
  readonly method: string
  /** Path and query as received, e.g. `/webhooks/tiktok-uk?x=1`. */
  readonly url: string
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly rawBody: Uint8Array
}

/** The signature is missing, malformed or does not match: answered 401, nothing stored. */
export class WebhookRejected extends Schema.TaggedError<WebhookRejected>("@tkbridge/core/WebhookRejected")(
  "WebhookRejected",
  { reason: Schema.Literal("missing_signature", "bad_signature", "stale", "unknown_app"), message: Schema.String }
) {}

/** The body is signed but cannot be understood: answered 400 and recorded for the operator. */
export class WebhookMalformed extends Schema.TaggedError<WebhookMalformed>("@tkbridge/core/WebhookMalformed")(
  "WebhookMalformed",
  { message: Schema.String }
) {}

/** A verified, decoded delivery. `dedupeKey` is the platform's event id (or a composite when it has none). */
export interface WebhookDelivery {
  readonly dedupeKey: string
  readonly topic: string
  readonly occurredAt?: Date
  readonly events: ReadonlyArray<ChannelEvent>
}

/** Lower-cases header names so lookups do not depend on how the client spelled them. */
export const normalizeHeaders = (headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>) => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    out[k.toLowerCase()] = typeof v === "string" ? v : v.join(", ")
  }
  return out
}
