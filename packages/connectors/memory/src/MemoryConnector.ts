/**
 * MemoryConnector: the Memory connector — its manifest, `make` (one instance per connection) and
 * layers. This is all the runner needs, and the file a new connector starts from.
 *
 * The Memory platform is tkbridge's reference platform: it runs in-process as a sandbox
 * (`@tkbridge/connector-memory/sandbox`) and speaks real HTTP, so this connector exercises every
 * capability of the contract end to end — OAuth 2 with rotating refresh tokens, stock writes with
 * idempotency keys and compare-and-set per location, cursor-paged orders and after-sales,
 * fulfilments, parcels with labels and tracking, and HMAC-signed webhooks.
 *
 * @since 0.1.0
 */
import { Connector } from "@tkbridge/core"
import { Context, Effect, Layer } from "effect"
import * as MemoryAftersales from "./MemoryAftersales.ts"
import * as MemoryAuth from "./MemoryAuth.ts"
import * as MemoryCatalog from "./MemoryCatalog.ts"
import * as MemoryClient from "./MemoryClient.ts"
import { MemoryConfig } from "./MemoryConfig.ts"
import * as MemoryFulfillment from "./MemoryFulfillment.ts"
import * as MemoryLogistics from "./MemoryLogistics.ts"
import * as MemoryOrders from "./MemoryOrders.ts"
import * as MemoryStock from "./MemoryStock.ts"
import * as MemoryWebhook from "./MemoryWebhook.ts"

/** The capabilities the connector provides: all of them. */
export type MemoryCapability = Connector.Capability

/** The platform's OAuth scopes. */
export const scopes = {
  locations: "locations:read",
  catalog: "catalog:read",
  inventoryRead: "inventory:read",
  inventoryWrite: "inventory:write",
  orders: "orders:read",
  fulfillments: "fulfillments:write",
  shipping: "shipping:write",
  tracking: "shipping:read",
  aftersales: "aftersales:read"
} as const

/** The connector's manifest. */
export const manifest: Connector.Manifest<MemoryCapability, MemoryConfig> = {
  id: "memory",
  displayName: "Memory (reference platform)",
  apiVersion: "v1",
  capabilities: [
    "orders.pull",
    "orders.webhook",
    "stock.push",
    "stock.pull",
    "fulfillment.push",
    "shipment.create",
    "tracking.pull",
    "aftersales.pull",
    "aftersales.webhook",
    "catalog.pull",
    "locations.pull"
  ],
  auth: { kind: "oauth2" },
  scopes: {
    "orders.pull": [scopes.orders],
    "orders.webhook": [scopes.orders],
    "stock.push": [scopes.inventoryWrite],
    "stock.pull": [scopes.inventoryRead],
    // The read-back after a "tracking number already on the order" refusal reads the order.
    "fulfillment.push": [scopes.fulfillments, scopes.orders],
    "shipment.create": [scopes.shipping],
    "tracking.pull": [scopes.tracking],
    "aftersales.pull": [scopes.aftersales],
    "aftersales.webhook": [scopes.aftersales],
    "catalog.pull": [scopes.catalog],
    "locations.pull": [scopes.locations]
  },
  limits: {
    // A token bucket per access token: 20 per second, bursts of 40.
    requestsPerSecond: 20,
    stockPushBatch: MemoryStock.batchLimit,
    webhookAckMs: 5_000,
    webhookMaxBytes: 1024 * 1024
  },
  stock: { idempotencyKeys: true, compareAndSet: true, multiLocation: true },
  webhookTopics: MemoryWebhook.topics,
  config: MemoryConfig,
  docs: "https://github.com/tkbridge/tkbridge/tree/main/packages/connectors/memory#readme"
}

/** The services of one Memory connection. */
export type MemoryServices = Connector.Services<MemoryCapability>

/** The connector: manifest plus `make(config)` for one connection. */
export const connector: Connector.Connector<MemoryCapability, MemoryConfig> = Connector.defineConnector({
  manifest,
  make: (config) =>
    Effect.gen(function* () {
      const client = yield* MemoryClient.make(config)
      const receiver = MemoryWebhook.make(config, client.connection)
      return {
        "orders.pull": MemoryOrders.make(client),
        "orders.webhook": receiver,
        "stock.push": MemoryStock.makePush(client),
        "stock.pull": MemoryStock.makePull(client),
        "fulfillment.push": MemoryFulfillment.make(client),
        "shipment.create": MemoryLogistics.makeShipments(client),
        "tracking.pull": MemoryLogistics.makeTracking(client),
        "aftersales.pull": MemoryAftersales.make(client),
        "aftersales.webhook": receiver,
        "catalog.pull": MemoryCatalog.makeCatalog(client),
        "locations.pull": MemoryCatalog.makeLocations(client),
        auth: MemoryAuth.make(client, Connector.requiredScopes(manifest))
      } satisfies MemoryServices
    })
})

/** Makes the services of one connection. */
export const make = connector.make

/** The services of a Memory connection, as a service. */
export class Memory extends Context.Tag("@tkbridge/connector-memory/Memory")<Memory, MemoryServices>() {}

/** Provides the connection's services and the vendor client (for endpoints beyond the contract). */
export const layer = (
  config: MemoryConfig
): Layer.Layer<Memory | MemoryClient.MemoryClient, Connector.ConnectorConfigError, Connector.LayerContext> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const services = yield* make(config)
      const client = yield* MemoryClient.make(config)
      return Context.make(Memory, services).pipe(Context.add(MemoryClient.MemoryClient, client))
    })
  )

/** Decodes a config as written in YAML/JSON, then provides as `layer`. */
export const layerConfig: (
  input: unknown
) => Layer.Layer<Memory | MemoryClient.MemoryClient, Connector.ConnectorConfigError, Connector.LayerContext> =
  Connector.layerFromConfig(manifest, layer)
