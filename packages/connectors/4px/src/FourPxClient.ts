/**
 * FourPxClient: signed calls to the 4PX open platform, one request per call, over the shared
 * `ConnectorHttp` plumbing (timeout, redacted cURL line, exchange record on every error).
 *
 * Every call is `POST {baseUrl}/router/api/service` with the system parameters in the query —
 * `method`, `app_key`, `v` (per method, from the config), `timestamp` (epoch milliseconds, one value
 * for both the URL and the signature), `format=json`, `sign`, and, unsigned, `access_token` (oauth
 * mode) and `language` — and the business JSON as the raw body. The body is serialised once,
 * compactly; those exact bytes are both signed and sent, and an empty payload is `{}`.
 *
 * A call succeeds on HTTP 200 with `result` `"1"` (or `"2"`, partial success, when it carries
 * `data`). Everything else becomes a taxonomy error (`FourPxError`). In oauth mode an expired token
 * is refreshed once through `AccessToken.withToken` and the call re-signed and retried.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { AccessToken, Connector, ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Context, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { FourPxConfig, MethodName } from "./FourPxConfig.ts"
import { versionOf } from "./FourPxConfig.ts"
import * as FourPxError from "./FourPxError.ts"
import type { FourPxErrorDetail } from "./FourPxSchema.ts"
import { Envelope, normaliseError, unwrapData } from "./FourPxSchema.ts"
import * as FourPxSign from "./FourPxSign.ts"

/** The gateway path on the FOP host. */
export const gatewayPath = "/router/api/service"

/** One FOP call. `data` decodes the envelope's `data`. */
export interface CallOptions<A, I> {
  readonly method: MethodName
  /** The business payload; serialised once and sent byte-exact as signed. Absent means `{}`. */
  readonly body?: unknown
  readonly data: Schema.Schema<A, I>
}

/** What a failed call looked like before it was mapped, for callers that look closer (create, cancel). */
export interface CallFailure {
  readonly error: Errors.ConnectorError
  /** The envelope's errors, when the platform answered with an envelope. */
  readonly errors: ReadonlyArray<FourPxErrorDetail>
}

/** The 4PX client of one connection. */
export interface FourPxClientShape {
  readonly config: FourPxConfig
  /** The connection the client works for (from `ConnectionContext`). */
  readonly connection: string | undefined
  /** Calls with the connection's credentials (and token, in oauth mode). */
  readonly call: <A, I>(options: CallOptions<A, I>) => Effect.Effect<A, Errors.ConnectorError>
  /** Like `call`, but a failure keeps the envelope's error items beside the mapped error. */
  readonly callDetailed: <A, I>(options: CallOptions<A, I>) => Effect.Effect<A, CallFailure>
  /** Calls with an explicit token, or none (`undefined`). */
  readonly callWith: <A, I>(
    token: AccessToken.TokenSet | undefined,
    options: CallOptions<A, I>
  ) => Effect.Effect<A, CallFailure>
  /** The shared HTTP plumbing, also used by the (unsigned) OAuth endpoints. */
  readonly http: ConnectorHttp.ConnectorHttpClient
  /** How failures are classified for this connection. */
  readonly errorContext: FourPxError.ErrorContext
}

/** The 4PX client of one connection. */
export class FourPxClient extends Context.Tag("@tkbridge/connector-4px/FourPxClient")<
  FourPxClient,
  FourPxClientShape
>() {}

/** Serialises a payload the way it is signed and sent: compact JSON, `{}` when empty. */
export const bodyOf = (body: unknown): string => {
  if (body === undefined || body === null) return "{}"
  const text = JSON.stringify(body)
  return text === undefined || text === "" ? "{}" : text
}

