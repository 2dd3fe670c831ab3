/**
 * Migration 0015: OAuth grants, one versioned row per connection. Token columns hold either the value
 * or its AES-256-GCM ciphertext (`enc:v1:…`).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_tokens`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_tokens (
    connection TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    expires_at BIGINT,
    refresh_expires_at BIGINT,
    issued_at BIGINT,
    scopes TEXT NOT NULL,
    extra TEXT NOT NULL,
    needs_reauth INTEGER NOT NULL DEFAULT 0,
    reauth_reason TEXT,
    updated_at BIGINT NOT NULL
  )`
})
