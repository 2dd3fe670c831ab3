/**
 * StockPusher: publishes each listing's quantity to its channel, coalesced and batched, within the
 * channel's limits, never above what the pool allows, and never twice.
 *
 * - **Hot path.** The pool commits a listing's new quantity to the durable outbox row and calls
 *   {@link notify}, which only wakes this process's lane for the connection. The outbox row is the
 *   durable record: a crash before the write leaves it pending, and every lane looks at its
 *   connection's pending rows when it starts and whenever it is woken ({@link StockLanesShape.kickAll}
 *   for the outbox sweep), so nothing depends on an in-memory message.
 * - **Lane** (one per connection in a process): the first change after a quiet period goes out at
 *   once; changes that follow while a write is recent fold into one trailing write `intervalMs`
 *   after the previous one. A write claims every due listing of the connection up to the connector's
 *   batch limit and spends one call of `low`-lane quota in the same transaction (a denied spend rolls
 *   the claims back and parks the lane until the stated time: suspensions, the daily quota with the
 *   headroom kept for orders and tracking, the per-second rate). The batch goes out in one
 *   `stock.push` call with each update's idempotency key `connection:listing:version`, and every
 *   outcome of the batch is recorded in one more commit — two commits per write, however many
 *   listings it carries.
 * - **Compare-and-set** (connectors whose manifest says `stock.compareAndSet`): each update carries
 *   `expected`, the quantity the channel last confirmed or reported (see `StockChannelState`). A
 *   `Stale{actual}` answer is decided by core's `StockDecision.afterStale` against the pool's latest
 *   number: units the channel sold whose orders the pool has not seen are held back until
 *   {@link orderSeen} reports them or the reconciliation window (`holdWindowMs`) passes, and the
 *   listing is written again at once with `expected = actual` under a new idempotency key
 *   (`…:version~round`). What is published never exceeds the pool.
 * - **Failures** follow `RetryPolicy`: back-off with jitter, Retry-After waits, suspensions persisted
 *   for the whole quota scope (they survive a restart), one forced token refresh, `needs_reauth`, and
 *   dead letters with the whole context; a replay sends the latest value.
 * - **Entity** `StockPusher(connection:listing)` with persisted, deduplicated `Push{version}`
 *   messages ({@link notifyDurable}): the durable route for callers that want a message per version
 *   (a sweep across runners); its handler hands the listing to the local lane and waits for the
 *   outcome.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Connector, StoreError } from "@tkbridge/core"
import { Audit, ConnectorError, DeadLetter, Outbox, Quota, StockDecision, TokenStore } from "@tkbridge/core"
import type { Scope } from "effect"
import {
  Array as Arr,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Layer,
  Option,
  Order,
  Queue,
  Random,
  Schema
} from "effect"
import { awaitingReauthorization } from "./ConnectionAuth.ts"
import type { ConnectionEntry } from "./ConnectionRegistry.ts"
import { ConnectionRegistry, TokenProviders } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import { EngineLifecycle } from "./EngineLifecycle.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import * as StockChannelState from "./StockChannelState.ts"
import { StockListingIds } from "./StockListingIds.ts"

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
  /** How long units a stale write revealed as sold stay held when their orders never arrive. */
  readonly holdWindowMs: number
  /** Stale answers in a row for one version before the write backs off like a transient failure. */
  readonly maxStaleRounds: number
  readonly retry: RetryPolicy.Options
}

/**
 * Defaults: at most one write per connection every 220 ms, 50 updates per write, units revealed as
 * sold held for 15 minutes at most.
 */
export const defaults: Options = {
  intervalMs: 220,
  defaultBatch: 50,
  leaseMs: 60_000,
  inlineWaitMs: 60_000,
  holdWindowMs: 15 * 60_000,
  maxStaleRounds: 5,
  retry: { ...RetryPolicy.defaults, maxAttempts: 8 }
}

