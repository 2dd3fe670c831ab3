/**
 * Engine: the one service the runner drives. It is built over a composition root (`EngineCluster`
 * `embedded` or `scaleOut`), the configured connections and the flows, and gives the runner:
 *
 * - `start` / `stop` — start the schedules (inbox re-notify, outbox sweep, token refresh, expiry
 *   warnings, reconciliation polling, reservation expiry, stock-source polling, dead-letter alerts);
 *   stop them and let in-flight work finish (each inbox entry's transaction, each stock write);
 * - `notifyInbox(connection, id)` — the webhook edge's `notify` hook: wakes the connection's inbox
 *   processor right after a delivery committed;
 * - `status` — a snapshot for `/metrics`, the console and `doctor`;
 * - `replayDeadLetters(filter)` / `replayLetters(ids)` — sends dead letters back through the path
 *   they failed on and wakes the worker that owns it;
 * - `importCatalog(connection)` — `catalog.pull` → pairing → listings, with progress;
 * - `reconcileNow(connection?)` — polls now instead of at the next tick;
 * - `resumeConnection(connection)` — after a re-authorization: held inbox entries and stock writes go
 *   now instead of after their wait.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import type { Migrator, SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Connector, Ledger, Quota } from "@tkbridge/core"
import { DeadLetter, Inbox, Outbox, Quota as QuotaPort, TokenStore, WebhookEdge } from "@tkbridge/core"
import { SqlLedger } from "@tkbridge/store-sql"
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"
import * as CancellationWorkflow from "./CancellationWorkflow.ts"
import * as CatalogImport from "./CatalogImport.ts"
import * as ConnectionAuth from "./ConnectionAuth.ts"
import * as ConnectionRegistry from "./ConnectionRegistry.ts"
import type { Alert } from "./EngineAlerts.ts"
import * as EngineAlerts from "./EngineAlerts.ts"
import * as EngineCheckpoints from "./EngineCheckpoints.ts"
import * as EngineClock from "./EngineClock.ts"
import type * as EngineCluster from "./EngineCluster.ts"
import * as EngineFlows from "./EngineFlows.ts"
import * as EngineLifecycle from "./EngineLifecycle.ts"
import * as EngineSchedules from "./EngineSchedules.ts"
import * as FulfilmentWorkflow from "./FulfilmentWorkflow.ts"
import * as InboxApply from "./InboxApply.ts"
import * as InboxProcessor from "./InboxProcessor.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import * as StockListingIds from "./StockListingIds.ts"
import * as StockPublisher from "./StockPublisher.ts"
import * as StockPusher from "./StockPusher.ts"
import * as WorkflowStarter from "./WorkflowStarter.ts"
import * as WorkflowSteps from "./WorkflowSteps.ts"

/** An engine operation failed (the store, a partner, an unknown connection); `message` says which and why. */
export class EngineFailure extends Schema.TaggedError<EngineFailure>("@tkbridge/engine/EngineFailure")(
  "EngineFailure",
  { operation: Schema.String, message: Schema.String, connection: Schema.optional(Schema.String) }
) {}

/** One connection in the status snapshot. */
export interface ConnectionStatus {
  readonly connection: string
  /** The connector's id (`tiktok-shop`, `4px` …). */
  readonly connector: string
  /** `needs_reauth`: the grant is gone, work waits; `suspended`: the platform asked to wait. */
  readonly state: "active" | "needs_reauth" | "suspended"
  readonly reauthReason?: string | undefined
  readonly inbox: { readonly pending: number; readonly dead: number }
  /** Listings with an unpushed quantity. */
  readonly stockBacklog: number
  /** Outbound jobs waiting (workflow starts, replayed steps), by lane. */
  readonly jobs: ReadonlyArray<{ readonly lane: Quota.Lane; readonly pending: number }>
  readonly deadLetters: number
  readonly quota: {
    readonly scope: string
    readonly usedToday: number
    readonly dailyLimit?: number | undefined
    readonly suspendedUntil?: Date | undefined
  }
  /** The stored grant, for connections that have one. */
  readonly token?:
    | {
        readonly expiresAt?: Date | undefined
        /** When the authorization itself ends (the refresh token's expiry). */
        readonly authorizationExpiresAt?: Date | undefined
        readonly version: number
      }
    | undefined
}

