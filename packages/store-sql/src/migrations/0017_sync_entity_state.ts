/**
 * Migration 0017: the ordering guard keeps a digest of the state it let through, next to its update
 * time, so a poll can tell "the state a webhook already brought" from "another state with the same
 * time" (platforms with one-second update times) and skip only the former.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** Adds `state` to `tkb_entity_clock`. */
export const migration: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE tkb_entity_clock ADD COLUMN state TEXT`
})
