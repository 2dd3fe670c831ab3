/**
 * Migration 0005: keys of ledger operations that must happen once (a return, an adjustment with an
 * idempotency key) and per-connection catalogue locks. Inserted first in their transaction: a second
 * attempt finds the key and changes nothing.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_ledger_ops`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tkb_ledger_ops (
      op_key TEXT PRIMARY KEY,
      at BIGINT NOT NULL
    )`
})
