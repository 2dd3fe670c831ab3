/**
 * ShopifyConnector: the Shopify connector — its manifest, `make` (one instance per shop
 * connection) and layers. This is all the runner needs.
 *
 * Capabilities: `catalog.pull`, `stock.push`, `stock.pull`, `orders.pull`, `orders.webhook`,
 * `fulfillment.push`, `locations.pull`; auth is OAuth 2 (authorization code, expiring offline
 * tokens). GraphQL Admin API pinned to 2026-10 (configurable).
 *
 * @since 0.1.0
 */
import { Connector } from "@tkbridge/core"
import type { Layer } from "effect"
import { Context, Effect, Option } from "effect"
import * as ShopifyAuth from "./ShopifyAuth.ts"
import * as ShopifyCatalog from "./ShopifyCatalog.ts"
import * as ShopifyClient from "./ShopifyClient.ts"
import { defaultApiVersion, ShopifyConfig } from "./ShopifyConfig.ts"
import * as ShopifyFulfillment from "./ShopifyFulfillment.ts"
import * as ShopifyLocations from "./ShopifyLocations.ts"
import * as ShopifyOrders from "./ShopifyOrders.ts"
import * as ShopifyStock from "./ShopifyStock.ts"
import * as ShopifyWebhook from "./ShopifyWebhook.ts"

/** The capabilities the connector provides. */
export type ShopifyCapability =
  | "catalog.pull"
  | "stock.push"
  | "stock.pull"
  | "orders.pull"
  | "orders.webhook"
  | "fulfillment.push"
  | "locations.pull"

/** The connector's manifest. */
export const manifest: Connector.Manifest<ShopifyCapability, ShopifyConfig> = {
  id: "shopify",
  displayName: "Shopify",
  apiVersion: defaultApiVersion,
  capabilities: [
    "catalog.pull",
    "stock.push",
    "stock.pull",
    "orders.pull",
    "orders.webhook",
    "fulfillment.push",
    "locations.pull"
  ],
  auth: { kind: "oauth2" },
  scopes: ShopifyAuth.capabilityScopes,
  limits: {
    // Standard plan: the cost bucket restores 100 points/s; a typical call costs 10–900 points.
    // The client paces by the bucket itself; this is the engine's coarse ceiling.
    requestsPerSecond: 10,
    stockPushBatch: ShopifyStock.maxBatch,
    webhookAckMs: 5_000,
    webhookMaxBytes: 5 * 1024 * 1024
  },
  stock: { idempotencyKeys: true, compareAndSet: true, multiLocation: true },
  webhookTopics: ShopifyWebhook.handledTopics,
  config: ShopifyConfig,
  docs: "https://github.com/tkbridge/tkbridge/tree/main/packages/connectors/shopify#readme"
}

/** The services of one Shopify connection. */
export type ShopifyServices = Connector.Services<ShopifyCapability> & { readonly auth: ShopifyAuth.ShopifyAuthShape }

const build = (
  config: ShopifyConfig
): Effect.Effect<
  { readonly services: ShopifyServices; readonly client: ShopifyClient.ShopifyClientShape },
  never,
  Connector.LayerContext
> =>
  Effect.gen(function* () {
    const context = yield* Effect.serviceOption(Connector.ConnectionContext)
    const connection = Option.match(context, { onNone: () => "shopify", onSome: (c) => c.connection })
    const client = yield* ShopifyClient.make(config)
    const services: ShopifyServices = {
      "catalog.pull": ShopifyCatalog.make(client),
      "stock.push": ShopifyStock.makePush(client, connection),
      "stock.pull": ShopifyStock.makePull(client),
      "orders.pull": ShopifyOrders.make(client, connection),
      "orders.webhook": ShopifyWebhook.make(config, connection),
      "fulfillment.push": ShopifyFulfillment.make(client, connection),
      "locations.pull": ShopifyLocations.make(client, connection),
      auth: ShopifyAuth.make(client)
    }
    return { services, client }
  })

/** The connector: manifest plus `make(config)` for one shop connection. */
export const connector: Connector.Connector<ShopifyCapability, ShopifyConfig> = Connector.defineConnector({
  manifest,
  make: (config) => Effect.map(build(config), (b) => b.services)
})

/** Makes the services of one connection. */
export const make = connector.make

/** The services of a Shopify connection, as a service. */
export class Shopify extends Context.Tag("@tkbridge/connector-shopify/Shopify")<Shopify, ShopifyServices>() {}

/** Provides the connection's services and the GraphQL client (for calls beyond the contract). */
export const layer = (
  config: ShopifyConfig
): Layer.Layer<Shopify | ShopifyClient.ShopifyClient, never, Connector.LayerContext> =>
  Connector.layerServices(Shopify, ShopifyClient.ShopifyClient, build(config))

/** Decodes a config as written in YAML/JSON, then provides as `layer`. */
export const layerConfig: (
  input: unknown
) => Layer.Layer<Shopify | ShopifyClient.ShopifyClient, Connector.ConnectorConfigError, Connector.LayerContext> =
  Connector.layerFromConfig(manifest, layer)
