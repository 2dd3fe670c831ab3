/**
 * The Memory connector against the conformance kit: every capability it claims, against its own
 * sandbox over real HTTP, with no skips.
 */

import { MemoryConfig, MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel } from "@tkbridge/connector-memory/sandbox"
import { ConnectorTestkit, FakeChannel } from "@tkbridge/connector-testkit"
import { Effect, Layer, Schema } from "effect"

/** Credentials the sandbox is started with and the connector is configured with. */
const credentials = {
  clientId: "conformance-app",
  clientSecret: "conformance-client-secret",
  webhookSecret: "conformance-webhook-secret"
}

ConnectorTestkit.suite({
  name: "memory",
  manifest: MemoryConnector.manifest,
  fake: MemoryFakeChannel.layer(credentials),
  layer: Layer.scoped(
    FakeChannel.ConnectorUnderTest,
    Effect.gen(function* () {
      const fake = yield* FakeChannel.FakeChannel
      const config = Schema.decodeUnknownSync(MemoryConfig.MemoryConfig)({ baseUrl: fake.sandbox.url, ...credentials })
      return yield* MemoryConnector.make(config)
    })
  )
})
