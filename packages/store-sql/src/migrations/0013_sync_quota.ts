/**
 * Migration 0013: quota counters (one row per scope, window kind and window start) and suspensions
 * (one row per scope; `suspended_until` only ever moves later).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_quota_windows` and `tkb_suspensions`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_quota_windows (
    scope TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('second', 'day')),
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (scope, kind, window_start)
  )`
  yield* sql`CREATE INDEX tkb_quota_windows_end ON tkb_quota_windows (window_end)`
  yield* sql`CREATE TABLE tkb_suspensions (
    scope TEXT PRIMARY KEY,
    suspended_until BIGINT NOT NULL,
    reason TEXT NOT NULL,
    since BIGINT NOT NULL
  )`
})