/** What a lane did, for metrics. */
export interface LaneStats {
  readonly connection: string
  readonly writes: number
  readonly updates: number
  readonly stale: number
  readonly failures: number
  readonly deadLettered: number
}

/** The lanes of this process. */
export interface StockLanesShape {
  /** Waits until `listing` has been written at `version` or later, or says why not yet. */
  readonly request: (connection: string, listing: string, version: number) => Effect.Effect<PushResult>
  /** Wakes a connection's lane to write whatever is due. */
  readonly kick: (connection: string) => Effect.Effect<void>
  /** Wakes the lane of every configured connection that pushes stock (the outbox sweep, a restart). */
  readonly kickAll: Effect.Effect<void>
  readonly stats: Effect.Effect<ReadonlyArray<LaneStats>>
}

/** The per-connection write lanes of this process. */
export class StockLanes extends Context.Tag("@tkbridge/engine/StockLanes")<StockLanes, StockLanesShape>() {}

/** Options for the pushers. */
export class StockPushOptions extends Context.Reference<StockPushOptions>()("@tkbridge/engine/StockPushOptions", {
  defaultValue: (): Options => defaults
}) {}

/** A spend the quota denied: the claims of the transaction are rolled back. */
class SpendDenied extends Data.TaggedError("SpendDenied")<{ readonly retryAt: number }> {}

interface Waiter {
  readonly version: number
  readonly done: Deferred.Deferred<PushResult>
}

interface Lane {
  readonly wake: Queue.Queue<void>
  readonly waiters: Map<string, Array<Waiter>>
  lastWriteAt: number
  blockedUntil: number
  /** A change may have been committed since the last claim (a wake-up, a full batch, a stale answer). */
  dirty: boolean
  /** When held units of this connection are next let go (compare-and-set connections). */
  holdsAt: number
  /**
   * The write after whose "expired" refusal the token was refreshed by force. A later write refused
   * as expired too means refreshing does not help (connectors refresh once inside every call as
   * well), so the connection pauses instead of rotating the refresh token on every write.
   */
  refreshedAtWrite: number | undefined
  stats: { writes: number; updates: number; stale: number; failures: number; deadLettered: number }
}

