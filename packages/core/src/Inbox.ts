/**
 * Inbox: every webhook delivery tkbridge accepted, stored raw (byte-exact body and headers) before it
 * is acknowledged, and applied exactly once afterwards.
 *
 * - **Dedupe.** Entries are unique by (connection, dedupe key) — the platform's event id, or a
 *   composite the connector builds — so a redelivery is a no-op.
 * - **Exactly-once effect.** {@link InboxShape.process} marks a pending entry done and runs the
 *   caller's `apply` in the same database transaction: the order upsert, the pool mutation and the
 *   outbox rows commit together with `done`, or nothing does. `apply` must only touch the database
 *   (no partner calls inside a transaction).
 * - **Ordering.** Platforms deliver out of order. {@link InboxShape.advance} keeps the newest
 *   `update_time` applied per (connection, entity) — an order id, a return id — and says whether a
 *   state is older than one already applied, so an old state never overwrites a newer one.
 * - **Nothing is lost.** A body that cannot be decoded is stored too, as a dead entry with a dead
 *   letter (`malformed_payload`); work that cannot be applied (unknown SKU, unmappable payload) is
 *   dead-lettered with a reason and can be replayed after the operator fixes the cause.
 * - **Backstop.** Entries left pending (a crash between the commit and the processor's wake-up) are
 *   listed by {@link InboxShape.pending} for the re-notify sweep.
 *
 * The inbox keeps the raw delivery and decodes it again when applying it ({@link decode}), which is
 * why connectors' `decode` must be deterministic.
 *
 * @since 0.1.0
 */
import type { Option } from "effect"
import { Context, Effect, Schema } from "effect"
import type { WebhookReceiver } from "./Connector.ts"
import type { AttemptFailure, Failure } from "./DeadLetter.ts"
import type { StoreError } from "./StoreError.ts"
import type { WebhookDelivery, WebhookMalformed, WebhookRequest } from "./Webhook.ts"

/**
 * `pending` waits to be applied; `done` was applied; `dead` sits in the dead-letter queue.
 *
 * @category models
 * @since 0.1.0
 */
export const Status = Schema.Literal("pending", "done", "dead")
/**
 * @category models
 * @since 0.1.0
 */
export type Status = typeof Status.Type

/**
 * A stored delivery.
 *
 * @category models
 * @since 0.1.0
 */
export interface InboxEntry {
  readonly id: number
  readonly connection: string
  readonly dedupeKey: string
  readonly topic: string
  readonly status: Status
  readonly receivedAt: Date
  /** When the platform says the event happened. */
  readonly occurredAt?: Date | undefined
  /** Failed attempts so far. */
  readonly attempts: number
  /** Not retried before this instant (after a failed attempt). */
  readonly nextAttemptAt?: Date | undefined
  readonly processedAt?: Date | undefined
  readonly lastError?: string | undefined
  /** The delivery exactly as received (body byte-exact). */
  readonly request: WebhookRequest
}

/**
 * A verified, decoded delivery to store.
 *
 * @category models
 * @since 0.1.0
 */
export interface RecordInput {
  readonly connection: string
  readonly delivery: Pick<WebhookDelivery, "dedupeKey" | "topic" | "occurredAt">
  readonly request: WebhookRequest
}

/**
 * Where a delivery was stored; `duplicate` when an entry with the same key already existed.
 *
 * @category models
 * @since 0.1.0
 */
export interface Recorded {
  readonly id: number
  readonly duplicate: boolean
}

/**
 * What `process` did: `Applied` with `apply`'s result, or `Skipped` because the entry is already
 * done, dead, or does not exist.
 *
 * @category models
 * @since 0.1.0
 */
export type ProcessOutcome<A> =
  | { readonly _tag: "Applied"; readonly value: A; readonly entry: InboxEntry }
  | { readonly _tag: "Skipped"; readonly status: "done" | "dead" | "missing" }

/**
 * A pending entry, as the re-notify sweep sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface PendingRef {
  readonly id: number
  readonly connection: string
  readonly attempts: number
  readonly receivedAt: Date
}

/**
 * Entries per connection and status (for metrics and the console).
 *
 * @category models
 * @since 0.1.0
 */
