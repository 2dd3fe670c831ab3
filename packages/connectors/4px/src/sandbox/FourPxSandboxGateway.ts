/**
 * FourPxSandboxGateway: the sandbox's FOP gateway (`POST /router/api/service`). Every request passes
 * the checks in the order the 4PX gateway is observed to apply them, and the first failure answers:
 *
 * 1. `method` exists (`000011`, or HTTP 500 with an `ApiException` text when configured so), and its
 *    `v` is one the method is offered in (`000011`)
 * 2. faults injected on that method (`FourPxSandbox.fault("<method>", …)`)
 * 3. `app_key` known (`000013`); `v`, `timestamp`, `format=json` and `sign` present (`000014`)
 * 4. the body parses as a JSON object (`000004`)
 * 5. `sign` equals MD5 over `app_key…format…method…timestamp…v…` + the raw body bytes + the secret,
 *    compared case-insensitively (`000012`)
 * 6. `timestamp` is epoch milliseconds — 13 digits; a seconds timestamp is refused — and within the
 *    configured tolerance of the sandbox clock, when one is set (`000014`, the code 4PX documents
 *    for invalid authentication parameters; it lists none for timestamps alone)
 * 7. `access_token` valid when given, required when the app is a vendor app (`000014`)
 * 8. requests per minute per app (`000017`)
 * 9. then the method's own validation (`DS0000xx`, field codes)
 *
 * Business answers are HTTP 200 with the envelope `{result, msg, errors, data}` and `result` a
 * string. The signature is recomputed here from the request as received by code that shares
 * nothing with the connector's client.
 *
 * @since 0.1.0
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"

/** Response language: `cn` unless the request asks for `en`. */
export type Language = "cn" | "en"

/** One error item, in both languages. */
export interface SandboxError {
  readonly code: string
  readonly cn: string
  readonly en: string
  readonly data?: string | undefined
}

/** Thrown by method handlers: the envelope carries these errors with `result` `"0"`. */
export class FourPxFailure extends Error {
  readonly errors: ReadonlyArray<SandboxError>
  constructor(errors: ReadonlyArray<SandboxError>) {
    super(errors.map((e) => `${e.code} ${e.en}`).join("; "))
    this.name = "FourPxFailure"
    this.errors = errors
  }
}

/** Builds an error item. */
export const err = (code: string, cn: string, en: string, data?: string): SandboxError => ({ code, cn, en, data })

/** Fails the current request with one error. */
export const fail = (code: string, cn: string, en: string, data?: string): never => {
  throw new FourPxFailure([err(code, cn, en, data)])
}

/** What a method handler receives. */
export interface MethodContext {
  readonly body: Record<string, unknown>
  readonly language: Language
  readonly request: SandboxServer.SandboxRequest
  /** The access token the call carried, if any. */
  readonly accessToken: string | undefined
}

/** A FOP method the sandbox serves. */
export interface MethodSpec {
  readonly versions: ReadonlyArray<string>
  readonly handler: (context: MethodContext) => unknown
}

/** Result of checking an access token. */
export type TokenVerdict = "ok" | "invalid" | "expired"

/** How `errors[]` items spell their keys. */
export type ErrorKeys = "snake" | "camel" | "both"

/** Gateway settings. */
export interface GatewayOptions {
  readonly appKey: string
  readonly appSecret: string
  readonly clock: SandboxClock.SandboxClock
  readonly methods: ReadonlyMap<string, MethodSpec>
  /** Requests per minute per app; `undefined` disables the limit. */
  readonly rateLimitPerMinute: number | undefined
  /** Accepted distance of `timestamp` from the sandbox clock; `undefined` disables the check. */
  readonly timestampToleranceMs: number | undefined
  /** How an unknown method is answered. */
  readonly unknownMethod: "envelope" | "http500"
  readonly errorKeys: ErrorKeys
  /** Send `data` JSON-encoded as a string (all methods, or the listed ones). */
  readonly dataAsString: boolean | ReadonlyArray<string>
  /** Vendor app: every call must carry a valid `access_token`. */
  readonly requireAccessToken: () => boolean
  readonly checkToken: (token: string) => TokenVerdict
  readonly random: () => number
}

const messages = {
  cn: { ok: "系统处理成功", failed: "系统处理失败" },
  en: { ok: "System processing succeeded", failed: "System processing failed" }
} as const

/** The five signed system parameters, in ascending order. */
const signedNames = ["app_key", "format", "method", "timestamp", "v"] as const

/**
 * A fault on one method. With `afterEffect` the method runs first and only its answer is replaced:
 * the parcel is created (or cancelled) but the caller never learns it — the case idempotency is for.
 */
export interface MethodFault extends SandboxServer.Fault {
  readonly afterEffect?: boolean | undefined
}

