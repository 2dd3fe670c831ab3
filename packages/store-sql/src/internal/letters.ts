/**
 * Attempt history, dead letters and audit rows, written by every sync-state repository inside its
 * own transactions. Internal: not part of the package's API.
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Audit, DeadLetter } from "@tkbridge/core"
import { ConnectorError, HttpExchange, Pii } from "@tkbridge/core"
import { Effect, Either, Schema } from "effect"
import { safeText } from "./sync.ts"

const nullableText = (value: string | undefined): string | null => (value === undefined ? null : safeText(value))

const encodeError = Schema.encodeEither(ConnectorError.ConnectorError)
const encodeExchange = Schema.encodeEither(HttpExchange.HttpExchange)

/** An error of the taxonomy as JSON text (its schema encoding). */
export const errorJson = (error: ConnectorError.ConnectorError | undefined): string | null => {
  if (error === undefined) return null
  const encoded = encodeError(error)
  return JSON.stringify(
    Either.isRight(encoded) ? encoded.right : { _tag: error._tag, message: error.message, connection: error.connection }
  )
}

/** A redacted exchange as JSON text. */
export const exchangeJson = (exchange: HttpExchange.HttpExchange | undefined): string | null => {
  if (exchange === undefined) return null
  const encoded = encodeExchange(exchange)
  return Either.isRight(encoded) ? JSON.stringify(encoded.right) : null
}

/** Identifies the work a letter or an attempt belongs to. */
export interface Source {
  readonly kind: DeadLetter.Kind
  readonly connection: string
  readonly key: string
}

/** Appends one attempt to a source's history. */
export const recordAttempt = (
  sql: SqlClient.SqlClient,
  source: Source,
  attempt: {
    readonly at: number
    readonly message: string
    readonly error?: ConnectorError.ConnectorError | undefined
    readonly exchange?: HttpExchange.HttpExchange | undefined
  }
): Effect.Effect<void, SqlError> =>
  sql`INSERT INTO tkb_attempts (kind, connection, source_key, at, message, error, exchange)
    VALUES (${source.kind}, ${source.connection}, ${source.key}, ${attempt.at}, ${safeText(attempt.message)},
      ${errorJson(attempt.error)}, ${exchangeJson(attempt.exchange ?? attempt.error?.exchange)})`.pipe(Effect.asVoid)

/**
 * Appends the final attempt and opens (or re-opens) the source's dead letter; returns its id. Run it
 * inside the transaction that marks the source row dead.
 */
export const recordLetter = (
  sql: SqlClient.SqlClient,
  source: Source,
  failure: DeadLetter.Failure,
  at: number
): Effect.Effect<number, SqlError> =>
  Effect.gen(function* () {
    const exchange = failure.exchange ?? failure.error?.exchange
    yield* recordAttempt(sql, source, { at, message: failure.message, error: failure.error, exchange })
    const rows = yield* sql<{ id: number }>`INSERT INTO tkb_dead_letters
        (kind, connection, source_key, reason, message, status, error, exchange, http_status, first_failed_at, last_failed_at)
      VALUES (${source.kind}, ${source.connection}, ${source.key}, ${failure.reason}, ${safeText(failure.message)}, 'open',
        ${errorJson(failure.error)}, ${exchangeJson(exchange)}, ${exchange?.status ?? failure.error?.httpStatus ?? null},
        ${at}, ${at})
      ON CONFLICT (kind, connection, source_key) DO UPDATE SET
        reason = excluded.reason, message = excluded.message, status = 'open', error = excluded.error,
        exchange = excluded.exchange, http_status = excluded.http_status, last_failed_at = excluded.last_failed_at,
        discarded_at = NULL, discard_reason = NULL
      RETURNING id`
    return rows[0]!.id
  })

/** Forgets the attempt history of work that succeeded, unless a dead letter still refers to it. */
export const clearAttempts = (sql: SqlClient.SqlClient, source: Source): Effect.Effect<void, SqlError> =>
  sql`DELETE FROM tkb_attempts WHERE kind = ${source.kind} AND connection = ${source.connection}
    AND source_key = ${source.key}
    AND NOT EXISTS (SELECT 1 FROM tkb_dead_letters d
      WHERE d.kind = ${source.kind} AND d.connection = ${source.connection} AND d.source_key = ${source.key})`.pipe(
    Effect.asVoid
  )

/** Appends an audit row, masking personal data in `detail` unless `maskPii` is false; returns its id. */
export const appendAudit = (
  sql: SqlClient.SqlClient,
  input: Audit.AuditInput,
  at: number,
  maskPii = true
): Effect.Effect<number, SqlError> =>
  Effect.gen(function* () {
    const detail =
      input.detail === undefined ? null : JSON.stringify(maskPii ? Pii.mask(input.detail) : plain(input.detail))
    const rows = yield* sql<{
      id: number
    }>`INSERT INTO tkb_audit (at, kind, connection, subject, action, outcome, detail)
      VALUES (${at}, ${input.kind}, ${nullableText(input.connection)}, ${nullableText(input.subject)},
        ${safeText(input.action)}, ${nullableText(input.outcome)}, ${detail})
      RETURNING id`
    return rows[0]!.id
  })

// Redacted values serialize as "<redacted>" on their own; bigints (64-bit ids) as their digits.
const plain = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
