/**
 * FourPxConnector: the 4PX (递四方) logistics connector — its manifest, `make` (one instance per 4PX
 * account connection) and layers. This is all the runner needs.
 *
 * Capabilities: `shipment.create` (parcels, labels, cancellation, logistics products) and
 * `tracking.pull`. The manifest declares `oauth2` because software-vendor apps authorize through
 * 4PX's OAuth pages and the contract needs the `auth` service for them; `authFor` tells the runner
 * which kind each connection uses: a direct customer sets `auth.mode: apiKey` (the default), no
 * token is read or sent and the connection works with its AppKey/AppSecret alone.
 *
 * Scopes are the FOP methods each capability calls: a FOP app must have each of them enabled in
 * the console (otherwise `000016`, `ScopeMissing`). The platform publishes no numeric rate limit;
 * its `000017` answer says "retry in one minute", which the connector reports as `RateLimited`.
 *
 * @since 0.1.0
 */
import { Connector } from "@tkbridge/core"
import type { Layer } from "effect"
import { Context, Effect } from "effect"
import * as FourPxAuth from "./FourPxAuth.ts"
import * as FourPxClient from "./FourPxClient.ts"
import { defaultVersions, FourPxConfig } from "./FourPxConfig.ts"
import * as FourPxShipment from "./FourPxShipment.ts"
import * as FourPxTracking from "./FourPxTracking.ts"

/** The capabilities the connector provides. */
export type FourPxCapability = "shipment.create" | "tracking.pull"

/** The connector's manifest. */
export const manifest: Connector.Manifest<FourPxCapability, FourPxConfig> = {
  id: "4px",
  displayName: "4PX (递四方)",
  apiVersion: `FOP router/api/service: ${Object.entries(defaultVersions)
    .map(([m, v]) => `${m} ${v}`)
    .join(", ")}`,
  capabilities: ["shipment.create", "tracking.pull"],
  auth: { kind: "oauth2" },
  authFor: (config) => (config.auth.mode === "oauth" ? { kind: "oauth2" } : { kind: "apiKey" }),
  scopes: {
    "shipment.create": [
      "ds.xms.order.create",
      "ds.xms.order.get",
      "ds.xms.order.cancel",
      "ds.xms.label.get",
      "ds.xms.logistics_product.getlist"
    ],
    "tracking.pull": ["tr.order.tracking.get"]
  },
  // No numeric quota is published; 000017 / DS000006 carry the wait.
  limits: {},
  config: FourPxConfig,
  docs: "https://github.com/tkbridge/tkbridge/tree/main/packages/connectors/4px#readme"
}

/** The services of one 4PX connection. */
export type FourPxServices = Connector.Services<FourPxCapability>

const build = (
  config: FourPxConfig
): Effect.Effect<
  { readonly services: FourPxServices; readonly client: FourPxClient.FourPxClientShape },
  never,
  Connector.LayerContext
> =>
  Effect.gen(function* () {
    const client = yield* FourPxClient.make(config)
    const services: FourPxServices = {
      "shipment.create": FourPxShipment.make(client),
      "tracking.pull": FourPxTracking.make(client),
      auth: FourPxAuth.make(client)
    }
    return { services, client }
  })

/** The connector: manifest plus `make(config)` for one 4PX account. */
export const connector: Connector.Connector<FourPxCapability, FourPxConfig> = Connector.defineConnector({
  manifest,
  make: (config) => Effect.map(build(config), (b) => b.services)
})

/** Makes the services of one connection. */
export const make = connector.make

/** The services of a 4PX connection, as a service. */
export class FourPx extends Context.Tag("@tkbridge/connector-4px/FourPx")<FourPx, FourPxServices>() {}

/** Provides the connection's services and the vendor client (for methods beyond the contract). */
export const layer = (
  config: FourPxConfig
): Layer.Layer<FourPx | FourPxClient.FourPxClient, never, Connector.LayerContext> =>
  Connector.layerServices(FourPx, FourPxClient.FourPxClient, build(config))

/** Decodes a config as written in YAML/JSON, then provides as `layer`. */
export const layerConfig: (
  input: unknown
) => Layer.Layer<FourPx | FourPxClient.FourPxClient, Connector.ConnectorConfigError, Connector.LayerContext> =
  Connector.layerFromConfig(manifest, layer)
