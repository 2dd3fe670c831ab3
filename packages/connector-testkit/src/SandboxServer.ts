/**
 * SandboxServer: the HTTP harness every connector sandbox is built on. A real `node:http` server on a
 * free loopback port with named routes, per-route fault injection (latency, status, empty 200,
 * dropped connection, a hang, 429 with Retry-After, a share of requests at random), a recorder of
 * every request, a controllable clock and a count of open connections (so a test can prove a
 * connector's scope closed its sockets).
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type { Scope } from "effect"
import { Effect } from "effect"
import { SandboxClock } from "./SandboxClock.ts"

/** A request as the sandbox received it. */
export interface SandboxRequest {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly query: URLSearchParams
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  /** The body as UTF-8 text. */
  readonly text: string
  /** Path parameters captured by a RegExp route's named groups. */
  readonly params: Readonly<Record<string, string>>
  /** The route that matched. */
  readonly route: string
}

/** A response. An object `body` is sent as JSON. */
export interface SandboxResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | Uint8Array | object | undefined
}

/** Handles a request on a route. */
export type Handler = (request: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>

/** A named route. Faults target routes by name. */
export interface Route {
  readonly name: string
  readonly method: string
  /** An exact path, or a RegExp whose named groups become `params`. */
  readonly path: string | RegExp
  readonly handler: Handler
}

/** A JSON response. */
export const json = (
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {}
): SandboxResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

/**
 * A fault to inject on a route. Several fields combine: `latencyMs` delays whatever answer follows.
 * `times` limits how many requests it hits (default: every one until cleared); `probability` hits
 * only a share of them.
 */
export interface Fault {
  readonly latencyMs?: number | undefined
  /** Answer with this status (and `body`, `headers`) instead of the handler's. */
  readonly status?: number | undefined
  readonly body?: string | object | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Answer 200 with an empty body. */
  readonly empty?: boolean | undefined
  /** Destroy the connection without answering. */
  readonly drop?: boolean | undefined
  /** Never answer (the client's timeout must fire). */
  readonly hang?: boolean | undefined
  /** Answer 429 with this `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number | undefined
  readonly times?: number | undefined
  readonly probability?: number | undefined
}

/** A recorded request and how the sandbox answered it. */
export interface RecordedRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly query: string
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly route: string | undefined
  status: number | undefined
  fault: string | undefined
}

/** Options for a sandbox server. */
export interface SandboxOptions {
  readonly name: string
  readonly routes?: ReadonlyArray<Route>
  readonly clock?: SandboxClock | undefined
  readonly host?: string | undefined
  /** 0 (default) picks a free port. */
  readonly port?: number | undefined
  /** The random source for `probability` faults; pass a seeded one for reproducible runs. */
  readonly random?: (() => number) | undefined
  /** Largest request body accepted, in bytes (default 4 MiB); larger ones get 413. */
  readonly maxBodyBytes?: number | undefined
  /** Keep at most this many recorded requests (default 10,000; oldest dropped first). */
  readonly recordLimit?: number | undefined
}

interface ActiveFault {
  readonly fault: Fault
  remaining: number
}

/** A running sandbox server. */
export class Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  readonly name: string
  readonly clock: SandboxClock
  /** Every request received, oldest first. */
  readonly requests: Array<RecordedRequest> = []
  private readonly routes: Array<Route>
  private readonly faults = new Map<string, Array<ActiveFault>>()
  private readonly sockets = new Set<Socket>()
  private readonly random: () => number
  private readonly recordLimit: number
  private readonly maxBodyBytes: number
  private closed = false
  private readonly server: Http.Server

  /** @internal */
  constructor(server: Http.Server, options: SandboxOptions, clock: SandboxClock) {
    this.server = server
    const address = server.address() as AddressInfo
    this.port = address.port
    this.url = `http://${options.host ?? "127.0.0.1"}:${address.port}`
    this.name = options.name
    this.clock = clock
    this.routes = [...(options.routes ?? [])]
    this.random = options.random ?? Math.random
    this.recordLimit = options.recordLimit ?? 10_000
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024
    server.on("connection", (socket) => {
      this.sockets.add(socket)
      socket.on("close", () => this.sockets.delete(socket))
    })
    server.on("request", (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" })
          res.end(JSON.stringify({ error: "sandbox handler failed", detail: String(error) }))
        } else res.destroy()
      })
    })
  }

  /** Adds routes after start (tests that need an extra endpoint). */
  addRoute(route: Route): void {
    this.routes.push(route)
  }

  /** Injects a fault on the route named `route`, or on every route with `"*"`. */
  fault(route: string, fault: Fault): void {
    const list = this.faults.get(route) ?? []
    list.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY })
    this.faults.set(route, list)
  }

  /** Removes faults from one route, or from all when no route is given. */
  clearFaults(route?: string): void {
    if (route === undefined) this.faults.clear()
    else this.faults.delete(route)
  }

  /** The recorded requests that hit route `name`. */
  requestsTo(name: string): ReadonlyArray<RecordedRequest> {
    return this.requests.filter((r) => r.route === name)
  }

  /** Forgets recorded requests. */
  clearRequests(): void {
    this.requests.length = 0
  }

  /** Connections currently open to this server (keep-alive sockets included). */
  openConnections(): number {
    return this.sockets.size
  }

  /** Stops the server, closing every open connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.clock.dispose()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const s of this.sockets) s.destroy()
    })
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== "*" && route.method.toUpperCase() !== method) continue
      if (typeof route.path === "string") {
        if (route.path === path) return { route, params: {} }
      } else {
        const m = route.path.exec(path)
        if (m && m[0] === path) return { route, params: { ...(m.groups ?? {}) } }
      }
    }
    return undefined
  }

  private takeFault(route: string | undefined): Fault | undefined {
    for (const key of [route, "*"]) {
      if (key === undefined) continue
      const list = this.faults.get(key)
      if (!list) continue
      for (const active of list) {
        if (active.remaining <= 0) continue
        if (active.fault.probability !== undefined && this.random() >= active.fault.probability) continue
        active.remaining -= 1
        return active.fault
      }
    }
    return undefined
  }

  private async handle(req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> {
    const chunks: Array<Buffer> = []
    let size = 0
    let tooLarge = false
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > this.maxBodyBytes) tooLarge = true
      else chunks.push(chunk as Buffer)
    }
    const body = new Uint8Array(Buffer.concat(chunks))
    const url = new URL(req.url ?? "/", this.url)
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v
    }
    const method = (req.method ?? "GET").toUpperCase()
    const matched = this.match(method, url.pathname)
    const record: RecordedRequest = {
      at: this.clock.now(),
      method,
      path: url.pathname,
      query: url.search,
      headers,
      text: new TextDecoder().decode(body),
      route: matched?.route.name,
      status: undefined,
      fault: undefined
    }
    this.requests.push(record)
    if (this.requests.length > this.recordLimit) this.requests.splice(0, this.requests.length - this.recordLimit)

    const send = (response: SandboxResponse) => {
      record.status = response.status
      const payload =
        response.body === undefined
          ? ""
          : typeof response.body === "string" || response.body instanceof Uint8Array
            ? response.body
            : JSON.stringify(response.body)
      const extra =
        typeof response.body === "object" && !(response.body instanceof Uint8Array)
          ? { "content-type": "application/json" }
          : {}
      res.writeHead(response.status, { ...extra, ...(response.headers ?? {}) })
      res.end(payload)
    }

    if (tooLarge) return send(json(413, { error: "request body too large" }))

    const fault = this.takeFault(matched?.route.name)
    if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs))
    if (fault) {
      record.fault = JSON.stringify(fault)
      if (fault.drop) {
        record.status = 0
        req.socket.destroy()
        return
      }
      if (fault.hang) {
        record.status = 0
        // Hold the request open until the client gives up or the server closes.
        await new Promise<void>((resolve) => req.socket.once("close", () => resolve()))
        return
      }
      if (fault.empty) return send({ status: 200, body: "" })
      if (fault.retryAfterSeconds !== undefined) {
        return send({
          status: fault.status ?? 429,
          headers: { "retry-after": String(fault.retryAfterSeconds), ...(fault.headers ?? {}) },
          body: fault.body ?? { error: "too many requests" }
        })
      }
      if (fault.status !== undefined) {
        return send({ status: fault.status, headers: fault.headers, body: fault.body ?? "" })
      }
    }
    if (!matched) return send(json(404, { error: `no route for ${method} ${url.pathname}` }))
    const response = await matched.route.handler({
      method,
      url,
      path: url.pathname,
      query: url.searchParams,
      headers,
      body,
      text: record.text,
      params: matched.params,
      route: matched.route.name
    })
    send(response)
  }
}

/** Starts a sandbox server. Close it with `close()`; prefer `scoped` inside Effect code. */
export const start = (options: SandboxOptions): Promise<Sandbox> =>
  new Promise((resolve, reject) => {
    const server = Http.createServer({ keepAliveTimeout: 5_000 })
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      resolve(new Sandbox(server, options, options.clock ?? new SandboxClock()))
    })
  })

/** Keeps what `start` opens (a server, a whole platform sandbox) for the lifetime of the scope, then closes it. */
export const acquire = <A extends { readonly close: () => Promise<void> }>(
  start: () => Promise<A>
): Effect.Effect<A, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(start), (opened) => Effect.promise(() => opened.close()))

/** Starts a sandbox server for the lifetime of the scope. */
export const scoped = (options: SandboxOptions): Effect.Effect<Sandbox, never, Scope.Scope> =>
  acquire(() => start(options))

/** A small deterministic random source (mulberry32) for reproducible fault schedules. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
