/**
 * MemorySandbox: a running Memory platform — a real HTTP server (`SandboxServer`) serving
 * `MemorySandboxApi` over a `MemoryWorld`, a webhook pusher (`WebhookEmitter`) that signs every
 * delivery with HMAC-SHA256 over the raw body, and a programmatic control API for tests, the demo
 * and the runner's scenarios: seed SKUs and stock, place and move orders, open after-sales, read
 * back pushed stock, fulfilments and parcels, subscribe a webhook URL, issue and revoke tokens.
 *
 * Time is a `SandboxClock`, so token expiry and webhook retry schedules can be played at once.
 *
 * @since 0.1.0
 */
import { createHmac, randomBytes } from "node:crypto"
import { SandboxClock, SandboxServer, WebhookEmitter } from "@tkbridge/connector-testkit"
import type { Effect, Scope } from "effect"
import { allScopes, renderAfterSale, renderOrder, routes } from "./MemorySandboxApi.ts"
import type {
  AddressRecord,
  AfterSaleKind,
  AfterSaleRecord,
  AfterSaleStatus,
  FulfillmentRecord,
  GrantRecord,
  LocationRecord,
  OrderRecord,
  OrderStatus,
  ParcelRecord,
  StockWrite
} from "./MemorySandboxState.ts"
import { MemoryWorld } from "./MemorySandboxState.ts"

/** The header carrying a delivery's signature: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const signatureHeader = "x-memory-signature"

/** The platform's webhook retry schedule after a failed attempt (sandbox time). */
export const retrySchedule: ReadonlyArray<number> = [10_000, 60_000, 300_000, 1_800_000, 7_200_000]

