/**
 * ShopifyClient: calls to the GraphQL Admin API (`POST <shop>/admin/api/<version>/graphql.json`,
 * version pinned by config) over the shared `ConnectorHttp` plumbing — timeout, redacted cURL line,
 * exchange record on every error — with the access token in `X-Shopify-Access-Token`.
 *
 * Cost-aware pacing. Shopify meters GraphQL by query cost in a leaky bucket per app and shop, and
 * reports the bucket after every call (`extensions.cost.throttleStatus`). The client keeps that
 * state per connection and, before a call, estimates its cost — Shopify's last `requestedQueryCost`
 * for the operation, scaled to the new variables, or the documented cost model before Shopify has
 * answered one (never 0). When the bucket cannot cover the estimate the client waits, on the Effect
 * clock, for it to refill; a wait longer than `maxThrottleWaitMs` fails `RateLimited` at once instead.
 * Calls reserve their estimate one at a time, so concurrent calls queue rather than overdraw. A
 * report only shows the calls Shopify had charged when it answered, so learning from it keeps the
 * reservations of calls that may not be in it yet — those still in flight, and those answered while
 * this one was out (Shopify may have charged them after it) — off the bucket it reports.
 *
 * A throttled answer (`THROTTLED` with HTTP 200 or 429) is `RateLimited` with the wait computed from
 * the bucket; a 429 with `Retry-After` honours the header. An expired token (401) is refreshed once
 * through `AccessToken.withToken` and the call retried.
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { AccessToken, Connector, ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Ref, Schema } from "effect"
import type { DocumentNode } from "graphql"
import { parse } from "graphql"
import type { ShopifyConfig } from "./ShopifyConfig.ts"
import { graphqlUrl } from "./ShopifyConfig.ts"
import { requestedCost } from "./ShopifyCost.ts"
import type { Document } from "./ShopifyDocuments.ts"
import * as ShopifyError from "./ShopifyError.ts"
import type { Cost } from "./ShopifySchema.ts"
import { Envelope } from "./ShopifySchema.ts"

/** The client's view of the cost bucket, as of `at` (epoch ms). */
export interface Bucket {
  readonly maximumAvailable: number
  readonly currentlyAvailable: number
  readonly restoreRate: number
  readonly at: number
}

/** Variables of a GraphQL call. */
export type Variables = Readonly<Record<string, unknown>>

/** The Shopify GraphQL client of one connection. */
export interface ShopifyClientShape {
  readonly config: ShopifyConfig
  /** The connection the client works for (from `ConnectionContext`). */
  readonly connection: string | undefined
  /** Runs a document with the connection's token; refreshes once on an expired token. */
  readonly run: <A, I>(
    document: Document,
    variables: Variables,
    data: Schema.Schema<A, I>
  ) => Effect.Effect<A, Errors.ConnectorError>
  /** Runs a document with an explicit token. */
  readonly runWith: <A, I>(
    token: AccessToken.TokenSet,
    document: Document,
    variables: Variables,
    data: Schema.Schema<A, I>
  ) => Effect.Effect<A, Errors.ConnectorError>
  /** The bucket as last reported by Shopify, refilled to now (none before the first answer). */
  readonly bucket: Effect.Effect<Option.Option<Bucket>>
  /** The cost the client would budget for a call right now. */
  readonly estimate: (document: Document, variables: Variables) => Effect.Effect<number>
  /** The shared HTTP plumbing (also used by the OAuth token endpoint). */
  readonly http: ConnectorHttp.ConnectorHttpClient
}

/** The Shopify GraphQL client of one connection. */
export class ShopifyClient extends Context.Tag("@tkbridge/connector-shopify/ShopifyClient")<
  ShopifyClient,
  ShopifyClientShape
>() {}

const refill = (b: Bucket, now: number): number =>
  Math.min(b.maximumAvailable, b.currentlyAvailable + (Math.max(0, now - b.at) / 1000) * b.restoreRate)

const decodeEnvelope = Schema.decodeUnknownOption(Envelope)

