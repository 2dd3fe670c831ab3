/**
 * The TikTok Shop sandbox's API gateway: every Open API request passes its checks in the order a
 * TikTok gateway plausibly applies them (reference §9), and the first failure answers:
 *
 * 1. path and method (`36009009` / `36009010`), API version in the path (`36009014`), body media type (`36009022`/`36009023`)
 * 2. `app_key` known → `36009004`
 * 3. `timestamp` within [now − 300 s, now + 30 s] of the sandbox clock → `36009004`
 * 4. `sign` present → `36009004`; `sign` valid → `106001` (HTTP 401)
 * 5. `x-tts-access-token` present and valid → `36009004`; expired → `105002`
 * 6. the grant holds the endpoint's scope → `105005`
 * 7. `shop_cipher` required (`106013`), unexpected (`36009004`) or not the token's shop (`101000`)
 * 8. 50 requests per second per app + shop + API → HTTP 429 / `36009002`
 * 9. then the endpoint's own validation
 *
 * The signature is recomputed here from the request as received — decoded query values, the raw
 * body bytes unless the request is multipart — by an implementation that shares no code with the
 * connector's client.
 *
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import type { IdSource } from "./TikTokShopSandboxIds.ts"
import { requestId } from "./TikTokShopSandboxIds.ts"
import type { AccessTokenRecord, Grant, Shop, World } from "./TikTokShopSandboxState.ts"
import { TikTokError } from "./TikTokShopSandboxState.ts"

/** HTTP statuses the sandbox answers errors with. Several are observations, not documented facts. */
export interface ErrorStatuses {
  /** `36009004` parameter and credential errors. */
  readonly param: number
  /** `106001` bad signature (observed 401). */
  readonly signature: number
  /** `36009004` missing or invalid access token. */
  readonly invalidToken: number
  /** `105002` expired access token (undocumented; 401 is the natural guess). */
  readonly expiredToken: number
  /** `105005` missing scope (observed 401). */
  readonly scope: number
  /** `101000` token not valid for the shop. */
  readonly shopMismatch: number
  /** Endpoint business errors (`12xxxxxx`, `21xxxxxx`, `25xxxxxx` …). */
  readonly business: number
}

/** Default error statuses. */
export const defaultStatuses: ErrorStatuses = {
  param: 400,
  signature: 401,
  invalidToken: 401,
  expiredToken: 401,
  scope: 401,
  shopMismatch: 401,
  business: 400
}

/** Gateway settings. */
export interface GatewayOptions {
  readonly appKey: string
  readonly appSecret: string
  readonly world: World
  readonly clock: SandboxClock.SandboxClock
  readonly ids: IdSource
  /** Requests per second per app + shop + API. */
  readonly qps: number
  /** Accepted clock skew: seconds in the past and in the future. */
  readonly timestampWindow: { readonly pastSeconds: number; readonly futureSeconds: number }
  /** Also accept a signature computed without the body when the body is empty or `{}` (unverified server behaviour). */
  readonly acceptBodylessSignature: boolean
  readonly statuses: ErrorStatuses
}

/** What an endpoint declares to the gateway. */
export interface EndpointSpec {
  /** Route name (faults and the request recorder use it). */
  readonly name: string
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  /** A path pattern with a `version` named group. */
  readonly path: RegExp
  readonly versions: ReadonlyArray<string>
  /** The API package the endpoint needs, if any. */
  readonly scope?: string | undefined
  /** Whether the endpoint takes `shop_cipher`. `optional`: inferred when the token covers one shop. */
  readonly shop: "required" | "optional" | "forbidden"
  /** Takes `multipart/form-data` (uploads). */
  readonly multipart?: boolean | undefined
}

/** What a handler receives once the gateway let the request through. */
export interface EndpointContext {
  readonly request: SandboxServer.SandboxRequest
  readonly query: URLSearchParams
  readonly params: Readonly<Record<string, string>>
  /** The parsed JSON body (undefined without a body). */
  readonly body: unknown
  readonly shop: Shop | undefined
  readonly grant: Grant
  readonly token: AccessTokenRecord
}

/** A handler returns the envelope's `data`, or throws `TikTokError`. */
export type EndpointHandler = (context: EndpointContext) => unknown

const jsonHeaders = { "content-type": "application/json" }

