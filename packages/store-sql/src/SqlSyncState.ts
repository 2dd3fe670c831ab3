/**
 * SqlSyncState: every sync-state repository over one `SqlClient` — inbox, stock outbox, outbound
 * jobs, quotas and suspensions, dead letters, tokens (encrypted at rest when `TKB_TOKEN_KEY` is set),
 * the audit trail and the parcels record. The engine and the runner provide this one layer on top of
 * `SqlStore`.
 *
 * @since 0.1.0
 */
import type { SqlClient } from "@effect/sql"
import type { Audit, DeadLetter, Inbox, Outbox, Parcels, Quota, TokenStore } from "@tkbridge/core"
import type { ConfigError } from "effect"
import { Layer } from "effect"
import * as SqlAudit from "./SqlAudit.ts"
import * as SqlDeadLetter from "./SqlDeadLetter.ts"
import * as SqlInbox from "./SqlInbox.ts"
import * as SqlOutboundJobs from "./SqlOutboundJobs.ts"
import * as SqlOutbox from "./SqlOutbox.ts"
import * as SqlParcels from "./SqlParcels.ts"
import * as SqlQuota from "./SqlQuota.ts"
import * as SqlTokenStore from "./SqlTokenStore.ts"
import * as TokenCipher from "./TokenCipher.ts"

/** The services this layer provides. */
export type Services =
  | Inbox.Inbox
  | Outbox.StockOutbox
  | Outbox.OutboundJobs
  | Quota.Quota
  | DeadLetter.DeadLetters
  | TokenStore.TokenStore
  | Audit.Audit
  | Parcels.Parcels

/** How the sync state is kept. */
export interface SyncStateOptions {
  readonly audit?: SqlAudit.AuditOptions | undefined
  /** The token cipher; default: AES-256-GCM when `TKB_TOKEN_KEY` is set, plaintext otherwise. */
  readonly tokenCipher?: Layer.Layer<TokenCipher.TokenCipher, ConfigError.ConfigError> | undefined
}

/** Every sync-state repository over the current `SqlClient`. */
export const layer = (
  options: SyncStateOptions = {}
): Layer.Layer<Services, ConfigError.ConfigError, SqlClient.SqlClient> =>
  Layer.mergeAll(
    SqlInbox.layer,
    SqlOutbox.layer,
    SqlOutboundJobs.layer,
    SqlQuota.layer,
    SqlDeadLetter.layer,
    SqlTokenStore.layer.pipe(Layer.provide(options.tokenCipher ?? TokenCipher.layerConfig)),
    SqlAudit.layer(options.audit),
    SqlParcels.layer
  )
