/**
 * FourPxSign: the request signature of the 4PX open platform (FOP).
 *
 * `sign = lowercase hex MD5(UTF-8 bytes of  name₁value₁ name₂value₂ … + BODY + app_secret)` where the
 * names are the signed system parameters — `app_key`, `format`, `method`, `timestamp`, `v` — sorted
 * ascending and joined with no `=` or `&`, BODY is the exact JSON text sent as the HTTP body, and the
 * secret is appended once at the end. `access_token`, `language` and `sign` itself are never signed.
 *
 * An empty business payload is sent and signed as `{}`: one published client signs `""` but sends
 * `{}`, which cannot verify.
 *
 * @see http://open.4px.com/apiInfo/apiDetail (Signature Generation Rule)
 * @since 0.1.0
 */
import { createHash, timingSafeEqual } from "node:crypto"

/** Query parameters that never take part in the signature. */
export const unsignedParams: ReadonlySet<string> = new Set(["access_token", "language", "sign"])

/** What a signature covers. `params` holds the system parameters as sent (decoded values). */
export interface SignInput {
  readonly params: Readonly<Record<string, string>>
  /** The HTTP body exactly as sent. */
  readonly body: string | Uint8Array
  readonly appSecret: string
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

/** The sorted `name + value` prefix of the signed string. */
export const paramString = (params: Readonly<Record<string, string>>): string =>
  Object.keys(params)
    .filter((name) => !unsignedParams.has(name))
    .sort(byteOrder)
    .map((name) => name + params[name])
    .join("")

/** The exact bytes that are hashed: sorted pairs, then the body, then the secret. */
export const stringToSign = (input: SignInput): Buffer =>
  Buffer.concat([
    Buffer.from(paramString(input.params), "utf8"),
    typeof input.body === "string" ? Buffer.from(input.body, "utf8") : Buffer.from(input.body),
    Buffer.from(input.appSecret, "utf8")
  ])

/** The `sign` query parameter: 32 lowercase hex characters. */
export const sign = (input: SignInput): string => createHash("md5").update(stringToSign(input)).digest("hex")

/**
 * Compares an expected signature with a received one in constant time, ignoring case (a published
 * production client sends upper case, so the gateway evidently compares case-insensitively).
 */
export const verify = (expected: string, received: string): boolean => {
  const a = Buffer.from(expected.toLowerCase(), "utf8")
  const wellFormed = /^[0-9a-fA-F]+$/.test(received) && received.length === expected.length
  const b = wellFormed ? Buffer.from(received.toLowerCase(), "utf8") : Buffer.alloc(a.length)
  return timingSafeEqual(a, b) && wellFormed
}