export interface Depth {
  readonly connection: string
  readonly pending: number
  readonly dead: number
}

/**
 * The newest state of an entity the ordering guard let through: its update time and, when the
 * applier had the whole state, a digest of it.
 *
 * @category models
 * @since 0.1.0
 */
export interface AppliedState {
  readonly updatedAt: Date
  readonly state?: string | undefined
}

/**
 * The inbox.
 *
 * @category services
 * @since 0.1.0
 */
export interface InboxShape {
  /** Stores a verified, decoded delivery (`INSERT … ON CONFLICT DO NOTHING`); a redelivery is a no-op. */
  readonly record: (input: RecordInput) => Effect.Effect<Recorded, StoreError>
  /**
   * Stores a signed delivery whose body could not be decoded: a dead entry (deduped by a hash of the
   * body) and an open dead letter `malformed_payload`, in one transaction. Replaying the letter
   * decodes it again.
   */
  readonly recordMalformed: (input: {
    readonly connection: string
    readonly request: WebhookRequest
    readonly message: string
  }) => Effect.Effect<Recorded & { readonly deadLetter: number }, StoreError>
  /** One entry. */
  readonly get: (id: number) => Effect.Effect<Option.Option<InboxEntry>, StoreError>
  /**
   * Applies a pending entry exactly once: marks it done and runs `apply` in one transaction. If
   * `apply` fails, nothing it wrote is kept and the entry stays pending (report the failure with
   * `fail` or `deadLetter`). Entries already done or dead are skipped.
   */
  readonly process: <A, E, R>(
    id: number,
    apply: (entry: InboxEntry) => Effect.Effect<A, E, R>
  ) => Effect.Effect<ProcessOutcome<A>, E | StoreError, R>
  /** Records a failed attempt; the entry stays pending and is not due before `retryAt`. */
  readonly fail: (id: number, failure: AttemptFailure) => Effect.Effect<void, StoreError>
  /** Moves a pending entry to the dead-letter queue with a reason; returns the letter's id. */
  readonly deadLetter: (id: number, failure: Failure) => Effect.Effect<number, StoreError>
  /** Pending entries due at `dueAt` (oldest first), for the re-notify sweep. */
  readonly pending: (query: {
    readonly dueAt: Date
    readonly connection?: string | undefined
    /** Only entries received at or before this instant (skip ones a live wake-up is handling). */
    readonly receivedBefore?: Date | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<ReadonlyArray<PendingRef>, StoreError>
  /**
   * The ordering guard, for use inside `apply`: records `updatedAt` as the newest state applied for
   * (connection, entity) and answers true — or answers false, recording nothing, when a newer state
   * was already applied. An equal time answers true (applying the same state again is harmless).
   * `state` is a digest of the state applied, when the caller has the whole state; see `applied`.
   */
  readonly advance: (
    connection: string,
    entity: string,
    updatedAt: Date,
    state?: string | undefined
  ) => Effect.Effect<boolean, StoreError>
  /**
   * The newest state applied per entity, as the ordering guard recorded it (entities never applied
   * are absent): lets a poll skip what a webhook already brought instead of queueing it again.
   */
  readonly applied: (
    connection: string,
    entities: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyMap<string, AppliedState>, StoreError>
  /** Pending and dead entries per connection. */
  readonly depth: Effect.Effect<ReadonlyArray<Depth>, StoreError>
  /**
   * Deletes entries applied before `doneBefore` (retention); returns how many. Dedupe only remembers
   * what is kept, so keep entries longer than the platforms retry (Shoplazza: up to 2 days).
   */
  readonly prune: (doneBefore: Date) => Effect.Effect<number, StoreError>
}

/**
 * The inbox service.
 *
 * @category services
 * @since 0.1.0
 */
export class Inbox extends Context.Tag("@tkbridge/core/Inbox")<Inbox, InboxShape>() {}

/**
 * Decodes a stored entry again with its connection's receiver (the same `decode` the edge ran).
 *
 * @category constructors
 * @since 0.1.0
 */
export const decode = (
  receiver: WebhookReceiver,
  entry: InboxEntry
): Effect.Effect<WebhookDelivery, WebhookMalformed> => Effect.suspend(() => receiver.decode(entry.request))
