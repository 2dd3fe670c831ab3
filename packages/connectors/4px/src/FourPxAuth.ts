/**
 * FourPxAuth: the `auth` service (OAuth 2) of the 4PX connector, for software-vendor apps that act
 * for a 4PX customer (`auth.mode: oauth`). Direct customers (`apiKey` mode) never need it.
 *
 * - `authorizeUrl`: `GET {host}/authorize/get?client_id=<app_key>&response_type=code&redirect_uri=…`
 *   (plus `state`, which standard OAuth echoes back; 4PX does not document it).
 * - `exchange`: `POST {host}/accessToken/get` as `application/x-www-form-urlencoded` with
 *   `client_id`, `client_secret`, `grant_type=authorization_code`, `code`, `redirect_uri`.
 * - `refresh`: the same URL with `grant_type=refresh_token` (configurable: one SDK spells it
 *   `refreshToken`) and `refresh_token`.
 *
 * `expires_in` is in milliseconds; an answer without it gets the documented 7 days. The refresh
 * token lives a year; the
 * response does not say so, so its expiry comes from `refresh_token_expires_in` when present and
 * from the configured lifetime otherwise. A refresh the token host refuses fails `AuthRevoked`: the
 * customer has to authorize again.
 *
 * @see http://open.4px.com/apiInfo/partner
 * @since 0.1.0
 */
import { HttpClientRequest } from "@effect/platform"
import type { Connector } from "@tkbridge/core"
import { AccessToken, ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Effect, Option, Redacted, Schema } from "effect"
import type { FourPxClientShape } from "./FourPxClient.ts"
import { authBaseOf } from "./FourPxConfig.ts"
import * as FourPxError from "./FourPxError.ts"
import { Envelope, normaliseError, TokenData, unwrapData } from "./FourPxSchema.ts"

/** OAuth paths on the FOP host. */
export const oauthPaths = { authorize: "/authorize/get", token: "/accessToken/get" } as const

const day = 86_400_000

/** How long an access token lives when the token answer states no `expires_in` (documented: 7 days). */
export const accessTokenLifetimeMs = 7 * day

/** Builds a `TokenSet` from a token response. `expires_in` and `refresh_token_expires_in` are milliseconds. */
export const toTokenSet = (
  data: TokenData,
  now: number,
  refreshTtlDays: number,
  previous?: AccessToken.TokenSet
): AccessToken.TokenSet => {
  const returned = data.refresh_token ?? undefined
  // A refresh that hands back the same refresh token does not extend its life.
  const fresh =
    returned !== undefined &&
    returned !== "" &&
    (previous?.refreshToken === undefined || Redacted.value(previous.refreshToken) !== returned)
  const refreshToken = fresh ? Redacted.make(returned) : previous?.refreshToken
  const refreshLifetime = data.refresh_token_expires_in ?? undefined
  const refreshExpiresAt =
    refreshLifetime !== undefined && refreshLifetime > 0
      ? new Date(now + refreshLifetime)
      : fresh
        ? new Date(now + refreshTtlDays * day)
        : previous?.refreshExpiresAt
  const stated = data.expires_in ?? undefined
  // Without an expiry the token would look valid forever and only a refused call would renew it.
  const lifetime = stated !== undefined && stated > 0 ? stated : accessTokenLifetimeMs
  return new AccessToken.TokenSet({
    accessToken: Redacted.make(data.access_token),
    refreshToken,
    expiresAt: new Date(now + lifetime),
    refreshExpiresAt,
    issuedAt: new Date(now),
    scopes: previous?.scopes ?? [],
    extra: previous?.extra ?? {}
  })
}

/** Reads a token response: the fields at the top level, or inside a FOP envelope's `data`. */
export const readToken = (
  result: ConnectorHttp.HttpResult,
  now: number,
  context: FourPxError.ErrorContext,
  connection: string | undefined
): Effect.Effect<TokenData, Errors.ConnectorError> => {
  const transient = (message: string) =>
    Effect.fail(new Errors.Transient({ message, connection, httpStatus: result.status, exchange: result.exchange }))
  let json: unknown
  try {
    json = result.text.trim() === "" ? undefined : JSON.parse(result.text)
  } catch {
    json = undefined
  }
  if (json === undefined || typeof json !== "object" || json === null) {
    const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
    if (byStatus !== undefined) return Effect.fail(byStatus)
    return transient(`4PX token endpoint: HTTP ${result.status} with a body that is not JSON`)
  }
  const direct = Schema.decodeUnknownOption(TokenData)(json)
  if (Option.isSome(direct) && result.status === 200) return Effect.succeed(direct.value)
  const envelope = Schema.decodeUnknownOption(Envelope)(json)
  if (Option.isSome(envelope)) {
    const env = envelope.value
    if (env.result === "1") {
      const inner = Schema.decodeUnknownOption(TokenData)(unwrapData(env.data))
      if (Option.isSome(inner)) return Effect.succeed(inner.value)
      return transient("4PX token endpoint answered success without an access_token")
    }
    const failure: FourPxError.Failure = {
      method: "accessToken/get",
      errors: (env.errors ?? []).map(normaliseError),
      msg: env.msg ?? undefined,
      httpStatus: result.status,
      exchange: result.exchange,
      connection
    }
    const mapped = FourPxError.fromFailure(failure, context)
    // Only waiting can cure a busy or failing token host; any other refusal is final for this grant.
    if (mapped._tag === "RateLimited" || mapped._tag === "Transient") return Effect.fail(mapped)
    return Effect.fail(
      new Errors.Rejected({
        code: mapped.code ?? "unknown",
        connection,
        httpStatus: result.status,
        exchange: result.exchange,
        message: `4PX token endpoint refused the request: ${FourPxError.describe(failure)}`
      })
    )
  }
  const oauthError = json as { readonly error?: unknown; readonly error_description?: unknown }
  if (typeof oauthError.error === "string") {
    return Effect.fail(
      new Errors.Rejected({
        code: oauthError.error,
        connection,
        httpStatus: result.status,
        exchange: result.exchange,
        message: `4PX token endpoint: ${oauthError.error}${typeof oauthError.error_description === "string" ? `: ${oauthError.error_description}` : ""}`
      })
    )
  }
  const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
  if (byStatus !== undefined) return Effect.fail(byStatus)
  return transient("4PX token endpoint answered without an access_token")
}

