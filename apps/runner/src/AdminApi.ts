/**
 * AdminApi: the running runner's local admin endpoint — how `tkbridge dlq replay|discard` change an
 * embedded store that `tkbridge run` owns (see `OpsStore`).
 *
 * The runner listens on a loopback port of its own (never on the public webhook port) and writes
 * `<db>.admin.json` beside the store — its pid, the URL and a random bearer token — readable by the
 * file's owner only (mode 0600) and removed at shutdown. A CLI on the same machine that can read the
 * store's folder can therefore reach it; nobody else can. Every body is decoded with a schema on both
 * sides, and the endpoint only does what the CLI could do itself with the file: replay and discard
 * dead letters, and resume a connection the seller authorized again (`tkbridge auth`). Going through
 * the runner means the engine that owns the file writes the change and wakes its workers at once.
 *
 * @since 0.1.0
 */
import { randomBytes, timingSafeEqual } from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { DeadLetter } from "@tkbridge/core"
import type { Scope } from "effect"
import { Effect, Runtime, Schema } from "effect"

/** The side file naming the admin endpoint of the runner that owns a store. */
export const endpointFile = (storeFile: string): string => `${storeFile}.admin.json`

/** What the endpoint file holds. */
export const Endpoint = Schema.Struct({ pid: Schema.Int, url: Schema.String, token: Schema.String })
/** @since 0.1.0 */
export type Endpoint = typeof Endpoint.Type

/** `POST /dlq/replay`. */
export const ReplayRequest = Schema.Struct({ ids: Schema.Array(Schema.Int) })
/** `POST /dlq/discard`. */
export const DiscardRequest = Schema.Struct({ ids: Schema.Array(Schema.Int), reason: Schema.NonEmptyTrimmedString })

/** The outcome of replaying one letter. */
export const ReplayOutcome = Schema.Struct({
  id: Schema.Int,
  outcome: Schema.Literal("replayed", "already_replayed", "discarded", "not_found"),
  kind: Schema.optional(DeadLetter.Kind),
  connection: Schema.optional(Schema.String),
  key: Schema.optional(Schema.String)
})
/** The outcome of discarding one letter. */
export const DiscardOutcome = Schema.Struct({
  id: Schema.Int,
  outcome: Schema.Literal("discarded", "already_discarded", "replayed", "not_found")
})
/** `POST /connections/resume`: the seller authorized the connection again. */
export const ResumeRequest = Schema.Struct({ connection: Schema.NonEmptyTrimmedString })
/** What resuming a connection did. */
export const ResumeAnswer = Schema.Struct({ connection: Schema.String, stock: Schema.Int })
/** `POST /reconcile`: poll one connection's orders, after-sales and stock now. */
export const ReconcileRequest = Schema.Struct({ connection: Schema.NonEmptyTrimmedString })
/** What one connection's reconciliation read and recorded. */
export const ReconcileRow = Schema.Struct({
  connection: Schema.String,
  orders: Schema.Struct({ read: Schema.Int, recorded: Schema.Int }),
  afterSales: Schema.Struct({ read: Schema.Int, recorded: Schema.Int }),
  stock: Schema.Struct({ read: Schema.Int, applied: Schema.Int }),
  skipped: Schema.Array(Schema.String)
})
/** @since 0.1.0 */
export type ReconcileRow = typeof ReconcileRow.Type
const ReconcileAnswer = Schema.Struct({ connections: Schema.Array(ReconcileRow) })
const ReplayAnswer = Schema.Struct({ outcomes: Schema.Array(ReplayOutcome) })
const DiscardAnswer = Schema.Struct({ outcomes: Schema.Array(DiscardOutcome) })

/** What the runner does for the endpoint. */
export interface Handlers {
  readonly replay: (ids: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<DeadLetter.ReplayOutcome>, unknown>
  readonly discard: (
    ids: ReadonlyArray<number>,
    reason: string
  ) => Effect.Effect<ReadonlyArray<DeadLetter.DiscardOutcome>, unknown>
  /** Sends a re-authorized connection's held work now; answers how many listings were due. */
  readonly resume: (connection: string) => Effect.Effect<{ readonly stock: number }, unknown>
  /** Reconciles one connection now: what it read and recorded. */
  readonly reconcile: (connection: string) => Effect.Effect<ReadonlyArray<ReconcileRow>, unknown>
}

/** The endpoint could not be reached or refused the call. */
export class AdminUnavailable extends Schema.TaggedError<AdminUnavailable>("tkbridge/AdminUnavailable")(
  "AdminUnavailable",
  { message: Schema.String }
) {}

const sameToken = (expected: string, given: string | undefined): boolean => {
  if (given === undefined) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

const readJson = (req: Http.IncomingMessage, limit = 1024 * 1024): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error("body too large"))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")))
      } catch (e) {
        reject(e)
      }
    })
    req.on("error", reject)
  })

/**
 * Serves the endpoint for the lifetime of the scope and publishes it in `<storeFile>.admin.json`.
 * Returns the endpoint's URL.
 */
