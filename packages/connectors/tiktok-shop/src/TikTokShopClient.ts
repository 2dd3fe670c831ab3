/**
 * TikTokShopClient: signed calls to the TikTok Shop Open API, one request per call, over the shared
 * `ConnectorHttp` plumbing (timeout, redacted cURL line, exchange record on every error).
 *
 * Each call carries `app_key`, `timestamp` (Unix seconds) and `sign` in the query, the access token
 * in the `x-tts-access-token` header (never signed, never in the query) and `shop_cipher` only on
 * shop-scoped calls. JSON bodies are serialised once, compactly, and those exact bytes are both
 * signed and sent. Query values go through `URLSearchParams`, so a `page_token` holding `+`, `/`
 * or `=` is percent-encoded on the wire and signed decoded, as TikTok verifies it.
 *
 * TikTok limits each API to 50 requests per second per (app, shop). The engine paces calls to the
 * connector; a stock push fans out to one Update Inventory call per product, so the client also
 * keeps its own per-API budget (`requestsPerSecondPerApi`, each call counted from when its answer
 * came back, so network delays cannot squeeze two windows' calls into one) and waits for it rather
 * than provoke a 429 itself.
 *
 * A call succeeds only on HTTP 200 with `code` 0. Anything else becomes a taxonomy error
 * (`TikTokShopError`); an expired token is refreshed once through `AccessToken.withToken` and the
 * call re-signed and retried.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { AccessToken, Connector, ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Context, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { EndpointName, TikTokShopConfig } from "./TikTokShopConfig.ts"
import { versionOf } from "./TikTokShopConfig.ts"
import * as TikTokShopError from "./TikTokShopError.ts"
import * as TikTokShopJson from "./TikTokShopJson.ts"
import { Envelope } from "./TikTokShopSchema.ts"
import * as TikTokShopSign from "./TikTokShopSign.ts"

/** HTTP methods the Open API uses. */
export type Method = "GET" | "POST" | "PUT" | "DELETE"

/** One Open API call. `data` decodes the envelope's `data`. */
export interface CallOptions<A, I> {
  readonly method: Method
  /** The full path including the version, e.g. `/order/202309/orders/search`. */
  readonly path: string
  /** Endpoint query parameters; `undefined` and empty values are not sent (and so not signed). */
  readonly query?: Readonly<Record<string, string | number | undefined>> | undefined
  /** A JSON body; serialised once and sent byte-exact as signed. Leave it out rather than send `{}`. */
  readonly body?: unknown
  /** Adds `shop_cipher`; authorization and seller endpoints must not carry it. */
  readonly shopScoped: boolean
  readonly data: Schema.Schema<A, I>
}

const paths: Readonly<Record<EndpointName, (version: string, id: string) => string>> = {
  shops: (v) => `/authorization/${v}/shops`,
  orderSearch: (v) => `/order/${v}/orders/search`,
  orderDetail: (v) => `/order/${v}/orders`,
  productSearch: (v) => `/product/${v}/products/search`,
  inventoryUpdate: (v, id) => `/product/${v}/products/${id}/inventory/update`,
  inventorySearch: (v) => `/product/${v}/inventory/search`,
  shippingProviders: (v, id) => `/logistics/${v}/delivery_options/${id}/shipping_providers`,
  markShipped: (v, id) => `/fulfillment/${v}/orders/${id}/packages`,
  returnsSearch: (v) => `/return_refund/${v}/returns/search`,
  cancellationsSearch: (v) => `/return_refund/${v}/cancellations/search`
}

