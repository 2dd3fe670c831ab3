/**
 * TikTokShopSign: the two HMAC-SHA256 signatures of TikTok Shop.
 *
 * Request signing (API 202309 and later): take every query parameter except `sign` and
 * `access_token`, sort the keys by byte order, concatenate `key + value` (decoded values, no
 * separators), prepend the request path, append the exact body bytes unless the media type is
 * `multipart/form-data`, wrap the whole string in the app secret on both sides and take the
 * lowercase hex HMAC-SHA256 keyed with the app secret. The access token travels in the
 * `x-tts-access-token` header and is never signed.
 *
 * Webhook signing: the `Authorization` header is the lowercase hex HMAC-SHA256 of
 * `app_key + raw body`, keyed with the app secret, with no `Bearer` prefix and no timestamp.
 * Verification compares in constant time against the raw bytes exactly as received.
 *
 * @see https://partner.tiktokshop.com/docv2/page/678e3a3d4ddec3030b238faf (Sign your API request)
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** Query parameters that never take part in the request signature. */
export const unsignedParams: ReadonlySet<string> = new Set(["sign", "access_token"])

/** The input of a request signature. `query` holds decoded values. */
export interface SignInput {
  readonly secret: string
  /** The request path without host or query, e.g. `/order/202309/orders/search`. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** The body exactly as sent (bytes or UTF-8 text); absent for GET. */
  readonly body?: string | Uint8Array | undefined
  /** The request's `content-type`; a multipart body is left out of the signature. */
  readonly contentType?: string | undefined
}

/** True when a `content-type` value names `multipart/form-data` (parameters such as `boundary` ignored). */
export const isMultipart = (contentType: string | undefined): boolean =>
  contentType !== undefined && contentType.split(";")[0]!.trim().toLowerCase() === "multipart/form-data"

/** Byte-order comparison, as Go's `sort.Strings` and C#'s `StringComparer.Ordinal` do. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

/** The string that is HMAC'd (before the secret wrap): path + sorted `key value` pairs + body. */
export const stringToSign = (input: Omit<SignInput, "secret">): Buffer => {
  const keys = Object.keys(input.query)
    .filter((k) => !unsignedParams.has(k))
    .sort(byteOrder)
  let head = input.path
  for (const k of keys) head += k + input.query[k]
  const parts = [Buffer.from(head, "utf8")]
  if (input.body !== undefined && !isMultipart(input.contentType)) {
    parts.push(typeof input.body === "string" ? Buffer.from(input.body, "utf8") : Buffer.from(input.body))
  }
  return Buffer.concat(parts)
}

/** The `sign` query parameter for a request: lowercase hex HMAC-SHA256 over `secret + string + secret`. */
export const sign = (input: SignInput): string => {
  const secret = Buffer.from(input.secret, "utf8")
  return createHmac("sha256", secret)
    .update(Buffer.concat([secret, stringToSign(input), secret]))
    .digest("hex")
}

/** The webhook `Authorization` value: lowercase hex HMAC-SHA256(app_secret, app_key + raw body). */
export const signWebhook = (appKey: string, appSecret: string, rawBody: string | Uint8Array): string =>
  createHmac("sha256", Buffer.from(appSecret, "utf8"))
    .update(Buffer.from(appKey, "utf8"))
    .update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody)
    .digest("hex")

/**
 * Compares two hex digests in constant time. Inputs of the wrong length or with non-hex characters
 * are compared against a dummy of the right length first, so a mismatch takes the same time.
 */
export const safeEqualHex = (expected: string, received: string): boolean => {
  const a = Buffer.from(expected.toLowerCase(), "utf8")
  const wellFormed = /^[0-9a-fA-F]+$/.test(received) && received.length === expected.length
  const b = wellFormed ? Buffer.from(received.toLowerCase(), "utf8") : Buffer.alloc(a.length)
  const same = timingSafeEqual(a, b)
  return wellFormed && same
}
