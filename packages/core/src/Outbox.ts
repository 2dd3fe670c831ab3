/**
 * Outbox: writes tkbridge owes its partners, stored in the same transaction as the change that caused
 * them and sent afterwards, at least once, without ever applying twice.
 *
 * **Stock pushes** ({@link StockOutbox}) are keyed by (connection, listing): one row per listing, so
 * the latest value wins (coalescing by primary key). Each new value bumps `desiredVersion`; a push
 * claims the current version, sends it with the idempotency key `connection:listing:version`, and
 * marks it pushed only if no later push already did (`pushedVersion` only grows). The first change
 * after a quiet period is due at once; changes within the coalescing window after a push fold into
 * one trailing push. A stock push that fails for good goes to the dead-letter queue, keeps
 * coalescing, and a replay sends the latest value.
 *
 * **Outbound jobs** ({@link OutboundJobs}) — order acknowledgements, fulfilment and tracking
 * write-back, after-sales decisions — are never coalesced: each is its own row with its own
 * idempotency key (unique per connection), a lane (priority), attempts and a next-attempt time.
 *
 * Claims are leases: a worker that dies holding one loses it when the lease runs out, and the work is
 * claimed again (at-least-once; the idempotency key keeps the partner from applying it twice).
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context, Schema } from "effect"
import type { AttemptFailure, Failure } from "./DeadLetter.ts"
import type { Lane } from "./Quota.ts"
import type { StoreError } from "./StoreError.ts"

/**
 * The idempotency key of a stock push: `connection:listing:version`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const stockPushKey = (connection: string, listing: string, version: number): string =>
  `${connection}:${listing}:${version}`

/**
 * `pending` has work or nothing to do (see the versions); `dead` waits in the dead-letter queue.
 *
 * @category models
 * @since 0.1.0
 */
export const StockPushStatus = Schema.Literal("pending", "dead")
/**
 * @category models
 * @since 0.1.0
 */
export type StockPushStatus = typeof StockPushStatus.Type

/**
 * A listing's row: the quantity the channel should show and what was last written.
 *
 * @category models
 * @since 0.1.0
 */
export interface StockPushRow {
  readonly connection: string
  readonly listing: string
  readonly desiredQuantity: number
  readonly desiredVersion: number
  readonly pushedVersion: number
  readonly pushedQuantity?: number | undefined
  readonly pushedAt?: Date | undefined
  readonly status: StockPushStatus
  readonly dueAt: Date
  readonly attempts: number
  readonly nextAttemptAt?: Date | undefined
  readonly claimedUntil?: Date | undefined
  readonly lastError?: string | undefined
  readonly updatedAt: Date
}

/**
 * A claimed push: send `quantity` with `idempotencyKey`, then report with `markPushed` or `fail`.
 *
 * @category models
 * @since 0.1.0
 */
export interface StockPushClaim {
  readonly connection: string
  readonly listing: string
  readonly quantity: number
  readonly version: number
  readonly idempotencyKey: string
  /** The quantity last written to the channel, for compare-and-set. */
  readonly pushedQuantity?: number | undefined
  readonly attempts: number
}

/**
 * The stock-push outbox.
 *
 * @category services
 * @since 0.1.0
 */
export interface StockOutboxShape {
  /**
   * Sets the quantity a listing should show. A different value than the desired one bumps the
   * version (`changed`); the same value changes nothing. The row is due at once after a quiet
   * period, or `coalesceMs` after the last push (default 0) so a burst of changes folds into one
   * trailing push. Runs inside the caller's transaction when there is one.
   */
  readonly setDesired: (input: {
    readonly connection: string
    readonly listing: string
    readonly quantity: number
    readonly coalesceMs?: number | undefined
    /** Bump the version even if the value is unchanged (reconciliation found the channel drifted). */
    readonly force?: boolean | undefined
  }) => Effect.Effect<{ readonly version: number; readonly changed: boolean }, StoreError>
  /** Claims up to `limit` due pushes of a connection (oldest due first) for `leaseMs`. */
  readonly claimDue: (input: {
    readonly connection: string
    readonly limit: number
    readonly leaseMs: number
  }) => Effect.Effect<ReadonlyArray<StockPushClaim>, StoreError>
  /** Records that a claimed version reached the channel. False when a later version was already marked. */
  readonly markPushed: (claim: StockPushClaim) => Effect.Effect<boolean, StoreError>
  /** Records a failed attempt; the push is not due again before `retryAt`. */
  readonly fail: (claim: StockPushClaim, failure: AttemptFailure) => Effect.Effect<void, StoreError>
  /** Moves a listing's pushes to the dead-letter queue; returns the letter's id. */
  readonly deadLetter: (claim: StockPushClaim, failure: Failure) => Effect.Effect<number, StoreError>
  /** One listing's row. */
  readonly get: (connection: string, listing: string) => Effect.Effect<Option.Option<StockPushRow>, StoreError>
  /** How many listings of a connection (or all) have an unpushed version. */
  readonly backlog: (connection?: string) => Effect.Effect<number, StoreError>
  /** The earliest instant a connection has a push due (for the pusher's timer). */
  readonly nextDue: (connection: string) => Effect.Effect<Option.Option<Date>, StoreError>
  /**
   * Ends the back-off of a connection's unpushed listings, so they are due now (the seller authorized
   * again: what waited for it need not wait out its back-off). Answers how many.
   */
  readonly expedite: (connection: string) => Effect.Effect<number, StoreError>
}

