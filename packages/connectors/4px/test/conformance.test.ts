/**
 * The connector-testkit conformance suite, run against the 4PX sandbox over real HTTP — twice: as a
 * direct customer's app (API key, no token) and as a software vendor's app (OAuth: every call carries
 * the kit's access token, refreshed through the connector's own `auth.refresh` against the sandbox's
 * token endpoint). The connector is configured from the sandbox the fake started and its request
 * timestamps follow the sandbox clock.
 */
import { FourPxConfig, FourPxConnector } from "@tkbridge/connector-4px"
import { FourPxFakeChannel, FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { ConnectorTestkit, FakeChannel } from "@tkbridge/connector-testkit"
import { Effect, Layer, Schema } from "effect"

const connectorUnderTest = Layer.scoped(
  FakeChannel.ConnectorUnderTest,
  Effect.gen(function* () {
    const fake = yield* FakeChannel.FakeChannel
    const sandbox = FourPxSandbox.fromSandbox(fake.sandbox)
    if (sandbox === undefined) return yield* Effect.dieMessage("the fake channel is not a 4PX sandbox")
    const config = yield* Schema.decodeUnknown(FourPxConfig.FourPxConfig)(sandbox.connectorConfig()).pipe(Effect.orDie)
    return yield* FourPxConnector.make(config).pipe(Effect.withClock(FourPxSandbox.effectClock(sandbox.clock)))
  })
)

ConnectorTestkit.suite({
  name: "4px (API key)",
  manifest: FourPxConnector.manifest,
  fake: FourPxFakeChannel.layer(),
  layer: connectorUnderTest
})

ConnectorTestkit.suite({
  name: "4px (OAuth vendor app)",
  manifest: FourPxConnector.manifest,
  fake: FourPxFakeChannel.layer({ vendorApp: true }),
  layer: connectorUnderTest
})
