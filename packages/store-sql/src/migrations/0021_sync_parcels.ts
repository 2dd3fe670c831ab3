/**
 * Migration 0021: the parcels record — one row per parcel, keyed by (fulfiller, reference), with its
 * label and a copy of its newest tracking event, and the carrier's tracking events, unique per
 * (fulfiller, tracking number, raw code, time) so pulling tracking again stores nothing twice.
 * `tracked_at` 0 means never tracked, so one index serves "never tracked first, then oldest".
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { serialKey } from "../internal/sync.ts"

/** Creates `tkb_parcels` and `tkb_parcel_events`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tkb_parcels (
    fulfiller TEXT NOT NULL,
    reference TEXT NOT NULL,
    order_connection TEXT NOT NULL,
    order_id TEXT NOT NULL,
    external_id TEXT,
    carrier TEXT NOT NULL,
    tracking_number TEXT,
    status TEXT NOT NULL
      CHECK (status IN ('created', 'labelled', 'shipped', 'delivered', 'cancelled', 'failed')),
    label_format TEXT CHECK (label_format IN ('pdf', 'png', 'zpl')),
    label_url TEXT,
    label_base64 TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    tracked_at BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_event_at BIGINT,
    last_event_carrier TEXT,
    last_event_status TEXT,
    last_event_code TEXT,
    last_event_description TEXT,
    last_event_location TEXT,
    PRIMARY KEY (fulfiller, reference)
  )`
  yield* sql`CREATE INDEX tkb_parcels_order ON tkb_parcels (order_connection, order_id, created_at)`
  yield* sql`CREATE INDEX tkb_parcels_created ON tkb_parcels (created_at)`
  yield* sql`CREATE INDEX tkb_parcels_tracking ON tkb_parcels (fulfiller, tracking_number)`
  yield* sql`CREATE INDEX tkb_parcels_due ON tkb_parcels (fulfiller, tracked_at, created_at)
    WHERE tracking_number IS NOT NULL AND status IN ('created', 'labelled', 'shipped')`
  yield* sql`CREATE TABLE tkb_parcel_events (
    id ${serialKey(sql)},
    fulfiller TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    carrier TEXT NOT NULL,
    status TEXT NOT NULL,
    raw_code TEXT NOT NULL,
    description TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    location TEXT,
    UNIQUE (fulfiller, tracking_number, raw_code, occurred_at)
  )`
})
