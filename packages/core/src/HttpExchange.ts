/**
 * HttpExchange: what went over the wire for one partner call, already redacted — the request as a cURL
 * line and the response. Errors and dead letters carry it so an operator can replay the call by hand.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** A redacted record of one HTTP call. Never holds a secret: redaction happens before it is built. */
export class HttpExchange extends Schema.Class<HttpExchange>("@tkbridge/core/HttpExchange")({
  method: Schema.String,
  url: Schema.String,
  /** The request as a copy-pasteable cURL command, secrets replaced by `***`. */
  curl: Schema.String,
  status: Schema.optional(Schema.Int),
  responseHeaders: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  /** The response body, truncated to a few kilobytes. */
  responseBody: Schema.optional(Schema.String),
  durationMs: Schema.optional(Schema.Number)
}) {}
