/**
 * MemoryFakeChannel: the Memory sandbox as a connector-testkit `FakeChannel` — the probes the
 * conformance suites use to seed the platform and read back what it holds, without going through
 * the connector.
 *
 * @since 0.1.0
 */
import { FakeChannel } from "@tkbridge/connector-testkit"
import type { Webhook } from "@tkbridge/core"
import { AccessToken } from "@tkbridge/core"
import { Effect, Layer, Redacted } from "effect"
import type { BuiltDelivery, MemorySandbox, MemorySandboxOptions } from "./MemorySandbox.ts"
import { scoped, signatureHeader } from "./MemorySandbox.ts"
import { renderAfterSale, renderOrder } from "./MemorySandboxApi.ts"

/** The sandbox route of each capability's main call (the error suite injects faults there). */
export const routes: FakeChannel.FakeChannelShape["routes"] = {
  "stock.push": "inventory.set",
  "stock.pull": "inventory.list",
  "locations.pull": "locations.list",
  "catalog.pull": "skus.list",
  "orders.pull": "orders.list",
  "aftersales.pull": "aftersales.list",
  "fulfillment.push": "fulfillments.create",
  "shipment.create": "parcels.create",
  "tracking.pull": "tracking.list"
}

const toRequest = (delivery: BuiltDelivery): Webhook.WebhookRequest => ({
  method: "POST",
  url: "/webhooks/memory",
  headers: delivery.headers,
  rawBody: new TextEncoder().encode(delivery.body)
})

/** A grant as a core `TokenSet`. */
export const tokenSetOf = (sandbox: MemorySandbox): AccessToken.TokenSet => {
  const grant = sandbox.issueGrant()
  return new AccessToken.TokenSet({
    accessToken: Redacted.make(grant.accessToken),
    refreshToken: Redacted.make(grant.refreshToken),
    expiresAt: new Date(grant.expiresAt),
    refreshExpiresAt: new Date(grant.refreshExpiresAt),
    issuedAt: new Date(grant.issuedAt),
    scopes: grant.scopes
  })
}

/** Probes over a running sandbox. */
export const fakeOf = (sandbox: MemorySandbox): FakeChannel.FakeChannelShape => {
  let serial = 0
  const nextSku = () => `MEM-${String(++serial).padStart(5, "0")}`

  /** A SKU with plenty of stock, and a paid order for it. */
  const paidOrder = (at?: number) => {
    const sku = nextSku()
    sandbox.seedItems([{ sku, stock: 1_000 }])
    return sandbox.placeOrder({ lines: [{ sku, quantity: 1 }], at, notify: false })
  }

  const orderDelivery = (secret?: string) =>
    toRequest(sandbox.buildDelivery("orders/created", { order: renderOrder(sandbox.order(paidOrder())) }, secret))

  return {
    sandbox: sandbox.server,
    routes,
    stock: {
      seed: (skus) =>
        Effect.sync(() =>
          skus.map((s) => {
            sandbox.seedItems([{ sku: s.externalSku, stock: s.quantity }])
            const record = sandbox.world.sku(s.externalSku)
            return {
              externalSku: s.externalSku,
              externalIds: { product_id: record.productId, variant_id: record.variantId },
              title: record.title,
              quantity: s.quantity
            }
          })
        ),
      quantity: (sku, location) => Effect.sync(() => sandbox.stock(sku, location)),
      appliedWrites: (sku) => Effect.sync(() => sandbox.world.skus.get(sku)?.writes ?? 0),
      setExternally: (sku, quantity, location) => Effect.sync(() => sandbox.setStock(sku, quantity, location)),
      location: sandbox.world.defaultLocation.id
    },
    orders: {
      seed: (count) =>
        Effect.sync(() => {
          const now = sandbox.clock.now()
          return Array.from({ length: count }, (_, i) => paidOrder(now - (count - i) * 1000))
        })
    },
    aftersales: {
      seed: (count) =>
        Effect.sync(() => {
          const now = sandbox.clock.now()
          return Array.from({ length: count }, (_, i) =>
            sandbox.requestAfterSale({
              orderId: paidOrder(),
              kind: i % 3 === 0 ? "cancellation" : i % 3 === 1 ? "return" : "refund",
              at: now - (count - i) * 1000,
              notify: false
            })
          )
        })
    },
    catalog: {
      seed: (count) =>
        Effect.sync(() => {
          const skus = Array.from({ length: count }, () => nextSku())
          sandbox.seedItems(skus.map((sku) => ({ sku, stock: 5 })))
          return skus
        })
    },
    webhooks: {
      delivery: () => Effect.sync(() => orderDelivery()),
      deliverySignedWith: (secret) => Effect.sync(() => orderDelivery(secret)),
      afterSaleDelivery: () =>
        Effect.sync(() => {
          const id = sandbox.requestAfterSale({ orderId: paidOrder(), kind: "return", notify: false })
          return toRequest(
            sandbox.buildDelivery("aftersales/created", { aftersale: renderAfterSale(sandbox.afterSale(id)) })
          )
        }),
      signatureHeader
    },
    fulfillment: {
      seedOrder: () => Effect.sync(() => paidOrder()),
      shipments: (orderId) =>
        Effect.sync(() =>
          sandbox.fulfillments(orderId).map((f) => ({ trackingNumber: f.trackingNumber, carrier: f.carrier }))
        ),
      carrier: "4PX"
    },
    logistics: {
      parcels: (reference) => Effect.sync(() => sandbox.parcels(reference).length),
      progress: (reference) => Effect.sync(() => sandbox.progressParcel(reference))
    },
    tokens: {
      issue: () => Effect.sync(() => tokenSetOf(sandbox)),
      refreshes: () => Effect.sync(() => sandbox.refreshCount())
    }
  }
}

/** A `FakeChannel` layer: starts a sandbox for the scope and exposes its probes. */
export const layer = (options: MemorySandboxOptions = {}): Layer.Layer<FakeChannel.FakeChannel> =>
  Layer.scoped(FakeChannel.FakeChannel, Effect.map(scoped(options), fakeOf))
