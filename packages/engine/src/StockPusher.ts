/**
 * StockPusher: publishes each listing's quantity to its channel, coalesced and batched, within the
 * channel's limits, and never twice.
 *
 * - **Entity** `StockPusher(connection:listing)`, one message at a time per listing. `Push{version}`
 *   is persisted with the primary key `connection:listing:version`, so a notification sent twice is
 *   stored once and one that was never answered (a crash) is delivered again after a restart. The
 *   handler reads the listing's outbox row: already pushed (a later message covered it) → done;
 *   otherwise it hands the listing to its connection's lane and waits for the outcome.
 * - **Lane** (one per connection in a process): the first change after a quiet period goes out at
 *   once; the ones that follow while a write is recent fold into one trailing write, `intervalMs`
 *   after the last one. A write claims every due listing of the connection (up to the connector's
 *   batch limit) and sends them in one `stock.push` call with each update's idempotency key
 *   `connection:listing:version`. Before each call it checks the scope's suspension and spends one
 *   call of quota in the `low` lane (orders and tracking keep the headroom); a denied spend parks the
 *   work until the stated time. Results are recorded per listing: pushed (the version only grows),
 *   retried with back-off and jitter, deferred through a rate limit or suspension, or dead-lettered
 *   with the whole context. Quantities are absolute, so a replayed write is harmless even where the
 *   platform has no idempotency keys.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import type { Connector, ConnectorError } from "@tkbridge/core"
import { Audit, DeadLetter, Outbox, Quota, TokenStore } from "@tkbridge/core"
import type { Scope } from "effect"
import { Context, Deferred, Duration, Effect, Layer, Option, Queue, Random, Schema } from "effect"
import type { ConnectionEntry } from "./ConnectionRegistry.ts"
import { ConnectionRegistry, TokenProviders } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

/** How a `Push` ended for its listing. */
export const PushResult = Schema.Literal("pushed", "current", "deferred", "dead", "paused")
/** How a `Push` ended for its listing. */
export type PushResult = typeof PushResult.Type

/** The per-listing entity. Its id is `connection:listing`. */
export const StockPusherEntity = Entity.make("StockPusher", [
  Rpc.make("Push", {
    payload: { connection: Schema.String, listing: Schema.String, version: Schema.Number },
    success: PushResult,
    primaryKey: ({ connection, listing, version }) => Outbox.stockPushKey(connection, listing, version)
  }).annotate(ClusterSchema.Persisted, true)
])

/** The entity id of a listing's pusher. */
export const entityId = (connection: string, listing: string): string => `${connection}:${listing}`

/** Tuning of the pushers. */
export interface Options {
  /** Least time between two writes to one connection; changes in between fold into the next write. */
  readonly intervalMs: number
  /** Updates per call when the connector states no limit. */
  readonly defaultBatch: number
  /** How long a claim is held before another worker may take it (a crashed worker's claims come back). */
  readonly leaseMs: number
  /** A listing handler waits for its write up to this long; longer waits (suspensions) answer `deferred`. */
  readonly inlineWaitMs: number
  readonly retry: RetryPolicy.Options
}

/** Defaults: at most one write per connection every 220 ms, 50 updates per write. */
export const defaults: Options = {
  intervalMs: 220,
  defaultBatch: 50,
  leaseMs: 60_000,
  inlineWaitMs: 60_000,
  retry: { ...RetryPolicy.defaults, maxAttempts: 8 }
}

/** What a lane did, for metrics. */
export interface LaneStats {
  readonly connection: string
  readonly writes: number
  readonly updates: number
  readonly failures: number
  readonly deadLettered: number
}

/** The lanes of this process. */
export interface StockLanesShape {
  /** Waits until `listing` has been written at `version` or later, or says why not yet. */
  readonly request: (connection: string, listing: string, version: number) => Effect.Effect<PushResult>
  /** Wakes a connection's lane to write whatever is due (the outbox sweep, a replay, a restart). */
  readonly kick: (connection: string) => Effect.Effect<void>
  readonly stats: Effect.Effect<ReadonlyArray<LaneStats>>
}

/** The per-connection write lanes of this process. */
export class StockLanes extends Context.Tag("@tkbridge/engine/StockLanes")<StockLanes, StockLanesShape>() {}

/** Options for the pushers. */
export class StockPushOptions extends Context.Reference<StockPushOptions>()("@tkbridge/engine/StockPushOptions", {
  defaultValue: (): Options => defaults
}) {}

interface Waiter {
  readonly version: number
  readonly done: Deferred.Deferred<PushResult>
}

interface Lane {
  readonly wake: Queue.Queue<void>
  readonly waiters: Map<string, Array<Waiter>>
  lastWriteAt: number
  blockedUntil: number
  stats: { writes: number; updates: number; failures: number; deadLettered: number }
}

