/**
 * @tkbridge/engine — tkbridge's execution on @effect/cluster and @effect/workflow: per-key entities,
 * crons and order workflows over the store's SQL, crash-proof in one process (SQLite, `embedded`) and
 * ready for many (PostgreSQL, `scaleOut`). The only package that imports the cluster and workflow
 * libraries.
 *
 * @since 0.1.0
 */

/** The after-sales workflow of a cancelled order: release, and cancel the parcel while the provider allows. */
export * as CancellationWorkflow from "./CancellationWorkflow.ts"
/** Catalogue import: `catalog.pull` → pairing → published listings, with progress. */
export * as CatalogImport from "./CatalogImport.ts"
/** Serialised OAuth refresh per connection, and the engine's access-token provider. */
export * as ConnectionAuth from "./ConnectionAuth.ts"
/** The configured connections: connector instances, manifests and config by connection id. */
export * as ConnectionRegistry from "./ConnectionRegistry.ts"
/** The service the runner drives: start/stop, the edge's notify hook, status, replay, catalogue import, reconciliation. */
export * as Engine from "./Engine.ts"
/** Operator alerts: re-authorization needed, dead letters, suspensions. */
export * as EngineAlerts from "./EngineAlerts.ts"
/** The engine's poll positions per connection, in the store. */
export * as EngineCheckpoints from "./EngineCheckpoints.ts"
/** Business time, swappable for a faster clock in tests and the demo. */
export * as EngineClock from "./EngineClock.ts"
/** The composition roots: `embedded(file)` and `scaleOut({ url, runnerAddress })`. */
export * as EngineCluster from "./EngineCluster.ts"
/** What the engine runs between connections: order, stock and after-sales flows, pool settings, polling, fulfilment defaults. */
export * as EngineFlows from "./EngineFlows.ts"
/** Whether the schedules run, whether work is taken, what is in flight (graceful stop). */
export * as EngineLifecycle from "./EngineLifecycle.ts"
/** Crons and cluster singletons: sweeps, token refresh, expiry warnings, polling, reservation expiry, alerts. */
export * as EngineSchedules from "./EngineSchedules.ts"
/** The order workflow: parcel, durable wait for tracking, write-back, commit. */
export * as FulfilmentWorkflow from "./FulfilmentWorkflow.ts"
/** What an inbox entry does to the pool: prepare (fetch) outside, apply inside one transaction. */
export * as InboxApply from "./InboxApply.ts"
/** The per-connection entity applying inbox entries one at a time. */
export * as InboxProcessor from "./InboxProcessor.ts"
/** Follows parcels on their way: carrier events into the parcels record. */
export * as ParcelTracking from "./ParcelTracking.ts"
/** A partner call within quota, in a priority lane, under the retry policy. */
export * as PartnerCall from "./PartnerCall.ts"
/** Polled orders and after-sales as inbox entries (the same path as webhooks). */
export * as PolledEvents from "./PolledEvents.ts"
/** Order and after-sales polling with persisted checkpoints and overlapping windows. */
export * as Reconciliation from "./Reconciliation.ts"
/** What the engine does when a partner call fails, by error class. */
export * as RetryPolicy from "./RetryPolicy.ts"
/** What the stock pusher knows about each listing on a compare-and-set channel. */
export * as StockChannelState from "./StockChannelState.ts"
/** The platform ids a listing's stock write needs, from the pool's listings. */
export * as StockListingIds from "./StockListingIds.ts"
/** Pool changes → outbox rows + audit in the same transaction, pushers woken after the commit. */
export * as StockPublisher from "./StockPublisher.ts"
/** Coalesced, batched, quota-aware stock pushes per listing. */
export * as StockPusher from "./StockPusher.ts"
/** Stock sources read into the pool (`stock.pull`), and republishing as a backstop. */
export * as StockSources from "./StockSources.ts"
/** Durable workflow starts and dead-step replays through the outbound-job queue. */
export * as WorkflowStarter from "./WorkflowStarter.ts"
/** Workflow steps: one activity per call, durable waits, dead letters with the whole context. */
export * as WorkflowSteps from "./WorkflowSteps.ts"
