/**
 * Migration 0012: outbound jobs — order, fulfilment/tracking and after-sales writes, never coalesced,
 * unique per (connection, idempotency key), claimed by lane priority.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { serialKey } from "../internal/sync.ts"

/** Creates `tkb_outbound_jobs`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_outbound_jobs (
    id ${serialKey(sql)},
    connection TEXT NOT NULL,
    kind TEXT NOT NULL,
    lane TEXT NOT NULL CHECK (lane IN ('high', 'normal', 'low')),
    lane_rank INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    claim_token TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    result TEXT,
    last_error TEXT,
    UNIQUE (connection, idempotency_key)
  )`
  yield* sql`CREATE INDEX tkb_outbound_jobs_due ON tkb_outbound_jobs (connection, lane_rank, next_attempt_at, id)
    WHERE status = 'pending'`
})
