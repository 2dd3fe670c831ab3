/**
 * ShopifyAuth: the `auth` service of the Shopify connector — the OAuth authorization-code install
 * with expiring offline tokens.
 *
 * - `authorizeUrl`: `https://<shop>/admin/oauth/authorize?client_id&scope&redirect_uri&state`
 *   (no `grant_options[]`, so the token is an offline one). `scope` is the minimal union of the
 *   capabilities' scopes unless the config names its own.
 * - `exchange`: checks the callback before anything else — the HMAC over the sorted query (hex
 *   HMAC-SHA256 with the client secret, compared in constant time), the `timestamp` within ±90 s,
 *   the `shop` being this connection's shop and a `state` being present (the runner compares it with
 *   the one it issued; `verifyCallback` does both for other callers) — then trades the code at
 *   `POST /admin/oauth/access_token` with `expiring: "1"`.
 * - `refresh`: `grant_type=refresh_token`. Shopify rotates the refresh token on every refresh, so
 *   the new pair replaces the old one as a whole. A refused refresh is `AuthRevoked`: the merchant
 *   has to install again.
 * - `migrate`: turns a legacy non-expiring offline token into an expiring pair (token exchange).
 *
 * Lifetimes (`expires_in`, `refresh_token_expires_in`) are read from each answer, never assumed.
 *
 * @see https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
 * @see https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { HttpClientRequest } from "@effect/platform"
import type { Connector } from "@tkbridge/core"
import { AccessToken, ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Effect, Option, Redacted, Schema } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import { adminBase } from "./ShopifyConfig.ts"
import { TokenResponse } from "./ShopifySchema.ts"

/** OAuth endpoint paths on the shop's admin host (unversioned). */
export const paths = { authorize: "/admin/oauth/authorize", token: "/admin/oauth/access_token" } as const

/** The minimal scopes each capability needs (a `write_*` scope implies its `read_*`). */
export const capabilityScopes = {
  "catalog.pull": ["read_products"],
  "stock.push": ["write_inventory"],
  "stock.pull": ["read_inventory"],
  // read_products: a line's variant (how a line without a SKU is still named) is a product type.
  "orders.pull": ["read_orders", "read_products"],
  "orders.webhook": ["read_orders"],
  "fulfillment.push": ["read_orders", "write_merchant_managed_fulfillment_orders"],
  "locations.pull": ["read_locations"]
} as const satisfies Readonly<Record<string, ReadonlyArray<string>>>

/** The union of the scopes of every capability, sorted. */
export const defaultScopes: ReadonlyArray<string> = [...new Set(Object.values(capabilityScopes).flat())].sort()

/** `grant_type` of the token exchange that migrates a non-expiring token. */
export const tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
/** Token type of an offline access token in a token exchange. */
export const offlineTokenType = "urn:shopify:params:oauth:token-type:offline-access-token"

/**
 * The query string Shopify signs: `hmac` and `signature` dropped, keys sorted, values
 * URL-encoded with spaces as `%20`, arrays as `key[]` (as `@shopify/shopify-api` builds it).
 */
export const signedQueryString = (params: Readonly<Record<string, string | ReadonlyArray<string>>>): string => {
  const search = new URLSearchParams()
  for (const key of Object.keys(params).sort((a, b) => a.localeCompare(b))) {
    if (key === "hmac" || key === "signature") continue
    const value = params[key]!
    if (typeof value === "string") search.append(key, value)
    else for (const v of value) search.append(`${key}[]`, v)
  }
  return search.toString().replace(/\+/g, "%20")
}

/** The hex HMAC-SHA256 Shopify puts in `hmac` on install links and OAuth callbacks. */
export const queryHmac = (params: Readonly<Record<string, string | ReadonlyArray<string>>>, secret: string): string =>
  createHmac("sha256", secret).update(signedQueryString(params)).digest("hex")

