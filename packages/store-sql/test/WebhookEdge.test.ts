/**
 * The webhook edge over real HTTP on both dialects: the edge is mounted in a Node HTTP server on a
 * free port, deliveries are posted with `fetch`, and every assertion reads the database.
 */

import * as Http from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, expect, layer } from "@effect/vitest"
import { DeadLetter, Inbox, WebhookEdge } from "@tkbridge/core"
import { Effect, Layer } from "effect"
import * as fc from "fast-check"
import { countRows, dialects, hmacReceiver, sign, signatureHeader } from "./support.ts"

const secret = "edge-test-app-secret"
const connection = "tts-edge"
const maxBytes = 1024 * 1024

/** Inbox ids the notify hook was called with. */
const notified: Array<number> = []

const edge = (dialect: (typeof dialects)[number]) =>
  HttpServer.serve(WebhookEdge.router).pipe(
    Layer.provide(
      WebhookEdge.layer({
        maxBytes,
        notify: ({ id }) => Effect.sync(() => void notified.push(id))
      })
    ),
    Layer.provide(WebhookEdge.receivers({ [connection]: hmacReceiver(secret) })),
    Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(dialect.layer())
  )

const baseUrl = HttpServer.addressWith((address) =>
  Effect.succeed(address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "")
)

const post = (path: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  Effect.flatMap(baseUrl, (url) =>
    Effect.promise(async () => {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body
      })
      return { status: response.status, text: await response.text() }
    })
  )

const signed = (body: Uint8Array | string) => ({ [signatureHeader]: sign(secret, body) })
const order = (id: string, orderId = "5770000000000000001") =>
  JSON.stringify({ id, topic: "ORDER_STATUS_CHANGE", orderId, updatedAt: 1_700_000_000_000 })

const rowsFor = (dedupeKey: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ id: number; status: string; body: Uint8Array }>`SELECT id, status, body FROM tkb_inbox
      WHERE connection = ${connection} AND dedupe_key = ${dedupeKey}`
  })

