/**
 * EngineSchedules: everything the engine does on a clock rather than on an event —
 *
 * | schedule | every (default) | what it does |
 * |---|---|---|
 * | `inbox-sweep` | 5 s | asks the processor of each connection with due pending entries to drain them (a crash between a delivery's commit and its wake-up; entries waiting for a retry); alerts when entries stall |
 * | `job-sweep` | 15 s | starts queued workflows whose start was lost, and replayed dead steps |
 * | `outbox-sweep` | 30 s | wakes the stock pushers of channels with unpushed listings (`StockLanes.kick`) |
 * | `token-refresh` | 5 min | asks `ConnectionAuth` to refresh grants inside their lead time (derived from each token's own lifetime) |
 * | `authorization-warnings` | 6 h | alerts for authorizations ending within 14 days and connections needing re-authorization |
 * | `reservation-expiry` | 1 min | releases unpaid orders' holds past their TTL (`Ledger.expire`) and republishes |
 * | `reconcile:<connection>` | `reconciliation.every` | polls orders and after-sales into the inbox |
 * | `stock-source:<connection>` | the source's `every` | reads stock levels into the pool |
 * | `stock-reconcile` | `stock.reconcileEvery` | republishes every channel listing |
 * | `dead-letter-alerts` | 5 min | alerts per connection with open dead letters |
 * | `parcel-tracking:<connection>` | the fulfilment's `trackingEventsEvery` (30 min) | pulls carrier events of parcels on their way (`ParcelTracking`) |
 *
 * A schedule of a minute or more that fits a cron expression runs as a `ClusterCron` — a persisted,
 * deduplicated tick that exactly one runner of the cluster executes, surviving restarts. Cron ticks
 * are at best a second apart and each one is a stored message, so the sub-minute schedules (the
 * sweeps, and test or demo settings of the others) run instead as cluster `Singleton`s: one fiber on
 * whichever runner owns the singleton's shard, sleeping in between — still one per cluster, moved to
 * another runner when this one dies, and cheap at a five-second cadence.
 *
 * Every schedule is registered when the engine's layer is built and does nothing until the engine is
 * started; each run counts as in-flight work for a graceful stop.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { ClusterCron, Singleton } from "@effect/cluster"
import type { Parcels, StoreError } from "@tkbridge/core"
import { DeadLetter, Inbox, Ledger, Outbox, TokenStore } from "@tkbridge/core"
import { Context, Cron, Duration, Effect, Either, Layer, Option } from "effect"
import * as ConnectionAuth from "./ConnectionAuth.ts"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import type { EngineCheckpoints } from "./EngineCheckpoints.ts"
import * as EngineClock from "./EngineClock.ts"
import type { EngineFlows } from "./EngineFlows.ts"
import { CurrentFlows, fulfilmentDefaults, polledConnections, stockChannels } from "./EngineFlows.ts"
import { EngineLifecycle } from "./EngineLifecycle.ts"
import * as InboxProcessor from "./InboxProcessor.ts"
import * as ParcelTracking from "./ParcelTracking.ts"
import type * as PartnerCall from "./PartnerCall.ts"
import * as Reconciliation from "./Reconciliation.ts"
import { StockPublisher } from "./StockPublisher.ts"
import * as StockPusher from "./StockPusher.ts"
import * as StockSources from "./StockSources.ts"
import { WorkflowStarter } from "./WorkflowStarter.ts"

/** The cadences of the engine's own schedules (the flows set polling and stock cadences). */
export interface Tuning {
  readonly inboxSweep: Duration.DurationInput
  /** Entries younger than this are left to their live wake-up by the sweep. */
  readonly inboxGrace: Duration.DurationInput
  /** A pending entry older than this raises a `messages_stalled` alert. */
  readonly stalledAfter: Duration.DurationInput
  readonly jobSweep: Duration.DurationInput
  readonly outboxSweep: Duration.DurationInput
  readonly tokenScan: Duration.DurationInput
  readonly authorizationScan: Duration.DurationInput
  /** How far ahead an ending authorization is announced. */
  readonly authorizationWarning: Duration.DurationInput
  readonly expiry: Duration.DurationInput
  readonly deadLetterAlerts: Duration.DurationInput
  /** How long inbox entries of a connection that needs re-authorization wait between tries. */
  readonly pausedRetry: Duration.DurationInput
}