interface ActiveFault {
  readonly fault: MethodFault
  remaining: number
}

/** The gateway: checks, envelopes, per-method faults and the per-minute counter. */
export class Gateway {
  readonly options: GatewayOptions
  private readonly faults = new Map<string, Array<ActiveFault>>()
  private window = { minute: -1, count: 0 }

  constructor(options: GatewayOptions) {
    this.options = options
  }

  /** An envelope. `result` is a string, as 4PX sends it. */
  envelope(
    result: "0" | "1" | "2",
    data: unknown,
    errors: ReadonlyArray<SandboxError> | null,
    language: Language,
    method?: string
  ): SandboxServer.SandboxResponse {
    const spell = (e: SandboxError) => {
      const message = language === "en" ? e.en : e.cn
      const snake = { error_code: e.code, error_msg: message, error_data: e.data ?? null, reference_code: null }
      const camel = { errorCode: e.code, errorMsg: message, errorData: e.data ?? null, referenceCode: null }
      return this.options.errorKeys === "snake"
        ? snake
        : this.options.errorKeys === "camel"
          ? camel
          : { ...snake, ...camel }
    }
    const asString =
      this.options.dataAsString === true ||
      (Array.isArray(this.options.dataAsString) && method !== undefined && this.options.dataAsString.includes(method))
    const payload = asString && data !== null && data !== undefined ? JSON.stringify(data) : (data ?? null)
    return {
      status: 200,
      headers: { "content-type": "application/json;charset=UTF-8" },
      body: JSON.stringify({
        result,
        msg: messages[language][result === "0" ? "failed" : "ok"],
        errors: errors === null ? null : errors.map(spell),
        data: payload
      })
    }
  }

  /** A failure envelope with one error. */
  failure(code: string, cn: string, en: string, language: Language, data?: string): SandboxServer.SandboxResponse {
    return this.envelope("0", null, [err(code, cn, en, data)], language)
  }

