/**
 * EngineCluster: the two composition roots of the execution engine. Both give the same services —
 * the store's `SqlClient`, cluster `Sharding` with SQL message storage, and a `WorkflowEngine` — so
 * every entity, cron and workflow runs unchanged in either mode:
 *
 * - `embedded(file)`: one process, one SQLite file, `SingleRunner`. The store takes an exclusive
 *   OS-level lock on the file first (`StoreLock`), which the cluster needs too: its SQLite lock table
 *   would let a second process with the same runner address own every shard as well.
 * - `scaleOut({ url, runnerAddress })`: several processes on PostgreSQL, connected by the cluster's
 *   socket transport, sharing shards through session advisory locks. The cluster gets its own
 *   connection pool with PostgreSQL's default `int8` parsing: its message ids are 64-bit snowflakes,
 *   which the store's pool (configured to read `int8` as JS numbers) would round.
 *
 * @since 0.1.0
 */
import type { MessageStorage, Sharding } from "@effect/cluster"
import { ClusterWorkflowEngine, RunnerAddress, SingleRunner } from "@effect/cluster"
import type { ShardingConfig } from "@effect/cluster/ShardingConfig"
import type { SocketServerError } from "@effect/platform/SocketServer"
import { NodeClusterSocket } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import type { WorkflowEngine } from "@effect/workflow"
import { SqlStore, SqlSyncState } from "@tkbridge/store-sql"
import { Layer, Option, Redacted } from "effect"

/** What a composition root provides: the store, its sync-state repositories and the cluster running over it. */
export type ClusterServices =
  | SqlClient.SqlClient
  | SqlSyncState.Services
  | Sharding.Sharding
  | MessageStorage.MessageStorage
  | WorkflowEngine.WorkflowEngine

/** Opening or migrating the store failed (or another process owns the embedded file). */
export type StoreError =
  | Layer.Layer.Error<ReturnType<typeof SqlStore.layerSqlite>>
  | Layer.Layer.Error<ReturnType<typeof SqlStore.layerPg>>
  | Layer.Layer.Error<ReturnType<typeof SqlSyncState.layer>>

/** Cluster tuning shared by both roots. */
export type ClusterTuning = Partial<ShardingConfig["Type"]>

/**
 * Defaults for both modes. Cron ticks, durable-clock wake-ups and delayed messages are picked up by
 * the storage poll, so it runs every second (one indexed query) instead of the library's ten. A
 * stopping runner gives its entities 5 s instead of 15 to end: every workflow step is safe to
 * repeat and resumes on the next start, and a stop then fits the 10 s a service manager (Docker's
 * default) waits before it kills the process.
 */
export const defaultTuning: ClusterTuning = {
  entityMessagePollInterval: "1 second",
  entityMaxIdleTime: "5 minutes",
  entityTerminationTimeout: "5 seconds"
}

/** Options for the embedded root. */
export interface EmbeddedOptions {
  readonly filename: string
  readonly tuning?: ClusterTuning | undefined
}

/**
 * One process on one SQLite file: the single-owner lock, the migrated store, and a single runner
 * whose messages, replies and shard locks live in the same file.
 */
export const embedded = (options: string | EmbeddedOptions): Layer.Layer<ClusterServices, StoreError> => {
  const { filename, tuning } = typeof options === "string" ? { filename: options, tuning: undefined } : options
  const runner = ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(SingleRunner.layer({ runnerStorage: "sql", shardingConfig: { ...defaultTuning, ...tuning } }))
  )
  return Layer.merge(runner, SqlSyncState.layer()).pipe(Layer.provideMerge(SqlStore.layerSqlite({ filename })))
}

/** Options for one scale-out runner. */
export interface ScaleOutOptions {
  readonly url: string | Redacted.Redacted<string>
  /** The address other runners reach this one at. */
  readonly runnerAddress: { readonly host: string; readonly port: number }
  /** Where to listen, when it differs from `runnerAddress` (behind NAT, in a container). */
  readonly listenAddress?: { readonly host: string; readonly port: number } | undefined
  readonly maxConnections?: number | undefined
  readonly tuning?: ClusterTuning | undefined
}

/** One runner of a PostgreSQL-backed cluster. */
export const scaleOut = (options: ScaleOutOptions): Layer.Layer<ClusterServices, StoreError | SocketServerError> => {
  const url = typeof options.url === "string" ? Redacted.make(options.url) : options.url
  const clusterSql = PgClient.layer({
    url,
    maxConnections: 5,
    applicationName: "tkbridge-cluster"
  })
  const runner = ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: {
          ...defaultTuning,
          ...options.tuning,
          runnerAddress: Option.some(RunnerAddress.make(options.runnerAddress.host, options.runnerAddress.port)),
          runnerListenAddress: options.listenAddress
            ? Option.some(RunnerAddress.make(options.listenAddress.host, options.listenAddress.port))
            : Option.none()
        }
      })
    ),
    Layer.provide(clusterSql)
  )
  return Layer.merge(runner, SqlSyncState.layer()).pipe(
    Layer.provideMerge(SqlStore.layerPg({ url, maxConnections: options.maxConnections, applicationName: "tkbridge" }))
  )
}
