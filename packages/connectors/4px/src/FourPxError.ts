/**
 * FourPxError: 4PX error codes mapped onto the core error taxonomy.
 *
 * 4PX reports failures in the envelope (`result` `"0"` and `errors[]`) with HTTP 200; gateway codes
 * are six digits (`000012`), direct-shipping codes `DS0000xx`, field validations nine digits
 * (`010101005`). The first error decides the tag; every error's code and text goes into the message
 * so an operator sees which field 4PX refused. The vendor code, HTTP status and the redacted
 * exchange ride along on the error.
 *
 * @see http://open.4px.com/apiInfo/apiDetail (Generic Error Codes, direct-shipping codes)
 * @since 0.1.0
 */
import type { HttpExchange } from "@tkbridge/core"
import { ConnectorError as Errors } from "@tkbridge/core"
import { Duration } from "effect"
import type { FourPxErrorDetail } from "./FourPxSchema.ts"

/** How each documented code is classified. */
export const codes: Readonly<Record<string, { readonly tag: Errors.ConnectorErrorTag; readonly meaning: string }>> = {
  "000004": { tag: "Rejected", meaning: "the gateway could not parse the JSON body" },
  "000011": { tag: "Rejected", meaning: "the method does not exist (check its name and version)" },
  "000012": { tag: "Rejected", meaning: "signature verification failed" },
  "000013": { tag: "AuthRevoked", meaning: "app_key validation failed" },
  "000014": { tag: "AuthExpired", meaning: "invalid authentication parameters" },
  "000015": { tag: "Transient", meaning: "the API is unavailable" },
  "000016": { tag: "ScopeMissing", meaning: "the API is not authorized for this app (enable it in the FOP console)" },
  "000017": { tag: "RateLimited", meaning: "too many requests; retry in one minute" },
  "000018": { tag: "AuthRevoked", meaning: "the app does not exist" },
  "000019": { tag: "Rejected", meaning: "no rate-limit policy is configured for this app (ask 4PX)" },
  "000020": { tag: "Transient", meaning: "request timeout or exception" },
  "000021": { tag: "AuthRevoked", meaning: "the user does not match the app" },
  "000022": { tag: "AuthRevoked", meaning: "the user has not authorized the app" },
  "000023": { tag: "AuthRevoked", meaning: "the user is unavailable" },
  "000024": { tag: "Transient", meaning: "the service provider's API answered 404" },
  "000025": { tag: "ScopeMissing", meaning: "the user type does not match the API" },
  DS000000: { tag: "Rejected", meaning: "failure" },
  DS000003: { tag: "Transient", meaning: "exception" },
  DS000004: { tag: "Rejected", meaning: "parameter error" },
  DS000005: { tag: "Rejected", meaning: "order number empty" },
  DS000006: { tag: "RateLimited", meaning: "too many operations, retry later" },
  DS000007: { tag: "Transient", meaning: "processing (a request with this ref_no is in flight)" },
  DS000008: { tag: "Transient", meaning: "error writing the response" },
  DS000014: { tag: "Rejected", meaning: "the order cannot be cancelled (only in forecast status)" },
  DS000017: { tag: "NotFound", meaning: "order not found" },
  DS000025: { tag: "Transient", meaning: "transfer-number query error" },
  DS000026: { tag: "Transient", meaning: "order-detail query error" },
  DS000032: { tag: "Rejected", meaning: "cannot intercept outside forecast status" },
  DS000046: { tag: "NotFound", meaning: "the label does not exist" }
}

/** Texts 4PX uses for "no such order" under generic codes (`error_code: "0"`). */
const notFoundText = /can ?not find|could not find|not found|not exist|不存在|未找到|找不到|查询不到/i

/** What 4PX answered, as the client read it. */
export interface Failure {
  readonly method: string
  readonly errors: ReadonlyArray<FourPxErrorDetail>
  /** The envelope's `msg`. */
  readonly msg?: string | undefined
  readonly httpStatus: number
  readonly exchange?: HttpExchange.HttpExchange | undefined
  readonly connection?: string | undefined
}

/** How the connection authenticates and how long to wait after rate limiting. */
export interface ErrorContext {
  readonly mode: "apiKey" | "oauth"
  /** Codes that mean the access token expired (oauth mode). */
  readonly tokenExpiredCodes: ReadonlyArray<string>
  readonly rateLimitBackoff: Duration.Duration
  readonly busyBackoff: Duration.Duration
}

/** The errors of a failure as one line: `code message; code message`. */
export const describe = (failure: Failure): string => {
  const parts = failure.errors.map((e) => {
    const data = typeof e.data === "string" && e.data !== "" ? ` [${e.data}]` : ""
    return `${e.code || "?"} ${e.message}${data}`.trim()
  })
  const detail = parts.length > 0 ? parts.join("; ") : (failure.msg ?? "no error detail")
  return `4PX ${failure.method}: ${detail}`
}

/** Maps a 4PX failure onto the taxonomy. */
export const fromFailure = (failure: Failure, context: ErrorContext): Errors.ConnectorError => {
  const first = failure.errors[0]
  const code = first?.code || "unknown"
  const text = describe(failure)
  const common = { connection: failure.connection, httpStatus: failure.httpStatus, exchange: failure.exchange, code }

  if (code === "000012") {
    return new Errors.Rejected({
      ...common,
      message: `4PX rejected the request signature (000012): check appSecret, and that the body is sent byte-exact as signed. ${text}`
    })
  }
  if (context.mode === "oauth" && context.tokenExpiredCodes.includes(code)) {
    return new Errors.AuthExpired({ ...common, message: text })
  }
  if (code === "000014" && context.mode === "apiKey") {
    return new Errors.AuthRevoked({
      ...common,
      message: `4PX refused the credentials (000014): check appKey/appSecret; a software-vendor app needs auth mode "oauth". ${text}`
    })
  }
  const known = codes[code]
  const tag: Errors.ConnectorErrorTag =
    known?.tag ?? (first !== undefined && notFoundText.test(first.message) ? "NotFound" : "Rejected")
  switch (tag) {
    case "RateLimited":
      return new Errors.RateLimited({
        ...common,
        message: text,
        retryAfter: code === "DS000006" ? context.busyBackoff : context.rateLimitBackoff
      })
    case "Transient":
      return new Errors.Transient({ ...common, message: text })
    case "AuthExpired":
      // Outside the configured token codes an auth failure cannot be cured by a refresh.
      return new Errors.AuthRevoked({ ...common, message: text })
    case "AuthRevoked":
      return new Errors.AuthRevoked({ ...common, message: text })
    case "ScopeMissing":
      return new Errors.ScopeMissing({ ...common, message: text, scope: failure.method })
    case "NotFound":
      return new Errors.NotFound({ ...common, message: text })
    case "Suspended":
    case "Rejected":
      return new Errors.Rejected({ ...common, message: known ? `${text} (${known.meaning})` : text })
  }
}

/** The default back-offs, for callers without a config at hand. */
export const defaultContext: ErrorContext = {
  mode: "apiKey",
  tokenExpiredCodes: ["000014"],
  rateLimitBackoff: Duration.minutes(1),
  busyBackoff: Duration.seconds(10)
}
