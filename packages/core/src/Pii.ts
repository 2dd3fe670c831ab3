/**
 * Pii: masking of personal data — buyer names, phone numbers, e-mail addresses and postal addresses —
 * for the audit trail and logs. tkbridge masks by default: a value is masked when its key names
 * personal data (`name`, `phone`, `line1`, `postalCode` …) and, anywhere in any string, e-mail
 * addresses and international phone numbers are replaced, so a careless log annotation cannot leak
 * them. Bare digit runs are left alone: they are platform ids (TikTok order ids are 18 digits).
 *
 * `Redacted` values (secrets) become `<redacted>`; masking never reveals them.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { dual } from "effect/Function"

const piiKey =
  /^(name|first_?name|last_?name|full_?name|given_?name|family_?name|buyer_?name|buyer_?email|buyer_?phone|recipient(_?name)?|contact(_?name)?|phone(_?number)?|mobile|tel|telephone|email|e_?mail|address(_?line\d*)?|address_?detail|full_?address|street\d*|line\d|postal_?code|zip(_?code)?|post_?code|post_?town|house_?number|company|buyer_?message|tax_?id|id_?number|ship_?to|shipping_?address|billing_?address)$/i

const emailPattern = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi
// Only international-looking numbers (+44 …): bare digit runs are platform ids.
const phonePattern = /\+\d[\d\s().-]{6,}\d/g

/**
 * True when a key names personal data (case-insensitive; `snake_case` and `camelCase` both match).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isPiiKey = (key: string): boolean => piiKey.test(key)

/**
 * Masks one value whole: keeps the first character and hints at the length (`J*******`).
 *
 * @category masking
 * @since 0.1.0
 */
export const maskText = (value: string): string =>
  value.length <= 1 ? "*" : `${value[0]}${"*".repeat(Math.min(8, value.length - 1))}`

/**
 * Masks an e-mail address, keeping the first character of the local part and the domain's top level
 * (`j***@***.com`), enough to tell two buyers apart in a support conversation.
 *
 * @category masking
 * @since 0.1.0
 */
export const maskEmail = (value: string): string => {
  const at = value.lastIndexOf("@")
  if (at <= 0) return maskText(value)
  const tld = value.slice(value.lastIndexOf(".") + 1)
  return `${value[0]}***@***.${tld.length > 0 && tld.length <= 10 ? tld : "*"}`
}

/**
 * Masks a phone number, keeping only its last two digits (`***-**42`).
 *
 * @category masking
 * @since 0.1.0
 */
export const maskPhone = (value: string): string => {
  const digits = value.replace(/\D/g, "")
  return digits.length < 4 ? "***" : `***-**${digits.slice(-2)}`
}

/**
 * Replaces e-mail addresses and international phone numbers anywhere in free text.
 *
 * @category masking
 * @since 0.1.0
 */
export const maskFreeText = (value: string): string =>
  value.replace(emailPattern, (m) => maskEmail(m)).replace(phonePattern, (m) => maskPhone(m))

const maskLeaf = (key: string, value: string | number): string => {
  const text = String(value)
  if (/e_?mail/i.test(key)) return maskEmail(text)
  if (/phone|mobile|^tel/i.test(key)) return maskPhone(text)
  return maskText(text)
}

/**
 * Masks personal data inside any value (objects, arrays, class instances, dates): PII keys are
 * masked whole, e-mail and phone patterns anywhere, `Redacted` values become `<redacted>`. The
 * result is plain JSON-compatible data; the input is not changed.
 *
 * @category masking
 * @since 0.1.0
 */
export const mask = (value: unknown): unknown => maskAt(value, 0)

const maskAt = (value: unknown, depth: number): unknown => {
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (typeof value === "string") return maskFreeText(value)
  if (typeof value === "bigint") return value.toString()
  if (value === null || typeof value !== "object") return value
  if (depth > 12) return "<nested too deep>"
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (Array.isArray(value)) return value.map((v) => maskAt(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (isPiiKey(k) && v !== null && v !== undefined) {
      out[k] = typeof v === "string" || typeof v === "number" ? maskLeaf(k, v) : maskAt(maskWhole(v), depth + 1)
    } else {
      out[k] = maskAt(v, depth + 1)
    }
  }
  return out
}

// A PII key holding a structure (`shipTo: {…}`): every string inside it is personal data.
const maskWhole = (value: unknown): unknown => {
  if (typeof value === "string" || typeof value === "number") return maskText(String(value))
  if (Array.isArray(value)) return value.map(maskWhole)
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "country" && typeof v === "string" ? v : maskWhole(v)])
    )
  }
  return value
}

/**
 * Adds a log annotation whose value is masked first — the safe way to put an order, an address or a
 * payload into a log line.
 *
 * @category logging
 * @since 0.1.0
 */
export const annotateLogs: {
  (key: string, value: unknown): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, key: string, value: unknown): Effect.Effect<A, E, R>
} = dual(
  3,
  <A, E, R>(self: Effect.Effect<A, E, R>, key: string, value: unknown): Effect.Effect<A, E, R> =>
    Effect.annotateLogs(self, key, mask(value))
)

/**
 * Masks every annotation of a record at once (for `Effect.annotateLogs({...})`).
 *
 * @category logging
 * @since 0.1.0
 */
export const safeAnnotations = (values: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  mask(values) as Record<string, unknown>
