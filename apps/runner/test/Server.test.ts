import * as Crypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ChannelEvent, Webhook, WebhookEdge } from "@tkbridge/core"
import { SqlInbox, SqlStore, SqlTesting } from "@tkbridge/store-sql"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { mask } from "../src/Log.ts"
import * as Metrics from "../src/Metrics.ts"
import * as SelfTest from "../src/SelfTest.ts"
import * as Server from "../src/Server.ts"
import { freePort } from "./support/Cli.ts"

const key = Redacted.make("k".repeat(64))

const withServer = <A>(
  ingress: Layer.Layer<never> | Layer.Layer<Server.WebhookIngress>,
  body: (base: string) => Promise<A>
) =>
  Effect.gen(function* () {
    const port = yield* Effect.promise(freePort)
    const layer = Server.layer({
      port,
      host: "127.0.0.1",
      connections: ["shop"],
      selfTestKey: key,
      maxBodyBytes: 1024
    }).pipe(Layer.provide(ingress as Layer.Layer<Server.WebhookIngress>), Layer.provide(Metrics.Metrics.layer))
    yield* Layer.launch(layer).pipe(Effect.forkScoped)
    const base = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100; i++) {
      const up = yield* Effect.promise(() =>
        fetch(`${base}/healthz`).then(
          () => true,
          () => false
        )
      )
      if (up) break
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.promise(() => body(base))
  }).pipe(Effect.scoped, Effect.runPromise)

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })

describe("Server", () => {
  it("answers doctor's signed self-test, refuses a wrong signature and 503s deliveries while no edge runs", async () => {
    await withServer(Layer.empty, async (base) => {
      const now = Date.now()
      const body = SelfTest.body(now)
      const ok = await post(`${base}/webhooks/shop`, body, { [SelfTest.HEADER]: SelfTest.sign(key, "shop", body, now) })
      expect([ok.status, ((await ok.json()) as { selfTest?: string }).selfTest]).toEqual([200, "ok"])
      const forged = await post(`${base}/webhooks/shop`, body, {
        [SelfTest.HEADER]: SelfTest.sign(Redacted.make("other"), "shop", body, now)
      })
      expect(forged.status).toBe(401)
      const otherConnection = await post(`${base}/webhooks/shop`, body, {
        [SelfTest.HEADER]: SelfTest.sign(key, "erp", body, now)
      })
      expect(otherConnection.status).toBe(401)
      expect((await post(`${base}/webhooks/shop`, "{}")).status).toBe(503)
      expect((await post(`${base}/webhooks/nobody`, "{}")).status).toBe(404)
      expect((await post(`${base}/webhooks/shop`, "x".repeat(2048))).status).toBe(413)
    })
  })

  it("hands deliveries to the webhook edge with the raw body and records ack latency in /metrics", async () => {
    const seen: Array<{ connection: string; body: string; signature: string | undefined }> = []
    const ingress = Layer.succeed(Server.WebhookIngress, {
      handle: (connection, request) =>
        Effect.sync(() => {
          seen.push({
            connection,
            body: new TextDecoder().decode(request.rawBody),
            signature: request.headers["x-sig"]
          })
          return { status: 200, body: { ok: true } }
        })
    })
    await withServer(ingress, async (base) => {
      const raw = '{"order_id":"576461413038785752", "b": 1}'
      const res = await post(`${base}/webhooks/shop`, raw, { "X-Sig": "abc" })
      expect(res.status).toBe(200)
      expect(seen).toEqual([{ connection: "shop", body: raw, signature: "abc" }])
      const metrics = await fetch(`${base}/metrics`)
      expect(metrics.headers.get("content-type")).toBe(Metrics.CONTENT_TYPE)
      const text = await metrics.text()
      expect(text).toContain("# TYPE tkbridge_webhook_ack_seconds histogram")
      expect(text).toContain('tkbridge_webhook_ack_seconds_count{connection="shop"} 1')
      expect(text).toContain('tkbridge_webhook_ack_seconds_bucket{connection="shop",le="+Inf"} 1')
      expect(text).toContain('tkbridge_webhooks_total{connection="shop",status="200"} 1')
      const health = await fetch(`${base}/healthz`)
      expect([health.status, ((await health.json()) as { status?: string }).status]).toEqual([200, "ok"])
    })
  })
})