/** How long changes take from the pool's commit to the channel holding the new quantity. */
export interface Propagation {
  /** Samples measured since the engine started (bounded window). */
  readonly samples: number
  readonly p50Ms?: number | undefined
  readonly p95Ms?: number | undefined
  readonly maxMs?: number | undefined
  /** The latest samples, newest first. */
  readonly recent: ReadonlyArray<{
    readonly connection: string
    readonly listing: string
    readonly version: number
    readonly delayMs: number
    readonly at: Date
  }>
}

/** A snapshot of the engine. */
export interface EngineStatus {
  readonly at: Date
  readonly started: boolean
  readonly connections: ReadonlyArray<ConnectionStatus>
  readonly totals: {
    readonly inboxPending: number
    readonly inboxDead: number
    readonly stockBacklog: number
    readonly jobsPending: number
    readonly deadLetters: number
  }
  /** Connections whose grant needs re-authorization. */
  readonly needsReauth: ReadonlyArray<{ readonly connection: string; readonly reason?: string | undefined }>
  readonly propagation: Propagation
  /** Recent operator alerts, newest first. */
  readonly alerts: ReadonlyArray<Alert>
}

/** Progress of a catalogue import, for the runner's progress bar. */
export interface ImportProgress {
  readonly connection: string
  /** Pages read so far. */
  readonly pages: number
  /** Channel SKUs read so far. */
  readonly listings: number
  /** True on the last call, after pairing. */
  readonly done: boolean
}

/** What a catalogue import did. */
export interface ImportReport {
  readonly connection: string
  readonly listings: number
  /** Items created or updated (only when the connection is the pool's items source). */
  readonly items: number
  readonly paired: Ledger.PairingReport["paired"]
  readonly unpaired: Ledger.PairingReport["unpaired"]
  /** Listings whose published quantity was queued for pushing. */
  readonly published: number
}

/** What a reconciliation pass did per connection. */
export interface ReconcileReport {
  readonly connections: ReadonlyArray<{
    readonly connection: string
    /** Orders and after-sales read, and how many were new to the inbox. */
    readonly orders: { readonly read: number; readonly recorded: number }
    readonly afterSales: { readonly read: number; readonly recorded: number }
    /** Stock readings read and applied (for stock sources). */
    readonly stock: { readonly read: number; readonly applied: number }
    /** Why a part was skipped (quota, paused connection, partner failure). */
    readonly skipped: ReadonlyArray<string>
  }>
}

/** The engine, as the runner sees it. */
export interface EngineShape {
  /** Starts the schedules. Idempotent. */
  readonly start: Effect.Effect<void>
  /**
   * Stops the schedules and waits (at most `timeout`, default 15 s) for in-flight inbox entries and
   * stock writes to finish. Workflows need no draining: they resume where they were on the next start.
   */
  readonly stop: (options?: { readonly timeout?: Duration.DurationInput | undefined }) => Effect.Effect<void>
  /** Wakes the connection's inbox processor for an entry that just committed (the edge's `notify`). */
  readonly notifyInbox: (connection: string, id: number) => Effect.Effect<void>
  /** A snapshot of depths, dead letters, propagation delays, quotas and grants. */
  readonly status: Effect.Effect<EngineStatus, EngineFailure>
  /** Replays dead letters matching the filter through the path they failed on. */
  readonly replayDeadLetters: (
    filter: DeadLetter.Filter
  ) => Effect.Effect<ReadonlyArray<DeadLetter.ReplayOutcome>, EngineFailure>
  /** Replays the dead letters with these ids (as `tkbridge dlq replay <id>` names them). */
  readonly replayLetters: (
    ids: ReadonlyArray<number>
  ) => Effect.Effect<ReadonlyArray<DeadLetter.ReplayOutcome>, EngineFailure>
  /** Reads the connection's catalogue, pairs its SKUs and publishes the paired listings. */
  readonly importCatalog: (
    connection: string,
    options?: { readonly onProgress?: ((progress: ImportProgress) => Effect.Effect<void>) | undefined }
  ) => Effect.Effect<ImportReport, EngineFailure>
  /** Polls orders, after-sales and stock sources now (one connection, or every one). */
  readonly reconcileNow: (connection?: string) => Effect.Effect<ReconcileReport, EngineFailure>
  /**
   * Resumes a connection's held work now — after the seller authorized it again: ends its inbox's
   * wait and the back-off of its unpushed stock, and wakes both. Answers how many listings were due.
   */
  readonly resumeConnection: (connection: string) => Effect.Effect<{ readonly stock: number }, EngineFailure>
}

/** The engine service. */
export class Engine extends Context.Tag("@tkbridge/engine/Engine")<Engine, EngineShape>() {}

