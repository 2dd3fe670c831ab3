/**
 * Ids, tokens and request ids as TikTok issues them: 64-bit decimal ids (all above 2^53, so any
 * client that parses them as JS numbers visibly corrupts them), `TTP_` tokens, `ROW_` shop ciphers
 * and `request_id` = `YYYYMMDDhhmmss` + 18 hex characters.
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"

/** A source of randomness (seeded for reproducible runs). */
export type Random = () => number

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** Issues ids and secrets for one sandbox. */
export class IdSource {
  private next: bigint
  private readonly random: Random | undefined

  constructor(random?: Random) {
    this.random = random
    // Well above 2^53 (9007199254740992): a client that turns ids into numbers loses digits.
    this.next = 7_300_000_000_000_000_000n + BigInt(Math.floor(this.uniform() * 1_000_000)) * 1_000n
  }

  /** A fresh 64-bit id as a decimal string. */
  id(): string {
    this.next += 1n + BigInt(Math.floor(this.uniform() * 97))
    return this.next.toString()
  }

  /** `length` characters of [A-Za-z0-9]. */
  token(length: number): string {
    let out = ""
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.uniform() * alphabet.length)]
    return out
  }

  /** `count` hex characters, upper case. */
  hex(count: number): string {
    let out = ""
    for (let i = 0; i < count; i++)
      out += Math.floor(this.uniform() * 16)
        .toString(16)
        .toUpperCase()
    return out
  }

  private uniform(): number {
    if (this.random !== undefined) return this.random()
    return randomBytes(4).readUInt32BE(0) / 4294967296
  }
}

/** A TikTok `request_id` for a moment (ms since the epoch). */
export const requestId = (ids: IdSource, now: number): string => {
  const d = new Date(now)
  const pad = (n: number, w = 2) => String(n).padStart(w, "0")
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(
    d.getUTCMinutes()
  )}${pad(d.getUTCSeconds())}${ids.hex(18)}`
}