for (const dialect of dialects) {
  layer(edge(dialect), { timeout: "300 seconds", excludeTestServices: true })(
    `WebhookEdge over HTTP (${dialect.name})`,
    (it) => {
      it.effect("a signed delivery is stored byte-exact and answered 200 with an empty body", () =>
        Effect.gen(function* () {
          // odd spacing and a non-ASCII name: the stored body must be these exact bytes
          const body = `{ "id":"evt-ok-1",  "topic":"ORDER_STATUS_CHANGE","orderId":"5770000000000000001","note":"Zoë" }`
          const answer = yield* post(`/webhooks/${connection}`, body, signed(body))
          expect(answer).toEqual({ status: 200, text: "" })
          const rows = yield* rowsFor("evt-ok-1")
          expect(rows.map((r) => r.status)).toEqual(["pending"])
          expect(Buffer.from(rows[0]!.body).toString("utf8")).toBe(body)
          expect(notified).toContain(Number(rows[0]!.id))
        })
      )

      it.effect("a forged or missing signature is answered 401 and nothing is stored", () =>
        Effect.gen(function* () {
          const body = order("evt-forged")
          const forged = yield* post(`/webhooks/${connection}`, body, {
            [signatureHeader]: sign("not-the-secret", body)
          })
          expect(forged).toEqual({ status: 401, text: "" })
          const missing = yield* post(`/webhooks/${connection}`, body)
          expect(missing.status).toBe(401)
          const tampered = yield* post(`/webhooks/${connection}`, `${body} `, signed(body))
          expect(tampered.status).toBe(401)
          expect(yield* rowsFor("evt-forged")).toEqual([])
        })
      )

      it.effect("a 2 MB body is answered 413 whether or not it declares its length", () =>
        Effect.gen(function* () {
          const big = `{"id":"evt-big","topic":"t","orderId":"1","pad":"${"x".repeat(2 * 1024 * 1024)}"}`
          const declared = yield* post(`/webhooks/${connection}`, big, signed(big))
          expect(declared.status).toBe(413)
          const url = yield* baseUrl
          const chunked = yield* Effect.promise(async () => {
            const stream = new ReadableStream<Uint8Array>({
              start(controller) {
                const chunk = new TextEncoder().encode("x".repeat(64 * 1024))
                for (let i = 0; i < 32; i++) controller.enqueue(chunk)
                controller.close()
              }
            })
            const response = await fetch(`${url}/webhooks/${connection}`, {
              method: "POST",
              body: stream,
              headers: signed("whatever"),
              duplex: "half"
            } as RequestInit)
            return response.status
          })
          expect(chunked).toBe(413)
          expect(yield* rowsFor("evt-big")).toEqual([])
        })
      )

      it.effect("invalid JSON is answered 400 and recorded as a dead letter, not as an event", () =>
        Effect.gen(function* () {
          const letters = yield* DeadLetter.DeadLetters
          const inbox = yield* Inbox.Inbox
          const body = '{"id":"evt-broken","topic":'
          const answer = yield* post(`/webhooks/${connection}`, body, signed(body))
          expect(answer.status).toBe(400)
          expect(JSON.parse(answer.text)).toEqual({ error: "malformed", message: "the body could not be understood" })
          const malformed = (yield* letters.list({ connection, reason: "malformed_payload", limit: 10_000 })).filter(
            (l) => l.kind === "inbox"
          )
          const shown = yield* Effect.forEach(malformed, (l) => letters.show(l.id))
          const ours = shown.filter((s) => s._tag === "Some" && s.value.source?.["body"] === body)
          expect(ours).toHaveLength(1)
          const pending = yield* inbox.pending({ dueAt: new Date(8.64e15), connection, limit: 10_000 })
          const bodies = yield* Effect.forEach(pending, (p) => inbox.get(p.id))
          expect(
            bodies.some((b) => b._tag === "Some" && new TextDecoder().decode(b.value.request.rawBody) === body)
          ).toBe(false)
        })
      )

      it.effect("a redelivery is answered 200 and stores nothing new", () =>
        Effect.gen(function* () {
          const body = order("evt-dup")
          expect((yield* post(`/webhooks/${connection}`, body, signed(body))).status).toBe(200)
          const before = notified.length
          expect((yield* post(`/webhooks/${connection}`, body, signed(body))).status).toBe(200)
          expect(yield* rowsFor("evt-dup")).toHaveLength(1)
          expect(notified.length).toBe(before)
        })
      )

      it.effect("concurrent redeliveries: all answered 200, one row", () =>
        Effect.gen(function* () {
          const body = order("evt-storm")
          const answers = yield* Effect.all(
            Array.from({ length: 24 }, () => post(`/webhooks/${connection}`, body, signed(body))),
            { concurrency: "unbounded" }
          )
          expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200))
          expect(yield* rowsFor("evt-storm")).toHaveLength(1)
        })
      )

      it.effect("a connection that takes no webhooks is 404", () =>
        Effect.gen(function* () {
          const body = order("evt-nowhere")
          expect((yield* post("/webhooks/unknown-shop", body, signed(body))).status).toBe(404)
          expect((yield* post("/webhooks/", body, signed(body))).status).toBe(404)
        })
      )

      it.effect(
        "fuzz: 5,000 random bodies — no crash, no 5xx, and no garbage stored as an event",
        () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient.SqlClient
            const receiver = hmacReceiver(secret)
            const valid = fc
              .record({
                id: fc.string({ minLength: 1, maxLength: 40 }),
                topic: fc.constantFrom("ORDER_STATUS_CHANGE", "orders/updated"),
                orderId: fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String)
              })
              .map((r) => JSON.stringify(r))
            const bodies = fc.sample(
              fc.tuple(
                fc.oneof(
                  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 600 }) },
                  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
                  { weight: 2, arbitrary: fc.string({ maxLength: 300, unit: "binary" }) },
                  {
                    weight: 2,
                    arbitrary: fc
                      .record({ id: fc.anything(), topic: fc.anything(), orderId: fc.anything() }, { requiredKeys: [] })
                      .map((r) => {
                        try {
                          return JSON.stringify(r) ?? "null"
                        } catch {
                          return "{}"
                        }
                      })
                  },
                  { weight: 1, arbitrary: valid }
                ),
                fc.constantFrom("signed", "signed", "forged", "unsigned")
              ),
              { numRuns: 5_000, seed: 20_261_126 }
            )
            const answers = yield* Effect.forEach(
              bodies,
              ([body, how]) => {
                const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body
                const headers =
                  how === "signed"
                    ? signed(bytes)
                    : how === "forged"
                      ? { [signatureHeader]: sign("forged", bytes) }
                      : ({} as Record<string, string>)
                return post(`/webhooks/${connection}`, bytes, headers).pipe(
                  Effect.map((answer) => ({ answer, how, bytes }))
                )
              },
              { concurrency: 16 }
            )
            expect(answers).toHaveLength(5_000)
            for (const { answer, how } of answers) {
              expect([200, 400, 401, 413]).toContain(answer.status)
              if (how !== "signed") expect(answer.status).toBe(401)
            }
            const statuses = new Set(answers.filter((a) => a.how === "signed").map((a) => a.answer.status))
            expect(statuses).toEqual(new Set([200, 400]))
            // every pending entry decodes to a real event; everything refused as 400 sits in the dead letters
            const pending = yield* sql<{ id: number; body: Uint8Array; headers: string }>`SELECT id, body, headers
              FROM tkb_inbox WHERE connection = ${connection} AND status = 'pending'`
            for (const row of pending) {
              const decoded = yield* Effect.either(
                receiver.decode({ method: "POST", url: "/", headers: JSON.parse(row.headers), rawBody: row.body })
              )
              assert(decoded._tag === "Right", `stored garbage in inbox entry ${row.id}`)
            }
            const rejected = new Set(
              answers.filter((a) => a.answer.status === 400).map((a) => Buffer.from(a.bytes).toString("base64"))
            )
            const dead = yield* sql<{ body: Uint8Array }>`SELECT i.body FROM tkb_inbox i
              JOIN tkb_dead_letters d ON d.kind = 'inbox' AND d.source_key = CAST(i.id AS TEXT)
              WHERE i.connection = ${connection} AND i.status = 'dead' AND d.reason = 'malformed_payload'`
            const recorded = new Set(dead.map((r) => Buffer.from(r.body).toString("base64")))
            for (const body of rejected) expect(recorded.has(body)).toBe(true)
            // and the server still answers
            const body = order("evt-after-fuzz")
            expect((yield* post(`/webhooks/${connection}`, body, signed(body))).status).toBe(200)
            expect(yield* countRows("tkb_inbox", "dedupe_key", "evt-after-fuzz")).toBe(1)
          }),
        240_000
      )
    }
  )
}
