/**
 * FourPxSandboxAuth: the sandbox's OAuth pages for software-vendor apps.
 *
 * - `GET /authorize/get?client_id&response_type=code&redirect_uri[&state]`: the customer "consents"
 *   (or declines, per the control API) and is redirected to `redirect_uri?code=…&state=…`.
 * - `POST /accessToken/get` (`application/x-www-form-urlencoded`): `grant_type=authorization_code`
 *   with `code` and `redirect_uri`, or the refresh grant with `refresh_token`; both need
 *   `client_id` and `client_secret`. Answers `access_token`, `refresh_token` and `expires_in` in
 *   milliseconds (7 days), plain or inside a FOP envelope. Refresh tokens live a year.
 *
 * Failures are FOP envelopes with `result` `"0"`: `000013` for a wrong client, `000014` for a bad,
 * used or expired code or refresh token.
 *
 * @since 0.1.0
 */
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import type { Language } from "./FourPxSandboxGateway.ts"
import { err } from "./FourPxSandboxGateway.ts"

/** Token server settings. */
export interface AuthOptions {
  readonly appKey: string
  readonly appSecret: string
  readonly clock: SandboxClock.SandboxClock
  readonly random: () => number
  readonly accessTokenTtlMs: number
  readonly refreshTokenTtlMs: number
  readonly authCodeTtlMs: number
  /** Whether a refresh issues a new refresh token (undocumented). */
  readonly rotateRefreshToken: boolean
  /** `grant_type` values accepted for a refresh (the docs say `refresh_token`; an SDK sends `refreshToken`). */
  readonly refreshGrantTypes: ReadonlyArray<string>
  /** Plain JSON (default) or wrapped in a FOP envelope. */
  readonly tokenResponse: "plain" | "envelope"
  /** When set, `redirect_uri` must equal it. */
  readonly redirectUrl: string | undefined
}

interface TokenRecord {
  readonly value: string
  expiresAt: number
  revoked: boolean
}

/** An issued grant. Times are sandbox epoch milliseconds. */
export interface IssuedToken {
  readonly accessToken: string
  readonly refreshToken: string
  readonly accessTokenExpiresAt: number
  readonly refreshTokenExpiresAt: number
  readonly issuedAt: number
}

const envelopeError = (code: string, cn: string, en: string, language: Language): SandboxServer.SandboxResponse => {
  const e = err(code, cn, en)
  return {
    status: 200,
    headers: { "content-type": "application/json;charset=UTF-8" },
    body: JSON.stringify({
      result: "0",
      msg: language === "en" ? "System processing failed" : "系统处理失败",
      errors: [
        { error_code: e.code, error_msg: language === "en" ? e.en : e.cn, error_data: null, reference_code: null }
      ],
      data: null
    })
  }
}

/** The token server. */
export class AuthServer {
  readonly options: AuthOptions
  private readonly codes = new Map<string, { expiresAt: number; redirectUri: string; used: boolean }>()
  private readonly access = new Map<string, TokenRecord>()
  private readonly refresh = new Map<string, TokenRecord>()
  private refreshes = 0
  /** How the next consent page answers. */
  consent: "approve" | "deny" = "approve"

  constructor(options: AuthOptions) {
    this.options = options
  }

  private token(prefix: string, length = 32): string {
    let out = prefix
    while (out.length < prefix.length + length) out += Math.floor(this.options.random() * 16).toString(16)
    return out
  }

  /** Issues a grant directly (tests, demo). */
  issue(): IssuedToken {
    const now = this.options.clock.now()
    const accessToken = this.token("at-")
    const refreshToken = this.token("rt-")
    const accessTokenExpiresAt = now + this.options.accessTokenTtlMs
    const refreshTokenExpiresAt = now + this.options.refreshTokenTtlMs
    this.access.set(accessToken, { value: accessToken, expiresAt: accessTokenExpiresAt, revoked: false })
    this.refresh.set(refreshToken, { value: refreshToken, expiresAt: refreshTokenExpiresAt, revoked: false })
    return { accessToken, refreshToken, accessTokenExpiresAt, refreshTokenExpiresAt, issuedAt: now }
  }

  /** A fresh one-time authorization code. */
  code(redirectUri: string): string {
    const code = this.token("code-", 24)
    this.codes.set(code, { expiresAt: this.options.clock.now() + this.options.authCodeTtlMs, redirectUri, used: false })
    return code
  }

  /** Checks an access token for the gateway. */
  check(token: string): "ok" | "invalid" | "expired" {
    const record = this.access.get(token)
    if (record === undefined || record.revoked) return "invalid"
    return record.expiresAt <= this.options.clock.now() ? "expired" : "ok"
  }

  /** Expires every access token now (their refresh tokens keep working). */
  expireAccessTokens(): void {
    const now = this.options.clock.now()
    for (const r of this.access.values()) r.expiresAt = Math.min(r.expiresAt, now)
  }