/** The TikTok Shop API client of one connection. */
export interface TikTokShopClientShape {
  readonly config: TikTokShopConfig
  /** The connection the client works for (from `ConnectionContext`). */
  readonly connection: string | undefined
  /** The path of an endpoint under the configured version; `id` fills the path parameter. */
  readonly path: (endpoint: EndpointName, id?: string) => string
  /** Calls with the connection's token; refreshes once on an expired token. */
  readonly call: <A, I>(options: CallOptions<A, I>) => Effect.Effect<A, Errors.ConnectorError>
  /** Calls with an explicit token (authorization, before the connection holds one). */
  readonly callWith: <A, I>(
    token: AccessToken.TokenSet,
    options: CallOptions<A, I>
  ) => Effect.Effect<A, Errors.ConnectorError>
  /** Reads a TikTok response: HTTP 200 and `code` 0, or a taxonomy error. */
  readonly interpret: <A, I>(
    result: ConnectorHttp.HttpResult,
    data: Schema.Schema<A, I>,
    now: number
  ) => Effect.Effect<A, Errors.ConnectorError>
  /** The shared HTTP plumbing, also used by the (unsigned) token endpoints. */
  readonly http: ConnectorHttp.ConnectorHttpClient
  /** Current time in milliseconds, from the `Clock` the client was built with (request timestamps use it). */
  readonly now: Effect.Effect<number>
}

/** The TikTok Shop API client of one connection. */
export class TikTokShopClient extends Context.Tag("@tkbridge/connector-tiktok-shop/TikTokShopClient")<
  TikTokShopClient,
  TikTokShopClientShape
>() {}

const encodePathId = (id: string) => encodeURIComponent(id)

/** The API a path belongs to, for the per-API budget: ids in the path do not make another API. */
export const apiOf = (method: Method, path: string): string => `${method} ${path.replace(/\/\d{7,}(?=\/|$)/g, "/{id}")}`

/** The window the per-API budget is counted over: a second, plus headroom for clock granularity. */
const budgetWindowMs = 1_050

/**
 * Builds the client. `AccessToken` and `ConnectionContext` are used when present. The `Clock` in
 * scope here is the one request timestamps are read from for the client's whole life.
 */