type LaneRequirements =
  | Outbox.StockOutbox
  | Quota.Quota
  | Audit.Audit
  | TokenStore.TokenStore
  | ConnectionRegistry
  | TokenProviders
  | EngineAlerts
  | EngineClock.EngineClock

const makeLanes: Effect.Effect<StockLanesShape, never, LaneRequirements | Scope.Scope> = Effect.gen(function* () {
  const outbox = yield* Outbox.StockOutbox
  const quota = yield* Quota.Quota
  const audit = yield* Audit.Audit
  const tokens = yield* TokenStore.TokenStore
  const registry = yield* ConnectionRegistry
  const providers = yield* TokenProviders
  const alerts = yield* EngineAlerts
  const options = yield* StockPushOptions
  const scope = yield* Effect.scope
  const clock = yield* EngineClock.EngineClock
  const lanes = new Map<string, Lane>()

  const resolve = (lane: Lane, listing: string, result: PushResult, upTo = Number.POSITIVE_INFINITY) =>
    Effect.gen(function* () {
      const list = lane.waiters.get(listing)
      if (!list) return
      const remaining: Array<Waiter> = []
      for (const w of list) {
        if (w.version <= upTo) yield* Deferred.succeed(w.done, result)
        else remaining.push(w)
      }
      if (remaining.length === 0) lane.waiters.delete(listing)
      else lane.waiters.set(listing, remaining)
    })

  const resolveAll = (lane: Lane, result: PushResult) =>
    Effect.forEach([...lane.waiters.keys()], (listing) => resolve(lane, listing, result), { discard: true })

  /** Waiters whose listing needs nothing (already pushed) or cannot go for a long while are answered. */
  const settleWaiters = (lane: Lane, connection: string, now: number) =>
    Effect.forEach(
      [...lane.waiters.keys()],
      (listing) =>
        Effect.gen(function* () {
          const row = yield* outbox.get(connection, listing)
          if (Option.isNone(row)) return yield* resolve(lane, listing, "current")
          const r = row.value
          if (r.status === "dead") return yield* resolve(lane, listing, "dead")
          yield* resolve(lane, listing, "current", r.pushedVersion)
          const dueAt = Math.max(r.dueAt.getTime(), r.nextAttemptAt?.getTime() ?? 0, lane.blockedUntil)
          if (dueAt - now > options.inlineWaitMs) yield* resolve(lane, listing, "deferred")
        }),
      { discard: true }
    )

  const policyOf = (entry: ConnectionEntry): Quota.Policy => Quota.policyFromLimits(entry.manifest.limits, entry.quota)

  const write = (lane: Lane, entry: ConnectionEntry, push: Connector.StockPush) =>
    Effect.gen(function* () {
      const connection = entry.id
      const policy = policyOf(entry)
      const scopeKey = Quota.scopeOf(connection, policy)
      const batch = Math.max(1, entry.manifest.limits.stockPushBatch ?? options.defaultBatch)
      const spent = yield* quota.spend({ connection, lane: "low", policy })
      if (spent._tag === "Denied") {
        lane.blockedUntil = spent.retryAt.getTime()
        return "blocked" as const
      }
      const claims = yield* outbox.claimDue({ connection, limit: batch, leaseMs: options.leaseMs })
      if (claims.length === 0) return "idle" as const
      lane.lastWriteAt = yield* EngineClock.now
      lane.stats.writes++
      lane.stats.updates += claims.length
      const byListing = new Map(claims.map((c) => [c.listing, c]))
      const updates = claims.map(
        (c): Connector.StockUpdate => ({
          externalSku: c.listing,
          externalIds: {},
          quantity: c.quantity,
          idempotencyKey: c.idempotencyKey
        })
      )
      const sent = yield* EngineClock.real(push.push(updates)).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.fail<ConnectorError.ConnectorError>({
            _tag: "Transient",
            message: `connector failed unexpectedly: ${String(defect)}`
          } as ConnectorError.ConnectorError)
        ),
        Effect.either
      )
      const failed: Array<readonly [Outbox.StockPushClaim, ConnectorError.ConnectorError]> = []
      if (sent._tag === "Left") {
        for (const c of claims) failed.push([c, sent.left])
      } else {
        for (const result of sent.right) {
          const claim = byListing.get(result.externalSku)
          if (!claim) continue
          byListing.delete(result.externalSku)
          if (result._tag === "Applied") {
            yield* outbox.markPushed(claim)
            yield* audit.append(
              Audit.outboundWrite({
                connection,
                operation: "stock.push",
                subject: claim.listing,
                idempotencyKey: claim.idempotencyKey,
                outcome: "applied",
                request: { quantity: claim.quantity, version: claim.version }
              })
            )
            yield* resolve(lane, claim.listing, "pushed", claim.version)
          } else if (result._tag === "Stale") {
            failed.push([
              claim,
              {
                _tag: "Transient",
                message: `the channel holds ${result.actual}, not the expected quantity; writing again`
              } as ConnectorError.ConnectorError
            ])
          } else failed.push([claim, result.error])
        }
        // An update the connector did not answer for is treated as not written.
        for (const claim of byListing.values()) {
          failed.push([
            claim,
            { _tag: "Transient", message: "the channel did not report on this update" } as ConnectorError.ConnectorError
          ])
        }
      }
      for (const [claim, error] of failed) yield* onFailure(lane, entry, scopeKey, claim, error)
      return "wrote" as const
    })

  const onFailure = (
    lane: Lane,
    entry: ConnectionEntry,
    scopeKey: string,
    claim: Outbox.StockPushClaim,
    error: ConnectorError.ConnectorError
  ) =>
    Effect.gen(function* () {
      const connection = entry.id
      lane.stats.failures++
      const now = yield* EngineClock.nowDate
      const random = yield* Random.next
      const decision = RetryPolicy.decide(error, {
        failures: claim.attempts + 1,
        now,
        random,
        policy: options.retry
      })
      const exchange = error.exchange
      const failure = (retryAt: Date) => ({ message: `${error._tag}: ${error.message}`, error, exchange, retryAt })
      switch (decision._tag) {
        case "Retry":
          if (error._tag === "RateLimited") lane.blockedUntil = Math.max(lane.blockedUntil, decision.at.getTime())
          return yield* outbox.fail(claim, failure(decision.at))
        case "Defer": {
          yield* quota.suspend({ scope: scopeKey, until: decision.until, reason: `${error._tag}: ${error.message}` })
          lane.blockedUntil = Math.max(lane.blockedUntil, decision.until.getTime())
          yield* alerts.raise({
            code: "suspended",
            connection,
            message: `${connection}: the platform asked to wait until ${decision.until.toISOString()} (${error.message}); stock pushes wait, nothing is dropped`
          })
          return yield* outbox.fail(claim, failure(decision.until))
        }
        case "Refresh": {
          // The connector already refreshed once through the provider; force one more through the entity.
          const current = yield* tokens.get(connection).pipe(Effect.option, Effect.map(Option.flatten))
          if (Option.isSome(current)) {
            yield* providers.forConnection(connection).refresh(current.value.tokens).pipe(Effect.ignore)
          }
          return yield* outbox.fail(claim, failure(now))
        }
        case "Pause": {
          yield* tokens.markNeedsReauth(connection, error.message).pipe(Effect.ignore)
          yield* alerts.raise({
            code: "needs_reauth",
            connection,
            message: `${connection} needs re-authorization (${error.message}); its stock pushes wait`
          })
          yield* resolve(lane, claim.listing, "paused")
          return yield* outbox.fail(claim, failure(new Date(now.getTime() + options.retry.maxDelayMs)))
        }
        case "Dead": {
          lane.stats.deadLettered++
          yield* outbox.deadLetter(claim, {
            reason: decision.exhausted ? "retry_exhausted" : DeadLetter.reasonFor(error),
            message: `${error._tag}: ${error.message}`,
            error,
            exchange
          })
          yield* audit.append(
            Audit.outboundWrite({
              connection,
              operation: "stock.push",
              subject: claim.listing,
              idempotencyKey: claim.idempotencyKey,
              outcome: `dead:${error._tag}`,
              exchange
            })
          )
          yield* alerts.raise({
            code: "dead_letters",
            connection,
            subject: claim.listing,
            message: `${connection}: the stock push for ${claim.listing} is in the dead-letter queue (${error._tag}: ${error.message})`
          })
          return yield* resolve(lane, claim.listing, "dead")
        }
      }
    })

  /** Writes everything due; answers how long until something is due next (none: nothing pending). */
  const flush = (lane: Lane, entry: ConnectionEntry) =>
    Effect.gen(function* () {
      const connection = entry.id
      const push = entry.services["stock.push"]
      const policy = policyOf(entry)
      while (true) {
        let now = yield* EngineClock.now
        const suspension = yield* quota.suspension(Quota.scopeOf(connection, policy))
        if (Option.isSome(suspension) && suspension.value.until.getTime() > now) {
          lane.blockedUntil = Math.max(lane.blockedUntil, suspension.value.until.getTime())
        }
        if (lane.blockedUntil > now) {
          yield* settleWaiters(lane, connection, now)
          return Option.some(lane.blockedUntil - now)
        }
        const next = yield* outbox.nextDue(connection)
        if (Option.isNone(next)) {
          yield* resolveAll(lane, "current")
          return Option.none<number>()
        }
        const dueIn = next.value.getTime() - now
        if (dueIn > 0) {
          yield* settleWaiters(lane, connection, now)
          return Option.some(dueIn)
        }
        // Coalescing: a write shortly after the previous one waits out the interval, gathering more.
        const spacing = lane.lastWriteAt + options.intervalMs - now
        if (spacing > 0) {
          yield* Effect.sleep(Duration.millis(spacing))
          now = yield* EngineClock.now
        }
        const outcome = yield* write(lane, entry, push)
        if (outcome === "idle") {
          yield* settleWaiters(lane, connection, now)
          // Due rows exist but none could be claimed (another worker holds them): look again shortly.
          return Option.some(options.intervalMs)
        }
      }
    })

  const runLane = (lane: Lane, connection: string) =>
    Effect.gen(function* () {
      const entry = yield* registry.get(connection)
      if (entry.services["stock.push"] === undefined) {
        yield* resolveAll(lane, "dead")
        return
      }
      while (true) {
        const wait = yield* flush(lane, entry).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logWarning("stock push lane failed; retrying", cause).pipe(
              Effect.as(Option.some(options.retry.baseDelayMs))
            )
          )
        )
        const sleep = Option.match(wait, {
          onNone: () => Effect.never,
          onSome: (ms) => Effect.sleep(Duration.millis(Math.max(1, ms)))
        })
        yield* Effect.raceFirst(Queue.take(lane.wake), sleep)
        // Drain extra wake-ups: one flush serves them all.
        yield* Queue.takeAll(lane.wake)
      }
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logError("stock push lane stopped", cause)),
      Effect.annotateLogs({ lane: connection })
    )

  const laneFor = (connection: string) =>
    Effect.gen(function* () {
      const existing = lanes.get(connection)
      if (existing) return existing
      const lane: Lane = {
        wake: yield* Queue.sliding<void>(1),
        waiters: new Map(),
        lastWriteAt: Number.NEGATIVE_INFINITY,
        blockedUntil: 0,
        stats: { writes: 0, updates: 0, failures: 0, deadLettered: 0 }
      }
      lanes.set(connection, lane)
      yield* Effect.forkIn(
        runLane(lane, connection).pipe(
          Effect.withClock(clock.clock),
          Effect.provideService(EngineClock.EngineClock, clock)
        ),
        scope
      )
      return lane
    })

  return {
    request: (connection, listing, version) =>
      Effect.gen(function* () {
        const lane = yield* laneFor(connection)
        const done = yield* Deferred.make<PushResult>()
        const list = lane.waiters.get(listing) ?? []
        list.push({ version, done })
        lane.waiters.set(listing, list)
        yield* Queue.offer(lane.wake, undefined)
        return yield* Deferred.await(done)
      }),
    kick: (connection) => Effect.flatMap(laneFor(connection), (lane) => Queue.offer(lane.wake, undefined)),
    stats: Effect.sync(() => [...lanes.entries()].map(([connection, l]) => ({ connection, ...l.stats })))
  }
})

