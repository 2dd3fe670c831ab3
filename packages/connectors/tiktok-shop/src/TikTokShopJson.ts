/**
 * TikTokShopJson: JSON parsing that never loses a 64-bit id.
 *
 * TikTok Shop ids are 64-bit integers. The API sends them as strings, but some official webhook
 * examples carry `product_id` as a bare JSON number above 2^53, which `JSON.parse` silently rounds.
 * `parse` reads every integer literal outside the safe range as its exact source text (a string),
 * using the source-text access of `JSON.parse` revivers (V8 11.4+, Node 21+). Wire schemas then
 * accept ids as strings or as safe integers and normalise them to strings.
 *
 * @since 0.1.0
 */

interface ReviverContext {
  readonly source?: string
}

type Reviver = (this: unknown, key: string, value: unknown, context?: ReviverContext) => unknown

const integerLiteral = /^-?\d+$/

/** Thrown when the runtime cannot give the exact text of a number (Node older than 21). */
export class UnsafeNumberError extends Error {
  constructor(value: number) {
    super(`JSON integer ${value} exceeds 2^53 and this runtime cannot recover its exact digits (needs Node 21+)`)
    this.name = "UnsafeNumberError"
  }
}

const reviver: Reviver = (_key, value, context) => {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value
  const source = context?.source
  if (source !== undefined) return integerLiteral.test(source) ? source : value
  if (Number.isInteger(value)) throw new UnsafeNumberError(value)
  return value
}

/**
 * Parses JSON text like `JSON.parse`, except that integer literals beyond ±(2^53 − 1) come back as
 * their exact decimal text. Throws `SyntaxError` on invalid JSON.
 */
export const parse = (text: string): unknown => JSON.parse(text, reviver as (key: string, value: unknown) => unknown)
