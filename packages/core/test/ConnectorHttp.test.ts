/**
 * ConnectorHttp against a real HTTP server (the testkit's SandboxServer, imported by path because
 * the testkit depends on core): how answers and failures are classified, and that secrets never
 * reach the cURL line, the exchange, error messages or the debug log.
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConnectorError, ConnectorHttp } from "@tkbridge/core"
import { Duration, Effect, Logger, Redacted, Schema } from "effect"
import * as SandboxServer from "../../connector-testkit/src/SandboxServer.ts"

let sandbox: SandboxServer.Sandbox

beforeAll(async () => {
  sandbox = await SandboxServer.start({
    name: "core-http",
    routes: [
      { name: "ok", method: "GET", path: "/ok", handler: () => SandboxServer.json(200, { id: "576461413038785752" }) },
      {
        name: "echo",
        method: "POST",
        path: "/echo",
        // Echoes what it received, secrets included, as careless platforms do in error bodies.
        handler: (request) =>
          SandboxServer.json(
            200,
            { received: JSON.parse(request.text || "{}"), authorization: request.headers.authorization ?? null },
            { "set-cookie": "session=cookie-secret-value" }
          )
      },
      {
        name: "status",
        method: "GET",
        path: /^\/status\/(?<code>\d{3})$/,
        handler: (request) => SandboxServer.json(Number(request.params.code), { error: "as asked" })
      },
      { name: "text", method: "GET", path: "/text", handler: () => ({ status: 200, body: "<html>maintenance</html>" }) }
    ]
  })
})

afterAll(() => sandbox.close())

const secrets = {
  bearer: "bearer-secret-0123456789",
  appSecret: "app-secret-abcdef123456",
  clientSecret: "client-secret-in-query-77",
  queryToken: "access-token-in-query-88",
  bodySecret: "client-secret-in-body-99",
  bodyRefresh: "refresh-token-in-body-42"
}

const layer = NodeHttpClient.layerUndici

const client = (options: ConnectorHttp.HttpOptions = {}) =>
  ConnectorHttp.make({ connection: "shop-1", secrets: [Redacted.make(secrets.appSecret)], ...options })

const get = (path: string) => HttpClientRequest.get(`${sandbox.url}${path}`)

/** Sends one request and classifies the answer as a connector would. */
const classify = (
  request: HttpClientRequest.HttpClientRequest,
  options: ConnectorHttp.SendOptions = {}
): Effect.Effect<ConnectorError.ConnectorError | "ok", never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* client()
    const result = yield* http.send(request, options)
    const error = ConnectorHttp.classifyStatus(result, Date.now(), "shop-1")
    if (error !== undefined) return error
    return yield* Effect.as(
      ConnectorHttp.decodeJson(Schema.Struct({ id: Schema.String }), result, "shop-1"),
      "ok" as const
    )
  }).pipe(Effect.merge)

const tagOf = (x: ConnectorError.ConnectorError | "ok") => (x === "ok" ? "ok" : x._tag)