// ---------------------------------------------------------------------------------------------
// The service and its layer
// ---------------------------------------------------------------------------------------------

/** What the engine's layer is built from. */
export interface EngineOptions<E = never> {
  /** The composition root: `EngineCluster.embedded(file)` or `EngineCluster.scaleOut(...)`. */
  readonly root: Layer.Layer<EngineCluster.ClusterServices, E>
  /** The configured connections (the runner decodes each one's config with its connector's schema). */
  readonly connections: ReadonlyArray<ConnectionRegistry.ConnectionSpec>
  readonly flows: EngineFlows.EngineFlows
  /** Business time (default: the system clock; tests and the demo pass a faster one). */
  readonly clock?: Layer.Layer<EngineClock.EngineClock> | undefined
  /** Where alerts go besides the log and the status snapshot (default: nowhere else). */
  readonly alerts?: Layer.Layer<EngineAlerts.EngineAlerts> | undefined
  /** The HTTP client connectors call partners with (default: undici). */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient> | undefined
  /** Stock pusher tuning. */
  readonly push?: Partial<StockPusher.Options> | undefined
  /** The retry policy of workflow steps (default: `RetryPolicy.defaults`, about half a minute of back-off). */
  readonly stepRetry?: Partial<RetryPolicy.Options> | undefined
  /** Cadences of the engine's own schedules. */
  readonly tuning?: Partial<EngineSchedules.Tuning> | undefined
  /** Ledger tuning (group commit, batch size). */
  readonly ledger?: Omit<SqlLedger.SqlLedgerOptions, "config"> | undefined
}

/** What the engine's layer provides: the engine, the store and cluster it runs on, and its parts. */
export type Provided =
  | Engine
  | WebhookEdge.WebhookReceivers
  | EngineCluster.ClusterServices
  | Ledger.Ledger
  | ConnectionRegistry.ConnectionRegistry
  | StockPusher.StockLanes
  | StockPublisher.StockPublisher
  | EngineAlerts.EngineAlerts
  | EngineClock.EngineClock
  | EngineFlows.CurrentFlows

const failure = (operation: string, connection?: string) => (e: { readonly message: string }) =>
  new EngineFailure({ operation, message: e.message, ...(connection !== undefined ? { connection } : {}) })

