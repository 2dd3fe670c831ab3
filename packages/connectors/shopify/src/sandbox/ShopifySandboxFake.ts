/**
 * ShopifySandboxFake: the sandbox as the conformance kit's `FakeChannel` — the probes read the
 * sandbox's own state (never the connector's answers) — plus the connector under test configured
 * against it.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { FakeChannel } from "@tkbridge/connector-testkit"
import type { AccessToken, Connector, Webhook } from "@tkbridge/core"
import { Effect, Layer, Schema } from "effect"
import type { ShopifyConfigInput } from "../ShopifyConfig.ts"
import { ShopifyConfig } from "../ShopifyConfig.ts"
import * as ShopifyConnector from "../ShopifyConnector.ts"
import { ids } from "../ShopifyStock.ts"
import type { ShopifySandbox, ShopifySandboxOptions } from "./ShopifySandbox.ts"
import { routes, scoped } from "./ShopifySandbox.ts"
import type { SignedWebhook } from "./ShopifySandboxWebhooks.ts"

const sandboxes = new WeakMap<object, ShopifySandbox>()

/** The Shopify sandbox behind a fake channel (from `FakeChannel.sandbox`). */
export const sandboxOf = (fake: FakeChannel.FakeChannelShape): ShopifySandbox => {
  const s = sandboxes.get(fake.sandbox)
  if (s === undefined) throw new Error("this fake channel is not a Shopify sandbox")
  return s
}

let serial = 0
const nextSku = (prefix: string) =>
  `${prefix}-${Date.now().toString(36).toUpperCase()}${(++serial).toString(36).toUpperCase()}`

/** A signed delivery as the connector's webhook edge receives it. */
export const toRequest = (signed: SignedWebhook, path = "/webhooks/shopify"): Webhook.WebhookRequest => ({
  method: "POST",
  url: path,
  headers: Object.fromEntries(
    Object.entries({ "Content-Type": "application/json", ...signed.headers }).map(([k, v]) => [k.toLowerCase(), v])
  ),
  rawBody: new TextEncoder().encode(signed.body)
})

/** The probes of a running sandbox. */
export const fakeOf = (sandbox: ShopifySandbox): FakeChannel.FakeChannelShape => {
  sandboxes.set(sandbox.server, sandbox)
  const location = sandbox.defaultLocationId()
  const listingOf = (
    sku: string,
    created: ReturnType<ShopifySandbox["addProduct"]>,
    quantity: number
  ): Connector.ChannelListing => {
    const v = created.variants[0]!
    return {
      externalSku: sku,
      externalIds: {
        [ids.variant]: v.variantId,
        [ids.inventoryItem]: v.inventoryItemId,
        [ids.product]: created.productId
      },
      title: `Product ${sku}`,
      quantity
    }
  }
  const orderFor = () => {
    const sku = nextSku("ORD")
    sandbox.seedSkus([{ sku, quantity: 50 }])
    return sandbox.placeOrder({ lines: [{ sku, quantity: 2 }] })
  }
  const delivery = (secret?: string) =>
    Effect.sync(() =>
      toRequest(
        sandbox.signWebhook("orders/create", sandbox.orderPayload(orderFor()), secret === undefined ? {} : { secret })
      )
    )
  return {
    sandbox: sandbox.server,
    routes: {
      "catalog.pull": routes.graphql,
      "stock.push": routes.graphql,
      "stock.pull": routes.graphql,
      "orders.pull": routes.graphql,
      "fulfillment.push": routes.graphql,
      "locations.pull": routes.graphql
    },
    stock: {
      location,
      seed: (skus) =>
        Effect.sync(() =>
          skus.map((s) => {
            const [created] = sandbox.seedSkus([{ sku: s.externalSku, quantity: s.quantity }])
            return listingOf(s.externalSku, created!, s.quantity)
          })
        ),
      quantity: (sku, at) => Effect.sync(() => sandbox.available(sku, at ?? location)),
      appliedWrites: (sku) => Effect.sync(() => sandbox.appliedWrites(sku)),
      setExternally: (sku, quantity, at) => Effect.sync(() => sandbox.setStock(sku, quantity, at ?? location))
    },
    catalog: {
      seed: (count) =>
        Effect.sync(() => {
          const skus = Array.from({ length: count }, () => nextSku("CAT"))
          sandbox.seedSkus(skus.map((sku) => ({ sku, quantity: 3 })))
          return skus
        })
    },
    orders: {
      seed: (count) =>
        Effect.sync(() =>
          Array.from({ length: count }, () => {
            const id = orderFor()
            // Distinct update times, one second apart.
            sandbox.clock.advance(1_000)
            return id
          })
        )
    },
    webhooks: {
      delivery: () => delivery(),
      deliverySignedWith: (secret) => delivery(secret),
      signatureHeader: "X-Shopify-Hmac-Sha256"
    },
    fulfillment: {
      carrier: "4PX",
      seedOrder: () => Effect.sync(orderFor),
      shipments: (orderId) =>
        Effect.sync(() =>
          sandbox
            .fulfillments(orderId)
            .filter((f) => f.status === "SUCCESS")
            .flatMap((f) => f.tracking.map((t) => ({ trackingNumber: t.number ?? "", carrier: t.company ?? "" })))
        )
    },
    tokens: {
      issue: () => Effect.sync(() => sandbox.issueToken()),
      refreshes: () => Effect.sync(() => sandbox.refreshes())
    }
  }
}

/** A fresh sandbox shop as the conformance kit's fake platform, closed with the layer. */
export const layer = (options: ShopifySandboxOptions = {}): Layer.Layer<FakeChannel.FakeChannel> =>
  Layer.scoped(FakeChannel.FakeChannel, Effect.map(scoped(options), fakeOf))

/** The Shopify connector configured against the fake's sandbox, as the connector under test. */
export const connectorLayer = (
  overrides: Partial<ShopifyConfigInput> = {}
): Layer.Layer<
  FakeChannel.ConnectorUnderTest,
  Connector.ConnectorConfigError,
  FakeChannel.FakeChannel | HttpClient.HttpClient | AccessToken.AccessToken | Connector.ConnectionContext
> =>
  Layer.scoped(
    FakeChannel.ConnectorUnderTest,
    Effect.gen(function* () {
      const fake = yield* FakeChannel.FakeChannel
      const config = yield* Schema.decodeUnknown(ShopifyConfig)(sandboxOf(fake).config(overrides)).pipe(Effect.orDie)
      return yield* ShopifyConnector.make(config)
    })
  )
