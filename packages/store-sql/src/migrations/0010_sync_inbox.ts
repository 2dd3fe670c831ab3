/**
 * Migration 0010: the webhook inbox — deliveries stored raw (byte-exact body, headers), unique per
 * (connection, dedupe key) — and the per-entity clock that keeps an older state from overwriting a
 * newer one.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { bytes, serialKey } from "../internal/sync.ts"

/** Creates `tkb_inbox` and `tkb_entity_clock`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_inbox (
    id ${serialKey(sql)},
    connection TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    topic TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
    received_at BIGINT NOT NULL,
    occurred_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    processed_at BIGINT,
    last_error TEXT,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body ${bytes(sql)} NOT NULL,
    UNIQUE (connection, dedupe_key)
  )`
  yield* sql`CREATE INDEX tkb_inbox_pending ON tkb_inbox (next_attempt_at, id) WHERE status = 'pending'`
  yield* sql`CREATE INDEX tkb_inbox_done ON tkb_inbox (processed_at) WHERE status = 'done'`
  yield* sql`CREATE TABLE tkb_entity_clock (
    connection TEXT NOT NULL,
    entity TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (connection, entity)
  )`
})