/** Builds the client. `AccessToken` and `ConnectionContext` are used when present. */
export const make = (config: FourPxConfig): Effect.Effect<FourPxClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const tokens = yield* Effect.serviceOption(AccessToken.AccessToken)
    const connection = Option.getOrUndefined(
      Option.map(yield* Effect.serviceOption(Connector.ConnectionContext), (c) => c.connection)
    )
    const secret = Redacted.value(config.appSecret)
    const http = yield* ConnectorHttp.make({
      connection,
      timeout: Duration.millis(config.timeoutMs),
      secrets: [config.appSecret]
    })
    const gateway = config.baseUrl.replace(/\/+$/, "") + gatewayPath
    const errorContext: FourPxError.ErrorContext = {
      mode: config.auth.mode,
      tokenExpiredCodes: config.auth.mode === "oauth" ? config.auth.tokenExpiredCodes : [],
      rateLimitBackoff: Duration.millis(config.rateLimitBackoffMs),
      busyBackoff: Duration.millis(config.busyBackoffMs)
    }

    const interpret = <A, I>(
      method: MethodName,
      result: ConnectorHttp.HttpResult,
      data: Schema.Schema<A, I>,
      now: number
    ): Effect.Effect<A, CallFailure> => {
      const fail = (error: Errors.ConnectorError, errors: ReadonlyArray<FourPxErrorDetail> = []) =>
        Effect.fail<CallFailure>({ error, errors })
      const transient = (message: string) =>
        fail(new Errors.Transient({ message, connection, httpStatus: result.status, exchange: result.exchange }))
      let envelope: Option.Option<Envelope> = Option.none()
      if (result.text.trim() !== "") {
        try {
          envelope = Schema.decodeUnknownOption(Envelope)(JSON.parse(result.text))
        } catch {
          envelope = Option.none()
        }
      }
      if (Option.isNone(envelope)) {
        const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
        if (byStatus !== undefined) return fail(byStatus)
        return transient(
          result.text.trim() === ""
            ? `4PX ${method}: HTTP ${result.status} with an empty body`
            : `4PX ${method}: HTTP ${result.status} with a body that is not a 4PX response`
        )
      }
      const env = envelope.value
      const errors = (env.errors ?? []).map(normaliseError).map((e) => ({ ...e, message: http.redact(e.message) }))
      const payload = unwrapData(env.data)
      const succeeded =
        result.status === 200 &&
        (env.result === "1" || (env.result === "2" && payload !== null && payload !== undefined))
      if (!succeeded) {
        if (errors.length === 0 && result.status !== 200) {
          const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
          if (byStatus !== undefined) return fail(byStatus)
        }
        return fail(
          FourPxError.fromFailure(
            {
              method,
              errors,
              msg: env.msg ?? undefined,
              httpStatus: result.status,
              exchange: result.exchange,
              connection
            },
            errorContext
          ),
          errors
        )
      }
      return Schema.decodeUnknown(data)(payload ?? null).pipe(
        Effect.catchAll((e) =>
          transient(`4PX ${method} answered with an unexpected data shape: ${e.message.slice(0, 500)}`)
        )
      )
    }

    const callWith = <A, I>(
      token: AccessToken.TokenSet | undefined,
      options: CallOptions<A, I>
    ): Effect.Effect<A, CallFailure> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const body = bodyOf(options.body)
        const signed = {
          method: options.method,
          app_key: config.appKey,
          v: versionOf(config, options.method),
          timestamp: String(now),
          format: "json"
        }
        const sign = FourPxSign.sign({ params: signed, body, appSecret: secret })
        const query: Record<string, string> = { ...signed, sign }
        if (token !== undefined) query.access_token = AccessToken.reveal(token)
        query.language = config.language
        const request = HttpClientRequest.post(gateway).pipe(
          HttpClientRequest.setUrlParams(query),
          HttpClientRequest.bodyText(body, "application/json;charset=UTF-8")
        )
        const result = yield* http
          .send(request, { secrets: token === undefined ? [] : [token.accessToken] })
          .pipe(Effect.mapError((error): CallFailure => ({ error, errors: [] })))
        return yield* interpret(options.method, result, options.data, now)
      })

    const callDetailed = <A, I>(options: CallOptions<A, I>): Effect.Effect<A, CallFailure> => {
      if (config.auth.mode === "apiKey") return callWith(undefined, options)
      return Option.match(tokens, {
        onNone: () =>
          Effect.fail<CallFailure>({
            error: new Errors.AuthRevoked({
              connection,
              message: "this 4PX connection uses oauth mode but holds no authorization yet"
            }),
            errors: []
          }),
        onSome: (provider) =>
          Effect.suspend(() => {
            // `withToken` refreshes on AuthExpired; the failure detail travels beside the error.
            let last: ReadonlyArray<FourPxErrorDetail> = []
            return AccessToken.withToken((token) =>
              callWith(token, options).pipe(
                Effect.mapError((f) => {
                  last = f.errors
                  return f.error
                })
              )
            ).pipe(
              Effect.provideService(AccessToken.AccessToken, provider),
              Effect.mapError((error): CallFailure => ({ error, errors: last }))
            )
          })
      })
    }

    const call = <A, I>(options: CallOptions<A, I>): Effect.Effect<A, Errors.ConnectorError> =>
      Effect.mapError(callDetailed(options), (f) => f.error)

    return { config, connection, call, callDetailed, callWith, http, errorContext } satisfies FourPxClientShape
  })

/** The client as a layer. */
export const layer = (config: FourPxConfig): Layer.Layer<FourPxClient, never, HttpClient.HttpClient> =>
  Layer.effect(FourPxClient, make(config))
