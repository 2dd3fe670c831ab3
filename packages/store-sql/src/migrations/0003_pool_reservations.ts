/**
 * Migration 0003: reservations — one row per item an order line consumes.
 *
 * A line consuming several items (a bundle) has one row per component, numbered by `seq`; the row
 * with `seq = 0` is the line's idempotency key: a redelivered line conflicts on it and inserts
 * nothing. Line-level columns (SKU, quantity, state, expiry, returns) are kept equal on every row
 * of a line. The partial index serves the expiry sweep; the repair tool reads the whole table and
 * needs none (an index per held item would cost every reservation for a rare report).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_reservations`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tkb_reservations (
      connection TEXT NOT NULL,
      order_id TEXT NOT NULL,
      line_id TEXT NOT NULL,
      seq INTEGER NOT NULL CHECK (seq >= 0),
      item TEXT NOT NULL,
      item_qty INTEGER NOT NULL CHECK (item_qty > 0),
      location TEXT,
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
      PRIMARY KEY (connection, order_id, line_id, seq)
    )`
  yield* sql`
    CREATE INDEX tkb_reservations_expiry ON tkb_reservations (expires_at)
    WHERE state = 'held' AND expires_at IS NOT NULL`
})
