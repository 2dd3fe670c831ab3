/**
 * EdgeBench: how many verified, durably recorded webhooks per second the edge takes, and how fast it
 * answers at a fixed offered load of 1,000 deliveries per second — next to a ceiling measured in the
 * same run: a bare `node:http` server that inserts each raw body into SQLite (same durability: WAL,
 * `synchronous=FULL`, one commit per delivery) and does nothing else.
 *
 * Three kinds of process, so the load generator never shares a CPU queue with the server it measures:
 * - `serve-ceiling <dir>` / `serve-edge <dir>`: a server on a free port (prints `listening <port>`);
 * - `load <json options>`: a keep-alive `node:http` client, closed-loop (N workers, as fast as the
 *   server answers) or open-loop (requests sent on a fixed schedule; latency measured from the
 *   scheduled send time, so a stalled server cannot hide its queue);
 * - `run(out)`: the orchestrator, which starts the others and writes the results JSON.
 *
 * Deliveries are TikTok Shop shaped: `Authorization: hex(HMAC-SHA256(app_secret, app_key + body))`,
 * a unique `tts_notification_id` each, an order-status payload with 64-bit ids as strings.
 */

import * as Child from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { Connector } from "@tkbridge/core"
import { ChannelEvent, Webhook, WebhookEdge } from "@tkbridge/core"
import { SqlInbox, SqlStore } from "@tkbridge/store-sql"
import { Effect, Layer, Schema } from "effect"

const appKey = "6bench0appkey"
const appSecret = "bench-app-secret-0123456789abcdef"
const connection = "tiktok-bench"
// Both servers keep idle connections longer than the generator leaves them idle, so no request is
// sent on a connection the server is closing (a reset the benchmark would count as a failure).
const keepAliveTimeout = 65_000
const path = `/webhooks/${connection}`

/** What `pnpm bench:edge` writes. */
export interface Figures {
  readonly edge_per_s: number
  readonly ceiling_per_s: number
  readonly p50_ms_at_1000: number
  readonly p99_ms_at_1000: number
}

// ---------------------------------------------------------------------------------------------------
// The edge under test: the production webhook edge, inbox and store, with a TikTok Shop receiver.

const Envelope = Schema.parseJson(
  Schema.Struct({
    type: Schema.Int,
    tts_notification_id: Schema.String,
    shop_id: Schema.String,
    timestamp: Schema.Int,
    data: Schema.Struct({ order_id: Schema.String, order_status: Schema.String, update_time: Schema.Int })
  })
)

const decodeEnvelope = Schema.decodeUnknown(Envelope)

const receiver: Connector.WebhookReceiver = {
  verify: (request) =>
    Effect.suspend(() => {
      const received = request.headers["authorization"] ?? ""
      const expected = Crypto.createHmac("sha256", appSecret).update(appKey).update(request.rawBody).digest()
      const got = Buffer.from(/^[0-9a-f]{64}$/.test(received) ? received : "", "hex")
      return got.length === expected.length && Crypto.timingSafeEqual(got, expected)
        ? Effect.void
        : Effect.fail(new Webhook.WebhookRejected({ reason: "bad_signature", message: "signature mismatch" }))
    }),
  decode: (request) =>
    decodeEnvelope(Buffer.from(request.rawBody).toString("utf8")).pipe(
      Effect.mapError((e) => new Webhook.WebhookMalformed({ message: e.message.slice(0, 300) })),
      Effect.map((e) => ({
        dedupeKey: e.tts_notification_id,
        topic: "ORDER_STATUS_CHANGE",
        occurredAt: new Date(e.timestamp * 1000),
        // The envelope was just decoded by its schema: no need to validate the event a second time.
        events: [
          new ChannelEvent.OrderChanged(
            { orderId: e.data.order_id, updatedAt: new Date(e.data.update_time * 1000) },
            true
          )
        ]
      }))
    )
}

