/**
 * StoreError: the sync-state store (inbox, outbox, quotas, dead letters, tokens, audit) could not be
 * read or written. Every port of the sync state fails with it, whatever the database behind it.
 * `retryable` marks failures where running the same work again may succeed (a deadlock, a
 * serialization failure, a busy SQLite file, a dropped connection).
 *
 * Messages never carry row values: a failed token write must not put the token into a log.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The store failed an operation.
 *
 * @category errors
 * @since 0.1.0
 */
export class StoreError extends Schema.TaggedError<StoreError>("@tkbridge/core/StoreError")("StoreError", {
  /** What was being done, e.g. `inbox.record`. */
  operation: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean
}) {}