/** The media type of a `content-type` header, lower case, without parameters. */
export const mediaType = (contentType: string | undefined): string =>
  (contentType ?? "").split(";")[0]!.trim().toLowerCase()

/** Builds TikTok envelopes and runs the gateway checks. */
export class Gateway {
  readonly options: GatewayOptions
  private readonly windows = new Map<string, Array<number>>()

  constructor(options: GatewayOptions) {
    this.options = options
  }

  /** A success envelope. */
  ok(data: unknown): SandboxServer.SandboxResponse {
    return {
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({
        code: 0,
        message: "Success",
        request_id: requestId(this.options.ids, this.options.clock.now()),
        data: data ?? {}
      })
    }
  }

  /** An error envelope. */
  fail(status: number, code: number, message: string): SandboxServer.SandboxResponse {
    return {
      status,
      headers: jsonHeaders,
      body: JSON.stringify({
        code,
        message,
        request_id: requestId(this.options.ids, this.options.clock.now()),
        data: null
      })
    }
  }

  /** The signature TikTok expects for a request as received. */
  expectedSign(request: SandboxServer.SandboxRequest, withBody = true): string {
    const secret = this.options.appSecret
    const keys = [...new Set(request.query.keys())].filter((k) => k !== "sign" && k !== "access_token").sort()
    let plain = request.path
    for (const k of keys) plain += k + (request.query.get(k) ?? "")
    const body =
      withBody && mediaType(request.headers["content-type"]) !== "multipart/form-data"
        ? Buffer.from(request.body)
        : Buffer.alloc(0)
    const message = Buffer.concat([Buffer.from(secret + plain, "utf8"), body, Buffer.from(secret, "utf8")])
    return createHmac("sha256", secret).update(message).digest("hex")
  }

  private signMatches(request: SandboxServer.SandboxRequest, sign: string): boolean {
    const same = (expected: string) => {
      const a = Buffer.from(expected, "utf8")
      const b = Buffer.from(sign, "utf8")
      return a.length === b.length && timingSafeEqual(a, b)
    }
    if (same(this.expectedSign(request))) return true
    const text = request.text.trim()
    return (
      this.options.acceptBodylessSignature && (text === "" || text === "{}") && same(this.expectedSign(request, false))
    )
  }

  /** Counts a request against the per app + shop + API window; false when over the limit. */
  private admit(key: string): boolean {
    const now = this.options.clock.now()
    const list = (this.windows.get(key) ?? []).filter((t) => t > now - 1000)
    if (list.length >= this.options.qps) {
      this.windows.set(key, list)
      return false
    }
    list.push(now)
    this.windows.set(key, list)
    return true
  }

  /** A route that runs the gateway checks, then `handler`. */
  route(spec: EndpointSpec, handler: EndpointHandler): SandboxServer.Route {
    return {
      name: spec.name,
      method: spec.method,
      path: spec.path,
      handler: (request) => this.handle(spec, handler, request)
    }
  }

