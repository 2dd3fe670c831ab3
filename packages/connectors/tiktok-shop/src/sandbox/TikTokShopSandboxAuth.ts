/**
 * The TikTok Shop sandbox's auth host: the seller consent page and the token endpoints.
 *
 * - `GET /open/authorize?service_id=…&state=…` (and the legacy `GET /oauth/authorize?app_key=…`)
 *   stands in for the seller's consent: it redirects to the app's registered redirect URL with
 *   `code` and `state` (or `code=null&error=auth_denied`).
 * - `GET /api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code`: auth codes are
 *   single-use and live 30 minutes; access tokens live 7 days; the refresh token lives as long as
 *   the authorization (365 days). Expiries are absolute Unix seconds.
 * - `GET /api/v2/token/refresh?…&grant_type=refresh_token` (the official Node SDK's
 *   `authorized_code` is accepted too).
 *
 * Errors answer HTTP 200 with a non-zero code (`36004005` unknown code or refresh token,
 * `36004004` used or expired code, `36004001` expired refresh token); anything but GET on these
 * paths is a 404 "page not found", as observed.
 *
 * @since 0.1.0
 */
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import type { IdSource } from "./TikTokShopSandboxIds.ts"
import { requestId } from "./TikTokShopSandboxIds.ts"
import type { AccessTokenRecord, Grant, World } from "./TikTokShopSandboxState.ts"

/** Token lifetimes and app identity. */
export interface AuthOptions {
  readonly appKey: string
  readonly appSecret: string
  readonly serviceId: string
  readonly redirectUrl: string | undefined
  readonly seller: { readonly openId: string; readonly name: string; readonly baseRegion: string }
  readonly accessTokenTtlMs: number
  readonly refreshTokenTtlMs: number
  readonly authCodeTtlMs: number
  readonly rotateRefreshToken: boolean
  readonly clock: SandboxClock.SandboxClock
  readonly ids: IdSource
  readonly world: World
  /** Scopes a new grant holds (read when the grant is made). */
  readonly scopes: () => ReadonlyArray<string>
  /** What the consent page answers: the seller approves or declines. */
  readonly consent: () => "approve" | "deny"
}

/** A grant and its first access token, as issued. */
export interface Issued {
  readonly grant: Grant
  readonly token: AccessTokenRecord
}

/** Issues codes, grants and tokens, and serves the auth host. */
export class AuthServer {
  readonly options: AuthOptions
  /** Requests that reached the refresh endpoint (successful or not). */
  refreshRequests = 0

  constructor(options: AuthOptions) {
    this.options = options
  }

  /** A fresh single-use auth code covering `shopIds`. */
  issueCode(shopIds: ReadonlyArray<string>): string {
    const { world, ids, clock, authCodeTtlMs } = this.options
    const code = `ROW_${ids.token(40)}`
    world.authCodes.set(code, { code, shopIds: [...shopIds], expiresAt: clock.now() + authCodeTtlMs, used: false })
    return code
  }

  private newAccessToken(grant: Grant): AccessTokenRecord {
    const { world, ids, clock, accessTokenTtlMs } = this.options
    const token: AccessTokenRecord = {
      value: `TTP_${ids.token(43)}`,
      grantId: grant.id,
      expiresAt: clock.now() + accessTokenTtlMs
    }
    world.accessTokens.set(token.value, token)
    return token
  }

  /** Redeems a code: the authorization (grant) and its first access token, or a TikTok error code. */
  redeem(code: string): Issued | { readonly code: number; readonly message: string } {
    const { world, ids, clock, refreshTokenTtlMs, seller } = this.options
    const record = world.authCodes.get(code)
    if (record === undefined) return { code: 36004005, message: "can not find related auth record" }
    if (record.used) return { code: 36004004, message: "invalid auth code: the code has been used" }
    if (clock.now() >= record.expiresAt) return { code: 36004004, message: "invalid auth code: the code has expired" }
    record.used = true
    const grant: Grant = {
      id: ids.id(),
      openId: seller.openId,
      shopIds: new Set(record.shopIds),
      scopes: [...this.options.scopes()],
      refreshToken: `TTP_${ids.token(43)}`,
      refreshExpiresAt: clock.now() + refreshTokenTtlMs,
      createdAt: clock.now(),
      revoked: false
    }
    world.grants.set(grant.id, grant)
    return { grant, token: this.newAccessToken(grant) }
  }

  private tokenData(issued: Issued) {
    const { seller } = this.options
    return {
      access_token: issued.token.value,
      access_token_expire_in: Math.floor(issued.token.expiresAt / 1000),
      refresh_token: issued.grant.refreshToken,
      refresh_token_expire_in: Math.floor(issued.grant.refreshExpiresAt / 1000),
      open_id: issued.grant.openId,
      seller_name: seller.name,
      seller_base_region: seller.baseRegion,
      user_type: 0,
      granted_scopes: issued.grant.scopes
    }
  }

