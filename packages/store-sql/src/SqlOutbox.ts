/**
 * SqlOutbox: the stock-push outbox (`StockOutbox` port of @tkbridge/core) on SQLite and PostgreSQL.
 *
 * One row per (connection, listing): `setDesired` is a single upsert that replaces the desired
 * quantity and bumps `desired_version`, so concurrent writers converge on the last committed value.
 * Claims are one guarded `UPDATE … RETURNING` that takes a lease on the current version; `markPushed`
 * only moves `pushed_version` forward. A listing is due when `desired_version > pushed_version`, its
 * `due_at` and back-off have passed and no live lease holds it.
 *
 * Coalescing: a change to a quiet listing is due at once (or `coalesce_ms` after its last push); a
 * change to a listing that already waits keeps the earlier due time, so a burst becomes one push of the
 * latest value; a change that lands while a push is in flight is due `coalesce_ms` after that push.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { DeadLetter, Outbox as OutboxPort } from "@tkbridge/core"
import { Outbox } from "@tkbridge/core"
import { Clock, Effect, Layer, Option } from "effect"
import { clearAttempts, recordAttempt, recordLetter } from "./internal/letters.ts"
import { invariant, optional, optionalDate, safeText, storeErrors } from "./internal/sync.ts"

interface StockRow {
  readonly connection: string
  readonly listing: string
  readonly desired_qty: number
  readonly desired_version: number
  readonly pushed_version: number
  readonly pushed_qty: number | null
  readonly pushed_at: number | null
  readonly status: OutboxPort.StockPushStatus
  readonly due_at: number
  readonly attempts: number
  readonly next_attempt_at: number
  readonly claimed_until: number | null
  readonly last_error: string | null
  readonly updated_at: number
}

const toRow = (r: StockRow): OutboxPort.StockPushRow => ({
  connection: r.connection,
  listing: r.listing,
  desiredQuantity: Number(r.desired_qty),
  desiredVersion: Number(r.desired_version),
  pushedVersion: Number(r.pushed_version),
  pushedQuantity: r.pushed_qty === null ? undefined : Number(r.pushed_qty),
  pushedAt: optionalDate(r.pushed_at),
  status: r.status,
  dueAt: new Date(Number(r.due_at)),
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at) > 0 ? new Date(Number(r.next_attempt_at)) : undefined,
  claimedUntil: optionalDate(r.claimed_until),
  lastError: optional(r.last_error),
  updatedAt: new Date(Number(r.updated_at))
})

const source = (claim: {
  connection: string
  listing: string
}): {
  kind: DeadLetter.Kind
  connection: string
  key: string
} => ({ kind: "stock_push", connection: claim.connection, key: claim.listing })

/** Builds the stock-push outbox over the current `SqlClient`. */
export const make: Effect.Effect<OutboxPort.StockOutboxShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const setDesired: OutboxPort.StockOutboxShape["setDesired"] = (input) =>
    Effect.gen(function* () {
      if (!Number.isSafeInteger(input.quantity) || input.quantity < 0) {
        return yield* invariant(
          "outbox.setDesired",
          `a published quantity must be a whole number ≥ 0, got ${input.quantity}`
        )
      }
      const now = yield* Clock.currentTimeMillis
      const coalesce = Math.max(0, Math.floor(input.coalesceMs ?? 0))
      const force = input.force === true ? 1 : 0
      const rows = yield* sql<{ desired_version: number }>`INSERT INTO tkb_stock_outbox
          (connection, listing, desired_qty, desired_version, pushed_version, status, due_at, coalesce_ms, updated_at)
        VALUES (${input.connection}, ${input.listing}, ${input.quantity}, 1, 0, 'pending', ${now}, ${coalesce}, ${now})
        ON CONFLICT (connection, listing) DO UPDATE SET
          desired_qty = excluded.desired_qty,
          desired_version = tkb_stock_outbox.desired_version + 1,
          coalesce_ms = excluded.coalesce_ms,
          due_at = CASE
            WHEN tkb_stock_outbox.desired_version > tkb_stock_outbox.pushed_version THEN tkb_stock_outbox.due_at
            WHEN COALESCE(tkb_stock_outbox.pushed_at, 0) + excluded.coalesce_ms > excluded.due_at
              THEN COALESCE(tkb_stock_outbox.pushed_at, 0) + excluded.coalesce_ms
            ELSE excluded.due_at END,
          updated_at = excluded.updated_at
        WHERE tkb_stock_outbox.desired_qty <> excluded.desired_qty OR ${force} = 1
        RETURNING desired_version`
      if (rows.length > 0) return { version: Number(rows[0]!.desired_version), changed: true }
      const current = yield* sql<{ desired_version: number }>`SELECT desired_version FROM tkb_stock_outbox
        WHERE connection = ${input.connection} AND listing = ${input.listing}`
      if (current.length === 0) return yield* invariant("outbox.setDesired", "the listing's row disappeared")
      return { version: Number(current[0]!.desired_version), changed: false }
    }).pipe(storeErrors("outbox.setDesired"))

  const claimDue: OutboxPort.StockOutboxShape["claimDue"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const until = now + Math.max(1, Math.floor(input.leaseMs))
      const limit = Math.max(1, Math.floor(input.limit))
      const due = sql.and([
        sql`connection = ${input.connection}`,
        sql`status = 'pending'`,
        sql`desired_version > pushed_version`,
        sql`due_at <= ${now}`,
        sql`next_attempt_at <= ${now}`,
        sql`(claimed_until IS NULL OR claimed_until <= ${now})`
      ])
      const rows = yield* sql<{
        listing: string
        desired_qty: number
        desired_version: number
        pushed_qty: number | null
        attempts: number
        due_at: number
      }>`UPDATE tkb_stock_outbox SET claimed_version = desired_version, claimed_until = ${until}
        WHERE ${due} AND listing IN (
          SELECT listing FROM tkb_stock_outbox WHERE ${due} ORDER BY due_at, listing LIMIT ${limit}
        )
        RETURNING listing, desired_qty, desired_version, pushed_qty, attempts, due_at`
      return rows
        .slice()
        .sort((a, b) => Number(a.due_at) - Number(b.due_at) || (a.listing < b.listing ? -1 : 1))
        .map(
          (r): OutboxPort.StockPushClaim => ({
            connection: input.connection,
            listing: r.listing,
            quantity: Number(r.desired_qty),
            version: Number(r.desired_version),
            idempotencyKey: Outbox.stockPushKey(input.connection, r.listing, Number(r.desired_version)),
            pushedQuantity: r.pushed_qty === null ? undefined : Number(r.pushed_qty),
            attempts: Number(r.attempts)
          })
        )
    }).pipe(storeErrors("outbox.claimDue"))

  // Epoch milliseconds are cast: next to an INTEGER column PostgreSQL would type the parameter int4.
  const markPushed: OutboxPort.StockOutboxShape["markPushed"] = (claim) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ listing: string }>`UPDATE tkb_stock_outbox SET
          pushed_version = ${claim.version}, pushed_qty = ${claim.quantity}, pushed_at = ${now},
          attempts = 0, next_attempt_at = 0, last_error = NULL,
          due_at = CASE WHEN desired_version > ${claim.version} THEN CAST(${now} AS BIGINT) + coalesce_ms ELSE due_at END,
          claimed_until = CASE WHEN claimed_version = ${claim.version} THEN NULL ELSE claimed_until END,
          claimed_version = CASE WHEN claimed_version = ${claim.version} THEN NULL ELSE claimed_version END
        WHERE connection = ${claim.connection} AND listing = ${claim.listing} AND pushed_version < ${claim.version}
          AND desired_version >= ${claim.version}
        RETURNING listing`
      if (rows.length > 0 && claim.attempts > 0) yield* clearAttempts(sql, source(claim))
      return rows.length > 0
    }).pipe(sql.withTransaction, storeErrors("outbox.markPushed"))

  const fail: OutboxPort.StockOutboxShape["fail"] = (claim, failure) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql`UPDATE tkb_stock_outbox SET attempts = attempts + 1, next_attempt_at = ${failure.retryAt.getTime()},
          last_error = ${safeText(failure.message.slice(0, 2000))}, claimed_until = NULL, claimed_version = NULL
        WHERE connection = ${claim.connection} AND listing = ${claim.listing} AND claimed_version = ${claim.version}`
      yield* recordAttempt(sql, source(claim), {
        at: now,
        message: failure.message,
        error: failure.error,
        exchange: failure.exchange
      })
    }).pipe(sql.withTransaction, storeErrors("outbox.fail"))

  const deadLetter: OutboxPort.StockOutboxShape["deadLetter"] = (claim, failure) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ listing: string }>`UPDATE tkb_stock_outbox SET status = 'dead',
          last_error = ${safeText(failure.message.slice(0, 2000))}, claimed_until = NULL, claimed_version = NULL
        WHERE connection = ${claim.connection} AND listing = ${claim.listing} RETURNING listing`
      if (rows.length === 0) {
        return yield* invariant("outbox.deadLetter", `no stock push for ${claim.connection} / ${claim.listing}`)
      }
      return yield* recordLetter(sql, source(claim), failure, now)
    }).pipe(sql.withTransaction, storeErrors("outbox.deadLetter"))

  const get: OutboxPort.StockOutboxShape["get"] = (connection, listing) =>
    sql<StockRow>`SELECT * FROM tkb_stock_outbox WHERE connection = ${connection} AND listing = ${listing}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toRow)),
      storeErrors("outbox.get")
    )

  const backlog: OutboxPort.StockOutboxShape["backlog"] = (connection) =>
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_stock_outbox
      WHERE desired_version > pushed_version AND ${
        connection === undefined ? sql.literal("1=1") : sql`connection = ${connection}`
      }`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      storeErrors("outbox.backlog")
    )

  const expedite: OutboxPort.StockOutboxShape["expedite"] = (connection) =>
    sql<{ listing: string }>`UPDATE tkb_stock_outbox SET next_attempt_at = 0
      WHERE connection = ${connection} AND status = 'pending' AND desired_version > pushed_version
        AND next_attempt_at > 0
      RETURNING listing`.pipe(
      Effect.map((rows) => rows.length),
      storeErrors("outbox.expedite")
    )

  const nextDue: OutboxPort.StockOutboxShape["nextDue"] = (connection) =>
    sql<{ at: number | null }>`SELECT MIN(CASE WHEN next_attempt_at > due_at THEN next_attempt_at ELSE due_at END) AS at
      FROM tkb_stock_outbox
      WHERE connection = ${connection} AND status = 'pending' AND desired_version > pushed_version`.pipe(
      Effect.map((rows) => {
        const at = rows[0]?.at
        return at === null || at === undefined ? Option.none() : Option.some(new Date(Number(at)))
      }),
      storeErrors("outbox.nextDue")
    )

  return { setDesired, claimDue, markPushed, fail, deadLetter, get, backlog, nextDue, expedite }
})

/** The stock-push outbox as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<Outbox.StockOutbox, never, SqlClient.SqlClient> = Layer.effect(Outbox.StockOutbox, make)