/** Production cadences. */
export const defaults: Tuning = {
  inboxSweep: "5 seconds",
  inboxGrace: "2 seconds",
  stalledAfter: "10 minutes",
  jobSweep: "15 seconds",
  outboxSweep: "30 seconds",
  tokenScan: "5 minutes",
  authorizationScan: "6 hours",
  authorizationWarning: "14 days",
  expiry: "1 minute",
  deadLetterAlerts: "5 minutes",
  pausedRetry: "1 minute"
}

/** The engine's cadences. */
export class EngineTuning extends Context.Reference<EngineTuning>()("@tkbridge/engine/EngineTuning", {
  defaultValue: (): Tuning => defaults
}) {}

/** A cron expression (with seconds) for an interval a cron can express, if any. */
export const cronFor = (every: Duration.DurationInput): Option.Option<Cron.Cron> => {
  const ms = Duration.toMillis(Duration.decode(every))
  const minute = 60_000
  const expression = (() => {
    if (ms % minute !== 0) return undefined
    const minutes = ms / minute
    if (minutes >= 1 && minutes < 60 && 60 % minutes === 0)
      return minutes === 1 ? "0 * * * * *" : `0 */${minutes} * * * *`
    if (minutes % 60 !== 0) return undefined
    const hours = minutes / 60
    if (hours < 24 && 24 % hours === 0) return hours === 1 ? "0 0 * * * *" : `0 0 */${hours} * * *`
    if (hours === 24) return "0 0 0 * * *"
    return undefined
  })()
  if (expression === undefined) return Option.none()
  const parsed = Cron.parse(expression)
  return Either.isRight(parsed) ? Option.some(parsed.right) : Option.none()
}

/** The services the schedules use. */
export type Requirements =
  | Sharding.Sharding
  | EngineLifecycle
  | EngineAlerts
  | EngineClock.EngineClock
  | Inbox.Inbox
  | Ledger.Ledger
  | Outbox.StockOutbox
  | DeadLetter.DeadLetters
  | TokenStore.TokenStore
  | ConnectionRegistry
  | CurrentFlows
  | StockPublisher
  | StockPusher.StockLanes
  | WorkflowStarter
  | EngineCheckpoints
  | Parcels.Parcels
  | PartnerCall.Requirements

interface Job {
  readonly name: string
  readonly every: Duration.DurationInput
  readonly run: Effect.Effect<void, unknown, Requirements>
}

/** Runs a job's body once if the engine is started, as in-flight work, logging (not propagating) failures. */
const guarded = (job: Job) =>
  Effect.gen(function* () {
    const lifecycle = yield* EngineLifecycle
    if (!(yield* lifecycle.started)) return
    const clock = yield* EngineClock.EngineClock
    yield* lifecycle.track(
      job.run.pipe(
        Effect.withClock(clock.clock),
        Effect.catchAllCause((cause) =>
          Effect.logWarning(`schedule ${job.name} failed; it runs again at its next tick`, cause)
        )
      )
    )
  }).pipe(Effect.annotateLogs({ schedule: job.name }))

/** A job as a cluster cron (a minute or more) or a cluster singleton loop (below a minute). */
const register = (job: Job): Layer.Layer<never, never, Requirements> =>
  Option.match(cronFor(job.every), {
    onSome: (cron) =>
      ClusterCron.make({
        name: `tkbridge/${job.name}`,
        cron,
        execute: guarded(job),
        skipIfOlderThan: job.every
      }),
    onNone: () =>
      Singleton.make(
        `tkbridge/${job.name}`,
        Effect.forever(Effect.zipRight(guarded(job), EngineClock.real(Effect.sleep(Duration.decode(job.every)))))
      )
  })

const inboxSweep = (tuning: Tuning): Job => ({
  name: "inbox-sweep",
  every: tuning.inboxSweep,
  run: Effect.gen(function* () {
    const inbox = yield* Inbox.Inbox
    const alerts = yield* EngineAlerts
    const now = yield* EngineClock.now
    const due = yield* inbox.pending({
      dueAt: new Date(now),
      receivedBefore: new Date(now - Duration.toMillis(Duration.decode(tuning.inboxGrace))),
      limit: 1000
    })
    const connections = [...new Set(due.map((d) => d.connection))]
    yield* Effect.forEach(connections, (c) => InboxProcessor.drain(c), { discard: true })
    const stalledBefore = now - Duration.toMillis(Duration.decode(tuning.stalledAfter))
    for (const c of connections) {
      const stalled = due.filter((d) => d.connection === c && d.receivedAt.getTime() < stalledBefore)
      if (stalled.length > 0) {
        yield* alerts.raise({
          code: "messages_stalled",
          connection: c,
          message: `${c}: ${stalled.length} inbox entr${stalled.length === 1 ? "y has" : "ies have"} waited longer than ${Duration.format(Duration.decode(tuning.stalledAfter))} to be applied`
        })
      }
    }
  })
})

