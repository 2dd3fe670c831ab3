/**
 * Migration 0020: the engine's view of each listing on a compare-and-set channel, per location — the
 * quantity the channel last confirmed or reported (the `expected` of the next write), units held back
 * for sales the pool has not seen as orders yet, credit for orders whose drop is not revealed yet, and
 * the stale rounds of the version being written (each round writes under a new idempotency key).
 * Location `''` is the connection's default location.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_engine_stock_channel`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_engine_stock_channel (
    connection TEXT NOT NULL,
    listing TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    known_qty INTEGER,
    known_at BIGINT,
    held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    held_until BIGINT NOT NULL DEFAULT 0,
    credit INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
    credit_until BIGINT NOT NULL DEFAULT 0,
    cas_version BIGINT NOT NULL DEFAULT 0,
    cas_round INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (connection, listing, location)
  )`
  yield* sql`CREATE INDEX tkb_engine_stock_channel_held ON tkb_engine_stock_channel (connection, held_until)
    WHERE held > 0`
})
