/**
 * ShopifySandboxState: the world a Shopify sandbox holds — one shop with its locations, products,
 * variants and inventory items, inventory levels per location (`available` and `committed`; on
 * hand is their sum), orders with line items, fulfillment orders, fulfillments and refunds — and
 * the rules that move it: placing an order commits stock at a location and opens a fulfillment
 * order; fulfilling takes the units off hand; cancelling or refunding releases (and, when asked,
 * restocks) them.
 *
 * Every change is announced through `onEvent` with Shopify's webhook topic and REST-style payload
 * (snake_case, numeric `id` plus `admin_graphql_api_id`), for the webhook emitter.
 *
 * @since 0.1.0
 */
import type { SandboxClock } from "@tkbridge/connector-testkit"

/** A stock location. */
export interface LocationRecord {
  readonly id: string
  name: string
  active: boolean
  fulfillsOnlineOrders: boolean
  shipsInventory: boolean
  country: string
}

/** A product. */
export interface ProductRecord {
  readonly id: string
  title: string
  readonly variants: Array<string>
}

/** A product variant and its inventory item. */
export interface VariantRecord {
  readonly id: string
  readonly productId: string
  readonly inventoryItemId: string
  sku: string | null
  title: string
  price: string
  tracked: boolean
}

/** Stock of one item at one location. */
export interface LevelRecord {
  readonly id: string
  readonly itemId: string
  readonly locationId: string
  available: number
  committed: number
  updatedAt: number
}

/** An order line. */
export interface LineRecord {
  readonly id: string
  readonly variantId: string | null
  readonly sku: string | null
  readonly title: string
  readonly variantTitle: string | null
  readonly quantity: number
  refunded: number
  readonly price: string
  readonly requiresShipping: boolean
}

/** A line of a fulfillment order. */
export interface FulfillmentOrderLineRecord {
  readonly id: string
  readonly lineItemId: string
  totalQuantity: number
  remainingQuantity: number
}

/** Fulfillment order states Shopify uses. */
export type FulfillmentOrderStatus =
  | "OPEN"
  | "IN_PROGRESS"
  | "SCHEDULED"
  | "ON_HOLD"
  | "INCOMPLETE"
  | "CLOSED"
  | "CANCELLED"

/** A fulfillment order: the part of an order one location ships. */
export interface FulfillmentOrderRecord {
  readonly id: string
  readonly orderId: string
  readonly locationId: string
  status: FulfillmentOrderStatus
  readonly lines: Array<FulfillmentOrderLineRecord>
  updatedAt: number
}

/** Tracking as Shopify stores it on a fulfillment. */
export interface TrackingRecord {
  readonly company: string | null
  readonly number: string | null
  readonly url: string | null
}

/** A fulfillment (a shipment) with tracking. */
export interface FulfillmentRecord {
  readonly id: string
  readonly orderId: string
  readonly locationId: string
  status: "SUCCESS" | "CANCELLED" | "ERROR" | "FAILURE"
  readonly tracking: Array<TrackingRecord>
  readonly lines: ReadonlyArray<{ readonly lineItemId: string; readonly quantity: number }>
  readonly createdAt: number
}

/** A refund. */
export interface RefundRecord {
  readonly id: string
  readonly orderId: string
  readonly createdAt: number
  readonly note: string | null
  readonly lines: ReadonlyArray<{
    readonly id: string
    readonly lineItemId: string
    readonly quantity: number
    readonly restockType: "no_restock" | "cancel" | "return"
    readonly locationId: string | null
  }>
}

/** A postal address on an order. */
export interface AddressRecord {
  readonly firstName?: string | undefined
  readonly lastName?: string | undefined
  readonly phone?: string | undefined
  readonly company?: string | undefined
  readonly address1: string
  readonly address2?: string | undefined
  readonly city: string
  readonly provinceCode?: string | undefined
  readonly zip?: string | undefined
  readonly countryCode: string
}