const jobSweep = (tuning: Tuning): Job => ({
  name: "job-sweep",
  every: tuning.jobSweep,
  run: Effect.flatMap(WorkflowStarter, (starter) => starter.sweep)
})

const outboxSweep = (tuning: Tuning, flows: EngineFlows): Job => ({
  name: "outbox-sweep",
  every: tuning.outboxSweep,
  run: Effect.gen(function* () {
    const outbox = yield* Outbox.StockOutbox
    const lanes = yield* StockPusher.StockLanes
    for (const channel of stockChannels(flows)) {
      const backlog = yield* outbox.backlog(channel)
      if (backlog > 0) yield* lanes.kick(channel)
    }
  })
})

const tokenRefresh = (tuning: Tuning): Job => ({
  name: "token-refresh",
  every: tuning.tokenScan,
  run: Effect.gen(function* () {
    const tokens = yield* TokenStore.TokenStore
    const registry = yield* ConnectionRegistry
    const now = yield* EngineClock.now
    // The longest lead time is seven days; the entity checks each grant's own one.
    const expiring = yield* tokens.expiring({ before: new Date(now + Duration.toMillis(Duration.days(7))) })
    const makeClient = yield* ConnectionAuth.ConnectionAuthEntity.client
    yield* Effect.forEach(
      expiring.filter((e) => e.expiresAt !== undefined && registry.all.some((c) => c.id === e.connection)),
      (e) =>
        makeClient(e.connection)
          .Refresh({ ahead: true })
          .pipe(
            Effect.catchAllCause((cause) =>
              Effect.logWarning(`scheduled token refresh of ${e.connection} failed`, cause)
            )
          ),
      { discard: true }
    )
  })
})

const authorizationWarnings = (tuning: Tuning): Job => ({
  name: "authorization-warnings",
  every: tuning.authorizationScan,
  run: Effect.gen(function* () {
    const tokens = yield* TokenStore.TokenStore
    const alerts = yield* EngineAlerts
    const now = yield* EngineClock.now
    const horizon = now + Duration.toMillis(Duration.decode(tuning.authorizationWarning))
    const ending = yield* tokens.expiring({ before: new Date(0), authorizationBefore: new Date(horizon) })
    for (const e of ending) {
      if (e.refreshExpiresAt === undefined) continue
      const days = Math.max(0, Math.floor((e.refreshExpiresAt.getTime() - now) / 86_400_000))
      yield* alerts.raise({
        code: "authorization_expiring",
        connection: e.connection,
        message: `${e.connection}'s authorization ends on ${e.refreshExpiresAt.toISOString()} (in ${days} day${days === 1 ? "" : "s"}): ask the seller to authorize again before then`
      })
    }
    for (const r of yield* tokens.needingReauth) {
      yield* alerts.raise({
        code: "needs_reauth",
        connection: r.connection,
        message: `${r.connection} needs re-authorization${r.reason ? ` (${r.reason})` : ""}; its work waits`
      })
    }
  })
})

const reservationExpiry = (tuning: Tuning): Job => ({
  name: "reservation-expiry",
  every: tuning.expiry,
  run: Effect.gen(function* () {
    const ledger = yield* Ledger.Ledger
    const publisher = yield* StockPublisher
    const now = yield* EngineClock.nowDate
    const expired = yield* publisher.run(
      Effect.map(ledger.expire(now, { actor: "engine", reason: "unpaid order TTL" }), (r) => ({
        value: r.expired.length,
        changed: r.changed
      })),
      { actor: "engine", cause: "unpaid orders expired" }
    )
    if (expired > 0) yield* Effect.logInfo(`released ${expired} unpaid order line(s) past their TTL`)
  })
})

const reconcile = (flows: EngineFlows): ReadonlyArray<Job> =>
  polledConnections(flows).map(({ connection, orders, afterSales }) => ({
    name: `reconcile:${connection}`,
    every: flows.reconciliation.every,
    run: Effect.gen(function* () {
      if (orders) yield* Reconciliation.pollOrders(connection)
      if (afterSales) yield* Reconciliation.pollAfterSales(connection)
    })
  }))

