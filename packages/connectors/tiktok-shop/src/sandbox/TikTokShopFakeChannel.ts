/**
 * TikTokShopFakeChannel: the TikTok Shop sandbox as a connector-testkit `FakeChannel` — the probes
 * a conformance suite uses to seed the fake platform and to read back what it holds (stock per SKU
 * and warehouse, shipments, token refreshes), independently of what the connector reports.
 *
 * @since 0.1.0
 */
import { FakeChannel } from "@tkbridge/connector-testkit"
import type { Connector, Webhook } from "@tkbridge/core"
import { Effect, Layer } from "effect"
import type { TikTokShopSandbox, TikTokShopSandboxOptions } from "./TikTokShopSandbox.ts"
import { scoped } from "./TikTokShopSandbox.ts"
import * as TikTokShopSandboxWebhooks from "./TikTokShopSandboxWebhooks.ts"

/** The route each capability's main call uses (fault injection targets it). */
export const capabilityRoutes: FakeChannel.FakeChannelShape["routes"] = {
  "orders.pull": "orders.search",
  "stock.push": "inventory.update",
  "catalog.pull": "products.search",
  "fulfillment.push": "packages.mark_shipped",
  "aftersales.pull": "cancellations.search"
}

/** Probes over a running sandbox. */
export const fakeOf = (sandbox: TikTokShopSandbox): FakeChannel.FakeChannelShape => {
  let serial = 0
  const nextSku = () => `TTS-${sandbox.appKey.slice(0, 4).toUpperCase()}-${String(++serial).padStart(4, "0")}`
  const shop = sandbox.defaultShop()
  const warehouse = sandbox.warehouses(shop.id)[0]!

  const listingOf = (productId: string, skuId: string): Connector.ChannelListing => {
    const sku = sandbox.world.sku(skuId)
    const product = sandbox.world.products.get(productId)!
    const warehouses = [...sku.inventory.keys()]
    return {
      externalSku: sku.sellerSku,
      externalIds: {
        product_id: productId,
        sku_id: skuId,
        warehouse_ids: warehouses.join(","),
        seller_sku: sku.sellerSku
      },
      title: product.title,
      quantity: [...sku.inventory.values()].reduce((n, c) => n + c.available, 0)
    }
  }

  const stockedSku = () => {
    const sellerSku = nextSku()
    const { skus } = sandbox.addProduct({ title: `Seed product ${sellerSku}`, skus: [{ sellerSku, stock: 10_000 }] })
    return skus[0]!.skuId
  }

  const readyOrder = (at?: number) => {
    const orderId = sandbox.placeOrder({ lines: [{ sku: stockedSku(), qty: 1 }], ...(at !== undefined ? { at } : {}) })
    sandbox.releaseHold(orderId)
    return orderId
  }

  const request = (body: string, signature: string): Webhook.WebhookRequest => ({
    method: "POST",
    url: "/webhooks/tiktok-shop",
    headers: { "content-type": "application/json", authorization: signature },
    rawBody: new TextEncoder().encode(body)
  })

  // Signed like TikTok; with another secret for the wrong-secret check.
  const signed = (built: { readonly body: string; readonly signature: string }, secret: string) =>
    request(
      built.body,
      secret === sandbox.appSecret
        ? built.signature
        : TikTokShopSandboxWebhooks.signature(sandbox.appKey, secret, built.body)
    )

  const delivery = (secret: string): Webhook.WebhookRequest => {
    const orderId = readyOrder()
    const order = sandbox.order(orderId)
    return signed(
      sandbox.buildNotification(1, {
        order_id: orderId,
        order_status: order.status,
        is_on_hold_order: false,
        update_time: order.updateTime
      }),
      secret
    )
  }

  const afterSaleDelivery = (): Webhook.WebhookRequest => {
    const orderId = readyOrder()
    const cancelId = sandbox.cancel(orderId, { by: "BUYER" })
    const c = sandbox.cancellation(cancelId)
    return signed(
      sandbox.buildNotification(11, {
        order_id: orderId,
        cancellations_role: c.role,
        cancel_status: c.status,
        cancel_id: c.id,
        create_time: c.createTime,
        update_time: c.updateTime
      }),
      sandbox.appSecret
    )
  }

  return {
    sandbox: sandbox.api,
    servers: [sandbox.api, sandbox.authHost],
    routes: capabilityRoutes,
    stock: {
      seed: (skus) =>
        Effect.sync(() =>
          skus.map((s) => {
            const { productId, skus: created } = sandbox.addProduct({
              title: `Product ${s.externalSku}`,
              skus: [{ sellerSku: s.externalSku, stock: { [warehouse.id]: s.quantity } }]
            })
            return listingOf(productId, created[0]!.skuId)
          })
        ),
      quantity: (externalSku, location) => Effect.sync(() => sandbox.stock(externalSku, location)),
      appliedWrites: (externalSku) => Effect.sync(() => sandbox.inventoryWrites(externalSku)),
      setExternally: (externalSku, quantity, location) =>
        Effect.sync(() => sandbox.setStock(externalSku, quantity, location)),
      location: warehouse.id
    },
    orders: {
      seed: (count) =>
        Effect.sync(() => {
          const base = sandbox.clock.nowSeconds() - count
          // Left ON_HOLD (the remorse window outlasts the test), so each keeps its own update time.
          return Array.from({ length: count }, (_, i) =>
            sandbox.placeOrder({ lines: [{ sku: stockedSku(), qty: 1 }], at: base + i })
          )
        })
    },
    webhooks: {
      delivery: () => Effect.sync(() => delivery(sandbox.appSecret)),
      deliverySignedWith: (secret) => Effect.sync(() => delivery(secret)),
      signatureHeader: "authorization",
      afterSaleDelivery: () => Effect.sync(afterSaleDelivery)
    },
    fulfillment: {
      seedOrder: () => Effect.sync(() => readyOrder()),
      carrier: "4PX",
      shipments: (orderId) =>
        Effect.sync(() =>
          sandbox.shipments(orderId).map((s) => ({ trackingNumber: s.trackingNumber, carrier: s.carrier }))
        )
    },
    aftersales: {
      seed: (count) =>
        Effect.sync(() => {
          const base = sandbox.clock.nowSeconds() - count
          return Array.from({ length: count }, (_, i) => {
            if (i % 2 === 0) {
              const orderId = sandbox.placeOrder({ lines: [{ sku: stockedSku() }] })
              const id = sandbox.cancel(orderId, { by: "BUYER" })
              sandbox.cancellation(id).updateTime = base + i
              return id
            }
            const orderId = readyOrder()
            sandbox.ship(orderId, { trackingNumber: `SEED${sandbox.order(orderId).id.slice(-10)}` })
            sandbox.advance(orderId, "IN_TRANSIT")
            sandbox.advance(orderId, "DELIVERED")
            const id = sandbox.requestReturn(orderId)
            sandbox.returnRequest(id).updateTime = base + i
            return id
          })
        })
    },
    catalog: {
      seed: (count) =>
        Effect.sync(() => {
          const out: Array<string> = []
          while (out.length < count) {
            const size = Math.min(3, count - out.length)
            const skus = Array.from({ length: size }, () => ({ sellerSku: nextSku(), stock: 5 }))
            sandbox.addProduct({ title: `Catalog product ${skus[0]!.sellerSku}`, skus })
            out.push(...skus.map((s) => s.sellerSku))
          }
          return out
        })
    },
    tokens: {
      issue: () => Effect.sync(() => sandbox.issueTokenSet(shop.id)),
      refreshes: () => Effect.sync(() => sandbox.refreshCount())
    }
  }
}

/** A `FakeChannel` layer: starts a sandbox for the scope and exposes its probes. */
export const layer = (options: TikTokShopSandboxOptions = {}): Layer.Layer<FakeChannel.FakeChannel> =>
  Layer.scoped(FakeChannel.FakeChannel, Effect.map(scoped(options), fakeOf))