/** Payment states (`displayFinancialStatus`). */
export type FinancialStatus =
  | "AUTHORIZED"
  | "EXPIRED"
  | "PAID"
  | "PARTIALLY_PAID"
  | "PARTIALLY_REFUNDED"
  | "PENDING"
  | "REFUNDED"
  | "VOIDED"

/** An order. */
export interface OrderRecord {
  readonly id: string
  readonly number: number
  readonly name: string
  readonly createdAt: number
  updatedAt: number
  readonly processedAt: number
  cancelledAt: number | null
  cancelReason: "CUSTOMER" | "DECLINED" | "FRAUD" | "INVENTORY" | "OTHER" | "STAFF" | null
  closedAt: number | null
  financialStatus: FinancialStatus
  readonly currency: string
  readonly test: boolean
  readonly shippingAddress: AddressRecord | null
  readonly lines: Array<LineRecord>
  readonly fulfillmentOrders: Array<string>
  readonly fulfillments: Array<string>
  readonly refunds: Array<string>
}

/** A sandbox failure a control call made (unknown SKU, not enough stock …). */
export class SandboxError extends Error {
  override readonly name = "ShopifySandboxError"
}

/** What the state announces: a webhook topic and its REST-style payload. */
export type EventListener = (topic: string, payload: Record<string, unknown>) => void

const restTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00")
const gid = (type: string, id: string) => `gid://shopify/${type}/${id}`

/** Quantity names a level reports (Shopify's inventory states). */
export const quantityNames = [
  "available",
  "on_hand",
  "committed",
  "reserved",
  "incoming",
  "damaged",
  "safety_stock",
  "quality_control"
] as const

/** The world of one sandbox shop. */
export class ShopifySandboxState {
  readonly shop: string
  readonly shopName: string
  readonly currency: string
  readonly locations = new Map<string, LocationRecord>()
  readonly products = new Map<string, ProductRecord>()
  readonly variants = new Map<string, VariantRecord>()
  /** Inventory item id → variant id. */
  readonly items = new Map<string, string>()
  readonly levels = new Map<string, LevelRecord>()
  readonly orders = new Map<string, OrderRecord>()
  readonly fulfillmentOrders = new Map<string, FulfillmentOrderRecord>()
  readonly fulfillments = new Map<string, FulfillmentRecord>()
  readonly refunds = new Map<string, RefundRecord>()
  /** Writes applied by `inventorySetQuantities`, per inventory item (a replay is not a write). */
  readonly appliedWrites = new Map<string, number>()
  /** Allow orders beyond the available quantity (Shopify's "continue selling when out of stock"). */
  oversell = false
  private nextId = 1_000_000
  private nextOrderNumber = 1001
  private listeners: Array<EventListener> = []
  private readonly clock: SandboxClock.SandboxClock

  constructor(options: {
    readonly shop: string
    readonly clock: SandboxClock.SandboxClock
    readonly currency?: string | undefined
  }) {
    this.shop = options.shop
    this.shopName = options.shop.replace(/\.myshopify\.com$/, "")
    this.clock = options.clock
    this.currency = options.currency ?? "USD"
  }

  /** Sandbox time in ms. */
  now(): number {
    return this.clock.now()
  }

  /** A fresh numeric id (as a string). */
  id(): string {
    this.nextId += 1
    return String(this.nextId)
  }

