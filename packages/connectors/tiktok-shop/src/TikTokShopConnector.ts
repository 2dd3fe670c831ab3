/**
 * TikTokShopConnector: the TikTok Shop connector — its manifest, `make` (one instance per shop
 * connection) and layers. This is all the runner needs.
 *
 * Capabilities: `orders.pull`, `orders.webhook`, `aftersales.webhook`, `stock.push`,
 * `catalog.pull`, `fulfillment.push`, `aftersales.pull`; auth is OAuth 2-like (`auth`). The API
 * line is 202309, with per-endpoint versions configurable.
 *
 * @since 0.1.0
 */
import { Connector } from "@tkbridge/core"
import type { Layer } from "effect"
import { Context, Effect, Option } from "effect"
import * as TikTokShopAftersales from "./TikTokShopAftersales.ts"
import * as TikTokShopAuth from "./TikTokShopAuth.ts"
import * as TikTokShopCatalog from "./TikTokShopCatalog.ts"
import * as TikTokShopClient from "./TikTokShopClient.ts"
import { TikTokShopConfig } from "./TikTokShopConfig.ts"
import * as TikTokShopFulfillment from "./TikTokShopFulfillment.ts"
import * as TikTokShopOrders from "./TikTokShopOrders.ts"
import * as TikTokShopStock from "./TikTokShopStock.ts"
import * as TikTokShopWebhook from "./TikTokShopWebhook.ts"

/** The capabilities the connector provides. */
export type TikTokShopCapability =
  | "orders.pull"
  | "orders.webhook"
  | "aftersales.webhook"
  | "stock.push"
  | "catalog.pull"
  | "fulfillment.push"
  | "aftersales.pull"

/**
 * Scope (API package) names as Partner Center shows them. `Fulfillment Basic` is inferred: the
 * reference names no package for the fulfilment endpoints.
 */
export const scopes = {
  orders: "Order Information",
  productRead: "Product Basic",
  productWrite: "Product Modify",
  logistics: "Logistics Basic",
  fulfillment: "Fulfillment Basic",
  aftersales: "Return & Refund Basic"
} as const

/** The connector's manifest. */
export const manifest: Connector.Manifest<TikTokShopCapability, TikTokShopConfig> = {
  id: "tiktok-shop",
  displayName: "TikTok Shop",
  apiVersion: "202309",
  capabilities: [
    "orders.pull",
    "orders.webhook",
    "aftersales.webhook",
    "stock.push",
    "catalog.pull",
    "fulfillment.push",
    "aftersales.pull"
  ],
  auth: { kind: "oauth2" },
  scopes: {
    "orders.pull": [scopes.orders],
    // TikTok pushes a topic only to apps holding the matching package.
    "orders.webhook": [scopes.orders],
    "aftersales.webhook": [scopes.aftersales],
    // Update Inventory, plus Inventory Search to keep unnamed warehouses of multi-warehouse SKUs.
    "stock.push": [scopes.productWrite, scopes.productRead],
    "catalog.pull": [scopes.productRead],
    // Mark Package As Shipped, Get Order Detail (replay check) and Get Shipping Providers (carrier lookup).
    "fulfillment.push": [scopes.fulfillment, scopes.orders, scopes.logistics],
    "aftersales.pull": [scopes.aftersales]
  },
  limits: {
    // 50 QPS per API per (app, shop); one connection is one shop.
    requestsPerSecond: 50,
    // One Update Inventory call per product in the batch: at most one second of TikTok's per-API budget.
    stockPushBatch: 50,
    webhookAckMs: 3_000,
    webhookMaxBytes: 1024 * 1024
  },
  // No idempotency keys and no compare-and-set; absolute sets make a replay harmless.
  stock: { idempotencyKeys: false, compareAndSet: false, multiLocation: true },
  webhookTopics: TikTokShopWebhook.handledTopics,
  config: TikTokShopConfig,
  docs: "https://github.com/tkbridge/tkbridge/tree/main/packages/connectors/tiktok-shop#readme"
}

/** The services of one TikTok Shop connection. */
export type TikTokShopServices = Connector.Services<TikTokShopCapability>

const build = (
  config: TikTokShopConfig
): Effect.Effect<
  { readonly services: TikTokShopServices; readonly client: TikTokShopClient.TikTokShopClientShape },
  never,
  Connector.LayerContext
> =>
  Effect.gen(function* () {
    const context = yield* Effect.serviceOption(Connector.ConnectionContext)
    const connection = Option.match(context, { onNone: () => "tiktok-shop", onSome: (c) => c.connection })
    const client = yield* TikTokShopClient.make(config)
    const receiver = TikTokShopWebhook.make(config)
    const services: TikTokShopServices = {
      "orders.pull": TikTokShopOrders.make(client, connection),
      "orders.webhook": receiver,
      "aftersales.webhook": receiver,
      "stock.push": TikTokShopStock.make(client, connection),
      "catalog.pull": TikTokShopCatalog.make(client),
      "fulfillment.push": TikTokShopFulfillment.make(client, connection),
      "aftersales.pull": TikTokShopAftersales.make(client, connection),
      auth: TikTokShopAuth.make(client)
    }
    return { services, client }
  })

/** The connector: manifest plus `make(config)` for one shop connection. */
export const connector: Connector.Connector<TikTokShopCapability, TikTokShopConfig> = Connector.defineConnector({
  manifest,
  make: (config) => Effect.map(build(config), (b) => b.services)
})

/** Makes the services of one connection. */
export const make = connector.make

/** The services of a TikTok Shop connection, as a service. */
export class TikTokShop extends Context.Tag("@tkbridge/connector-tiktok-shop/TikTokShop")<
  TikTokShop,
  TikTokShopServices
>() {}

/** Provides the connection's services and the vendor client (for endpoints beyond the contract). */
export const layer = (
  config: TikTokShopConfig
): Layer.Layer<TikTokShop | TikTokShopClient.TikTokShopClient, never, Connector.LayerContext> =>
  Connector.layerServices(TikTokShop, TikTokShopClient.TikTokShopClient, build(config))

/** Decodes a config as written in YAML/JSON, then provides as `layer`. */
export const layerConfig: (
  input: unknown
) => Layer.Layer<
  TikTokShop | TikTokShopClient.TikTokShopClient,
  Connector.ConnectorConfigError,
  Connector.LayerContext
> = Connector.layerFromConfig(manifest, layer)
