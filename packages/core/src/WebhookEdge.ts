/**
 * WebhookEdge: where platforms' webhook deliveries enter tkbridge. For one delivery to
 * `/webhooks/<connection>` it:
 *
 * 1. finds the connection's {@link WebhookReceiver} (404 for a connection it does not serve);
 * 2. refuses a body over the size limit (413) — read as raw bytes, byte-exact, never re-serialized;
 * 3. runs the connector's signature check, which compares in constant time (401, nothing stored);
 * 4. decodes it; a signed body that cannot be decoded is answered 400 **and recorded** (a dead inbox
 *    entry with a `malformed_payload` dead letter), so nothing a platform sent is lost;
 * 5. inserts it into the inbox keyed by (connection, dedupe key) — `INSERT … ON CONFLICT DO NOTHING`,
 *    so a redelivery is a no-op — and answers 200 only after that insert committed.
 *
 * Nothing else happens before the answer (TikTok wants it within 3 s, Shopify within 5 s). After the
 * commit an optional `notify` hook wakes the inbox processor without delaying the answer. If the store
 * cannot be written the answer is 503: the platform delivers again later, and nothing is acknowledged
 * that was not kept.
 *
 * The edge is an `@effect/platform` HTTP handler ({@link handler}, {@link router}); the runner mounts
 * it, or calls {@link WebhookEdgeShape.receive} with a body it already read.
 *
 * @since 0.1.0
 */
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Context, Effect, Exit, Layer, Option, Stream } from "effect"
import type { WebhookReceiver } from "./Connector.ts"
import { Inbox } from "./Inbox.ts"
import * as Pii from "./Pii.ts"
import type { WebhookDelivery, WebhookRequest } from "./Webhook.ts"
import { normalizeHeaders } from "./Webhook.ts"

/**
 * The receivers of the connections this edge serves.
 *
 * @category services
 * @since 0.1.0
 */
export class WebhookReceivers extends Context.Tag("@tkbridge/core/WebhookReceivers")<
  WebhookReceivers,
  {
    /** The receiver of a connection, if the connection takes webhooks. */
    readonly get: (connection: string) => Option.Option<WebhookReceiver>
  }
>() {}

/**
 * Receivers from a fixed map of connection → receiver.
 *
 * @category layers
 * @since 0.1.0
 */
export const receivers = (
  byConnection: ReadonlyMap<string, WebhookReceiver> | Readonly<Record<string, WebhookReceiver>>
): Layer.Layer<WebhookReceivers> => {
  const map: ReadonlyMap<string, WebhookReceiver> =
    byConnection instanceof Map ? byConnection : new Map(Object.entries(byConnection))
  return Layer.succeed(WebhookReceivers, { get: (connection) => Option.fromNullable(map.get(connection)) })
}

/**
 * How the edge behaves.
 *
 * @category models
 * @since 0.1.0
 */
export interface EdgeOptions {
  /** Largest body accepted, in bytes (default 1 MiB). */
  readonly maxBytes?: number | undefined
  /** A connection's own limit (its connector's `limits.webhookMaxBytes`), overriding `maxBytes`. */
  readonly maxBytesFor?: ((connection: string) => number | undefined) | undefined
  /** Called after a new delivery committed (not for duplicates); runs detached from the answer. */
  readonly notify?: ((stored: { readonly connection: string; readonly id: number }) => Effect.Effect<void>) | undefined
}

/**
 * What happened to a delivery.
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome =
  | "stored"
  | "duplicate"
  | "unauthorized"
  | "malformed"
  | "too_large"
  | "unknown_connection"
  | "unavailable"
  | "error"

/**
 * The edge's answer: the HTTP status to send and what happened.
 *
 * @category models
 * @since 0.1.0
 */
export interface EdgeResult {
  readonly status: number
  readonly outcome: Outcome
  /** The inbox entry, when one was stored or already existed. */
  readonly id?: number | undefined
  /** Why it was refused (safe to show the sender: no secrets, no personal data). */
  readonly message?: string | undefined
}

/**
 * The webhook edge.
 *
 * @category services
 * @since 0.1.0
 */
export interface WebhookEdgeShape {
  /** Verifies, records and answers one delivery whose body was already read. Never fails. */
  readonly receive: (connection: string, request: WebhookRequest) => Effect.Effect<EdgeResult>
  /** The body limit for a connection, in bytes. */
  readonly maxBytes: (connection: string) => number
}

/**
 * The webhook edge service.
 *
 * @category services
 * @since 0.1.0
 */
export class WebhookEdge extends Context.Tag("@tkbridge/core/WebhookEdge")<WebhookEdge, WebhookEdgeShape>() {}

const defaultMaxBytes = 1024 * 1024
// The inbox hashes long keys; a key longer than this is not an event id but garbage.
const maxDedupeKeyLength = 4096

