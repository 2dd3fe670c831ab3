/**
 * Migration 0016: the append-only audit trail. A trigger refuses updates on both dialects, so a row,
 * once written, stays as written; retention may delete old rows.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { serialKey } from "../internal/sync.ts"

/** Creates `tkb_audit` and its append-only trigger. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_audit (
    id ${serialKey(sql)},
    at BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quantity', 'write', 'operator')),
    connection TEXT,
    subject TEXT,
    action TEXT NOT NULL,
    outcome TEXT,
    detail TEXT
  )`
  yield* sql`CREATE INDEX tkb_audit_at ON tkb_audit (at)`
  yield* sql`CREATE INDEX tkb_audit_connection ON tkb_audit (connection, id)`
  yield* sql`CREATE INDEX tkb_audit_subject ON tkb_audit (subject, id)`
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.gen(function* () {
        yield* sql.unsafe(`CREATE FUNCTION tkb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'tkb_audit is append-only'; END $$`)
        yield* sql.unsafe(`CREATE TRIGGER tkb_audit_append_only BEFORE UPDATE ON tkb_audit
          FOR EACH ROW EXECUTE FUNCTION tkb_audit_append_only()`)
      }),
    orElse: () =>
      sql.unsafe(`CREATE TRIGGER tkb_audit_append_only BEFORE UPDATE ON tkb_audit
        BEGIN SELECT RAISE(ABORT, 'tkb_audit is append-only'); END`)
  })
})
