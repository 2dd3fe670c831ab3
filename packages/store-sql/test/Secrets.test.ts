/**
 * No secret leaves through the side doors. One run exercises everything that writes text an operator
 * or a log shipper will read — debug cURL lines, failed partner calls classified into the taxonomy,
 * dead letters with their attempts, the audit trail, the webhook edge's logs for forged and malformed
 * deliveries, token refresh conflicts and revocations — against a careless fake platform that echoes
 * credentials back in bodies, headers and redirect URLs. Then it scans every log line, cURL line,
 * stored dead letter, attempt, audit row, inbox header and error message for the secrets in use.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, expect, layer } from "@effect/vitest"
import {
  AccessToken,
  Audit,
  ConnectorError,
  ConnectorHttp,
  DeadLetter,
  Inbox,
  Outbox,
  TokenStore,
  WebhookEdge
} from "@tkbridge/core"
import { TokenCipher } from "@tkbridge/store-sql"
import { Cause, Duration, Effect, HashMap, Layer, Logger, Option, Redacted } from "effect"
import { dialects, hmacReceiver, sign, signatureHeader, unique } from "./support.ts"

const secrets = {
  appSecret: "app-secret-7f3a9c1e5b2d",
  accessToken: "ROW_access-token-1a2b3c4d5e",
  refreshToken: "ROW_refresh-token-9z8y7x6w5v",
  newAccessToken: "ROW_access-token-NEW-42ab",
  newRefreshToken: "ROW_refresh-token-NEW-77cd",
  clientSecret: "client-secret-0f9e8d7c6b",
  tokenKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
}

const forms = (value: string) => [value, encodeURIComponent(value), Buffer.from(value).toString("base64")]

let platform: Http.Server
let base = ""

beforeAll(async () => {
  // A careless platform: it echoes credentials in error bodies, cookies and redirect URLs.
  platform = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://platform")
      const echo = {
        received_token: req.headers["x-tts-access-token"],
        query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks).toString("utf8")
      }
      switch (url.pathname) {
        case "/product/202309/products/1/inventory/update":
          res.writeHead(400, {
            "content-type": "application/json",
            "set-cookie": `sid=${secrets.accessToken}`,
            location: `https://seller.example/cb?access_token=${secrets.accessToken}`
          })
          res.end(JSON.stringify({ code: 12052700, message: `token ${secrets.accessToken} may not write`, echo }))
          return
        case "/fulfillment/202309/packages/ship":
          res.writeHead(503, { "content-type": "text/plain" })
          res.end(`upstream failed for ${secrets.accessToken} / ${secrets.clientSecret}`)
          return
        case "/api/v2/token/refresh":
          res.writeHead(200, { "content-type": "application/json" })
          res.end(
            JSON.stringify({
              code: 0,
              data: {
                access_token: secrets.newAccessToken,
                refresh_token: secrets.newRefreshToken,
                access_token_expire_in: 1_900_000_000
              }
            })
          )
          return
        default:
          // never answers: the client's timeout fires
          return
      }
    })
  })
  await new Promise<void>((resolve) => platform.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`
})

afterAll(() => {
  platform.closeAllConnections()
  return new Promise<void>((resolve) => platform.close(() => resolve()))
})

const cipher = Layer.orDie(TokenCipher.layer(Redacted.make(secrets.tokenKey)))

for (const dialect of dialects) {
  layer(Layer.merge(dialect.layer(cipher), NodeHttpClient.layerUndici), {
    timeout: "120 seconds",
    excludeTestServices: true
  })(`No secret in logs, cURL lines, dead letters or errors (${dialect.name})`, (it) => {
    it.effect("a run full of failures leaks nothing", () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const errors: Array<unknown> = []
        const logger = Logger.make(({ annotations, cause, message }) => {
          lines.push(
            JSON.stringify({
              message,
              annotations: Object.fromEntries(HashMap.toEntries(annotations)),
              cause: Cause.isEmpty(cause) ? undefined : Cause.pretty(cause, { renderErrorCause: true })
            })
          )
        })
        const connection = unique("tiktok-uk")
        const outbox = yield* Outbox.StockOutbox
        const jobs = yield* Outbox.OutboundJobs
        const letters = yield* DeadLetter.DeadLetters
        const audit = yield* Audit.Audit
        const tokens = yield* TokenStore.TokenStore
        const sql = yield* SqlClient.SqlClient

        const run = Effect.gen(function* () {
          const http = yield* ConnectorHttp.make({
            connection,
            timeout: Duration.millis(300),
            secrets: [Redacted.make(secrets.appSecret), Redacted.make(secrets.clientSecret)]
          })
          const signed = (path: string, body: unknown) =>
            HttpClientRequest.post(`${base}${path}`).pipe(
              HttpClientRequest.setUrlParams({ app_key: "6abc", sign: "f00d", app_secret: secrets.appSecret }),
              HttpClientRequest.setHeader("x-tts-access-token", secrets.accessToken),
              HttpClientRequest.bodyUnsafeJson(body)
            )

          // 1. A stock push the platform rejects: dead letter with the exchange, audit row.
          yield* outbox.setDesired({ connection, listing: "TEE-RED-M", quantity: 4 })
          const [claim] = yield* outbox.claimDue({ connection, limit: 1, leaseMs: 10_000 })
          const rejected = yield* http.send(
            signed("/product/202309/products/1/inventory/update", {
              skus: [{ id: "1729", inventory: [{ quantity: 4 }] }],
              access_token: secrets.accessToken
            }),
            { secrets: [Redacted.make(secrets.accessToken)] }
          )
          const stockError = ConnectorHttp.classifyStatus(rejected, Date.now(), connection)!
          errors.push(stockError)
          yield* outbox.deadLetter(claim!, {
            reason: DeadLetter.reasonFor(stockError),
            message: stockError.message,
            error: stockError
          })
          yield* audit.append(
            Audit.outboundWrite({
              connection,
              operation: "stock.push",
              subject: "TEE-RED-M",
              idempotencyKey: claim!.idempotencyKey,
              outcome: `failed:${stockError._tag}`,
              exchange: rejected.exchange,
              request: { accessToken: Redacted.make(secrets.accessToken) }
            })
          )

          // 2. A fulfilment write that keeps failing (5xx, then a timeout) until it is dead-lettered.
          yield* jobs.enqueue({
            connection,
            kind: "fulfillment.ship",
            lane: "high",
            idempotencyKey: "ship:577000000000000001",
            payload: { packageId: "1153", trackingNumber: "4PX300123" }
          })
          const job = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))
          const failed = yield* http.send(signed("/fulfillment/202309/packages/ship", { package_id: "1153" }), {
            secrets: [Redacted.make(secrets.accessToken)]
          })
          const shipError = ConnectorHttp.classifyStatus(failed, Date.now(), connection)!
          errors.push(shipError)
          yield* jobs.fail(job, { message: shipError.message, error: shipError, retryAt: new Date(0) })
          const again = Option.getOrThrow(yield* jobs.claimNext({ connection, leaseMs: 10_000 }))
          const timeout = yield* Effect.flip(
            http.send(signed("/never-answers", { token: secrets.accessToken }), {
              secrets: [Redacted.make(secrets.accessToken)]
            })
          )
          errors.push(timeout)
          yield* jobs.deadLetter(again, { reason: "retry_exhausted", message: timeout.message, error: timeout })

          // 3. A token refresh: stored encrypted; a second refresher loses; then the seller revokes.
          yield* tokens.save(
            connection,
            new AccessToken.TokenSet({
              accessToken: Redacted.make(secrets.accessToken),
              refreshToken: Redacted.make(secrets.refreshToken)
            })
          )
          const refreshed = yield* http.send(
            HttpClientRequest.post(`${base}/api/v2/token/refresh`).pipe(
              HttpClientRequest.bodyUrlParams({
                grant_type: "refresh_token",
                refresh_token: secrets.refreshToken,
                client_secret: secrets.clientSecret
              })
            ),
            { secrets: [Redacted.make(secrets.refreshToken)] }
          )
          yield* Effect.logInfo(`refresh answered ${refreshed.status}`).pipe(
            Effect.annotateLogs("exchange", refreshed.exchange)
          )
          const grant = new AccessToken.TokenSet({
            accessToken: Redacted.make(secrets.newAccessToken),
            refreshToken: Redacted.make(secrets.newRefreshToken)
          })
          yield* Effect.logInfo("token refreshed").pipe(Effect.annotateLogs("grant", grant))
          yield* tokens.rotate(connection, 1, grant)
          const conflict = yield* Effect.flip(tokens.rotate(connection, 1, grant))
          errors.push(conflict)
          yield* tokens.markNeedsReauth(
            connection,
            new ConnectorError.AuthRevoked({ message: "seller deauthorized", connection }).message
          )

          // 4. The webhook edge: forged, malformed and good deliveries.
          const edge = yield* WebhookEdge.make({}).pipe(
            Effect.provide(WebhookEdge.receivers({ [connection]: hmacReceiver(secrets.appSecret) }))
          )
          const deliver = (body: string, signature: string) =>
            edge.receive(connection, {
              method: "POST",
              url: `/webhooks/${connection}?token=${encodeURIComponent(secrets.accessToken)}`,
              headers: { [signatureHeader]: signature, authorization: `Bearer ${secrets.accessToken}` },
              rawBody: new TextEncoder().encode(body)
            })
          yield* deliver('{"id":"e1","topic":"t","orderId":"1"}', sign("wrong", "x"))
          yield* deliver(`{"id":`, sign(secrets.appSecret, `{"id":`))
          yield* deliver(
            '{"id":"e2","topic":"t","orderId":"1"}',
            sign(secrets.appSecret, '{"id":"e2","topic":"t","orderId":"1"}')
          )
        }).pipe(
          Effect.provideService(ConnectorHttp.HttpDebug, true),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )

        yield* run

        // Everything an operator or a log shipper can read:
        const shown = yield* Effect.forEach(yield* letters.list({ connection, status: "any" }), (l) =>
          letters.show(l.id)
        )
        const rows = yield* Effect.all([
          sql`SELECT * FROM tkb_dead_letters WHERE connection = ${connection}`,
          sql`SELECT * FROM tkb_attempts WHERE connection = ${connection}`,
          sql`SELECT * FROM tkb_audit WHERE connection = ${connection}`,
          sql`SELECT headers, url, last_error FROM tkb_inbox WHERE connection = ${connection}`,
          sql`SELECT reauth_reason, access_token, refresh_token FROM tkb_tokens WHERE connection = ${connection}`
        ])
        const curlLines = lines.filter((l) => l.includes("curl -X"))
        expect(curlLines.length).toBeGreaterThanOrEqual(4)
        expect(shown.length).toBe(3) // stock push, job, malformed delivery
        expect(lines.some((l) => l.includes("signature rejected"))).toBe(true)
        expect(lines.some((l) => l.includes("malformed delivery recorded"))).toBe(true)
        const corpus = [
          ...lines,
          ...shown.map((s) => JSON.stringify(s)),
          ...rows.map((r) => JSON.stringify(r)),
          ...errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).message}`)
        ]
        for (const text of corpus) {
          for (const secret of Object.values(secrets)) {
            for (const form of forms(secret)) expect(text, `leaked ${form}`).not.toContain(form)
          }
        }
        // and the secrets were really in play: tokens are stored (encrypted) and readable
        const stored = Option.getOrThrow(yield* tokens.get(connection))
        expect(Redacted.value(stored.tokens.accessToken)).toBe(secrets.newAccessToken)
        expect(yield* Inbox.Inbox.pipe(Effect.flatMap((i) => i.depth))).toEqual(
          expect.arrayContaining([expect.objectContaining({ connection, pending: 1, dead: 1 })])
        )
      })
    )
  })
}
