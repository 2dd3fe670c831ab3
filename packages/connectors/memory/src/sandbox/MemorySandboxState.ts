/**
 * MemorySandboxState: the world of the Memory platform — locations, SKUs with stock per location,
 * orders and their fulfilments, parcels with tracking events, after-sales, OAuth grants — and the
 * rules the API enforces on it (idempotency keys and compare-and-set on stock writes, one parcel
 * per reference, one fulfilment per tracking number). No HTTP here: `MemorySandboxApi` serves it,
 * `MemorySandbox` wraps it in a control API.
 *
 * Business errors are thrown as `MemoryApiError` (status, code, message) and rendered by the API
 * as `{ "error": { "code", "message", … } }`.
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import type { SandboxClock } from "@tkbridge/connector-testkit"

/** A refusal the API renders as `{ error: { code, message, …extra } }` with `status`. */
export class MemoryApiError extends Error {
  readonly status: number
  readonly code: string
  readonly extra: Readonly<Record<string, unknown>>
  constructor(status: number, code: string, message: string, extra: Readonly<Record<string, unknown>> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.extra = extra
  }
}

/** A stock location. */
export interface LocationRecord {
  readonly id: string
  readonly name: string
}

/** A SKU and its stock per location. `version` grows with every change at a location. */
export interface SkuRecord {
  readonly sku: string
  readonly productId: string
  readonly variantId: string
  title: string
  readonly stock: Map<string, { quantity: number; version: number }>
  /** Stock writes applied through the API (a replayed idempotent write does not count). */
  writes: number
}

/** One applied stock write, for reading back what a connector pushed. */
export interface StockWrite {
  readonly at: number
  readonly sku: string
  readonly location: string
  readonly quantity: number
  readonly idempotencyKey: string
}

/** Order statuses, in the platform's words. */
export type OrderStatus =
  | "pending_payment"
  | "paid"
  | "on_hold"
  | "partially_shipped"
  | "shipped"
  | "delivered"
  | "completed"
  | "cancelled"

/** A delivery address. */
export interface AddressRecord {
  readonly name: string
  readonly phone?: string | undefined
  readonly line1: string
  readonly line2?: string | undefined
  readonly city: string
  readonly province?: string | undefined
  readonly postal_code?: string | undefined
  readonly country_code: string
}

/** An order line. */
export interface LineRecord {
  readonly id: string
  readonly sku: string
  readonly quantity: number
  readonly title: string
  /** Minor units of the order's currency. */
  readonly unitPrice: number
}

/** A fulfilment: tracking number written back to the order. */
export interface FulfillmentRecord {
  readonly id: string
  readonly orderId: string
  readonly carrier: string
  readonly trackingNumber: string
  readonly lines: ReadonlyArray<{ readonly lineId: string; readonly quantity: number }>
  readonly idempotencyKey: string
  readonly createdAt: number
}

/** An order. */
export interface OrderRecord {
  readonly id: string
  status: OrderStatus
  readonly lines: ReadonlyArray<LineRecord>
  readonly shipTo: AddressRecord | undefined
  readonly currency: string
  readonly createdAt: number
  updatedAt: number
  readonly fulfillments: Array<FulfillmentRecord>
}

/** A carrier scan. */
export interface TrackingRecord {
  readonly code: "INFO" | "PICKUP" | "TRANSIT" | "CUSTOMS" | "OUT_FOR_DELIVERY" | "DELIVERED" | "EXCEPTION"
  readonly description: string
  readonly occurredAt: number
  readonly location: string
}

/** A parcel created through the shipping API. */
export interface ParcelRecord {
  readonly id: string
  readonly reference: string
  readonly orderId: string
  readonly service: string
  readonly carrier: string
  trackingNumber: string | null
  status: "created" | "labelled" | "in_transit" | "delivered" | "cancelled"
  readonly events: Array<TrackingRecord>
  readonly createdAt: number
}