describe("Server with the store's webhook edge", () => {
  it("stores a signed delivery once in the inbox, answers a redelivery as a duplicate and refuses a forgery", async () => {
    const secret = "edge-secret"
    const receiver = {
      verify: (request: Webhook.WebhookRequest) => {
        const given = request.headers["x-sig"] ?? ""
        const want = Crypto.createHmac("sha256", secret).update(request.rawBody).digest("hex")
        return given.length === want.length && Crypto.timingSafeEqual(Buffer.from(given), Buffer.from(want))
          ? Effect.void
          : Effect.fail(new Webhook.WebhookRejected({ reason: "bad_signature", message: "signature does not match" }))
      },
      decode: (request: Webhook.WebhookRequest) => {
        const body = JSON.parse(new TextDecoder().decode(request.rawBody)) as { id: string; topic: string }
        return Effect.succeed({
          dedupeKey: body.id,
          topic: body.topic,
          events: [ChannelEvent.Unhandled.make({ topic: body.topic })]
        })
      }
    }
    const store = Layer.provideMerge(Layer.effectDiscard(SqlStore.migrate.pipe(Effect.orDie)), SqlTesting.sqlite)
    const edge = Server.ingressFromEdge.pipe(
      Layer.provide(WebhookEdge.layer()),
      Layer.provide(WebhookEdge.receivers({ shop: receiver })),
      Layer.provide(SqlInbox.layer),
      Layer.provideMerge(store)
    )
    const runtime = ManagedRuntime.make(edge)
    const ingress = await runtime.runPromise(Effect.context<Server.WebhookIngress>())
    try {
      await withServer(Layer.succeedContext(ingress), async (base) => {
        const body = JSON.stringify({ id: "evt-576461413038785752", topic: "order.created" })
        const sig = Crypto.createHmac("sha256", secret).update(body).digest("hex")
        const first = await post(`${base}/webhooks/shop`, body, { "x-sig": sig })
        expect([first.status, await first.json()]).toEqual([200, { outcome: "stored" }])
        const again = await post(`${base}/webhooks/shop`, body, { "x-sig": sig })
        expect([again.status, ((await again.json()) as { outcome: string }).outcome]).toEqual([200, "duplicate"])
        const forged = await post(`${base}/webhooks/shop`, body.replace("created", "cancelled"), { "x-sig": sig })
        expect(forged.status).toBe(401)
      })
      const rows = await runtime.runPromise(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM tkb_inbox`)
      )
      expect(Number(rows[0]?.n)).toBe(1)
    } finally {
      await runtime.dispose()
    }
  })
})

describe("Metrics", () => {
  it("renders the Prometheus text format with escaped labels and collectors run at scrape time", async () => {
    const m = Metrics.makeRunnerMetrics()
    let depth = 3
    m.registry.collect(Effect.sync(() => m.inboxDepth.set({ connection: 'a"b' }, depth)))
    m.propagationDelay.observe({ channel: "shop" }, 0.3)
    m.propagationDelay.observe({ channel: "shop" }, 4)
    const first = await Effect.runPromise(m.registry.scrape)
    expect(first).toContain('tkbridge_inbox_depth{connection="a\\"b"} 3')
    expect(first).toContain('tkbridge_propagation_delay_seconds_bucket{channel="shop",le="0.5"} 1')
    expect(first).toContain('tkbridge_propagation_delay_seconds_bucket{channel="shop",le="5"} 2')
    expect(first).toContain('tkbridge_propagation_delay_seconds_sum{channel="shop"} 4.3')
    depth = 7
    expect(await Effect.runPromise(m.registry.scrape)).toContain('tkbridge_inbox_depth{connection="a\\"b"} 7')
  })
})

describe("Log", () => {
  it("masks buyer names, phones, e-mails and addresses but keeps platform ids", () => {
    expect(
      mask({
        orderId: "576461413038785752",
        buyer: { name: "Jane Doe", phone: "+44 7700 900123", email: "jane@example.com", address_line1: "1 High St" },
        note: "call +44 7700 900123 or mail jane@example.com",
        token: Redacted.make("secret")
      })
    ).toEqual({
      orderId: "576461413038785752",
      buyer: { name: "J*******", phone: "***-**23", email: "j***@***.com", address_line1: "1********" },
      note: "call ***-**23 or mail j***@***.com",
      token: "<redacted>"
    })
  })
})