const parseJson = (text: string): Option.Option<unknown> => {
  if (text.trim() === "") return Option.none()
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

/** Builds the client. `AccessToken` and `ConnectionContext` are used when present. */
export const make = (config: ShopifyConfig): Effect.Effect<ShopifyClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const tokens = yield* Effect.serviceOption(AccessToken.AccessToken)
    const connection = Option.getOrUndefined(
      Option.map(yield* Effect.serviceOption(Connector.ConnectionContext), (c) => c.connection)
    )
    const secrets = [config.clientSecret, ...(config.previousClientSecret ? [config.previousClientSecret] : [])]
    const http = yield* ConnectorHttp.make({ connection, timeout: Duration.millis(config.timeoutMs), secrets })
    const url = graphqlUrl(config)
    const state = yield* Ref.make<Option.Option<Bucket>>(Option.none())
    // Shopify's requested cost per operation relative to the documented model, learnt from answers.
    const ratios = new Map<string, number>()
    const parsed = new Map<string, DocumentNode>()
    const gate = yield* Effect.makeSemaphore(1)
    const warned = new Set<string>()

    /** The documented model's cost of a call (documents are parsed once per operation). */
    const modelled = (document: Document, variables: Variables): number => {
      let ast = parsed.get(document.operationName)
      if (ast === undefined) {
        ast = parse(document.query)
        parsed.set(document.operationName, ast)
      }
      return Math.max(1, requestedCost(ast, variables, document.operationName))
    }

    const estimateNow = (document: Document, variables: Variables): number =>
      Math.max(1, Math.ceil(modelled(document, variables) * (ratios.get(document.operationName) ?? 1)))

    const ctx = (now: number, result?: ConnectorHttp.HttpResult): ShopifyError.Context => ({
      connection,
      now,
      backoffMs: config.rateLimitBackoffMs,
      httpStatus: result?.status,
      exchange: result?.exchange
    })

    /**
     * Points reserved by calls sent and not answered yet, and the running total of points of calls
     * answered so far (a call notes it when it is sent, to tell which calls were answered while it
     * was out).
     */
    const flight = yield* Ref.make({ reserved: 0, answered: 0 })

    /** What a call holds while it is out: its reservation, and `answered` as it was when it was sent. */
    interface Ticket {
      readonly points: number
      readonly mark: number
    }

    const unreserved: Ticket = { points: 0, mark: 0 }

    /**
     * Waits until the bucket can cover `cost`, then reserves it. Runs while holding the gate. The
     * bucket is read again after every wait: an answer that came in meanwhile may have lowered it.
     */
    const reserve = (cost: number): Effect.Effect<Ticket, Errors.RateLimited> =>
      Effect.gen(function* () {
        let waited = 0
        for (;;) {
          const current = yield* Ref.get(state)
          if (Option.isNone(current)) return unreserved
          const b = current.value
          const now = yield* Clock.currentTimeMillis
          const need = Math.min(cost, b.maximumAvailable)
          const available = refill(b, now)
          if (need <= available) {
            yield* Ref.set(state, Option.some({ ...b, currentlyAvailable: available - need, at: now }))
            return yield* Ref.modify(flight, (f) => [
              { points: need, mark: f.answered },
              { ...f, reserved: f.reserved + need }
            ])
          }
          const waitMs = Math.ceil(((need - available) / b.restoreRate) * 1000)
          if (!(b.restoreRate > 0) || waited + waitMs > config.maxThrottleWaitMs) {
            return yield* new Errors.RateLimited({
              connection,
              code: "COST_BUDGET",
              message: `the cost bucket holds ${Math.floor(available)} of the ${need} points this call needs`,
              retryAfter: Duration.millis(b.restoreRate > 0 ? waitMs : config.rateLimitBackoffMs)
            })
          }
          yield* Effect.logDebug(`waiting ${waitMs} ms for the Shopify cost bucket to refill`)
          yield* Effect.sleep(Duration.millis(waitMs))
          waited += waitMs
        }
      })

    /** The call is answered (or gave up): its points are no longer in flight. */
    const release = (ticket: Ticket) =>
      Ref.update(flight, (f) => ({ reserved: f.reserved - ticket.points, answered: f.answered + ticket.points }))

    /**
     * Runs `call` once the bucket can cover `cost`. Calls reserve one at a time; while the bucket is
     * still unknown (no answer yet) a call holds the gate until Shopify has reported it, so a burst
     * of first calls cannot overdraw a bucket nobody has seen.
     */
    const paced = <A, E>(
      cost: number,
      call: (ticket: Ticket) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | Errors.RateLimited> =>
      Effect.flatMap(
        gate.withPermits(1)(
          Effect.flatMap(
            Ref.get(state),
            (known): Effect.Effect<Either.Either<A, Ticket>, E | Errors.RateLimited> =>
              Option.isNone(known) ? Effect.map(call(unreserved), Either.right) : Effect.map(reserve(cost), Either.left)
          )
        ),
        (step): Effect.Effect<A, E | Errors.RateLimited> =>
          Either.isRight(step) ? Effect.succeed(step.right) : Effect.ensuring(call(step.left), release(step.left))
      )

    /**
     * Takes Shopify's report as the bucket, less what the report may not show yet: the points of
     * every other call still in flight, and of those answered while this one was out.
     */
    const learn = (document: Document, variables: Variables, at: number, reported: Cost, ticket: Ticket) =>
      Effect.gen(function* () {
        const f = yield* Ref.get(flight)
        const unseen = f.reserved - ticket.points + (f.answered - ticket.mark)
        const { throttleStatus } = reported
        yield* Ref.set(
          state,
          Option.some({
            ...throttleStatus,
            currentlyAvailable: Math.max(0, throttleStatus.currentlyAvailable - unseen),
            at
          })
        )
        if (reported.requestedQueryCost > 0) {
          ratios.set(document.operationName, reported.requestedQueryCost / modelled(document, variables))
        }
      })

    const interpret = <A, I>(
      result: ConnectorHttp.HttpResult,
      document: Document,
      variables: Variables,
      data: Schema.Schema<A, I>,
      ticket: Ticket
    ): Effect.Effect<A, Errors.ConnectorError> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const answered = result.headers["x-shopify-api-version"]
        if (answered !== undefined && answered !== config.apiVersion && !warned.has(answered)) {
          warned.add(answered)
          yield* Effect.logWarning(
            `Shopify answered with API version ${answered} instead of ${config.apiVersion}: the pinned version is no longer served`
          )
        }
        const deprecated = result.headers["x-shopify-api-deprecated-reason"]
        if (deprecated !== undefined && !warned.has(`deprecated:${document.operationName}`)) {
          warned.add(`deprecated:${document.operationName}`)
          yield* Effect.logWarning(`${document.operationName} uses a deprecated field: ${deprecated}`)
        }
        const envelope = Option.flatMap(parseJson(result.text), decodeEnvelope)
        const cost = Option.flatMap(envelope, (e) => Option.fromNullable(e.extensions?.cost))
        if (Option.isSome(cost)) yield* learn(document, variables, now, cost.value, ticket)
        const byStatus = ShopifyError.fromStatus(result, ctx(now, result), Option.getOrUndefined(cost))
        if (byStatus !== undefined) return yield* Effect.fail(byStatus)
        const transient = (message: string) =>
          Effect.fail(
            new Errors.Transient({ message, connection, httpStatus: result.status, exchange: result.exchange })
          )
        if (Option.isNone(envelope)) {
          return yield* transient(
            result.text.trim() === ""
              ? `HTTP ${result.status} with an empty body`
              : `HTTP ${result.status} with a body that is not a GraphQL response`
          )
        }
        const env = envelope.value
        if (env.errors !== undefined && env.errors.length > 0) {
          return yield* Effect.fail(
            ShopifyError.fromGraphqlErrors(
              env.errors.map((e) => ({ ...e, message: http.redact(e.message) })),
              ctx(now, result),
              Option.getOrUndefined(cost)
            )
          )
        }
        if (env.data === undefined || env.data === null) return yield* transient("the response carries no data")
        return yield* Schema.decodeUnknown(data)(env.data).pipe(
          Effect.catchAll((e) =>
            transient(
              `${document.operationName}: Shopify answered with an unexpected shape: ${e.message.slice(0, 500)}`
            )
          )
        )
      })

    const runWith = <A, I>(
      token: AccessToken.TokenSet,
      document: Document,
      variables: Variables,
      data: Schema.Schema<A, I>
    ): Effect.Effect<A, Errors.ConnectorError> =>
      paced(estimateNow(document, variables), (ticket) =>
        Effect.gen(function* () {
          const body = JSON.stringify({ query: document.query, variables, operationName: document.operationName })
          const request = HttpClientRequest.post(url).pipe(
            HttpClientRequest.setHeader("x-shopify-access-token", AccessToken.reveal(token)),
            HttpClientRequest.setHeader("accept", "application/json"),
            HttpClientRequest.bodyText(body, "application/json")
          )
          const result = yield* http.send(request, { secrets: [token.accessToken] })
          return yield* interpret(result, document, variables, data, ticket)
        })
      ).pipe(Effect.withSpan("shopify.graphql", { attributes: { "graphql.operation": document.operationName } }))

    const run = <A, I>(
      document: Document,
      variables: Variables,
      data: Schema.Schema<A, I>
    ): Effect.Effect<A, Errors.ConnectorError> =>
      Option.match(tokens, {
        onNone: () =>
          Effect.fail(
            new Errors.AuthRevoked({ connection, message: "this Shopify connection holds no authorization yet" })
          ),
        onSome: (provider) =>
          AccessToken.withToken((token) => runWith(token, document, variables, data)).pipe(
            Effect.provideService(AccessToken.AccessToken, provider)
          )
      })

    const bucket = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return Option.map(yield* Ref.get(state), (b) => ({ ...b, currentlyAvailable: refill(b, now), at: now }))
    })

    const estimate = (document: Document, variables: Variables) => Effect.sync(() => estimateNow(document, variables))

    return { config, connection, run, runWith, bucket, estimate, http } satisfies ShopifyClientShape
  })

/** The client as a layer. */
export const layer = (config: ShopifyConfig): Layer.Layer<ShopifyClient, never, HttpClient.HttpClient> =>
  Layer.effect(ShopifyClient, make(config))