/** After-sale kinds and statuses, in the platform's words. */
export type AfterSaleKind = "cancellation" | "return" | "refund"
/** @since 0.1.0 */
export type AfterSaleStatus = "requested" | "approved" | "rejected" | "completed" | "withdrawn"

/** A cancellation, return or refund request. */
export interface AfterSaleRecord {
  readonly id: string
  readonly orderId: string
  readonly kind: AfterSaleKind
  status: AfterSaleStatus
  readonly lines: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>
  readonly reason: string
  readonly createdAt: number
  updatedAt: number
}

/** An OAuth grant as the token server keeps it. */
export interface GrantRecord {
  readonly accessToken: string
  readonly refreshToken: string
  readonly scopes: ReadonlyArray<string>
  readonly issuedAt: number
  readonly expiresAt: number
  readonly refreshExpiresAt: number
  revoked: boolean
  /** Refresh tokens are single-use: a refresh rotates both tokens. */
  refreshUsed: boolean
}

/** The logistics products the platform ships with. */
export const services: ReadonlyArray<{ readonly code: string; readonly name: string; readonly carrier: string }> = [
  { code: "MEM-STD", name: "Memory Standard", carrier: "Memory Post" },
  { code: "MEM-EXP", name: "Memory Express", carrier: "Memory Express" }
]

/** The most updates one stock write may carry. */
export const stockBatchLimit = 50

/** The world of one sandbox. */
export class MemoryWorld {
  readonly locations: Array<LocationRecord>
  readonly skus = new Map<string, SkuRecord>()
  readonly orders = new Map<string, OrderRecord>()
  readonly parcels = new Map<string, ParcelRecord>()
  readonly afterSales = new Map<string, AfterSaleRecord>()
  readonly grants = new Map<string, GrantRecord>()
  readonly codes = new Map<
    string,
    { readonly redirectUri: string; readonly scopes: ReadonlyArray<string>; readonly expiresAt: number }
  >()
  readonly stockWrites: Array<StockWrite> = []
  /** Refresh grants the token endpoint honoured. */
  refreshes = 0
  private readonly idempotent = new Map<string, { readonly fingerprint: string; readonly result: StockWriteResult }>()
  private readonly clock: SandboxClock.SandboxClock
  private serial = 0
  private lastTick = 0

  constructor(clock: SandboxClock.SandboxClock, locations: ReadonlyArray<LocationRecord>) {
    this.clock = clock
    this.locations = [...locations]
  }

  /** Sandbox time, strictly increasing between calls, so every change has its own update time. */
  tick(at?: number): number {
    if (at !== undefined) return at
    this.lastTick = Math.max(this.clock.now(), this.lastTick + 1)
    return this.lastTick
  }

  /** A 19-digit id, beyond JavaScript's safe integers like the 64-bit ids real platforms hand out. */
  id(): string {
    this.serial += 1
    return (576460752303423488n + BigInt(this.serial) * 7919n).toString()
  }

  /** A random token. */
  token(prefix: string): string {
    return `${prefix}_${randomBytes(18).toString("base64url")}`
  }

  /** The default location (the first). */
  get defaultLocation(): LocationRecord {
    return this.locations[0]!
  }

  location(id: string): LocationRecord {
    const found = this.locations.find((l) => l.id === id)
    if (found === undefined) throw new MemoryApiError(404, "unknown_location", `no location ${id}`)
    return found
  }

  sku(sku: string): SkuRecord {
    const found = this.skus.get(sku)
    if (found === undefined) throw new MemoryApiError(404, "unknown_sku", `no SKU ${sku}`)
    return found
  }

  order(id: string): OrderRecord {
    const found = this.orders.get(id)
    if (found === undefined) throw new MemoryApiError(404, "not_found", `no order ${id}`)
    return found
  }

  parcel(reference: string): ParcelRecord {
    const found = this.parcels.get(reference)
    if (found === undefined) throw new MemoryApiError(404, "not_found", `no parcel with reference ${reference}`)
    return found
  }

