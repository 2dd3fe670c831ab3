/**
 * SqlOutboundJobs: outbound writes that are never coalesced — order acknowledgements, fulfilment and
 * tracking write-back, after-sales decisions — (`OutboundJobs` port of @tkbridge/core) on SQLite and
 * PostgreSQL.
 *
 * Each job is unique by (connection, idempotency key): enqueueing the same write twice returns the
 * first. Workers claim the next due job by lane priority with a guarded `UPDATE … RETURNING` that
 * takes a lease and a fresh claim token; completing or failing with a token that is no longer current
 * (the lease ran out and another worker took the job) changes nothing.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { DeadLetter, Outbox as OutboxPort } from "@tkbridge/core"
import { Outbox, Quota } from "@tkbridge/core"
import { Clock, Effect, Layer, Option } from "effect"
import { clearAttempts, recordAttempt, recordLetter } from "./internal/letters.ts"
import {
  claimToken,
  indexableKey,
  invariant,
  optional,
  optionalDate,
  parseJson,
  safeText,
  storeErrors
} from "./internal/sync.ts"

interface JobRow {
  readonly id: number
  readonly connection: string
  readonly kind: string
  readonly lane: Quota.Lane
  readonly idempotency_key: string
  readonly payload: string
  readonly status: OutboxPort.JobStatus
  readonly attempts: number
  readonly next_attempt_at: number
  readonly claimed_until: number | null
  readonly claim_token: string | null
  readonly created_at: number
  readonly done_at: number | null
  readonly result: string | null
  readonly last_error: string | null
}

const toJob = (r: JobRow): OutboxPort.Job => ({
  id: Number(r.id),
  connection: r.connection,
  kind: r.kind,
  lane: r.lane,
  idempotencyKey: r.idempotency_key,
  payload: parseJson(r.payload),
  status: r.status,
  attempts: Number(r.attempts),
  nextAttemptAt: new Date(Number(r.next_attempt_at)),
  claimedUntil: optionalDate(r.claimed_until),
  claimToken: optional(r.claim_token),
  createdAt: new Date(Number(r.created_at)),
  doneAt: optionalDate(r.done_at),
  result: parseJson(r.result),
  lastError: optional(r.last_error)
})

const laneRank = (lane: Quota.Lane): number => Quota.lanes.indexOf(lane)

const source = (job: {
  connection: string
  id: number
}): { kind: DeadLetter.Kind; connection: string; key: string } => ({
  kind: "job",
  connection: job.connection,
  key: String(job.id)
})

const toJson = (value: unknown): string =>
  JSON.stringify(value === undefined ? null : value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))

/** Builds the job queue over the current `SqlClient`. */
export const make: Effect.Effect<OutboxPort.OutboundJobsShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const enqueue: OutboxPort.OutboundJobsShape["enqueue"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const key = indexableKey(input.idempotencyKey)
      const inserted = yield* sql<{ id: number }>`INSERT INTO tkb_outbound_jobs
          (connection, kind, lane, lane_rank, idempotency_key, payload, status, next_attempt_at, created_at)
        VALUES (${input.connection}, ${safeText(input.kind)}, ${input.lane}, ${laneRank(input.lane)}, ${key},
          ${toJson(input.payload)}, 'pending', ${input.notBefore?.getTime() ?? now}, ${now})
        ON CONFLICT (connection, idempotency_key) DO NOTHING
        RETURNING id`
      if (inserted.length > 0) return { id: Number(inserted[0]!.id), duplicate: false }
      const existing = yield* sql<{ id: number }>`SELECT id FROM tkb_outbound_jobs
        WHERE connection = ${input.connection} AND idempotency_key = ${key}`
      if (existing.length === 0) return yield* invariant("jobs.enqueue", "the conflicting job disappeared")
      return { id: Number(existing[0]!.id), duplicate: true }
    }).pipe(storeErrors("jobs.enqueue"))

  const claimNext: OutboxPort.OutboundJobsShape["claimNext"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const until = now + Math.max(1, Math.floor(input.leaseMs))
      const lanes = input.lanes ?? Quota.lanes
      if (lanes.length === 0) return Option.none()
      const claimable = sql.and([
        sql`connection = ${input.connection}`,
        sql`status = 'pending'`,
        sql`next_attempt_at <= ${now}`,
        sql`(claimed_until IS NULL OR claimed_until <= ${now})`
      ])
      // A few candidates, each tried with a guarded update: a worker that loses a race moves on to
      // the next one instead of coming back empty-handed.
      const candidates = yield* sql<{ id: number }>`SELECT id FROM tkb_outbound_jobs
        WHERE ${claimable} AND ${sql.in("lane", lanes)}
        ORDER BY lane_rank, next_attempt_at, id LIMIT 8`
      for (const candidate of candidates) {
        const rows = yield* sql<JobRow>`UPDATE tkb_outbound_jobs
          SET claimed_until = ${until}, claim_token = ${claimToken()}
          WHERE id = ${candidate.id} AND ${claimable}
          RETURNING *`
        if (rows.length > 0) return Option.some(toJob(rows[0]!))
      }
      return Option.none()
    }).pipe(storeErrors("jobs.claimNext"))

  const complete: OutboxPort.OutboundJobsShape["complete"] = (job, result) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ id: number }>`UPDATE tkb_outbound_jobs
        SET status = 'done', done_at = ${now}, result = ${result === undefined ? null : toJson(result)},
          claimed_until = NULL, claim_token = NULL, last_error = NULL
        WHERE id = ${job.id} AND status = 'pending' AND claim_token = ${job.claimToken ?? ""}
        RETURNING id`
      if (rows.length > 0 && job.attempts > 0) yield* clearAttempts(sql, source(job))
      return rows.length > 0
    }).pipe(sql.withTransaction, storeErrors("jobs.complete"))

  const fail: OutboxPort.OutboundJobsShape["fail"] = (job, failure) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ id: number }>`UPDATE tkb_outbound_jobs
        SET attempts = attempts + 1, next_attempt_at = ${failure.retryAt.getTime()},
          last_error = ${safeText(failure.message.slice(0, 2000))}, claimed_until = NULL, claim_token = NULL
        WHERE id = ${job.id} AND status = 'pending' AND claim_token = ${job.claimToken ?? ""}
        RETURNING id`
      yield* recordAttempt(sql, source(job), {
        at: now,
        message: failure.message,
        error: failure.error,
        exchange: failure.exchange
      })
      return rows.length > 0
    }).pipe(sql.withTransaction, storeErrors("jobs.fail"))

  const deadLetter: OutboxPort.OutboundJobsShape["deadLetter"] = (job, failure) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ id: number }>`UPDATE tkb_outbound_jobs
        SET status = 'dead', last_error = ${safeText(failure.message.slice(0, 2000))}, claimed_until = NULL, claim_token = NULL
        WHERE id = ${job.id} AND status IN ('pending', 'dead')
        RETURNING id`
      if (rows.length === 0) return yield* invariant("jobs.deadLetter", `job ${job.id} is done or does not exist`)
      return yield* recordLetter(sql, source(job), failure, now)
    }).pipe(sql.withTransaction, storeErrors("jobs.deadLetter"))

  const get: OutboxPort.OutboundJobsShape["get"] = (id) =>
    sql<JobRow>`SELECT * FROM tkb_outbound_jobs WHERE id = ${id}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toJob)),
      storeErrors("jobs.get")
    )

  const backlog: OutboxPort.OutboundJobsShape["backlog"] = (connection) =>
    sql<{ lane: Quota.Lane; n: number }>`SELECT lane, COUNT(*) AS n FROM tkb_outbound_jobs
      WHERE status = 'pending' AND ${connection === undefined ? sql.literal("1=1") : sql`connection = ${connection}`}
      GROUP BY lane`.pipe(
      Effect.map((rows) => {
        const counts = new Map(rows.map((r) => [r.lane, Number(r.n)]))
        return Quota.lanes.map((lane) => ({ lane, pending: counts.get(lane) ?? 0 }))
      }),
      storeErrors("jobs.backlog")
    )

  return { enqueue, claimNext, complete, fail, deadLetter, get, backlog }
})

/** The job queue as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<Outbox.OutboundJobs, never, SqlClient.SqlClient> = Layer.effect(
  Outbox.OutboundJobs,
  make
)