/** Builds the auth service on a client. */
export const make = (client: FourPxClientShape): Connector.OAuth2 => {
  const { config, connection, http } = client
  const authBase = authBaseOf(config)
  const refreshTtlDays = config.auth.mode === "oauth" ? config.auth.refreshTokenTtlDays : 365
  const refreshGrant = config.auth.mode === "oauth" ? config.auth.refreshGrantType : "refresh_token"
  // Token-endpoint codes are never "refresh and retry": that is what is being done.
  const context: FourPxError.ErrorContext = { ...client.errorContext, mode: "apiKey", tokenExpiredCodes: [] }

  const tokenCall = (
    form: Readonly<Record<string, string>>,
    secret: string
  ): Effect.Effect<TokenData, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const request = HttpClientRequest.post(authBase + oauthPaths.token).pipe(
        HttpClientRequest.bodyUrlParams({
          client_id: config.appKey,
          client_secret: Redacted.value(config.appSecret),
          ...form
        })
      )
      const result = yield* http.send(request, { secrets: [secret] })
      return yield* readToken(result, now, context, connection)
    })

  const authorizeUrl = (input: { readonly state: string; readonly redirectUri: string }): string => {
    const url = new URL(authBase + oauthPaths.authorize)
    url.searchParams.set("client_id", config.appKey)
    url.searchParams.set("response_type", "code")
    url.searchParams.set("redirect_uri", input.redirectUri)
    url.searchParams.set("state", input.state.trim())
    return url.toString()
  }

  const exchange = (input: {
    readonly params: Readonly<Record<string, string>>
    readonly redirectUri: string
  }): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const { params } = input
      if (params.error !== undefined) {
        return yield* new Errors.Rejected({
          code: params.error,
          connection,
          message: `4PX authorization failed: ${params.error}${params.error_description ? ` (${params.error_description})` : ""}`
        })
      }
      const code = params.code
      if (code === undefined || code.trim() === "") {
        return yield* new Errors.Rejected({ code: "missing_code", connection, message: "the callback carries no code" })
      }
      const now = yield* Clock.currentTimeMillis
      const data = yield* tokenCall({ grant_type: "authorization_code", code, redirect_uri: input.redirectUri }, code)
      return toTokenSet(data, now, refreshTtlDays)
    })

  const refresh = (tokens: AccessToken.TokenSet): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Effect.gen(function* () {
      if (tokens.refreshToken === undefined) {
        return yield* new Errors.AuthRevoked({
          connection,
          message: "no refresh token: the customer must authorize again"
        })
      }
      const now = yield* Clock.currentTimeMillis
      if (tokens.refreshExpiresAt !== undefined && tokens.refreshExpiresAt.getTime() <= now) {
        return yield* new Errors.AuthRevoked({
          connection,
          message: `the 4PX authorization expired on ${tokens.refreshExpiresAt.toISOString()}: the customer must authorize again`
        })
      }
      const refreshToken = Redacted.value(tokens.refreshToken)
      const data = yield* tokenCall({ grant_type: refreshGrant, refresh_token: refreshToken }, refreshToken)
      return toTokenSet(data, now, refreshTtlDays, tokens)
    }).pipe(
      Effect.catchIf(
        (e) => e._tag === "Rejected" || e._tag === "AuthExpired" || e._tag === "NotFound" || e._tag === "ScopeMissing",
        (e) =>
          Effect.fail(
            new Errors.AuthRevoked({
              message: `4PX token refresh refused: ${e.message}`,
              connection,
              code: e.code,
              httpStatus: e.httpStatus,
              exchange: e.exchange
            })
          )
      )
    )

  return { authorizeUrl, exchange, refresh }
}
