/**
 * Audit: the append-only trail that answers "why did TikTok get 7?" and "what did we send to 4PX?" —
 * every quantity decision (with the pool's explanation), every outbound write, and every operator
 * action on the dead-letter queue. Rows are never updated; only retention may delete old ones.
 *
 * Personal data (names, phones, addresses, e-mails) is masked before a row is written (see `Pii`),
 * unless the store was explicitly configured to keep it.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Context, Schema } from "effect"
import type { HttpExchange } from "./HttpExchange.ts"
import type { StoreError } from "./StoreError.ts"

/**
 * `quantity` (a published-quantity decision), `write` (an outbound write and its outcome) or
 * `operator` (a replay, a discard, a manual adjustment).
 *
 * @category models
 * @since 0.1.0
 */
export const Kind = Schema.Literal("quantity", "write", "operator")
/**
 * @category models
 * @since 0.1.0
 */
export type Kind = typeof Kind.Type

/**
 * A row to append.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuditInput {
  readonly kind: Kind
  readonly connection?: string | undefined
  /** What it is about: a listing, an order id, a dead letter … */
  readonly subject?: string | undefined
  /** What happened, e.g. `publish`, `stock.push`, `fulfillment.ship`, `dlq.discard`. */
  readonly action: string
  /** How it ended, e.g. `applied`, `stale`, `failed:Rejected`. */
  readonly outcome?: string | undefined
  /** The explanation or the request summary, as JSON. Masked before it is stored. */
  readonly detail?: unknown
}

/**
 * A stored row.
 *
 * @category models
 * @since 0.1.0
 */
export interface AuditEntry {
  readonly id: number
  readonly at: Date
  readonly kind: Kind
  readonly connection?: string | undefined
  readonly subject?: string | undefined
  readonly action: string
  readonly outcome?: string | undefined
  readonly detail?: unknown
}

/**
 * Which rows to list (newest first).
 *
 * @category models
 * @since 0.1.0
 */
export interface Filter {
  readonly connection?: string | undefined
  readonly subject?: string | undefined
  readonly kind?: Kind | undefined
  readonly action?: string | undefined
  /** Only rows at or after this instant. */
  readonly since?: Date | undefined
  /** Only rows with an id below this one (paging backwards). */
  readonly beforeId?: number | undefined
  readonly limit?: number | undefined
}

/**
 * The audit trail.
 *
 * @category services
 * @since 0.1.0
 */
export interface AuditShape {
  /** Appends a row (inside the caller's transaction when there is one); returns its id. */
  readonly append: (input: AuditInput) => Effect.Effect<number, StoreError>
  /** Rows matching a filter, newest first. */
  readonly list: (filter?: Filter) => Effect.Effect<ReadonlyArray<AuditEntry>, StoreError>
  /** Deletes rows older than `before` (retention); returns how many. */
  readonly prune: (before: Date) => Effect.Effect<number, StoreError>
}

/**
 * The audit trail service.
 *
 * @category services
 * @since 0.1.0
 */
export class Audit extends Context.Tag("@tkbridge/core/Audit")<Audit, AuditShape>() {}

/**
 * A published-quantity decision: the listing, the number and the pool's explanation of it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const quantityDecision = (input: {
  readonly connection: string
  readonly listing: string
  readonly quantity: number
  readonly version?: number | undefined
  readonly explanation: unknown
}): AuditInput => ({
  kind: "quantity",
  connection: input.connection,
  subject: input.listing,
  action: "publish",
  outcome: String(input.quantity),
  detail: { quantity: input.quantity, version: input.version, explanation: input.explanation }
})

/**
 * An outbound write and its outcome, with the redacted request and response when there was one.
 *
 * @category constructors
 * @since 0.1.0
 */
export const outboundWrite = (input: {
  readonly connection: string
  readonly operation: string
  readonly subject?: string | undefined
  readonly idempotencyKey?: string | undefined
  readonly outcome: string
  readonly request?: unknown
  readonly exchange?: HttpExchange | undefined
}): AuditInput => ({
  kind: "write",
  connection: input.connection,
  subject: input.subject,
  action: input.operation,
  outcome: input.outcome,
  detail: {
    idempotencyKey: input.idempotencyKey,
    request: input.request,
    curl: input.exchange?.curl,
    status: input.exchange?.status,
    durationMs: input.exchange?.durationMs
  }
})
