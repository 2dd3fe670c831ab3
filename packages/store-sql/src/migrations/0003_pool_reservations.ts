/**
 * Migration 0003: reservations — one row per order line (the idempotency key: a redelivered line
 * inserts nothing) and one row per item the line consumes.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_reservations` and `tkb_reservation_items`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tkb_reservations (
      connection TEXT NOT NULL,
      order_id TEXT NOT NULL,
      line_id TEXT NOT NULL,
      external_sku TEXT NOT NULL,
      qty INTEGER NOT NULL CHECK (qty > 0),
      state TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released')),
      released_reason TEXT CHECK (
        (state = 'released' AND released_reason IN ('cancelled', 'expired'))
        OR (state <> 'released' AND released_reason IS NULL)
      ),
      expires_at BIGINT,
      returned INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0 AND returned <= qty),
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (connection, order_id, line_id)
    )`
  // The expiry sweep reads only held lines that can expire.
  yield* sql`
    CREATE INDEX tkb_reservations_expiry ON tkb_reservations (expires_at)
    WHERE state = 'held' AND expires_at IS NOT NULL`
  yield* sql`
    CREATE TABLE tkb_reservation_items (
      connection TEXT NOT NULL,
      order_id TEXT NOT NULL,
      line_id TEXT NOT NULL,
      item TEXT NOT NULL REFERENCES tkb_items (item),
      qty INTEGER NOT NULL CHECK (qty > 0),
      location TEXT,
      PRIMARY KEY (connection, order_id, line_id, item),
      FOREIGN KEY (connection, order_id, line_id) REFERENCES tkb_reservations (connection, order_id, line_id)
    )`
  yield* sql`CREATE INDEX tkb_reservation_items_item ON tkb_reservation_items (item)`
})