  /** Subscribes to state changes (topic + REST payload). */
  onEvent(listener: EventListener): () => void {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  private emit(topic: string, payload: Record<string, unknown>) {
    for (const l of this.listeners) l(topic, payload)
  }

  // -------------------------------------------------------------------------------------------
  // Catalogue and stock

  /** Adds a location. */
  addLocation(input: {
    readonly name: string
    readonly country?: string | undefined
    readonly active?: boolean | undefined
    readonly fulfillsOnlineOrders?: boolean | undefined
  }): LocationRecord {
    const location: LocationRecord = {
      id: this.id(),
      name: input.name,
      active: input.active ?? true,
      fulfillsOnlineOrders: input.fulfillsOnlineOrders ?? true,
      shipsInventory: true,
      country: input.country ?? "US"
    }
    this.locations.set(location.id, location)
    return location
  }

  /** The location orders are taken from by default: the first active one that fulfils online orders. */
  defaultLocation(): LocationRecord {
    for (const l of this.locations.values()) if (l.active && l.fulfillsOnlineOrders) return l
    throw new SandboxError("the shop has no active location that fulfils online orders")
  }

  /** Adds a product with its variants; `stock` is per location id (or a number for the default location). */
  addProduct(input: {
    readonly title: string
    readonly variants: ReadonlyArray<{
      readonly sku?: string | null | undefined
      readonly title?: string | undefined
      readonly price?: string | undefined
      readonly tracked?: boolean | undefined
      readonly stock?: number | Readonly<Record<string, number>> | undefined
    }>
  }): { readonly product: ProductRecord; readonly variants: ReadonlyArray<VariantRecord> } {
    const product: ProductRecord = { id: this.id(), title: input.title, variants: [] }
    this.products.set(product.id, product)
    const variants = input.variants.map((v, i) => {
      const variant: VariantRecord = {
        id: this.id(),
        productId: product.id,
        inventoryItemId: this.id(),
        sku: v.sku ?? null,
        title: v.title ?? (input.variants.length === 1 ? "Default Title" : `Variant ${i + 1}`),
        price: v.price ?? "10.00",
        tracked: v.tracked ?? true
      }
      this.variants.set(variant.id, variant)
      this.items.set(variant.inventoryItemId, variant.id)
      product.variants.push(variant.id)
      const stock = v.stock ?? 0
      if (typeof stock === "number") this.level(variant.inventoryItemId, this.defaultLocation().id).available = stock
      else
        for (const [location, qty] of Object.entries(stock))
          this.level(variant.inventoryItemId, location).available = qty
      return variant
    })
    return { product, variants }
  }

  /** The variant with a SKU (the first, if Shopify's non-unique SKUs repeat). */
  variantBySku(sku: string): VariantRecord | undefined {
    for (const v of this.variants.values()) if (v.sku === sku) return v
    return undefined
  }

  /** The variant of an inventory item. */
  variantOfItem(itemId: string): VariantRecord | undefined {
    const variantId = this.items.get(itemId)
    return variantId === undefined ? undefined : this.variants.get(variantId)
  }

  /** The level of an item at a location, created (empty) when the item was not stocked there. */
  level(itemId: string, locationId: string): LevelRecord {
    const key = `${itemId}@${locationId}`
    let level = this.levels.get(key)
    if (level === undefined) {
      if (!this.items.has(itemId)) throw new SandboxError(`no inventory item ${itemId}`)
      if (!this.locations.has(locationId)) throw new SandboxError(`no location ${locationId}`)
      level = { id: this.id(), itemId, locationId, available: 0, committed: 0, updatedAt: this.now() }
      this.levels.set(key, level)
    }
    return level
  }

  /** The level of an item at a location, if the item is stocked there. */
  findLevel(itemId: string, locationId: string): LevelRecord | undefined {
    return this.levels.get(`${itemId}@${locationId}`)
  }

  /** Every level of an item, by location id. */
  levelsOf(itemId: string): ReadonlyArray<LevelRecord> {
    return [...this.levels.values()].filter((l) => l.itemId === itemId)
  }

  /** A quantity by Shopify's state name. */
  quantity(level: LevelRecord, name: string): number {
    switch (name) {
      case "available":
        return level.available
      case "committed":
        return level.committed
      case "on_hand":
        return level.available + level.committed
      default:
        return 0
    }
  }

  /** Sets a quantity (`available` or `on_hand`) and announces `inventory_levels/update`. */
  setQuantity(level: LevelRecord, name: "available" | "on_hand", quantity: number): number {
    const before = this.quantity(level, name)
    const delta = quantity - before
    level.available += delta
    level.updatedAt = this.now()
    this.announceLevel(level)
    return delta
  }

  /** Counts a write applied through the API. */
  countWrite(itemId: string): void {
    this.appliedWrites.set(itemId, (this.appliedWrites.get(itemId) ?? 0) + 1)
  }

  private announceLevel(level: LevelRecord) {
    this.emit("inventory_levels/update", {
      inventory_item_id: Number(level.itemId),
      location_id: Number(level.locationId),
      available: level.available,
      updated_at: restTime(level.updatedAt),
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${level.id}?inventory_item_id=${level.itemId}`
    })
  }

  // -------------------------------------------------------------------------------------------
  // Orders

  /** Places an order, committing stock at `locationId` (default location) and opening a fulfillment order. */
  placeOrder(input: {
    readonly lines: ReadonlyArray<{
      readonly sku?: string | undefined
      readonly variantId?: string | undefined
      readonly quantity: number
      readonly price?: string | undefined
    }>
    readonly locationId?: string | undefined
    readonly financialStatus?: FinancialStatus | undefined
    readonly shippingAddress?: AddressRecord | null | undefined
    readonly test?: boolean | undefined
  }): OrderRecord {
    if (input.lines.length === 0) throw new SandboxError("an order needs at least one line")
    const location = input.locationId === undefined ? this.defaultLocation() : this.locations.get(input.locationId)
    if (location === undefined) throw new SandboxError(`no location ${input.locationId}`)
    const resolved = input.lines.map((l) => {
      const variant =
        l.variantId !== undefined
          ? this.variants.get(l.variantId)
          : l.sku !== undefined
            ? this.variantBySku(l.sku)
            : undefined
      if (variant === undefined)
        throw new SandboxError(`no variant for ${l.sku ?? l.variantId ?? "a line without sku"}`)
      if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw new SandboxError("line quantities must be positive")
      return { variant, quantity: l.quantity, price: l.price }
    })
    // Check every line first: an order that cannot be placed changes nothing.
    const needed = new Map<string, number>()
    for (const r of resolved)
      needed.set(r.variant.inventoryItemId, (needed.get(r.variant.inventoryItemId) ?? 0) + r.quantity)
    for (const [itemId, qty] of needed) {
      const v = this.variantOfItem(itemId)!
      const available = this.findLevel(itemId, location.id)?.available ?? 0
      if (v.tracked && !this.oversell && available < qty) {
        throw new SandboxError(`${v.sku ?? itemId}: ${available} available at ${location.name}, ${qty} ordered`)
      }
    }
    const now = this.now()
    const lines: Array<LineRecord> = resolved.map((r) => ({
      id: this.id(),
      variantId: r.variant.id,
      sku: r.variant.sku,
      title: this.products.get(r.variant.productId)?.title ?? "Product",
      variantTitle: r.variant.title === "Default Title" ? null : r.variant.title,
      quantity: r.quantity,
      refunded: 0,
      price: r.price ?? r.variant.price,
      requiresShipping: true
    }))
    const number = this.nextOrderNumber++
    const order: OrderRecord = {
      id: this.id(),
      number,
      name: `#${number}`,
      createdAt: now,
      updatedAt: now,
      processedAt: now,
      cancelledAt: null,
      cancelReason: null,
      closedAt: null,
      financialStatus: input.financialStatus ?? "PAID",
      currency: this.currency,
      test: input.test ?? false,
      shippingAddress:
        input.shippingAddress === undefined
          ? {
              firstName: "Sam",
              lastName: "Buyer",
              address1: "1 Market Street",
              city: "San Francisco",
              provinceCode: "CA",
              zip: "94105",
              countryCode: "US",
              phone: "+1 415 555 0100"
            }
          : input.shippingAddress,
      lines,
      fulfillmentOrders: [],
      fulfillments: [],
      refunds: []
    }
    this.orders.set(order.id, order)
    for (const line of lines) {
      const v = this.variants.get(line.variantId!)!
      if (!v.tracked) continue
      const level = this.level(v.inventoryItemId, location.id)
      level.available -= line.quantity
      level.committed += line.quantity
      level.updatedAt = now
    }
    const fo: FulfillmentOrderRecord = {
      id: this.id(),
      orderId: order.id,
      locationId: location.id,
      status: "OPEN",
      lines: lines.map((l) => ({
        id: this.id(),
        lineItemId: l.id,
        totalQuantity: l.quantity,
        remainingQuantity: l.quantity
      })),
      updatedAt: now
    }
    this.fulfillmentOrders.set(fo.id, fo)
    order.fulfillmentOrders.push(fo.id)
    this.emit("orders/create", this.orderPayload(order))
    for (const line of lines) {
      const v = this.variants.get(line.variantId!)!
      const level = this.findLevel(v.inventoryItemId, location.id)
      if (level) this.announceLevel(level)
    }
    return order
  }

  /** The order, or a `SandboxError`. */
  order(id: string): OrderRecord {
    const order = this.orders.get(id)
    if (order === undefined) throw new SandboxError(`no order ${id}`)
    return order
  }

  /** Units of a line not yet fulfilled, refunded or cancelled. */
  unshipped(order: OrderRecord, lineId: string): number {
    let n = 0
    for (const foId of order.fulfillmentOrders) {
      const fo = this.fulfillmentOrders.get(foId)!
      if (fo.status === "CLOSED" || fo.status === "CANCELLED") continue
      for (const l of fo.lines) if (l.lineItemId === lineId) n += l.remainingQuantity
    }
    return n
  }

  /** `displayFulfillmentStatus` of an order. */
  fulfillmentStatus(order: OrderRecord): string {
    const shippedUnits = order.fulfillments
      .map((id) => this.fulfillments.get(id)!)
      .filter((f) => f.status === "SUCCESS")
      .reduce((n, f) => n + f.lines.reduce((m, l) => m + l.quantity, 0), 0)
    const open = order.lines.reduce((n, l) => n + this.unshipped(order, l.id), 0)
    const fos = order.fulfillmentOrders.map((id) => this.fulfillmentOrders.get(id)!)
    if (open === 0 && shippedUnits > 0) return "FULFILLED"
    if (open > 0 && shippedUnits > 0) return "PARTIALLY_FULFILLED"
    if (order.cancelledAt !== null && shippedUnits === 0) return "UNFULFILLED"
    if (open > 0 && fos.some((f) => f.status === "ON_HOLD")) return "ON_HOLD"
    if (open > 0 && fos.some((f) => f.status === "IN_PROGRESS")) return "IN_PROGRESS"
    if (open === 0 && shippedUnits === 0 && order.refunds.length > 0) return "RESTOCKED"
    return "UNFULFILLED"
  }

  private touch(order: OrderRecord) {
    order.updatedAt = Math.max(this.now(), order.updatedAt + 1)
  }

  /** Cancels an order: its open fulfillment orders close and its committed units are released (and restocked). */
  cancelOrder(
    id: string,
    options: { readonly reason?: OrderRecord["cancelReason"]; readonly restock?: boolean } = {}
  ): OrderRecord {
    const order = this.order(id)
    if (order.cancelledAt !== null) throw new SandboxError(`order ${id} is already cancelled`)
    const restock = options.restock ?? true
    for (const foId of order.fulfillmentOrders) {
      const fo = this.fulfillmentOrders.get(foId)!
      if (fo.status === "CLOSED" || fo.status === "CANCELLED") continue
      for (const l of fo.lines) {
        const line = order.lines.find((x) => x.id === l.lineItemId)!
        this.release(line, fo.locationId, l.remainingQuantity, restock)
        l.remainingQuantity = 0
      }
      fo.status = "CLOSED"
      fo.updatedAt = this.now()
    }
    order.cancelledAt = this.now()
    order.cancelReason = options.reason ?? "CUSTOMER"
    order.closedAt = this.now()
    if (order.financialStatus === "PENDING" || order.financialStatus === "AUTHORIZED") order.financialStatus = "VOIDED"
    this.touch(order)
    const payload = this.orderPayload(order)
    this.emit("orders/cancelled", payload)
    this.emit("orders/updated", payload)
    return order
  }

  private release(line: LineRecord, locationId: string, quantity: number, restock: boolean) {
    if (quantity <= 0 || line.variantId === null) return
    const v = this.variants.get(line.variantId)
    if (v === undefined || !v.tracked) return
    const level = this.level(v.inventoryItemId, locationId)
    level.committed -= quantity
    if (restock) level.available += quantity
    level.updatedAt = this.now()
    this.announceLevel(level)
  }

  /**
   * Refunds units of an order. Unshipped units leave their fulfillment order (and are restocked
   * when `restock`); shipped units are restocked at the order's location when `restock`.
   */
  refund(
    orderId: string,
    input: {
      readonly lines?: ReadonlyArray<{ readonly lineItemId?: string; readonly sku?: string; readonly quantity: number }>
      readonly restock?: boolean
      readonly note?: string
    } = {}
  ): RefundRecord {
    const order = this.order(orderId)
    const restock = input.restock ?? true
    const wanted: ReadonlyArray<{ readonly lineItemId?: string; readonly sku?: string; readonly quantity: number }> =
      input.lines ??
      order.lines.map((l) => ({ lineItemId: l.id, quantity: l.quantity - l.refunded })).filter((l) => l.quantity > 0)
    const lines: Array<RefundRecord["lines"][number]> = []
    for (const w of wanted) {
      const line = order.lines.find((l) => (w.lineItemId !== undefined ? l.id === w.lineItemId : l.sku === w.sku))
      if (line === undefined) throw new SandboxError(`order ${orderId} has no line ${w.lineItemId ?? w.sku}`)
      if (w.quantity <= 0 || w.quantity > line.quantity - line.refunded) {
        throw new SandboxError(
          `line ${line.id} has ${line.quantity - line.refunded} refundable units, ${w.quantity} asked`
        )
      }
      let left = w.quantity
      let locationId: string | null = null
      for (const foId of order.fulfillmentOrders) {
        const fo = this.fulfillmentOrders.get(foId)!
        locationId ??= fo.locationId
        if (fo.status === "CLOSED" || fo.status === "CANCELLED") continue
        for (const l of fo.lines) {
          if (l.lineItemId !== line.id || left <= 0) continue
          const take = Math.min(left, l.remainingQuantity)
          if (take <= 0) continue
          l.remainingQuantity -= take
          l.totalQuantity -= take
          left -= take
          this.release(line, fo.locationId, take, restock)
        }
        if (fo.lines.every((l) => l.remainingQuantity === 0)) fo.status = "CLOSED"
        fo.updatedAt = this.now()
      }
      if (left > 0 && restock && locationId !== null && line.variantId !== null) {
        // Shipped units come back to the shelf.
        const v = this.variants.get(line.variantId)
        if (v?.tracked) {
          const level = this.level(v.inventoryItemId, locationId)
          level.available += left
          level.updatedAt = this.now()
          this.announceLevel(level)
        }
      }
      line.refunded += w.quantity
      lines.push({
        id: this.id(),
        lineItemId: line.id,
        quantity: w.quantity,
        restockType: restock ? (left > 0 ? "return" : "cancel") : "no_restock",
        locationId: restock ? locationId : null
      })
    }
    const refund: RefundRecord = { id: this.id(), orderId, createdAt: this.now(), note: input.note ?? null, lines }
    this.refunds.set(refund.id, refund)
    order.refunds.push(refund.id)
    order.financialStatus = order.lines.every((l) => l.refunded >= l.quantity) ? "REFUNDED" : "PARTIALLY_REFUNDED"
    this.touch(order)
    this.emit("refunds/create", this.refundPayload(refund))
    this.emit("orders/updated", this.orderPayload(order))
    return refund
  }

  /**
   * Creates a fulfillment for one fulfillment order (all remaining lines, or the given ones).
   * Returns an error message instead of throwing, as `fulfillmentCreate` reports user errors.
   */
  fulfill(input: {
    readonly fulfillmentOrderIds: ReadonlyArray<string>
    readonly lines?: ReadonlyMap<string, ReadonlyArray<{ readonly id: string; readonly quantity: number }>>
    readonly tracking: ReadonlyArray<TrackingRecord>
  }):
    | { readonly ok: true; readonly fulfillment: FulfillmentRecord }
    | { readonly ok: false; readonly message: string; readonly field: ReadonlyArray<string> } {
    const fos = input.fulfillmentOrderIds.map((id) => this.fulfillmentOrders.get(id))
    for (const [i, fo] of fos.entries()) {
      const field = ["fulfillment", "lineItemsByFulfillmentOrder", String(i), "fulfillmentOrderId"]
      if (fo === undefined) return { ok: false, message: "Fulfillment order does not exist.", field }
      if (fo.status !== "OPEN" && fo.status !== "IN_PROGRESS") {
        return {
          ok: false,
          message: `Fulfillment order ${fo.id} has an unfulfillable status= ${fo.status.toLowerCase()}.`,
          field
        }
      }
    }
    const present = fos as ReadonlyArray<FulfillmentOrderRecord>
    const first = present[0]
    if (first === undefined)
      return { ok: false, message: "Line items by fulfillment order can't be blank.", field: ["fulfillment"] }
    if (present.some((fo) => fo.orderId !== first.orderId)) {
      return { ok: false, message: "All fulfillment orders must belong to the same order.", field: ["fulfillment"] }
    }
    if (present.some((fo) => fo.locationId !== first.locationId)) {
      return {
        ok: false,
        message: "All fulfillment orders must be assigned to the same location.",
        field: ["fulfillment"]
      }
    }
    const take: Array<{ fo: FulfillmentOrderRecord; line: FulfillmentOrderLineRecord; quantity: number }> = []
    for (const [i, fo] of present.entries()) {
      const wanted = input.lines?.get(fo.id)
      if (wanted === undefined) {
        for (const line of fo.lines)
          if (line.remainingQuantity > 0) take.push({ fo, line, quantity: line.remainingQuantity })
        continue
      }
      for (const [j, w] of wanted.entries()) {
        const line = fo.lines.find((l) => l.id === w.id)
        const field = ["fulfillment", "lineItemsByFulfillmentOrder", String(i), "fulfillmentOrderLineItems", String(j)]
        if (line === undefined) return { ok: false, message: "Fulfillment order line item does not exist.", field }
        if (w.quantity <= 0 || w.quantity > line.remainingQuantity) {
          return { ok: false, message: "Invalid fulfillment order line item quantity requested.", field }
        }
        take.push({ fo, line, quantity: w.quantity })
      }
    }
    if (take.length === 0) return { ok: false, message: "There are no line items to fulfill.", field: ["fulfillment"] }
    const order = this.order(first.orderId)
    const now = this.now()
    for (const t of take) {
      t.line.remainingQuantity -= t.quantity
      const line = order.lines.find((l) => l.id === t.line.lineItemId)!
      if (line.variantId !== null) {
        const v = this.variants.get(line.variantId)
        if (v?.tracked) {
          const level = this.level(v.inventoryItemId, t.fo.locationId)
          level.committed -= t.quantity
          level.updatedAt = now
        }
      }
    }
    for (const fo of present) {
      fo.status = fo.lines.every((l) => l.remainingQuantity === 0) ? "CLOSED" : "IN_PROGRESS"
      fo.updatedAt = now
    }
    const fulfillment: FulfillmentRecord = {
      id: this.id(),
      orderId: order.id,
      locationId: first.locationId,
      status: "SUCCESS",
      tracking: [...input.tracking],
      lines: take.map((t) => ({ lineItemId: t.line.lineItemId, quantity: t.quantity })),
      createdAt: now
    }
    this.fulfillments.set(fulfillment.id, fulfillment)
    order.fulfillments.push(fulfillment.id)
    this.touch(order)
    const payload = this.orderPayload(order)
    this.emit("orders/updated", payload)
    const status = this.fulfillmentStatus(order)
    if (status === "FULFILLED") this.emit("orders/fulfilled", payload)
    else if (status === "PARTIALLY_FULFILLED") this.emit("orders/partially_fulfilled", payload)
    return { ok: true, fulfillment }
  }

  /** Announces that the app was uninstalled. */
  uninstalled(): void {
    this.emit("app/uninstalled", {
      id: 548380009,
      name: this.shopName,
      domain: this.shop,
      myshopify_domain: this.shop,
      currency: this.currency
    })
  }

  // -------------------------------------------------------------------------------------------
  // REST-style payloads (webhooks)

  /** An order as the `orders/*` webhooks carry it. */
  orderPayload(order: OrderRecord): Record<string, unknown> {
    const status = this.fulfillmentStatus(order)
    const a = order.shippingAddress
    return {
      id: Number(order.id),
      admin_graphql_api_id: gid("Order", order.id),
      name: order.name,
      order_number: order.number,
      number: order.number - 1000,
      created_at: restTime(order.createdAt),
      updated_at: restTime(order.updatedAt),
      processed_at: restTime(order.processedAt),
      cancelled_at: order.cancelledAt === null ? null : restTime(order.cancelledAt),
      cancel_reason: order.cancelReason?.toLowerCase() ?? null,
      closed_at: order.closedAt === null ? null : restTime(order.closedAt),
      financial_status: order.financialStatus.toLowerCase(),
      fulfillment_status:
        status === "FULFILLED"
          ? "fulfilled"
          : status === "PARTIALLY_FULFILLED"
            ? "partial"
            : status === "RESTOCKED"
              ? "restocked"
              : null,
      currency: order.currency,
      presentment_currency: order.currency,
      test: order.test,
      total_price: order.lines
        .reduce((n, l) => n + Math.round(Number(l.price) * 100) * l.quantity, 0)
        .toString()
        .replace(/(\d\d)$/, ".$1"),
      shipping_address:
        a === null
          ? null
          : {
              first_name: a.firstName ?? null,
              last_name: a.lastName ?? null,
              name: [a.firstName, a.lastName].filter(Boolean).join(" ") || null,
              phone: a.phone ?? null,
              company: a.company ?? null,
              address1: a.address1,
              address2: a.address2 ?? null,
              city: a.city,
              province_code: a.provinceCode ?? null,
              zip: a.zip ?? null,
              country_code: a.countryCode
            },
      line_items: order.lines.map((l) => {
        const variant = l.variantId === null ? undefined : this.variants.get(l.variantId)
        const open = this.unshipped(order, l.id)
        return {
          id: Number(l.id),
          admin_graphql_api_id: gid("LineItem", l.id),
          variant_id: variant ? Number(variant.id) : null,
          product_id: variant ? Number(variant.productId) : null,
          sku: l.sku,
          title: l.title,
          variant_title: l.variantTitle,
          name: l.variantTitle ? `${l.title} - ${l.variantTitle}` : l.title,
          quantity: l.quantity,
          current_quantity: l.quantity - l.refunded,
          fulfillable_quantity: open,
          fulfillment_status: open === 0 && l.quantity - l.refunded > 0 ? "fulfilled" : null,
          price: l.price,
          requires_shipping: l.requiresShipping
        }
      }),
      refunds: order.refunds.map((id) => this.refundPayload(this.refunds.get(id)!))
    }
  }

  /** A refund as `refunds/create` carries it. */
  refundPayload(refund: RefundRecord): Record<string, unknown> {
    const order = this.orders.get(refund.orderId)!
    return {
      id: Number(refund.id),
      admin_graphql_api_id: gid("Refund", refund.id),
      order_id: Number(refund.orderId),
      created_at: restTime(refund.createdAt),
      processed_at: restTime(refund.createdAt),
      note: refund.note,
      restock: refund.lines.some((l) => l.restockType !== "no_restock"),
      refund_line_items: refund.lines.map((l) => {
        const line = order.lines.find((x) => x.id === l.lineItemId)!
        return {
          id: Number(l.id),
          line_item_id: Number(l.lineItemId),
          quantity: l.quantity,
          restock_type: l.restockType,
          location_id: l.locationId === null ? null : Number(l.locationId),
          line_item: {
            id: Number(line.id),
            variant_id: line.variantId === null ? null : Number(line.variantId),
            sku: line.sku,
            title: line.title,
            quantity: line.quantity,
            price: line.price
          }
        }
      }),
      transactions: []
    }
  }
}