const makeEngine = Effect.gen(function* () {
  const lifecycle = yield* EngineLifecycle.EngineLifecycle
  const registry = yield* ConnectionRegistry.ConnectionRegistry
  const inbox = yield* Inbox.Inbox
  const outbox = yield* Outbox.StockOutbox
  const jobs = yield* Outbox.OutboundJobs
  const letters = yield* DeadLetter.DeadLetters
  const quota = yield* QuotaPort.Quota
  const tokens = yield* TokenStore.TokenStore
  const alerts = yield* EngineAlerts.EngineAlerts
  const publisher = yield* StockPublisher.StockPublisher
  const lanes = yield* StockPusher.StockLanes
  const starter = yield* WorkflowStarter.WorkflowStarter
  const clock = yield* EngineClock.EngineClock
  const flows = yield* EngineFlows.CurrentFlows
  const context = yield* Effect.context<EngineSchedules.Requirements | SqlClient.SqlClient>()

  const resume = Effect.gen(function* () {
    // Pick up where the last run stopped without waiting for the first ticks.
    const due = yield* inbox.pending({ dueAt: new Date(yield* EngineClock.now), limit: 1000 })
    yield* Effect.forEach([...new Set(due.map((d) => d.connection))], (c) => InboxProcessor.drain(c), { discard: true })
    yield* starter.sweep
    for (const channel of EngineFlows.stockChannels(flows)) yield* lanes.kick(channel)
  }).pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("engine start: resuming work failed; the sweeps retry", cause))
  )

  const start: EngineShape["start"] = Effect.gen(function* () {
    yield* lifecycle.open
    if (yield* lifecycle.started) return
    yield* lifecycle.setStarted(true)
    yield* Effect.forkDaemon(resume.pipe(Effect.withClock(clock.clock), Effect.provide(context)))
  })

  const stop: EngineShape["stop"] = (options) =>
    Effect.gen(function* () {
      yield* lifecycle.setStarted(false)
      yield* lifecycle.close(options?.timeout ?? Duration.seconds(15))
    })

  const notifyInbox: EngineShape["notifyInbox"] = (connection, id) =>
    Effect.flatMap(lifecycle.accepting, (accepting) =>
      accepting ? InboxProcessor.notify(connection, id).pipe(Effect.provide(context)) : Effect.void
    )

  const status: EngineShape["status"] = Effect.gen(function* () {
    const now = yield* EngineClock.now
    const depth = yield* inbox.depth
    const reauth = yield* tokens.needingReauth
    const connections = yield* Effect.forEach(registry.all, (entry) =>
      Effect.gen(function* () {
        const policy = QuotaPort.policyFromLimits(entry.manifest.limits, entry.quota)
        const scope = QuotaPort.scopeOf(entry.id, policy)
        const usage = yield* EngineClock.business(quota.usage(scope, policy))
        const stored = yield* tokens.get(entry.id).pipe(Effect.orElseSucceed(() => Option.none()))
        const d = depth.find((x) => x.connection === entry.id)
        const needs = reauth.find((r) => r.connection === entry.id)
        const suspendedUntil =
          usage.suspension !== undefined && usage.suspension.until.getTime() > now ? usage.suspension.until : undefined
        const connectionStatus: ConnectionStatus = {
          connection: entry.id,
          connector: entry.manifest.id,
          state: needs !== undefined ? "needs_reauth" : suspendedUntil !== undefined ? "suspended" : "active",
          reauthReason: needs?.reason,
          inbox: { pending: d?.pending ?? 0, dead: d?.dead ?? 0 },
          stockBacklog: yield* outbox.backlog(entry.id),
          jobs: yield* jobs.backlog(entry.id),
          deadLetters: yield* letters.count({ connection: entry.id, status: "open" }),
          quota: { scope, usedToday: usage.usedToday, dailyLimit: usage.dailyLimit, suspendedUntil },
          token: Option.match(stored, {
            onNone: () => undefined,
            onSome: (t) => ({
              expiresAt: t.tokens.expiresAt,
              authorizationExpiresAt: t.tokens.refreshExpiresAt,
              version: t.version
            })
          })
        }
        return connectionStatus
      })
    )
    const sum = (f: (c: ConnectionStatus) => number) => connections.reduce((a, c) => a + f(c), 0)
    return {
      at: new Date(now),
      started: yield* lifecycle.started,
      connections,
      totals: {
        inboxPending: sum((c) => c.inbox.pending),
        inboxDead: sum((c) => c.inbox.dead),
        stockBacklog: sum((c) => c.stockBacklog),
        jobsPending: sum((c) => c.jobs.reduce((a, j) => a + j.pending, 0)),
        deadLetters: sum((c) => c.deadLetters)
      },
      needsReauth: reauth,
      propagation: yield* publisher.propagation,
      alerts: yield* alerts.recent
    } satisfies EngineStatus
  }).pipe(
    Effect.mapError(failure("status")),
    Effect.withClock(clock.clock),
    Effect.provideService(EngineClock.EngineClock, clock)
  )

  // A replayed row is queued again; waking its worker saves waiting for the next sweep.
  const wake = (outcomes: ReadonlyArray<DeadLetter.ReplayOutcome>) =>
    Effect.gen(function* () {
      for (const o of outcomes) {
        if (o.outcome !== "replayed" || o.connection === undefined || o.key === undefined) continue
        if (o.kind === "inbox") yield* InboxProcessor.notify(o.connection, Number(o.key))
        else if (o.kind === "stock_push") yield* lanes.kick(o.connection)
        else if (o.kind === "job") yield* starter.kick(o.connection)
      }
      return outcomes
    })

  const replayDeadLetters: EngineShape["replayDeadLetters"] = (filter) =>
    Effect.flatMap(letters.replayMatching(filter), wake).pipe(
      Effect.mapError(failure("replayDeadLetters")),
      Effect.provide(context)
    )

  const replayLetters: EngineShape["replayLetters"] = (ids) =>
    Effect.flatMap(
      Effect.forEach(ids, (id) => letters.replay(id)),
      wake
    ).pipe(Effect.mapError(failure("replayLetters")), Effect.provide(context))

  const importCatalog: EngineShape["importCatalog"] = (connection, options) =>
    CatalogImport.importCatalog(connection, options?.onProgress).pipe(
      Effect.withClock(clock.clock),
      Effect.provide(context)
    )

  const reconcileNow: EngineShape["reconcileNow"] = (connection) =>
    EngineSchedules.reconcileNow(connection).pipe(
      Effect.map(
        (rows): ReconcileReport => ({
          connections: rows.map((r) => ({
            connection: r.connection,
            orders: { read: r.orders.read, recorded: r.orders.recorded },
            afterSales: { read: r.afterSales.read, recorded: r.afterSales.recorded },
            stock: { read: r.stock.read, applied: r.stock.applied },
            skipped: [r.orders.skipped, r.afterSales.skipped, r.stock.skipped].filter(
              (s): s is string => s !== undefined
            )
          }))
        })
      ),
      Effect.mapError(failure("reconcileNow", connection)),
      Effect.withClock(clock.clock),
      Effect.provide(context)
    )

  const resumeConnection: EngineShape["resumeConnection"] = (connection) =>
    Effect.gen(function* () {
      yield* registry.get(connection)
      const stock = yield* outbox.expedite(connection)
      yield* lanes.kick(connection)
      yield* InboxProcessor.resume(connection)
      yield* starter.kick(connection)
      return { stock }
    }).pipe(
      Effect.mapError(failure("resumeConnection", connection)),
      Effect.withClock(clock.clock),
      Effect.provide(context)
    )

  return {
    start,
    stop,
    notifyInbox,
    status,
    replayDeadLetters,
    replayLetters,
    importCatalog,
    reconcileNow,
    resumeConnection
  } satisfies EngineShape
})