const serveEdge = (dir: string) => {
  const store = SqlStore.layerSqlite({ filename: Path.join(dir, "edge.db") })
  const edge = WebhookEdge.layer({ maxBytes: 1024 * 1024 }).pipe(
    Layer.provide(
      Layer.merge(SqlInbox.layer.pipe(Layer.provide(store)), WebhookEdge.receivers({ [connection]: receiver }))
    )
  )
  // No trace exporter runs here, so request spans would only cost time (the runner turns them on
  // when tracing is configured).
  const server = HttpServer.serve(WebhookEdge.router).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(edge),
    Layer.provideMerge(
      NodeHttpServer.layer(() => Http.createServer({ keepAliveTimeout }), { port: 0, host: "127.0.0.1" })
    )
  )
  Effect.runFork(
    Effect.gen(function* () {
      const port = yield* HttpServer.addressWith((a) => Effect.succeed(a._tag === "TcpAddress" ? a.port : 0))
      process.stdout.write(`listening ${port}\n`)
      return yield* Effect.never
    }).pipe(Effect.provide(server), Effect.scoped)
  )
}

// ---------------------------------------------------------------------------------------------------
// The ceiling: node:http and one SQLite insert per request, nothing else.

/** The slice of better-sqlite3 the ceiling uses. */
interface BetterSqlite {
  pragma: (pragma: string) => unknown
  exec: (sql: string) => void
  prepare: (sql: string) => { run: (...params: ReadonlyArray<unknown>) => unknown }
}

