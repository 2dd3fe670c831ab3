/**
 * @tkbridge/engine — tkbridge's execution on @effect/cluster and @effect/workflow: per-key entities,
 * crons and order workflows over the store's SQL, crash-proof in one process (SQLite, `embedded`) and
 * ready for many (PostgreSQL, `scaleOut`). The only package that imports the cluster and workflow
 * libraries.
 *
 * @since 0.1.0
 */

/** Serialised OAuth refresh per connection, and the engine's access-token provider. */
export * as ConnectionAuth from "./ConnectionAuth.ts"
/** The configured connections: connector instances, manifests and config by connection id. */
export * as ConnectionRegistry from "./ConnectionRegistry.ts"
/** The service the runner drives: start/stop, the edge's notify hook, status, replay, catalogue import, reconciliation. */
export * as Engine from "./Engine.ts"
/** Operator alerts: re-authorization needed, dead letters, suspensions. */
export * as EngineAlerts from "./EngineAlerts.ts"
/** Business time, swappable for a faster clock in tests and the demo. */
export * as EngineClock from "./EngineClock.ts"
/** The composition roots: `embedded(file)` and `scaleOut({ url, runnerAddress })`. */
export * as EngineCluster from "./EngineCluster.ts"
/** What the engine runs between connections: order, stock and after-sales flows, pool settings, polling, fulfilment defaults. */
export * as EngineFlows from "./EngineFlows.ts"
/** What the engine does when a partner call fails, by error class. */
export * as RetryPolicy from "./RetryPolicy.ts"
/** What the stock pusher knows about each listing on a compare-and-set channel. */
export * as StockChannelState from "./StockChannelState.ts"
/** The platform ids a listing's stock write needs, from the pool's listings. */
export * as StockListingIds from "./StockListingIds.ts"
/** Coalesced, batched, quota-aware stock pushes per listing. */
export * as StockPusher from "./StockPusher.ts"