  afterSale(id: string): AfterSaleRecord {
    const found = this.afterSales.get(id)
    if (found === undefined) throw new MemoryApiError(404, "not_found", `no after-sale ${id}`)
    return found
  }

  // --- catalogue and stock ---------------------------------------------------------------------

  /** Creates (or retitles) a SKU and sets its stock at the given locations. */
  upsertSku(input: {
    readonly sku: string
    readonly title?: string | undefined
    readonly stock?: Readonly<Record<string, number>> | undefined
  }): SkuRecord {
    let record = this.skus.get(input.sku)
    if (record === undefined) {
      record = {
        sku: input.sku,
        productId: this.id(),
        variantId: this.id(),
        title: input.title ?? input.sku,
        stock: new Map(),
        writes: 0
      }
      this.skus.set(input.sku, record)
    } else if (input.title !== undefined) record.title = input.title
    for (const [location, quantity] of Object.entries(input.stock ?? {})) this.setStock(input.sku, quantity, location)
    return record
  }

  /** Sets a quantity directly (a sale, a stock count — not an API write). */
  setStock(sku: string, quantity: number, location: string = this.defaultLocation.id): void {
    if (!Number.isInteger(quantity) || quantity < 0)
      throw new Error(`stock must be a whole number ≥ 0, got ${quantity}`)
    this.location(location)
    const record = this.sku(sku)
    const level = record.stock.get(location)
    record.stock.set(location, { quantity, version: (level?.version ?? 0) + 1 })
  }

  /** The quantity of a SKU at a location (default location when absent); `undefined` for an unknown SKU. */
  quantity(sku: string, location: string = this.defaultLocation.id): number | undefined {
    return this.skus.get(sku)?.stock.get(location)?.quantity ?? (this.skus.has(sku) ? 0 : undefined)
  }

