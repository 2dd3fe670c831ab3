/**
 * ShopifySandboxAuth: the sandbox's OAuth server and token store.
 *
 * - `GET /admin/oauth/authorize?client_id&scope&redirect_uri&state[&grant_options[]=per-user]`:
 *   the merchant "installs" at once and is redirected to `redirect_uri` with `code`, `hmac` (hex
 *   HMAC-SHA256 over the sorted query, as Shopify signs it), `host`, `shop`, `state` and
 *   `timestamp`. Codes are single-use and expire after 10 minutes.
 * - `POST /admin/oauth/access_token` (JSON or form): the code grant (`expiring=1` gives a 1-hour
 *   access token with a rotating refresh token, `expiring=0` a classic non-expiring one), the
 *   refresh grant (a new pair every time; the previous refresh token keeps working only until the
 *   replacement is used — Shopify's behaviour since 2026-08-28 — or, with `refreshGrace: false`, is
 *   refused at once) and the token-exchange grant that migrates a non-expiring token (the same pair
 *   comes back for retries).
 *
 * Lifetimes are configurable; defaults follow the reference: access 3,600 s, refresh 90 days.
 *
 * @see https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import { queryHmac, safeEqual, tokenExchangeGrant } from "../ShopifyAuth.ts"

/** An access token the sandbox issued. */
export interface AccessRecord {
  readonly token: string
  readonly scopes: ReadonlyArray<string>
  /** Epoch ms; null for non-expiring offline tokens. */
  expiresAt: number | null
  revoked: boolean
  /** The refresh token issued with it (expiring tokens). */
  readonly refreshToken: string | null
  /** True once the access token was used on the API. */
  used: boolean
}

/** A refresh token the sandbox issued. */
interface RefreshRecord {
  readonly token: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: number
  readonly accessToken: string
  /** `current`: the newest of its chain; `previous`: replaced but still in its grace; `dead`. */
  state: "current" | "previous" | "dead"
  /** The refresh token that replaced it. */
  replacedBy: string | null
  /** The refresh token it replaced (still in grace until this one or its access token is used). */
  readonly replaces: string | null
  used: boolean
}

/** OAuth options of a sandbox. */
export interface AuthOptions {
  readonly shop: string
  readonly clientId: string
  readonly clientSecret: string
  /** Access token lifetime for expiring tokens, in seconds (default 3,600). */
  readonly accessTokenTtlSeconds?: number | undefined
  /** Refresh token lifetime, in seconds (default 90 days; unverified in Shopify's own text). */
  readonly refreshTokenTtlSeconds?: number | undefined
  /** Keep a replaced refresh token usable until its replacement is used (default true). */
  readonly refreshGrace?: boolean | undefined
  /** Refuse non-expiring tokens on the API with 403, as Shopify does for new public apps (default false). */
  readonly requireExpiringTokens?: boolean | undefined
  /** Allowed `redirect_uri` values; any absolute URL when absent. */
  readonly redirectUris?: ReadonlyArray<string> | undefined
}

/** Scopes the sandbox recognises (the ones the connector's schema mentions, and their write forms). */
const knownScope = /^(unauthenticated_)?(read|write)_[a-z_]+$/

