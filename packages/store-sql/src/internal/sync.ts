/**
 * Helpers shared by the sync-state repositories: dialect-specific column types for DDL, the mapping of
 * driver failures onto `StoreError`, and row conversions. Internal: not part of the package's API.
 *
 * @since 0.1.0
 */

import * as Crypto from "node:crypto"
import type { SqlClient, Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { StoreError } from "@tkbridge/core"
import { Effect } from "effect"

/** An auto-incrementing 64-bit primary key column type. */
export const serialKey = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql.onDialectOrElse({
    pg: () => sql.literal("BIGSERIAL PRIMARY KEY"),
    orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
  })

/** A byte-string column type. */
export const bytes = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql.onDialectOrElse({ pg: () => sql.literal("BYTEA"), orElse: () => sql.literal("BLOB") })

const retryableCodes = new Set([
  "40001",
  "40P01",
  "55P03",
  "57P01",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_BUSY_SNAPSHOT"
])

const causeCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code = (cause as { code?: unknown }).code
  return typeof code === "string" ? code : undefined
}

const causeMessage = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const message = (cause as { message?: unknown }).message
  return typeof message === "string" ? message : undefined
}

/**
 * A driver failure as a `StoreError`. Only the driver's message and code are kept: PostgreSQL's
 * `detail` (which can quote row values, such as a token) is left out.
 */
export const toStoreError =
  (operation: string) =>
  (error: SqlError): StoreError.StoreError => {
    const code = causeCode(error.cause)
    const detail = causeMessage(error.cause)
    const connectionLost = code?.startsWith("08") === true
    return new StoreError.StoreError({
      operation,
      message: [error.message, detail, code ? `(${code})` : undefined].filter(Boolean).join(": ").slice(0, 500),
      retryable: connectionLost || (code !== undefined && retryableCodes.has(code))
    })
  }

const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

/** Maps `SqlError`s (and only them) in an effect's failures to `StoreError`. */
export const storeErrors =
  (operation: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError> | StoreError.StoreError, R> =>
    Effect.mapError(self, (e) => (isSqlError(e) ? toStoreError(operation)(e) : (e as Exclude<E, SqlError>)))

/** A store failure that is not the driver's (a broken invariant found in the data). */
export const invariant = (operation: string, message: string): StoreError.StoreError =>
  new StoreError.StoreError({ operation, message, retryable: false })

/** Epoch milliseconds as a `Date`, or undefined for NULL. */
export const optionalDate = (ms: number | null | undefined): Date | undefined =>
  ms === null || ms === undefined ? undefined : new Date(Number(ms))

/** A nullable column as an optional value. */
export const optional = <A>(value: A | null | undefined): A | undefined => (value === null ? undefined : value)

/** A driver's byte value (Node `Buffer`) as a plain `Uint8Array`. */
export const toBytes = (value: unknown): Uint8Array => {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === "string") return new TextEncoder().encode(value)
  return new Uint8Array(0)
}

/** Parses a JSON column, or undefined for NULL/unparsable text. */
export const parseJson = (text: string | null | undefined): unknown => {
  if (text === null || text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Text safe for a `TEXT` column on both dialects: PostgreSQL refuses NUL characters (22021), and
 * webhook bodies, error messages quoting them and platform ids can carry one. Replaced by U+FFFD.
 */
export const safeText = (value: string): string =>
  value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value

/** A key short enough to index: keys over 255 characters are stored as `sha256:<hex>`. */
export const indexableKey = (key: string): string =>
  key.length <= 255 ? safeText(key) : `sha256:${Crypto.createHash("sha256").update(key).digest("hex")}`

/** A random claim token. */
export const claimToken = (): string => Crypto.randomUUID()