const result = (status: number, outcome: Outcome, extra: Partial<EdgeResult> = {}): EdgeResult => ({
  status,
  outcome,
  ...extra
})

const defectMessage = (cause: Cause.Cause<unknown>) =>
  Pii.maskFreeText(Cause.pretty(cause).split("\n")[0] ?? "unknown failure").slice(0, 300)

/**
 * Builds the edge over the inbox and the connections' receivers.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: EdgeOptions = {}): Effect.Effect<WebhookEdgeShape, never, Inbox | WebhookReceivers> =>
  Effect.gen(function* () {
    const inbox = yield* Inbox
    const receiversService = yield* WebhookReceivers
    const maxBytes = (connection: string) => options.maxBytesFor?.(connection) ?? options.maxBytes ?? defaultMaxBytes

    const recordMalformed = (connection: string, request: WebhookRequest, message: string) =>
      inbox.recordMalformed({ connection, request, message }).pipe(
        Effect.uninterruptible,
        Effect.matchEffect({
          onFailure: (e) =>
            Effect.as(
              Effect.logError("webhook edge: could not record a malformed delivery; answering 503").pipe(
                Effect.annotateLogs({ connection, operation: e.operation, error: e.message })
              ),
              result(503, "unavailable", { message: "the delivery could not be stored; deliver it again later" })
            ),
          onSuccess: (recorded) =>
            Effect.as(
              Effect.logWarning("webhook edge: malformed delivery recorded as a dead letter").pipe(
                Effect.annotateLogs({
                  connection,
                  inboxId: recorded.id,
                  deadLetter: recorded.deadLetter,
                  // The first line only: decoders' messages can quote the body, which stays in the store.
                  reason: Pii.maskFreeText(message.split("\n")[0] ?? "").slice(0, 200)
                })
              ),
              result(400, "malformed", { id: recorded.id, message: "the body could not be understood" })
            )
        })
      )

    const store = (connection: string, request: WebhookRequest, delivery: WebhookDelivery) =>
      inbox
        .record({
          connection,
          delivery,
          request
        })
        .pipe(
          Effect.uninterruptible,
          Effect.matchEffect({
            onFailure: (e) =>
              Effect.as(
                Effect.logError("webhook edge: could not store a delivery; answering 503").pipe(
                  Effect.annotateLogs({ connection, operation: e.operation, error: e.message })
                ),
                result(503, "unavailable", { message: "the delivery could not be stored; deliver it again later" })
              ),
            onSuccess: (recorded) =>
              recorded.duplicate
                ? Effect.succeed(result(200, "duplicate", { id: recorded.id }))
                : Effect.gen(function* () {
                    if (options.notify !== undefined) {
                      yield* Effect.forkDaemon(
                        options
                          .notify({ connection, id: recorded.id })
                          .pipe(
                            Effect.catchAllCause((cause) =>
                              Effect.logWarning("webhook edge: notify hook failed; the sweep will pick it up").pipe(
                                Effect.annotateLogs({ connection, inboxId: recorded.id, cause: defectMessage(cause) })
                              )
                            )
                          )
                      )
                    }
                    return result(200, "stored", { id: recorded.id })
                  })
          })
        )

    const receive = (connection: string, request: WebhookRequest): Effect.Effect<EdgeResult> =>
      Effect.gen(function* () {
        const receiver = receiversService.get(connection)
        if (Option.isNone(receiver)) {
          return result(404, "unknown_connection", { message: `no connection named ${connection} takes webhooks` })
        }
        const limit = maxBytes(connection)
        if (request.rawBody.byteLength > limit) {
          return result(413, "too_large", { message: `the body exceeds ${limit} bytes` })
        }
        const normalized: WebhookRequest = { ...request, headers: normalizeHeaders(request.headers) }
        const verified = yield* Effect.exit(Effect.suspend(() => receiver.value.verify(normalized)))
        if (Exit.isFailure(verified)) {
          const failure = Cause.failureOption(verified.cause)
          if (Option.isSome(failure)) {
            yield* Effect.logWarning("webhook edge: signature rejected").pipe(
              Effect.annotateLogs({ connection, reason: failure.value.reason })
            )
            return result(401, "unauthorized")
          }
          yield* Effect.logError("webhook edge: the connector's signature check crashed").pipe(
            Effect.annotateLogs({ connection, cause: defectMessage(verified.cause) })
          )
          return result(500, "error", { message: "the signature could not be checked" })
        }
        const decoded = yield* Effect.exit(Effect.suspend(() => receiver.value.decode(normalized)))
        if (Exit.isFailure(decoded)) {
          const failure = Cause.failureOption(decoded.cause)
          const message = Option.isSome(failure)
            ? failure.value.message
            : `the connector's decoder crashed: ${defectMessage(decoded.cause)}`
          return yield* recordMalformed(connection, normalized, message)
        }
        const delivery = decoded.value
        if (delivery.dedupeKey.trim() === "" || delivery.dedupeKey.length > maxDedupeKeyLength) {
          return yield* recordMalformed(connection, normalized, "the delivery has no usable dedupe key")
        }
        return yield* store(connection, normalized, delivery)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.as(
            Effect.logError("webhook edge: unexpected failure").pipe(
              Effect.annotateLogs({ connection, cause: defectMessage(cause) })
            ),
            result(500, "error", { message: "unexpected failure" })
          )
        ),
        Effect.withSpan("tkbridge.webhook.receive", {
          attributes: { "tkbridge.connection": connection },
          captureStackTrace: false
        })
      )

    return { receive, maxBytes } satisfies WebhookEdgeShape
  })

/**
 * The edge as a layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: EdgeOptions = {}): Layer.Layer<WebhookEdge, never, Inbox | WebhookReceivers> =>
  Layer.effect(WebhookEdge, make(options))

/**
 * Reads a request body as raw bytes, refusing more than `maxBytes`: none when it is too large. A body
 * that declares its length is read in one piece; an oversized or undeclared one is streamed, and an
 * oversized one is still read to its end (and dropped) up to a few times the limit, so the sender gets
 * the 413 instead of a reset connection; beyond that, reading stops.
 *
 * @category constructors
 * @since 0.1.0
 */