  private handle(
    spec: EndpointSpec,
    handler: EndpointHandler,
    request: SandboxServer.SandboxRequest
  ): SandboxServer.SandboxResponse {
    const { statuses, world } = this.options
    const q = request.query
    // 1. version and media type
    const version = request.params.version ?? ""
    if (!spec.versions.includes(version)) {
      return this.fail(statuses.param, 36009014, "The version name is invalid, please check and retry.")
    }
    const media = mediaType(request.headers["content-type"])
    if (spec.multipart) {
      if (media !== "multipart/form-data") {
        return this.fail(statuses.param, 36009023, "The content-type must be multipart/form-data.")
      }
    } else if (request.body.length > 0 && media !== "application/json" && media !== "multipart/form-data") {
      return this.fail(statuses.param, 36009022, "The request body must be application/json or multipart/form-data.")
    }
    // 2. app_key
    if (q.get("app_key") !== this.options.appKey) {
      return this.fail(statuses.param, 36009004, "Invalid credentials. Invalid 'app_key' query parameter.")
    }
    // 3. timestamp
    const ts = q.get("timestamp") ?? ""
    if (!/^-?\d+$/.test(ts)) {
      return this.fail(statuses.param, 36009004, "Invalid timestamp. 'timestamp' must be Unix seconds.")
    }
    const seconds = Number(ts)
    const now = this.options.clock.nowSeconds()
    if (seconds < 0) return this.fail(statuses.param, 36009004, "Invalid timestamp. The timestamp is less than 0.")
    if (now - seconds > this.options.timestampWindow.pastSeconds) {
      return this.fail(
        statuses.param,
        36009004,
        "Invalid timestamp. The timestamp is too early (more than 5 minutes ago)."
      )
    }
    if (seconds - now > this.options.timestampWindow.futureSeconds) {
      return this.fail(
        statuses.param,
        36009004,
        "Invalid timestamp. The timestamp is too late (more than 30 seconds ahead)."
      )
    }
    // 4. sign
    const sign = q.get("sign")
    if (sign === null || sign === "") {
      return this.fail(statuses.param, 36009004, "Invalid credentials. Missing 'sign' query parameter.")
    }
    if (!this.signMatches(request, sign)) {
      return this.fail(statuses.signature, 106001, "Invalid credentials. The 'sign' query parameter is invalid.")
    }
    // 5. access token
    const header = request.headers["x-tts-access-token"]
    if (header === undefined || header === "") {
      return this.fail(statuses.invalidToken, 36009004, "Invalid credentials. Missing 'x-tts-access-token' header.")
    }
    const token = world.accessTokens.get(header)
    const grant = token === undefined ? undefined : world.grants.get(token.grantId)
    if (token === undefined || grant === undefined || grant.revoked || grant.shopIds.size === 0) {
      return this.fail(statuses.invalidToken, 36009004, "Invalid credentials. Invalid 'x-tts-access-token' header.")
    }
    if (this.options.clock.now() >= token.expiresAt) {
      return this.fail(
        statuses.expiredToken,
        105002,
        "Expired credentials. The 'x-tts-access-token' header has expired, please refresh it."
      )
    }
    // 6. scope
    if (spec.scope !== undefined && !grant.scopes.includes(spec.scope)) {
      return this.fail(
        statuses.scope,
        105005,
        `Access denied. The app is not authorized for the API package '${spec.scope}' (you should apply auth pkg for this api).`
      )
    }
    // 7. shop_cipher
    const cipher = q.get("shop_cipher")
    let shop: Shop | undefined
    if (spec.shop === "forbidden") {
      if (cipher !== null) {
        return this.fail(
          statuses.param,
          36009004,
          "Unexpected identifier. The 'shop_cipher' query parameter is not allowed for this API."
        )
      }
    } else if (cipher === null || cipher === "") {
      const only = grant.shopIds.size === 1 ? [...grant.shopIds][0] : undefined
      if (spec.shop === "required" || only === undefined) {
        return this.fail(statuses.param, 106013, "Missing identifier. The 'shop_cipher' query parameter is required.")
      }
      shop = world.shops.get(only)
    } else {
      shop = [...world.shops.values()].find((s) => s.cipher === cipher)
      if (shop === undefined || !grant.shopIds.has(shop.id)) {
        return this.fail(
          statuses.shopMismatch,
          101000,
          "Invalid 'shop_cipher' or 'x-tts-access-token': the access token is not associated with this shop."
        )
      }
    }
    // 8. rate limit, per app + shop + API
    if (!this.admit(`${this.options.appKey}/${shop?.id ?? "-"}/${spec.name}`)) {
      return this.fail(429, 36009002, "Too many requests. Please retry later.")
    }
    // 9. the endpoint
    let body: unknown
    if (!spec.multipart && request.text.trim() !== "") {
      try {
        body = JSON.parse(request.text)
      } catch {
        return this.fail(statuses.param, 36009004, "Invalid request body: not valid JSON.")
      }
    }
    try {
      return this.ok(handler({ request, query: q, params: request.params, body, shop, grant, token }))
    } catch (error) {
      if (error instanceof TikTokError) return this.fail(error.status ?? statuses.business, error.code, error.message)
      throw error
    }
  }

  /** Answers paths no endpoint serves (`36009009`, 404) and known paths with the wrong method (`36009010`, 405). */
  fallback(specs: ReadonlyArray<EndpointSpec>): SandboxServer.Route {
    return {
      name: "unknown",
      method: "*",
      path: /.*/,
      handler: (request) => {
        const known = specs.some((s) => {
          const m = s.path.exec(request.path)
          return m !== null && m[0] === request.path
        })
        return known
          ? this.fail(405, 36009010, `Invalid method ${request.method} for path ${request.path}.`)
          : this.fail(404, 36009009, `Invalid path ${request.path}.`)
      }
    }
  }
}