/** One claimed listing as it goes out. */
interface Planned {
  readonly claim: Outbox.StockPushClaim
  readonly state: StockChannelState.State
  /** What is written (the pool's number less any held units). */
  readonly quantity: number
  readonly expected: number | undefined
  readonly round: number
  readonly key: string
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
  | SqlClient.SqlClient

/** True when the connector's writes take an `expected` quantity. */
const comparesAndSets = (entry: ConnectionEntry): boolean => entry.manifest.stock?.compareAndSet === true

/** How often a lane of a stopping engine looks whether work is taken again. */
const stoppedRecheckMs = 1_000

const makeLanes: Effect.Effect<StockLanesShape, never, LaneRequirements | Scope.Scope> = Effect.gen(function* () {
  const lifecycle = yield* Effect.serviceOption(EngineLifecycle)
  const outbox = yield* Outbox.StockOutbox
  const quota = yield* Quota.Quota
  const audit = yield* Audit.Audit
  const tokens = yield* TokenStore.TokenStore
  const registry = yield* ConnectionRegistry
  const providers = yield* TokenProviders
  const alerts = yield* EngineAlerts
  const options = yield* StockPushOptions
  const listingIds = yield* StockListingIds
  const sql = yield* SqlClient.SqlClient
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

  /**
   * Claims the due listings of a connection and spends one call of quota for them, in one
   * transaction: a denied spend rolls the claims back. Reads the channel states of the claimed
   * listings for compare-and-set connectors.
   */
  const claimBatch = (entry: ConnectionEntry, cas: boolean) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const connection = entry.id
        const batch = Math.max(1, entry.manifest.limits.stockPushBatch ?? options.defaultBatch)
        const claims = yield* outbox.claimDue({ connection, limit: batch, leaseMs: options.leaseMs })
        if (claims.length === 0) return undefined
        const spent = yield* quota.spend({ connection, lane: "low", policy: policyOf(entry) })
        if (spent._tag === "Denied") return yield* new SpendDenied({ retryAt: spent.retryAt.getTime() })
        const states = cas
          ? yield* StockChannelState.read(
              connection,
              claims.map((c) => c.listing)
            )
          : new Map<string, StockChannelState.State>()
        return { claims, states }
      })
    )

  const plan = (
    claim: Outbox.StockPushClaim,
    known: StockChannelState.State | undefined,
    now: number,
    cas: boolean
  ) => {
    const state = known ?? StockChannelState.initial(claim.listing)
    const round = state.casVersion === claim.version ? state.round : 0
    return {
      claim,
      state,
      quantity: cas ? StockDecision.publishable(claim.quantity, state.balance, now) : claim.quantity,
      expected: cas ? state.known : undefined,
      round,
      key: StockChannelState.roundKey(claim.idempotencyKey, round)
    } satisfies Planned
  }

  const auditWrite = (connection: string, p: Planned, outcome: string, extra: Record<string, unknown> = {}) =>
    audit.append(
      Audit.outboundWrite({
        connection,
        operation: "stock.push",
        subject: p.claim.listing,
        idempotencyKey: p.key,
        outcome,
        request: { quantity: p.quantity, expected: p.expected, version: p.claim.version, ...extra }
      })
    )

  /**
   * Records a stale answer: decides against the pool's latest number. Answers whether the version
   * counts as written (the channel already shows what should be published), or the failure to
   * report when the channel kept changing underneath.
   */
  const recordStale = (connection: string, p: Planned, actual: number, now: number) =>
    Effect.gen(function* () {
      const row = yield* outbox.get(connection, p.claim.listing)
      const published = Option.match(row, { onNone: () => p.claim.quantity, onSome: (r) => r.desiredQuantity })
      const decision = StockDecision.afterStale({
        published,
        expected: p.expected,
        actual,
        balance: p.state.balance,
        now,
        windowMs: options.holdWindowMs
      })
      const round = decision.write ? p.round + 1 : 0
      yield* StockChannelState.save(connection, {
        ...p.state,
        known: actual,
        balance: decision.balance,
        casVersion: p.claim.version,
        round
      })
      const detail = { actual, unseen: decision.unseen, next: decision.quantity }
      if (!decision.write) {
        yield* outbox.markPushed({ ...p.claim, quantity: decision.quantity })
        yield* auditWrite(connection, p, "stale:settled", detail)
        return "written" as const
      }
      yield* auditWrite(connection, p, "stale", detail)
      const message =
        `the channel held ${actual}, not ${p.expected ?? "the expected quantity"}` +
        (decision.unseen > 0 ? `; ${decision.unseen} unit(s) sold there held back until their orders arrive` : "") +
        `; writing ${decision.quantity} against ${actual}`
      if (round > options.maxStaleRounds) {
        return new ConnectorError.Transient({ connection, message: `${message} (the channel keeps changing)` })
      }
      yield* outbox.fail(p.claim, { message: `Stale: ${message}`, retryAt: new Date(now) })
      return "again" as const
    })

  type Written = Array<Planned>
  const write = (lane: Lane, entry: ConnectionEntry, push: Connector.StockPush) =>
    Effect.gen(function* () {
      const connection = entry.id
      const cas = comparesAndSets(entry)
      lane.dirty = false
      const claimed = yield* claimBatch(entry, cas).pipe(
        Effect.catchTag("SpendDenied", (denied) => Effect.succeed(denied))
      )
      if (claimed === undefined) return "idle" as const
      if (claimed instanceof SpendDenied) {
        lane.blockedUntil = Math.max(lane.blockedUntil, claimed.retryAt)
        lane.dirty = true
        return "blocked" as const
      }
      const startedAt = yield* EngineClock.now
      lane.lastWriteAt = startedAt
      lane.stats.writes++
      lane.stats.updates += claimed.claims.length
      // A full batch may have left more due listings behind.
      const batch = Math.max(1, entry.manifest.limits.stockPushBatch ?? options.defaultBatch)
      if (claimed.claims.length >= batch) lane.dirty = true
      const plans = claimed.claims.map((c) => plan(c, claimed.states.get(c.listing), startedAt, cas))
      const byListing = new Map(plans.map((p) => [p.claim.listing, p]))
      const ids = yield* listingIds.lookup(connection, [...byListing.keys()])
      const updates = plans.map(
        (p): Connector.StockUpdate => ({
          externalSku: p.claim.listing,
          externalIds: ids.get(p.claim.listing) ?? {},
          quantity: p.quantity,
          expected: p.expected,
          idempotencyKey: p.key
        })
      )
      // The grant this write goes out with: a refusal pauses that grant, not one stored meanwhile.
      const grant = yield* tokens.get(connection).pipe(
        Effect.map(Option.map((g) => g.version)),
        Effect.orElseSucceed(() => Option.none<number>())
      )
      const sent = yield* EngineClock.real(push.push(updates)).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.fail(
            new ConnectorError.Transient({ connection, message: `connector failed unexpectedly: ${String(defect)}` })
          )
        ),
        Effect.either
      )
      const applied: Written = []
      const stale: Array<readonly [Planned, number]> = []
      const failed: Array<readonly [Planned, ConnectorError.ConnectorError]> = []
      if (sent._tag === "Left") {
        for (const p of plans) failed.push([p, sent.left])
      } else {
        if (sent.right.some((r) => r._tag !== "Failed")) lane.refreshedAtWrite = undefined
        for (const result of sent.right) {
          const p = byListing.get(result.externalSku)
          if (!p) continue
          byListing.delete(result.externalSku)
          if (result._tag === "Applied") applied.push(p)
          else if (result._tag === "Stale" && cas) stale.push([p, result.actual])
          else if (result._tag === "Stale") {
            failed.push([
              p,
              new ConnectorError.Transient({ connection, message: `the channel holds ${result.actual}; writing again` })
            ])
          } else failed.push([p, result.error])
        }
        // An update the connector did not answer for is treated as not written.
        for (const p of byListing.values()) {
          failed.push([
            p,
            new ConnectorError.Transient({ connection, message: "the channel did not report on this update" })
          ])
        }
      }
      const at = yield* EngineClock.now
      // Every outcome of the batch in one commit.
      const settled = yield* sql.withTransaction(
        Effect.gen(function* () {
          const written: Written = []
          const again: Written = []
          // The balances as they are now, not as claimed: an order the pool applied while the write
          // was out added credit (or released held units) that must not be written over. Locked in
          // listing order before any outbox row, as the inbox's transactions take them.
          const fresh = new Map<string, StockChannelState.State>()
          if (cas) {
            const settling = Arr.sort(
              [...applied, ...stale.map(([p]) => p)],
              Order.mapInput(Order.string, (p: Planned) => p.claim.listing)
            )
            for (const p of settling) {
              fresh.set(
                p.claim.listing,
                yield* StockChannelState.readForUpdate(connection, p.claim.listing, p.state.location)
              )
            }
          }
          const current = (p: Planned) => fresh.get(p.claim.listing) ?? p.state
          for (const p of applied) {
            yield* outbox.markPushed({ ...p.claim, quantity: p.quantity })
            if (cas) {
              yield* StockChannelState.save(connection, {
                ...current(p),
                known: p.quantity,
                casVersion: p.claim.version,
                round: 0
              })
            }
            yield* auditWrite(connection, p, "applied")
            written.push(p)
          }
          for (const [p, actual] of stale) {
            const outcome = yield* recordStale(connection, { ...p, state: current(p) }, actual, at)
            if (outcome === "written") written.push(p)
            else if (outcome === "again") again.push(p)
            else failed.push([p, outcome])
          }
          return { written, again }
        })
      )
      for (const p of settled.written) yield* resolve(lane, p.claim.listing, "pushed", p.claim.version)
      lane.stats.stale += stale.length
      // A stale listing is written again at once with what the channel holds as `expected`.
      if (settled.again.length > 0) {
        lane.lastWriteAt = Number.NEGATIVE_INFINITY
        lane.dirty = true
      }
      for (const [p, error] of failed) yield* onFailure(lane, entry, p.claim, error, Option.getOrUndefined(grant))
      return "wrote" as const
    })

  const onFailure = (
    lane: Lane,
    entry: ConnectionEntry,
    claim: Outbox.StockPushClaim,
    error: ConnectorError.ConnectorError,
    grantVersion?: number | undefined
  ) =>
    Effect.gen(function* () {
      const connection = entry.id
      const scopeKey = Quota.scopeOf(connection, policyOf(entry))
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
      const pause = (markVersion: number | undefined) =>
        Effect.gen(function* () {
          lane.refreshedAtWrite = undefined
          // Only a refusal from the platform marks the grant; the engine's own "still waiting"
          // answer must not (the seller may have authorized again since it was given).
          // A refusal met with a grant replaced meanwhile pauses nothing: the write goes again at once
          // with the new grant. Without a stored grant (an API key) there is nothing to mark, and the
          // write waits like any paused one rather than going again at once.
          const replaced =
            error.code !== awaitingReauthorization &&
            !(yield* tokens
              .markNeedsReauth(connection, error.message, markVersion)
              .pipe(Effect.orElseSucceed(() => true))) &&
            markVersion !== undefined
          if (replaced) return yield* outbox.fail(claim, failure(now))
          yield* alerts.raise({
            code: "needs_reauth",
            connection,
            message: `${connection} needs re-authorization (${error.message}); its stock pushes wait`
          })
          yield* resolve(lane, claim.listing, "paused")
          return yield* outbox.fail(claim, failure(new Date(now.getTime() + options.retry.maxDelayMs)))
        })
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
          // Without a stored grant (an API key) there is nothing to refresh: it waits like a refusal.
          if (grantVersion === undefined) return yield* pause(grantVersion)
          const write = lane.stats.writes
          // Another listing of the write that was already answered with a refresh.
          if (lane.refreshedAtWrite === write) return yield* outbox.fail(claim, failure(now))
          if (lane.refreshedAtWrite !== undefined) {
            // Expired again after a forced refresh: the grant itself is broken. Mark the one stored
            // now (the connector may have rotated it during the call).
            const current = yield* tokens.get(connection).pipe(
              Effect.map(Option.map((g) => g.version)),
              Effect.orElseSucceed(() => Option.none<number>())
            )
            return yield* pause(Option.getOrElse(current, () => grantVersion))
          }
          // The connector already refreshed once through the provider; force one more through the entity.
          const current = yield* tokens.get(connection).pipe(Effect.option, Effect.map(Option.flatten))
          if (Option.isSome(current)) {
            yield* providers.forConnection(connection).refresh(current.value.tokens).pipe(Effect.ignore)
          }
          lane.refreshedAtWrite = write
          return yield* outbox.fail(claim, failure(now))
        }
        case "Pause":
          return yield* pause(grantVersion)
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

  /**
   * Lets go of held units whose window passed: the listing is written again with the pool's number
   * (a new version, so the write goes out even though the last one was recorded).
   */
  const releaseExpiredHolds = (connection: string, now: number) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const expired = yield* StockChannelState.expiredHolds(connection, now)
        for (const { listing, location } of expired) {
          const state = yield* StockChannelState.readForUpdate(connection, listing, location)
          yield* StockChannelState.save(connection, { ...state, balance: StockDecision.current(state.balance, now) })
          const row = yield* outbox.get(connection, listing)
          if (Option.isSome(row) && row.value.status === "pending") {
            yield* outbox.setDesired({ connection, listing, quantity: row.value.desiredQuantity, force: true })
          }
        }
        return expired.length
      })
    )

  /** Writes everything due; answers how long until something is due next (none: nothing pending). */
  const flush = (lane: Lane, entry: ConnectionEntry) =>
    Effect.gen(function* () {
      const connection = entry.id
      const push = entry.services["stock.push"]
      const cas = comparesAndSets(entry)
      while (true) {
        let now = yield* EngineClock.now
        if (lane.blockedUntil > now) {
          yield* settleWaiters(lane, connection, now)
          return Option.some(lane.blockedUntil - now)
        }
        if (cas && lane.holdsAt <= now) {
          lane.holdsAt = Number.POSITIVE_INFINITY
          if ((yield* releaseExpiredHolds(connection, now)) > 0) lane.dirty = true
        }
        // Nothing was committed since the last claim: only retries can come due (see nextDue below).
        let outcome: "idle" | "blocked" | "wrote" = "idle"
        if (lane.dirty) {
          // Coalescing: a write shortly after the previous one waits out the interval, gathering more.
          const spacing = lane.lastWriteAt + options.intervalMs - now
          if (spacing > 0) {
            yield* Effect.sleep(Duration.millis(spacing))
            now = yield* EngineClock.now
          }
          // A graceful stop waits for the write on the wire and its settlement, and lets no new one start.
          const written = Option.isSome(lifecycle)
            ? yield* lifecycle.value.track(write(lane, entry, push))
            : Option.some(yield* write(lane, entry, push))
          if (Option.isNone(written)) return Option.some(stoppedRecheckMs)
          outcome = written.value
        }
        if (outcome !== "idle") continue
        yield* settleWaiters(lane, connection, now)
        if (cas) {
          const holds = yield* StockChannelState.nextHoldExpiry(connection)
          lane.holdsAt = holds ?? Number.POSITIVE_INFINITY
        }
        const next = yield* outbox.nextDue(connection)
        const dueAt = Math.min(Option.match(next, { onNone: () => Infinity, onSome: (d) => d.getTime() }), lane.holdsAt)
        if (dueAt === Number.POSITIVE_INFINITY) {
          yield* resolveAll(lane, "current")
          return Option.none<number>()
        }
        // Something comes due later (a retry, held units let go), or is due but was not claimed: a
        // change this lane was not told about (another process), or rows under another worker's lease.
        lane.dirty = true
        return Option.some(dueAt > now ? dueAt - now : options.intervalMs)
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
        dirty: true,
        holdsAt: 0,
        refreshedAtWrite: undefined,
        stats: { writes: 0, updates: 0, stale: 0, failures: 0, deadLettered: 0 }
      }
      lanes.set(connection, lane)
      yield* Effect.forkIn(
        runLane(lane, connection).pipe(
          Effect.provideService(SqlClient.SqlClient, sql),
          Effect.withClock(clock.clock),
          Effect.provideService(EngineClock.EngineClock, clock)
        ),
        scope
      )
      return lane
    })

  const kick = (connection: string) =>
    Effect.flatMap(laneFor(connection), (lane) => {
      lane.dirty = true
      return Queue.offer(lane.wake, undefined)
    })
  const kickAll = Effect.forEach(
    registry.all.filter((e) => e.services["stock.push"] !== undefined),
    (e) => kick(e.id),
    { discard: true }
  )

  // A restart picks up what the previous process left pending: every lane looks once.
  yield* kickAll

  return {
    request: (connection, listing, version) =>
      Effect.gen(function* () {
        const lane = yield* laneFor(connection)
        const done = yield* Deferred.make<PushResult>()
        const list = lane.waiters.get(listing) ?? []
        list.push({ version, done })
        lane.waiters.set(listing, list)
        lane.dirty = true
        yield* Queue.offer(lane.wake, undefined)
        return yield* Deferred.await(done)
      }),
    kick,
    kickAll,
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
 * Tells the pushers a listing has a new version to write, after the transaction that stored it
 * committed: wakes this process's lane for the connection, which writes it at once or folds it into
 * the next write. The committed outbox row is what makes it durable; nothing else is stored.
 */
export const notify = (
  connection: string,
  _listing?: string,
  _version?: number
): Effect.Effect<void, never, StockLanes> => Effect.flatMap(StockLanes, (lanes) => lanes.kick(connection))

/**
 * Sends the durable, deduplicated `Push` message for a listing's version (primary key
 * `connection:listing:version`): the entity hands it to the lane of whichever runner owns the
 * listing and answers `current` when a lane already wrote it.
 */
export const notifyDurable = (connection: string, listing: string, version: number) =>
  Effect.gen(function* () {
    const makeClient = yield* StockPusherEntity.client
    yield* makeClient(entityId(connection, listing)).Push({ connection, listing, version }, { discard: true })
  })

/**
 * The pool applied `units` of an order from `connection` for `listing`: units held back for the
 * channel's unseen sales are released (the listing is written again with the pool's number), and the
 * rest is credit for the drop the next compare-and-set write will find. Runs inside the caller's
 * transaction; call {@link notify} after the commit, as for any pool change. A no-op for connectors
 * without compare-and-set. Answers the units released.
 */
export const orderSeen = (input: {
  readonly connection: string
  readonly listing: string
  readonly units: number
  readonly location?: string | undefined
}): Effect.Effect<
  number,
  StoreError.StoreError | SqlError,
  ConnectionRegistry | Outbox.StockOutbox | SqlClient.SqlClient | EngineClock.EngineClock
> =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const entry = yield* registry.get(input.connection).pipe(Effect.option)
    if (Option.isNone(entry) || !comparesAndSets(entry.value) || input.units <= 0) return 0
    const options = yield* StockPushOptions
    const outbox = yield* Outbox.StockOutbox
    const sql = yield* SqlClient.SqlClient
    return yield* EngineClock.business(
      sql.withTransaction(
        Effect.gen(function* () {
          const now = yield* EngineClock.now
          const state = yield* StockChannelState.readForUpdate(input.connection, input.listing, input.location)
          const before = StockDecision.current(state.balance, now)
          const balance = StockDecision.orderSeen(state.balance, {
            units: input.units,
            now,
            windowMs: options.holdWindowMs
          })
          yield* StockChannelState.save(input.connection, { ...state, balance })
          const released = before.held - balance.held
          if (released > 0) {
            const row = yield* outbox.get(input.connection, input.listing)
            if (Option.isSome(row) && row.value.status === "pending") {
              yield* outbox.setDesired({
                connection: input.connection,
                listing: input.listing,
                quantity: row.value.desiredQuantity,
                force: true
              })
            }
          }
          return released
        })
      )
    )
  })

/**
 * {@link orderSeen} for every line of an order the pool has just reserved (not for a redelivered
 * one: the ledger answers `duplicate` then). Runs inside the caller's transaction. Answers the units
 * released in all.
 */
export const ordersSeen = (input: {
  readonly connection: string
  readonly lines: ReadonlyArray<{ readonly externalSku: string; readonly qty: number }>
}): Effect.Effect<
  number,
  StoreError.StoreError | SqlError,
  ConnectionRegistry | Outbox.StockOutbox | SqlClient.SqlClient | EngineClock.EngineClock
> =>
  Effect.gen(function* () {
    const units = new Map<string, number>()
    for (const l of input.lines) units.set(l.externalSku, (units.get(l.externalSku) ?? 0) + l.qty)
    let released = 0
    // In listing order, as the pushers lock the same rows.
    for (const [listing, n] of Arr.sort(
      units,
      Order.mapInput(Order.string, ([l]: readonly [string, number]) => l)
    )) {
      released += yield* orderSeen({ connection: input.connection, listing, units: n })
    }
    return released
  })
