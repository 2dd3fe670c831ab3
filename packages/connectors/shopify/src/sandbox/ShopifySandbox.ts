/**
 * ShopifySandbox: a local Shopify shop that behaves like the real one for everything the connector
 * uses — a real HTTP server with the GraphQL Admin API (`/admin/api/<version>/graphql.json`,
 * validated against a schema generated from Shopify's own, with the cost bucket, scopes,
 * compare-and-set and idempotency keys), the OAuth endpoints (authorize redirect with a signed
 * callback, code exchange with expiring tokens, refresh with rotation, token exchange), and a
 * webhook emitter that signs and retries like Shopify. Time comes from a `SandboxClock`, so token
 * expiry, bucket refill and a 4-hour retry schedule can be played in moments.
 *
 * The control API below is what tests, the runner's demo and end-to-end scenarios drive: seed
 * locations and products, place, cancel and refund orders, change stock behind the connector's back,
 * subscribe webhook URLs, read back levels and fulfillments, issue tokens, inject faults.
 *
 * API versions: 2026-01, 2026-04, 2026-07 and 2026-10 (stable on 2026-11-26) are each answered as
 * themselves, with that version's schema and the inventory rules the Shopify reference lists for it
 * (`ShopifySandboxGraphql.rulesFor`); `unstable` is answered like 2026-10. An older, retired version
 * falls forward to the oldest supported one, reported in `X-Shopify-API-Version`, as Shopify does;
 * a version newer than any the sandbox knows is a 404.
 *
 * @since 0.1.0
 */
