/**
 * DeadLetter: work that could not be done and waits for an operator — nothing leaves tkbridge
 * silently. A dead letter keeps the whole context: what failed (an inbox delivery, a stock push or an
 * outbound job), the reason code, the last request as a redacted cURL line with the response
 * (status, headers, body), the error of the taxonomy, and every attempt before it.
 *
 * Operators list letters (by connection, reason, age), show one, replay one or all matching a filter
 * — replay resets the source row so it re-enters the normal path, and replaying twice is a no-op —
 * or discard one with a reason, which is kept: a discarded letter stays visible.
 *
 * One letter per source row: when replayed work fails again, the same letter re-opens and gains the
 * new attempts.
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context, Schema } from "effect"
import { ConnectorError } from "./ConnectorError.ts"
import { HttpExchange } from "./HttpExchange.ts"
import type { StoreError } from "./StoreError.ts"

/**
 * What failed: `inbox` (a webhook delivery or polled event that could not be applied), `stock_push`
 * (a listing's published quantity that could not be written) or `job` (an order, fulfilment,
 * tracking or after-sales write).
 *
 * @category models
 * @since 0.1.0
 */
export const Kind = Schema.Literal("inbox", "stock_push", "job")
/**
 * @category models
 * @since 0.1.0
 */
export type Kind = typeof Kind.Type

/**
 * Why it failed, as a code operators filter by.
 *
 * - `malformed_payload`: a signed webhook whose body could not be decoded;
 * - `unmappable_payload`: decoded, but it cannot be turned into changes (missing fields, a state we do not know);
 * - `unknown_sku`: it names a SKU or listing the pool does not know (pair it, then replay);
 * - `rejected`, `not_found`, `scope_missing`, `auth_revoked`: the platform's answer (taxonomy);
 * - `retry_exhausted`: transient failures outlasted the retry budget;
 * - `apply_failed`: applying it failed on our side (a defect), recorded so it can be replayed after a fix.
 *
 * @category models
 * @since 0.1.0
 */
export const Reason = Schema.Literal(
  "malformed_payload",
  "unmappable_payload",
  "unknown_sku",
  "rejected",
  "not_found",
  "scope_missing",
  "auth_revoked",
  "retry_exhausted",
  "apply_failed"
)
/**
 * @category models
 * @since 0.1.0
 */
export type Reason = typeof Reason.Type

/**
 * `open` waits for an operator; `replayed` was sent back through the normal path; `discarded` was
 * dropped by an operator (with a reason).
 *
 * @category models
 * @since 0.1.0
 */
export const Status = Schema.Literal("open", "replayed", "discarded")
/**
 * @category models
 * @since 0.1.0
 */
export type Status = typeof Status.Type

/**
 * The reason code for a platform error that ends the work.
 *
 * @category constructors
 * @since 0.1.0
 */
export const reasonFor = (error: ConnectorError): Reason => {
  switch (error._tag) {
    case "Rejected":
      return "rejected"
    case "NotFound":
      return "not_found"
    case "ScopeMissing":
      return "scope_missing"
    case "AuthRevoked":
      return "auth_revoked"
    default:
      return "retry_exhausted"
  }
}

/**
 * One failed attempt at the work.
 *
 * @category models
 * @since 0.1.0
 */
export class Attempt extends Schema.Class<Attempt>("@tkbridge/core/DeadLetterAttempt")({
  at: Schema.DateFromSelf,
  message: Schema.String,
  error: Schema.optional(ConnectorError),
  /** The redacted request (cURL) and response of the attempt. */
  exchange: Schema.optional(HttpExchange)
}) {}

/**
 * A failed attempt to report to a repository (the work stays queued until `retryAt`).
 *
 * @category models
 * @since 0.1.0
 */
export interface AttemptFailure {
  readonly message: string
  readonly error?: ConnectorError | undefined
  /** Defaults to the error's exchange. */
  readonly exchange?: HttpExchange | undefined
  /** Not tried again before this instant. */
  readonly retryAt: Date
}

/**
 * Why work ends in the dead-letter queue.
 *
 * @category models
 * @since 0.1.0
 */
export interface Failure {
  readonly reason: Reason
  readonly message: string
  readonly error?: ConnectorError | undefined
  /** Defaults to the error's exchange. */
  readonly exchange?: HttpExchange | undefined
}