/** The receivers the webhook edge verifies and decodes deliveries with: each connection's own. */
const layerReceivers: Layer.Layer<WebhookEdge.WebhookReceivers, never, ConnectionRegistry.ConnectionRegistry> =
  Layer.effect(
    WebhookEdge.WebhookReceivers,
    Effect.gen(function* () {
      const registry = yield* ConnectionRegistry.ConnectionRegistry
      const byConnection = new Map<string, Connector.WebhookReceiver>()
      for (const entry of registry.all) {
        const receiver = yield* InboxProcessor.receiverOf(registry, entry.id)
        if (Option.isSome(receiver)) byConnection.set(entry.id, receiver.value)
      }
      return { get: (connection: string) => Option.fromNullable(byConnection.get(connection)) }
    })
  )

/**
 * The engine over a composition root: the ledger, the connections' instances, the entities
 * (`InboxProcessor`, `StockPusher`, `ConnectionAuth`), the workflows (fulfilment, cancellation) and
 * the schedules. Building it resumes durable work (workflows, persisted messages); `start` starts the
 * schedules and sweeps.
 */
export const layer = <E>(
  options: EngineOptions<E>
): Layer.Layer<Provided, E | Connector.ConnectorConfigError | Migrator.MigrationError | SqlError> => {
  const tuning = { ...EngineSchedules.defaults, ...options.tuning }
  const base = Layer.mergeAll(
    options.clock ?? EngineClock.layerSystem,
    options.alerts ?? EngineAlerts.layer,
    options.httpClient ?? NodeHttpClient.layerUndici,
    Layer.succeed(StockPusher.StockPushOptions, { ...StockPusher.defaults, ...options.push }),
    Layer.succeed(EngineSchedules.EngineTuning, tuning),
    Layer.succeed(InboxApply.PausedRetry, Duration.toMillis(Duration.decode(tuning.pausedRetry))),
    Layer.succeed(WorkflowSteps.StepRetryPolicy, { ...RetryPolicy.defaults, ...options.stepRetry }),
    Layer.succeed(EngineFlows.CurrentFlows, options.flows),
    EngineLifecycle.layer
  )
  const stores = Layer.mergeAll(
    SqlLedger.layer({ ...options.ledger, config: EngineFlows.ledgerConfig(options.flows) }),
    EngineCheckpoints.layer,
    ConnectionAuth.layerTokenProviders
  ).pipe(Layer.provideMerge(Layer.merge(options.root, base)))
  const parts = WorkflowStarter.layer.pipe(
    Layer.provideMerge(StockPublisher.layer),
    Layer.provideMerge(StockPusher.layerLanes),
    Layer.provideMerge(StockListingIds.layerFromLedger()),
    Layer.provideMerge(ConnectionRegistry.layerFromConnectors(options.connections)),
    Layer.provideMerge(stores)
  )
  const work = InboxProcessor.layerWork.pipe(Layer.provideMerge(parts))
  return Layer.mergeAll(
    Layer.effect(Engine, makeEngine),
    layerReceivers,
    ConnectionAuth.layer,
    StockPusher.layer,
    InboxProcessor.layer,
    FulfilmentWorkflow.layer,
    CancellationWorkflow.layer,
    EngineSchedules.layer(options.flows, tuning)
  ).pipe(Layer.provideMerge(work))
}
