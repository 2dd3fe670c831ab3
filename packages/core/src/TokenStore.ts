/**
 * TokenStore: each connection's OAuth grant, stored durably and versioned.
 *
 * Every write bumps the row's `version`. A refresh reads the grant, calls the platform and stores the
 * new grant only if the version is still the one it read ({@link TokenStoreShape.rotate}); a
 * concurrent refresher loses with {@link TokenConflict} and re-reads instead of spending the rotated
 * refresh token a second time (platforms that rotate refresh tokens revoke the grant when an old one
 * is reused). Expiry and authorization expiry are stored as the platform reported them, so the
 * refresh schedule and `doctor` work from real lifetimes. A connection whose grant was revoked is
 * marked `needsReauth`: its work stays queued until the seller authorizes again.
 *
 * Tokens are `Redacted` in memory; the SQL store can also encrypt them at rest (AES-256-GCM with a
 * key from `TKB_TOKEN_KEY`).
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context, Schema } from "effect"
import type { TokenSet } from "./AccessToken.ts"
import type { StoreError } from "./StoreError.ts"

/**
 * A connection's stored grant.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoredToken {
  readonly connection: string
  /** Grows by one on every write. */
  readonly version: number
  readonly tokens: TokenSet
  /** The grant no longer works (revoked, deauthorized, refresh token expired): the seller must authorize again. */
  readonly needsReauth: boolean
  readonly reauthReason?: string | undefined
  readonly updatedAt: Date
}

/**
 * Another writer stored a new grant since `expected` was read: re-read it instead of refreshing again.
 *
 * @category errors
 * @since 0.1.0
 */
export class TokenConflict extends Schema.TaggedError<TokenConflict>("@tkbridge/core/TokenConflict")("TokenConflict", {
  connection: Schema.String,
  expected: Schema.Int,
  /** The version found, or none when the grant was removed. */
  actual: Schema.optional(Schema.Int)
}) {}

/**
 * Stored tokens could not be read: they were encrypted with a key that is not configured (or is a
 * different one).
 *
 * @category errors
 * @since 0.1.0
 */
export class TokenUnreadable extends Schema.TaggedError<TokenUnreadable>("@tkbridge/core/TokenUnreadable")(
  "TokenUnreadable",
  { connection: Schema.String, message: Schema.String }
) {}

/**
 * A grant that expires (or whose authorization expires) soon, for the refresh schedule.
 *
 * @category models
 * @since 0.1.0
 */
export interface Expiring {
  readonly connection: string
  readonly version: number
  readonly expiresAt?: Date | undefined
  readonly refreshExpiresAt?: Date | undefined
  readonly issuedAt?: Date | undefined
}

/**
 * The token store.
 *
 * @category services
 * @since 0.1.0
 */
export interface TokenStoreShape {
  /** The connection's grant, if any. */
  readonly get: (connection: string) => Effect.Effect<Option.Option<StoredToken>, StoreError | TokenUnreadable>
  /** Stores a grant from a new authorization, replacing any previous one and clearing `needsReauth`. */
  readonly save: (connection: string, tokens: TokenSet) => Effect.Effect<StoredToken, StoreError>
  /** Stores a refreshed grant only if the stored version is still `expectedVersion`. */
  readonly rotate: (
    connection: string,
    expectedVersion: number,
    tokens: TokenSet
  ) => Effect.Effect<StoredToken, StoreError | TokenConflict>
  /**
   * Marks the grant unusable until the seller authorizes again. With `version`, only that grant: a
   * refusal met by a call made with an older grant says nothing about one stored since (the seller
   * authorized again while the call was in flight). Answers whether a grant was marked.
   */
  readonly markNeedsReauth: (
    connection: string,
    reason: string,
    version?: number | undefined
  ) => Effect.Effect<boolean, StoreError>
  /**
   * Grants (not needing re-authorization) whose access token expires at or before `before`, or whose
   * authorization does at or before `authorizationBefore`.
   */
  readonly expiring: (input: {
    readonly before: Date
    readonly authorizationBefore?: Date | undefined
  }) => Effect.Effect<ReadonlyArray<Expiring>, StoreError>
  /** Connections whose grant needs re-authorization, with the reason. */
  readonly needingReauth: Effect.Effect<
    ReadonlyArray<{ readonly connection: string; readonly reason?: string | undefined }>,
    StoreError
  >
  /** Forgets a connection's grant. */
  readonly remove: (connection: string) => Effect.Effect<void, StoreError>
}

/**
 * The token store service.
 *
 * @category services
 * @since 0.1.0
 */
export class TokenStore extends Context.Tag("@tkbridge/core/TokenStore")<TokenStore, TokenStoreShape>() {}
