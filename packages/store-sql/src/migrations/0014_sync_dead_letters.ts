/**
 * Migration 0014: dead letters (one per source row: inbox entry, stock push, outbound job) and the
 * attempt history of every piece of work that failed at least once.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { serialKey } from "../internal/sync.ts"

/** Creates `tkb_dead_letters` and `tkb_attempts`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_dead_letters (
    id ${serialKey(sql)},
    kind TEXT NOT NULL CHECK (kind IN ('inbox', 'stock_push', 'job')),
    connection TEXT NOT NULL,
    source_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
    error TEXT,
    exchange TEXT,
    http_status INTEGER,
    first_failed_at BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    replay_count INTEGER NOT NULL DEFAULT 0,
    replayed_at BIGINT,
    discarded_at BIGINT,
    discard_reason TEXT,
    UNIQUE (kind, connection, source_key)
  )`
  yield* sql`CREATE INDEX tkb_dead_letters_status ON tkb_dead_letters (status, first_failed_at)`
  yield* sql`CREATE TABLE tkb_attempts (
    id ${serialKey(sql)},
    kind TEXT NOT NULL,
    connection TEXT NOT NULL,
    source_key TEXT NOT NULL,
    at BIGINT NOT NULL,
    message TEXT NOT NULL,
    error TEXT,
    exchange TEXT
  )`
  yield* sql`CREATE INDEX tkb_attempts_source ON tkb_attempts (kind, connection, source_key, id)`
})
