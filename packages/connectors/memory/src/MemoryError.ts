/**
 * MemoryError: the Memory platform's errors mapped onto the core taxonomy. The platform answers
 * `{ "error": { "code", "message" } }` with an HTTP status; the code decides where it can, the
 * status otherwise (`ConnectorConnectorHttp.classifyStatus`), so a bare 429, 401 or 5xx from a proxy in
 * front of the platform is still read right.
 *
 * | platform code | taxonomy |
 * |---|---|
 * | `invalid_token`, `token_expired` | `AuthExpired` |
 * | `token_revoked` | `AuthRevoked` |
 * | `insufficient_scope` | `ScopeMissing` (with `scope`) |
 * | `app_suspended` | `Suspended` (with `until`) |
 * | `rate_limited` | `RateLimited` (`Retry-After`) |
 * | `label_not_ready` | `Transient` |
 * | `not_found`, `unknown_sku`, `unknown_location` | `NotFound` |
 * | any other code | by status; a refusal (other 4xx) is `Rejected` with the code |
 *
 * @since 0.1.0
 */
import { ConnectorError, ConnectorHttp } from "@tkbridge/core"
import { Either, Schema } from "effect"
import { ApiError } from "./MemorySchema.ts"

const decodeApiError = Schema.decodeUnknownEither(Schema.parseJson(ApiError))

/** Maps a non-2xx answer to the taxonomy. */
export const fromResponse = (
  result: ConnectorHttp.HttpResult,
  now: number,
  connection: string
): ConnectorError.ConnectorError => {
  const byStatus =
    ConnectorHttp.classifyStatus(result, now, connection) ??
    new ConnectorError.Transient({
      message: `HTTP ${result.status} where an error was expected`,
      connection,
      httpStatus: result.status,
      exchange: result.exchange
    })
  const parsed = decodeApiError(result.text)
  if (Either.isLeft(parsed)) return byStatus
  const { code, message = code, scope, until } = parsed.right.error
  const common = { connection, code, httpStatus: result.status, exchange: result.exchange, message }
  switch (code) {
    case "invalid_token":
    case "token_expired":
      return new ConnectorError.AuthExpired(common)
    case "token_revoked":
      return new ConnectorError.AuthRevoked(common)
    case "insufficient_scope":
      return new ConnectorError.ScopeMissing({ ...common, scope })
    case "app_suspended": {
      const at = until === undefined ? Number.NaN : Date.parse(until)
      return Number.isNaN(at) ? byStatus : new ConnectorError.Suspended({ ...common, until: new Date(at) })
    }
    case "rate_limited":
      return byStatus._tag === "RateLimited"
        ? byStatus
        : new ConnectorError.RateLimited({
            ...common,
            retryAfter: ConnectorHttp.parseRetryAfter(result.headers["retry-after"], now)
          })
    case "label_not_ready":
      return new ConnectorError.Transient(common)
    case "not_found":
    case "unknown_sku":
    case "unknown_location":
      return new ConnectorError.NotFound(common)
    default:
      // Keep the status's reading (401, 429, 5xx …) and only name the vendor code on refusals.
      return byStatus._tag === "Rejected" ? new ConnectorError.Rejected(common) : byStatus
  }
}

/** Maps the error of one update in a stock write. */
export const fromStockResult = (
  error: { readonly code: string; readonly message: string },
  connection: string
): ConnectorError.ConnectorError =>
  error.code === "unknown_sku" || error.code === "unknown_location"
    ? new ConnectorError.NotFound({ connection, code: error.code, message: error.message })
    : new ConnectorError.Rejected({ connection, code: error.code, message: error.message })