const stockSources = (flows: EngineFlows): ReadonlyArray<Job> =>
  (flows.stock?.sources ?? []).map((source) => ({
    name: `stock-source:${source.connection}`,
    every: source.every,
    run: Effect.asVoid(StockSources.pull(source.connection))
  }))

const stockReconcile = (flows: EngineFlows): ReadonlyArray<Job> =>
  flows.stock === undefined || flows.stock.channels.length === 0
    ? []
    : [
        {
          name: "stock-reconcile",
          every: flows.stock.reconcileEvery,
          run: Effect.gen(function* () {
            const bumped = yield* StockSources.reconcile
            if (bumped > 0) yield* Effect.logInfo(`reconciliation queued ${bumped} listing(s) whose quantity drifted`)
          })
        }
      ]

const deadLetterAlerts = (tuning: Tuning): Job => ({
  name: "dead-letter-alerts",
  every: tuning.deadLetterAlerts,
  run: Effect.gen(function* () {
    const letters = yield* DeadLetter.DeadLetters
    const registry = yield* ConnectionRegistry
    const alerts = yield* EngineAlerts
    for (const entry of registry.all) {
      const open = yield* letters.count({ connection: entry.id, status: "open" })
      if (open > 0) {
        yield* alerts.raise({
          code: "dead_letters",
          connection: entry.id,
          subject: "queue",
          message: `${entry.id} has ${open} open dead letter${open === 1 ? "" : "s"}: inspect with \`tkbridge dlq list\` and replay after fixing the cause`
        })
      }
    }
  })
})

const parcelTracking = (flows: EngineFlows): ReadonlyArray<Job> =>
  ParcelTracking.fulfillers(flows).map((fulfiller) => ({
    name: `parcel-tracking:${fulfiller}`,
    every: fulfilmentDefaults(flows, fulfiller).trackingEventsEvery,
    run: Effect.gen(function* () {
      const report = yield* ParcelTracking.pull(fulfiller)
      if (report.events > 0) {
        yield* Effect.logInfo(
          `${fulfiller}: ${report.events} new carrier event(s) over ${report.tracked} parcel(s), ${report.delivered} delivered`
        )
      }
    })
  }))

/** Every schedule the flows call for. */
export const jobs = (flows: EngineFlows, tuning: Tuning): ReadonlyArray<Job> => [
  inboxSweep(tuning),
  jobSweep(tuning),
  outboxSweep(tuning, flows),
  tokenRefresh(tuning),
  authorizationWarnings(tuning),
  reservationExpiry(tuning),
  ...reconcile(flows),
  ...stockSources(flows),
  ...stockReconcile(flows),
  ...parcelTracking(flows),
  deadLetterAlerts(tuning)
]

/** Registers every schedule (idle until the engine starts). */
export const layer = (flows: EngineFlows, tuning: Tuning = defaults): Layer.Layer<never, never, Requirements> =>
  jobs(flows, tuning)
    .map(register)
    .reduce((all, one) => Layer.merge(all, one), Layer.empty as Layer.Layer<never, never, Requirements>)

/** Runs the polling schedules of one connection (or all) once, now. */
export const reconcileNow = (
  connection: string | undefined
): Effect.Effect<
  ReadonlyArray<{
    readonly connection: string
    readonly orders: Reconciliation.PassReport
    readonly afterSales: Reconciliation.PassReport
    readonly stock: StockSources.PullReport
  }>,
  Ledger.LedgerUnavailable | StoreError.StoreError,
  Requirements
> =>
  Effect.gen(function* () {
    const flows = yield* CurrentFlows
    const polled = polledConnections(flows)
    const sources = (flows.stock?.sources ?? []).map((s) => s.connection)
    const names = [...new Set([...polled.map((p) => p.connection), ...sources])].filter(
      (c) => connection === undefined || c === connection
    )
    const none = { read: 0, recorded: 0, current: 0 }
    const out = yield* Effect.forEach(names, (c) =>
      Effect.gen(function* () {
        const p = polled.find((x) => x.connection === c)
        return {
          connection: c,
          orders: p?.orders ? yield* Reconciliation.pollOrders(c) : none,
          afterSales: p?.afterSales ? yield* Reconciliation.pollAfterSales(c) : none,
          stock: sources.includes(c) ? yield* StockSources.pull(c) : { read: 0, applied: 0 }
        }
      })
    )
    if (connection === undefined) yield* StockSources.reconcile
    const lanes = yield* StockPusher.StockLanes
    for (const channel of stockChannels(flows)) yield* lanes.kick(channel)
    return out
  })