describe("ConnectorHttp classifies answers", () => {
  it.live("2xx with the expected JSON is success", () =>
    Effect.gen(function* () {
      expect(yield* classify(get("/ok"))).toBe("ok")
    }).pipe(Effect.provide(layer))
  )

  it.live.each([
    [401, "AuthExpired"],
    [403, "ScopeMissing"],
    [404, "NotFound"],
    [409, "Rejected"],
    [422, "Rejected"],
    [408, "Transient"],
    [500, "Transient"],
    [502, "Transient"],
    [503, "Transient"]
  ] as const)("HTTP %i is %s", ([status, tag]) =>
    Effect.gen(function* () {
      const error = yield* classify(get(`/status/${status}`))
      expect(tagOf(error)).toBe(tag)
      if (error !== "ok") {
        expect(error.httpStatus).toBe(status)
        expect(error.code).toBe(String(status))
        expect(error.connection).toBe("shop-1")
        expect(error.exchange?.status).toBe(status)
      }
    }).pipe(Effect.provide(layer))
  )

  it.live("429 with Retry-After in seconds is RateLimited for that long", () =>
    Effect.gen(function* () {
      sandbox.fault("ok", { retryAfterSeconds: 7, times: 1 })
      const error = yield* classify(get("/ok"))
      expect(tagOf(error)).toBe("RateLimited")
      if (error !== "ok" && error._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(7000)
    }).pipe(Effect.provide(layer))
  )

  it("429 with Retry-After as an HTTP date waits until that date; absent or unreadable falls back", () => {
    const now = Date.parse("Wed, 26 Nov 2026 12:00:00 GMT")
    expect(Duration.toMillis(ConnectorHttp.parseRetryAfter("Wed, 26 Nov 2026 12:00:30 GMT", now))).toBe(30_000)
    expect(Duration.toMillis(ConnectorHttp.parseRetryAfter("Wed, 26 Nov 2026 11:59:00 GMT", now))).toBe(0)
    expect(Duration.toMillis(ConnectorHttp.parseRetryAfter("1.5", now))).toBe(1500)
    expect(Duration.toMillis(ConnectorHttp.parseRetryAfter(undefined, now))).toBe(1000)
    expect(Duration.toMillis(ConnectorHttp.parseRetryAfter("soon", now, Duration.seconds(5)))).toBe(5000)
  })

  it.live("429 with Retry-After as an HTTP date, over the wire, waits until that date", () =>
    Effect.gen(function* () {
      const at = "Wed, 26 Nov 2026 12:01:00 GMT"
      sandbox.fault("ok", { status: 429, headers: { "retry-after": at }, times: 1 })
      const http = yield* client()
      const result = yield* http.send(get("/ok"))
      const error = ConnectorHttp.classifyStatus(result, Date.parse(at) - 60_000, "shop-1")
      expect(error?._tag).toBe("RateLimited")
      if (error?._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(60_000)
    }).pipe(Effect.provide(layer))
  )

  it.live("no answer within the timeout is Transient", () =>
    Effect.gen(function* () {
      sandbox.fault("ok", { hang: true, times: 1 })
      const error = yield* classify(get("/ok"), { timeout: Duration.millis(200) })
      expect(tagOf(error)).toBe("Transient")
      if (error !== "ok") expect(error.message).toMatch(/no response within/)
    }).pipe(Effect.provide(layer))
  )

  it.live("a dropped connection is Transient", () =>
    Effect.gen(function* () {
      sandbox.fault("ok", { drop: true, times: 1 })
      const error = yield* classify(get("/ok"))
      expect(tagOf(error)).toBe("Transient")
      if (error !== "ok") expect(error.message).toMatch(/request failed|response failed/)
    }).pipe(Effect.provide(layer))
  )

  it.live("an empty 200 is Transient", () =>
    Effect.gen(function* () {
      sandbox.fault("ok", { empty: true, times: 1 })
      const error = yield* classify(get("/ok"))
      expect(tagOf(error)).toBe("Transient")
      if (error !== "ok") expect(error.message).toBe("HTTP 200 with an empty body")
    }).pipe(Effect.provide(layer))
  )

  it.live("a 200 that is not JSON, or JSON of the wrong shape, is Transient", () =>
    Effect.gen(function* () {
      const html = yield* classify(get("/text"))
      expect(tagOf(html)).toBe("Transient")
      if (html !== "ok") expect(html.message).toBe("HTTP 200 with a body that is not JSON")
      // A 64-bit id sent as a JSON number: it must be refused, not rounded.
      sandbox.fault("ok", { status: 200, body: '{"id":576461413038785752}', times: 1 })
      const numeric = yield* classify(get("/ok"))
      expect(tagOf(numeric)).toBe("Transient")
      if (numeric !== "ok") expect(numeric.message).toMatch(/unexpected body.*Expected string/s)
    }).pipe(Effect.provide(layer))
  )
})

describe("ConnectorHttp redaction", () => {
  const leaky = () =>
    HttpClientRequest.post(`${sandbox.url}/echo`).pipe(
      HttpClientRequest.setUrlParams({
        access_token: secrets.queryToken,
        client_secret: secrets.clientSecret,
        shop: "ok-to-show"
      }),
      HttpClientRequest.bearerToken(secrets.bearer),
      HttpClientRequest.setHeader("x-app-sign", `sign(${secrets.appSecret})`),
      HttpClientRequest.bodyUnsafeJson({
        client_secret: secrets.bodySecret,
        nested: { refresh_token: secrets.bodyRefresh },
        name: "visible-name"
      })
    )

  const expectClean = (text: string) => {
    for (const value of Object.values(secrets)) expect(text).not.toContain(value)
    expect(text).not.toContain("cookie-secret-value")
  }

  it.live("keeps every secret out of the cURL line and the exchange, and keeps the rest readable", () =>
    Effect.gen(function* () {
      const http = yield* client()
      const result = yield* http.send(leaky(), { secrets: [secrets.bearer] })
      const { exchange } = result
      expectClean(JSON.stringify(exchange))
      expect(exchange.curl).toMatch(/^curl -X POST '/)
      expect(exchange.curl).toContain("shop=ok-to-show")
      expect(exchange.curl).toContain("access_token=***")
      expect(exchange.curl).toContain("client_secret=***")
      expect(exchange.curl).toContain("authorization: ***")
      expect(exchange.curl).toContain("visible-name")
      expect(exchange.responseHeaders?.["set-cookie"]).toBe("***")
      expect(exchange.responseBody).toContain("visible-name")
      // The platform's echo carried the secrets; the exchange must not.
      expect(result.text).toContain(secrets.bodySecret)
    }).pipe(Effect.provide(layer))
  )

  it.live("keeps secrets out of errors built from the answer", () =>
    Effect.gen(function* () {
      sandbox.fault("echo", {
        status: 400,
        headers: { "content-type": "application/json" },
        body: { error: "bad", client_secret: secrets.bodySecret, hint: `try ${secrets.appSecret}` },
        times: 1
      })
      const http = yield* client()
      const result = yield* http.send(leaky(), { secrets: [secrets.bearer] })
      const error = ConnectorHttp.classifyStatus(result, Date.now(), "shop-1")
      expect(error?._tag).toBe("Rejected")
      expectClean(JSON.stringify(error))
      expectClean(error?.message ?? "")
      expect(Schema.encodeSync(ConnectorError.ConnectorError)(error!)).toBeDefined()
    }).pipe(Effect.provide(layer))
  )

  it.live("keeps secrets out of a failed call's error", () =>
    Effect.gen(function* () {
      sandbox.fault("echo", { drop: true, times: 1 })
      const http = yield* client()
      const error = yield* Effect.flip(http.send(leaky(), { secrets: [secrets.bearer] }))
      expect(error._tag).toBe("Transient")
      expect(error.exchange?.curl).toMatch(/^curl -X POST/)
      expectClean(JSON.stringify(error))
    }).pipe(Effect.provide(layer))
  )

  it.live("logs the redacted cURL line in debug mode, and nothing otherwise", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => {
          lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
        })
      )
      const send = Effect.flatMap(client(), (http) => http.send(leaky(), { secrets: [secrets.bearer] }))
      yield* send.pipe(Effect.provide(capture))
      expect(lines).toEqual([])
      yield* send.pipe(Effect.provide(capture), Effect.provideService(ConnectorHttp.HttpDebug, true))
      const curl = lines.find((l) => l.startsWith("curl -X POST"))
      expect(curl).toBeDefined()
      expect(curl).toContain("client_secret=***")
      expect(lines.some((l) => /^← 200 in \d+ ms$/.test(l))).toBe(true)
      for (const line of lines) expectClean(line)
    }).pipe(Effect.provide(layer))
  )
})