export const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<Option.Option<Uint8Array>, unknown> => {
  const drainLimit = Math.max(4 * maxBytes, 8 * 1024 * 1024)
  const header = request.headers["content-length"]?.trim()
  const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined
  if (declared !== undefined && declared <= maxBytes) {
    // The common case, and the fast path: the HTTP parser holds the body to its declared length.
    return HttpIncomingMessage.withMaxBodySize(request.arrayBuffer, Option.some(maxBytes)).pipe(
      Effect.map((buffer) => Option.some(new Uint8Array(buffer)))
    )
  }
  if (declared !== undefined && declared > drainLimit) return Effect.succeed(Option.none())
  let total = 0
  let tooLarge = declared !== undefined
  const chunks: Array<Uint8Array> = []
  return request.stream.pipe(
    Stream.takeWhile(() => total <= drainLimit),
    Stream.runForEach((chunk) =>
      Effect.sync(() => {
        total += chunk.byteLength
        if (total > maxBytes) {
          tooLarge = true
          chunks.length = 0
        } else if (!tooLarge) {
          chunks.push(chunk)
        }
      })
    ),
    Effect.map(() => {
      if (tooLarge) return Option.none()
      const body = new Uint8Array(total)
      let offset = 0
      for (const chunk of chunks) {
        body.set(chunk, offset)
        offset += chunk.byteLength
      }
      return Option.some(body)
    })
  )
}

const respond = (edge: EdgeResult): HttpServerResponse.HttpServerResponse =>
  edge.status === 200 || edge.status === 401
    ? // TikTok Shop wants an empty body on 200 and 401.
      HttpServerResponse.empty({ status: edge.status })
    : HttpServerResponse.unsafeJson({ error: edge.outcome, message: edge.message }, { status: edge.status })

/**
 * Handles a delivery for the connection named by the route's `:connection` parameter.
 *
 * @category handlers
 * @since 0.1.0
 */
export const handler: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  WebhookEdge | HttpServerRequest.HttpServerRequest | HttpRouter.RouteContext
> = Effect.gen(function* () {
  const edge = yield* WebhookEdge
  const request = yield* HttpServerRequest.HttpServerRequest
  const { connection } = yield* HttpRouter.params
  const name = connection ?? ""
  const body = yield* readBody(request, edge.maxBytes(name)).pipe(
    Effect.map(Option.some),
    Effect.catchAll(() => Effect.succeed(Option.none<Option.Option<Uint8Array>>()))
  )
  if (Option.isNone(body)) return respond(result(400, "malformed", { message: "the body could not be read" }))
  if (Option.isNone(body.value)) return respond(result(413, "too_large", { message: "the body is too large" }))
  // Node hands header names over lower-cased already; `receive` normalizes whatever it is given.
  const answer = yield* edge.receive(name, {
    method: request.method,
    url: request.url,
    headers: request.headers,
    rawBody: body.value.value
  })
  return respond(answer)
})

/**
 * A router serving `POST /webhooks/:connection`.
 *
 * @category handlers
 * @since 0.1.0
 */
export const router: HttpRouter.HttpRouter<never, WebhookEdge> = HttpRouter.empty.pipe(
  HttpRouter.post("/webhooks/:connection", handler)
)
