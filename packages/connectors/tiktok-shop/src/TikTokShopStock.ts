/**
 * TikTokShopStock: the `stock.push` capability — Update Inventory
 * (`POST /product/202309/products/{product_id}/inventory/update`), one call per product with all
 * of that product's SKUs in the batch, each with its warehouse quantities.
 *
 * TikTok sets absolute quantities and has no idempotency keys: a replayed write sets the same
 * number again, which is harmless. An update must list **every** warehouse of a SKU; when a batch
 * names only some warehouses of a multi-warehouse SKU, the others are filled with their current
 * quantities from Inventory Search so nothing is dropped. Per-SKU failures come back with HTTP 200
 * and `code` 0 in `data.errors` and surface as `Failed` results for exactly those SKUs (and
 * warehouses); the rest of the batch is `Applied`.
 *
 * @see https://partner.tiktokshop.com/docv2/page/6503068fc20ad60284b38858 (Update Inventory)
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { ConnectorError as Errors } from "@tkbridge/core"
import { Duration, Effect, Either } from "effect"
import type { TikTokShopClientShape } from "./TikTokShopClient.ts"
import * as TikTokShopError from "./TikTokShopError.ts"
import * as Wire from "./TikTokShopSchema.ts"

/** Largest quantity Update Inventory accepts per warehouse. */
export const maxQuantity = 99_999

/** SKU ids per Inventory Search call. */
const inventorySearchBatch = 600

/** The `externalIds` keys a push reads (as `catalog.pull` writes them). */
export const ids = { product: "product_id", sku: "sku_id", warehouses: "warehouse_ids" } as const

/** Errors that concern the whole connection: the push stops and fails with them. */
const connectionLevel = new Set(["AuthExpired", "AuthRevoked", "RateLimited", "Suspended", "ScopeMissing"])

interface Slot {
  quantity: number
  readonly indices: Array<number>
}

interface SkuPlan {
  readonly skuId: string
  readonly known: ReadonlyArray<string>
  /** Warehouse id → quantity to set; "" when the SKU has a single, unnamed warehouse. */
  readonly slots: Map<string, Slot>
}

