/**
 * The engine's services wired over a composition root and connections to Memory sandboxes, for tests
 * that drive it end to end over real HTTP.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { MemoryConnector } from "@tkbridge/connector-memory"
import type { MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { MemoryFakeChannel } from "@tkbridge/connector-memory/sandbox"
import type { Connector } from "@tkbridge/core"
import { TokenStore } from "@tkbridge/core"
import type { EngineCluster } from "@tkbridge/engine"
import { ConnectionAuth, ConnectionRegistry, EngineAlerts, EngineClock, StockPusher } from "@tkbridge/engine"
import { Effect, Layer, Schema } from "effect"

/** A connection to a Memory sandbox. */
export const memoryConnection = (
  id: string,
  sandbox: MemorySandbox.MemorySandbox,
  quota?: ConnectionRegistry.QuotaOverrides
): ConnectionRegistry.ConnectionSpec => ({
  id,
  connector: MemoryConnector.connector as unknown as Connector.Connector<Connector.Capability, unknown>,
  config: Schema.decodeUnknownSync(MemoryConnector.manifest.config)(sandbox.connectorConfig()),
  quota
})

/** Stores a fresh sandbox grant for each connection (what `tkbridge auth` does). */
export const authorize = (
  connections: ReadonlyArray<readonly [string, MemorySandbox.MemorySandbox]>
): Effect.Effect<void, unknown, TokenStore.TokenStore> =>
  Effect.flatMap(TokenStore.TokenStore, (store) =>
    Effect.forEach(connections, ([id, sandbox]) => store.save(id, MemoryFakeChannel.tokenSetOf(sandbox)), {
      discard: true
    })
  )

/** Stock pushing and token refresh over `root` for the given connections. */
export const stockEngine = (options: {
  readonly root: Layer.Layer<EngineCluster.ClusterServices>
  readonly connections: ReadonlyArray<ConnectionRegistry.ConnectionSpec>
  readonly clock?: Layer.Layer<EngineClock.EngineClock> | undefined
  readonly push?: Partial<StockPusher.Options> | undefined
}) => {
  const base = Layer.mergeAll(
    options.clock ?? EngineClock.layerSystem,
    EngineAlerts.layer,
    NodeHttpClient.layerUndici,
    Layer.succeed(StockPusher.StockPushOptions, { ...StockPusher.defaults, ...options.push })
  )
  const providers = ConnectionAuth.layerTokenProviders.pipe(Layer.provideMerge(options.root), Layer.provideMerge(base))
  const registry = ConnectionRegistry.layerFromConnectors(options.connections).pipe(Layer.provideMerge(providers))
  return Layer.mergeAll(ConnectionAuth.layer, StockPusher.layer).pipe(
    Layer.provideMerge(StockPusher.layerLanes),
    Layer.provideMerge(registry),
    Layer.orDie
  )
}
