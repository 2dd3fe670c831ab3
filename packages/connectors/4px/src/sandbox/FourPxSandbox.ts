/**
 * FourPxSandbox: a local 4PX open platform that behaves like the real one for everything the
 * connector uses — one real HTTP server with the FOP gateway (`/router/api/service`: signature,
 * app_key and parameter checks, per-minute rate limit, envelopes with string `result` and
 * `errors[]`), the direct-shipping and tracking methods, the OAuth pages of software-vendor apps,
 * and the label files the label links point at. Parcels move forecast → handed over → received →
 * shipped → delivered on `SandboxClock` time; labels render after a delay; tracking scans appear as
 * the journey goes on.
 *
 * The control API below is what tests, the runner's demo and end-to-end scenarios drive: read and
 * advance parcels, add scans, read tracking as 4PX would answer it, pin a reference "in flight",
 * issue, expire and revoke tokens, and inject faults — per FOP method, or per HTTP route, at a
 * seeded random rate for reproducible fault storms.
 *
 * @since 0.1.0
 */
import { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import { AccessToken } from "@tkbridge/core"
import type { Clock, Effect, Scope } from "effect"
import { Redacted } from "effect"
import type { FourPxConfigInput } from "../FourPxConfig.ts"
import { defaultMethodVersions, methods } from "./FourPxSandboxApi.ts"
import type { IssuedToken } from "./FourPxSandboxAuth.ts"
import { AuthServer } from "./FourPxSandboxAuth.ts"
import type { ErrorKeys, MethodFault } from "./FourPxSandboxGateway.ts"
import { Gateway } from "./FourPxSandboxGateway.ts"
import * as FourPxSandboxLabel from "./FourPxSandboxLabel.ts"
import type { Consignment, Lifecycle, Product, Status, TimedScan } from "./FourPxSandboxState.ts"
import { defaultLifecycle, defaultProducts, localText, scansAt, World, zoneText } from "./FourPxSandboxState.ts"

/** How to start a sandbox. Everything has a 4PX-like default. */
export interface FourPxSandboxOptions {
  readonly appKey?: string | undefined
  readonly appSecret?: string | undefined
  readonly clock?: SandboxClock.SandboxClock | undefined
  /** Seed of the random source (tokens, probability faults); or pass `random`. */
  readonly seed?: number | undefined
  readonly random?: (() => number) | undefined
  readonly host?: string | undefined
  /** Sandbox ms from creation until a label renders (default 3000; 4PX clients wait 1.5–5 s). */
  readonly labelDelayMs?: number | undefined
  /** Sandbox ms from creation until the last-mile number is allocated (default 0). */
  readonly lastMileDelayMs?: number | undefined
  /** When each step happens after creation (default 2 h, 6 h, 1 day, 7 days). */
  readonly lifecycle?: Partial<Lifecycle> | undefined
  /** Divides the lifecycle (e.g. 3600 runs a 7-day journey in under 3 sandbox minutes). Default 1. */
  readonly lifecycleSpeed?: number | undefined
  /** When false, parcels move only through `advance` (default true). */
  readonly autoAdvance?: boolean | undefined
  /** Requests per minute per app before `000017`; `null` disables (default 600; 4PX publishes no number). */
  readonly rateLimitPerMinute?: number | null | undefined
  /** Accepted `timestamp` distance from the sandbox clock, ms; off by default (4PX documents none). */
  readonly timestampToleranceMs?: number | undefined
  /** A software-vendor app: every call must carry a valid `access_token` (default false: direct customer). */
  readonly vendorApp?: boolean | undefined
  readonly accessTokenTtlMs?: number | undefined
  readonly refreshTokenTtlMs?: number | undefined
  readonly authCodeTtlMs?: number | undefined
  readonly rotateRefreshToken?: boolean | undefined
  /** Refresh `grant_type`s accepted (default `refresh_token`). */
  readonly refreshGrantTypes?: ReadonlyArray<string> | undefined
  /** Token answers plain (default) or inside a FOP envelope. */
  readonly tokenResponse?: "plain" | "envelope" | undefined
  /** The app's registered redirect address; when set, `redirect_uri` must match. */
  readonly redirectUrl?: string | undefined
  /** How `errors[]` keys are spelled (default `snake`; 4PX's hold example shows `both`). */
  readonly errorKeys?: ErrorKeys | undefined
  /** Send `data` JSON-encoded as a string (all methods or the listed ones), as seen in the wild. */
  readonly dataAsString?: boolean | ReadonlyArray<string> | undefined
  /** An unknown method: a `000011` envelope (default) or HTTP 500 with an `ApiException` text. */
  readonly unknownMethod?: "envelope" | "http500" | undefined
  /** Versions each method is offered in. */
  readonly versions?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  /** The account's logistics products. */
  readonly products?: ReadonlyArray<Product> | undefined
  /** Apply the consignee-name rules `010101005` (default true). */
  readonly nameRules?: boolean | undefined
  /** Destinations whose recipients need a state, `010104001` (default GB). */
  readonly stateRequiredCountries?: ReadonlyArray<string> | undefined
  /** Distinct consignees per phone before it is blacklisted (default 20; `null` disables). */
  readonly phoneReuseLimit?: number | null | undefined
  /** A repeated `ref_no` after the first create: refused (default) or answered with the existing order. */
  readonly duplicateRefNo?: "reject" | "return" | undefined
  /** Real ms a create takes; a second create of the same `ref_no` meanwhile gets `DS000007` (default 0). */
  readonly createLatencyMs?: number | undefined
  /** A label that has not rendered: `DS000046` (default) or an empty URL. */
  readonly labelNotReady?: "error" | "empty" | undefined
}

/** A parcel as the control API shows it. */
export interface SandboxParcel {
  readonly reference: string
  readonly dsNo: string
  readonly trackingNumber: string
  readonly lastMileNumber: string | undefined
  readonly status: Status
  readonly product: string
  readonly destination: string
  readonly createdAt: number
  readonly labelReady: boolean
  readonly holdSign: "N" | "Y" | "S"
  readonly cancelReason: string | undefined
  /** The create body as 4PX received it. */
  readonly body: Readonly<Record<string, unknown>>
}

/** A tracking scan as `tr.order.tracking.get` shows it, plus its instant. */
export interface SandboxScan {
  readonly code: string
  readonly content: string
  readonly at: number
  readonly occurDatetime: string
  readonly timeZone: string
  readonly city: string
  readonly country: string
}

/** The sender the sandbox's connector config uses. */
export const sandboxSender = {
  firstName: "Wei",
  lastName: "Li",
  company: "Sandbox Trading Co., Ltd.",
  phone: "13800138000",
  email: "shipping@example.com",
  postCode: "518057",
  country: "CN",
  state: "Guangdong",
  city: "Shenzhen",
  district: "Nanshan",
  street: "1 Keji South Road, Nanshan District"
} as const

const harnessRoutes = new Set(["gateway", "oauth.authorize", "oauth.token", "label.file", "*"])
const registry = new WeakMap<SandboxServer.Sandbox, FourPxSandbox>()

/** A running 4PX sandbox. */
export class FourPxSandbox {
  /** The HTTP server (harness): request recorder, route faults, open connections. */
  readonly server: SandboxServer.Sandbox
  readonly clock: SandboxClock.SandboxClock
  readonly appKey: string
  readonly appSecret: string
  /** The consignments; read for assertions, change through the methods below. */
  readonly world: World
  readonly gateway: Gateway
  readonly auth: AuthServer
  /** References pinned "in flight" (creates answer `DS000007`). */
  private readonly inFlight: Map<string, number>
  private vendor: boolean
  private readonly products: ReadonlyArray<Product>

  /** @internal */
  constructor(parts: {
    readonly server: SandboxServer.Sandbox
    readonly clock: SandboxClock.SandboxClock
    readonly appKey: string
    readonly appSecret: string
    readonly world: World
    readonly gateway: Gateway
    readonly auth: AuthServer
    readonly inFlight: Map<string, number>
    readonly vendor: boolean
    readonly products: ReadonlyArray<Product>
  }) {
    this.server = parts.server
    this.clock = parts.clock
    this.appKey = parts.appKey
    this.appSecret = parts.appSecret
    this.world = parts.world
    this.gateway = parts.gateway
    this.auth = parts.auth
    this.inFlight = parts.inFlight
    this.vendor = parts.vendor
    this.products = parts.products
  }

  /** Base URL (use as the connector's `baseUrl`). */
  get url(): string {
    return this.server.url
  }

  /** A connector config for this sandbox (API-key mode, the sandbox sender, the first product). */
  connectorConfig(overrides: Partial<FourPxConfigInput> = {}): FourPxConfigInput {
    return {
      appKey: this.appKey,
      appSecret: this.appSecret,
      baseUrl: this.url,
      sender: { ...sandboxSender },
      productCode: this.products[0]?.code ?? "A2",
      ...(this.vendor ? { auth: { mode: "oauth" as const } } : {}),
      ...overrides
    }
  }

  // ---- parcels ---------------------------------------------------------------------------------

  private view(c: Consignment): SandboxParcel {
    const now = this.clock.now()
    const status = this.world.status(c)
    return {
      reference: c.refNo,
      dsNo: c.dsNo,
      trackingNumber: c.trackingNo,
      lastMileNumber: c.lastMileAt <= now ? c.lastMileNo : undefined,
      status,
      product: c.product.code,
      destination: c.destination,
      createdAt: c.createdAt,
      labelReady: status !== "X" && c.labelReadyAt <= now,
      holdSign: c.holdSign,
      cancelReason: c.cancelReason,
      body: c.body
    }
  }

  private mustFind(ref: string): Consignment {
    const c = this.world.find(ref)
    if (c === undefined) throw new Error(`the 4PX sandbox holds no parcel "${ref}"`)
    return c
  }

  /** Every parcel, oldest first. */
  parcels(): ReadonlyArray<SandboxParcel> {
    return this.world.all().map((c) => this.view(c))
  }

  /** A parcel by reference, DS number, 4PX or last-mile number. */
  parcel(ref: string): SandboxParcel | undefined {
    const c = this.world.find(ref)
    return c === undefined ? undefined : this.view(c)
  }

  /** How many parcels the sandbox holds under a reference (`ref_no`). */
  count(reference: string): number {
    return this.world.all().filter((c) => c.refNo === reference).length
  }

  /** Moves a parcel to its next step now, or through every step up to `to`. Returns its status. */
  advance(ref: string, to?: Status): Status {
    return this.world.advance(this.mustFind(ref), to)
  }

  /** Moves every parcel that can move up to `to` (default: delivered). */
  advanceAll(to: Status = "F"): void {
    for (const c of this.world.all()) {
      const s = this.world.status(c)
      if (s !== "X" && s !== "R" && c.holdSign !== "S") this.world.advance(c, to)
    }
  }

  /** Renders a parcel's label now. */
  labelReady(ref: string): void {
    const c = this.mustFind(ref)
    c.labelReadyAt = Math.min(c.labelReadyAt, this.clock.now())
  }

  /** Allocates a parcel's last-mile number now. */
  allocateLastMile(ref: string): void {
    const c = this.mustFind(ref)
    c.lastMileAt = Math.min(c.lastMileAt, this.clock.now())
  }

  /** Adds a scan now (an exception such as `FPX_D_FD`, or a code the connector has never seen). */
  scan(
    ref: string,
    scan: { readonly code: string; readonly content: string; readonly city?: string; readonly country?: string }
  ): void {
    this.world.addScan(this.mustFind(ref), scan)
  }

  /** Sends a parcel back (status `R`). */
  markReturned(ref: string): void {
    this.world.markReturned(this.mustFind(ref))
  }

  /** Tracking of a number (4PX, DS or last-mile) as 4PX would answer it now, oldest first. */
  tracking(number: string): ReadonlyArray<SandboxScan> {
    const c = this.world.findByTrackingNumber(number)
    if (c === undefined) return []
    return scansAt(c, this.clock.now()).map((s: TimedScan) => ({
      code: s.code,
      content: s.content,
      at: s.at,
      occurDatetime: localText(s.at, s.zoneMinutes),
      timeZone: zoneText(s.zoneMinutes),
      city: s.city,
      country: s.country
    }))
  }

  /** Holds a reference "in flight" (creates answer `DS000007`) until released. */
  setProcessing(reference: string, processing: boolean): void {
    if (processing) this.inFlight.set(reference, (this.inFlight.get(reference) ?? 0) + 1)
    else this.inFlight.delete(reference)
  }

  // ---- authorization ---------------------------------------------------------------------------

  /** Makes the app a software-vendor app (tokens required) or a direct customer's (no token). */
  setVendorApp(on: boolean): void {
    this.vendor = on
  }

  /** Whether calls must carry an access token. */
  get vendorApp(): boolean {
    return this.vendor
  }

  /** Issues a grant directly. */
  issueToken(): IssuedToken {
    return this.auth.issue()
  }

  /** Issues a grant as a core `TokenSet`. */
  issueTokenSet(): AccessToken.TokenSet {
    const t = this.auth.issue()
    return new AccessToken.TokenSet({
      accessToken: Redacted.make(t.accessToken),
      refreshToken: Redacted.make(t.refreshToken),
      expiresAt: new Date(t.accessTokenExpiresAt),
      refreshExpiresAt: new Date(t.refreshTokenExpiresAt),
      issuedAt: new Date(t.issuedAt)
    })
  }

  /** A one-time authorization code for `redirectUri` (what the consent page would hand out). */
  authCode(redirectUri: string): string {
    return this.auth.code(redirectUri)
  }

  /** How the next consent page answers. */
  setConsent(answer: "approve" | "deny"): void {
    this.auth.consent = answer
  }

  /** Expires every access token now. */
  expireAccessTokens(): void {
    this.auth.expireAccessTokens()
  }

  /** The customer withdraws the authorization: every token stops working. */
  revokeAuthorization(): void {
    this.auth.revokeAll()
  }

  /** How many refresh requests reached the token endpoint. */
  refreshCount(): number {
    return this.auth.refreshCount()
  }

  // ---- faults and lifecycle ------------------------------------------------------------------

  /**
   * Injects a fault. `target` is a FOP method (`ds.xms.order.create`, `tr.order.tracking.get` …,
   * after the method check, so other methods are untouched) or a harness route (`gateway` — every
   * method, `oauth.token`, `oauth.authorize`, `label.file`, or `*`). On a method, `afterEffect: true`
   * lets the call take effect and loses only its answer.
   */
  fault(target: string, fault: MethodFault): void {
    if (harnessRoutes.has(target)) {
      if (fault.afterEffect) throw new Error(`afterEffect faults target a FOP method, not the route "${target}"`)
      this.server.fault(target, fault)
    } else this.gateway.fault(target, fault)
  }

  /** A fault answering a 4PX error envelope with HTTP 200, e.g. `000020`, `000017`, `DS000006`. */
  fourPxError(
    code: string,
    options: {
      readonly message?: string
      readonly times?: number
      readonly probability?: number
      readonly status?: number
    } = {}
  ): SandboxServer.Fault {
    return {
      status: options.status ?? 200,
      headers: { "content-type": "application/json;charset=UTF-8" },
      body: {
        result: "0",
        msg: "System processing failed",
        errors: [
          {
            error_code: code,
            error_msg: options.message ?? `Sandbox fault ${code}`,
            error_data: null,
            reference_code: null
          }
        ],
        data: null
      },
      ...(options.times !== undefined ? { times: options.times } : {}),
      ...(options.probability !== undefined ? { probability: options.probability } : {})
    }
  }

  /** Removes faults from one target, or from all. */
  clearFaults(target?: string): void {
    if (target === undefined) {
      this.server.clearFaults()
      this.gateway.clearFaults()
    } else if (harnessRoutes.has(target)) this.server.clearFaults(target)
    else this.gateway.clearFaults(target)
  }

  /** Recorded requests: all, or those of one FOP method or harness route. */
  requests(target?: string): ReadonlyArray<SandboxServer.RecordedRequest> {
    if (target === undefined) return this.server.requests
    if (harnessRoutes.has(target)) return this.server.requestsTo(target)
    return this.server.requests.filter(
      (r) => r.route === "gateway" && new URLSearchParams(r.query).get("method") === target
    )
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.server.close()
  }
}

const randomKey = (random: () => number, length: number): string => {
  let out = ""
  while (out.length < length) out += Math.floor(random() * 16).toString(16)
  return out
}

/** Starts a sandbox. Close it with `close()`; prefer `scoped` in Effect code. */
export const start = async (options: FourPxSandboxOptions = {}): Promise<FourPxSandbox> => {
  const clock = options.clock ?? new SandboxClock.SandboxClock()
  const random = options.random ?? SandboxServer.seededRandom(options.seed ?? 4)
  const appKey =
    options.appKey ??
    `${randomKey(random, 8)}-${randomKey(random, 4)}-${randomKey(random, 4)}-${randomKey(random, 4)}-${randomKey(random, 12)}`
  const appSecret =
    options.appSecret ??
    `${randomKey(random, 8)}-${randomKey(random, 4)}-${randomKey(random, 4)}-${randomKey(random, 4)}-${randomKey(random, 12)}`
  const products = options.products ?? defaultProducts
  const world = new World(clock, {
    lifecycle: { ...defaultLifecycle, ...(options.lifecycle ?? {}) },
    lifecycleSpeed: options.lifecycleSpeed ?? 1,
    autoAdvance: options.autoAdvance ?? true,
    labelDelayMs: options.labelDelayMs ?? 3_000,
    lastMileDelayMs: options.lastMileDelayMs ?? 0
  })
  const inFlight = new Map<string, number>()
  const day = 86_400_000
  const auth = new AuthServer({
    appKey,
    appSecret,
    clock,
    random,
    accessTokenTtlMs: options.accessTokenTtlMs ?? 7 * day,
    refreshTokenTtlMs: options.refreshTokenTtlMs ?? 365 * day,
    authCodeTtlMs: options.authCodeTtlMs ?? 10 * 60_000,
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    refreshGrantTypes: options.refreshGrantTypes ?? ["refresh_token"],
    tokenResponse: options.tokenResponse ?? "plain",
    redirectUrl: options.redirectUrl
  })
  let sandbox: FourPxSandbox | undefined
  let baseUrl = ""
  const gateway = new Gateway({
    appKey,
    appSecret,
    clock,
    methods: methods({
      world,
      products,
      versions: { ...defaultMethodVersions, ...(options.versions ?? {}) },
      nameRules: options.nameRules ?? true,
      stateRequiredCountries: options.stateRequiredCountries ?? ["GB"],
      phoneReuseLimit: options.phoneReuseLimit === null ? undefined : (options.phoneReuseLimit ?? 20),
      duplicateRefNo: options.duplicateRefNo ?? "reject",
      createLatencyMs: options.createLatencyMs ?? 0,
      labelNotReady: options.labelNotReady ?? "error",
      inFlight,
      baseUrl: () => baseUrl
    }),
    rateLimitPerMinute: options.rateLimitPerMinute === null ? undefined : (options.rateLimitPerMinute ?? 600),
    timestampToleranceMs: options.timestampToleranceMs,
    unknownMethod: options.unknownMethod ?? "envelope",
    errorKeys: options.errorKeys ?? "snake",
    dataAsString: options.dataAsString ?? false,
    requireAccessToken: () => sandbox?.vendorApp ?? options.vendorApp ?? false,
    checkToken: (token) => auth.check(token),
    random
  })
  const labelFile: SandboxServer.Route = {
    name: "label.file",
    method: "GET",
    path: /\/labels\/(?<file>[A-Za-z0-9_.-]+)/,
    handler: (request) => {
      const m = /^(?<ds>DS\d+)-(?<size>label_\d+x\d+)\.(?<ext>pdf|png)$/.exec(request.params.file ?? "")
      const c = m?.groups?.ds === undefined ? undefined : world.find(m.groups.ds)
      if (m === null || c === undefined || world.status(c) === "X" || c.labelReadyAt > clock.now()) {
        return { status: 404, headers: { "content-type": "text/plain" }, body: "label not found" }
      }
      if (m.groups!.ext === "png")
        return { status: 200, headers: { "content-type": "image/png" }, body: FourPxSandboxLabel.png() }
      return {
        status: 200,
        headers: { "content-type": "application/pdf" },
        body: FourPxSandboxLabel.pdf([
          `4PX ${c.trackingNo}`,
          `${c.dsNo}  ref ${c.refNo}`,
          `${c.product.code} ${c.product.nameEn}`,
          `To: ${c.destinationCity}, ${c.destination}`,
          `${m.groups!.size}`
        ])
      }
    }
  }
  const server = await SandboxServer.start({
    name: "4px",
    clock,
    host: options.host,
    random,
    routes: [
      { name: "gateway", method: "POST", path: "/router/api/service", handler: (r) => gateway.handle(r) },
      ...auth.routes(),
      labelFile
    ]
  })
  baseUrl = server.url
  sandbox = new FourPxSandbox({
    server,
    clock,
    appKey,
    appSecret,
    world,
    gateway,
    auth,
    inFlight,
    vendor: options.vendorApp ?? false,
    products
  })
  registry.set(server, sandbox)
  return sandbox
}

/** Starts a sandbox for the lifetime of the scope. */
export const scoped = (options: FourPxSandboxOptions = {}): Effect.Effect<FourPxSandbox, never, Scope.Scope> =>
  SandboxServer.acquire(() => start(options))

/** The 4PX sandbox behind a harness server (e.g. `FakeChannel.sandbox`). */
export const fromSandbox = (server: SandboxServer.Sandbox): FourPxSandbox | undefined => registry.get(server)

/** An Effect `Clock` that reads sandbox time (see `SandboxClock.effectClock`). */
export const effectClock: (clock: SandboxClock.SandboxClock) => Clock.Clock = SandboxClock.effectClock
