/**
 * Cursors handed to the engine. TikTok's `page_token` is bound to the filters of the first page,
 * so the cursor carries the time window with it: later pages repeat exactly the first page's
 * filters, whatever window the caller passes along. Cursors are base64url JSON, opaque to callers.
 *
 * @internal
 */
import { ConnectorError as Errors } from "@tkbridge/core"
import { Effect, Schema } from "effect"

/** Where a paged read stands: the window, and per stream the next page token (`null` = stream done). */
export const Cursor = Schema.Struct({
  ge: Schema.optional(Schema.Int),
  lt: Schema.optional(Schema.Int),
  streams: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) })
})
/** @internal */
export type Cursor = typeof Cursor.Type

const Json = Schema.parseJson(Cursor)

/** Encodes a cursor. */
export const encode = (cursor: Cursor): string =>
  Buffer.from(Schema.encodeSync(Json)(cursor), "utf8").toString("base64url")

/** Decodes a cursor; a damaged one is `Rejected` (replaying it cannot succeed). */
export const decode = (text: string, connection: string | undefined): Effect.Effect<Cursor, Errors.ConnectorError> =>
  Schema.decodeUnknown(Json)(Buffer.from(text, "base64url").toString("utf8")).pipe(
    Effect.mapError(
      () => new Errors.Rejected({ code: "invalid_cursor", connection, message: `not a TikTok Shop cursor: ${text}` })
    )
  )

/** Unix seconds of a window start (inclusive, rounded down). */
export const floorSeconds = (d: Date | undefined): number | undefined =>
  d === undefined ? undefined : Math.floor(d.getTime() / 1000)

/** Unix seconds of a window end (exclusive, rounded up so no second is skipped). */
export const ceilSeconds = (d: Date | undefined): number | undefined =>
  d === undefined ? undefined : Math.ceil(d.getTime() / 1000)