  private envelope(code: number, message: string, data: unknown): SandboxServer.SandboxResponse {
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        code,
        message,
        data,
        request_id: requestId(this.options.ids, this.options.clock.now())
      })
    }
  }

  private credentialsError(query: URLSearchParams): SandboxServer.SandboxResponse | undefined {
    if (query.get("app_key") !== this.options.appKey || query.get("app_secret") !== this.options.appSecret) {
      return this.envelope(36009004, "Invalid credentials. Invalid 'app_key' or 'app_secret'.", null)
    }
    return undefined
  }

  private tokenGet(query: URLSearchParams): SandboxServer.SandboxResponse {
    const bad = this.credentialsError(query)
    if (bad) return bad
    if (query.get("grant_type") !== "authorized_code") {
      return this.envelope(36009004, "Invalid grant_type: must be authorized_code.", null)
    }
    const code = query.get("auth_code")
    if (code === null || code === "") return this.envelope(36009004, "auth_code is required.", null)
    const issued = this.redeem(code)
    if ("code" in issued) return this.envelope(issued.code, issued.message, null)
    return this.envelope(0, "success", this.tokenData(issued))
  }

  /** Refreshes by refresh token: a new access token (and a new refresh token when rotation is on). */
  refresh(refreshToken: string): Issued | { readonly code: number; readonly message: string } {
    const { world, clock, ids } = this.options
    const grant = [...world.grants.values()].find((g) => g.refreshToken === refreshToken)
    if (grant === undefined || grant.revoked) return { code: 36004005, message: "can not find related auth record" }
    if (clock.now() >= grant.refreshExpiresAt) return { code: 36004001, message: "rt has expired" }
    if (this.options.rotateRefreshToken) grant.refreshToken = `TTP_${ids.token(43)}`
    return { grant, token: this.newAccessToken(grant) }
  }

  private tokenRefresh(query: URLSearchParams): SandboxServer.SandboxResponse {
    this.refreshRequests += 1
    const bad = this.credentialsError(query)
    if (bad) return bad
    const grantType = query.get("grant_type")
    // The official Node SDK sends `authorized_code` on refresh too.
    if (grantType !== "refresh_token" && grantType !== "authorized_code") {
      return this.envelope(36009004, "Invalid grant_type: must be refresh_token.", null)
    }
    const refreshToken = query.get("refresh_token")
    if (refreshToken === null || refreshToken === "") return this.envelope(36009004, "refresh_token is required.", null)
    const issued = this.refresh(refreshToken)
    if ("code" in issued) return this.envelope(issued.code, issued.message, null)
    return this.envelope(0, "success", this.tokenData(issued))
  }

  private authorize(query: URLSearchParams, legacy: boolean): SandboxServer.SandboxResponse {
    const known = legacy
      ? query.get("app_key") === this.options.appKey
      : query.get("service_id") === this.options.serviceId
    if (!known) {
      return {
        status: 400,
        headers: { "content-type": "text/plain" },
        body: "Unknown app: check service_id / app_key."
      }
    }
    const state = query.get("state")?.trim()
    const params = new URLSearchParams()
    if (this.options.consent() === "deny") {
      params.set("code", "null")
      params.set("error", "auth_denied")
    } else {
      params.set("code", this.issueCode([...this.options.world.shops.keys()]))
    }
    if (state) params.set("state", state)
    if (this.options.redirectUrl === undefined) {
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Object.fromEntries(params))
      }
    }
    const target = new URL(this.options.redirectUrl)
    for (const [k, v] of params) target.searchParams.set(k, v)
    return { status: 302, headers: { location: target.toString() }, body: "" }
  }

  /** The auth host's routes. */
  routes(): ReadonlyArray<SandboxServer.Route> {
    const notFound = (): SandboxServer.SandboxResponse => ({
      status: 404,
      headers: { "content-type": "text/plain" },
      body: "404 page not found"
    })
    return [
      { name: "token.get", method: "GET", path: "/api/v2/token/get", handler: (r) => this.tokenGet(r.query) },
      {
        name: "token.refresh",
        method: "GET",
        path: "/api/v2/token/refresh",
        handler: (r) => this.tokenRefresh(r.query)
      },
      { name: "authorize", method: "GET", path: "/open/authorize", handler: (r) => this.authorize(r.query, false) },
      {
        name: "authorize.legacy",
        method: "GET",
        path: "/oauth/authorize",
        handler: (r) => this.authorize(r.query, true)
      },
      { name: "auth.unknown", method: "*", path: /.*/, handler: notFound }
    ]
  }
}