  /**
   * Applies one stock write. A key seen before with the same payload returns the first result
   * (`replayed`) without writing; with another payload it is refused. With `expected`, the write
   * happens only if the platform still holds that quantity (`stale` otherwise).
   */
  writeStock(update: {
    readonly sku: string
    readonly location: string
    readonly quantity: number
    readonly expected?: number | undefined
    readonly idempotencyKey: string
  }): StockWriteResult {
    const fingerprint = JSON.stringify([update.sku, update.location, update.quantity, update.expected ?? null])
    const seen = this.idempotent.get(update.idempotencyKey)
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint) {
        return {
          status: "error",
          sku: update.sku,
          location: update.location,
          error: { code: "idempotency_key_reused", message: "this key was used for a different write" }
        }
      }
      return seen.result.status === "applied" ? { ...seen.result, replayed: true } : seen.result
    }
    const result = this.applyStock(update)
    if (result.status !== "error") this.idempotent.set(update.idempotencyKey, { fingerprint, result })
    return result
  }

  private applyStock(update: {
    readonly sku: string
    readonly location: string
    readonly quantity: number
    readonly expected?: number | undefined
    readonly idempotencyKey: string
  }): StockWriteResult {
    const base = { sku: update.sku, location: update.location }
    const record = this.skus.get(update.sku)
    if (record === undefined)
      return { ...base, status: "error", error: { code: "unknown_sku", message: `no SKU ${update.sku}` } }
    if (!this.locations.some((l) => l.id === update.location)) {
      return {
        ...base,
        status: "error",
        error: { code: "unknown_location", message: `no location ${update.location}` }
      }
    }
    const actual = record.stock.get(update.location)?.quantity ?? 0
    if (update.expected !== undefined && update.expected !== actual) {
      return { ...base, status: "stale", actual }
    }
    this.setStock(update.sku, update.quantity, update.location)
    record.writes += 1
    this.stockWrites.push({
      at: this.clock.now(),
      sku: update.sku,
      location: update.location,
      quantity: update.quantity,
      idempotencyKey: update.idempotencyKey
    })
    return { ...base, status: "applied", quantity: update.quantity, replayed: false }
  }

  // --- orders ------------------------------------------------------------------------------------

  /** Places an order; the units leave the channel's stock at the default location. */
  placeOrder(input: {
    readonly lines: ReadonlyArray<{ readonly sku: string; readonly quantity?: number | undefined }>
    readonly shipTo?: AddressRecord | undefined
    readonly status?: OrderStatus | undefined
    readonly currency?: string | undefined
    readonly at?: number | undefined
  }): OrderRecord {
    if (input.lines.length === 0) throw new Error("an order needs at least one line")
    const location = this.defaultLocation.id
    const lines = input.lines.map((l, i) => {
      const sku = this.sku(l.sku)
      const quantity = l.quantity ?? 1
      const held = sku.stock.get(location)?.quantity ?? 0
      if (held < quantity) throw new Error(`cannot sell ${quantity} × ${l.sku}: the channel shows ${held}`)
      return { id: String(i + 1), sku: l.sku, quantity, title: sku.title, unitPrice: 1999 }
    })
    for (const l of lines) this.setStock(l.sku, this.sku(l.sku).stock.get(location)!.quantity - l.quantity, location)
    const at = this.tick(input.at)
    const order: OrderRecord = {
      id: this.id(),
      status: input.status ?? "paid",
      lines,
      shipTo: input.shipTo ?? {
        name: "Ada Buyer",
        phone: "+44 20 7946 0018",
        line1: "18 Example Road",
        city: "London",
        postal_code: "N1 9GU",
        country_code: "GB"
      },
      currency: input.currency ?? "GBP",
      createdAt: at,
      updatedAt: at,
      fulfillments: []
    }
    this.orders.set(order.id, order)
    return order
  }

  /** Moves an order to a status (a buyer paid, the carrier delivered …). */
  setOrderStatus(id: string, status: OrderStatus): OrderRecord {
    const order = this.order(id)
    order.status = status
    order.updatedAt = this.tick()
    return order
  }

  /**
   * Records a fulfilment. The same idempotency key returns the first fulfilment; a tracking number
   * already on the order, or an order with nothing left to ship, is a conflict.
   */
  fulfill(input: {
    readonly orderId: string
    readonly carrier: string
    readonly trackingNumber: string
    readonly lines?: ReadonlyArray<{ readonly lineId: string; readonly quantity: number }> | undefined
    readonly idempotencyKey: string
  }): { readonly fulfillment: FulfillmentRecord; readonly replayed: boolean } {
    const order = this.order(input.orderId)
    const replay = order.fulfillments.find((f) => f.idempotencyKey === input.idempotencyKey)
    if (replay !== undefined) return { fulfillment: replay, replayed: true }
    if (order.status === "cancelled") throw new MemoryApiError(422, "order_cancelled", `order ${order.id} is cancelled`)
    if (order.status === "pending_payment")
      throw new MemoryApiError(422, "order_unpaid", `order ${order.id} is not paid`)
    const tracking = order.fulfillments.map((f) => f.trackingNumber)
    if (tracking.includes(input.trackingNumber)) {
      throw new MemoryApiError(
        409,
        "duplicate_tracking_number",
        `order ${order.id} already has ${input.trackingNumber}`,
        {
          tracking_numbers: tracking
        }
      )
    }
    const remaining = this.unshipped(order)
    const wanted = input.lines ?? [...remaining].map(([lineId, quantity]) => ({ lineId, quantity }))
    if (wanted.every((l) => l.quantity === 0) || remaining.size === 0) {
      throw new MemoryApiError(409, "already_fulfilled", `order ${order.id} has nothing left to ship`, {
        tracking_numbers: tracking
      })
    }
    for (const l of wanted) {
      const left = remaining.get(l.lineId)
      if (left === undefined) throw new MemoryApiError(422, "unknown_line", `order ${order.id} has no line ${l.lineId}`)
      if (l.quantity > left) {
        throw new MemoryApiError(422, "over_fulfilled", `line ${l.lineId} has ${left} left to ship, not ${l.quantity}`)
      }
    }
    const fulfillment: FulfillmentRecord = {
      id: this.id(),
      orderId: order.id,
      carrier: input.carrier,
      trackingNumber: input.trackingNumber,
      lines: wanted.filter((l) => l.quantity > 0),
      idempotencyKey: input.idempotencyKey,
      createdAt: this.clock.now()
    }
    order.fulfillments.push(fulfillment)
    order.status = this.unshipped(order).size === 0 ? "shipped" : "partially_shipped"
    order.updatedAt = this.tick()
    return { fulfillment, replayed: false }
  }

  /** Quantity left to ship per line id (lines fully shipped are absent). */
  unshipped(order: OrderRecord): Map<string, number> {
    const left = new Map(order.lines.map((l) => [l.id, l.quantity]))
    for (const f of order.fulfillments)
      for (const l of f.lines) left.set(l.lineId, (left.get(l.lineId) ?? 0) - l.quantity)
    for (const [id, n] of left) if (n <= 0) left.delete(id)
    return left
  }

  // --- parcels and tracking -------------------------------------------------------------------------

  /** Creates a parcel, or returns the one already created for `reference`. */
  createParcel(input: {
    readonly reference: string
    readonly orderId: string
    readonly service?: string | undefined
  }): {
    readonly parcel: ParcelRecord
    readonly created: boolean
  } {
    const existing = this.parcels.get(input.reference)
    if (existing !== undefined) return { parcel: existing, created: false }
    const service = services.find((s) => s.code === (input.service ?? services[0]!.code))
    if (service === undefined) {
      throw new MemoryApiError(422, "unknown_service", `no logistics service ${input.service}`, {
        services: services.map((s) => s.code)
      })
    }
    const at = this.clock.now()
    const parcel: ParcelRecord = {
      id: this.id(),
      reference: input.reference,
      orderId: input.orderId,
      service: service.code,
      carrier: service.carrier,
      trackingNumber: `MP${this.id().slice(-12)}GB`,
      status: "labelled",
      events: [{ code: "INFO", description: "Shipment information received", occurredAt: at, location: "London, GB" }],
      createdAt: at
    }
    this.parcels.set(parcel.reference, parcel)
    return { parcel, created: true }
  }

  /** The carrier scans the parcel one step further (picked up, then in transit, then delivered). */
  progressParcel(reference: string): ParcelRecord {
    const parcel = this.parcel(reference)
    const at = this.clock.now()
    if (parcel.status === "labelled" || parcel.status === "created") {
      parcel.status = "in_transit"
      parcel.events.push(
        { code: "PICKUP", description: "Collected by the carrier", occurredAt: at, location: "London, GB" },
        { code: "TRANSIT", description: "In transit to the delivery depot", occurredAt: at + 1, location: "Leeds, GB" }
      )
    } else if (parcel.status === "in_transit") {
      parcel.status = "delivered"
      parcel.events.push({ code: "DELIVERED", description: "Delivered", occurredAt: at, location: "Leeds, GB" })
    }
    return parcel
  }

  /** Cancels a parcel before the carrier collected it. */
  cancelParcel(reference: string): ParcelRecord {
    const parcel = this.parcel(reference)
    if (parcel.status === "in_transit" || parcel.status === "delivered") {
      throw new MemoryApiError(409, "already_collected", `parcel ${reference} is with the carrier`)
    }
    parcel.status = "cancelled"
    return parcel
  }

  /** The parcel with a tracking number, if any. */
  byTrackingNumber(trackingNumber: string): ParcelRecord | undefined {
    for (const p of this.parcels.values()) if (p.trackingNumber === trackingNumber) return p
    return undefined
  }

  // --- after-sales ---------------------------------------------------------------------------------

  /** Opens a cancellation, return or refund on an order (all lines unless given). */
  requestAfterSale(input: {
    readonly orderId: string
    readonly kind: AfterSaleKind
    readonly reason?: string | undefined
    readonly lines?: ReadonlyArray<{ readonly sku: string; readonly quantity: number }> | undefined
    readonly at?: number | undefined
  }): AfterSaleRecord {
    const order = this.order(input.orderId)
    const at = this.tick(input.at)
    const record: AfterSaleRecord = {
      id: this.id(),
      orderId: order.id,
      kind: input.kind,
      status: "requested",
      lines: input.lines ?? order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      reason: input.reason ?? "Buyer changed their mind",
      createdAt: at,
      updatedAt: at
    }
    this.afterSales.set(record.id, record)
    return record
  }

  /** Moves an after-sale on; a completed cancellation cancels the order. */
  setAfterSaleStatus(id: string, status: AfterSaleStatus): AfterSaleRecord {
    const record = this.afterSale(id)
    record.status = status
    record.updatedAt = this.tick()
    if (status === "completed" && record.kind === "cancellation") this.setOrderStatus(record.orderId, "cancelled")
    return record
  }

  // --- OAuth -------------------------------------------------------------------------------------

  /** Issues a fresh grant. */
  issueGrant(
    scopes: ReadonlyArray<string>,
    ttl: { readonly accessMs: number; readonly refreshMs: number }
  ): GrantRecord {
    const now = this.clock.now()
    const grant: GrantRecord = {
      accessToken: this.token("mat"),
      refreshToken: this.token("mrt"),
      scopes,
      issuedAt: now,
      expiresAt: now + ttl.accessMs,
      refreshExpiresAt: now + ttl.refreshMs,
      revoked: false,
      refreshUsed: false
    }
    this.grants.set(grant.accessToken, grant)
    return grant
  }

  /**
   * Trades a refresh token for a new grant with the same scopes. Refresh tokens rotate: the old one
   * stops working, so two refreshers racing with the same token leave one of them revoked.
   */
  refreshGrant(refreshToken: string, ttl: { readonly accessMs: number; readonly refreshMs: number }): GrantRecord {
    const grant = [...this.grants.values()].find((g) => g.refreshToken === refreshToken)
    if (grant === undefined || grant.refreshUsed || grant.revoked) {
      throw new MemoryApiError(400, "invalid_grant", "the refresh token is not valid (unknown, used or revoked)")
    }
    if (grant.refreshExpiresAt <= this.clock.now()) {
      throw new MemoryApiError(400, "invalid_grant", "the refresh token expired; the seller must authorize again")
    }
    grant.refreshUsed = true
    this.refreshes += 1
    return this.issueGrant(grant.scopes, ttl)
  }

  /** The grant of an access token, checked for expiry and revocation. */
  grantOf(accessToken: string): GrantRecord {
    const grant = this.grants.get(accessToken)
    if (grant === undefined) throw new MemoryApiError(401, "invalid_token", "the access token is not known")
    if (grant.revoked) throw new MemoryApiError(401, "token_revoked", "the seller revoked this authorization")
    if (grant.expiresAt <= this.clock.now()) throw new MemoryApiError(401, "token_expired", "the access token expired")
    return grant
  }

  /** Revokes every grant (the seller uninstalled the app). */
  revokeAll(): void {
    for (const g of this.grants.values()) g.revoked = true
  }
}

/** The outcome of one stock write. */
export type StockWriteResult =
  | {
      readonly status: "applied"
      readonly sku: string
      readonly location: string
      readonly quantity: number
      readonly replayed: boolean
    }
  | { readonly status: "stale"; readonly sku: string; readonly location: string; readonly actual: number }
  | {
      readonly status: "error"
      readonly sku: string
      readonly location: string
      readonly error: { readonly code: string; readonly message: string }
    }