import { randomBytes, randomUUID } from "node:crypto"
import type { SandboxServer as Harness } from "@tkbridge/connector-testkit"
import { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import type { AccessToken } from "@tkbridge/core"
import { Effect } from "effect"
import type { GraphQLSchema } from "graphql"
import { decodeTokenResponse, defaultScopes, toTokenSet } from "../ShopifyAuth.ts"
import type { ShopifyConfigInput } from "../ShopifyConfig.ts"
import { defaultApiVersion } from "../ShopifyConfig.ts"
import { ShopifySandboxAuth } from "./ShopifySandboxAuth.ts"
import type { Plan } from "./ShopifySandboxGraphql.ts"
import { Bucket, plans, ShopifySandboxGraphql, schemaVersions } from "./ShopifySandboxGraphql.ts"
import type {
  AddressRecord,
  FinancialStatus,
  FulfillmentRecord,
  LevelRecord,
  OrderRecord,
  RefundRecord
} from "./ShopifySandboxState.ts"
import { ShopifySandboxState } from "./ShopifySandboxState.ts"
import type { SandboxDelivery, SignedWebhook } from "./ShopifySandboxWebhooks.ts"
import { ShopifySandboxWebhooks } from "./ShopifySandboxWebhooks.ts"

/** Route names (for `fault`). */
export const routes = {
  graphql: "graphql",
  authorize: "oauth.authorize",
  token: "oauth.token"
} as const

/** Versions served by default (stable on 2026-11-26). */
export const supportedVersions: ReadonlyArray<string> = ["2026-01", "2026-04", "2026-07", "2026-10"]

/** How to start a sandbox shop. */
export interface ShopifySandboxOptions {
  /** The shop's domain (default `tkbridge-sandbox.myshopify.com`). */
  readonly shop?: string | undefined
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  /** The shop's plan: sets the cost bucket's restore rate (standard 100, advanced 200, plus 1,000, enterprise 2,000). */
  readonly plan?: Plan | undefined
  /** Overrides the plan's restore rate (points per second). */
  readonly restoreRate?: number | undefined
  /** Bucket size (default 20 × restore rate, as a public fixture shows; unverified). */
  readonly maximumAvailable?: number | undefined
  readonly clock?: SandboxClock.SandboxClock | undefined
  /**
   * Versions answered as themselves (default `supportedVersions`; each must be one the sandbox has a
   * schema for). Older date versions fall forward to the oldest of them.
   */
  readonly apiVersions?: ReadonlyArray<string> | undefined
  /**
   * Shopify's full Admin schema: incoming documents are validated against it as well. One schema is
   * 2026-10's (also used for `unstable`); a record gives one per version.
   */
  readonly adminSchema?: GraphQLSchema | Readonly<Record<string, GraphQLSchema>> | undefined
  /** HTTP status of a `THROTTLED` answer (200 by default; 429 also seen in the wild). */
  readonly throttleStatus?: 200 | 429 | undefined
  readonly currency?: string | undefined
  /** Names of the locations to create (default one: "Main warehouse"). */
  readonly locations?: ReadonlyArray<string> | undefined
  readonly auth?:
    | {
        readonly accessTokenTtlSeconds?: number | undefined
        readonly refreshTokenTtlSeconds?: number | undefined
        readonly refreshGrace?: boolean | undefined
        readonly requireExpiringTokens?: boolean | undefined
        readonly redirectUris?: ReadonlyArray<string> | undefined
      }
    | undefined
  readonly webhooks?:
    | {
        readonly retryScheduleMs?: ReadonlyArray<number> | undefined
        readonly timeoutMs?: number | undefined
        readonly deleteAfterFailures?: number | undefined
      }
    | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** Seeded random source for `probability` faults. */
  readonly random?: (() => number) | undefined
}

/** A level as the control API reports it. */
export interface LevelView {
  readonly locationId: string
  readonly available: number
  readonly committed: number
  readonly onHand: number
}

/** A fulfillment as the control API reports it. */
export interface FulfillmentView {
  readonly id: string
  readonly status: string
  readonly tracking: ReadonlyArray<{
    readonly company: string | null
    readonly number: string | null
    readonly url: string | null
  }>
  readonly lines: ReadonlyArray<{ readonly lineItemId: string; readonly quantity: number }>
}

const levelView = (l: LevelRecord): LevelView => ({
  locationId: l.locationId,
  available: l.available,
  committed: l.committed,
  onHand: l.available + l.committed
})

/** A running sandbox shop and its control API. */
export class ShopifySandbox {
  /** The HTTP harness (faults, recorded requests, open connections). */
  readonly server: Harness.Sandbox
  readonly shop: string
  readonly clientId: string
  readonly clientSecret: string
  readonly clock: SandboxClock.SandboxClock
  readonly state: ShopifySandboxState
  readonly auth: ShopifySandboxAuth
  readonly graphql: ShopifySandboxGraphql
  readonly webhooks: ShopifySandboxWebhooks
  private readonly versions: ReadonlyArray<string>

  /** @internal */
  constructor(
    server: Harness.Sandbox,
    parts: {
      readonly shop: string
      readonly clientId: string
      readonly clientSecret: string
      readonly state: ShopifySandboxState
      readonly auth: ShopifySandboxAuth
      readonly graphql: ShopifySandboxGraphql
      readonly webhooks: ShopifySandboxWebhooks
      readonly versions: ReadonlyArray<string>
    }
  ) {
    this.server = server
    this.clock = server.clock
    this.shop = parts.shop
    this.clientId = parts.clientId
    this.clientSecret = parts.clientSecret
    this.state = parts.state
    this.auth = parts.auth
    this.graphql = parts.graphql
    this.webhooks = parts.webhooks
    this.versions = parts.versions
  }

  /** The base URL (`http://127.0.0.1:<port>`), standing in for `https://<shop>`. */
  get url(): string {
    return this.server.url
  }

  /** The GraphQL endpoint for a version. */
  graphqlUrl(version: string = defaultApiVersion): string {
    return `${this.url}/admin/api/${version}/graphql.json`
  }

  /** A connector config pointing at this sandbox. */
  config(overrides: Partial<ShopifyConfigInput> = {}): ShopifyConfigInput {
    return {
      shop: this.shop,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      apiBaseUrl: this.url,
      ...overrides
    }
  }

  /** The version that answers a request for `requested`, or undefined (404). */
  answeringVersion(requested: string): string | undefined {
    if (this.versions.includes(requested) || requested === "unstable") return requested
    const oldest = [...this.versions].sort()[0]
    if (oldest !== undefined && /^\d{4}-\d{2}$/.test(requested) && requested < oldest) return oldest
    return undefined
  }

  // -------------------------------------------------------------------------------------------
  // Faults and limits

  /** Injects a fault on a route (`routes.graphql`, `routes.token`, `routes.authorize`, or `"*"`). */
  fault(route: string, fault: Harness.Fault): void {
    this.server.fault(route, fault)
  }

  /** Removes faults. */
  clearFaults(route?: string): void {
    this.server.clearFaults(route)
  }

  /** The cost bucket as Shopify would report it now. */
  bucketStatus(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    return this.graphql.bucket.status()
  }

  /** Takes points out of the bucket (another app of the shop had a burst). */
  drainBucket(points?: number): void {
    this.graphql.bucket.drain(points)
  }

  /** Changes the plan (restore rate; bucket size 20 × unless `maximumAvailable` is given). */
  setPlan(plan: Plan, maximumAvailable?: number): void {
    this.graphql.bucket.restoreRate = plans[plan]
    this.graphql.bucket.maximumAvailable = maximumAvailable ?? plans[plan] * 20
  }

  // -------------------------------------------------------------------------------------------
  // Catalogue and stock

  /** Adds a location; returns its numeric id. */
  addLocation(
    name: string,
    options: { readonly country?: string; readonly fulfillsOnlineOrders?: boolean; readonly active?: boolean } = {}
  ): string {
    return this.state.addLocation({ name, ...options }).id
  }

  /** The numeric ids of the locations, the default (order) location first. */
  locationIds(): ReadonlyArray<string> {
    const first = this.state.defaultLocation().id
    return [first, ...[...this.state.locations.keys()].filter((id) => id !== first)]
  }

  /** The location orders are taken from. */
  defaultLocationId(): string {
    return this.state.defaultLocation().id
  }

  /**
   * Adds a product. Each variant's `stock` is a quantity at the default location or a map of
   * location id → quantity. Returns the numeric ids.
   */
  addProduct(input: {
    readonly title: string
    readonly variants: ReadonlyArray<{
      readonly sku?: string | null
      readonly title?: string
      readonly price?: string
      readonly tracked?: boolean
      readonly stock?: number | Readonly<Record<string, number>>
    }>
  }): {
    readonly productId: string
    readonly variants: ReadonlyArray<{
      readonly variantId: string
      readonly inventoryItemId: string
      readonly sku: string | null
    }>
  } {
    const { product, variants } = this.state.addProduct(input)
    return {
      productId: product.id,
      variants: variants.map((v) => ({ variantId: v.id, inventoryItemId: v.inventoryItemId, sku: v.sku }))
    }
  }

  /** Adds one single-variant product per SKU, stocked at the default location. */
  seedSkus(skus: ReadonlyArray<{ readonly sku: string; readonly quantity: number; readonly price?: string }>) {
    return skus.map((s) =>
      this.addProduct({
        title: `Product ${s.sku}`,
        variants: [{ sku: s.sku, stock: s.quantity, ...(s.price ? { price: s.price } : {}) }]
      })
    )
  }

  private itemOf(sku: string): string {
    const v = this.state.variantBySku(sku)
    if (v === undefined) throw new Error(`no variant with SKU ${sku}`)
    return v.inventoryItemId
  }

  /** The available quantity of a SKU at a location (default location); undefined when not stocked there. */
  available(sku: string, locationId: string = this.defaultLocationId()): number | undefined {
    const v = this.state.variantBySku(sku)
    if (v === undefined) return undefined
    return this.state.findLevel(v.inventoryItemId, locationId)?.available
  }

  /** Every level of a SKU. */
  levels(sku: string): ReadonlyArray<LevelView> {
    return this.state.levelsOf(this.itemOf(sku)).map(levelView)
  }

  /** Changes the available quantity behind the connector's back (a sale in the shop's POS, a stock count). */
  setStock(sku: string, quantity: number, locationId: string = this.defaultLocationId()): void {
    this.state.setQuantity(this.state.level(this.itemOf(sku), locationId), "available", quantity)
  }

  /** How many `inventorySetQuantities` writes were applied to a SKU (replays not counted). */
  appliedWrites(sku: string): number {
    const v = this.state.variantBySku(sku)
    return v === undefined ? 0 : (this.state.appliedWrites.get(v.inventoryItemId) ?? 0)
  }

  /** Lets orders take more than is available (Shopify's "continue selling when out of stock"). */
  allowOverselling(allow = true): void {
    this.state.oversell = allow
  }

  // -------------------------------------------------------------------------------------------
  // Orders

  /** Places an order (stock is committed at the location); returns its numeric id. */
  placeOrder(input: {
    readonly lines: ReadonlyArray<{
      readonly sku?: string
      readonly variantId?: string
      readonly quantity: number
      readonly price?: string
    }>
    readonly locationId?: string
    readonly financialStatus?: FinancialStatus
    readonly shippingAddress?: AddressRecord | null
    readonly test?: boolean
  }): string {
    return this.state.placeOrder(input).id
  }

  /** Cancels an order (releasing and, by default, restocking its units). */
  cancelOrder(
    orderId: string,
    options: { readonly reason?: OrderRecord["cancelReason"]; readonly restock?: boolean } = {}
  ): void {
    this.state.cancelOrder(orderId, options)
  }

  /** Refunds units (all remaining when `lines` is absent); returns the refund's numeric id. */
  refund(
    orderId: string,
    input: {
      readonly lines?: ReadonlyArray<{ readonly lineItemId?: string; readonly sku?: string; readonly quantity: number }>
      readonly restock?: boolean
      readonly note?: string
    } = {}
  ): string {
    return this.state.refund(orderId, input).id
  }

  /** An order as the shop holds it. */
  order(orderId: string): {
    readonly id: string
    readonly name: string
    readonly cancelled: boolean
    readonly financialStatus: FinancialStatus
    readonly fulfillmentStatus: string
    readonly updatedAt: number
    readonly lines: ReadonlyArray<{
      readonly id: string
      readonly sku: string | null
      readonly quantity: number
      readonly current: number
      readonly unshipped: number
    }>
    readonly refunds: ReadonlyArray<RefundRecord>
  } {
    const o = this.state.order(orderId)
    return {
      id: o.id,
      name: o.name,
      cancelled: o.cancelledAt !== null,
      financialStatus: o.financialStatus,
      fulfillmentStatus: this.state.fulfillmentStatus(o),
      updatedAt: o.updatedAt,
      lines: o.lines.map((l) => ({
        id: l.id,
        sku: l.sku,
        quantity: l.quantity,
        current: l.quantity - l.refunded,
        unshipped: this.state.unshipped(o, l.id)
      })),
      refunds: o.refunds.map((id) => this.state.refunds.get(id)!)
    }
  }

  /** The fulfillments (shipments with tracking) of an order. */
  fulfillments(orderId: string): ReadonlyArray<FulfillmentView> {
    return this.state
      .order(orderId)
      .fulfillments.map((id) => this.state.fulfillments.get(id)!)
      .map((f: FulfillmentRecord) => ({ id: f.id, status: f.status, tracking: f.tracking, lines: f.lines }))
  }

  // -------------------------------------------------------------------------------------------
  // Tokens

  /** Issues a grant as a `TokenSet` (expiring by default, every scope the connector needs by default). */
  issueToken(
    options: { readonly scopes?: ReadonlyArray<string>; readonly expiring?: boolean } = {}
  ): AccessToken.TokenSet {
    const raw = this.auth.issue({ scopes: options.scopes ?? defaultScopes, expiring: options.expiring ?? true })
    return toTokenSet(Effect.runSync(decodeTokenResponse(raw)), this.clock.now(), this.shop)
  }

  /** How many refresh requests reached the token endpoint. */
  refreshes(): number {
    return this.auth.refreshes
  }

  /** Expires every access token now (refresh tokens stay valid). */
  expireAccessTokens(): void {
    this.auth.expireAccessTokens()
  }

  /** The merchant uninstalls the app: every token is revoked and `app/uninstalled` is sent. */
  uninstall(): void {
    this.auth.revokeAll()
    this.state.uninstalled()
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks

  /** Subscribes a URL to topics (all by default); returns the subscription id. */
  subscribe(uri: string, options: { readonly topics?: ReadonlyArray<string>; readonly name?: string } = {}): string {
    return this.webhooks.subscribe(uri, options)
  }

  /** Every webhook delivery made, oldest first. */
  deliveries(): ReadonlyArray<SandboxDelivery> {
    return this.webhooks.deliveries()
  }

  /** Resolves when every delivery has been delivered or given up on. */
  settleWebhooks(): Promise<void> {
    return this.webhooks.settled()
  }

  /** Sends a delivery again with the same ids (a duplicate, as Shopify sometimes sends). */
  redeliver(webhookId: string): SandboxDelivery {
    return this.webhooks.redeliver(webhookId)
  }

  /** A delivery for `topic` signed as Shopify signs it (with `secret` instead of the app's, for negative tests). */
  signWebhook(topic: string, payload: unknown, options: { readonly secret?: string } = {}): SignedWebhook {
    return this.webhooks.sign(topic, payload, options)
  }

  /** The REST-style payload of an order (what `orders/*` webhooks carry). */
  orderPayload(orderId: string): Record<string, unknown> {
    return this.state.orderPayload(this.state.order(orderId))
  }

  /** Stops the server, the webhook retries and the clock's sleepers. */
  async close(): Promise<void> {
    this.webhooks.stop()
    await this.server.close()
  }
}

/** Starts a sandbox shop on a free loopback port. */
export const start = async (options: ShopifySandboxOptions = {}): Promise<ShopifySandbox> => {
  const clock = options.clock ?? new SandboxClock.SandboxClock()
  const shop = options.shop ?? "tkbridge-sandbox.myshopify.com"
  const clientId = options.clientId ?? `sandbox-${randomUUID().slice(0, 8)}`
  const clientSecret = options.clientSecret ?? `shpss_${randomBytes(16).toString("hex")}`
  const versions = options.apiVersions ?? supportedVersions
  const unknown = versions.filter((v) => !schemaVersions.includes(v))
  if (unknown.length > 0 || versions.length === 0) {
    throw new Error(
      `the sandbox serves API versions ${schemaVersions.join(", ")}; it cannot serve ${unknown.join(", ") || "none"}`
    )
  }
  const state = new ShopifySandboxState({ shop, clock, currency: options.currency })
  for (const name of options.locations ?? ["Main warehouse"]) state.addLocation({ name })
  const auth = new ShopifySandboxAuth({ shop, clientId, clientSecret, ...(options.auth ?? {}) }, clock)
  const bucket = new Bucket(
    {
      restoreRate: options.restoreRate ?? plans[options.plan ?? "standard"],
      maximumAvailable: options.maximumAvailable
    },
    clock
  )
  const graphql = new ShopifySandboxGraphql(
    state,
    bucket,
    { adminSchema: options.adminSchema, throttleStatus: options.throttleStatus },
    clock
  )
  const webhooks = new ShopifySandboxWebhooks(
    { shop, clientSecret, apiVersion: defaultApiVersion, ...(options.webhooks ?? {}) },
    clock
  )
  state.onEvent((topic, payload) => webhooks.publish(topic, payload))
  let sandbox: ShopifySandbox | undefined
  const server = await SandboxServer.start({
    name: `shopify:${shop}`,
    clock,
    host: options.host,
    port: options.port,
    random: options.random,
    routes: [
      {
        name: routes.graphql,
        method: "POST",
        path: /^\/admin\/api\/(?<version>[^/]+)\/graphql\.json$/,
        handler: async (request) => {
          const requestId = randomUUID()
          const version = sandbox!.answeringVersion(request.params.version ?? "")
          if (version === undefined) {
            return SandboxServer.json(404, { errors: "Not Found" }, { "x-request-id": requestId })
          }
          const headers = { "x-shopify-api-version": version, "x-request-id": requestId }
          const authn = auth.authenticate(request.headers["x-shopify-access-token"])
          if (!authn.ok) return SandboxServer.json(authn.status, authn.body, headers)
          const response = await graphql.handle(request, authn.record.scopes, version)
          return { ...response, headers: { ...(response.headers ?? {}), ...headers } }
        }
      },
      { name: routes.authorize, method: "GET", path: "/admin/oauth/authorize", handler: (r) => auth.authorize(r) },
      { name: routes.token, method: "POST", path: "/admin/oauth/access_token", handler: (r) => auth.token(r) }
    ]
  })
  sandbox = new ShopifySandbox(server, { shop, clientId, clientSecret, state, auth, graphql, webhooks, versions })
  return sandbox
}

/** Starts a sandbox shop for the lifetime of the scope. */
export const scoped = (options: ShopifySandboxOptions = {}) => SandboxServer.acquire(() => start(options))
