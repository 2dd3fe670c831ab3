/**
 * ConnectorHttp: the HTTP plumbing every connector shares. One call = one request, no retries (the
 * engine retries by the error taxonomy). It adds a per-request timeout and a tracing span, reads the
 * response once, keeps a redacted record of the exchange (the request as a cURL line) for errors and
 * dead letters, logs that cURL line in debug mode, and classifies failures: network errors, timeouts
 * and 5xx are `Transient`, 429 is `RateLimited` with the `Retry-After` honoured, 401 `AuthExpired`,
 * 403 `ScopeMissing`, 404 `NotFound`, other 4xx `Rejected`, and an empty or unparsable 200 `Transient`.
 *
 * Redaction happens before anything is built: secret headers, query parameters and JSON keys become
 * `***`, and every secret value the connector registers is scrubbed wherever it appears.
 *
 * @since 0.1.0
 */
import type { HttpClientResponse } from "@effect/platform"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Context, Duration, Effect, Option, Redacted, Schema } from "effect"
import type { ConnectorError } from "./ConnectorError.ts"
import { AuthExpired, NotFound, RateLimited, Rejected, ScopeMissing, Transient } from "./ConnectorError.ts"
import { HttpExchange } from "./HttpExchange.ts"

/** When true, every call is logged as a redacted cURL line (the platforms' own troubleshooting step). */
export const HttpDebug = Context.Reference<HttpDebug>()("@tkbridge/core/HttpDebug", { defaultValue: () => false })
/** @since 0.1.0 */
export type HttpDebug = boolean

const defaultSecretHeaders = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-tts-access-token",
  "x-shopify-access-token",
  "access-token",
  "x-api-key",
  "api-key"
]
const defaultSecretParams = [
  "access_token",
  "refresh_token",
  "app_secret",
  "client_secret",
  "secret",
  "code",
  "password"
]
const secretKey = /secret|token|password|passwd|authorization|api_?key|private_?key/i
const maxBodyInExchange = 8192

/** How one connector talks HTTP. */
export interface HttpOptions {
  /** The connection calls are made for (added to errors and spans). */
  readonly connection?: string | undefined
  /** Per-request timeout. Default 30 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Secret values to scrub wherever they appear (app secret, tokens …). */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string> | string> | undefined
  /** Extra header names to redact. */
  readonly secretHeaders?: ReadonlyArray<string> | undefined
  /** Extra query parameter names to redact. */
  readonly secretParams?: ReadonlyArray<string> | undefined
}

/** A response read in full, with the redacted exchange that produced it. */
export interface HttpResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly exchange: HttpExchange
}

/** Per-call options. */
export interface SendOptions {
  /** Secrets that belong to this call only (a token being exchanged …). */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string> | string> | undefined
  /** Overrides the client's timeout. */
  readonly timeout?: Duration.DurationInput | undefined
}

/** A connector's HTTP client. */
export interface ConnectorHttpClient {
  /** Sends one request and reads the whole response. Fails only with `Transient` (network, timeout). */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions
  ) => Effect.Effect<HttpResult, Transient>
  /** Redacts a string with this client's secrets (for messages built from responses). */
  readonly redact: (text: string, extra?: SendOptions["secrets"]) => string
}

const reveal = (s: Redacted.Redacted<string> | string): string => (typeof s === "string" ? s : Redacted.value(s))

/** Replaces each secret value (at least 4 characters, to avoid scrubbing noise) with `***`. */
export const scrub = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string> | string>): string => {
  let out = text
  for (const s of secrets) {
    const v = reveal(s)
    if (v.length < 4) continue
    // The value as it is, URL-encoded (query strings, form bodies) and JSON-escaped (bodies).
    for (const form of new Set([v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)])) {
      out = out.split(form).join("***")
    }
  }
  return out
}

// A JSON member `"key": value` whose value is a string or a number.
const jsonMember = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g

/**
 * Redacts the values of secret-looking keys in a JSON text. The rest of the text is left exactly as
 * it was — spacing, key order and 64-bit numeric ids that a parse and re-serialize would round —
 * because the exchange is what an operator compares with the platform's logs. Text that does not
 * look like JSON is returned unchanged.
 */
export const redactJson = (text: string): string => {
  if (text.length === 0) return text
  const first = text.trimStart()[0]
  if (first !== "{" && first !== "[") return text
  return text.replace(jsonMember, (member, key: string, separator: string) =>
    secretKey.test(key) ? `"${key}"${separator}"***"` : member
  )
}

