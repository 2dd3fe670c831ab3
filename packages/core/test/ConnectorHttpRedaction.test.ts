/**
 * ConnectorHttp redaction beyond headers and JSON keys, over real HTTP: OAuth form bodies, secrets
 * inside URLs the platform answers with, credentials in the URL itself, secrets that appear JSON-
 * escaped, secret-looking parameter names — and an exchange body that stays byte-faithful (a 64-bit
 * id is not rounded by redaction). Also the tracing span each call leaves.
 */

import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConnectorHttp } from "@tkbridge/core"
import { Effect, Redacted, Tracer } from "effect"

const secrets = {
  accessToken: "AT-4f1c9e2b7d6a",
  refreshToken: "RT-8e2d4c6a0b1f",
  clientSecret: "CS-19af3b7c5e2d",
  password: "PW-7c3e1a9b5d2f",
  apiKey: "AK-2b9d7f1e3c5a",
  quoted: 'QS-"quoted"\\slash-6a1b'
}

let server: Http.Server
let base: string
let lastBody = ""

beforeAll(async () => {
  server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      lastBody = Buffer.concat(chunks).toString("utf8")
      const url = new URL(req.url ?? "/", "http://localhost")
      if (url.pathname === "/token") {
        res.writeHead(200, {
          "content-type": "application/json",
          location: `https://seller.example/callback?access_token=${secrets.accessToken}&state=visible-state`
        })
        // Hand-written, as platforms send it: a bare 64-bit number and odd spacing.
        res.end(
          `{"product_id": 576486316948490001,  "access_token":"${secrets.accessToken}","refresh_token" : "${secrets.refreshToken}","expires_in":7200,"note":"kept"}`
        )
        return
      }
      if (url.pathname === "/echo") {
        res.writeHead(400, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: "invalid", echoed: secrets.quoted }))
        return
      }
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const expectClean = (text: string) => {
  for (const value of Object.values(secrets)) expect(text).not.toContain(value)
}

const client = ConnectorHttp.make({ connection: "shop-1", secrets: [Redacted.make(secrets.quoted)] })

describe("ConnectorHttp redaction of bodies, URLs and answers", () => {
  it.live("an OAuth form body is redacted field by field in the cURL line", () =>
    Effect.gen(function* () {
      const http = yield* client
      const result = yield* http.send(
        HttpClientRequest.post(`${base}/token`).pipe(
          HttpClientRequest.bodyUrlParams({
            grant_type: "refresh_token",
            client_id: "visible-client",
            client_secret: secrets.clientSecret,
            refresh_token: secrets.refreshToken
          })
        )
      )
      // the platform received the real values; only our record is redacted
      expect(lastBody).toContain(encodeURIComponent(secrets.refreshToken))
      expectClean(result.exchange.curl)
      expect(result.exchange.curl).toContain("grant_type=refresh_token")
      expect(result.exchange.curl).toContain("client_id=visible-client")
      expect(result.exchange.curl).toContain("client_secret=***")
      expect(result.exchange.curl).toContain("refresh_token=***")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("the response body keeps its exact text, 64-bit ids included, with secret fields redacted", () =>
    Effect.gen(function* () {
      const http = yield* client
      const result = yield* http.send(HttpClientRequest.post(`${base}/token`))
      expect(result.exchange.responseBody).toBe(
        `{"product_id": 576486316948490001,  "access_token":"***","refresh_token" : "***","expires_in":7200,"note":"kept"}`
      )
      // the connector still reads the real answer
      expect(result.text).toContain(secrets.accessToken)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("secrets inside URLs in response headers are redacted, the rest kept", () =>
    Effect.gen(function* () {
      const http = yield* client
      const result = yield* http.send(HttpClientRequest.post(`${base}/token`))
      const location = result.exchange.responseHeaders?.["location"] ?? ""
      expectClean(location)
      expect(location).toContain("access_token=***")
      expect(location).toContain("state=visible-state")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("secret-looking query parameters are redacted by name", () =>
    Effect.gen(function* () {
      const http = yield* client
      const result = yield* http.send(
        HttpClientRequest.get(`${base}/ok`).pipe(
          HttpClientRequest.setUrlParams({ apiKey: secrets.apiKey, app_secret_v2: secrets.clientSecret, page: "2" })
        )
      )
      expectClean(result.exchange.curl)
      expectClean(result.exchange.url)
      expect(result.exchange.url).toContain("apiKey=***")
      expect(result.exchange.url).toContain("page=2")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("credentials in the URL never reach the record, whether or not the call succeeds", () =>
    Effect.gen(function* () {
      const http = yield* client
      const url = base.replace("http://", `http://legacy-user:${secrets.password}@`)
      const outcome = yield* http.send(HttpClientRequest.get(`${url}/ok`)).pipe(Effect.either)
      const record = JSON.stringify(outcome)
      expectClean(record)
      expect(record).toContain("***:***@127.0.0.1")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("a registered secret echoed JSON-escaped by the platform is scrubbed", () =>
    Effect.gen(function* () {
      const http = yield* client
      const result = yield* http.send(HttpClientRequest.post(`${base}/echo`))
      expect(result.text).toContain(JSON.stringify(secrets.quoted).slice(1, -1))
      expectClean(result.exchange.responseBody ?? "")
      const error = ConnectorHttp.classifyStatus(result, Date.now(), "shop-1")
      expect(error?._tag).toBe("Rejected")
      expectClean(error?.message ?? "")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it("redactJson and redactForm leave text without secrets untouched", () => {
    const json = '{"a": 1,"list":[1, 2],"big":18446744073709551615}'
    expect(ConnectorHttp.redactJson(json)).toBe(json)
    expect(ConnectorHttp.redactJson("not json: token=1")).toBe("not json: token=1")
    expect(ConnectorHttp.redactJson('{"msg":"he said \\"token\\": \\"x\\"","token":"t0k3n"}')).toBe(
      '{"msg":"he said \\"token\\": \\"x\\"","token":"***"}'
    )
    expect(ConnectorHttp.redactForm("a=1&b=two")).toBe("a=1&b=two")
    expect(ConnectorHttp.redactForm("code=abc&state=s")).toBe("code=***&state=s")
  })
})

describe("ConnectorHttp tracing", () => {
  it.live("each call leaves a span with the method, path and status, never the query", () =>
    Effect.gen(function* () {
      const spans: Array<{ name: string; attributes: Map<string, unknown> }> = []
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => {
          const attributes = new Map<string, unknown>()
          spans.push({ name, attributes })
          const span: Tracer.Span = {
            _tag: "Span",
            name,
            spanId: `span-${spans.length}`,
            traceId: "trace-1",
            parent,
            context,
            status: { _tag: "Started", startTime },
            attributes,
            links,
            sampled: true,
            kind,
            end: () => {},
            attribute: (key, value) => {
              attributes.set(key, value)
            },
            event: () => {},
            addLinks: () => {}
          }
          return span
        },
        context: (f) => f()
      })
      const http = yield* client
      yield* http
        .send(
          HttpClientRequest.get(`${base}/ok`).pipe(
            HttpClientRequest.setUrlParams({ access_token: secrets.accessToken })
          )
        )
        .pipe(Effect.withTracer(tracer))
      const span = spans.find((s) => s.name === "tkbridge.http")
      expect(span).toBeDefined()
      expect(Object.fromEntries(span!.attributes)).toMatchObject({
        "http.method": "GET",
        "url.path": "/ok",
        "http.status_code": 200,
        "tkbridge.connection": "shop-1"
      })
      expectClean(JSON.stringify([...span!.attributes]))
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )
})
