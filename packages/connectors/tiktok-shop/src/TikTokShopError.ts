/**
 * TikTokShopError: TikTok Shop's error codes mapped onto the core error taxonomy.
 *
 * TikTok reports errors in the body (`code` ≠ 0), sometimes with HTTP 200 (always on the token
 * endpoints), sometimes with 4xx/5xx. The mapping keys on the body code first and falls back to
 * the HTTP status only when the body carries none. The vendor code, HTTP status and the redacted
 * exchange ride along on the error.
 *
 * @see https://partner.tiktokshop.com/docv2/page/678e3a45786253031531b942 (Common errors)
 * @since 0.1.0
 */
import type { HttpExchange } from "@tkbridge/core"
import { ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import type { Duration } from "effect"

/** What TikTok answered, as the client read it. */
export interface Failure {
  readonly code: number
  readonly message: string
  readonly httpStatus: number
  readonly requestId?: string | undefined
  readonly retryAfter?: string | undefined
  readonly exchange?: HttpExchange.HttpExchange | undefined
  readonly connection?: string | undefined
}

/** How each documented code is classified. `AuthExpired` triggers one token refresh and a retry. */
export const codes: Readonly<
  Record<number, { readonly tag: Errors.ConnectorError["_tag"]; readonly meaning: string }>
> = {
  36009002: { tag: "RateLimited", meaning: "too many requests (50 QPS per API per app and shop)" },
  36009003: { tag: "Transient", meaning: "internal error, retry" },
  36009007: { tag: "Transient", meaning: "request timeout" },
  36009009: { tag: "Rejected", meaning: "invalid path (no such endpoint)" },
  36009010: { tag: "Rejected", meaning: "invalid method" },
  36009014: { tag: "Rejected", meaning: "invalid API version name (check the `versions` config)" },
  36009021: { tag: "Rejected", meaning: "file too large" },
  36009022: { tag: "Rejected", meaning: "body must be application/json or multipart/form-data" },
  36009023: { tag: "Rejected", meaning: "content-type must be multipart/form-data" },
  36009033: { tag: "Rejected", meaning: "caller IP is not in the app's IP allow-list" },
  36009004: {
    tag: "Rejected",
    meaning:
      "invalid credentials or parameter; an invalid access token is AuthExpired (refresh once), a timestamp outside the window Rejected naming the clock"
  },
  101000: { tag: "AuthRevoked", meaning: "the access token is not valid for this shop (shop_cipher mismatch)" },
  105002: { tag: "AuthExpired", meaning: "access token expired" },
  105005: { tag: "ScopeMissing", meaning: "the app or token lacks the scope (API package) this call needs" },
  106001: { tag: "Rejected", meaning: "request signature invalid" },
  106013: { tag: "Rejected", meaning: "missing shop_cipher" },
  36004001: { tag: "AuthRevoked", meaning: "refresh token expired: the seller must authorize again" },
  36004004: { tag: "AuthRevoked", meaning: "invalid or already used auth code" },
  36004005: {
    tag: "AuthRevoked",
    meaning: "no such authorization (unknown refresh token or auth code, or deauthorized)"
  },
  12052031: { tag: "NotFound", meaning: "product not found" },
  12052032: { tag: "NotFound", meaning: "product not found" },
  12052260: { tag: "NotFound", meaning: "product not found" },
  12052556: { tag: "NotFound", meaning: "SKU id does not exist" },
  12052097: { tag: "NotFound", meaning: "warehouse does not exist" },
  21008111: { tag: "NotFound", meaning: "the order or package does not belong to this seller" }
}

/** Fulfilment codes that mean "this order is already shipped" (handled as idempotent success after a check). */
export const alreadyShippedCodes: ReadonlySet<number> = new Set([21008099, 21011006, 21011020, 11006021])

/** Fulfilment code for a tracking number that is already in use. */
export const duplicateTrackingCode = 21011025

const tokenMessage = /x-tts-access-token|access_token|access token/i
const timestampMessage = /timestamp/i

/** Maps a TikTok failure onto the taxonomy. `now` (ms) and `backoff` serve a 429 without `Retry-After`. */
export const fromFailure = (failure: Failure, now: number, backoff: Duration.Duration): Errors.ConnectorError => {
  const { code, httpStatus, exchange, connection } = failure
  const common = {
    connection,
    httpStatus,
    exchange,
    code: String(code)
  }
  const text = `TikTok Shop ${code}: ${failure.message}${failure.requestId ? ` (request_id ${failure.requestId})` : ""}`
  if (code === 106001) {
    return new Errors.Rejected({
      ...common,
      code: "106001",
      message: `TikTok rejected the request signature (106001): check app_secret, the system clock and that the body is sent byte-exact. ${text}`
    })
  }
  if (code === 36009004) {
    if (tokenMessage.test(failure.message)) return new Errors.AuthExpired({ ...common, message: text })
    // Retrying cannot help: every retry is signed with the same skewed clock, so it is surfaced instead.
    if (timestampMessage.test(failure.message)) {
      return new Errors.Rejected({
        ...common,
        code: "36009004",
        message: `TikTok rejected the request timestamp (36009004): this host's clock is outside TikTok's window of 5 minutes behind to 30 seconds ahead; synchronise the system clock (NTP). ${text}`
      })
    }
    return new Errors.Rejected({ ...common, code: "36009004", message: text })
  }
  const known = codes[code]
  const tag = known?.tag ?? (httpStatus === 429 ? "RateLimited" : httpStatus >= 500 ? "Transient" : "Rejected")
  switch (tag) {
    case "RateLimited":
      return new Errors.RateLimited({
        ...common,
        message: text,
        retryAfter: ConnectorHttp.parseRetryAfter(failure.retryAfter, now, backoff)
      })
    case "Transient":
      return new Errors.Transient({ ...common, message: text })
    case "AuthExpired":
      return new Errors.AuthExpired({ ...common, message: text })
    case "AuthRevoked":
      return new Errors.AuthRevoked({ ...common, message: text })
    case "ScopeMissing":
      return new Errors.ScopeMissing({ ...common, message: text })
    case "NotFound":
      return new Errors.NotFound({ ...common, message: text })
    default:
      return new Errors.Rejected({ ...common, code: String(code), message: text })
  }
}