/**
 * The stock-push outbox service.
 *
 * @category services
 * @since 0.1.0
 */
export class StockOutbox extends Context.Tag("@tkbridge/core/StockOutbox")<StockOutbox, StockOutboxShape>() {}

/**
 * `pending` waits (or is claimed, see `claimedUntil`); `done` succeeded; `dead` waits in the
 * dead-letter queue.
 *
 * @category models
 * @since 0.1.0
 */
export const JobStatus = Schema.Literal("pending", "done", "dead")
/**
 * @category models
 * @since 0.1.0
 */
export type JobStatus = typeof JobStatus.Type

/**
 * An outbound write.
 *
 * @category models
 * @since 0.1.0
 */
export interface Job {
  readonly id: number
  readonly connection: string
  /** What to do, e.g. `fulfillment.ship`, `aftersales.approve`. */
  readonly kind: string
  readonly lane: Lane
  readonly idempotencyKey: string
  /** The job's input, as JSON. */
  readonly payload: unknown
  readonly status: JobStatus
  readonly attempts: number
  readonly nextAttemptAt: Date
  readonly claimedUntil?: Date | undefined
  /** Identifies the current claim; `complete`/`fail` with a stale token do nothing. */
  readonly claimToken?: string | undefined
  readonly createdAt: Date
  readonly doneAt?: Date | undefined
  /** What the partner answered, as JSON (e.g. the created shipment's id). */
  readonly result?: unknown
  readonly lastError?: string | undefined
}

/**
 * The outbound-job queue.
 *
 * @category services
 * @since 0.1.0
 */
export interface OutboundJobsShape {
  /**
   * Queues a job unless one with the same (connection, idempotency key) exists — then returns that one
   * (`duplicate`). Runs inside the caller's transaction when there is one.
   */
  readonly enqueue: (input: {
    readonly connection: string
    readonly kind: string
    readonly lane: Lane
    readonly idempotencyKey: string
    readonly payload: unknown
    readonly notBefore?: Date | undefined
  }) => Effect.Effect<{ readonly id: number; readonly duplicate: boolean }, StoreError>
  /** Claims the next due job of a connection, highest lane first, for `leaseMs`. */
  readonly claimNext: (input: {
    readonly connection: string
    readonly leaseMs: number
    /** Only these lanes (default all). */
    readonly lanes?: ReadonlyArray<Lane> | undefined
  }) => Effect.Effect<Option.Option<Job>, StoreError>
  /** Marks a claimed job done. False when the claim was lost (the lease ran out and another worker took it). */
  readonly complete: (job: Job, result?: unknown) => Effect.Effect<boolean, StoreError>
  /** Records a failed attempt and releases the claim; not due before `retryAt`. */
  readonly fail: (job: Job, failure: AttemptFailure) => Effect.Effect<boolean, StoreError>
  /** Moves a job to the dead-letter queue; returns the letter's id. */
  readonly deadLetter: (job: Job, failure: Failure) => Effect.Effect<number, StoreError>
  /** One job. */
  readonly get: (id: number) => Effect.Effect<Option.Option<Job>, StoreError>
  /** Pending jobs per lane for a connection (or all). */
  readonly backlog: (
    connection?: string
  ) => Effect.Effect<ReadonlyArray<{ readonly lane: Lane; readonly pending: number }>, StoreError>
}

/**
 * The outbound-job queue service.
 *
 * @category services
 * @since 0.1.0
 */
export class OutboundJobs extends Context.Tag("@tkbridge/core/OutboundJobs")<OutboundJobs, OutboundJobsShape>() {}
