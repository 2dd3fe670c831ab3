/**
 * The store's migrations, in order. Keys are `<id>_<name>`; ids never change once released.
 * Ranges by area: 0001–0009 inventory pool and ledger, 0010–0019 sync state (inbox, outbox, quotas,
 * dead letters, tokens, audit), 0020–0029 engine bookkeeping.
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"

/** Every migration by `<id>_<name>`. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {}