export const serve = (storeFile: string, handlers: Handlers): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runPromise(runtime)
    const token = randomBytes(32).toString("base64url")
    const answer = (res: Http.ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
    }
    const server = Http.createServer((req, res) => {
      const auth = req.headers.authorization
      if (!sameToken(token, auth?.startsWith("Bearer ") ? auth.slice(7) : undefined)) {
        return answer(res, 401, { error: "unauthorized" })
      }
      if (req.method !== "POST") return answer(res, 405, { error: "POST only" })
      readJson(req)
        .then(async (body) => {
          if (req.url === "/dlq/replay") {
            const input = Schema.decodeUnknownSync(ReplayRequest)(body)
            return answer(res, 200, { outcomes: await run(handlers.replay(input.ids)) })
          }
          if (req.url === "/dlq/discard") {
            const input = Schema.decodeUnknownSync(DiscardRequest)(body)
            return answer(res, 200, { outcomes: await run(handlers.discard(input.ids, input.reason)) })
          }
          if (req.url === "/connections/resume") {
            const input = Schema.decodeUnknownSync(ResumeRequest)(body)
            const done = await run(handlers.resume(input.connection))
            return answer(res, 200, { connection: input.connection, stock: done.stock })
          }
          if (req.url === "/reconcile") {
            const input = Schema.decodeUnknownSync(ReconcileRequest)(body)
            return answer(res, 200, { connections: await run(handlers.reconcile(input.connection)) })
          }
          return answer(res, 404, { error: "not found" })
        })
        .catch((e: unknown) =>
          answer(res, 400, { error: e instanceof Error ? e.message.split("\n")[0] : "bad request" })
        )
    })
    const url = yield* Effect.async<string>((resume) => {
      server.listen(0, "127.0.0.1", () => {
        resume(Effect.succeed(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
      })
    })
    const file = endpointFile(storeFile)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const endpoint: Endpoint = { pid: process.pid, url, token }
        Fs.writeFileSync(file, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 })
        Fs.chmodSync(file, 0o600)
      }),
      () =>
        Effect.sync(() => {
          try {
            const current = Schema.decodeUnknownSync(Schema.parseJson(Endpoint))(Fs.readFileSync(file, "utf8"))
            if (current.pid === process.pid) Fs.rmSync(file, { force: true })
          } catch {
            // already gone
          }
        })
    )
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
    )
    return url
  })

/** The endpoint of the runner that owns `storeFile`, if it published one. */
export const endpoint = (storeFile: string): Effect.Effect<Endpoint, AdminUnavailable> =>
  Effect.try({
    try: () => Schema.decodeUnknownSync(Schema.parseJson(Endpoint))(Fs.readFileSync(endpointFile(storeFile), "utf8")),
    catch: () =>
      new AdminUnavailable({
        message: `the running tkbridge owns ${storeFile} but publishes no admin endpoint (${endpointFile(storeFile)} is missing or unreadable)`
      })
  })

const call = <A, I>(storeFile: string, path: string, body: unknown, schema: Schema.Schema<A, I>) =>
  Effect.gen(function* () {
    const ep = yield* endpoint(storeFile)
    const response = yield* Effect.tryPromise({
      try: () =>
        fetch(`${ep.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ep.token}`, "content-type": "application/json" },
          body: JSON.stringify(body)
        }),
      catch: () =>
        new AdminUnavailable({ message: `the running tkbridge (pid ${ep.pid}) does not answer at ${ep.url}` })
    })
    const text = yield* Effect.promise(() => response.text())
    if (!response.ok) {
      return yield* new AdminUnavailable({
        message: `the running tkbridge refused ${path}: ${response.status} ${text}`
      })
    }
    return yield* Schema.decodeUnknown(Schema.parseJson(schema))(text).pipe(
      Effect.mapError(
        () => new AdminUnavailable({ message: `the running tkbridge answered ${path} with something unexpected` })
      )
    )
  })

/** Replays dead letters through the runner that owns `storeFile`. */
export const replay = (storeFile: string, ids: ReadonlyArray<number>) =>
  Effect.map(call(storeFile, "/dlq/replay", { ids }, ReplayAnswer), (a) => a.outcomes)

/** Tells the runner that owns `storeFile` a connection was authorized again, so its held work goes now. */
export const resume = (storeFile: string, connection: string) =>
  call(storeFile, "/connections/resume", { connection }, ResumeAnswer)

/** Reconciles one connection through the runner that owns `storeFile`. */
export const reconcile = (storeFile: string, connection: string) =>
  Effect.map(call(storeFile, "/reconcile", { connection }, ReconcileAnswer), (a) => a.connections)

/** Discards dead letters through the runner that owns `storeFile`. */
export const discard = (storeFile: string, ids: ReadonlyArray<number>, reason: string) =>
  Effect.map(call(storeFile, "/dlq/discard", { ids, reason }, DiscardAnswer), (a) => a.outcomes)
