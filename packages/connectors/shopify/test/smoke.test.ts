import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { AccessToken, Connector } from "@tkbridge/core"
import { Effect, Layer, Schema } from "effect"
import { ShopifyConfig, ShopifyConnector } from "../src/index.ts"
import { ShopifySandbox } from "../src/sandbox/index.ts"

describe("smoke", () => {
  it.live("works", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const config = yield* Schema.decodeUnknown(ShopifyConfig.ShopifyConfig)(sandbox.config())
      const token = sandbox.issueToken()
      const ctx = yield* Layer.build(
          Layer.mergeAll(
            NodeHttpClient.layerUndici,
            Layer.succeed(AccessToken.AccessToken, AccessToken.fixed(token)),
            Layer.succeed(Connector.ConnectionContext, { connection: "shop-a" })
          )
        )
      const services = yield* ShopifyConnector.make(config).pipe(Effect.provide(ctx))
      sandbox.seedSkus([{ sku: "A-1", quantity: 5 }, { sku: "B-2", quantity: 7 }])
      const page = yield* services["catalog.pull"].list({})
      console.log(JSON.stringify(page))
      const results = yield* services["stock.push"].push(page.items.map((l, i) => ({ externalSku: l.externalSku, externalIds: l.externalIds, quantity: 10 + i, idempotencyKey: `k${i}`, expected: l.quantity })))
      console.log(JSON.stringify(results))
      console.log(sandbox.available("A-1"), sandbox.available("B-2"))
      const pull = yield* services["stock.pull"].list({})
      console.log(JSON.stringify(pull))
      const locs = yield* services["locations.pull"].list
      console.log(JSON.stringify(locs))
      const orderId = sandbox.placeOrder({ lines: [{ sku: "A-1", quantity: 2 }] })
      const orders = yield* services["orders.pull"].list({ updatedSince: new Date(Date.now() - 60000) })
      console.log(JSON.stringify(orders))
      const shipped = yield* services["fulfillment.push"].ship({ orderId, carrier: "4PX", trackingNumber: "TN1", idempotencyKey: "s1" })
      console.log(JSON.stringify(shipped), JSON.stringify(sandbox.fulfillments(orderId)))
      const again = yield* services["fulfillment.push"].ship({ orderId, carrier: "4PX", trackingNumber: "TN1", idempotencyKey: "s1" })
      console.log(JSON.stringify(again))
      expect(1).toBe(1)
    }).pipe(Effect.scoped)
  )
})
