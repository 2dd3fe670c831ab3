/**
 * Migration 0002: channel listings and the items they are made of.
 *
 * A listing without component rows is unpaired (`unpaired_reason` says why). The index on
 * `tkb_listing_components (item, …)` is the item → listings map: after a stock change the affected
 * listings are one index range, not a scan of every listing.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Creates `tkb_listings` and `tkb_listing_components`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tkb_listings (
      connection TEXT NOT NULL,
      external_sku TEXT NOT NULL,
      external_ids TEXT NOT NULL DEFAULT '{}',
      title TEXT,
      paired_by TEXT CHECK (paired_by IS NULL OR paired_by IN ('explicit', 'manual', 'exact', 'auto')),
      unpaired_reason TEXT CHECK (unpaired_reason IS NULL OR unpaired_reason IN ('no_match', 'ambiguous', 'manual')),
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (connection, external_sku)
    )`
  yield* sql`
    CREATE TABLE tkb_listing_components (
      connection TEXT NOT NULL,
      external_sku TEXT NOT NULL,
      item TEXT NOT NULL REFERENCES tkb_items (item),
      qty INTEGER NOT NULL CHECK (qty > 0),
      PRIMARY KEY (connection, external_sku, item),
      FOREIGN KEY (connection, external_sku) REFERENCES tkb_listings (connection, external_sku) ON DELETE CASCADE
    )`
  yield* sql`CREATE INDEX tkb_listing_components_item ON tkb_listing_components (item, connection, external_sku)`
})