const secret = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`

/** The sandbox's token store and OAuth endpoints. */
export class ShopifySandboxAuth {
  readonly accessTokens = new Map<string, AccessRecord>()
  private readonly refreshTokens = new Map<string, RefreshRecord>()
  private readonly codes = new Map<
    string,
    { readonly scopes: ReadonlyArray<string>; readonly expiresAt: number; used: boolean; readonly online: boolean }
  >()
  private readonly migrations = new Map<string, { readonly at: number; readonly response: Record<string, unknown> }>()
  /** Refresh requests that reached the token endpoint. */
  refreshes = 0
  private readonly options: AuthOptions
  private readonly clock: SandboxClock.SandboxClock

  constructor(options: AuthOptions, clock: SandboxClock.SandboxClock) {
    this.options = options
    this.clock = clock
  }

  private get accessTtlMs() {
    return (this.options.accessTokenTtlSeconds ?? 3600) * 1000
  }

  private get refreshTtlMs() {
    return (this.options.refreshTokenTtlSeconds ?? 90 * 24 * 3600) * 1000
  }

  /** Issues a grant directly (tests, the demo): an expiring pair by default. */
  issue(input: {
    readonly scopes: ReadonlyArray<string>
    readonly expiring?: boolean | undefined
  }): Record<string, unknown> {
    return this.grant(input.scopes, input.expiring ?? true, null)
  }

  private grant(scopes: ReadonlyArray<string>, expiring: boolean, replaces: string | null): Record<string, unknown> {
    const now = this.clock.now()
    const accessToken = secret("shpat_")
    if (!expiring) {
      this.accessTokens.set(accessToken, {
        token: accessToken,
        scopes,
        expiresAt: null,
        revoked: false,
        refreshToken: null,
        used: false
      })
      return { access_token: accessToken, scope: scopes.join(",") }
    }
    const refreshToken = secret("shprt_")
    this.accessTokens.set(accessToken, {
      token: accessToken,
      scopes,
      expiresAt: now + this.accessTtlMs,
      revoked: false,
      refreshToken,
      used: false
    })
    this.refreshTokens.set(refreshToken, {
      token: refreshToken,
      scopes,
      expiresAt: now + this.refreshTtlMs,
      accessToken,
      state: "current",
      replacedBy: null,
      replaces,
      used: false
    })
    return {
      access_token: accessToken,
      scope: scopes.join(","),
      expires_in: Math.round(this.accessTtlMs / 1000),
      refresh_token: refreshToken,
      refresh_token_expires_in: Math.round(this.refreshTtlMs / 1000)
    }
  }

  /** The refresh token `token` replaced leaves its grace once `token` (or its access token) is used. */
  private retirePredecessor(refresh: RefreshRecord | undefined) {
    if (refresh === undefined || refresh.replaces === null) return
    const previous = this.refreshTokens.get(refresh.replaces)
    if (previous !== undefined && previous.state === "previous") previous.state = "dead"
  }

  /** Checks an API call's token: the record, or why it is refused. */
  authenticate(
    token: string | undefined
  ):
    | { readonly ok: true; readonly record: AccessRecord }
    | { readonly ok: false; readonly status: 401 | 403; readonly body: object } {
    const invalid = {
      ok: false as const,
      status: 401 as const,
      body: { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" }
    }
    if (token === undefined || token === "") return invalid
    const record = this.accessTokens.get(token)
    if (record === undefined || record.revoked) return invalid
    if (record.expiresAt !== null && record.expiresAt <= this.clock.now()) return invalid
    if (record.expiresAt === null && this.options.requireExpiringTokens) {
      return {
        ok: false,
        status: 403,
        body: {
          errors:
            "Non-expiring access tokens are no longer accepted for the Admin API. Start using expiring offline tokens."
        }
      }
    }
    if (!record.used) {
      record.used = true
      if (record.refreshToken !== null) this.retirePredecessor(this.refreshTokens.get(record.refreshToken))
    }
    return { ok: true, record }
  }

  /** Revokes every token (the app was uninstalled). */
  revokeAll(): void {
    for (const a of this.accessTokens.values()) a.revoked = true
    for (const r of this.refreshTokens.values()) r.state = "dead"
  }

  /** Makes every access token expired now (the refresh tokens stay valid). */
  expireAccessTokens(): void {
    const now = this.clock.now()
    for (const a of this.accessTokens.values()) if (a.expiresAt !== null) a.expiresAt = Math.min(a.expiresAt, now)
  }

  /** `GET /admin/oauth/authorize`. */
  authorize(request: SandboxServer.SandboxRequest): SandboxServer.SandboxResponse {
    const q = request.query
    const page = (status: number, message: string): SandboxServer.SandboxResponse => ({
      status,
      headers: { "content-type": "text/html; charset=utf-8" },
      body: `<!doctype html><title>Oauth error</title><p>Oauth error ${message}</p>`
    })
    if (q.get("client_id") !== this.options.clientId) {
      return page(400, "invalid_request: The client_id provided is invalid")
    }
    const redirectUri = q.get("redirect_uri") ?? ""
    let redirect: URL
    try {
      redirect = new URL(redirectUri)
    } catch {
      return page(400, "invalid_request: The redirect_uri is missing or not an absolute URL")
    }
    if (this.options.redirectUris !== undefined && !this.options.redirectUris.includes(redirectUri)) {
      return page(400, "invalid_request: The redirect_uri is not whitelisted")
    }
    const scopes = (q.get("scope") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
    const unknown = scopes.filter((s) => !knownScope.test(s))
    if (unknown.length > 0) return page(400, `invalid_scope: ${unknown.join(", ")}`)
    const code = randomBytes(16).toString("hex")
    const online = q.getAll("grant_options[]").includes("per-user")
    this.codes.set(code, { scopes, expiresAt: this.clock.now() + 10 * 60 * 1000, used: false, online })
    const params: Record<string, string> = {
      code,
      host: Buffer.from(`admin.shopify.com/store/${this.options.shop.replace(/\.myshopify\.com$/, "")}`).toString(
        "base64url"
      ),
      shop: this.options.shop,
      timestamp: String(this.clock.nowSeconds())
    }
    const state = q.get("state")
    if (state !== null) params.state = state
    params.hmac = queryHmac(params, this.options.clientSecret)
    for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v)
    return { status: 302, headers: { location: redirect.toString() }, body: "" }
  }

  private static body(request: SandboxServer.SandboxRequest): Record<string, string> | undefined {
    const type = request.headers["content-type"] ?? ""
    if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(request.text))
    try {
      const json = JSON.parse(request.text) as unknown
      if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined
      return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]))
    } catch {
      return undefined
    }
  }

  /** `POST /admin/oauth/access_token`. */
  token(request: SandboxServer.SandboxRequest): SandboxServer.SandboxResponse {
    const fail = (status: number, error: string, description: string): SandboxServer.SandboxResponse => ({
      status,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error, error_description: description })
    })
    const ok = (body: Record<string, unknown>): SandboxServer.SandboxResponse => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    const body = ShopifySandboxAuth.body(request)
    if (body === undefined) return fail(400, "invalid_request", "The request body is not JSON or a form")
    if (body.client_id !== this.options.clientId || !safeEqual(body.client_secret ?? "", this.options.clientSecret)) {
      return fail(400, "invalid_client", "Client authentication failed: wrong client_id or client_secret")
    }
    const now = this.clock.now()
    const grantType = body.grant_type ?? (body.code !== undefined ? "authorization_code" : "")
    if (grantType === "authorization_code") {
      const code = this.codes.get(body.code ?? "")
      if (code === undefined || code.used || code.expiresAt <= now) {
        return fail(400, "invalid_request", "The authorization code was not found or was already used")
      }
      code.used = true
      if (code.online) {
        const response = this.grant(code.scopes, false, null)
        const record = this.accessTokens.get(String(response.access_token))!
        record.expiresAt = now + 24 * 3600 * 1000
        return ok({
          ...response,
          expires_in: 86_400,
          associated_user_scope: code.scopes.join(","),
          associated_user: {
            id: 902541635,
            first_name: "Sandbox",
            last_name: "Staff",
            email: "staff@example.com",
            email_verified: true,
            account_owner: true,
            locale: "en",
            collaborator: false
          }
        })
      }
      return ok(this.grant(code.scopes, body.expiring === "1" || body.expiring === "true", null))
    }
    if (grantType === "refresh_token") {
      this.refreshes += 1
      const refresh = this.refreshTokens.get(body.refresh_token ?? "")
      if (refresh === undefined || refresh.state === "dead" || refresh.expiresAt <= now) {
        return fail(400, "invalid_grant", "The refresh token is invalid, expired or was already replaced")
      }
      if (refresh.state === "previous") {
        const replacement = refresh.replacedBy === null ? undefined : this.refreshTokens.get(refresh.replacedBy)
        const replacementUsed =
          replacement === undefined || replacement.used || this.accessTokens.get(replacement.accessToken)?.used === true
        if (replacementUsed) {
          refresh.state = "dead"
          return fail(400, "invalid_grant", "The refresh token was replaced and its replacement is in use")
        }
        // The replacement was never used (its response was lost): it gives way to a new pair.
        if (replacement !== undefined) replacement.state = "dead"
      } else if (refresh.replaces !== null) {
        // Using the newest refresh token ends the grace of the one it replaced.
        this.retirePredecessor(refresh)
      }
      refresh.used = true
      const response = this.grant(refresh.scopes, true, refresh.token)
      refresh.state = this.options.refreshGrace === false ? "dead" : "previous"
      refresh.replacedBy = String(response.refresh_token)
      return ok(response)
    }
    if (grantType === tokenExchangeGrant) {
      const subject = body.subject_token ?? ""
      const earlier = this.migrations.get(subject)
      if (earlier !== undefined && now - earlier.at < 7 * 24 * 3600 * 1000) return ok(earlier.response)
      const legacy = this.accessTokens.get(subject)
      if (legacy === undefined || legacy.revoked || legacy.expiresAt !== null) {
        return fail(400, "invalid_subject_token", "The subject token is not a valid non-expiring offline access token")
      }
      const response = this.grant(legacy.scopes, true, null)
      legacy.revoked = true
      this.migrations.set(subject, { at: now, response })
      return ok(response)
    }
    return fail(400, "unsupported_grant_type", `grant_type ${grantType || "(none)"} is not supported`)
  }
}