/** Signs a body as the platform does: hex HMAC-SHA256 with the app's webhook secret. */
export const sign = (secret: string, body: string | Uint8Array): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`

/** How to start a sandbox. Every field has a default. */
export interface MemorySandboxOptions {
  readonly name?: string | undefined
  readonly clientId?: string | undefined
  /** Default: random per sandbox. */
  readonly clientSecret?: string | undefined
  /** Default: random per sandbox. */
  readonly webhookSecret?: string | undefined
  /** Default: `WH-1` (Main warehouse) and `WH-2` (Overflow warehouse). The first is the default location. */
  readonly locations?: ReadonlyArray<LocationRecord> | undefined
  /** Scopes new grants hold. Default: all. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Default 2 hours. */
  readonly accessTokenTtlMs?: number | undefined
  /** Default 30 days. */
  readonly refreshTokenTtlMs?: number | undefined
  /** Default 20 requests per second per token with bursts of 40; `false` turns the limit off. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number } | false | undefined
  readonly clock?: SandboxClock.SandboxClock | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** How long a subscriber has to answer a webhook (real milliseconds, default 5 s). */
  readonly webhookTimeoutMs?: number | undefined
}

/** The config the Memory connector needs to talk to this sandbox (the encoded form, secrets as strings). */
export interface SandboxConnectorConfig {
  readonly baseUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly webhookSecret: string
}

/** A webhook delivery as the platform would send it, not yet sent. */
export interface BuiltDelivery {
  readonly id: string
  readonly topic: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/** A running sandbox and its control API. */
export class MemorySandbox {
  readonly server: SandboxServer.Sandbox
  readonly clock: SandboxClock.SandboxClock
  readonly world: MemoryWorld
  readonly webhooks: WebhookEmitter.WebhookEmitter
  readonly clientId: string
  readonly clientSecret: string
  readonly webhookSecret: string
  private readonly grantScopes: ReadonlyArray<string>
  private readonly ttl: { readonly accessMs: number; readonly refreshMs: number }

  /** @internal */
  constructor(
    server: SandboxServer.Sandbox,
    world: MemoryWorld,
    webhooks: WebhookEmitter.WebhookEmitter,
    settings: {
      readonly clientId: string
      readonly clientSecret: string
      readonly webhookSecret: string
      readonly scopes: ReadonlyArray<string>
      readonly ttl: { readonly accessMs: number; readonly refreshMs: number }
    }
  ) {
    this.server = server
    this.clock = server.clock
    this.world = world
    this.webhooks = webhooks
    this.clientId = settings.clientId
    this.clientSecret = settings.clientSecret
    this.webhookSecret = settings.webhookSecret
    this.grantScopes = settings.scopes
    this.ttl = settings.ttl
  }

  /** The base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.server.url
  }

  /** The connector config for this sandbox. */
  connectorConfig(): SandboxConnectorConfig {
    return {
      baseUrl: this.url,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      webhookSecret: this.webhookSecret
    }
  }

  // --- catalogue and stock -----------------------------------------------------------------------

  /** Creates SKUs (or updates them) with stock: a number is the default location's, a record per location. */
  seedItems(
    items: ReadonlyArray<{
      readonly sku: string
      readonly title?: string | undefined
      readonly stock?: number | Readonly<Record<string, number>> | undefined
    }>
  ): void {
    for (const item of items) {
      this.world.upsertSku({
        sku: item.sku,
        title: item.title,
        stock: typeof item.stock === "number" ? { [this.world.defaultLocation.id]: item.stock } : item.stock
      })
    }
  }

  /** Sets a quantity on the platform's side (a stock count, a sale elsewhere); not a connector write. */
  setStock(sku: string, quantity: number, location?: string): void {
    this.world.setStock(sku, quantity, location)
  }

  /** The quantity the platform holds for a SKU (at the default location unless given). */
  stock(sku: string, location?: string): number | undefined {
    return this.world.quantity(sku, location)
  }

  /** Every SKU with its stock per location. */
  catalogue(): ReadonlyArray<{ readonly sku: string; readonly title: string; readonly stock: Record<string, number> }> {
    return [...this.world.skus.values()].map((s) => ({
      sku: s.sku,
      title: s.title,
      stock: Object.fromEntries([...s.stock].map(([l, v]) => [l, v.quantity]))
    }))
  }

  /** The stock writes connectors applied, oldest first (optionally for one SKU). */
  stockWrites(sku?: string): ReadonlyArray<StockWrite> {
    return sku === undefined ? [...this.world.stockWrites] : this.world.stockWrites.filter((w) => w.sku === sku)
  }

  /** The platform's locations. */
  locations(): ReadonlyArray<LocationRecord> {
    return this.world.locations
  }

  // --- orders --------------------------------------------------------------------------------------

  /** A buyer places an order (paid unless `status` says otherwise); sends `orders/created`. */
  placeOrder(input: {
    readonly lines: ReadonlyArray<{ readonly sku: string; readonly quantity?: number | undefined }>
    readonly shipTo?: AddressRecord | undefined
    readonly status?: OrderStatus | undefined
    readonly currency?: string | undefined
    /** Sandbox time of the order (default: now). */
    readonly at?: number | undefined
    /** Whether to send the `orders/created` webhook (default true). */
    readonly notify?: boolean | undefined
  }): string {
    const order = this.world.placeOrder(input)
    if (input.notify !== false) this.emit("orders/created", { order: renderOrder(order) })
    return order.id
  }

  /** The order with this id. */
  order(id: string): OrderRecord {
    return this.world.order(id)
  }

  /** Every order, oldest first. */
  orders(): ReadonlyArray<OrderRecord> {
    return [...this.world.orders.values()]
  }

  /** Moves an order to a status; sends `orders/updated` (or `orders/cancelled`). */
  setOrderStatus(id: string, status: OrderStatus): void {
    const order = this.world.setOrderStatus(id, status)
    this.emit(status === "cancelled" ? "orders/cancelled" : "orders/updated", { order: renderOrder(order) })
  }

  /** The fulfilments (tracking numbers) written back to an order. */
  fulfillments(orderId: string): ReadonlyArray<FulfillmentRecord> {
    return [...this.world.order(orderId).fulfillments]
  }

  // --- parcels ------------------------------------------------------------------------------------

  /** Parcels created through the shipping API (optionally those of one reference). */
  parcels(reference?: string): ReadonlyArray<ParcelRecord> {
    const all = [...this.world.parcels.values()]
    return reference === undefined ? all : all.filter((p) => p.reference === reference)
  }

  /** The carrier moves a parcel one step on (collected and in transit, then delivered). */
  progressParcel(reference: string): void {
    this.world.progressParcel(reference)
  }

  // --- after-sales ---------------------------------------------------------------------------------

  /** The buyer opens a cancellation, return or refund; sends `aftersales/created`. */
  requestAfterSale(input: {
    readonly orderId: string
    readonly kind: AfterSaleKind
    readonly reason?: string | undefined
    readonly lines?: ReadonlyArray<{ readonly sku: string; readonly quantity: number }> | undefined
    readonly at?: number | undefined
    readonly notify?: boolean | undefined
  }): string {
    const record = this.world.requestAfterSale(input)
    if (input.notify !== false) this.emit("aftersales/created", { aftersale: renderAfterSale(record) })
    return record.id
  }

  /** Moves an after-sale on; sends `aftersales/updated`. */
  setAfterSaleStatus(id: string, status: AfterSaleStatus): void {
    const record = this.world.setAfterSaleStatus(id, status)
    this.emit("aftersales/updated", { aftersale: renderAfterSale(record) })
  }

  /** The after-sale with this id. */
  afterSale(id: string): AfterSaleRecord {
    return this.world.afterSale(id)
  }

  // --- webhooks ------------------------------------------------------------------------------------

  /** Sends webhooks to `url` from now on (`undefined` stops them). */
  subscribe(url: string | undefined): void {
    this.webhooks.subscribe(url)
  }

  /** A signed delivery of `topic` (signed with another secret when given, for rejection tests). */
  buildDelivery(topic: string, data: Record<string, unknown>, secret: string = this.webhookSecret): BuiltDelivery {
    const id = this.world.token("evt")
    const body = JSON.stringify({ id, topic, created_at: new Date(this.clock.now()).toISOString(), data })
    return {
      id,
      topic,
      body,
      headers: {
        "content-type": "application/json",
        "x-memory-topic": topic,
        "x-memory-event-id": id,
        [signatureHeader]: sign(secret, body)
      }
    }
  }

  /** Sends a webhook to the subscriber, if any, retrying on the platform's schedule. */
  emit(topic: string, data: Record<string, unknown>): void {
    if (this.webhooks.subscriber === undefined) return
    this.webhooks.send(this.buildDelivery(topic, data))
  }

  // --- OAuth -------------------------------------------------------------------------------------

  /** A fresh grant, as the token endpoint would issue after consent. */
  issueGrant(): GrantRecord {
    return this.world.issueGrant(this.grantScopes, this.ttl)
  }

  /** How many refresh grants the token endpoint honoured. */
  refreshCount(): number {
    return this.world.refreshes
  }

  /** The seller uninstalls the app: every token stops working; sends `app/uninstalled`. */
  revokeAuthorization(): void {
    this.world.revokeAll()
    this.emit("app/uninstalled", { reason: "The seller uninstalled the app" })
  }

  /** Stops the server and the webhook pusher. */
  async close(): Promise<void> {
    this.webhooks.stop()
    await this.server.close()
  }
}

/** Starts a sandbox on a free loopback port. */
export const start = async (options: MemorySandboxOptions = {}): Promise<MemorySandbox> => {
  const clock = options.clock ?? new SandboxClock.SandboxClock()
  const world = new MemoryWorld(
    clock,
    options.locations ?? [
      { id: "WH-1", name: "Main warehouse" },
      { id: "WH-2", name: "Overflow warehouse" }
    ]
  )
  const settings = {
    clientId: options.clientId ?? "memory-app",
    clientSecret: options.clientSecret ?? randomBytes(24).toString("base64url"),
    webhookSecret: options.webhookSecret ?? randomBytes(24).toString("base64url"),
    scopes: options.scopes ?? allScopes,
    ttl: {
      accessMs: options.accessTokenTtlMs ?? 2 * 60 * 60 * 1000,
      refreshMs: options.refreshTokenTtlMs ?? 30 * 24 * 60 * 60 * 1000
    }
  }
  const webhooks = new WebhookEmitter.WebhookEmitter({
    clock,
    retrySchedule,
    timeoutMs: options.webhookTimeoutMs ?? 5_000
  })
  let sandbox: MemorySandbox | undefined
  const server = await SandboxServer.start({
    name: options.name ?? "memory",
    clock,
    host: options.host,
    port: options.port,
    routes: routes(world, clock, {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      scopes: settings.scopes,
      accessTokenTtlMs: settings.ttl.accessMs,
      refreshTokenTtlMs: settings.ttl.refreshMs,
      rateLimit: options.rateLimit ?? { perSecond: 20, burst: 40 },
      notify: (topic, data) => sandbox?.emit(topic, data)
    })
  })
  sandbox = new MemorySandbox(server, world, webhooks, settings)
  return sandbox
}

/** A sandbox for the lifetime of the scope. */
export const scoped = (options: MemorySandboxOptions = {}): Effect.Effect<MemorySandbox, never, Scope.Scope> =>
  SandboxServer.acquire(() => start(options))
