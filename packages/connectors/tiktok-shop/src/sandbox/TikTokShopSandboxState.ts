/**
 * The TikTok Shop sandbox's world: the seller and shops, warehouses and delivery options, products
 * and SKUs with per-warehouse stock, orders moving through TikTok's status machine, packages,
 * cancellations and returns, and the authorization grants behind tokens. Every change that TikTok
 * would announce produces a webhook notification through `notify`.
 *
 * Business rules follow the TikTok reference: orders go UNPAID → ON_HOLD (paid; the buyer-remorse
 * window) → AWAITING_SHIPMENT → [PARTIALLY_SHIPPING] → AWAITING_COLLECTION → IN_TRANSIT →
 * DELIVERED → COMPLETED, and are CANCELLED only when every line item is; stock is committed when an
 * order is placed and given back when a line is cancelled before it ships.
 *
 * Cancellation reaches CANCELLED from every status up to IN_TRANSIT (reference §6.1). Once goods are
 * shipped it is narrower: an AWAITING_COLLECTION order only by the seller of a US shop ("seller-side
 * only in the US"), an IN_TRANSIT one only by the platform (SYSTEM; inferred: buyers' cancel reasons
 * exist only for unpaid and to-ship orders, and the seller's Cancel Order answers 25001045 for
 * shipped goods), and a shipped order only as a whole (25005010). Cancelling the last unshipped lines
 * of a PARTIALLY_SHIPPING order leaves only shipped lines, so it moves to AWAITING_COLLECTION.
 *
 * Packages announce themselves (type 4, PACKAGE_UPDATE) when an order's items are split across
 * packages, with the reference's `sc_type` for the cause: `SPLIT` when the seller ships part of an
 * order, `PARTLY_CANCEL_SPLIT` when cancelling its unshipped rest leaves the shipped packages alone.
 * A whole order shipped in one package is no split and is announced by its type-1 status change
 * only (inferred: every documented `sc_type` names a split or combine).
 *
 * Returns follow their own machine (`returnMoves`, inferred from the reference's statuses and the
 * seller's approve/reject decisions); the control API and the seller's decisions both go through it.
 *
 * @since 0.1.0
 */
import type { SandboxClock } from "@tkbridge/connector-testkit"
import type { IdSource } from "./TikTokShopSandboxIds.ts"

/** A TikTok business error: the handler answers with this code and message. */
export class TikTokError extends Error {
  readonly code: number
  readonly status: number | undefined
  constructor(code: number, message: string, status?: number) {
    super(message)
    this.name = "TikTokError"
    this.code = code
    this.status = status
  }
}

/** A shop of the seller. */
export interface Shop {
  readonly id: string
  readonly name: string
  readonly region: string
  readonly cipher: string
  readonly code: string
  readonly sellerType: "LOCAL" | "CROSS_BORDER"
}

/** A warehouse of a shop. */
export interface Warehouse {
  readonly id: string
  readonly shopId: string
  readonly name: string
  readonly isDefault: boolean
  readonly type: "SALES_WAREHOUSE" | "RETURN_WAREHOUSE"
  readonly subType: "DOMESTIC_WAREHOUSE" | "CB_OVERSEA_WAREHOUSE" | "CB_DIRECT_SHIPPING_WAREHOUSE"
  effectStatus: "ENABLED" | "DISABLED" | "RESTRICTED"
}

/** A shipping provider of a delivery option. */
export interface ShippingProvider {
  readonly id: string
  readonly name: string
}

/** A delivery option; `SEND_BY_SELLER` options list the providers a seller may ship with. */
export interface DeliveryOption {
  readonly id: string
  readonly shopId: string
  readonly name: string
  readonly type: "STANDARD" | "EXPRESS" | "ECONOMY" | "SEND_BY_SELLER"
  readonly providers: ReadonlyArray<ShippingProvider>
  /** TikTok-fulfilled options have no providers (21008117) and cannot be shipped by the seller. */
  readonly fulfilledByTikTok: boolean
}

/** Stock of a SKU in one warehouse. */
export interface StockCell {
  available: number
  committed: number
}

/** A SKU. */
export interface Sku {
  readonly id: string
  readonly productId: string
  readonly sellerSku: string
  readonly name: string
  readonly price: string
  readonly currency: string
  readonly inventory: Map<string, StockCell>
  /** Inventory writes applied through Update Inventory. */
  writes: number
  inventoryStatus: "SUFFICIENT_STOCK" | "LOW_STOCK" | "OUT_OF_STOCK" | undefined
}

/** Product statuses. */
export type ProductStatus =
  | "DRAFT"
  | "PENDING"
  | "FAILED"
  | "ACTIVATE"
  | "SELLER_DEACTIVATED"
  | "PLATFORM_DEACTIVATED"
  | "FREEZE"
  | "DELETED"

/** A product. */
export interface Product {
  readonly id: string
  readonly shopId: string
  readonly title: string
  status: ProductStatus
  readonly createTime: number
  updateTime: number
  readonly skuIds: Array<string>
}

/** Order statuses (API spelling). */
export type OrderStatus =
  | "UNPAID"
  | "ON_HOLD"
  | "AWAITING_SHIPMENT"
  | "PARTIALLY_SHIPPING"
  | "AWAITING_COLLECTION"
  | "IN_TRANSIT"
  | "DELIVERED"
  | "COMPLETED"
  | "CANCELLED"

/** A recipient address. */
export interface Recipient {
  readonly name: string
  readonly phone: string
  readonly addressLine1: string
  readonly addressLine2?: string | undefined
  readonly city: string
  readonly state?: string | undefined
  readonly postalCode: string
  readonly regionCode: string
}

/** One unit of an order. */
export interface LineItem {
  readonly id: string
  readonly skuId: string
  readonly productId: string
  readonly productName: string
  readonly skuName: string
  readonly sellerSku: string
  readonly salePrice: string
  readonly currency: string
  readonly warehouseId: string
  displayStatus: OrderStatus
  packageId: string | undefined
  packageStatus: "TO_FULFILL" | "PROCESSING" | "FULFILLING" | "COMPLETED" | "CANCELLED"
  trackingNumber: string | undefined
  providerId: string | undefined
  providerName: string | undefined
  cancelUser: "BUYER" | "SELLER" | "OPERATOR" | "SYSTEM" | undefined
  cancelReason: string | undefined
}

