/**
 * Migration 0004: the append-only movement ledger. Every change of a counter (on hand at a location,
 * or units reserved) is one row: who, why, before, after. Triggers refuse updates and deletes, so
 * history cannot be rewritten through the application's connection.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_movements` and its append-only triggers. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const id = sql.onDialectOrElse({
    pg: () => sql.literal("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
  })
  yield* sql`
    CREATE TABLE tkb_movements (
      id ${id},
      at BIGINT NOT NULL,
      op TEXT NOT NULL CHECK (op IN ('set', 'adjust', 'reserve', 'confirm', 'commit', 'release', 'expire', 'restock', 'repair')),
      actor TEXT NOT NULL,
      reason TEXT,
      reference TEXT,
      item TEXT NOT NULL,
      location TEXT,
      kind TEXT NOT NULL CHECK (kind IN ('on_hand', 'reserved')),
      qty_before INTEGER NOT NULL,
      qty_after INTEGER NOT NULL,
      delta INTEGER NOT NULL,
      CHECK (qty_after = qty_before + delta),
      CHECK ((kind = 'on_hand') = (location IS NOT NULL))
    )`
  yield* sql`CREATE INDEX tkb_movements_item ON tkb_movements (item, id)`
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.gen(function* () {
        yield* sql`
          CREATE FUNCTION tkb_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'tkb_movements is append-only';
          END
          $$`
        yield* sql`
          CREATE TRIGGER tkb_movements_append_only BEFORE UPDATE OR DELETE ON tkb_movements
          FOR EACH ROW EXECUTE FUNCTION tkb_movements_append_only()`
      }),
    orElse: () =>
      Effect.gen(function* () {
        yield* sql`
          CREATE TRIGGER tkb_movements_no_update BEFORE UPDATE ON tkb_movements
          BEGIN SELECT RAISE(ABORT, 'tkb_movements is append-only'); END`
        yield* sql`
          CREATE TRIGGER tkb_movements_no_delete BEFORE DELETE ON tkb_movements
          BEGIN SELECT RAISE(ABORT, 'tkb_movements is append-only'); END`
      })
  })
})