/** The write lanes of this process, living as long as the layer. */
export const layerLanes: Layer.Layer<StockLanes, never, LaneRequirements> = Layer.scoped(StockLanes, makeLanes)

/** The entity's behaviour: hand a listing that still needs writing to its lane and wait for the outcome. */
export const layer: Layer.Layer<
  never,
  never,
  Sharding.Sharding | StockLanes | Outbox.StockOutbox | EngineClock.EngineClock
> = StockPusherEntity.toLayer(
  Effect.gen(function* () {
    const lanes = yield* StockLanes
    const outbox = yield* Outbox.StockOutbox
    const clock = yield* EngineClock.EngineClock
    return {
      Push: ({ payload }) =>
        Effect.gen(function* () {
          const row = yield* outbox.get(payload.connection, payload.listing)
          if (Option.isNone(row)) return "current" as const
          if (row.value.status === "dead") return "dead" as const
          if (row.value.pushedVersion >= row.value.desiredVersion) return "current" as const
          return yield* lanes.request(payload.connection, payload.listing, row.value.desiredVersion)
        }).pipe(
          Effect.withClock(clock.clock),
          // A store hiccup must not lose the notification: the lane or the sweep picks the row up.
          Effect.catchAll(() => Effect.succeed("deferred" as const))
        )
    }
  }),
  { maxIdleTime: "1 minute" }
)

/**
 * Tells the pushers a listing has a new version to write: wakes this process's lane for the
 * connection at once (the write goes out without waiting for message delivery), and sends the
 * durable, deduplicated `Push` message, which redelivers the work after a crash and answers
 * `current` when the lane already wrote it.
 */
export const notify = (connection: string, listing: string, version: number) =>
  Effect.gen(function* () {
    const lanes = yield* StockLanes
    yield* lanes.kick(connection)
    const makeClient = yield* StockPusherEntity.client
    yield* makeClient(entityId(connection, listing)).Push({ connection, listing, version }, { discard: true })
  })