/** An order. */
export interface Order {
  readonly id: string
  readonly shopId: string
  status: OrderStatus
  readonly createTime: number
  updateTime: number
  paidTime: number | undefined
  readonly buyer: { readonly userId: string; readonly email: string; readonly message: string }
  recipient: Recipient
  readonly currency: string
  readonly deliveryOptionId: string
  readonly warehouseId: string
  readonly lineItems: Array<LineItem>
  readonly packageIds: Array<string>
  cancellationInitiator: "SELLER" | "BUYER" | "SYSTEM" | undefined
  cancelReason: string | undefined
  cancelTime: number | undefined
  rtsTime: number | undefined
  deliveryTime: number | undefined
}

/** A package (created when the seller ships). */
export interface Package {
  readonly id: string
  readonly shopId: string
  readonly orderId: string
  readonly lineItemIds: ReadonlyArray<string>
  status: "PROCESSING" | "FULFILLING" | "COMPLETED" | "CANCELLED"
  trackingNumber: string
  providerId: string
  providerName: string
  readonly createTime: number
  updateTime: number
}

/** Cancellation statuses (responses and webhooks spell the withdrawn one `…_CANCELLED`). */
export type CancelStatus =
  | "CANCELLATION_REQUEST_PENDING"
  | "CANCELLATION_REQUEST_SUCCESS"
  | "CANCELLATION_REQUEST_CANCELLED"
  | "CANCELLATION_REQUEST_COMPLETE"

/** A cancellation. */
export interface Cancellation {
  readonly id: string
  readonly shopId: string
  readonly orderId: string
  readonly type: "CANCEL" | "BUYER_CANCEL"
  status: CancelStatus
  readonly role: "BUYER" | "SELLER" | "SYSTEM"
  readonly reason: string
  readonly reasonText: string
  readonly lineItemIds: ReadonlyArray<string>
  readonly createTime: number
  updateTime: number
  /** Results of approve/reject per `idempotency_key`. */
  readonly decisions: Map<string, string>
}

/** Return statuses. */
export const returnStatuses = [
  "RETURN_OR_REFUND_REQUEST_PENDING",
  "REFUND_OR_RETURN_REQUEST_REJECT",
  "AWAITING_BUYER_SHIP",
  "BUYER_SHIPPED_ITEM",
  "REJECT_RECEIVE_PACKAGE",
  "RETURN_OR_REFUND_REQUEST_SUCCESS",
  "RETURN_OR_REFUND_REQUEST_CANCEL",
  "RETURN_OR_REFUND_REQUEST_COMPLETE",
  "REPLACEMENT_REQUEST_PENDING",
  "REPLACEMENT_REQUEST_REJECT",
  "REPLACEMENT_REQUEST_REFUND_SUCCESS",
  "REPLACEMENT_REQUEST_CANCEL",
  "REPLACEMENT_REQUEST_COMPLETE",
  "AWAITING_BUYER_RESPONSE"
] as const
/** A return status. */
export type ReturnStatus = (typeof returnStatuses)[number]

/**
 * Where a return may go next. Refunds without a return never wait for a parcel; arbitration may still
 * side with the buyer after the seller rejected (`…_SUCCESS` after a rejection); `…_COMPLETE` and the
 * cancelled statuses are final.
 */
export const returnMoves: Readonly<
  Record<ReturnRequest["type"], Readonly<Partial<Record<ReturnStatus, ReadonlyArray<ReturnStatus>>>>>
> = {
  REFUND: {
    RETURN_OR_REFUND_REQUEST_PENDING: [
      "RETURN_OR_REFUND_REQUEST_SUCCESS",
      "REFUND_OR_RETURN_REQUEST_REJECT",
      "RETURN_OR_REFUND_REQUEST_CANCEL",
      "AWAITING_BUYER_RESPONSE"
    ],
    AWAITING_BUYER_RESPONSE: [
      "RETURN_OR_REFUND_REQUEST_PENDING",
      "RETURN_OR_REFUND_REQUEST_SUCCESS",
      "RETURN_OR_REFUND_REQUEST_CANCEL"
    ],
    REFUND_OR_RETURN_REQUEST_REJECT: ["RETURN_OR_REFUND_REQUEST_SUCCESS"],
    RETURN_OR_REFUND_REQUEST_SUCCESS: ["RETURN_OR_REFUND_REQUEST_COMPLETE"]
  },
  RETURN_AND_REFUND: {
    RETURN_OR_REFUND_REQUEST_PENDING: [
      "AWAITING_BUYER_SHIP",
      "RETURN_OR_REFUND_REQUEST_SUCCESS",
      "REFUND_OR_RETURN_REQUEST_REJECT",
      "RETURN_OR_REFUND_REQUEST_CANCEL",
      "AWAITING_BUYER_RESPONSE"
    ],
    AWAITING_BUYER_RESPONSE: [
      "RETURN_OR_REFUND_REQUEST_PENDING",
      "RETURN_OR_REFUND_REQUEST_SUCCESS",
      "RETURN_OR_REFUND_REQUEST_CANCEL"
    ],
    AWAITING_BUYER_SHIP: ["BUYER_SHIPPED_ITEM", "RETURN_OR_REFUND_REQUEST_CANCEL"],
    BUYER_SHIPPED_ITEM: ["RETURN_OR_REFUND_REQUEST_SUCCESS", "REJECT_RECEIVE_PACKAGE"],
    REJECT_RECEIVE_PACKAGE: ["RETURN_OR_REFUND_REQUEST_SUCCESS"],
    REFUND_OR_RETURN_REQUEST_REJECT: ["RETURN_OR_REFUND_REQUEST_SUCCESS"],
    RETURN_OR_REFUND_REQUEST_SUCCESS: ["RETURN_OR_REFUND_REQUEST_COMPLETE"]
  },
  REPLACEMENT: {
    REPLACEMENT_REQUEST_PENDING: [
      "REPLACEMENT_REQUEST_COMPLETE",
      "REPLACEMENT_REQUEST_REFUND_SUCCESS",
      "REPLACEMENT_REQUEST_REJECT",
      "REPLACEMENT_REQUEST_CANCEL"
    ]
  }
}

