/**
 * SqlDeadLetter: the dead-letter queue (`DeadLetters` port of @tkbridge/core) on SQLite and
 * PostgreSQL.
 *
 * Letters are written by the repositories whose work failed (inbox, stock outbox, outbound jobs), in
 * the transaction that marks the source row dead; this module reads them and acts on them. A replay is
 * one transaction that opens with a guarded write on the letter (`… SET status = 'replayed' WHERE
 * status = 'open'`) and then resets the source row — inbox entry back to pending, stock push due now,
 * job pending — with its attempt budget restored. Replaying a letter twice, or two operators
 * replaying it at once, resets the row once. Replays and discards are written to the audit trail.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { ConnectorError, DeadLetter, HttpExchange } from "@tkbridge/core"
import { Clock, Effect, Either, Layer, Option, Schema } from "effect"
import { appendAudit } from "./internal/letters.ts"
import { optional, optionalDate, parseJson, safeText, storeErrors, toBytes } from "./internal/sync.ts"

interface LetterRow {
  readonly id: number
  readonly kind: DeadLetter.Kind
  readonly connection: string
  readonly source_key: string
  readonly reason: DeadLetter.Reason
  readonly message: string
  readonly status: DeadLetter.Status
  readonly error: string | null
  readonly exchange: string | null
  readonly http_status: number | null
  readonly first_failed_at: number
  readonly last_failed_at: number
  readonly replay_count: number
  readonly replayed_at: number | null
  readonly discarded_at: number | null
  readonly discard_reason: string | null
  readonly attempts: number
}

interface AttemptRow {
  readonly at: number
  readonly message: string
  readonly error: string | null
  readonly exchange: string | null
}

const decodeError = Schema.decodeUnknownEither(ConnectorError.ConnectorError)
const decodeExchange = Schema.decodeUnknownEither(HttpExchange.HttpExchange)

const error = (text: string | null): ConnectorError.ConnectorError | undefined => {
  const json = parseJson(text)
  if (json === undefined) return undefined
  return Either.getOrUndefined(decodeError(json))
}

const exchange = (text: string | null): HttpExchange.HttpExchange | undefined => {
  const json = parseJson(text)
  if (json === undefined) return undefined
  return Either.getOrUndefined(decodeExchange(json))
}

const summaryFields = (r: LetterRow) => ({
  id: Number(r.id),
  kind: r.kind,
  connection: r.connection,
  key: r.source_key,
  reason: r.reason,
  message: r.message,
  status: r.status,
  httpStatus: r.http_status === null ? undefined : Number(r.http_status),
  attempts: Number(r.attempts),
  firstFailedAt: new Date(Number(r.first_failed_at)),
  lastFailedAt: new Date(Number(r.last_failed_at)),
  replayCount: Number(r.replay_count),
  replayedAt: optionalDate(r.replayed_at),
  discardedAt: optionalDate(r.discarded_at),
  discardReason: optional(r.discard_reason)
})

/** Builds the dead-letter queue over the current `SqlClient`. */
export const make: Effect.Effect<DeadLetter.DeadLettersShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const where = (filter: DeadLetter.Filter) => {
    const status = filter.status ?? "open"
    return sql.and([
      ...(status === "any" ? [] : [sql`d.status = ${status}`]),
      ...(filter.connection !== undefined ? [sql`d.connection = ${filter.connection}`] : []),
      ...(filter.reason !== undefined ? [sql`d.reason = ${filter.reason}`] : []),
      ...(filter.kind !== undefined ? [sql`d.kind = ${filter.kind}`] : []),
      ...(filter.olderThan !== undefined ? [sql`d.first_failed_at <= ${filter.olderThan.getTime()}`] : []),
      ...(filter.newerThan !== undefined ? [sql`d.first_failed_at > ${filter.newerThan.getTime()}`] : [])
    ])
  }

  const attemptCount = sql.literal(`(SELECT COUNT(*) FROM tkb_attempts a
    WHERE a.kind = d.kind AND a.connection = d.connection AND a.source_key = d.source_key) AS attempts`)

  const list: DeadLetter.DeadLettersShape["list"] = (filter = {}) =>
    sql<LetterRow>`SELECT d.*, ${attemptCount} FROM tkb_dead_letters d WHERE ${where(filter)}
      ORDER BY d.first_failed_at, d.id LIMIT ${Math.max(1, Math.floor(filter.limit ?? 100))}`.pipe(
      Effect.map((rows) => rows.map((r) => new DeadLetter.Summary(summaryFields(r)))),
      storeErrors("deadLetters.list")
    )

  const count: DeadLetter.DeadLettersShape["count"] = (filter = {}) =>
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_dead_letters d WHERE ${where(filter)}`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      storeErrors("deadLetters.count")
    )

  const sourceOf = (r: LetterRow): Effect.Effect<Record<string, unknown> | undefined, SqlError> =>
    Effect.gen(function* () {
      switch (r.kind) {
        case "inbox": {
          const rows = yield* sql<{
            dedupe_key: string
            topic: string
            status: string
            received_at: number
            headers: string
            body: unknown
          }>`SELECT dedupe_key, topic, status, received_at, headers, body FROM tkb_inbox WHERE id = ${Number(r.source_key)}`
          const row = rows[0]
          if (row === undefined) return undefined
          return {
            dedupeKey: row.dedupe_key,
            topic: row.topic,
            status: row.status,
            receivedAt: new Date(Number(row.received_at)).toISOString(),
            headers: parseJson(row.headers),
            body: new TextDecoder().decode(toBytes(row.body))
          }
        }
        case "stock_push": {
          const rows = yield* sql<{
            desired_qty: number
            desired_version: number
            pushed_version: number
            pushed_qty: number | null
            status: string
          }>`SELECT desired_qty, desired_version, pushed_version, pushed_qty, status FROM tkb_stock_outbox
            WHERE connection = ${r.connection} AND listing = ${r.source_key}`
          const row = rows[0]
          if (row === undefined) return undefined
          return {
            listing: r.source_key,
            desiredQuantity: Number(row.desired_qty),
            desiredVersion: Number(row.desired_version),
            pushedVersion: Number(row.pushed_version),
            pushedQuantity: row.pushed_qty === null ? undefined : Number(row.pushed_qty),
            status: row.status
          }
        }
        case "job": {
          const rows = yield* sql<{
            kind: string
            lane: string
            idempotency_key: string
            payload: string
            status: string
          }>`SELECT kind, lane, idempotency_key, payload, status FROM tkb_outbound_jobs WHERE id = ${Number(r.source_key)}`
          const row = rows[0]
          if (row === undefined) return undefined
          return {
            kind: row.kind,
            lane: row.lane,
            idempotencyKey: row.idempotency_key,
            payload: parseJson(row.payload),
            status: row.status
          }
        }
      }
    })

  const show: DeadLetter.DeadLettersShape["show"] = (id) =>
    Effect.gen(function* () {
      const rows = yield* sql<LetterRow>`SELECT d.*, ${attemptCount} FROM tkb_dead_letters d WHERE d.id = ${id}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      const attempts = yield* sql<AttemptRow>`SELECT at, message, error, exchange FROM tkb_attempts
        WHERE kind = ${row.kind} AND connection = ${row.connection} AND source_key = ${row.source_key} ORDER BY id`
      const snapshot = yield* sourceOf(row)
      return Option.some(
        new DeadLetter.DeadLetter({
          ...summaryFields(row),
          error: error(row.error),
          exchange: exchange(row.exchange),
          history: attempts.map(
            (a) =>
              new DeadLetter.Attempt({
                at: new Date(Number(a.at)),
                message: a.message,
                error: error(a.error),
                exchange: exchange(a.exchange)
              })
          ),
          source: snapshot
        })
      )
    }).pipe(storeErrors("deadLetters.show"))

  const resetSource = (kind: DeadLetter.Kind, connection: string, key: string, now: number) => {
    switch (kind) {
      case "inbox":
        return sql`UPDATE tkb_inbox SET status = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL
          WHERE id = ${Number(key)} AND status = 'dead'`
      case "stock_push":
        return sql`UPDATE tkb_stock_outbox SET status = 'pending', attempts = 0, next_attempt_at = 0, due_at = ${now},
            claimed_until = NULL, claimed_version = NULL, last_error = NULL
          WHERE connection = ${connection} AND listing = ${key} AND status = 'dead'`
      case "job":
        return sql`UPDATE tkb_outbound_jobs SET status = 'pending', attempts = 0, next_attempt_at = ${now},
            claimed_until = NULL, claim_token = NULL, last_error = NULL
          WHERE id = ${Number(key)} AND status = 'dead'`
    }
  }

  const statusOf = (id: number) =>
    sql<{ status: DeadLetter.Status }>`SELECT status FROM tkb_dead_letters WHERE id = ${id}`.pipe(
      Effect.map((rows) => rows[0]?.status)
    )

  const replay: DeadLetter.DeadLettersShape["replay"] = (id) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ kind: DeadLetter.Kind; connection: string; source_key: string; reason: string }>`UPDATE
          tkb_dead_letters SET status = 'replayed', replayed_at = ${now}, replay_count = replay_count + 1
        WHERE id = ${id} AND status = 'open'
        RETURNING kind, connection, source_key, reason`
      const row = rows[0]
      if (row === undefined) {
        const status = yield* statusOf(id)
        return {
          id,
          outcome: status === undefined ? "not_found" : status === "discarded" ? "discarded" : "already_replayed"
        } satisfies DeadLetter.ReplayOutcome
      }
      yield* resetSource(row.kind, row.connection, row.source_key, now)
      yield* appendAudit(
        sql,
        {
          kind: "operator",
          connection: row.connection,
          subject: `dead-letter:${id}`,
          action: "dlq.replay",
          outcome: "replayed",
          detail: { kind: row.kind, key: row.source_key, reason: row.reason }
        },
        now
      )
      return {
        id,
        outcome: "replayed",
        kind: row.kind,
        connection: row.connection,
        key: row.source_key
      } satisfies DeadLetter.ReplayOutcome
    }).pipe(sql.withTransaction, storeErrors("deadLetters.replay"))

  const replayMatching: DeadLetter.DeadLettersShape["replayMatching"] = (filter) =>
    Effect.gen(function* () {
      const ids = yield* sql<{ id: number }>`SELECT d.id FROM tkb_dead_letters d
        WHERE ${where({ ...filter, status: "open" })} ORDER BY d.first_failed_at, d.id
        LIMIT ${Math.max(1, Math.floor(filter.limit ?? 10_000))}`.pipe(storeErrors("deadLetters.replayMatching"))
      return yield* Effect.forEach(ids, (r) => replay(Number(r.id)))
    })

  const discard: DeadLetter.DeadLettersShape["discard"] = (id, reason) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ kind: DeadLetter.Kind; connection: string; source_key: string }>`UPDATE tkb_dead_letters
        SET status = 'discarded', discarded_at = ${now}, discard_reason = ${safeText(reason.slice(0, 1000))}
        WHERE id = ${id} AND status = 'open'
        RETURNING kind, connection, source_key`
      const row = rows[0]
      if (row === undefined) {
        const status = yield* statusOf(id)
        return {
          id,
          outcome: status === undefined ? "not_found" : status === "discarded" ? "already_discarded" : "replayed"
        } satisfies DeadLetter.DiscardOutcome
      }
      if (row.kind === "stock_push") {
        // Giving up on a stock push gives up on the number it was writing, not on the listing: the
        // row stops being dead with that number counted as settled, so the pool's next change goes
        // out as usual (replay instead to write the current number now).
        yield* sql`UPDATE tkb_stock_outbox SET status = 'pending', pushed_version = desired_version, attempts = 0,
            next_attempt_at = 0, claimed_until = NULL, claimed_version = NULL, last_error = NULL
          WHERE connection = ${row.connection} AND listing = ${row.source_key} AND status = 'dead'`
      }
      yield* appendAudit(
        sql,
        {
          kind: "operator",
          connection: row.connection,
          subject: `dead-letter:${id}`,
          action: "dlq.discard",
          outcome: "discarded",
          detail: { kind: row.kind, key: row.source_key, reason }
        },
        now
      )
      return { id, outcome: "discarded" } satisfies DeadLetter.DiscardOutcome
    }).pipe(sql.withTransaction, storeErrors("deadLetters.discard"))

  return { list, count, show, replay, replayMatching, discard }
})

/** The dead-letter queue as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<DeadLetter.DeadLetters, never, SqlClient.SqlClient> = Layer.effect(
  DeadLetter.DeadLetters,
  make
)
