/**
 * Migration 0001: items and on-hand stock per location.
 *
 * `tkb_items` carries the per-item counters the reservation guard reads in one row — total on hand
 * (Σ over `tkb_stock`), units held by open reservations, and the shortfall a physical reading left —
 * so a reservation is one conditional `UPDATE … WHERE on_hand - reserved >= n`. The `CHECK`s are the
 * backstop: reservations can never hold more than is on hand plus a recorded shortfall, and no
 * counter goes negative. `pair_key` (upper-cased id) lets case-insensitive pairing use an index.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_items` and `tkb_stock`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tkb_items (
      item TEXT PRIMARY KEY,
      pair_key TEXT NOT NULL,
      title TEXT,
      safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
      on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
      reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
      shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
      updated_at BIGINT NOT NULL,
      CHECK (reserved <= on_hand + shortfall)
    )`
  yield* sql`CREATE INDEX tkb_items_pair_key ON tkb_items (pair_key)`
  yield* sql`
    CREATE TABLE tkb_stock (
      item TEXT NOT NULL REFERENCES tkb_items (item),
      location TEXT NOT NULL,
      on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
      source_version BIGINT CHECK (source_version IS NULL OR source_version >= 0),
      last_delta INTEGER NOT NULL DEFAULT 0,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (item, location)
    )`
  // Counters change on every reservation: leave room in each page so PostgreSQL updates rows in
  // place (HOT) instead of writing every index again.
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.zipRight(
        sql`ALTER TABLE tkb_items SET (fillfactor = 70)`,
        sql`ALTER TABLE tkb_stock SET (fillfactor = 70)`
      ),
    orElse: () => Effect.void
  })
})
