/**
 * TikTokShopSandbox: a local TikTok Shop that behaves like the real one for everything the
 * connector uses — two real HTTP servers (the Open API host and the auth host) with TikTok's
 * paths, versions, envelopes, signatures, gateway checks, rate limit and token lifetimes; a world
 * of shops, warehouses, products, orders, packages, cancellations and returns moving through
 * TikTok's status machines; and a webhook pusher that signs and retries like TikTok. Time comes
 * from a `SandboxClock`, so 7-day tokens, 30-minute codes and 14-hour retry schedules can be
 * played in moments.
 *
 * The control API below is what tests, the runner's demo and end-to-end scenarios drive: seed the
 * catalogue, place and move orders, cancel and return, subscribe webhook URLs, read back stock and
 * shipments, issue tokens, inject faults.
 *
 * @since 0.1.0
 */

import { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import { AccessToken } from "@tkbridge/core"
import type { Clock, Effect, Scope } from "effect"
import { Redacted } from "effect"
import type { TikTokShopConfigInput } from "../TikTokShopConfig.ts"
import type { ShopSubscriptions } from "./TikTokShopSandboxApi.ts"
import { allScopes, routes, subscribableEvents } from "./TikTokShopSandboxApi.ts"
import { AuthServer } from "./TikTokShopSandboxAuth.ts"
import type { ErrorStatuses } from "./TikTokShopSandboxGateway.ts"
import { defaultStatuses, Gateway } from "./TikTokShopSandboxGateway.ts"
import type { Random } from "./TikTokShopSandboxIds.ts"
import { IdSource, requestId } from "./TikTokShopSandboxIds.ts"
import type {
  Cancellation,
  Order,
  OrderStatus,
  Package,
  Product,
  Recipient,
  ReturnRequest,
  ReturnStatus,
  Shop,
  Warehouse
} from "./TikTokShopSandboxState.ts"
import { World } from "./TikTokShopSandboxState.ts"
import type { Notification } from "./TikTokShopSandboxWebhooks.ts"
import { signature, TikTokShopWebhookEmitter, tiktokRetrySchedule } from "./TikTokShopSandboxWebhooks.ts"

/** How to start a sandbox. Everything has a TikTok-like default. */
export interface TikTokShopSandboxOptions {
  readonly appKey?: string | undefined
  readonly appSecret?: string | undefined
  readonly serviceId?: string | undefined
  /** The app's registered redirect URL; the consent page sends the seller there with `code` and `state`. */
  readonly redirectUrl?: string | undefined
  readonly seller?: { readonly openId?: string; readonly name?: string; readonly baseRegion?: string } | undefined
  /** Shops of the seller (default: one GB shop). Each gets a default warehouse and a seller-shipping option. */
  readonly shops?:
    | ReadonlyArray<{
        readonly id?: string
        readonly name?: string
        readonly region?: string
        readonly cipher?: string
        readonly sellerType?: Shop["sellerType"]
      }>
    | undefined
  readonly clock?: SandboxClock.SandboxClock | undefined
  /** Scopes (API packages) new grants hold. Default: all. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Access token lifetime (default 7 days). */
  readonly accessTokenTtlMs?: number | undefined
  /** Refresh token / authorization lifetime (default 365 days). */
  readonly refreshTokenTtlMs?: number | undefined
  /** Auth code lifetime (default 30 minutes). */
  readonly authCodeTtlMs?: number | undefined
  /** Whether a refresh issues a new refresh token (undocumented; default false). */
  readonly rotateRefreshToken?: boolean | undefined
  /** Requests per second per app + shop + API (default 50). */
  readonly qps?: number | undefined
  /** Accepted timestamp skew (default 300 s in the past, 30 s in the future). */
  readonly timestampWindow?: { readonly pastSeconds: number; readonly futureSeconds: number } | undefined
  /** Accept signatures computed without a `{}`/empty body (undocumented; default true). */
  readonly acceptBodylessSignature?: boolean | undefined
  /** How the last page is signalled (undocumented; default `empty`: `next_page_token: ""`). */
  readonly lastPage?: "empty" | "absent" | undefined
  /** HTTP statuses of errors whose status TikTok does not document. */
  readonly statuses?: Partial<ErrorStatuses> | undefined
  /** Waits between webhook retries, sandbox ms (default +2 min, +30 min, +3 h, +12 h). */
  readonly webhookRetrySchedule?: ReadonlyArray<number> | undefined
  /** Real ms a receiver has to answer (default 3000). */
  readonly webhookTimeoutMs?: number | undefined
  /** Receiver statuses that end delivery (default 200 and 401). */
  readonly webhookAcceptStatuses?: ReadonlyArray<number> | undefined
  /** Webhook types the app is subscribed to (default 1, 3, 4, 6, 7, 11, 12; add 27 for inventory alerts). */
  readonly topics?: ReadonlyArray<number> | undefined
  /** How order-status webhooks spell the cancelled status (the webhook doc says `CANCEL`). */
  readonly webhookCancelSpelling?: "CANCEL" | "CANCELLED" | undefined
  /** Render `…_id` fields of webhook data as bare JSON numbers, as some official examples do. */
  readonly bareNumberIds?: boolean | undefined
  /** Buyer-remorse window: ON_HOLD → AWAITING_SHIPMENT (default 1 hour). */
  readonly remorseWindowMs?: number | undefined
  /** Available quantity at or below which a SKU is LOW_STOCK (default 5). */
  readonly lowStockThreshold?: number | undefined
  /** Reject webhook addresses TikTok rejects (https only, domain, no port); default false for local receivers. */
  readonly enforceWebhookUrlRules?: boolean | undefined
  /** Seeded randomness for reproducible ids and tokens. */
  readonly random?: Random | undefined
  readonly host?: string | undefined
}

/** A grant issued for tests, with everything a connection needs. */
export interface IssuedToken {
  readonly accessToken: string
  readonly refreshToken: string
  /** Milliseconds since the epoch (sandbox time). */
  readonly accessTokenExpiresAt: number
  readonly refreshTokenExpiresAt: number
  readonly shopId: string
  readonly shopCipher: string
  readonly openId: string
  readonly scopes: ReadonlyArray<string>
}

/** A shipment as the sandbox holds it. */
export interface SandboxShipment {
  readonly packageId: string
  readonly trackingNumber: string
  readonly providerId: string
  readonly carrier: string
  readonly lineItemIds: ReadonlyArray<string>
  readonly status: Package["status"]
}

const defaultTopics = [1, 3, 4, 6, 7, 11, 12]
const day = 86_400_000
const authRoutes = new Set(["token.get", "token.refresh", "authorize", "authorize.legacy", "auth.unknown"])
const registry = new WeakMap<SandboxServer.Sandbox, TikTokShopSandbox>()
const eventNameOf = new Map(Object.entries(subscribableEvents).map(([name, type]) => [type, name]))

/** A running TikTok Shop sandbox. */
export class TikTokShopSandbox {
  /** The Open API host. */
  readonly api: SandboxServer.Sandbox
  /** The auth host (token endpoints, consent page). */
  readonly authHost: SandboxServer.Sandbox
  readonly clock: SandboxClock.SandboxClock
  readonly appKey: string
  readonly appSecret: string
  readonly serviceId: string
  /** The sandbox's state; read it for assertions, change it through the methods below. */
  readonly world: World
  /** Every webhook notification and its delivery attempts. */
  readonly webhooks: TikTokShopWebhookEmitter
  /** The token server. */
  readonly auth: AuthServer
  private readonly ids: IdSource
  private readonly subscriptions: ShopSubscriptions
  private readonly topics: Set<number>
  private readonly options: TikTokShopSandboxOptions
  private appWebhookUrl: string | undefined
  private grantedScopes: Array<string>
  private consent: "approve" | "deny" = "approve"

  /** @internal */
  constructor(parts: {
    readonly api: SandboxServer.Sandbox
    readonly authHost: SandboxServer.Sandbox
    readonly clock: SandboxClock.SandboxClock
    readonly world: World
    readonly webhooks: TikTokShopWebhookEmitter
    readonly auth: AuthServer
    readonly ids: IdSource
    readonly subscriptions: ShopSubscriptions
    readonly topics: Set<number>
    readonly options: TikTokShopSandboxOptions
    readonly appKey: string
    readonly appSecret: string
    readonly serviceId: string
    readonly scopes: Array<string>
  }) {
    this.api = parts.api
    this.authHost = parts.authHost
    this.clock = parts.clock
    this.world = parts.world
    this.webhooks = parts.webhooks
    this.auth = parts.auth
    this.ids = parts.ids
    this.subscriptions = parts.subscriptions
    this.topics = parts.topics
    this.options = parts.options
    this.appKey = parts.appKey
    this.appSecret = parts.appSecret
    this.serviceId = parts.serviceId
    this.grantedScopes = parts.scopes
  }

  /** The Open API base URL. */
  get url(): string {
    return this.api.url
  }

  /** The auth host base URL. */
  get authUrl(): string {
    return this.authHost.url
  }

  /** The connector config for a shop of this sandbox (as written in YAML). */
  connectorConfig(shopId = this.defaultShop().id): TikTokShopConfigInput {
    return {
      appKey: this.appKey,
      appSecret: this.appSecret,
      serviceId: this.serviceId,
      shopId,
      apiBaseUrl: this.api.url,
      authBaseUrl: this.authHost.url,
      authorizeUrl: `${this.authHost.url}/open/authorize`
    }
  }

  // ---- shops and catalogue -----------------------------------------------------------------

  /** The first shop. */
  defaultShop(): Shop {
    const shop = this.world.shops.values().next().value
    if (shop === undefined) throw new Error("the sandbox has no shop")
    return shop
  }

  /** All shops of the seller. */
  shops(): ReadonlyArray<Shop> {
    return [...this.world.shops.values()]
  }

  /** Adds a warehouse to a shop. */
  addWarehouse(
    input: { readonly shopId?: string; readonly name?: string; readonly isDefault?: boolean } = {}
  ): Warehouse {
    return this.world.addWarehouse(input.shopId ?? this.defaultShop().id, input)
  }

  /** A shop's warehouses, default first. */
  warehouses(shopId = this.defaultShop().id): ReadonlyArray<Warehouse> {
    return this.world.warehousesOf(shopId)
  }

  /** Adds a product; each SKU's `stock` is a quantity in the default warehouse or a map warehouse id → quantity. */
  addProduct(input: {
    readonly shopId?: string
    readonly title: string
    readonly status?: Product["status"]
    readonly skus: ReadonlyArray<{
      readonly sellerSku: string
      readonly name?: string
      readonly price?: string
      readonly currency?: string
      readonly stock?: number | Readonly<Record<string, number>>
    }>
  }): {
    readonly productId: string
    readonly skus: ReadonlyArray<{ readonly skuId: string; readonly sellerSku: string }>
  } {
    const product = this.world.addProduct(input.shopId ?? this.defaultShop().id, input)
    return {
      productId: product.id,
      skus: product.skuIds.map((id) => ({ skuId: id, sellerSku: this.world.sku(id).sellerSku }))
    }
  }

  /** Changes a product's status (deactivated and deleted products refuse stock updates). */
  setProductStatus(productId: string, status: Product["status"]): void {
    const product = this.world.products.get(productId)
    if (product === undefined) throw new Error(`no product ${productId}`)
    product.status = status
    product.updateTime = this.world.seconds()
  }

  /** The SKU id of a seller SKU in a shop. */
  skuId(sellerSku: string, shopId = this.defaultShop().id): string {
    const sku = this.world.skuBySellerSku(shopId, sellerSku)
    if (sku === undefined) throw new Error(`shop ${shopId} has no seller SKU ${sellerSku}`)
    return sku.id
  }

  /** Available stock of a SKU (id or seller SKU) in a warehouse, or summed over its warehouses. */
  stock(sku: string, warehouseId?: string, shopId = this.defaultShop().id): number | undefined {
    const found = this.world.skus.get(sku) ?? this.world.skuBySellerSku(shopId, sku)
    if (found === undefined) return undefined
    if (warehouseId !== undefined) return found.inventory.get(warehouseId)?.available
    let total = 0
    for (const cell of found.inventory.values()) total += cell.available
    return total
  }

  /** Stock per warehouse of a SKU: available and committed (held by unshipped orders). */
  stockByWarehouse(
    sku: string,
    shopId = this.defaultShop().id
  ): Readonly<Record<string, { available: number; committed: number }>> {
    const found = this.world.skus.get(sku) ?? this.world.skuBySellerSku(shopId, sku)
    if (found === undefined) throw new Error(`no SKU ${sku}`)
    return Object.fromEntries([...found.inventory].map(([w, c]) => [w, { ...c }]))
  }

  /** Sets stock behind the connector's back (a change in Seller Center). */
  setStock(sku: string, quantity: number, warehouseId?: string, shopId = this.defaultShop().id): void {
    const found = this.world.skus.get(sku) ?? this.world.skuBySellerSku(shopId, sku)
    if (found === undefined) throw new Error(`no SKU ${sku}`)
    const warehouse = warehouseId ?? [...found.inventory.keys()][0]
    if (warehouse === undefined) throw new Error(`SKU ${sku} has no warehouse`)
    this.world.setStock(found.id, warehouse, quantity)
  }

  /** Inventory writes applied to a SKU through the API. */
  inventoryWrites(sku: string, shopId = this.defaultShop().id): number {
    return (this.world.skus.get(sku) ?? this.world.skuBySellerSku(shopId, sku))?.writes ?? 0
  }

  // ---- orders ------------------------------------------------------------------------------

  /** A buyer places an order (paid by default); lines name a SKU id or seller SKU. Returns the order id. */
  placeOrder(input: {
    readonly shopId?: string
    readonly lines: ReadonlyArray<{ readonly sku: string; readonly qty?: number }>
    readonly paid?: boolean
    readonly buyer?: { readonly userId?: string; readonly email?: string; readonly message?: string }
    readonly recipient?: Recipient
    readonly warehouseId?: string
    /** Unix seconds; defaults to now. */
    readonly at?: number
    readonly allowOversell?: boolean
  }): string {
    const shopId = input.shopId ?? this.defaultShop().id
    const order = this.world.placeOrder({
      shopId,
      lines: input.lines.map((l) => ({
        skuId: this.world.skus.get(l.sku)?.id ?? this.skuId(l.sku, shopId),
        qty: l.qty ?? 1
      })),
      paid: input.paid ?? true,
      buyer: input.buyer,
      recipient: input.recipient,
      warehouseId: input.warehouseId,
      at: input.at,
      allowOversell: input.allowOversell
    })
    return order.id
  }

  /** The buyer pays an UNPAID order. */
  pay(orderId: string): void {
    this.world.pay(orderId)
  }

  /** Ends the remorse window now: ON_HOLD → AWAITING_SHIPMENT. */
  releaseHold(orderId: string): void {
    this.world.releaseHold(orderId)
  }

  /** Moves an order along its status machine (e.g. IN_TRANSIT, DELIVERED, COMPLETED). */
  advance(orderId: string, status: OrderStatus): void {
    this.world.advance(orderId, status)
  }

  /** An order as the sandbox holds it. */
  order(orderId: string): Order {
    return this.world.order(orderId)
  }

  /** An order's status. */
  orderStatus(orderId: string): OrderStatus {
    return this.world.order(orderId).status
  }

  /** The seller ships in Seller Center (not through the API). */
  ship(
    orderId: string,
    input: { readonly trackingNumber: string; readonly carrier?: string; readonly lineItemIds?: ReadonlyArray<string> }
  ): string {
    const order = this.world.order(orderId)
    const option = this.world.deliveryOptions.get(order.deliveryOptionId)
    const provider = option?.providers.find((p) => p.name === (input.carrier ?? p.name))
    if (provider === undefined) throw new Error(`no shipping provider ${input.carrier} for order ${orderId}`)
    return this.world.markShipped({
      orderId,
      trackingNumber: input.trackingNumber,
      providerId: provider.id,
      lineItemIds: input.lineItemIds
    }).id
  }

  /** Shipments (packages with tracking numbers) of an order. */
  shipments(orderId: string): ReadonlyArray<SandboxShipment> {
    return this.world
      .order(orderId)
      .packageIds.map((id) => this.world.packages.get(id))
      .filter((p): p is Package => p !== undefined)
      .map((p) => ({
        packageId: p.id,
        trackingNumber: p.trackingNumber,
        providerId: p.providerId,
        carrier: p.providerName,
        lineItemIds: p.lineItemIds,
        status: p.status
      }))
  }

  /** The shipping providers sellers may use on a shop's seller-shipping delivery option. */
  shippingProviders(shopId = this.defaultShop().id): ReadonlyArray<{ readonly id: string; readonly name: string }> {
    return this.world.defaultDeliveryOption(shopId).providers
  }

  /**
   * Cancels an order (or some lines): buyer, seller (Seller Center) or system. Returns the cancel id.
   * Shipped orders only as a whole: AWAITING_COLLECTION by the seller of a US shop, IN_TRANSIT by the system.
   */
  cancel(
    orderId: string,
    input: {
      readonly by?: Cancellation["role"]
      readonly reason?: string
      readonly lineItemIds?: ReadonlyArray<string>
    } = {}
  ): string {
    const role = input.by ?? "BUYER"
    return this.world.cancel({
      orderId,
      role,
      reason:
        input.reason ??
        (role === "BUYER" ? "ecom_order_to_ship_canceled_reason_change_of_mind" : "seller_cancel_reason_out_of_stock"),
      lineItemIds: input.lineItemIds
    }).id
  }

  /** The seller approves or rejects a pending buyer cancellation in Seller Center. */
  decideCancellation(cancelId: string, approve: boolean): void {
    this.world.decideCancellation(cancelId, approve)
  }

  /** A cancellation as the sandbox holds it. */
  cancellation(cancelId: string): Cancellation {
    const c = this.world.cancellations.get(cancelId)
    if (c === undefined) throw new Error(`no cancellation ${cancelId}`)
    return c
  }

  /** The buyer asks for a return/refund/replacement of shipped lines. Returns the return id. */
  requestReturn(
    orderId: string,
    input: {
      readonly type?: ReturnRequest["type"]
      readonly reason?: string
      readonly lineItemIds?: ReadonlyArray<string>
    } = {}
  ): string {
    return this.world.requestReturn({
      orderId,
      type: input.type ?? "RETURN_AND_REFUND",
      reason: input.reason,
      lineItemIds: input.lineItemIds
    }).id
  }

  /**
   * Moves a return to a status (buyer ships it back, warehouse receives it, refund completes …), one
   * step of the return status machine at a time (`TikTokShopSandboxState.returnMoves`); other moves throw.
   */
  setReturnStatus(returnId: string, status: ReturnStatus): void {
    this.world.setReturnStatus(returnId, status)
  }

  /** A return as the sandbox holds it. */
  returnRequest(returnId: string): ReturnRequest {
    const r = this.world.returns.get(returnId)
    if (r === undefined) throw new Error(`no return ${returnId}`)
    return r
  }

  /** The buyer changes the delivery address. */
  updateAddress(orderId: string, recipient: Recipient): void {
    this.world.updateAddress(orderId, recipient)
  }

  // ---- authorization and tokens ------------------------------------------------------------

  /** What the consent page does: the seller approves (default) or declines. */
  setConsent(answer: "approve" | "deny"): void {
    this.consent = answer
  }

  /** The consent answer. @internal */
  consentAnswer(): "approve" | "deny" {
    return this.consent
  }

  /** Scopes new grants hold. @internal */
  scopes(): ReadonlyArray<string> {
    return this.grantedScopes
  }

  /** Sets the scopes new grants hold (existing grants keep theirs unless `apply` is set). */
  setScopes(scopes: ReadonlyArray<string>, apply = false): void {
    this.grantedScopes = [...scopes]
    if (apply) for (const g of this.world.grants.values()) g.scopes.splice(0, g.scopes.length, ...scopes)
  }

  /** A fresh single-use auth code for the given shops (default: all), as the consent page would hand out. */
  authCode(shopIds: ReadonlyArray<string> = [...this.world.shops.keys()]): string {
    return this.auth.issueCode(shopIds)
  }

  /** Authorizes a shop and issues its first tokens (for tests: the same path as a code exchange). */
  issueToken(shopId = this.defaultShop().id): IssuedToken {
    const issued = this.auth.redeem(this.auth.issueCode([shopId]))
    if ("code" in issued) throw new Error(`could not issue a token: ${issued.message}`)
    const shop = this.world.shop(shopId)
    return {
      accessToken: issued.token.value,
      refreshToken: issued.grant.refreshToken,
      accessTokenExpiresAt: issued.token.expiresAt,
      refreshTokenExpiresAt: issued.grant.refreshExpiresAt,
      shopId,
      shopCipher: shop.cipher,
      openId: issued.grant.openId,
      scopes: [...issued.grant.scopes]
    }
  }

  /** `issueToken` as a core `TokenSet`, with `shop_cipher` and `shop_id` in `extra`. */
  issueTokenSet(shopId = this.defaultShop().id): AccessToken.TokenSet {
    const t = this.issueToken(shopId)
    const shop = this.world.shop(shopId)
    return new AccessToken.TokenSet({
      accessToken: Redacted.make(t.accessToken),
      refreshToken: Redacted.make(t.refreshToken),
      expiresAt: new Date(t.accessTokenExpiresAt),
      refreshExpiresAt: new Date(t.refreshTokenExpiresAt),
      issuedAt: new Date(this.clock.now()),
      scopes: t.scopes,
      extra: {
        shop_id: shop.id,
        shop_cipher: shop.cipher,
        shop_name: shop.name,
        shop_region: shop.region,
        open_id: t.openId
      }
    })
  }

  /** Expires access tokens now (all, or those whose grant covers `shopId`); refresh tokens keep working. */
  expireAccessTokens(shopId?: string): void {
    const now = this.clock.now()
    for (const token of this.world.accessTokens.values()) {
      const grant = this.world.grants.get(token.grantId)
      if (shopId === undefined || grant?.shopIds.has(shopId)) token.expiresAt = Math.min(token.expiresAt, now)
    }
  }

  /** Requests that reached the token refresh endpoint. */
  refreshCount(): number {
    return this.auth.refreshRequests
  }

  /** The seller deauthorizes the app for a shop: its tokens stop working and a type 6 webhook goes out. */
  deauthorize(shopId = this.defaultShop().id, message = "The seller has deauthorized the app."): void {
    for (const grant of this.world.grants.values()) {
      if (!grant.shopIds.delete(shopId)) continue
      if (grant.shopIds.size === 0) grant.revoked = true
    }
    this.notify(shopId, 6, { message })
  }

  /** Announces that the authorization expires at `expiresAt` (ms; default in 30 days), as type 7. */
  authorizationExpiring(shopId = this.defaultShop().id, expiresAt = this.clock.now() + 30 * day): void {
    this.notify(shopId, 7, {
      message: "The authorization will expire soon. Please ask the seller to reauthorize.",
      expiration_time: String(Math.floor(expiresAt / 1000))
    })
  }

  // ---- webhooks ----------------------------------------------------------------------------

  /** Sets the app's webhook URL (Partner Center), or clears it. */
  subscribe(url: string | undefined): void {
    this.appWebhookUrl = url
  }

  /** The app's webhook URL. */
  get subscriber(): string | undefined {
    return this.appWebhookUrl
  }

  /** Subscribes or unsubscribes the app to a webhook type (27 = inventory status). */
  setTopic(type: number, on: boolean): void {
    if (on) this.topics.add(type)
    else this.topics.delete(type)
  }

  /** While muted, notifications are recorded but never sent (lost webhooks). */
  muteWebhooks(muted: boolean): void {
    this.webhooks.muted = muted
  }

  /** Builds a notification body exactly as TikTok would send it, without sending. */
  buildNotification(
    type: number,
    data: Record<string, unknown>,
    shopId = this.defaultShop().id
  ): { readonly id: string; readonly body: string; readonly signature: string } {
    const id = this.ids.id()
    let body = JSON.stringify({
      type,
      tts_notification_id: id,
      shop_id: shopId,
      timestamp: this.clock.nowSeconds(),
      data
    })
    if (this.options.bareNumberIds) body = body.replace(/"([a-z_]*_id)":"(\d+)"/g, '"$1":$2')
    return { id, body, signature: signature(this.appKey, this.appSecret, body) }
  }

  /** Sends an arbitrary body (signed like TikTok) to the app's webhook URL. */
  emitRaw(
    body: string,
    input: { readonly type?: number; readonly shopId?: string; readonly id?: string } = {}
  ): Notification {
    return this.webhooks.send({
      id: input.id ?? this.ids.id(),
      type: input.type ?? 0,
      shopId: input.shopId ?? this.defaultShop().id,
      body,
      target: this.appWebhookUrl
    })
  }

  /** Sends every muted notification now (after a test of lost webhooks, to check dedupe). */
  redeliverMuted(): number {
    const target = this.appWebhookUrl
    if (target === undefined) return 0
    const muted = this.webhooks.notifications.filter((n) => n.state === "muted")
    for (const n of muted) this.webhooks.redeliver(n, target)
    return muted.length
  }

  /** @internal */
  notify(shopId: string, type: number, data: Record<string, unknown>): void {
    if (!this.topics.has(type)) return
    const payload =
      type === 1 && data.order_status === "CANCELLED" && (this.options.webhookCancelSpelling ?? "CANCEL") === "CANCEL"
        ? { ...data, order_status: "CANCEL" }
        : data
    const built = this.buildNotification(type, payload, shopId)
    const eventName = eventNameOf.get(type)
    const target = (eventName && this.subscriptions.get(shopId)?.get(eventName)?.address) || this.appWebhookUrl
    this.webhooks.send({ id: built.id, type, shopId, body: built.body, target })
  }

  // ---- faults and lifecycle ----------------------------------------------------------------

  /** Injects a fault on a route of either host (route names: `orders.search`, `inventory.update`, `token.refresh` …, or `*`). */
  fault(route: string, fault: SandboxServer.Fault): void {
    if (route === "*") {
      this.api.fault(route, fault)
      this.authHost.fault(route, fault)
    } else if (authRoutes.has(route)) this.authHost.fault(route, fault)
    else this.api.fault(route, fault)
  }

  /** A fault answering with a TikTok error envelope (e.g. `36009003` with 503, `36009002` with 429). */
  tiktokError(
    code: number,
    options: { readonly status?: number; readonly message?: string; readonly times?: number } = {}
  ): SandboxServer.Fault {
    return {
      status: options.status ?? (code === 36009002 ? 429 : code === 36009003 ? 503 : 400),
      headers: { "content-type": "application/json" },
      body: {
        code,
        message: options.message ?? `Sandbox fault ${code}`,
        data: null,
        request_id: requestId(this.ids, this.clock.now())
      },
      ...(options.times !== undefined ? { times: options.times } : {})
    }
  }

  /** Removes faults (from one route, or all). */
  clearFaults(route?: string): void {
    if (route === undefined) {
      this.api.clearFaults()
      this.authHost.clearFaults()
    } else if (authRoutes.has(route)) this.authHost.clearFaults(route)
    else this.api.clearFaults(route)
  }

  /** Requests recorded on both hosts for a route name. */
  requestsTo(route: string): ReadonlyArray<SandboxServer.RecordedRequest> {
    return authRoutes.has(route) ? this.authHost.requestsTo(route) : this.api.requestsTo(route)
  }

  /** Stops both servers and webhook retries. */
  async close(): Promise<void> {
    this.webhooks.stop()
    await Promise.all([this.api.close(), this.authHost.close()])
  }
}

/** Starts a sandbox. Close it with `close()`; prefer `scoped` in Effect code. */
export const start = async (options: TikTokShopSandboxOptions = {}): Promise<TikTokShopSandbox> => {
  const clock = options.clock ?? new SandboxClock.SandboxClock()
  const ids = new IdSource(options.random)
  const appKey = options.appKey ?? `6${ids.token(12).toLowerCase()}`
  const appSecret = options.appSecret ?? ids.token(40).toLowerCase()
  const serviceId = options.serviceId ?? ids.id()
  const topics = new Set(options.topics ?? defaultTopics)
  const subscriptions: ShopSubscriptions = new Map()
  const webhooks = new TikTokShopWebhookEmitter({
    clock,
    appKey,
    appSecret,
    retrySchedule: options.webhookRetrySchedule ?? tiktokRetrySchedule,
    timeoutMs: options.webhookTimeoutMs ?? 3_000,
    acceptStatuses: options.webhookAcceptStatuses ?? [200, 401]
  })
  let sandbox: TikTokShopSandbox | undefined
  const world = new World(
    clock,
    ids,
    { remorseWindowMs: options.remorseWindowMs ?? 3_600_000, lowStockThreshold: options.lowStockThreshold ?? 5 },
    (shopId, type, data) => sandbox?.notify(shopId, type, data)
  )
  for (const shop of options.shops ?? [{}]) world.addShop(shop)
  const gateway = new Gateway({
    appKey,
    appSecret,
    world,
    clock,
    ids,
    qps: options.qps ?? 50,
    timestampWindow: options.timestampWindow ?? { pastSeconds: 300, futureSeconds: 30 },
    acceptBodylessSignature: options.acceptBodylessSignature ?? true,
    statuses: { ...defaultStatuses, ...(options.statuses ?? {}) }
  })
  const scopes = [...(options.scopes ?? allScopes)]
  const auth = new AuthServer({
    appKey,
    appSecret,
    serviceId,
    redirectUrl: options.redirectUrl,
    seller: {
      openId: options.seller?.openId ?? `${ids.token(22)}`,
      name: options.seller?.name ?? "Sandbox Seller Ltd",
      baseRegion: options.seller?.baseRegion ?? world.shops.values().next().value?.region ?? "GB"
    },
    accessTokenTtlMs: options.accessTokenTtlMs ?? 7 * day,
    refreshTokenTtlMs: options.refreshTokenTtlMs ?? 365 * day,
    authCodeTtlMs: options.authCodeTtlMs ?? 30 * 60_000,
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    clock,
    ids,
    world,
    scopes: () => sandbox?.scopes() ?? scopes,
    consent: () => sandbox?.consentAnswer() ?? "approve"
  })
  const api = await SandboxServer.start({
    name: "tiktok-shop",
    clock,
    host: options.host,
    routes: routes({
      world,
      gateway,
      subscriptions,
      lastPage: options.lastPage ?? "empty",
      enforceWebhookUrlRules: options.enforceWebhookUrlRules ?? false
    }),
    ...(options.random ? { random: options.random } : {})
  })
  const authHost = await SandboxServer.start({
    name: "tiktok-shop-auth",
    clock,
    host: options.host,
    routes: auth.routes()
  })
  sandbox = new TikTokShopSandbox({
    api,
    authHost,
    clock,
    world,
    webhooks,
    auth,
    ids,
    subscriptions,
    topics,
    options,
    appKey,
    appSecret,
    serviceId,
    scopes
  })
  registry.set(api, sandbox)
  return sandbox
}

/** Starts a sandbox for the lifetime of the scope. */
export const scoped = (options: TikTokShopSandboxOptions = {}): Effect.Effect<TikTokShopSandbox, never, Scope.Scope> =>
  SandboxServer.acquire(() => start(options))

/** The TikTok Shop sandbox behind a harness server (e.g. `FakeChannel.sandbox`). */
export const fromSandbox = (sandbox: SandboxServer.Sandbox): TikTokShopSandbox | undefined => registry.get(sandbox)

/** An Effect `Clock` that reads sandbox time (see `SandboxClock.effectClock`). */
export const effectClock: (clock: SandboxClock.SandboxClock) => Clock.Clock = SandboxClock.effectClock