/** A return, refund or replacement request. */
export interface ReturnRequest {
  readonly id: string
  readonly shopId: string
  readonly orderId: string
  readonly type: "REFUND" | "RETURN_AND_REFUND" | "REPLACEMENT"
  status: ReturnStatus
  readonly role: "BUYER" | "SELLER" | "OPERATOR" | "SYSTEM"
  readonly reason: string
  readonly reasonText: string
  readonly lineItemIds: ReadonlyArray<string>
  readonly createTime: number
  updateTime: number
  returnTrackingNumber: string | undefined
  readonly decisions: Map<string, string>
}

/** An authorization: which shops of the seller an app may act for, with which scopes. */
export interface Grant {
  readonly id: string
  readonly openId: string
  readonly shopIds: Set<string>
  readonly scopes: Array<string>
  refreshToken: string
  readonly refreshExpiresAt: number
  readonly createdAt: number
  revoked: boolean
}

/** An issued access token. */
export interface AccessTokenRecord {
  readonly value: string
  readonly grantId: string
  expiresAt: number
}

/** A one-time authorization code. */
export interface AuthCode {
  readonly code: string
  readonly shopIds: ReadonlyArray<string>
  readonly expiresAt: number
  used: boolean
}

/** The cancel statuses buyers, sellers and the system end in, and the ones still open. */
const openCancel: ReadonlySet<CancelStatus> = new Set(["CANCELLATION_REQUEST_PENDING"])

/** Type-4 `role_type` of whoever caused a package change. */
const packageRole: Readonly<Record<Cancellation["role"], string>> = {
  BUYER: "ROLE_USER",
  SELLER: "ROLE_SELLER",
  SYSTEM: "ROLE_SYSTEM"
}

/** Order statuses in which the goods have left. */
export const shippedOrderStatuses: ReadonlySet<OrderStatus> = new Set([
  "AWAITING_COLLECTION",
  "IN_TRANSIT",
  "DELIVERED",
  "COMPLETED"
])

const forwardMoves: Readonly<Partial<Record<OrderStatus, ReadonlyArray<OrderStatus>>>> = {
  UNPAID: ["ON_HOLD"],
  ON_HOLD: ["AWAITING_SHIPMENT"],
  AWAITING_COLLECTION: ["IN_TRANSIT", "COMPLETED"],
  IN_TRANSIT: ["DELIVERED", "COMPLETED"],
  DELIVERED: ["COMPLETED"]
}

/** A webhook notification to deliver. */
export type Notify = (shopId: string, type: number, data: Record<string, unknown>) => void

/** Settings of the world that tests may change. */
export interface WorldOptions {
  /** How long a paid order stays ON_HOLD before AWAITING_SHIPMENT (buyer remorse window). */
  readonly remorseWindowMs: number
  /** Available quantity at or below which a SKU is LOW_STOCK (type 27 webhooks). */
  readonly lowStockThreshold: number
}

/** The sandbox's state and business rules. */
export class World {
  readonly shops = new Map<string, Shop>()
  readonly warehouses = new Map<string, Warehouse>()
  readonly deliveryOptions = new Map<string, DeliveryOption>()
  readonly products = new Map<string, Product>()
  readonly skus = new Map<string, Sku>()
  readonly orders = new Map<string, Order>()
  readonly packages = new Map<string, Package>()
  readonly cancellations = new Map<string, Cancellation>()
  readonly returns = new Map<string, ReturnRequest>()
  readonly grants = new Map<string, Grant>()
  readonly accessTokens = new Map<string, AccessTokenRecord>()
  readonly authCodes = new Map<string, AuthCode>()
  readonly clock: SandboxClock.SandboxClock
  readonly ids: IdSource
  readonly options: WorldOptions
  private readonly notify: Notify

  constructor(clock: SandboxClock.SandboxClock, ids: IdSource, options: WorldOptions, notify: Notify) {
    this.clock = clock
    this.ids = ids
    this.options = options
    this.notify = notify
  }

  /** Sandbox time, Unix seconds. */
  seconds(): number {
    return this.clock.nowSeconds()
  }

  // ---- shops, warehouses, delivery options -------------------------------------------------

  /** Adds a shop with a default warehouse and a seller-shipping delivery option. */
  addShop(input: {
    readonly id?: string | undefined
    readonly name?: string | undefined
    readonly region?: string | undefined
    readonly cipher?: string | undefined
    readonly sellerType?: Shop["sellerType"] | undefined
    readonly providers?: ReadonlyArray<ShippingProvider> | undefined
  }): Shop {
    const region = input.region ?? "GB"
    const shop: Shop = {
      id: input.id ?? this.ids.id(),
      name: input.name ?? `Sandbox Shop ${this.shops.size + 1}`,
      region,
      cipher: input.cipher ?? `ROW_${this.ids.token(32)}`,
      code: `${region}LC${this.ids.token(6).toUpperCase()}`,
      sellerType: input.sellerType ?? "LOCAL"
    }
    this.shops.set(shop.id, shop)
    this.addWarehouse(shop.id, { name: `${shop.name} main warehouse`, isDefault: true })
    this.addDeliveryOption(shop.id, {
      name: "Shipped by seller",
      type: "SEND_BY_SELLER",
      providers: input.providers ?? [
        { id: this.ids.id(), name: "Royal Mail" },
        { id: this.ids.id(), name: "DPD" },
        { id: this.ids.id(), name: "4PX" },
        { id: this.ids.id(), name: "Yanwen" },
        { id: this.ids.id(), name: "USPS" }
      ]
    })
    return shop
  }

  /** The shop by id, or an error. */
  shop(shopId: string): Shop {
    const shop = this.shops.get(shopId)
    if (shop === undefined) throw new Error(`sandbox has no shop ${shopId}`)
    return shop
  }

  /** Adds a warehouse to a shop. */
  addWarehouse(
    shopId: string,
    input: { readonly id?: string | undefined; readonly name?: string | undefined; readonly isDefault?: boolean }
  ): Warehouse {
    this.shop(shopId)
    const warehouse: Warehouse = {
      id: input.id ?? this.ids.id(),
      shopId,
      name: input.name ?? `Warehouse ${this.warehouses.size + 1}`,
      isDefault: input.isDefault ?? false,
      type: "SALES_WAREHOUSE",
      subType: "DOMESTIC_WAREHOUSE",
      effectStatus: "ENABLED"
    }
    this.warehouses.set(warehouse.id, warehouse)
    return warehouse
  }

