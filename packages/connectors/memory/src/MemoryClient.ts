/**
 * MemoryClient: the Memory platform's HTTP client — one authenticated call per `api` invocation,
 * built on core's `ConnectorHttp` (timeouts, redacted cURL lines, failure classification).
 *
 * - `api` sends `Authorization: Bearer <token>` with the connection's current token; when the
 *   platform answers `AuthExpired` it asks the `AccessToken` provider for a fresh token once and
 *   retries (`AccessToken.withToken`); a second `AuthExpired` goes to the caller.
 * - `token` calls the OAuth token endpoint (form-encoded, `client_secret_post`).
 * - Non-2xx answers map through `MemoryError`; 2xx bodies decode through `MemorySchema`, and an
 *   empty or malformed 200 is `Transient`.
 *
 * The client never retries anything else, sleeps or queues: pacing is the engine's job.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { AccessToken, Connector, ConnectorError, ConnectorHttp } from "@tkbridge/core"
import { Clock, Context, Duration, Effect, Either, Option, Redacted, Schema } from "effect"
import type { MemoryConfig } from "./MemoryConfig.ts"
import * as MemoryError from "./MemoryError.ts"
import { TokenError, TokenResponse } from "./MemorySchema.ts"

/** One API call. `query` values that are `undefined` are left out. */
export interface ApiRequest {
  readonly method: "GET" | "POST"
  /** The path under the base URL, ids already encoded (see `segment`). */
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>> | undefined
  readonly body?: unknown
}

/** The client of one connection. */
export interface MemoryClientShape {
  readonly config: MemoryConfig
  readonly connection: string
  readonly http: ConnectorHttp.ConnectorHttpClient
  /** One authenticated API call, its 2xx body decoded with `schema`. */
  readonly api: <A, I>(
    request: ApiRequest,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<A, ConnectorError.ConnectorError>
  /** One token-endpoint call with these form fields (client credentials are added). */
  readonly token: (
    form: Readonly<Record<string, string>>
  ) => Effect.Effect<TokenResponse, ConnectorError.ConnectorError>
}

/** The Memory client of the connection, for calls beyond the contract. */
export class MemoryClient extends Context.Tag("@tkbridge/connector-memory/MemoryClient")<
  MemoryClient,
  MemoryClientShape
>() {}

/** Encodes one path segment (ids, references). */
export const segment = (value: string): string => encodeURIComponent(value)

const decodeTokenError = Schema.decodeUnknownEither(Schema.parseJson(TokenError))

/** Builds the client for one connection. */
export const make = (
  config: MemoryConfig
): Effect.Effect<
  MemoryClientShape,
  never,
  HttpClient.HttpClient | AccessToken.AccessToken | Connector.ConnectionContext
> =>
  Effect.gen(function* () {
    const tokens = yield* AccessToken.AccessToken
    const context = yield* Effect.serviceOption(Connector.ConnectionContext)
    const connection = Option.match(context, { onNone: () => "memory", onSome: (c) => c.connection })
    const base = config.baseUrl.replace(/\/+$/, "")
    const http = yield* ConnectorHttp.make({
      connection,
      timeout: Duration.millis(config.timeoutMs),
      secrets: [config.clientSecret, config.webhookSecret]
    })

    const build = (request: ApiRequest) => {
      const query = Object.entries(request.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)
      const url = base + request.path
      const req = (request.method === "GET" ? HttpClientRequest.get(url) : HttpClientRequest.post(url)).pipe(
        HttpClientRequest.setUrlParams(query),
        HttpClientRequest.acceptJson
      )
      return request.body === undefined ? req : HttpClientRequest.bodyUnsafeJson(req, request.body)
    }

    const api = <A, I>(request: ApiRequest, schema: Schema.Schema<A, I>) =>
      AccessToken.withToken((token) =>
        Effect.gen(function* () {
          const result = yield* http.send(HttpClientRequest.bearerToken(build(request), token.accessToken), {
            secrets: [token.accessToken]
          })
          if (result.status < 200 || result.status >= 300) {
            return yield* Effect.fail(MemoryError.fromResponse(result, yield* Clock.currentTimeMillis, connection))
          }
          return yield* ConnectorHttp.decodeJson(schema, result, connection)
        })
      ).pipe(Effect.provideService(AccessToken.AccessToken, tokens))

    const token = (form: Readonly<Record<string, string>>) =>
      Effect.gen(function* () {
        const request = HttpClientRequest.post(`${base}/oauth/token`).pipe(
          HttpClientRequest.bodyUrlParams({
            ...form,
            client_id: config.clientId,
            client_secret: Redacted.value(config.clientSecret)
          }),
          HttpClientRequest.acceptJson
        )
        // The code and refresh token in the form are secrets of this call.
        const result = yield* http.send(request, { secrets: Object.values(form) })
        const oauth = decodeTokenError(result.text)
        const ok = result.status >= 200 && result.status < 300
        // Token endpoints also refuse with a 200 whose body is an OAuth error instead of a token.
        if (ok && Either.isLeft(oauth)) return yield* ConnectorHttp.decodeJson(TokenResponse, result, connection)
        const now = yield* Clock.currentTimeMillis
        const common = { connection, httpStatus: result.status, exchange: result.exchange }
        if (Either.isRight(oauth) && (ok || (result.status < 500 && result.status !== 429))) {
          const { error, error_description: description = error } = oauth.right
          // invalid_grant: the code or refresh token is used, expired or revoked — the seller must authorize again.
          return yield* Effect.fail(
            error === "invalid_grant"
              ? new ConnectorError.AuthRevoked({ ...common, code: error, message: description })
              : new ConnectorError.Rejected({ ...common, code: error, message: description })
          )
        }
        return yield* Effect.fail(MemoryError.fromResponse(result, now, connection))
      })

    return { config, connection, http, api, token } satisfies MemoryClientShape
  })
