/**
 * TikTokShopAuth: the `auth` service (OAuth 2-like seller authorization) of the TikTok Shop
 * connector.
 *
 * - `authorizeUrl`: the Partner Center link `…/open/authorize?service_id=…&state=…` (the redirect
 *   URL is registered in Partner Center, not passed), or the legacy `…/oauth/authorize?app_key=…`.
 * - `exchange`: `GET {auth host}/api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code`
 *   (plain GET, unsigned), then Get Authorized Shops to learn the shop's `shop_cipher`, which is
 *   stored in `TokenSet.extra` with the shop id, name and region.
 * - `refresh`: `GET {auth host}/api/v2/token/refresh?…&grant_type=refresh_token`. Whatever refresh
 *   token comes back is kept (rotation is undocumented); the shop extras carry over.
 *
 * Expiries (`access_token_expire_in`, `refresh_token_expire_in`) are absolute Unix seconds, read
 * from the response — never assumed. Token-endpoint errors come as HTTP 200 with a non-zero code.
 * The grant codes (`36004001` refresh token expired, `36004004` bad auth code, `36004005` no such
 * authorization) fail `AuthRevoked`: the seller has to authorize again. Anything else the token host
 * refuses (a wrong `app_key`/`app_secret`, a wrong `authBaseUrl`) is the app's configuration and
 * stays `Rejected`, because pausing the connection for a new authorization would not fix it.
 *
 * @see https://partner.tiktokshop.com/docv2/page/678e3a2dbd083702fd17455c (Authorization guide 202309)
 * @since 0.1.0
 */
import { HttpClientRequest } from "@effect/platform"
import type { Connector } from "@tkbridge/core"
import { AccessToken, ConnectorError as Errors } from "@tkbridge/core"
import { Effect, Redacted } from "effect"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import * as Wire from "./TikTokShopSchema.ts"

/** Token endpoint paths on the auth host. */
export const tokenPaths = { get: "/api/v2/token/get", refresh: "/api/v2/token/refresh" } as const

/** Values below this are durations, not timestamps (1 Jan 2001): read defensively, as TikTok documents absolute times. */
const absoluteThreshold = 978_307_200

const expiry = (value: number | undefined, now: number): Date | undefined => {
  if (value === undefined || value <= 0) return undefined
  return value < absoluteThreshold ? new Date(now + value * 1000) : new Date(value * 1000)
}

/** Builds a `TokenSet` from token-endpoint data. */
export const toTokenSet = (
  data: Wire.TokenData,
  now: number,
  extra: Readonly<Record<string, string>>,
  previous?: AccessToken.TokenSet
): AccessToken.TokenSet => {
  const details: Record<string, string> = { ...extra }
  if (data.open_id) details.open_id = data.open_id
  if (data.seller_name) details.seller_name = data.seller_name
  if (data.seller_base_region) details.seller_base_region = data.seller_base_region
  if (data.user_type !== undefined) details.user_type = String(data.user_type)
  const refreshToken = data.refresh_token ? Redacted.make(data.refresh_token) : previous?.refreshToken
  return new AccessToken.TokenSet({
    accessToken: Redacted.make(data.access_token),
    refreshToken,
    expiresAt: expiry(data.access_token_expire_in, now),
    refreshExpiresAt: expiry(data.refresh_token_expire_in, now) ?? previous?.refreshExpiresAt,
    issuedAt: new Date(now),
    scopes: data.granted_scopes ?? previous?.scopes ?? [],
    extra: details
  })
}

/** A token-host complaint about the app's own credentials. */
const credentialsMessage = /app_key|app_secret|app key|app secret/i

/**
 * What a failed refresh means, keyed on the token host's codes (reference §2.3): the grant codes
 * `36004xxx` are already `AuthRevoked` and stay so, as does a token the host calls invalid
 * (`AuthExpired` has no meaning on a refresh). Any other refusal (`36009004` for a wrong `app_key`
 * or `app_secret`, a 404 from a wrong `authBaseUrl`) is the app's configuration: `Rejected`.
 * Transient failures and rate limits pass through, so the refresh is tried again.
 */