  /** The shop's warehouses, default first. */
  warehousesOf(shopId: string): ReadonlyArray<Warehouse> {
    return [...this.warehouses.values()]
      .filter((w) => w.shopId === shopId)
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault))
  }

  /** Adds a delivery option to a shop. */
  addDeliveryOption(
    shopId: string,
    input: {
      readonly name: string
      readonly type: DeliveryOption["type"]
      readonly providers: ReadonlyArray<ShippingProvider>
      readonly fulfilledByTikTok?: boolean
    }
  ): DeliveryOption {
    const option: DeliveryOption = {
      id: this.ids.id(),
      shopId,
      name: input.name,
      type: input.type,
      providers: input.providers,
      fulfilledByTikTok: input.fulfilledByTikTok ?? false
    }
    this.deliveryOptions.set(option.id, option)
    return option
  }

  /** The shop's seller-shipping delivery option. */
  defaultDeliveryOption(shopId: string): DeliveryOption {
    const option = [...this.deliveryOptions.values()].find((o) => o.shopId === shopId && !o.fulfilledByTikTok)
    if (option === undefined) throw new Error(`shop ${shopId} has no seller-shipping delivery option`)
    return option
  }

  // ---- products and stock ------------------------------------------------------------------

  /** Adds a product with SKUs; `stock` per SKU maps warehouse id → quantity (a number: the default warehouse). */
  addProduct(
    shopId: string,
    input: {
      readonly title: string
      readonly status?: ProductStatus | undefined
      readonly skus: ReadonlyArray<{
        readonly sellerSku: string
        readonly name?: string | undefined
        readonly price?: string | undefined
        readonly currency?: string | undefined
        readonly stock?: number | Readonly<Record<string, number>> | undefined
      }>
    }
  ): Product {
    this.shop(shopId)
    const now = this.seconds()
    const product: Product = {
      id: this.ids.id(),
      shopId,
      title: input.title,
      status: input.status ?? "ACTIVATE",
      createTime: now,
      updateTime: now,
      skuIds: []
    }
    const defaultWarehouse = this.warehousesOf(shopId)[0]
    for (const s of input.skus) {
      const inventory = new Map<string, StockCell>()
      const stock = s.stock ?? 0
      if (typeof stock === "number") {
        if (defaultWarehouse === undefined) throw new Error(`shop ${shopId} has no warehouse`)
        inventory.set(defaultWarehouse.id, { available: stock, committed: 0 })
      } else {
        for (const [warehouseId, quantity] of Object.entries(stock)) {
          const w = this.warehouses.get(warehouseId)
          if (w === undefined || w.shopId !== shopId)
            throw new Error(`warehouse ${warehouseId} is not shop ${shopId}'s`)
          inventory.set(warehouseId, { available: quantity, committed: 0 })
        }
      }
      const sku: Sku = {
        id: this.ids.id(),
        productId: product.id,
        sellerSku: s.sellerSku,
        name: s.name ?? s.sellerSku,
        price: s.price ?? "9.99",
        currency: s.currency ?? "GBP",
        inventory,
        writes: 0,
        inventoryStatus: undefined
      }
      sku.inventoryStatus = this.stockStatus(sku)
      this.skus.set(sku.id, sku)
      product.skuIds.push(sku.id)
    }
    this.products.set(product.id, product)
    return product
  }

  /** A SKU by id, or an error. */
  sku(skuId: string): Sku {
    const sku = this.skus.get(skuId)
    if (sku === undefined) throw new Error(`sandbox has no SKU ${skuId}`)
    return sku
  }

  /** The SKU with a seller SKU in a shop. */
  skuBySellerSku(shopId: string, sellerSku: string): Sku | undefined {
    for (const sku of this.skus.values()) {
      if (sku.sellerSku === sellerSku && this.products.get(sku.productId)?.shopId === shopId) return sku
    }
    return undefined
  }

  private stockStatus(sku: Sku): Sku["inventoryStatus"] {
    let total = 0
    for (const cell of sku.inventory.values()) total += cell.available
    if (total <= 0) return "OUT_OF_STOCK"
    return total <= this.options.lowStockThreshold ? "LOW_STOCK" : "SUFFICIENT_STOCK"
  }

  /** Re-evaluates a SKU's inventory status and announces a change (type 27). */
  private stockChanged(sku: Sku): void {
    const status = this.stockStatus(sku)
    if (status === sku.inventoryStatus) return
    sku.inventoryStatus = status
    const product = this.products.get(sku.productId)!
    let total = 0
    let available = 0
    let committed = 0
    for (const cell of sku.inventory.values()) {
      available += cell.available
      committed += cell.committed
      total += cell.available + cell.committed
    }
    this.notify(product.shopId, 27, {
      product_id: product.id,
      sku_id: sku.id,
      trigger_reason: { alert_type: "REALTIME", low_stock_threshold: this.options.lowStockThreshold },
      current_inventory_status: status,
      inventory_distribution: {
        total_quantity: total,
        available_quantity: available,
        creator_reserved_quantity: 0,
        campaign_reserved_quantity: 0,
        committed_quantity: committed
      },
      update_time: this.seconds()
    })
  }

  /** Sets a SKU's available quantity in a warehouse (a change made in Seller Center, or an API write). */
  setStock(skuId: string, warehouseId: string, quantity: number, viaApi = false): void {
    const sku = this.sku(skuId)
    const cell = sku.inventory.get(warehouseId)
    if (cell === undefined) sku.inventory.set(warehouseId, { available: quantity, committed: 0 })
    else cell.available = quantity
    if (viaApi) sku.writes += 1
    const product = this.products.get(sku.productId)
    if (product) product.updateTime = this.seconds()
    this.stockChanged(sku)
  }

  // ---- orders ------------------------------------------------------------------------------

  private emitOrderStatus(order: Order): void {
    this.notify(order.shopId, 1, {
      order_id: order.id,
      order_status: order.status,
      is_on_hold_order: order.status === "ON_HOLD",
      update_time: order.updateTime
    })
  }

  private setOrderStatus(order: Order, status: OrderStatus, at = this.seconds()): void {
    order.status = status
    order.updateTime = Math.max(order.updateTime, at)
    this.emitOrderStatus(order)
  }

  /** An order by id, or an error. */
  order(orderId: string): Order {
    const order = this.orders.get(orderId)
    if (order === undefined) throw new Error(`sandbox has no order ${orderId}`)
    return order
  }

  /**
   * A buyer places an order. Stock is committed at once (unpaid orders hold it too); a SKU without
   * enough available stock in the order's warehouse cannot be bought.
   */
  placeOrder(input: {
    readonly shopId: string
    readonly lines: ReadonlyArray<{ readonly skuId: string; readonly qty: number }>
    readonly paid: boolean
    readonly buyer?: { readonly userId?: string; readonly email?: string; readonly message?: string } | undefined
    readonly recipient?: Recipient | undefined
    readonly warehouseId?: string | undefined
    readonly deliveryOptionId?: string | undefined
    readonly at?: number | undefined
    readonly allowOversell?: boolean | undefined
  }): Order {
    const shop = this.shop(input.shopId)
    if (input.lines.length === 0) throw new Error("an order needs at least one line")
    const warehouseId = input.warehouseId ?? this.warehousesOf(shop.id)[0]?.id
    if (warehouseId === undefined) throw new Error(`shop ${shop.id} has no warehouse`)
    const now = input.at ?? this.seconds()
    const wanted = new Map<string, number>()
    for (const line of input.lines) {
      if (!Number.isInteger(line.qty) || line.qty < 1) throw new Error("line quantities are whole units, at least 1")
      const sku = this.sku(line.skuId)
      const product = this.products.get(sku.productId)!
      if (product.shopId !== shop.id) throw new Error(`SKU ${sku.id} is not sold by shop ${shop.id}`)
      if (product.status !== "ACTIVATE") throw new Error(`product ${product.id} is ${product.status}, not for sale`)
      wanted.set(sku.id, (wanted.get(sku.id) ?? 0) + line.qty)
    }
    if (!input.allowOversell) {
      for (const [skuId, qty] of wanted) {
        const cell = this.sku(skuId).inventory.get(warehouseId)
        if (cell === undefined || cell.available < qty) {
          throw new Error(
            `SKU ${skuId} has ${cell?.available ?? 0} available in warehouse ${warehouseId}, ${qty} wanted`
          )
        }
      }
    }
    const option = input.deliveryOptionId
      ? this.deliveryOptions.get(input.deliveryOptionId)
      : this.defaultDeliveryOption(shop.id)
    if (option === undefined) throw new Error(`no delivery option ${input.deliveryOptionId}`)
    const lineItems: Array<LineItem> = []
    for (const line of input.lines) {
      const sku = this.sku(line.skuId)
      const product = this.products.get(sku.productId)!
      for (let i = 0; i < line.qty; i++) {
        lineItems.push({
          id: this.ids.id(),
          skuId: sku.id,
          productId: product.id,
          productName: product.title,
          skuName: sku.name,
          sellerSku: sku.sellerSku,
          salePrice: sku.price,
          currency: sku.currency,
          warehouseId,
          displayStatus: input.paid ? "AWAITING_SHIPMENT" : "UNPAID",
          packageId: undefined,
          packageStatus: "TO_FULFILL",
          trackingNumber: undefined,
          providerId: undefined,
          providerName: undefined,
          cancelUser: undefined,
          cancelReason: undefined
        })
      }
    }
    const userId = input.buyer?.userId ?? this.ids.id()
    const order: Order = {
      id: this.ids.id(),
      shopId: shop.id,
      status: "UNPAID",
      createTime: now,
      updateTime: now,
      paidTime: undefined,
      buyer: {
        userId,
        email: input.buyer?.email ?? `buyer-${userId.slice(-6)}@scs.tiktokw.us`,
        message: input.buyer?.message ?? ""
      },
      recipient: input.recipient ?? {
        name: "Alex Buyer",
        phone: "(+44)7700900123",
        addressLine1: "1 Sandbox Street",
        city: "London",
        state: "England",
        postalCode: "EC1A 1BB",
        regionCode: shop.region
      },
      currency: lineItems[0]!.currency,
      deliveryOptionId: option.id,
      warehouseId,
      lineItems,
      packageIds: [],
      cancellationInitiator: undefined,
      cancelReason: undefined,
      cancelTime: undefined,
      rtsTime: undefined,
      deliveryTime: undefined
    }
    this.orders.set(order.id, order)
    for (const [skuId, qty] of wanted) {
      const sku = this.sku(skuId)
      const cell = sku.inventory.get(warehouseId) ?? { available: 0, committed: 0 }
      sku.inventory.set(warehouseId, cell)
      cell.available -= qty
      cell.committed += qty
      this.stockChanged(sku)
    }
    this.emitOrderStatus(order)
    if (input.paid) this.pay(order.id, now)
    return order
  }

  /** The buyer pays: UNPAID → ON_HOLD, then AWAITING_SHIPMENT when the remorse window closes. */
  pay(orderId: string, at = this.seconds()): void {
    const order = this.order(orderId)
    if (order.status !== "UNPAID") throw new Error(`order ${orderId} is ${order.status}, not UNPAID`)
    order.paidTime = at
    for (const item of order.lineItems) if (item.displayStatus === "UNPAID") item.displayStatus = "AWAITING_SHIPMENT"
    this.setOrderStatus(order, "ON_HOLD", at)
    const release = at * 1000 + this.options.remorseWindowMs
    if (this.options.remorseWindowMs <= 0) this.releaseHold(orderId)
    else void this.clock.until(release).then(() => this.releaseHold(orderId))
  }

  /** The remorse window closes: ON_HOLD → AWAITING_SHIPMENT (no-op in any other status). */
  releaseHold(orderId: string): void {
    const order = this.order(orderId)
    if (order.status !== "ON_HOLD") return
    this.setOrderStatus(order, "AWAITING_SHIPMENT")
  }

  /** Moves an order forward along the status machine (carrier scan, delivery, end of after-sales window). */
  advance(orderId: string, status: OrderStatus): void {
    const order = this.order(orderId)
    if (status === "ON_HOLD" && order.status === "UNPAID") {
      this.pay(orderId)
      return
    }
    if (status === "AWAITING_SHIPMENT" && order.status === "ON_HOLD") {
      this.releaseHold(orderId)
      return
    }
    const allowed = forwardMoves[order.status] ?? []
    if (!allowed.includes(status)) {
      throw new Error(`order ${orderId} cannot move from ${order.status} to ${status}`)
    }
    const now = this.seconds()
    for (const item of order.lineItems) {
      if (item.displayStatus === "CANCELLED") continue
      item.displayStatus = status
      if (status === "DELIVERED" || status === "COMPLETED") item.packageStatus = "COMPLETED"
    }
    for (const id of order.packageIds) {
      const pkg = this.packages.get(id)
      if (pkg && (status === "DELIVERED" || status === "COMPLETED")) {
        pkg.status = "COMPLETED"
        pkg.updateTime = now
      }
    }
    if (status === "DELIVERED") order.deliveryTime = now
    this.setOrderStatus(order, status, now)
  }

  /** Announces a change to an order's packages (type 4, PACKAGE_UPDATE). */
  private emitPackageUpdate(order: Order, scType: string, roleType: string, packageIds: ReadonlyArray<string>): void {
    this.notify(order.shopId, 4, {
      sc_type: scType,
      role_type: roleType,
      package_list: packageIds.map((id) => ({ package_id: id, order_id_list: [order.id] })),
      update_time: order.updateTime
    })
  }

  /** The order's active (not cancelled) line items. */
  private activeLines(order: Order): ReadonlyArray<LineItem> {
    return order.lineItems.filter((i) => i.displayStatus !== "CANCELLED")
  }

  /** Lines with an open after-sale request (pending cancellation or return). */
  private linesUnderAfterSale(order: Order): ReadonlySet<string> {
    const ids = new Set<string>()
    for (const c of this.cancellations.values()) {
      if (c.orderId === order.id && openCancel.has(c.status)) for (const l of c.lineItemIds) ids.add(l)
    }
    return ids
  }

  /**
   * The seller ships (Mark Package As Shipped): a package with the tracking number for the given
   * line items (all unshipped ones when none are named).
   */
  markShipped(input: {
    readonly orderId: string
    readonly trackingNumber: string
    readonly providerId: string
    readonly lineItemIds?: ReadonlyArray<string> | undefined
  }): Package {
    const order = this.order(input.orderId)
    const option = this.deliveryOptions.get(order.deliveryOptionId)
    if (option?.fulfilledByTikTok) throw new TikTokError(21008025, "The order is fulfilled by the platform.")
    if (shippedOrderStatuses.has(order.status)) throw new TikTokError(21008099, "Package has been shipped.")
    if (order.status !== "AWAITING_SHIPMENT" && order.status !== "PARTIALLY_SHIPPING") {
      throw new TikTokError(21042057, `The order status is ${order.status}, not AWAITING_SHIPMENT.`)
    }
    const tracking = input.trackingNumber.trim()
    if (!/^[A-Za-z0-9-]{4,64}$/.test(tracking)) {
      throw new TikTokError(21011022, "Invalid tracking number or provider ID.")
    }
    const provider = option?.providers.find((p) => p.id === input.providerId)
    if (provider === undefined) throw new TikTokError(21011022, "Invalid tracking number or provider ID.")
    for (const pkg of this.packages.values()) {
      if (pkg.shopId === order.shopId && pkg.trackingNumber === tracking) {
        throw new TikTokError(21011025, "Duplicate tracking number.")
      }
    }
    const active = this.activeLines(order)
    const unshipped = active.filter((i) => i.packageId === undefined)
    let lines: ReadonlyArray<LineItem>
    if (input.lineItemIds === undefined || input.lineItemIds.length === 0) {
      lines = unshipped
    } else {
      const chosen: Array<LineItem> = []
      for (const id of input.lineItemIds) {
        const item = order.lineItems.find((i) => i.id === id)
        if (item === undefined)
          throw new TikTokError(36009004, `Invalid order_line_item_ids: ${id} is not a line of this order.`)
        if (item.displayStatus === "CANCELLED") throw new TikTokError(21011041, "The order line item is cancelled.")
        if (item.packageId !== undefined) throw new TikTokError(21011006, "The order line item has been shipped.")
        chosen.push(item)
      }
      lines = chosen
    }
    if (lines.length === 0) throw new TikTokError(21008099, "Package has been shipped.")
    const underAfterSale = this.linesUnderAfterSale(order)
    if (lines.some((l) => underAfterSale.has(l.id))) {
      throw new TikTokError(21011007, "The order line item has an after-sale request in progress.")
    }
    const now = this.seconds()
    const pkg: Package = {
      id: this.ids.id(),
      shopId: order.shopId,
      orderId: order.id,
      lineItemIds: lines.map((l) => l.id),
      status: "FULFILLING",
      trackingNumber: tracking,
      providerId: provider.id,
      providerName: provider.name,
      createTime: now,
      updateTime: now
    }
    this.packages.set(pkg.id, pkg)
    order.packageIds.push(pkg.id)
    for (const line of lines) {
      line.packageId = pkg.id
      line.packageStatus = "FULFILLING"
      line.trackingNumber = tracking
      line.providerId = provider.id
      line.providerName = provider.name
      line.displayStatus = "AWAITING_COLLECTION"
      const cell = this.sku(line.skuId).inventory.get(line.warehouseId)
      if (cell) cell.committed = Math.max(0, cell.committed - 1)
    }
    order.rtsTime = now
    const allShipped = this.activeLines(order).every((i) => i.packageId !== undefined)
    this.setOrderStatus(order, allShipped ? "AWAITING_COLLECTION" : "PARTIALLY_SHIPPING", now)
    if (!allShipped) this.emitPackageUpdate(order, "SPLIT", "ROLE_SELLER", [pkg.id])
    return pkg
  }

  // ---- cancellations -----------------------------------------------------------------------

  private emitCancellation(c: Cancellation): void {
    this.notify(c.shopId, 11, {
      order_id: c.orderId,
      cancellations_role: c.role,
      cancel_status: c.status,
      cancel_id: c.id,
      create_time: c.createTime,
      update_time: c.updateTime
    })
  }

  /**
   * Applies a successful cancellation: lines cancelled, unshipped stock given back (shipped units are
   * with the carrier), packages left without a line cancelled, and the order CANCELLED when nothing is
   * left — or AWAITING_COLLECTION when only shipped lines are.
   */
  private applyCancellation(c: Cancellation): void {
    const order = this.order(c.orderId)
    const now = this.seconds()
    for (const id of c.lineItemIds) {
      const item = order.lineItems.find((i) => i.id === id)
      if (item === undefined || item.displayStatus === "CANCELLED") continue
      item.displayStatus = "CANCELLED"
      item.packageStatus = "CANCELLED"
      item.cancelUser = c.role
      item.cancelReason = c.reasonText
      const sku = this.sku(item.skuId)
      const cell = sku.inventory.get(item.warehouseId)
      if (cell && item.packageId === undefined) {
        cell.committed = Math.max(0, cell.committed - 1)
        cell.available += 1
        this.stockChanged(sku)
      }
    }
    for (const id of order.packageIds) {
      const pkg = this.packages.get(id)
      if (pkg === undefined || pkg.status === "CANCELLED") continue
      const lines = order.lineItems.filter((i) => pkg.lineItemIds.includes(i.id))
      if (lines.every((i) => i.displayStatus === "CANCELLED")) {
        pkg.status = "CANCELLED"
        pkg.updateTime = now
      }
    }
    const active = this.activeLines(order)
    if (active.length === 0) {
      order.cancellationInitiator = c.role
      order.cancelReason = c.reasonText
      order.cancelTime = now
      this.setOrderStatus(order, "CANCELLED", now)
    } else if (order.status === "PARTIALLY_SHIPPING" && active.every((i) => i.packageId !== undefined)) {
      // Every remaining item is shipped now: the status the seller shipping the last item would give.
      this.setOrderStatus(order, "AWAITING_COLLECTION", now)
      const live = order.packageIds.filter((id) => this.packages.get(id)?.status !== "CANCELLED")
      this.emitPackageUpdate(order, "PARTLY_CANCEL_SPLIT", packageRole[c.role], live)
    } else {
      order.updateTime = now
    }
  }

  /** Who may still cancel an order whose goods have left (reference §6.1; see the module comment). */
  private mayCancelShipped(order: Order, role: Cancellation["role"]): boolean {
    if (order.status === "AWAITING_COLLECTION") return role === "SELLER" && this.shop(order.shopId).region === "US"
    if (order.status === "IN_TRANSIT") return role === "SYSTEM"
    return false
  }

  /**
   * Cancels (part of) an order. Seller and system cancellations succeed at once; a buyer's succeeds
   * at once while UNPAID or ON_HOLD and otherwise waits for the seller (BUYER_CANCEL, pending).
   * Shipped orders are cancelled whole, by whom `mayCancelShipped` allows.
   */
  cancel(input: {
    readonly orderId: string
    readonly role: Cancellation["role"]
    readonly reason: string
    readonly reasonText?: string | undefined
    readonly lineItemIds?: ReadonlyArray<string> | undefined
  }): Cancellation {
    const order = this.order(input.orderId)
    if (order.status === "COMPLETED" || order.status === "CANCELLED") {
      throw new TikTokError(25001051, "The order is completed or cancelled.")
    }
    const shipped = shippedOrderStatuses.has(order.status)
    if (shipped && !this.mayCancelShipped(order, input.role)) {
      throw new TikTokError(25001045, "The order has been shipped.")
    }
    for (const c of this.cancellations.values()) {
      if (c.orderId === order.id && openCancel.has(c.status)) {
        throw new TikTokError(25001011, "A cancellation for this order is already in process.")
      }
    }
    const named = input.lineItemIds ?? []
    let lineItemIds: ReadonlyArray<string>
    if (shipped) {
      lineItemIds = this.activeLines(order).map((i) => i.id)
      if (named.length > 0 && (named.length !== lineItemIds.length || named.some((id) => !lineItemIds.includes(id)))) {
        throw new TikTokError(25005010, "Individual line items of a shipped order cannot be cancelled.")
      }
    } else {
      lineItemIds =
        named.length === 0
          ? this.activeLines(order)
              .filter((i) => i.packageId === undefined)
              .map((i) => i.id)
          : [...named]
      for (const id of lineItemIds) {
        const item = order.lineItems.find((i) => i.id === id)
        if (item === undefined) throw new TikTokError(36009004, `Invalid order_line_item_ids: ${id}.`)
        if (item.packageId !== undefined) throw new TikTokError(25001045, "The order line item has been shipped.")
      }
    }
    const immediate = input.role !== "BUYER" || order.status === "UNPAID" || order.status === "ON_HOLD"
    const now = this.seconds()
    const c: Cancellation = {
      id: this.ids.id(),
      shopId: order.shopId,
      orderId: order.id,
      type: input.role === "BUYER" && !immediate ? "BUYER_CANCEL" : "CANCEL",
      status: immediate ? "CANCELLATION_REQUEST_SUCCESS" : "CANCELLATION_REQUEST_PENDING",
      role: input.role,
      reason: input.reason,
      reasonText: input.reasonText ?? input.reason,
      lineItemIds,
      createTime: now,
      updateTime: now,
      decisions: new Map()
    }
    this.cancellations.set(c.id, c)
    this.emitCancellation(c)
    if (immediate) this.applyCancellation(c)
    return c
  }

  /** The seller answers a pending buyer cancellation. */
  decideCancellation(cancelId: string, approve: boolean): Cancellation {
    const c = this.cancellations.get(cancelId)
    if (c === undefined) throw new TikTokError(25001001, `invalid param: no cancellation ${cancelId}`)
    if (c.status === "CANCELLATION_REQUEST_SUCCESS" || c.status === "CANCELLATION_REQUEST_COMPLETE") {
      throw new TikTokError(25020009, "The order has already been cancelled.")
    }
    if (c.status !== "CANCELLATION_REQUEST_PENDING") throw new TikTokError(25001003, "Invalid order status.")
    c.status = approve ? "CANCELLATION_REQUEST_SUCCESS" : "CANCELLATION_REQUEST_CANCELLED"
    c.updateTime = this.seconds()
    this.emitCancellation(c)
    if (approve) this.applyCancellation(c)
    return c
  }

  // ---- returns -----------------------------------------------------------------------------

  private emitReturn(r: ReturnRequest): void {
    this.notify(r.shopId, 12, {
      order_id: r.orderId,
      return_role: r.role,
      return_type: r.type,
      return_status: r.status,
      return_id: r.id,
      create_time: r.createTime,
      update_time: r.updateTime
    })
  }

  /** The buyer asks for a return, refund or replacement of shipped lines (all shipped lines when none are named). */
  requestReturn(input: {
    readonly orderId: string
    readonly type: ReturnRequest["type"]
    readonly reason?: string | undefined
    readonly lineItemIds?: ReadonlyArray<string> | undefined
  }): ReturnRequest {
    const order = this.order(input.orderId)
    if (!shippedOrderStatuses.has(order.status) && order.status !== "PARTIALLY_SHIPPING") {
      throw new Error(`order ${order.id} is ${order.status}: returns need shipped goods (cancel instead)`)
    }
    const shipped = order.lineItems.filter((i) => i.packageId !== undefined && i.displayStatus !== "CANCELLED")
    const ids = input.lineItemIds ?? shipped.map((i) => i.id)
    for (const id of ids) {
      if (!shipped.some((i) => i.id === id)) throw new Error(`line ${id} of order ${order.id} was not shipped`)
    }
    const now = this.seconds()
    const r: ReturnRequest = {
      id: this.ids.id(),
      shopId: order.shopId,
      orderId: order.id,
      type: input.type,
      status: input.type === "REPLACEMENT" ? "REPLACEMENT_REQUEST_PENDING" : "RETURN_OR_REFUND_REQUEST_PENDING",
      role: "BUYER",
      reason: input.reason ?? "ecom_order_delivered_refund_and_return_reason_wrong_item",
      reasonText: input.reason ?? "Wrong item",
      lineItemIds: ids,
      createTime: now,
      updateTime: now,
      returnTrackingNumber: undefined,
      decisions: new Map()
    }
    this.returns.set(r.id, r)
    this.emitReturn(r)
    return r
  }

  /**
   * Moves a return to a status (buyer, carrier, seller or operator action) along `returnMoves`; a move
   * the machine does not allow is refused with 25001003, as TikTok refuses a decision out of turn.
   */
  setReturnStatus(returnId: string, status: ReturnStatus): ReturnRequest {
    const r = this.returns.get(returnId)
    if (r === undefined) throw new TikTokError(25001001, `invalid param: no return ${returnId}`)
    if (!(returnMoves[r.type][r.status] ?? []).includes(status)) {
      throw new TikTokError(
        25001003,
        `Invalid order status: a ${r.type} return cannot move from ${r.status} to ${status}.`
      )
    }
    r.status = status
    r.updateTime = this.seconds()
    if (status === "BUYER_SHIPPED_ITEM" && r.returnTrackingNumber === undefined) {
      r.returnTrackingNumber = `RT${this.ids.token(10).toUpperCase()}`
    }
    this.emitReturn(r)
    const order = this.order(r.orderId)
    const refunded = status === "RETURN_OR_REFUND_REQUEST_SUCCESS" || status === "RETURN_OR_REFUND_REQUEST_COMPLETE"
    const all = this.activeLines(order).every((l) => r.lineItemIds.includes(l.id))
    if (refunded && all && (order.status === "AWAITING_COLLECTION" || order.status === "IN_TRANSIT")) {
      // A full refund before delivery closes the order.
      this.setOrderStatus(order, "COMPLETED")
    }
    return r
  }

  /** The seller's decision on a return (Approve/Reject Return). */
  decideReturn(returnId: string, decision: string): ReturnRequest {
    const r = this.returns.get(returnId)
    if (r === undefined) throw new TikTokError(25001001, `invalid param: no return ${returnId}`)
    const moves: Record<string, { readonly from: ReadonlyArray<ReturnStatus>; readonly to: ReturnStatus }> = {
      APPROVE_REFUND: {
        from: ["RETURN_OR_REFUND_REQUEST_PENDING", "BUYER_SHIPPED_ITEM"],
        to: "RETURN_OR_REFUND_REQUEST_SUCCESS"
      },
      APPROVE_RETURN: { from: ["RETURN_OR_REFUND_REQUEST_PENDING"], to: "AWAITING_BUYER_SHIP" },
      APPROVE_RECEIVED_PACKAGE: { from: ["BUYER_SHIPPED_ITEM"], to: "RETURN_OR_REFUND_REQUEST_SUCCESS" },
      APPROVE_REPLACEMENT: { from: ["REPLACEMENT_REQUEST_PENDING"], to: "REPLACEMENT_REQUEST_COMPLETE" },
      ISSUE_REPLACEMENT_REFUND: { from: ["REPLACEMENT_REQUEST_PENDING"], to: "REPLACEMENT_REQUEST_REFUND_SUCCESS" },
      REJECT_REFUND: { from: ["RETURN_OR_REFUND_REQUEST_PENDING"], to: "REFUND_OR_RETURN_REQUEST_REJECT" },
      REJECT_RETURN: { from: ["RETURN_OR_REFUND_REQUEST_PENDING"], to: "REFUND_OR_RETURN_REQUEST_REJECT" },
      REJECT_RECEIVED_PACKAGE: { from: ["BUYER_SHIPPED_ITEM"], to: "REJECT_RECEIVE_PACKAGE" },
      REJECT_REPLACEMENT: { from: ["REPLACEMENT_REQUEST_PENDING"], to: "REPLACEMENT_REQUEST_REJECT" },
      OFFER_PARTIAL_REFUND: { from: ["RETURN_OR_REFUND_REQUEST_PENDING"], to: "AWAITING_BUYER_RESPONSE" }
    }
    const move = moves[decision]
    if (move === undefined) throw new TikTokError(25001001, `invalid param: decision ${decision}`)
    if (!move.from.includes(r.status)) throw new TikTokError(25001003, "Invalid order status.")
    return this.setReturnStatus(returnId, move.to)
  }

  /** The buyer changes the delivery address (type 3 webhook). */
  updateAddress(orderId: string, recipient: Recipient): void {
    const order = this.order(orderId)
    order.recipient = recipient
    order.updateTime = this.seconds()
    this.notify(order.shopId, 3, { order_id: order.id, update_time: order.updateTime })
  }
}
