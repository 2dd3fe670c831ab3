/**
 * Server: the runner's HTTP server on @effect/platform-node — `/webhooks/<connection>` (the sync
 * engine's webhook edge), `/healthz` and `/metrics` (Prometheus text). Serves HTTPS itself when the
 * config names certificate files, or plain HTTP behind a TLS-terminating proxy.
 *
 * A webhook is answered as soon as it is durably stored; everything else happens after the answer
 * (TikTok wants an answer within 3 s, Shopify within 5 s). The edge that stores it is a service
 * (`WebhookIngress`) the engine wiring provides; without one the server answers 503 so platforms
 * retry later instead of believing a delivery was kept. `doctor`'s signed self-test is answered
 * here, before the edge, and stores nothing.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Webhook, WebhookEdge } from "@tkbridge/core"
import type { Redacted } from "effect"
import { Context, Effect, Layer, Option } from "effect"
import * as Metrics from "./Metrics.ts"
import * as SelfTest from "./SelfTest.ts"

/** What the edge answered for one delivery. */
export interface IngressResult {
  readonly status: number
  readonly body?: unknown
}

/** The webhook edge: verifies, stores and acknowledges one delivery for a connection. */
export class WebhookIngress extends Context.Tag("tkbridge/WebhookIngress")<
  WebhookIngress,
  { readonly handle: (connection: string, request: Webhook.WebhookRequest) => Effect.Effect<IngressResult> }
>() {}

/**
 * The sync-state store's webhook edge as the server's ingress: verify, record in the inbox, answer.
 * The answer carries the outcome (`stored`, `duplicate`, `unauthorized` …) and never a secret.
 */
export const ingressFromEdge: Layer.Layer<WebhookIngress, never, WebhookEdge.WebhookEdge> = Layer.effect(
  WebhookIngress,
  Effect.map(WebhookEdge.WebhookEdge, (edge) => ({
    handle: (connection, request) =>
      Effect.map(edge.receive(connection, request), (r) => ({
        status: r.status,
        body: { outcome: r.outcome, ...(r.message !== undefined ? { message: r.message } : {}) }
      }))
  }))
)

/** A readiness check shown by `/healthz`. */
export interface HealthCheck {
  readonly name: string
  readonly check: Effect.Effect<boolean>
}

/** What the server needs to know. */
export interface ServerOptions {
  readonly port: number
  readonly host: string
  readonly tls?: { readonly cert: string; readonly key: string } | undefined
  /** Configured connection names; deliveries to other names get 404. */
  readonly connections: ReadonlyArray<string>
  readonly selfTestKey: Redacted.Redacted<string>
  /** Largest webhook body accepted, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
  readonly health?: ReadonlyArray<HealthCheck> | undefined
  readonly version?: string | undefined
}

const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

/** The routes, as an app the caller serves (tests serve it on a random port). */
export const router = (options: ServerOptions) => {
  const known = new Set(options.connections)
  const maxBytes = options.maxBodyBytes ?? 1024 * 1024
  const started = Date.now()
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/healthz",
      Effect.gen(function* () {
        const results = yield* Effect.forEach(options.health ?? [], (h) =>
          h.check.pipe(
            Effect.catchAllCause(() => Effect.succeed(false)),
            Effect.map((ok) => [h.name, ok ? "ok" : "failing"] as const)
          )
        )
        const ok = results.every(([, r]) => r === "ok")
        return json(ok ? 200 : 503, {
          status: ok ? "ok" : "degraded",
          version: options.version,
          uptimeSeconds: Math.floor((Date.now() - started) / 1000),
          checks: Object.fromEntries(results)
        })
      })
    ),
    HttpRouter.get(
      "/metrics",
      Effect.flatMap(Metrics.Metrics, (m) => m.registry.scrape).pipe(
        Effect.map((text) => HttpServerResponse.text(text, { contentType: Metrics.CONTENT_TYPE }))
      )
    ),
    HttpRouter.post(
      "/webhooks/:connection",
      Effect.gen(function* () {
        const startedAt = performance.now()
        const metrics = yield* Metrics.Metrics
        const { connection } = yield* HttpRouter.params
        const request = yield* HttpServerRequest.HttpServerRequest
        const name = connection ?? ""
        const finish = (status: number, body: unknown, count: boolean) => {
          if (count) {
            metrics.webhookAck.observe({ connection: name }, (performance.now() - startedAt) / 1000)
            metrics.webhooks.inc({ connection: name, status: String(status) })
          }
          return json(status, body)
        }
        if (!known.has(name)) return finish(404, { error: `no connection named ${name}` }, false)
        const declared = Number(request.headers["content-length"] ?? "0")
        if (declared > maxBytes) return finish(413, { error: "body too large" }, true)
        const raw = yield* request.arrayBuffer.pipe(
          Effect.map((b) => new Uint8Array(b)),
          Effect.option
        )
        if (Option.isNone(raw) || raw.value.byteLength > maxBytes) {
          return finish(413, { error: "body too large or unreadable" }, true)
        }
        const headers = Webhook.normalizeHeaders(request.headers)
        const selfTest = headers[SelfTest.HEADER]
        if (selfTest !== undefined) {
          const text = new TextDecoder().decode(raw.value)
          if (SelfTest.verify(options.selfTestKey, name, text, selfTest, Date.now())) {
            return finish(200, { selfTest: "ok", connection: name, receivedAt: new Date().toISOString() }, false)
          }
          return finish(401, { error: "self-test signature does not match this runner's key" }, false)
        }
        const ingress = yield* Effect.serviceOption(WebhookIngress)
        if (Option.isNone(ingress)) {
          return finish(503, { error: "webhook edge is not running; deliver again later" }, true)
        }
        const result = yield* ingress.value.handle(name, {
          method: request.method,
          url: request.url,
          headers,
          rawBody: raw.value
        })
        return finish(result.status, result.body ?? {}, true)
      })
    )
  )
}

/** Serves the router on Node's http/https server for the lifetime of the layer. */
export const layer = (options: ServerOptions) => {
  const create = (): Http.Server =>
    options.tls
      ? Https.createServer({ cert: Fs.readFileSync(options.tls.cert), key: Fs.readFileSync(options.tls.key) })
      : Http.createServer()
  return HttpServer.serve(
    router(options).pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(json(404, { error: "not found" }))))
  ).pipe(
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(create, { port: options.port, host: options.host }))
  )
}