const refreshFailure = (error: Errors.ConnectorError, connection?: string): Errors.ConnectorError => {
  const common = { connection, httpStatus: error.httpStatus, exchange: error.exchange }
  if (error._tag === "AuthRevoked") return error
  if (error._tag === "AuthExpired") {
    return new Errors.AuthRevoked({
      ...common,
      code: error.code,
      message: `the token host refused the token: the seller must authorize again. ${error.message}`
    })
  }
  if (error._tag === "Rejected" || error._tag === "NotFound") {
    return new Errors.Rejected({
      ...common,
      code: error.code ?? "token_refresh_refused",
      message: credentialsMessage.test(error.message)
        ? `the token host rejected the app's credentials: check appKey and appSecret (authorizing the seller again will not help). ${error.message}`
        : `the token host refused the refresh request for a reason other than the grant: check appKey, appSecret and authBaseUrl (authorizing the seller again will not help). ${error.message}`
    })
  }
  return error
}

/** Builds the auth service on a client. */
export const make = (client: TikTokShopClientShape): Connector.OAuth2 => {
  const { config, connection, http } = client
  const authBase = config.authBaseUrl.replace(/\/+$/, "")

  const tokenCall = (
    path: string,
    params: Readonly<Record<string, string>>,
    secret: string
  ): Effect.Effect<Wire.TokenData, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const now = yield* client.now
      const request = HttpClientRequest.get(authBase + path).pipe(
        HttpClientRequest.setUrlParams({
          app_key: config.appKey,
          app_secret: Redacted.value(config.appSecret),
          ...params
        })
      )
      const result = yield* http.send(request, { secrets: [secret] })
      return yield* client.interpret(result, Wire.TokenData, now)
    })

  const authorizeUrl = (input: { readonly state: string; readonly redirectUri: string }): string => {
    const state = input.state.trim()
    if (config.authorizeLink === "service" && config.serviceId !== undefined) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set("service_id", config.serviceId)
      url.searchParams.set("state", state)
      return url.toString()
    }
    const url = new URL(`${authBase}/oauth/authorize`)
    url.searchParams.set("app_key", config.appKey)
    url.searchParams.set("state", state)
    return url.toString()
  }

  const chooseShop = (
    shops: ReadonlyArray<Wire.AuthorizedShop>
  ): Effect.Effect<Wire.AuthorizedShop, Errors.ConnectorError> => {
    const list = shops.map((s) => `${s.id}${s.name ? ` (${s.name}${s.region ? `, ${s.region}` : ""})` : ""}`).join(", ")
    if (config.shopId !== undefined) {
      const found = shops.find((s) => s.id === config.shopId)
      return found
        ? Effect.succeed(found)
        : Effect.fail(
            new Errors.Rejected({
              code: "shop_not_authorized",
              connection,
              message: `shop ${config.shopId} is not among the shops this authorization covers: ${list || "none"}`
            })
          )
    }
    const [only, ...others] = shops
    if (only !== undefined && others.length === 0) return Effect.succeed(only)
    return Effect.fail(
      new Errors.Rejected({
        code: "shop_ambiguous",
        connection,
        message:
          only === undefined
            ? "the authorization covers no shop"
            : `the authorization covers several shops (${list}); set shopId in the connection config`
      })
    )
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
          message:
            params.error === "auth_denied"
              ? "the seller declined the authorization"
              : `authorization failed: ${params.error}`
        })
      }
      const code = params.code
      if (code === undefined || code === "" || code === "null") {
        return yield* new Errors.Rejected({ code: "missing_code", connection, message: "the callback carries no code" })
      }
      const now = yield* client.now
      const data = yield* tokenCall(tokenPaths.get, { auth_code: code, grant_type: "authorized_code" }, code)
      const provisional = toTokenSet(data, now, {})
      const shops = yield* client.callWith(provisional, {
        method: "GET",
        path: client.path("shops"),
        shopScoped: false,
        data: Wire.ShopsData
      })
      const shop = yield* chooseShop(shops.shops ?? [])
      const extra: Record<string, string> = { shop_id: shop.id, shop_cipher: shop.cipher }
      if (shop.name) extra.shop_name = shop.name
      if (shop.region) extra.shop_region = shop.region
      if (shop.code) extra.shop_code = shop.code
      return toTokenSet(data, now, extra)
    })

  const refresh = (tokens: AccessToken.TokenSet): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const refreshToken = tokens.refreshToken === undefined ? "" : Redacted.value(tokens.refreshToken)
      if (refreshToken.trim() === "") {
        return yield* new Errors.AuthRevoked({
          connection,
          message: "no refresh token: the seller must authorize again"
        })
      }
      const now = yield* client.now
      const data = yield* tokenCall(
        tokenPaths.refresh,
        { refresh_token: refreshToken, grant_type: "refresh_token" },
        refreshToken
      )
      return toTokenSet(data, now, tokens.extra, tokens)
    }).pipe(Effect.mapError((e) => refreshFailure(e, connection)))

  return { authorizeUrl, exchange, refresh }
}