/** Redacts secret-looking fields of an `application/x-www-form-urlencoded` text (OAuth token requests). */
export const redactForm = (text: string, secretNames: ReadonlySet<string> = new Set(defaultSecretParams)): string => {
  if (!text.includes("=")) return text
  const params = new URLSearchParams(text)
  let changed = false
  for (const key of new Set(params.keys())) {
    if (secretNames.has(key) || secretKey.test(key)) {
      params.set(key, "***")
      changed = true
    }
  }
  return changed ? params.toString().replace(/%2A%2A%2A/g, "***") : text
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

const isForm = (request: HttpClientRequest.HttpClientRequest): boolean => {
  const type = request.body._tag === "Uint8Array" || request.body._tag === "Raw" ? request.body.contentType : ""
  return (type || request.headers["content-type"] || "").includes("application/x-www-form-urlencoded")
}

const requestBodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : "<raw body>"
    case "FormData":
      return "<multipart form data>"
    case "Stream":
      return "<stream>"
  }
}

/** Builds a redacted HTTP client for one connector instance. */
export const make = (options: HttpOptions = {}): Effect.Effect<ConnectorHttpClient, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const secretHeaders = new Set(
      [...defaultSecretHeaders, ...(options.secretHeaders ?? [])].map((h) => h.toLowerCase())
    )
    const secretParams = new Set([...defaultSecretParams, ...(options.secretParams ?? [])])
    const baseSecrets = options.secrets ?? []
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))

    const redact = (text: string, extra: SendOptions["secrets"] = []) => scrub(text, [...baseSecrets, ...extra])

    const redactUrl = (url: string, extra: SendOptions["secrets"]) => {
      try {
        const u = new URL(url)
        for (const key of [...u.searchParams.keys()]) {
          if (secretParams.has(key) || secretKey.test(key)) u.searchParams.set(key, "***")
        }
        if (u.password !== "") u.password = "***"
        if (u.username !== "") u.username = "***"
        return redact(u.toString().replace(/%2A%2A%2A/g, "***"), extra)
      } catch {
        return redact(url, extra)
      }
    }

    const toCurl = (request: HttpClientRequest.HttpClientRequest, url: string, extra: SendOptions["secrets"]) => {
      const parts = ["curl", "-X", request.method, shellQuote(url)]
      for (const [name, value] of Object.entries(request.headers)) {
        parts.push("-H", shellQuote(`${name}: ${secretHeaders.has(name.toLowerCase()) ? "***" : redact(value, extra)}`))
      }
      const body = requestBodyText(request)
      if (body !== undefined) {
        const shown = isForm(request) ? redactForm(body, secretParams) : redactJson(body)
        parts.push("--data-raw", shellQuote(redact(shown, extra)))
      }
      return parts.join(" ")
    }

    const send = (request: HttpClientRequest.HttpClientRequest, sendOptions: SendOptions = {}) =>
      Effect.gen(function* () {
        const extra = sendOptions.secrets ?? []
        const fullUrl = Option.match(HttpClientRequest.toUrl(request), {
          onNone: () => request.url,
          onSome: (u) => u.toString()
        })
        const url = redactUrl(fullUrl, extra)
        const curl = toCurl(request, url, extra)
        if (yield* HttpDebug) yield* Effect.logInfo(curl).pipe(Effect.annotateLogs("http", "request"))
        const started = yield* Clock.currentTimeMillis
        const callTimeout = sendOptions.timeout === undefined ? timeout : Duration.decode(sendOptions.timeout)
        const base = { method: request.method, url, curl }
        // Failure messages can quote the URL; they get the redacted one.
        const transient = (message: string) =>
          new Transient({
            message: redact(message.split(fullUrl).join(url), extra),
            connection: options.connection,
            exchange: new HttpExchange({ ...base })
          })
        const response: HttpClientResponse.HttpClientResponse = yield* http.execute(request).pipe(
          Effect.timeoutFail({
            duration: callTimeout,
            onTimeout: () => transient(`no response within ${Duration.format(callTimeout)}`)
          }),
          Effect.catchTag("RequestError", (e) => Effect.fail(transient(`request failed: ${e.message}`))),
          Effect.catchTag("ResponseError", (e) => Effect.fail(transient(`response failed: ${e.message}`)))
        )
        const text = yield* response.text.pipe(
          Effect.timeoutFail({
            duration: callTimeout,
            onTimeout: () => transient(`response body not received within ${Duration.format(callTimeout)}`)
          }),
          Effect.catchTag("ResponseError", (e) => Effect.fail(transient(`reading the response failed: ${e.message}`)))
        )
        const ended = yield* Clock.currentTimeMillis
        yield* Effect.annotateCurrentSpan("http.status_code", response.status)
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(response.headers)) {
          headers[k] = secretHeaders.has(k.toLowerCase())
            ? "***"
            : /^https?:\/\//.test(v)
              ? redactUrl(v, extra)
              : redact(v, extra)
        }
        const shownBody = redact(redactJson(text), extra)
        const exchange = new HttpExchange({
          ...base,
          status: response.status,
          responseHeaders: headers,
          responseBody:
            shownBody.length > maxBodyInExchange ? `${shownBody.slice(0, maxBodyInExchange)}…(truncated)` : shownBody,
          durationMs: ended - started
        })
        if (yield* HttpDebug) {
          yield* Effect.logInfo(`← ${response.status} in ${ended - started} ms`).pipe(
            Effect.annotateLogs("http", "response")
          )
        }
        return { status: response.status, headers: response.headers, text, exchange } satisfies HttpResult
      }).pipe(
        Effect.scoped,
        Effect.withSpan("tkbridge.http", {
          attributes: {
            "http.method": request.method,
            "tkbridge.connection": options.connection ?? "",
            // The path only: queries carry signatures and, on some platforms, tokens.
            "url.path": Option.match(HttpClientRequest.toUrl(request), { onNone: () => "", onSome: (u) => u.pathname })
          }
        })
      )

    return { send, redact } satisfies ConnectorHttpClient
  })

