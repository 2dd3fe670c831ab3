/**
 * The connector contract's guard rails: `defineConnector` refuses a manifest that cannot be right,
 * and refuses an instance that provides fewer or more capabilities than its manifest claims.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import { Effect, Layer, Redacted, Schema } from "effect"

type Claimed = "orders.pull" | "stock.push"

const orders: Connector.OrdersPull = {
  list: () => Effect.succeed({ items: [] }),
  get: (id) => Effect.fail(new ConnectorError.NotFound({ message: `no order ${id}` }))
}
const stock: Connector.StockPush = { push: () => Effect.succeed([]) }
const catalog: Connector.CatalogPull = { list: () => Effect.succeed({ items: [] }) }
const auth: Connector.OAuth2 = {
  authorizeUrl: () => "https://example.com/authorize",
  exchange: () => Effect.die("not used"),
  refresh: () => Effect.die("not used")
}

const manifest: Connector.Manifest<Claimed, object> = {
  id: "example",
  displayName: "Example",
  apiVersion: "2026-01",
  capabilities: ["orders.pull", "stock.push"],
  auth: { kind: "apiKey" },
  scopes: { "orders.pull": ["orders:read"], "stock.push": ["inventory:write", "orders:read"] },
  limits: { stockPushBatch: 10 },
  stock: { idempotencyKeys: false, compareAndSet: false, multiLocation: false },
  config: Schema.Struct({})
}

/** What `make` may use. */
const makeContext = Layer.mergeAll(
  NodeHttpClient.layerUndici,
  Layer.succeed(Connector.ConnectionContext, { connection: "example-1" }),
  Layer.succeed(
    AccessToken.AccessToken,
    AccessToken.fixed(new AccessToken.TokenSet({ accessToken: Redacted.make("token-value-1") }))
  )
)

/** Makes an instance of a connector whose `make` returns `services`. */
const instance = (services: object, overrides: Partial<Connector.Manifest<Claimed, object>> = {}) =>
  Connector.defineConnector({
    manifest: { ...manifest, ...overrides },
    make: () => Effect.succeed(services as Connector.Services<Claimed>)
  })
    .make({})
    .pipe(Effect.scoped, Effect.provide(makeContext))

describe("defineConnector", () => {
  it.effect("accepts a complete manifest and an instance providing exactly what it claims", () =>
    Effect.gen(function* () {
      const services = yield* instance({ "orders.pull": orders, "stock.push": stock })
      expect(Object.keys(services).sort()).toEqual(["orders.pull", "stock.push"])
    })
  )

  it.each([
    [{ id: "Example_Connector" }, /"Example_Connector" must be kebab-case/],
    [{ capabilities: [] }, /claims no capability/],
    [{ capabilities: ["orders.pull", "stock.teleport"] }, /claims unknown capability "stock.teleport"/],
    [{ capabilities: ["orders.pull"] }, /lists scopes for "stock.push", which it does not claim/],
    [{ stock: undefined }, /claims stock.push but does not describe its stock features/]
  ] as const)("refuses the manifest override %j", (override, message) => {
    expect(() =>
      Connector.defineConnector({
        manifest: { ...manifest, ...override } as Connector.Manifest<Claimed, object>,
        make: () => Effect.succeed({ "orders.pull": orders, "stock.push": stock })
      })
    ).toThrow(message)
  })

  it.effect("refuses an instance that provides fewer capabilities than it claims, naming them", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(instance({ "orders.pull": orders }))
      expect(error._tag).toBe("ConnectorConfigError")
      expect(error.connector).toBe("example")
      expect(error.message).toBe("claims stock.push but provides no implementation")
      const undefinedService = yield* Effect.flip(instance({ "orders.pull": orders, "stock.push": undefined }))
      expect(undefinedService.message).toBe("claims stock.push but provides no implementation")
    })
  )

  it.effect("refuses an instance that provides a capability it does not claim", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        instance({ "orders.pull": orders, "stock.push": stock, "catalog.pull": catalog })
      )
      expect(error.message).toBe("provides catalog.pull without claiming it in the manifest")
    })
  )

  it.effect("refuses an oauth2 instance without an auth service, and accepts it with one", () =>
    Effect.gen(function* () {
      const oauth = { auth: { kind: "oauth2" } } as const
      const error = yield* Effect.flip(instance({ "orders.pull": orders, "stock.push": stock }, oauth))
      expect(error.message).toBe("uses oauth2 but provides no auth service")
      const ok = yield* instance({ "orders.pull": orders, "stock.push": stock, auth }, oauth)
      expect(ok.auth).toBe(auth)
    })
  )

  it("unions and sorts the minimal scopes of the capabilities in use", () => {
    expect(Connector.requiredScopes(manifest)).toEqual(["inventory:write", "orders:read"])
    expect(Connector.requiredScopes(manifest, ["orders.pull"])).toEqual(["orders:read"])
  })
})