/** Builds `stock.push` on a client. */
export const make = (client: TikTokShopClientShape, connection: string): Connector.StockPush => {
  const push = (
    updates: ReadonlyArray<Connector.StockUpdate>
  ): Effect.Effect<ReadonlyArray<Connector.StockPushResult>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const results = new Array<Connector.StockPushResult | undefined>(updates.length)
      const fail = (i: number, error: Errors.ConnectorError) => {
        const u = updates[i]!
        results[i] = { _tag: "Failed", externalSku: u.externalSku, location: u.location, error }
      }
      const reject = (i: number, code: string, message: string) =>
        fail(i, new Errors.Rejected({ code, connection, message }))

      const products = new Map<string, Map<string, SkuPlan>>()
      for (const [i, u] of updates.entries()) {
        const productId = u.externalIds[ids.product]
        const skuId = u.externalIds[ids.sku]
        if (!productId || !skuId) {
          reject(
            i,
            "missing_ids",
            `${u.externalSku}: the listing has no ${ids.product}/${ids.sku}; pull the catalog to pair it`
          )
          continue
        }
        if (!Number.isInteger(u.quantity) || u.quantity < 0 || u.quantity > maxQuantity) {
          reject(i, "12052055", `${u.externalSku}: quantity ${u.quantity} is outside 0–${maxQuantity}`)
          continue
        }
        const known = (u.externalIds[ids.warehouses] ?? u.externalIds.warehouse_id ?? "")
          .split(",")
          .map((w) => w.trim())
          .filter((w) => w !== "")
        const warehouse = u.location ?? (known.length === 1 ? known[0]! : known.length === 0 ? "" : undefined)
        if (warehouse === undefined) {
          reject(
            i,
            "location_required",
            `${u.externalSku}: the SKU is stocked in warehouses ${known.join(", ")}; the update must name one`
          )
          continue
        }
        const skus = products.get(productId) ?? new Map<string, SkuPlan>()
        products.set(productId, skus)
        const plan = skus.get(skuId) ?? { skuId, known, slots: new Map<string, Slot>() }
        skus.set(skuId, plan)
        const slot = plan.slots.get(warehouse)
        // Two updates of the same SKU and warehouse in one batch: the later one is the value to set.
        if (slot) {
          slot.quantity = u.quantity
          slot.indices.push(i)
        } else plan.slots.set(warehouse, { quantity: u.quantity, indices: [i] })
      }

      // Multi-warehouse SKUs whose batch leaves some warehouses out: TikTok would reject (or drop)
      // them, so they are sent with their current quantity.
      const incomplete: Array<SkuPlan> = []
      for (const skus of products.values()) {
        for (const plan of skus.values()) {
          if (plan.known.length > 1 && plan.known.some((w) => !plan.slots.has(w))) incomplete.push(plan)
        }
      }
      if (incomplete.length > 0) {
        const current = new Map<string, number>()
        for (let at = 0; at < incomplete.length; at += inventorySearchBatch) {
          const chunk = incomplete.slice(at, at + inventorySearchBatch)
          const data = yield* client.call({
            method: "POST",
            path: client.path("inventorySearch"),
            shopScoped: true,
            body: { sku_ids: chunk.map((p) => p.skuId) },
            data: Wire.InventorySearchData
          })
          for (const product of data.inventory ?? []) {
            for (const sku of product.skus ?? []) {
              for (const w of sku.warehouse_inventory ?? []) {
                current.set(`${sku.id}/${w.warehouse_id}`, w.available_quantity ?? 0)
              }
            }
          }
        }
        for (const plan of incomplete) {
          for (const w of plan.known) {
            if (plan.slots.has(w)) continue
            const quantity = current.get(`${plan.skuId}/${w}`)
            if (quantity === undefined) {
              for (const slot of plan.slots.values()) {
                for (const i of slot.indices) {
                  reject(
                    i,
                    "warehouse_unknown",
                    `${updates[i]!.externalSku}: TikTok reports no stock for warehouse ${w}; pull the catalog again`
                  )
                }
              }
              plan.slots.clear()
              break
            }
            plan.slots.set(w, { quantity, indices: [] })
          }
        }
      }

      const now = yield* client.now
      const backoff = Duration.millis(client.config.rateLimitBackoffMs)
      for (const [productId, skus] of products) {
        const plans = [...skus.values()].filter((p) => p.slots.size > 0)
        if (plans.length === 0) continue
        const body = {
          skus: plans.map((p) => ({
            id: p.skuId,
            inventory: [...p.slots].map(([warehouse, slot]) =>
              warehouse === "" ? { quantity: slot.quantity } : { warehouse_id: warehouse, quantity: slot.quantity }
            )
          }))
        }
        const outcome = yield* Effect.either(
          client.call({
            method: "POST",
            path: client.path("inventoryUpdate", productId),
            shopScoped: true,
            body,
            data: Wire.InventoryUpdateData
          })
        )
        if (Either.isLeft(outcome)) {
          if (connectionLevel.has(outcome.left._tag)) return yield* Effect.fail(outcome.left)
          for (const p of plans)
            for (const slot of p.slots.values()) for (const i of slot.indices) fail(i, outcome.left)
          continue
        }
        const bySku = new Map<string, Errors.ConnectorError>()
        const byWarehouse = new Map<string, Errors.ConnectorError>()
        let productWide: Errors.ConnectorError | undefined
        for (const e of outcome.right.errors ?? []) {
          const toError = (code: number, message: string) =>
            TikTokShopError.fromFailure({ code, message, httpStatus: 200, connection }, now, backoff)
          const skuId = e.detail?.sku_id
          const extra = e.detail?.extra_errors ?? []
          if (skuId === undefined) {
            productWide = toError(e.code, e.message ?? "update failed")
            continue
          }
          const warehouseErrors = extra.filter((x) => x.warehouse_id !== undefined)
          if (warehouseErrors.length === 0) bySku.set(skuId, toError(e.code, e.message ?? "update failed"))
          for (const x of warehouseErrors) {
            byWarehouse.set(
              `${skuId}/${x.warehouse_id}`,
              toError(x.code ?? e.code, [e.message, x.message].filter(Boolean).join(": ") || "update failed")
            )
          }
        }
        for (const p of plans) {
          // A failure in one warehouse fails the SKU's whole update: whether TikTok applied the other
          // warehouses is not documented, and resending an absolute quantity is harmless.
          const skuError =
            bySku.get(p.skuId) ?? [...p.slots.keys()].map((w) => byWarehouse.get(`${p.skuId}/${w}`)).find(Boolean)
          for (const [warehouse, slot] of p.slots) {
            const error = productWide ?? byWarehouse.get(`${p.skuId}/${warehouse}`) ?? skuError
            for (const i of slot.indices) {
              const u = updates[i]!
              if (error !== undefined) fail(i, error)
              else results[i] = { _tag: "Applied", externalSku: u.externalSku, location: u.location }
            }
          }
        }
      }
      return results.map(
        (r, i) =>
          r ?? {
            _tag: "Failed" as const,
            externalSku: updates[i]!.externalSku,
            location: updates[i]!.location,
            error: new Errors.Transient({ connection, message: "the update was not sent" })
          }
      )
    })

  return { push }
}