const serveCeiling = (dir: string) => {
  // The very driver build the edge's store runs on, loaded from where @effect/sql-sqlite-node finds it.
  const require = createRequire(import.meta.resolve("@effect/sql-sqlite-node"))
  const Database = require("better-sqlite3") as new (filename: string) => BetterSqlite
  const db = new Database(Path.join(dir, "ceiling.db"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.exec(`CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL,
    dedupe_key TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (connection, dedupe_key))`)
  const insert = db.prepare("INSERT INTO inbox (connection, dedupe_key, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
  const server = Http.createServer({ keepAliveTimeout }, (req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      insert.run(connection, String(req.headers["x-event-id"] ?? ""), Buffer.concat(chunks))
      res.writeHead(200).end()
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.stdout.write(`listening ${typeof address === "object" && address !== null ? address.port : 0}\n`)
  })
}

// ---------------------------------------------------------------------------------------------------
// The load generator.

interface LoadOptions {
  readonly port: number
  readonly mode: "closed" | "open"
  /** closed: concurrent workers. */
  readonly concurrency?: number
  /** open: requests per second. */
  readonly rate?: number
  readonly warmupSeconds: number
  readonly seconds: number
  /** Distinguishes the ids of several runs against one server. */
  readonly run: string
}

interface LoadResult {
  readonly ok: number
  readonly failed: number
  /** Answers other than 200 by status (0: no answer). */
  readonly statuses: Readonly<Record<string, number>>
  readonly elapsedMs: number
  readonly latenciesMs: ReadonlyArray<number>
}

const delivery = (run: string, i: number) => {
  const id = `${run}-${i}-${Crypto.randomUUID()}`
  const now = Math.floor(Date.now() / 1000)
  const body = Buffer.from(
    JSON.stringify({
      type: 1,
      tts_notification_id: id,
      shop_id: "7495001234567890123",
      timestamp: now,
      data: { order_id: `57700${String(i).padStart(13, "0")}`, order_status: "AWAITING_SHIPMENT", update_time: now }
    })
  )
  const signature = Crypto.createHmac("sha256", appSecret).update(appKey).update(body).digest("hex")
  return { id, body, signature }
}

// Closed-loop runs sign this many deliveries per second of run time up front (more are made on the fly).
const preparedPerSecond = 5_000

const load = async (options: LoadOptions): Promise<LoadResult> => {
  const agent = new Http.Agent({
    keepAlive: true,
    maxSockets: options.mode === "open" ? 512 : (options.concurrency ?? 32)
  })
  // Deliveries are signed before the clock starts, so the generator spends its time sending.
  const seconds = options.warmupSeconds + options.seconds
  const total = Math.ceil(options.mode === "open" ? (options.rate ?? 1000) * seconds : preparedPerSecond * seconds)
  const prepared = Array.from({ length: total }, (_, i) => delivery(options.run, i))
  let counter = total
  let cursor = 0
  const next = (i: number) => prepared[i < 0 ? cursor++ : i] ?? delivery(options.run, counter++)

  const send = (d: ReturnType<typeof delivery>) =>
    new Promise<number>((resolve) => {
      const req = Http.request(
        {
          agent,
          host: "127.0.0.1",
          port: options.port,
          method: "POST",
          path,
          headers: {
            "content-type": "application/json",
            "content-length": d.body.byteLength,
            authorization: d.signature,
            "x-event-id": d.id
          }
        },
        (res) => {
          res.resume()
          res.on("end", () => resolve(res.statusCode ?? 0))
        }
      )
      req.on("error", () => resolve(0))
      req.end(d.body)
    })

  const latencies: Array<number> = []
  const statuses: Record<string, number> = {}
  let ok = 0
  let failed = 0
  const fail = (status: number) => {
    failed++
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1
  }
  const start = performance.now()
  const measureFrom = start + options.warmupSeconds * 1000
  const end = measureFrom + options.seconds * 1000

  if (options.mode === "closed") {
    const worker = async () => {
      while (performance.now() < end) {
        const status = await send(next(-1))
        if (performance.now() >= measureFrom && performance.now() < end) {
          if (status === 200) ok++
          else fail(status)
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency ?? 32 }, worker))
    agent.destroy()
    return { ok, failed, statuses, elapsedMs: options.seconds * 1000, latenciesMs: [] }
  }

  const rate = options.rate ?? 1000
  const inFlight: Array<Promise<void>> = []
  await new Promise<void>((done) => {
    let i = 0
    const tick = () => {
      const now = performance.now()
      while (i < total && start + (i * 1000) / rate <= now) {
        const scheduled = start + (i * 1000) / rate
        const measured = scheduled >= measureFrom
        inFlight.push(
          send(next(i)).then((status) => {
            if (!measured) return
            latencies.push(performance.now() - scheduled)
            if (status === 200) ok++
            else fail(status)
          })
        )
        i++
      }
      if (i < total) setTimeout(tick, 0)
      else done()
    }
    tick()
  })
  await Promise.all(inFlight)
  agent.destroy()
  return { ok, failed, statuses, elapsedMs: performance.now() - measureFrom, latenciesMs: latencies }
}

// ---------------------------------------------------------------------------------------------------
// The orchestrator.

const self = fileURLToPath(import.meta.url)

const spawn = (args: ReadonlyArray<string>) =>
  Child.spawn(process.execPath, ["--conditions=@tkbridge/source", self, ...args], {
    stdio: ["ignore", "pipe", "inherit"]
  })

const startServer = (kind: "serve-edge" | "serve-ceiling", dir: string) =>
  new Promise<{ port: number; stop: () => Promise<void> }>((resolve, reject) => {
    const child = spawn([kind, dir])
    let out = ""
    child.stdout!.on("data", (d) => {
      out += String(d)
      const match = /listening (\d+)/.exec(out)
      if (match) {
        resolve({
          port: Number(match[1]),
          stop: () =>
            new Promise<void>((done) => {
              child.on("exit", () => done())
              child.kill("SIGKILL")
            })
        })
      }
    })
    child.on("exit", (code) => reject(new Error(`${kind} exited with ${code}`)))
  })

const runLoad = (options: LoadOptions) =>
  new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(["load", JSON.stringify(options)])
    let out = ""
    child.stdout!.on("data", (d) => {
      out += String(d)
    })
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load exited ${code}`))
    )
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

/**
 * Runs the whole benchmark and writes the figures to `out`. The machine is shared, so the run is
 * repeated in rounds — ceiling, edge, edge at 1,000/s, interleaved so both servers see the same
 * neighbours — and each figure is the median over the rounds.
 */
export const run = async (out: string, rounds = 3): Promise<Figures> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-edge-bench-"))
  const saturate = { mode: "closed" as const, concurrency: 32, warmupSeconds: 2, seconds: 8 }
  const ceilingServer = await startServer("serve-ceiling", dir)
  const edgeServer = await startServer("serve-edge", dir)
  try {
    const results: Array<Figures> = []
    let failures = 0
    for (let r = 1; r <= rounds; r++) {
      const ceiling = await runLoad({ ...saturate, port: ceilingServer.port, run: `ceiling${r}` })
      const edge = await runLoad({ ...saturate, port: edgeServer.port, run: `edge${r}` })
      const paced = await runLoad({
        mode: "open",
        rate: 1000,
        warmupSeconds: 2,
        seconds: 10,
        port: edgeServer.port,
        run: `paced${r}`
      })
      // For context only (not in the results file): the ceiling under the same offered load.
      const ceilingPaced = await runLoad({
        mode: "open",
        rate: 1000,
        warmupSeconds: 2,
        seconds: 10,
        port: ceilingServer.port,
        run: `ceiling-paced${r}`
      })
      failures += ceiling.failed + edge.failed + paced.failed
      for (const [name, result] of [
        ["ceiling", ceiling],
        ["edge", edge],
        ["edge at 1,000/s", paced]
      ] as const) {
        if (result.failed > 0) process.stdout.write(`round ${r}: ${name} answered ${JSON.stringify(result.statuses)}\n`)
      }
      const sorted = [...paced.latenciesMs].sort((a, b) => a - b)
      const figures: Figures = {
        edge_per_s: Math.round((edge.ok * 1000) / edge.elapsedMs),
        ceiling_per_s: Math.round((ceiling.ok * 1000) / ceiling.elapsedMs),
        p50_ms_at_1000: round(percentile(sorted, 0.5), 2),
        p99_ms_at_1000: round(percentile(sorted, 0.99), 2)
      }
      results.push(figures)
      const ceilingSorted = [...ceilingPaced.latenciesMs].sort((a, b) => a - b)
      process.stdout.write(
        `round ${r}: ceiling ${figures.ceiling_per_s}/s, edge ${figures.edge_per_s}/s; at 1,000/s over ${sorted.length} deliveries the edge answers p50 ${figures.p50_ms_at_1000} ms p99 ${figures.p99_ms_at_1000} ms (ceiling p50 ${round(percentile(ceilingSorted, 0.5), 2)} ms p99 ${round(percentile(ceilingSorted, 0.99), 2)} ms)\n`
      )
    }
    const figures: Figures = {
      edge_per_s: median(results.map((r) => r.edge_per_s)),
      ceiling_per_s: median(results.map((r) => r.ceiling_per_s)),
      p50_ms_at_1000: median(results.map((r) => r.p50_ms_at_1000)),
      p99_ms_at_1000: median(results.map((r) => r.p99_ms_at_1000))
    }
    process.stdout.write(
      [
        `ceiling (node:http + SQLite insert): ${figures.ceiling_per_s} deliveries/s`,
        `edge (verify + decode + inbox insert): ${figures.edge_per_s} deliveries/s (${Math.round(
          (100 * figures.edge_per_s) / figures.ceiling_per_s
        )}% of the ceiling)`,
        `edge at 1,000/s offered: p50 ${figures.p50_ms_at_1000} ms, p99 ${figures.p99_ms_at_1000} ms (medians of ${rounds} rounds)`,
        `non-200 answers: ${failures}`,
        ""
      ].join("\n")
    )
    if (failures > 0) throw new Error(`${failures} deliveries were not answered 200`)
    Fs.mkdirSync(Path.dirname(out), { recursive: true })
    Fs.writeFileSync(out, `${JSON.stringify(figures)}\n`)
    return figures
  } finally {
    await Promise.all([ceilingServer.stop(), edgeServer.stop()])
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === self) {
  const [mode, arg] = process.argv.slice(2)
  if (mode === "serve-edge" && arg !== undefined) serveEdge(arg)
  else if (mode === "serve-ceiling" && arg !== undefined) serveCeiling(arg)
  else if (mode === "load" && arg !== undefined) {
    load(JSON.parse(arg) as LoadOptions).then(
      (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`${String(error)}\n`)
        process.exit(1)
      }
    )
  } else {
    process.stderr.write("usage: EdgeBench.ts serve-edge <dir> | serve-ceiling <dir> | load <json>\n")
    process.exit(2)
  }
}