  /** Revokes every grant: the customer withdrew the authorization. */
  revokeAll(): void {
    for (const r of this.access.values()) r.revoked = true
    for (const r of this.refresh.values()) r.revoked = true
  }

  /** How many refresh requests reached the token endpoint. */
  refreshCount(): number {
    return this.refreshes
  }

  /** The OAuth routes. */
  routes(): ReadonlyArray<SandboxServer.Route> {
    return [
      { name: "oauth.authorize", method: "GET", path: "/authorize/get", handler: (r) => this.authorize(r) },
      { name: "oauth.token", method: "POST", path: "/accessToken/get", handler: (r) => this.tokenEndpoint(r) }
    ]
  }

  private authorize(request: SandboxServer.SandboxRequest): SandboxServer.SandboxResponse {
    const q = request.query
    const page = (status: number, text: string) => ({
      status,
      headers: { "content-type": "text/html;charset=UTF-8" },
      body: `<!doctype html><title>4PX sandbox authorization</title><p>${text}</p>`
    })
    if (q.get("client_id") !== this.options.appKey) return page(400, "Unknown client_id.")
    if (q.get("response_type") !== "code") return page(400, "response_type must be code.")
    const redirect = q.get("redirect_uri") ?? ""
    let target: URL
    try {
      target = new URL(redirect)
    } catch {
      return page(400, "redirect_uri is not a URL.")
    }
    if (this.options.redirectUrl !== undefined && redirect !== this.options.redirectUrl) {
      return page(400, "redirect_uri does not match the app's registered address.")
    }
    if (this.consent === "deny") target.searchParams.set("error", "access_denied")
    else target.searchParams.set("code", this.code(redirect))
    const state = q.get("state")
    if (state !== null) target.searchParams.set("state", state)
    return { status: 302, headers: { location: target.toString() }, body: "" }
  }

  private tokenEndpoint(request: SandboxServer.SandboxRequest): SandboxServer.SandboxResponse {
    const form = new URLSearchParams(request.text)
    const language: Language = form.get("language") === "cn" ? "cn" : "en"
    const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    if (contentType !== "application/x-www-form-urlencoded") {
      return envelopeError(
        "000014",
        "请求必须是表单",
        "The token request must be application/x-www-form-urlencoded",
        language
      )
    }
    if (form.get("client_id") !== this.options.appKey || form.get("client_secret") !== this.options.appSecret) {
      return envelopeError("000013", "app_key校验失败", "client_id / client_secret validation failed", language)
    }
    const now = this.options.clock.now()
    const grant = form.get("grant_type") ?? ""
    if (grant === "authorization_code") {
      const code = this.codes.get(form.get("code") ?? "")
      if (code === undefined || code.used || code.expiresAt <= now) {
        return envelopeError(
          "000014",
          "授权码无效或已过期",
          "The authorization code is invalid, used or expired",
          language
        )
      }
      if ((form.get("redirect_uri") ?? "") !== code.redirectUri) {
        return envelopeError(
          "000014",
          "redirect_uri 不匹配",
          "redirect_uri does not match the authorization request",
          language
        )
      }
      code.used = true
      return this.answer(this.issue())
    }
    if (this.options.refreshGrantTypes.includes(grant)) {
      this.refreshes += 1
      const record = this.refresh.get(form.get("refresh_token") ?? "")
      if (record === undefined || record.revoked || record.expiresAt <= now) {
        return envelopeError(
          "000014",
          "refresh_token 无效或已过期",
          "The refresh token is invalid or expired",
          language
        )
      }
      const accessToken = this.token("at-")
      const accessTokenExpiresAt = now + this.options.accessTokenTtlMs
      this.access.set(accessToken, { value: accessToken, expiresAt: accessTokenExpiresAt, revoked: false })
      let refreshToken = record.value
      let refreshTokenExpiresAt = record.expiresAt
      if (this.options.rotateRefreshToken) {
        record.revoked = true
        refreshToken = this.token("rt-")
        refreshTokenExpiresAt = now + this.options.refreshTokenTtlMs
        this.refresh.set(refreshToken, { value: refreshToken, expiresAt: refreshTokenExpiresAt, revoked: false })
      }
      return this.answer({ accessToken, refreshToken, accessTokenExpiresAt, refreshTokenExpiresAt, issuedAt: now })
    }
    return envelopeError("000014", `不支持的 grant_type: ${grant}`, `Unsupported grant_type: ${grant}`, language)
  }

  private answer(issued: IssuedToken): SandboxServer.SandboxResponse {
    const data = {
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
      expires_in: issued.accessTokenExpiresAt - issued.issuedAt
    }
    const body =
      this.options.tokenResponse === "envelope"
        ? { result: "1", msg: "System processing succeeded", errors: null, data }
        : data
    return { status: 200, headers: { "content-type": "application/json;charset=UTF-8" }, body: JSON.stringify(body) }
  }
}
