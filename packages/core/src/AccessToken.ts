/**
 * Tokens: what an OAuth grant gives a connection, and the provider connectors ask for the current
 * access token. The provider (implemented by the engine) refreshes single-flight per connection, so
 * a hundred calls that meet an expired token cause exactly one refresh.
 *
 * @since 0.1.0
 */
import { Context, Effect, Redacted, Schema } from "effect"
import type { AuthExpired, AuthRevoked } from "./ConnectorError.ts"

/** A grant. Lifetimes are read from the platform's response, never assumed. */
export class TokenSet extends Schema.Class<TokenSet>("@tkbridge/core/TokenSet")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  /** When the access token stops working. */
  expiresAt: Schema.optional(Schema.Date),
  /** When the refresh token (or the whole authorization) stops working. */
  refreshExpiresAt: Schema.optional(Schema.Date),
  /** When the grant was issued (lifetime = expiresAt − issuedAt, used for the refresh lead time). */
  issuedAt: Schema.optional(Schema.Date),
  scopes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Platform extras needed for calls (TikTok `shop_cipher`, Shopify shop domain …). Not secret. */
  extra: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) })
}) {}

/** Supplies and refreshes a connection's token. */
export interface TokenProvider {
  /** The current token (refreshed ahead of expiry by the engine). */
  readonly current: Effect.Effect<TokenSet, AuthRevoked | AuthExpired>
  /**
   * The platform refused `stale`: refresh unless someone already did, and return the fresh token.
   * Single-flight per connection; freshness is re-checked after the lock.
   */
  readonly refresh: (stale: TokenSet) => Effect.Effect<TokenSet, AuthRevoked | AuthExpired>
}

/** The token provider of the connection a connector instance serves. */
export class AccessToken extends Context.Tag("@tkbridge/core/AccessToken")<AccessToken, TokenProvider>() {}

/** A provider holding one fixed token (tests, API-key connectors that reuse the OAuth shape). */
export const fixed = (token: TokenSet): TokenProvider => ({
  current: Effect.succeed(token),
  refresh: () => Effect.succeed(token)
})

/**
 * Runs `call` with the current token; if the platform answers `AuthExpired`, refreshes once and runs
 * it again with the new token. A second `AuthExpired` is returned to the caller.
 */
export const withToken = <A, E, R>(
  call: (token: TokenSet) => Effect.Effect<A, E | AuthExpired, R>
): Effect.Effect<A, E | AuthExpired | AuthRevoked, R | AccessToken> =>
  Effect.flatMap(AccessToken, (provider) =>
    Effect.flatMap(provider.current, (token) =>
      Effect.catchIf(
        call(token),
        (e): e is AuthExpired => (e as { _tag?: unknown })._tag === "AuthExpired",
        () => Effect.flatMap(provider.refresh(token), call)
      )
    )
  )

/** The access token's value, for the one place that puts it on the wire. */
export const reveal = (token: TokenSet): string => Redacted.value(token.accessToken)
