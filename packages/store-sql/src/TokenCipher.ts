/**
 * TokenCipher: optional encryption at rest for stored OAuth tokens — AES-256-GCM with a 32-byte key
 * from the environment (`TKB_TOKEN_KEY`, 64 hex characters or base64). Each value gets a fresh
 * 96-bit IV and is bound to its connection and field (additional authenticated data), so a ciphertext
 * copied onto another connection's row does not decrypt. A stored value names the key it was made with
 * by a short fingerprint, so a wrong key is reported as such rather than as corrupt data.
 *
 * Without a key, tokens are stored as they are; values already encrypted then fail to read with a
 * clear message. With a key, plaintext values written before it was set are still read, and are
 * encrypted on their next write.
 *
 * @since 0.1.0
 */

import * as Crypto from "node:crypto"
import { Config, ConfigError, Context, Effect, Either, Layer, Option, Redacted } from "effect"

const prefix = "enc:v1:"

/** Encrypts and decrypts token values. `aad` binds a value to where it is stored. */
export interface TokenCipherShape {
  /** True when values are encrypted. */
  readonly encrypting: boolean
  readonly encrypt: (plain: string, aad: string) => string
  /** The plain value, or why it cannot be read. */
  readonly decrypt: (stored: string, aad: string) => Either.Either<string, string>
}

/** The token cipher in use. */
export class TokenCipher extends Context.Tag("@tkbridge/store-sql/TokenCipher")<TokenCipher, TokenCipherShape>() {}

/** True for a value written by the AES-256-GCM cipher. */
export const isEncrypted = (stored: string): boolean => stored.startsWith(prefix)

/** Stores tokens as they are (no key configured). */
export const plaintext: TokenCipherShape = {
  encrypting: false,
  encrypt: (plain) => plain,
  decrypt: (stored) =>
    isEncrypted(stored)
      ? Either.left("the token is encrypted at rest; set TKB_TOKEN_KEY to the key it was stored with")
      : Either.right(stored)
}

/** Parses a 32-byte key given as 64 hex characters or base64. */
export const parseKey = (value: string): Either.Either<Buffer, string> => {
  const trimmed = value.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Either.right(Buffer.from(trimmed, "hex"))
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    if (bytes.length === 32) return Either.right(bytes)
  }
  return Either.left("TKB_TOKEN_KEY must be 32 bytes: 64 hex characters or base64 (e.g. `openssl rand -base64 32`)")
}

/** AES-256-GCM with `key` (32 bytes). */
export const aes256gcm = (key: Redacted.Redacted<string>): Either.Either<TokenCipherShape, string> =>
  Either.map(parseKey(Redacted.value(key)), (bytes) => {
    const fingerprint = Crypto.createHash("sha256").update(bytes).digest("hex").slice(0, 8)
    return {
      encrypting: true,
      encrypt: (plain, aad) => {
        const iv = Crypto.randomBytes(12)
        const cipher = Crypto.createCipheriv("aes-256-gcm", bytes, iv)
        cipher.setAAD(Buffer.from(aad, "utf8"))
        const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()])
        const tag = cipher.getAuthTag()
        return `${prefix}${fingerprint}:${iv.toString("base64url")}:${body.toString("base64url")}:${tag.toString("base64url")}`
      },
      decrypt: (stored, aad) => {
        if (!isEncrypted(stored)) return Either.right(stored)
        const parts = stored.slice(prefix.length).split(":")
        if (parts.length !== 4) return Either.left("the stored token is not in the expected format")
        const [kid, iv, body, tag] = parts as [string, string, string, string]
        if (kid !== fingerprint) {
          return Either.left(`the token was encrypted with another key (fingerprint ${kid}); TKB_TOKEN_KEY has changed`)
        }
        try {
          const decipher = Crypto.createDecipheriv("aes-256-gcm", bytes, Buffer.from(iv, "base64url"))
          decipher.setAAD(Buffer.from(aad, "utf8"))
          decipher.setAuthTag(Buffer.from(tag, "base64url"))
          return Either.right(
            Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8")
          )
        } catch {
          return Either.left("the stored token failed authentication (tampered, or stored for another connection)")
        }
      }
    } satisfies TokenCipherShape
  })

/** No encryption. */
export const layerPlaintext: Layer.Layer<TokenCipher> = Layer.succeed(TokenCipher, plaintext)

/** AES-256-GCM with a given key. */
export const layer = (key: Redacted.Redacted<string>): Layer.Layer<TokenCipher, ConfigError.ConfigError> =>
  Layer.effect(
    TokenCipher,
    Either.match(aes256gcm(key), {
      onLeft: (m) => Effect.fail(ConfigError.InvalidData(["TKB_TOKEN_KEY"], m)),
      onRight: Effect.succeed
    })
  )

/** Encrypts when `TKB_TOKEN_KEY` is set (and valid), stores plaintext otherwise. */
export const layerConfig: Layer.Layer<TokenCipher, ConfigError.ConfigError> = Layer.effect(
  TokenCipher,
  Effect.gen(function* () {
    const key = yield* Config.option(Config.redacted("TKB_TOKEN_KEY"))
    if (Option.isNone(key) || Redacted.value(key.value).trim() === "") return plaintext
    return yield* Either.match(aes256gcm(key.value), {
      onLeft: (m) => Effect.fail(ConfigError.InvalidData(["TKB_TOKEN_KEY"], m)),
      onRight: Effect.succeed
    })
  })
)
