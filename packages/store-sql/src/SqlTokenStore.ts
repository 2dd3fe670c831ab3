/**
 * SqlTokenStore: versioned OAuth grants (`TokenStore` port of @tkbridge/core) on SQLite and
 * PostgreSQL, optionally encrypted at rest (`TokenCipher`).
 *
 * One row per connection. `save` (a new authorization) upserts and bumps the version; `rotate` (a
 * refresh) is `UPDATE … SET version = version + 1 … WHERE version = <the version read>`, so of two
 * refreshers that read the same grant exactly one stores its result — the other gets `TokenConflict`
 * and re-reads, and a rotated refresh token is never spent twice.
 *
 * Token values never appear in errors: a failed write reports the operation, not the row.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { AccessToken, TokenStore } from "@tkbridge/core"
import { Clock, Effect, Either, Layer, Option, Redacted } from "effect"
import { optional, optionalDate, parseJson, safeText, storeErrors } from "./internal/sync.ts"
import { TokenCipher } from "./TokenCipher.ts"

interface TokenRow {
  readonly connection: string
  readonly version: number
  readonly access_token: string
  readonly refresh_token: string | null
  readonly expires_at: number | null
  readonly refresh_expires_at: number | null
  readonly issued_at: number | null
  readonly scopes: string
  readonly extra: string
  readonly needs_reauth: number
  readonly reauth_reason: string | null
  readonly updated_at: number
}

const stringArray = (u: unknown): ReadonlyArray<string> =>
  Array.isArray(u) ? u.filter((s): s is string => typeof s === "string") : []

const stringRecord = (u: unknown): Record<string, string> =>
  typeof u === "object" && u !== null && !Array.isArray(u)
    ? Object.fromEntries(Object.entries(u).filter((e): e is [string, string] => typeof e[1] === "string"))
    : {}

/** Builds the token store over the current `SqlClient` and `TokenCipher`. */
export const make: Effect.Effect<TokenStore.TokenStoreShape, never, SqlClient.SqlClient | TokenCipher> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const cipher = yield* TokenCipher

    const aad = (connection: string, field: "access" | "refresh") => `tkbridge:${connection}:${field}`

    const columns = (connection: string, tokens: AccessToken.TokenSet) => ({
      access: cipher.encrypt(Redacted.value(tokens.accessToken), aad(connection, "access")),
      refresh:
        tokens.refreshToken === undefined
          ? null
          : cipher.encrypt(Redacted.value(tokens.refreshToken), aad(connection, "refresh")),
      expiresAt: tokens.expiresAt?.getTime() ?? null,
      refreshExpiresAt: tokens.refreshExpiresAt?.getTime() ?? null,
      issuedAt: tokens.issuedAt?.getTime() ?? null,
      scopes: JSON.stringify(tokens.scopes),
      extra: JSON.stringify(tokens.extra)
    })

    const toStored = (row: TokenRow): Effect.Effect<TokenStore.StoredToken, TokenStore.TokenUnreadable> =>
      Effect.gen(function* () {
        const unreadable = (message: string) => new TokenStore.TokenUnreadable({ connection: row.connection, message })
        const access = cipher.decrypt(row.access_token, aad(row.connection, "access"))
        if (Either.isLeft(access)) return yield* unreadable(access.left)
        let refresh: string | undefined
        if (row.refresh_token !== null) {
          const r = cipher.decrypt(row.refresh_token, aad(row.connection, "refresh"))
          if (Either.isLeft(r)) return yield* unreadable(r.left)
          refresh = r.right
        }
        const expiresAt = optionalDate(row.expires_at)
        const refreshExpiresAt = optionalDate(row.refresh_expires_at)
        const issuedAt = optionalDate(row.issued_at)
        const tokens = new AccessToken.TokenSet({
          accessToken: Redacted.make(access.right),
          ...(refresh !== undefined ? { refreshToken: Redacted.make(refresh) } : {}),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
          ...(refreshExpiresAt !== undefined ? { refreshExpiresAt } : {}),
          ...(issuedAt !== undefined ? { issuedAt } : {}),
          scopes: stringArray(parseJson(row.scopes)),
          extra: stringRecord(parseJson(row.extra))
        })
        return {
          connection: row.connection,
          version: Number(row.version),
          tokens,
          needsReauth: Number(row.needs_reauth) === 1,
          reauthReason: optional(row.reauth_reason),
          updatedAt: new Date(Number(row.updated_at))
        }
      })

    const read = (connection: string) =>
      sql<TokenRow>`SELECT * FROM tkb_tokens WHERE connection = ${connection}`.pipe(Effect.map((rows) => rows[0]))

    const get: TokenStore.TokenStoreShape["get"] = (connection) =>
      Effect.gen(function* () {
        const row = yield* read(connection)
        if (row === undefined || row.access_token === "") return Option.none()
        return Option.some(yield* toStored(row))
      }).pipe(storeErrors("tokens.get"))

    const saved = (connection: string, tokens: AccessToken.TokenSet, row: { version: number; updated_at: number }) =>
      ({
        connection,
        version: Number(row.version),
        tokens,
        needsReauth: false,
        updatedAt: new Date(Number(row.updated_at))
      }) satisfies TokenStore.StoredToken

    const save: TokenStore.TokenStoreShape["save"] = (connection, tokens) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const c = columns(connection, tokens)
        const rows = yield* sql<{ version: number; updated_at: number }>`INSERT INTO tkb_tokens
            (connection, version, access_token, refresh_token, expires_at, refresh_expires_at, issued_at, scopes, extra,
             needs_reauth, reauth_reason, updated_at)
          VALUES (${connection}, 1, ${c.access}, ${c.refresh}, ${c.expiresAt}, ${c.refreshExpiresAt}, ${c.issuedAt},
            ${c.scopes}, ${c.extra}, 0, NULL, ${now})
          ON CONFLICT (connection) DO UPDATE SET
            version = tkb_tokens.version + 1, access_token = excluded.access_token,
            refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
            refresh_expires_at = excluded.refresh_expires_at, issued_at = excluded.issued_at,
            scopes = excluded.scopes, extra = excluded.extra, needs_reauth = 0, reauth_reason = NULL,
            updated_at = excluded.updated_at
          RETURNING version, updated_at`
        return saved(connection, tokens, rows[0]!)
      }).pipe(storeErrors("tokens.save"))

    const rotate: TokenStore.TokenStoreShape["rotate"] = (connection, expectedVersion, tokens) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const c = columns(connection, tokens)
        const rows = yield* sql<{ version: number; updated_at: number }>`UPDATE tkb_tokens SET
            version = version + 1, access_token = ${c.access}, refresh_token = ${c.refresh},
            expires_at = ${c.expiresAt}, refresh_expires_at = ${c.refreshExpiresAt}, issued_at = ${c.issuedAt},
            scopes = ${c.scopes}, extra = ${c.extra}, needs_reauth = 0, reauth_reason = NULL, updated_at = ${now}
          WHERE connection = ${connection} AND version = ${expectedVersion} AND access_token <> ''
          RETURNING version, updated_at`
        if (rows.length > 0) return saved(connection, tokens, rows[0]!)
        const current = yield* sql<{ version: number }>`SELECT version FROM tkb_tokens WHERE connection = ${connection}`
        return yield* new TokenStore.TokenConflict({
          connection,
          expected: expectedVersion,
          ...(current[0] !== undefined ? { actual: Number(current[0].version) } : {})
        })
      }).pipe(storeErrors("tokens.rotate"))

    const markNeedsReauth: TokenStore.TokenStoreShape["markNeedsReauth"] = (connection, reason, version) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ version: number }>`UPDATE tkb_tokens
          SET needs_reauth = 1, reauth_reason = ${safeText(reason.slice(0, 1000))}, updated_at = ${now}
          WHERE ${sql.and([
            sql`connection = ${connection}`,
            sql`access_token <> ''`,
            ...(version !== undefined ? [sql`version = ${version}`] : [])
          ])}
          RETURNING version`
        return rows.length > 0
      }).pipe(storeErrors("tokens.markNeedsReauth"))

    const expiring: TokenStore.TokenStoreShape["expiring"] = (input) =>
      sql<{
        connection: string
        version: number
        expires_at: number | null
        refresh_expires_at: number | null
        issued_at: number | null
      }>`SELECT connection, version, expires_at, refresh_expires_at, issued_at FROM tkb_tokens
        WHERE needs_reauth = 0 AND access_token <> '' AND (
          (expires_at IS NOT NULL AND expires_at <= ${input.before.getTime()})
          OR (refresh_expires_at IS NOT NULL AND refresh_expires_at <= ${(input.authorizationBefore ?? input.before).getTime()})
        )
        ORDER BY connection`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            connection: r.connection,
            version: Number(r.version),
            expiresAt: optionalDate(r.expires_at),
            refreshExpiresAt: optionalDate(r.refresh_expires_at),
            issuedAt: optionalDate(r.issued_at)
          }))
        ),
        storeErrors("tokens.expiring")
      )

    const needingReauth: TokenStore.TokenStoreShape["needingReauth"] = sql<{
      connection: string
      reauth_reason: string | null
    }>`SELECT connection, reauth_reason FROM tkb_tokens WHERE needs_reauth = 1 ORDER BY connection`.pipe(
      Effect.map((rows) => rows.map((r) => ({ connection: r.connection, reason: optional(r.reauth_reason) }))),
      storeErrors("tokens.needingReauth")
    )

    // A tombstone rather than a delete: the version keeps growing, so a refresher that read the old
    // grant can never store over a later authorization that happens to restart at the same version.
    const remove: TokenStore.TokenStoreShape["remove"] = (connection) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* sql`UPDATE tkb_tokens SET version = version + 1, access_token = '', refresh_token = NULL,
            expires_at = NULL, refresh_expires_at = NULL, issued_at = NULL, scopes = '[]', extra = '{}',
            needs_reauth = 0, reauth_reason = NULL, updated_at = ${now}
          WHERE connection = ${connection}`
      }).pipe(storeErrors("tokens.remove"))

    return { get, save, rotate, markNeedsReauth, expiring, needingReauth, remove }
  }
)

/** The token store as a layer over the current `SqlClient` and `TokenCipher`. */
export const layer: Layer.Layer<TokenStore.TokenStore, never, SqlClient.SqlClient | TokenCipher> = Layer.effect(
  TokenStore.TokenStore,
  make
)