/**
 * Parses a `Retry-After` value (delta-seconds or an HTTP date) into a wait from `now`.
 * Absent or unreadable values give `fallback`.
 */
export const parseRetryAfter = (
  value: string | undefined,
  now: number,
  fallback: Duration.Duration = Duration.seconds(1)
): Duration.Duration => {
  if (value === undefined || value.trim() === "") return fallback
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Duration.millis(Math.ceil(Number(trimmed) * 1000))
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return fallback
  return Duration.millis(Math.max(0, at - now))
}

/**
 * The default reading of an HTTP status: `undefined` for 2xx (the connector reads the body), a
 * taxonomy error otherwise. Connectors map their own body codes first and fall back to this.
 */
export const classifyStatus = (result: HttpResult, now: number, connection?: string): ConnectorError | undefined => {
  const { status, exchange } = result
  const common = {
    connection,
    httpStatus: status,
    exchange,
    code: String(status)
  }
  const body = exchange.responseBody ?? ""
  const message = body === "" ? `HTTP ${status}` : `HTTP ${status}: ${body.slice(0, 200)}`
  if (status >= 200 && status < 300) return undefined
  if (status === 429) {
    return new RateLimited({ ...common, message, retryAfter: parseRetryAfter(result.headers["retry-after"], now) })
  }
  if (status === 401) return new AuthExpired({ ...common, message })
  if (status === 403) return new ScopeMissing({ ...common, message })
  if (status === 404) return new NotFound({ ...common, message })
  if (status === 408 || status >= 500) return new Transient({ ...common, message })
  return new Rejected({ ...common, message })
}

/**
 * Decodes a 2xx body as JSON with `schema`. An empty body, a body that is not JSON, or JSON of the
 * wrong shape is `Transient`: the platform's answer is unknown, so the call may be retried after the
 * caller re-reads the state.
 */
export const decodeJson = <A, I>(
  schema: Schema.Schema<A, I>,
  result: HttpResult,
  connection?: string
): Effect.Effect<A, Transient> => {
  const fail = (message: string) =>
    Effect.fail(new Transient({ message, connection, httpStatus: result.status, exchange: result.exchange }))
  if (result.text.trim() === "") return fail(`HTTP ${result.status} with an empty body`)
  let json: unknown
  try {
    json = JSON.parse(result.text)
  } catch {
    return fail(`HTTP ${result.status} with a body that is not JSON`)
  }
  return Schema.decodeUnknown(schema)(json).pipe(
    Effect.mapError(
      (e) =>
        new Transient({
          message: `HTTP ${result.status} with an unexpected body: ${e.message.slice(0, 500)}`,
          connection,
          httpStatus: result.status,
          exchange: result.exchange
        })
    )
  )
}
