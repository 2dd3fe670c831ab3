/**
 * The connector-testkit conformance suite, run against the TikTok Shop sandbox over real HTTP. The
 * connector is configured from the sandbox the fake started (its app key and secret, both hosts)
 * and its request timestamps follow the sandbox clock, the one the gateway checks them against.
 */

import { ConnectorTestkit, FakeChannel } from "@tkbridge/connector-testkit"
import { TikTokShopConfig, TikTokShopConnector } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopFakeChannel, TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect, Layer, Schema } from "effect"

const connectorUnderTest = Layer.scoped(
  FakeChannel.ConnectorUnderTest,
  Effect.gen(function* () {
    const fake = yield* FakeChannel.FakeChannel
    const sandbox = TikTokShopSandbox.fromSandbox(fake.sandbox)
    if (sandbox === undefined) return yield* Effect.dieMessage("the fake channel is not a TikTok Shop sandbox")
    const config = yield* Schema.decodeUnknown(TikTokShopConfig.TikTokShopConfig)(sandbox.connectorConfig()).pipe(
      Effect.orDie
    )
    return yield* TikTokShopConnector.make(config).pipe(Effect.withClock(TikTokShopSandbox.effectClock(sandbox.clock)))
  })
)

ConnectorTestkit.suite({
  name: "tiktok-shop",
  manifest: TikTokShopConnector.manifest,
  fake: TikTokShopFakeChannel.layer(),
  layer: connectorUnderTest
})