/** Compares two strings in constant time (different lengths compare unequal without leaking where). */
export const safeEqual = (a: string, b: string): boolean => {
  const left = Buffer.from(a, "utf8")
  const right = Buffer.from(b, "utf8")
  if (left.length !== right.length) {
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}

/** Why a callback was refused. */
export type CallbackProblem = "missing_hmac" | "bad_hmac" | "stale" | "wrong_shop" | "bad_state" | "missing_code"

/** The outcome of checking an OAuth callback. */
export type CallbackCheck =
  | { readonly ok: true; readonly code: string; readonly shop: string }
  | { readonly ok: false; readonly problem: CallbackProblem; readonly message: string }

/**
 * Checks an OAuth callback's query: HMAC (constant time, current or previous secret), timestamp
 * within `maxAgeSeconds` of `now`, the shop, the `state` (against `expectedState` when given,
 * otherwise only that one is present) and the code.
 */
export const verifyCallback = (input: {
  readonly params: Readonly<Record<string, string>>
  readonly secrets: ReadonlyArray<string>
  readonly shop: string
  readonly now: number
  readonly maxAgeSeconds: number
  readonly expectedState?: string | undefined
}): CallbackCheck => {
  const { params } = input
  const refuse = (problem: CallbackProblem, message: string): CallbackCheck => ({ ok: false, problem, message })
  const hmac = params.hmac
  if (hmac === undefined || hmac === "") return refuse("missing_hmac", "the callback carries no hmac")
  const valid = input.secrets.some((secret) => safeEqual(queryHmac(params, secret), hmac.toLowerCase()))
  if (!valid) return refuse("bad_hmac", "the callback's hmac does not match: it was not signed by Shopify for this app")
  const timestamp = Number(params.timestamp)
  if (!Number.isInteger(timestamp)) return refuse("stale", "the callback carries no valid timestamp")
  if (Math.abs(Math.floor(input.now / 1000) - timestamp) > input.maxAgeSeconds) {
    return refuse("stale", `the callback's timestamp is more than ${input.maxAgeSeconds} s away from now`)
  }
  if (params.shop !== input.shop) {
    return refuse("wrong_shop", `the callback is for ${params.shop ?? "no shop"}, this connection is ${input.shop}`)
  }
  const state = params.state
  if (state === undefined || state === "") return refuse("bad_state", "the callback carries no state")
  if (input.expectedState !== undefined && !safeEqual(state, input.expectedState)) {
    return refuse("bad_state", "the callback's state does not match the one this install started with")
  }
  const code = params.code
  if (code === undefined || code === "") return refuse("missing_code", "the callback carries no code")
  return { ok: true, code, shop: params.shop }
}

/** Builds a `TokenSet` from the token endpoint's answer. */
export const toTokenSet = (response: TokenResponse, now: number, shop: string): AccessToken.TokenSet =>
  new AccessToken.TokenSet({
    accessToken: Redacted.make(response.access_token),
    refreshToken: response.refresh_token ? Redacted.make(response.refresh_token) : undefined,
    expiresAt: response.expires_in !== undefined ? new Date(now + response.expires_in * 1000) : undefined,
    refreshExpiresAt:
      response.refresh_token_expires_in !== undefined
        ? new Date(now + response.refresh_token_expires_in * 1000)
        : undefined,
    issuedAt: new Date(now),
    scopes: response.scope
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    extra: { shop, ...(response.refresh_token ? { expiring: "1" } : {}) }
  })

/** The Shopify `auth` service, plus the legacy-token migration. */
export interface ShopifyAuthShape extends Connector.OAuth2 {
  /** Trades a non-expiring offline token for an expiring pair (one way). */
  readonly migrate: (legacy: AccessToken.TokenSet) => Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError>
}

/** Builds the auth service on a client. */
export const make = (client: ShopifyClientShape): ShopifyAuthShape => {
  const { config, connection, http } = client
  const base = adminBase(config)
  const secret = () => Redacted.value(config.clientSecret)
  const secrets = (): ReadonlyArray<string> => [
    secret(),
    ...(config.previousClientSecret ? [Redacted.value(config.previousClientSecret)] : [])
  ]

  const tokenCall = (
    body: Readonly<Record<string, string>>,
    extraSecrets: ReadonlyArray<string>
  ): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const request = HttpClientRequest.post(base + paths.token).pipe(
        HttpClientRequest.setHeader("accept", "application/json"),
        HttpClientRequest.bodyText(
          JSON.stringify({ client_id: config.clientId, client_secret: secret(), ...body }),
          "application/json"
        )
      )
      const result = yield* http.send(request, { secrets: extraSecrets })
      const byStatus = ConnectorHttp.classifyStatus(result, now, connection)
      if (byStatus !== undefined) return yield* Effect.fail(byStatus)
      const response = yield* ConnectorHttp.decodeJson(TokenResponse, result, connection)
      return toTokenSet(response, now, config.shop)
    })

  const authorizeUrl = (input: {
    readonly state: string
    readonly redirectUri: string
    readonly scopes?: ReadonlyArray<string> | undefined
  }): string => {
    const url = new URL(base + paths.authorize)
    url.searchParams.set("client_id", config.clientId)
    // Configured scopes win (a seller may widen them on purpose); else what the flows use.
    url.searchParams.set("scope", (config.scopes ?? input.scopes ?? defaultScopes).join(","))
    url.searchParams.set("redirect_uri", input.redirectUri)
    url.searchParams.set("state", input.state)
    return url.toString()
  }

  const exchange = (input: {
    readonly params: Readonly<Record<string, string>>
    readonly redirectUri: string
  }): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Effect.gen(function* () {
      if (input.params.error !== undefined) {
        return yield* new Errors.Rejected({
          code: input.params.error,
          connection,
          message: `the merchant did not install the app: ${input.params.error_description ?? input.params.error}`
        })
      }
      const now = yield* Clock.currentTimeMillis
      const check = verifyCallback({
        params: input.params,
        secrets: secrets(),
        shop: config.shop,
        now,
        maxAgeSeconds: config.callbackMaxAgeSeconds
      })
      if (!check.ok) return yield* new Errors.Rejected({ code: check.problem, connection, message: check.message })
      return yield* tokenCall(
        { code: check.code, ...(config.expiringTokens ? { expiring: "1" } : { expiring: "0" }) },
        [check.code]
      )
    })

  const revoked = (what: string) => (e: Errors.ConnectorError) =>
    e._tag === "Rejected" || e._tag === "AuthExpired" || e._tag === "NotFound" || e._tag === "ScopeMissing"
      ? Effect.fail(
          new Errors.AuthRevoked({
            message: `${what} refused: ${e.message}`,
            connection,
            code: e.code,
            httpStatus: e.httpStatus,
            exchange: e.exchange
          })
        )
      : Effect.fail(e)

  const refresh = (tokens: AccessToken.TokenSet): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    Option.match(Option.fromNullable(tokens.refreshToken), {
      onNone: () =>
        Effect.fail(
          new Errors.AuthRevoked({
            connection,
            message: "this grant has no refresh token (a non-expiring token): install the app again"
          })
        ),
      onSome: (refreshToken) =>
        tokenCall({ grant_type: "refresh_token", refresh_token: Redacted.value(refreshToken) }, [
          Redacted.value(refreshToken)
        ]).pipe(Effect.catchAll(revoked("token refresh")))
    })

  const migrate = (legacy: AccessToken.TokenSet): Effect.Effect<AccessToken.TokenSet, Errors.ConnectorError> =>
    tokenCall(
      {
        grant_type: tokenExchangeGrant,
        subject_token: AccessToken.reveal(legacy),
        subject_token_type: offlineTokenType,
        requested_token_type: offlineTokenType,
        expiring: "1"
      },
      [AccessToken.reveal(legacy)]
    ).pipe(Effect.catchAll(revoked("token migration")))

  return { authorizeUrl, exchange, refresh, migrate }
}

/** Decodes a token endpoint answer (exported for the sandbox's tests). */
export const decodeTokenResponse = Schema.decodeUnknown(TokenResponse)
