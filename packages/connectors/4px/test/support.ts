/**
 * Test support: a 4PX connector instance wired to a running sandbox over real HTTP, domain orders
 * and parcel requests that pass 4PX's validation, and (for OAuth) a token provider that refreshes
 * through the connector's own `auth.refresh` against the sandbox's token endpoint, single-flight
 * like the engine's.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { FourPxClient, FourPxConfig, FourPxConnector } from "@tkbridge/connector-4px"
import type { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { SandboxOAuth } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { AccessToken, Address, Connector as ConnectorModule, Order } from "@tkbridge/core"
import { Effect, Layer, Schema } from "effect"

/** HTTP for tests: real sockets. */
export const http = NodeHttpClient.layerUndici

/** The decoded connector config for a sandbox, with overrides. */
export const configFor = (
  sandbox: FourPxSandbox.FourPxSandbox,
  overrides: Partial<FourPxConfig.FourPxConfigInput> = {}
): FourPxConfig.FourPxConfig => Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)(sandbox.connectorConfig(overrides))

/** A connector instance for a sandbox: its services, the raw client and (oauth) the token ref. */
export const connect = (
  sandbox: FourPxSandbox.FourPxSandbox,
  options: {
    readonly config?: Partial<FourPxConfig.FourPxConfigInput>
    readonly token?: AccessToken.TokenSet
    readonly connection?: string
  } = {}
) =>
  Effect.gen(function* () {
    // The HTTP client lives as long as the test's scope, not just while connecting.
    const httpContext = yield* Layer.build(http)
    const config = configFor(sandbox, options.config)
    const client = yield* FourPxClient.make(config).pipe(
      Effect.provideService(ConnectorModule.ConnectionContext, { connection: options.connection ?? "4px-main" }),
      Effect.provide(httpContext)
    )
    const auth = (yield* FourPxConnector.make(config).pipe(
      Effect.provideService(AccessToken.AccessToken, AccessToken.fixed(sandbox.issueTokenSet())),
      Effect.provideService(ConnectorModule.ConnectionContext, { connection: options.connection ?? "4px-main" }),
      Effect.provide(httpContext)
    )).auth!
    const { provider, current } = yield* SandboxOAuth.refreshingProvider(options.token ?? sandbox.issueTokenSet(), auth)
    const services = yield* FourPxConnector.make(config).pipe(
      Effect.provideService(AccessToken.AccessToken, provider),
      Effect.provideService(ConnectorModule.ConnectionContext, { connection: options.connection ?? "4px-main" }),
      Effect.provide(httpContext)
    )
    return { services, client, config, current, auth }
  })

/** A GB address that passes 4PX's recipient rules. */
export const gbAddress = (overrides: Partial<typeof Address.Address.Encoded> = {}): Address.Address =>
  Schema.decodeUnknownSync(Address.Address)({
    name: "Alice Walker",
    phone: "+44 20 7946 0018",
    email: "alice@example.co.uk",
    line1: "221B Baker Street",
    line2: "Flat 2",
    city: "London",
    state: "Greater London",
    postalCode: "NW1 6XE",
    country: "GB",
    ...overrides
  })

/** A domain order from a TikTok shop, ready to ship. */
export const order = (externalId = "576461413038785752"): Order.Order =>
  Schema.decodeUnknownSync(Order.Order)({
    connection: "tiktok-uk",
    externalId,
    status: "awaiting_shipment",
    lines: [
      { lineId: "1", externalSku: "MUG-RED", qty: 2, title: "Red mug", unitPrice: 1299 },
      { lineId: "2", externalSku: "TEA-GREEN", qty: 1, title: "Green tea", unitPrice: 850 }
    ],
    currency: "GBP",
    placedAt: "2026-11-20T10:00:00.000Z",
    updatedAt: "2026-11-20T10:05:00.000Z"
  })

/** A parcel request for `order()`, with two customs lines. */
export const parcelRequest = (
  reference: string,
  overrides: Partial<Connector.ParcelRequest> = {}
): Connector.ParcelRequest => ({
  reference,
  order: order(),
  shipTo: gbAddress(),
  weightGrams: 640,
  dimensionsCm: { length: 20, width: 15, height: 10 },
  declarations: [
    {
      externalSku: "MUG-RED",
      description: "Ceramic mug",
      descriptionLocal: "陶瓷杯",
      qty: 2,
      unitValue: 1299,
      currency: "GBP",
      hsCode: "6912.00",
      originCountry: "CN",
      unitWeightGrams: 250
    },
    {
      externalSku: "TEA-GREEN",
      description: "Green tea",
      qty: 1,
      unitValue: 850,
      currency: "GBP",
      originCountry: "CN",
      unitWeightGrams: 100
    }
  ],
  ...overrides
})