export const make = (config: TikTokShopConfig): Effect.Effect<TikTokShopClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const tokens = yield* Effect.serviceOption(AccessToken.AccessToken)
    const clock = yield* Effect.clock
    const now = clock.currentTimeMillis
    const connection = Option.getOrUndefined(
      Option.map(yield* Effect.serviceOption(Connector.ConnectionContext), (c) => c.connection)
    )
    const secret = Redacted.value(config.appSecret)
    const http = yield* ConnectorHttp.make({
      connection,
      timeout: Duration.millis(config.timeoutMs),
      secrets: [config.appSecret]
    })
    const backoff = Duration.millis(config.rateLimitBackoffMs)
    // Each used unit of an API's budget: in flight, or done at `at`. A unit counts from when its
    // answer came back, not from when it was sent: the platform counted it on arrival, somewhere in
    // between, so a call sent a window after the answer can never land in the same window.
    const budgets = new Map<string, Array<{ at: number; done: boolean }>>()
    /** Waits until the API has budget left in the current window, then takes one unit (atomically: one JS turn). */
    const pace = (api: string): Effect.Effect<{ readonly done: Effect.Effect<void> }> =>
      Effect.gen(function* () {
        while (true) {
          const at = yield* now
          const taken = yield* Effect.sync(() => {
            const recent = (budgets.get(api) ?? []).filter((u) => !u.done || u.at > at - budgetWindowMs)
            budgets.set(api, recent)
            if (recent.length < config.requestsPerSecondPerApi) {
              const unit = { at, done: false }
              recent.push(unit)
              return { unit, wait: 0 }
            }
            const settled = recent.filter((u) => u.done).map((u) => u.at + budgetWindowMs - at)
            // Every unit still in flight: look again shortly.
            return { unit: undefined, wait: settled.length > 0 ? Math.max(1, Math.min(...settled)) : 10 }
          })
          const unit = taken.unit
          if (unit !== undefined) {
            return {
              done: Effect.flatMap(now, (end) =>
                Effect.sync(() => {
                  unit.at = end
                  unit.done = true
                })
              )
            }
          }
          yield* clock.sleep(Duration.millis(taken.wait))
        }
      })
    const apiBase = config.apiBaseUrl.replace(/\/+$/, "")

    const interpret = <A, I>(
      result: ConnectorHttp.HttpResult,
      data: Schema.Schema<A, I>,
      now: number
    ): Effect.Effect<A, Errors.ConnectorError> => {
      const transient = (message: string) =>
        Effect.fail(new Errors.Transient({ message, connection, httpStatus: result.status, exchange: result.exchange }))
      let json: unknown
      let parsed = false
      if (result.text.trim() !== "") {
        try {
          json = TikTokShopJson.parse(result.text)
          parsed = true
        } catch {
          parsed = false
        }
      }
      const envelope = parsed ? Schema.decodeUnknownOption(Envelope)(json) : Option.none()
      if (Option.isNone(envelope) || (envelope.value.code === 0 && result.status !== 200)) {
        const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
        if (byStatus !== undefined && result.status !== 200) return Effect.fail(byStatus)
        return transient(
          result.text.trim() === ""
            ? `HTTP ${result.status} with an empty body`
            : `HTTP ${result.status} with a body that is not a TikTok Shop response`
        )
      }
      const env = envelope.value
      if (env.code !== 0) {
        return Effect.fail(
          TikTokShopError.fromFailure(
            {
              code: env.code,
              message: http.redact(env.message ?? ""),
              httpStatus: result.status,
              requestId: env.request_id,
              retryAfter: result.headers["retry-after"],
              exchange: result.exchange,
              connection
            },
            now,
            backoff
          )
        )
      }
      return Schema.decodeUnknown(data)(env.data ?? {}).pipe(
        Effect.catchAll((e) =>
          transient(`TikTok Shop answered with an unexpected data shape: ${e.message.slice(0, 500)}`)
        )
      )
    }

    const callWith = <A, I>(
      token: AccessToken.TokenSet,
      options: CallOptions<A, I>
    ): Effect.Effect<A, Errors.ConnectorError> =>
      Effect.flatMap(pace(apiOf(options.method, options.path)), (unit) =>
        Effect.gen(function* () {
          const at = yield* now
          const query: Record<string, string> = {}
          for (const [key, value] of Object.entries(options.query ?? {})) {
            if (value !== undefined && String(value) !== "") query[key] = String(value)
          }
          query.app_key = config.appKey
          query.timestamp = String(Math.floor(at / 1000))
          if (options.shopScoped) {
            const cipher = config.shopCipher ?? token.extra.shop_cipher
            if (cipher === undefined || cipher === "") {
              return yield* new Errors.Rejected({
                code: "106013",
                connection,
                message:
                  "no shop_cipher for this connection: authorize the shop again (the exchange stores it) or set shopCipher in the config"
              })
            }
            query.shop_cipher = cipher
          }
          const bodyText = options.body === undefined ? undefined : JSON.stringify(options.body)
          const signature = TikTokShopSign.sign({
            secret,
            path: options.path,
            query,
            body: bodyText,
            contentType: "application/json"
          })
          let request = HttpClientRequest.make(options.method)(apiBase + options.path).pipe(
            HttpClientRequest.setUrlParams({ ...query, sign: signature }),
            HttpClientRequest.setHeader("x-tts-access-token", AccessToken.reveal(token))
          )
          request =
            bodyText === undefined
              ? HttpClientRequest.setHeader(request, "content-type", "application/json")
              : HttpClientRequest.bodyText(request, bodyText, "application/json")
          const result = yield* http.send(request, { secrets: [token.accessToken] })
          return yield* interpret(result, options.data, at)
        }).pipe(Effect.ensuring(unit.done))
      )

    const call = <A, I>(options: CallOptions<A, I>): Effect.Effect<A, Errors.ConnectorError> =>
      Option.match(tokens, {
        onNone: () =>
          Effect.fail(
            new Errors.AuthRevoked({ connection, message: "this TikTok Shop connection holds no authorization yet" })
          ),
        onSome: (provider) =>
          AccessToken.withToken((token) => callWith(token, options)).pipe(
            Effect.provideService(AccessToken.AccessToken, provider)
          )
      })

    const path = (endpoint: EndpointName, id = "") => paths[endpoint](versionOf(config, endpoint), encodePathId(id))

    return { config, connection, path, call, callWith, interpret, http, now } satisfies TikTokShopClientShape
  })

/** The client as a layer. */
export const layer = (config: TikTokShopConfig): Layer.Layer<TikTokShopClient, never, HttpClient.HttpClient> =>
  Layer.effect(TikTokShopClient, make(config))