/**
 * A dead letter as listed: everything but the attempt history.
 *
 * @category models
 * @since 0.1.0
 */
export class Summary extends Schema.Class<Summary>("@tkbridge/core/DeadLetterSummary")({
  id: Schema.Int,
  kind: Kind,
  connection: Schema.String,
  /** The source row: the inbox id, the listing of a stock push, or the job id. */
  key: Schema.String,
  reason: Reason,
  message: Schema.String,
  status: Status,
  /** The HTTP status of the last response, when there was one. */
  httpStatus: Schema.optional(Schema.Int),
  attempts: Schema.Int,
  firstFailedAt: Schema.DateFromSelf,
  lastFailedAt: Schema.DateFromSelf,
  replayCount: Schema.Int,
  replayedAt: Schema.optional(Schema.DateFromSelf),
  discardedAt: Schema.optional(Schema.DateFromSelf),
  discardReason: Schema.optional(Schema.String)
}) {}

/**
 * A dead letter with its whole context.
 *
 * @category models
 * @since 0.1.0
 */
export class DeadLetter extends Schema.Class<DeadLetter>("@tkbridge/core/DeadLetter")({
  ...Summary.fields,
  /** The error that ended the work, as the taxonomy recorded it. */
  error: Schema.optional(ConnectorError),
  /** The last request (redacted cURL line) and the response it got. */
  exchange: Schema.optional(HttpExchange),
  /** Every attempt, oldest first (the final one included). */
  history: Schema.Array(Attempt),
  /**
   * The source row as it is now: for `inbox` the delivery (topic, dedupe key, headers, body text);
   * for `stock_push` the desired and pushed versions; for `job` its kind, idempotency key and payload.
   */
  source: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {}

/**
 * Which letters to list or replay. `status` defaults to `open`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Filter {
  readonly connection?: string | undefined
  readonly reason?: Reason | undefined
  readonly kind?: Kind | undefined
  readonly status?: Status | "any" | undefined
  /** Only letters whose first failure is at or before this instant. */
  readonly olderThan?: Date | undefined
  /** Only letters whose first failure is after this instant. */
  readonly newerThan?: Date | undefined
  /** At most this many (default 100). */
  readonly limit?: number | undefined
}

/**
 * What a replay did: `replayed` (the source row is queued again), `already_replayed` (a no-op),
 * `discarded` (an operator dropped it; not replayed), `not_found`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReplayOutcome {
  readonly id: number
  readonly outcome: "replayed" | "already_replayed" | "discarded" | "not_found"
  readonly kind?: Kind | undefined
  readonly connection?: string | undefined
  readonly key?: string | undefined
}

/**
 * What a discard did.
 *
 * @category models
 * @since 0.1.0
 */
export interface DiscardOutcome {
  readonly id: number
  readonly outcome: "discarded" | "already_discarded" | "replayed" | "not_found"
}

/**
 * The dead-letter queue.
 *
 * @category services
 * @since 0.1.0
 */
export interface DeadLettersShape {
  /** Letters matching a filter, oldest first. */
  readonly list: (filter?: Filter) => Effect.Effect<ReadonlyArray<Summary>, StoreError>
  /** How many letters match a filter (`limit` ignored). */
  readonly count: (filter?: Filter) => Effect.Effect<number, StoreError>
  /** One letter with its whole context. */
  readonly show: (id: number) => Effect.Effect<Option.Option<DeadLetter>, StoreError>
  /**
   * Sends a letter's work back through the normal path: resets the source row (inbox entry pending,
   * stock push due, job pending, attempts cleared) and marks the letter replayed, in one transaction.
   * Idempotent.
   */
  readonly replay: (id: number) => Effect.Effect<ReplayOutcome, StoreError>
  /** Replays every letter matching a filter (open ones only). */
  readonly replayMatching: (filter: Filter) => Effect.Effect<ReadonlyArray<ReplayOutcome>, StoreError>
  /**
   * Drops a letter for good, keeping it (and the reason) visible and in the audit log. A stock push
   * gives up the number it was writing; the listing's next change goes out as usual.
   */
  readonly discard: (id: number, reason: string) => Effect.Effect<DiscardOutcome, StoreError>
}

/**
 * The dead-letter queue service.
 *
 * @category services
 * @since 0.1.0
 */
export class DeadLetters extends Context.Tag("@tkbridge/core/DeadLetters")<DeadLetters, DeadLettersShape>() {}
