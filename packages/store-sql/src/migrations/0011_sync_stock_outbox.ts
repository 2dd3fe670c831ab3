/**
 * Migration 0011: the stock-push outbox — one row per (connection, listing), so the latest desired
 * quantity wins; `desired_version` and `pushed_version` make each push idempotent.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_stock_outbox`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_stock_outbox (
    connection TEXT NOT NULL,
    listing TEXT NOT NULL,
    desired_qty INTEGER NOT NULL CHECK (desired_qty >= 0),
    desired_version BIGINT NOT NULL,
    pushed_version BIGINT NOT NULL DEFAULT 0,
    pushed_qty INTEGER,
    pushed_at BIGINT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dead')),
    due_at BIGINT NOT NULL,
    coalesce_ms INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    claimed_version BIGINT,
    claimed_until BIGINT,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (connection, listing),
    CHECK (pushed_version <= desired_version)
  )`
  yield* sql`CREATE INDEX tkb_stock_outbox_due ON tkb_stock_outbox (connection, due_at)
    WHERE status = 'pending' AND desired_version > pushed_version`
})
