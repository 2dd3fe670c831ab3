/**
 * The store's migrations, in order. Keys are `<id>_<name>`; ids never change once released.
 * Ranges by area: 0001–0009 inventory pool and ledger, 0010–0019 sync state (inbox, outbox, quotas,
 * dead letters, tokens, audit), 0020–0029 engine bookkeeping. A store runs only the ids above the
 * last one it applied, so a migration added later takes the next free id whatever its area
 * (`0021_sync_parcels`).
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { migration as poolItems } from "./0001_pool_items.ts"
import { migration as poolListings } from "./0002_pool_listings.ts"
import { migration as poolReservations } from "./0003_pool_reservations.ts"
import { migration as poolMovements } from "./0004_pool_movements.ts"
import { migration as poolOperations } from "./0005_pool_operations.ts"
import { migration as syncInbox } from "./0010_sync_inbox.ts"
import { migration as syncStockOutbox } from "./0011_sync_stock_outbox.ts"
import { migration as syncOutboundJobs } from "./0012_sync_outbound_jobs.ts"
import { migration as syncQuota } from "./0013_sync_quota.ts"
import { migration as syncDeadLetters } from "./0014_sync_dead_letters.ts"
import { migration as syncTokens } from "./0015_sync_tokens.ts"
import { migration as syncAudit } from "./0016_sync_audit.ts"
import { migration as syncEntityState } from "./0017_sync_entity_state.ts"
import { migration as engineStockChannel } from "./0020_engine_stock_channel.ts"
import { migration as syncParcels } from "./0021_sync_parcels.ts"

/** Every migration by `<id>_<name>`. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_pool_items": poolItems,
  "0002_pool_listings": poolListings,
  "0003_pool_reservations": poolReservations,
  "0004_pool_movements": poolMovements,
  "0005_pool_operations": poolOperations,
  "0010_sync_inbox": syncInbox,
  "0011_sync_stock_outbox": syncStockOutbox,
  "0012_sync_outbound_jobs": syncOutboundJobs,
  "0013_sync_quota": syncQuota,
  "0014_sync_dead_letters": syncDeadLetters,
  "0015_sync_tokens": syncTokens,
  "0016_sync_audit": syncAudit,
  "0017_sync_entity_state": syncEntityState,
  "0020_engine_stock_channel": engineStockChannel,
  "0021_sync_parcels": syncParcels
}
