/**
 * The error taxonomy every connector maps platform failures onto. The engine's retry, circuit and
 * dead-letter decisions depend on the tag alone, never on a vendor's codes:
 *
 * | tag | meaning | engine reaction |
 * |---|---|---|
 * | `AuthExpired` | the access token is no longer accepted | refresh once, retry |
 * | `AuthRevoked` | the seller withdrew the authorization | pause the connection, keep its work |
 * | `ScopeMissing` | the grant lacks a scope the call needs | dead letter, tell the operator |
 * | `RateLimited` | too many calls; `retryAfter` says how long to wait | wait, retry |
 * | `Suspended` | the platform stopped serving the app until `until` | open the circuit until then |
 * | `Transient` | 5xx, timeout, dropped connection, empty or unparsable 200 | back off, retry |
 * | `Rejected` | the platform refused the request for good (validation, business rule) | dead letter at once |
 * | `NotFound` | the thing addressed does not exist | dead letter or ignore, per flow |
 *
 * Vendor detail (code, HTTP status, the redacted exchange) rides along as data on the error.
 *
 * @since 0.1.0
 */
import { Duration, Predicate, Schema } from "effect"
import { HttpExchange } from "./HttpExchange.ts"

const common = {
  message: Schema.String,
  /** The connection the failing call was made for. */
  connection: Schema.optional(Schema.String),
  /** The platform's own error code, as a string. */
  code: Schema.optional(Schema.String),
  httpStatus: Schema.optional(Schema.Int),
  exchange: Schema.optional(HttpExchange)
}

/** The access token is no longer accepted: refresh it once and retry. */
export class AuthExpired extends Schema.TaggedError<AuthExpired>("@tkbridge/core/AuthExpired")("AuthExpired", common) {}

/** The seller revoked the authorization (or uninstalled the app): the connection needs re-authorization. */
export class AuthRevoked extends Schema.TaggedError<AuthRevoked>("@tkbridge/core/AuthRevoked")("AuthRevoked", common) {}

/** The grant lacks a scope this call needs. `scope` names it when the platform says which. */
export class ScopeMissing extends Schema.TaggedError<ScopeMissing>("@tkbridge/core/ScopeMissing")("ScopeMissing", {
  ...common,
  scope: Schema.optional(Schema.String)
}) {}

/** Too many calls. Wait `retryAfter`, then retry. */
export class RateLimited extends Schema.TaggedError<RateLimited>("@tkbridge/core/RateLimited")("RateLimited", {
  ...common,
  retryAfter: Schema.DurationFromMillis
}) {}

/** The platform suspended the app (for instance after a daily quota breach) until `until`. */
export class Suspended extends Schema.TaggedError<Suspended>("@tkbridge/core/Suspended")("Suspended", {
  ...common,
  until: Schema.Date
}) {}

/** A failure that may succeed on retry: 5xx, timeout, a dropped connection, an empty or unparsable 200. */
export class Transient extends Schema.TaggedError<Transient>("@tkbridge/core/Transient")("Transient", common) {}

/** The platform refused the request for good (validation, business rule). Retrying will not help. */
export class Rejected extends Schema.TaggedError<Rejected>("@tkbridge/core/Rejected")("Rejected", {
  ...common,
  code: Schema.String
}) {}

/** The addressed resource does not exist on the platform. */
export class NotFound extends Schema.TaggedError<NotFound>("@tkbridge/core/NotFound")("NotFound", common) {}

/** Any error of the taxonomy, as a schema (for storing errors in dead letters and messages). */
export const ConnectorError = Schema.Union(
  AuthExpired,
  AuthRevoked,
  ScopeMissing,
  RateLimited,
  Suspended,
  Transient,
  Rejected,
  NotFound
)
/** Any error of the taxonomy. */
export type ConnectorError = typeof ConnectorError.Type

/** The tags of the taxonomy. */
export type ConnectorErrorTag = ConnectorError["_tag"]

const tags: ReadonlySet<string> = new Set([
  "AuthExpired",
  "AuthRevoked",
  "ScopeMissing",
  "RateLimited",
  "Suspended",
  "Transient",
  "Rejected",
  "NotFound"
])

/** True for any value carrying one of the taxonomy's tags (works across package copies: no `instanceof`). */
export const isConnectorError = (u: unknown): u is ConnectorError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * What the engine should do about an error:
 * `retry` (back off and try again), `wait` (retry after the stated delay), `refresh` (refresh the
 * token, then retry once), `pause` (stop the connection until re-authorized) or `dead` (dead letter).
 */
export type Disposition = "retry" | "wait" | "refresh" | "pause" | "dead"

/** Maps an error of the taxonomy to what the engine does about it. */
export const disposition = (error: ConnectorError): Disposition => {
  switch (error._tag) {
    case "Transient":
      return "retry"
    case "RateLimited":
    case "Suspended":
      return "wait"
    case "AuthExpired":
      return "refresh"
    case "AuthRevoked":
      return "pause"
    case "ScopeMissing":
    case "Rejected":
    case "NotFound":
      return "dead"
  }
}

/** How long a `RateLimited` or `Suspended` error asks us to wait, measured from `now`. */
export const waitFor = (error: ConnectorError, now: Date): Duration.Duration | undefined => {
  if (error._tag === "RateLimited") return error.retryAfter
  if (error._tag === "Suspended") return Duration.millis(Math.max(0, error.until.getTime() - now.getTime()))
  return undefined
}