  /** Injects a fault on one method. `drop` needs the harness (fault the `gateway` route instead). */
  fault(method: string, fault: MethodFault): void {
    if (fault.drop) throw new Error(`drop faults cannot target one method; inject them on the "gateway" route`)
    const list = this.faults.get(method) ?? []
    list.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY })
    this.faults.set(method, list)
  }

  /** Removes the faults of one method, or of all. */
  clearFaults(method?: string): void {
    if (method === undefined) this.faults.clear()
    else this.faults.delete(method)
  }

  /** Whether any per-method fault is set. */
  hasFaults(method: string): boolean {
    return (this.faults.get(method) ?? []).some((f) => f.remaining > 0)
  }

  private takeFault(method: string): MethodFault | undefined {
    for (const key of [method, "*"]) {
      for (const active of this.faults.get(key) ?? []) {
        if (active.remaining <= 0) continue
        if (active.fault.probability !== undefined && this.options.random() >= active.fault.probability) continue
        active.remaining -= 1
        return active.fault
      }
    }
    return undefined
  }

  private async applyFault(fault: SandboxServer.Fault): Promise<SandboxServer.SandboxResponse | undefined> {
    if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs))
    // Never answered: the client's timeout has to fire; the socket closes with the server.
    if (fault.hang) return new Promise<SandboxServer.SandboxResponse>(() => {})
    if (fault.empty) return { status: 200, body: "" }
    if (fault.retryAfterSeconds !== undefined) {
      return {
        status: fault.status ?? 429,
        headers: { "retry-after": String(fault.retryAfterSeconds), ...(fault.headers ?? {}) },
        body: fault.body ?? { error: "too many requests" }
      }
    }
    if (fault.status !== undefined) return { status: fault.status, headers: fault.headers, body: fault.body ?? "" }
    return undefined
  }

  /** The signature the sandbox expects for a request as received. */
  expectedSign(query: URLSearchParams, rawBody: Uint8Array): string {
    const hash = createHash("md5")
    for (const name of signedNames) {
      hash.update(name, "utf8")
      hash.update(query.get(name) ?? "", "utf8")
    }
    hash.update(rawBody)
    hash.update(this.options.appSecret, "utf8")
    return hash.digest("hex")
  }

  /** Handles `POST /router/api/service`. */
  async handle(request: SandboxServer.SandboxRequest): Promise<SandboxServer.SandboxResponse> {
    const q = request.query
    const language: Language = q.get("language") === "en" ? "en" : "cn"
    const method = q.get("method") ?? ""
    const spec = this.options.methods.get(method)
    if (spec === undefined) {
      if (this.options.unknownMethod === "http500") {
        return {
          status: 500,
          headers: { "content-type": "text/plain;charset=UTF-8" },
          body: `com.fpx.open.gateway.ApiException: API [${method}] does not exist`
        }
      }
      return this.failure("000011", `API不存在: ${method}`, `API does not exist: ${method}`, language)
    }
    const v = q.get("v") ?? ""
    if (v !== "" && !spec.versions.includes(v)) {
      return this.failure(
        "000011",
        `API不存在: ${method} 版本 ${v}`,
        `API does not exist: ${method} version ${v}`,
        language
      )
    }
    const fault = this.takeFault(method)
    if (fault !== undefined && !fault.afterEffect) {
      const answer = await this.applyFault(fault)
      if (answer !== undefined) return answer
    }
    const answer = await this.checked(request, spec, method, language)
    if (fault?.afterEffect) return (await this.applyFault(fault)) ?? answer
    return answer
  }

  private async checked(
    request: SandboxServer.SandboxRequest,
    spec: MethodSpec,
    method: string,
    language: Language
  ): Promise<SandboxServer.SandboxResponse> {
    const q = request.query
    if (q.get("app_key") !== this.options.appKey) {
      return this.failure("000013", "app_key校验失败", "app_key validation failed", language)
    }
    for (const name of ["v", "timestamp", "format", "sign"] as const) {
      if ((q.get(name) ?? "") === "") {
        return this.failure(
          "000014",
          `无效的认证参数: 缺少 ${name}`,
          `Invalid authentication parameters: ${name} is missing`,
          language
        )
      }
    }
    if (q.get("format") !== "json") {
      return this.failure(
        "000014",
        "无效的认证参数: format 必须为 json",
        "Invalid authentication parameters: format must be json",
        language
      )
    }
    let body: unknown
    try {
      body = JSON.parse(request.text)
    } catch {
      return this.failure("000004", "JSON解析失败", "JSON parse failed", language)
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return this.failure(
        "000004",
        "JSON解析失败: 请求体必须是对象",
        "JSON parse failed: the body must be an object",
        language
      )
    }
    const expected = this.expectedSign(q, request.body)
    const received = q.get("sign") ?? ""
    const wellFormed = /^[0-9a-fA-F]{32}$/.test(received)
    const same = timingSafeEqual(
      Buffer.from(expected, "utf8"),
      wellFormed ? Buffer.from(received.toLowerCase(), "utf8") : Buffer.alloc(expected.length)
    )
    if (!(wellFormed && same)) return this.failure("000012", "签名验证错误", "Signature verification error", language)
    const timestamp = q.get("timestamp") ?? ""
    // FOP documents `timestamp` as epoch milliseconds; 10 digits is a client sending seconds.
    if (!/^\d{13}$/.test(timestamp)) {
      return this.failure(
        "000014",
        "无效的认证参数: timestamp 必须是毫秒时间戳(13位)",
        "Invalid authentication parameters: timestamp must be epoch milliseconds (13 digits)",
        language
      )
    }
    const tolerance = this.options.timestampToleranceMs
    if (tolerance !== undefined && Math.abs(Number(timestamp) - this.options.clock.now()) > tolerance) {
      return this.failure(
        "000014",
        "无效的认证参数: timestamp 已过期",
        "Invalid authentication parameters: timestamp out of range",
        language
      )
    }
    const token = q.get("access_token") ?? undefined
    if (token === undefined || token === "") {
      if (this.options.requireAccessToken()) {
        return this.failure(
          "000014",
          "无效的认证参数: 缺少 access_token",
          "Invalid authentication parameters: access_token is missing",
          language
        )
      }
    } else {
      const verdict = this.options.checkToken(token)
      if (verdict === "expired") {
        return this.failure(
          "000014",
          "access_token 已过期",
          "Invalid authentication parameters: access_token expired",
          language
        )
      }
      if (verdict === "invalid") {
        return this.failure(
          "000014",
          "access_token 无效",
          "Invalid authentication parameters: access_token invalid",
          language
        )
      }
    }
    const limit = this.options.rateLimitPerMinute
    if (limit !== undefined) {
      const minute = Math.floor(this.options.clock.now() / 60_000)
      if (this.window.minute !== minute) this.window = { minute, count: 0 }
      this.window.count += 1
      if (this.window.count > limit) {
        return this.failure(
          "000017",
          "请求过于频繁，请一分钟后再试",
          "Too many requests, please retry in one minute",
          language
        )
      }
    }
    try {
      const data = await spec.handler({
        body: body as Record<string, unknown>,
        language,
        request,
        accessToken: token === "" ? undefined : token
      })
      return this.envelope("1", data, null, language, method)
    } catch (error) {
      if (error instanceof FourPxFailure) return this.envelope("0", null, error.errors, language, method)
      throw error
    }
  }
}
