/**
 * @tkbridge/store-sql — tkbridge's durable state on SQLite (embedded) and PostgreSQL (scale-out).
 *
 * @since 0.1.0
 */

/** The append-only audit trail (PII masked). */
export * as SqlAudit from "./SqlAudit.ts"
/** The dead-letter queue: list, show, replay, discard. */
export * as SqlDeadLetter from "./SqlDeadLetter.ts"
/** The webhook inbox: dedupe on insert, exactly-once processing, ordering guard. */
export * as SqlInbox from "./SqlInbox.ts"
/** The inventory ledger on SQL: reservations, stock, pairing, published quantities. */
export * as SqlLedger from "./SqlLedger.ts"
/** Outbound order, fulfilment and after-sales writes (never coalesced). */
export * as SqlOutboundJobs from "./SqlOutboundJobs.ts"
/** The coalescing stock-push outbox. */
export * as SqlOutbox from "./SqlOutbox.ts"
/** Parcels booked for orders: tracking numbers, labels and deduplicated tracking events. */
export * as SqlParcels from "./SqlParcels.ts"
/** Quota counters, priority lanes and suspensions. */
export * as SqlQuota from "./SqlQuota.ts"
/** Finding and fixing drift in the pool's counters. */
export * as SqlRepair from "./SqlRepair.ts"
/** Opening the store and running migrations. */
export * as SqlStore from "./SqlStore.ts"
/** Every sync-state repository in one layer. */
export * as SqlSyncState from "./SqlSyncState.ts"
/** Fresh real databases for tests (SQLite temp file, PostgreSQL temp database). */
export * as SqlTesting from "./SqlTesting.ts"
/** Versioned OAuth grants, optionally encrypted at rest. */
export * as SqlTokenStore from "./SqlTokenStore.ts"
/** The single-owner lock of an embedded SQLite store. */
export * as StoreLock from "./StoreLock.ts"
/** Encryption at rest for stored tokens (AES-256-GCM, `TKB_TOKEN_KEY`). */
export * as TokenCipher from "./TokenCipher.ts"
