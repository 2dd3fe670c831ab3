/**
 * The kit's self-test target: the Memory reference connector against its sandbox, intact or with
 * one deliberate defect. The connector is imported by path, not as a package dependency, because
 * the Memory connector depends on this kit and a package cycle would break the task graph.
 */
import * as Net from "node:net"
import type { ConnectorTestkit } from "@tkbridge/connector-testkit"
import { FakeChannel } from "@tkbridge/connector-testkit"
import type { AccessToken } from "@tkbridge/core"
import type { Scope } from "effect"
import { Duration, Effect, Fiber, Layer, Schema } from "effect"
import { MemoryConfig, MemoryConnector } from "../../connectors/memory/src/index.ts"
import { MemoryFakeChannel } from "../../connectors/memory/src/sandbox/index.ts"

/** Credentials the sandbox starts with and the connector is configured with. */
export const credentials = {
  clientId: "selftest-app",
  clientSecret: "selftest-client-secret",
  webhookSecret: "selftest-webhook-secret"
}

/** The services the connector under test provides. */
export type Services = FakeChannel.ConnectorServices

/** What a defect may use: the fake, the kit's token provider and a scope. */
export type DefectContext = FakeChannel.FakeChannel | AccessToken.AccessToken | Scope.Scope

/** Suite options for the Memory connector with `defect` applied to its services. */
export const memory = (
  defect: (services: MemoryConnector.MemoryServices) => Effect.Effect<Services, never, DefectContext> = Effect.succeed
): ConnectorTestkit.SuiteOptions<MemoryConnector.MemoryCapability, MemoryConfig.MemoryConfig, never, unknown> => ({
  name: "memory",
  manifest: MemoryConnector.manifest,
  fake: MemoryFakeChannel.layer(credentials),
  layer: Layer.scoped(
    FakeChannel.ConnectorUnderTest,
    Effect.gen(function* () {
      const fake = yield* FakeChannel.FakeChannel
      const config = Schema.decodeUnknownSync(MemoryConfig.MemoryConfig)({ baseUrl: fake.sandbox.url, ...credentials })
      return yield* defect(yield* MemoryConnector.make(config))
    })
  )
})

/** Opens a TCP connection to the sandbox and never closes it. */
export const leakSocket = Effect.gen(function* () {
  const fake = yield* FakeChannel.FakeChannel
  yield* Effect.async<void>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port: fake.sandbox.port }, () => resume(Effect.void))
    socket.on("error", () => resume(Effect.void))
  })
})

const leakedIntervals: Array<ReturnType<typeof setInterval>> = []
const leakedFibers: Array<Fiber.RuntimeFiber<unknown>> = []

/** Starts an interval outside any scope (a poller nobody stops), as a leaky connector would. */
export const leakInterval = Effect.sync(() => {
  leakedIntervals.push(setInterval(() => {}, 1_000))
})

/** Forks a polling loop as a daemon, outside the connector's scope: it sleeps and wakes forever. */
export const leakDaemon = Effect.map(
  Effect.forkDaemon(Effect.forever(Effect.sleep(Duration.millis(300)))),
  (fiber) => void leakedFibers.push(fiber)
)

/** Stops what `leakInterval` and `leakDaemon` started, so the test process can end. */
export const stopLeaks = async (): Promise<void> => {
  for (const interval of leakedIntervals.splice(0)) clearInterval(interval)
  await Effect.runPromise(Fiber.interruptAll(leakedFibers.splice(0)))
}
