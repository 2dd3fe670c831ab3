/**
 * Stock-path test harness: the pushers and token refresh over a composition root for connections to
 * any connector's sandbox, plus the helpers the stock tests share — publishing a value as the pool
 * does after a commit, waiting for a condition without timing assertions, and a business clock
 * driven by a sandbox clock running faster than real time.
 */
import * as Path from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import type { SandboxClock } from "@tkbridge/connector-testkit"
import type { Connector, StoreError } from "@tkbridge/core"
import { Outbox } from "@tkbridge/core"
import {
  ConnectionAuth,
  ConnectionRegistry,
  EngineAlerts,
  EngineClock,
  EngineCluster,
  StockPusher
} from "@tkbridge/engine"
import { SqlTesting } from "@tkbridge/store-sql"
import { Effect, Layer } from "effect"
import { freePort, tempDir, testTuning } from "./Roots.ts"

/** A connection to a sandbox of any connector. */
export const connection = (
  id: string,
  connector: unknown,
  config: unknown,
  quota?: ConnectionRegistry.QuotaOverrides
): ConnectionRegistry.ConnectionSpec => ({
  id,
  connector: connector as Connector.Connector<Connector.Capability, unknown>,
  config,
  quota
})

/** Business time follows `clock` (a sandbox clock, possibly sped up). */
export const clockOf = (clock: SandboxClock.SandboxClock): Layer.Layer<EngineClock.EngineClock> =>
  EngineClock.layerSource({ now: () => clock.now(), sleep: (ms) => clock.sleep(ms) })

/** Stock pushing and token refresh over `root` for `connections`, with extra services (listing ids, a ledger). */
export const stockLayer = <X = never>(options: {
  readonly root: Layer.Layer<EngineCluster.ClusterServices>
  readonly connections: ReadonlyArray<ConnectionRegistry.ConnectionSpec>
  readonly clock?: Layer.Layer<EngineClock.EngineClock> | undefined
  readonly push?: Partial<StockPusher.Options> | undefined
  readonly extra?: Layer.Layer<X> | undefined
}) => {
  const base = Layer.mergeAll(
    options.clock ?? EngineClock.layerSystem,
    EngineAlerts.layer,
    NodeHttpClient.layerUndici,
    Layer.succeed(StockPusher.StockPushOptions, { ...StockPusher.defaults, ...options.push })
  )
  const extra = (options.extra ?? Layer.empty) as Layer.Layer<X>
  const providers = ConnectionAuth.layerTokenProviders.pipe(Layer.provideMerge(options.root), Layer.provideMerge(base))
  const registry = ConnectionRegistry.layerFromConnectors(options.connections).pipe(Layer.provideMerge(providers))
  return Layer.mergeAll(ConnectionAuth.layer, StockPusher.layer).pipe(
    Layer.provideMerge(StockPusher.layerLanes),
    Layer.provideMerge(registry),
    Layer.provideMerge(extra),
    Layer.orDie
  )
}

/** Polls `check` until it holds (no timing assertion: the test's own timeout is the only limit). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, pollMs = 20) =>
  Effect.gen(function* () {
    while (!(yield* check)) yield* Effect.sleep(`${pollMs} millis`)
  })

/** Sets a listing's desired quantity in business time and wakes its pusher, as the pool does after a commit. */
export const publish = (
  connection: string,
  listing: string,
  quantity: number
): Effect.Effect<
  number,
  StoreError.StoreError,
  Outbox.StockOutbox | StockPusher.StockLanes | EngineClock.EngineClock
> =>
  EngineClock.business(
    Effect.gen(function* () {
      const outbox = yield* Outbox.StockOutbox
      const { version, changed } = yield* outbox.setDesired({ connection, listing, quantity })
      if (changed) yield* StockPusher.notify(connection, listing, version)
      return version
    })
  )

/** True once the listing's latest version is recorded as written. */
export const settled = (
  connection: string,
  listing: string
): Effect.Effect<boolean, StoreError.StoreError, Outbox.StockOutbox> =>
  Effect.flatMap(Outbox.StockOutbox, (outbox) =>
    Effect.map(outbox.get(connection, listing), (row) =>
      row._tag === "Some"
        ? row.value.pushedVersion >= row.value.desiredVersion && row.value.claimedUntil === undefined
        : false
    )
  )

/** The same database for several engine lifetimes: a SQLite file, or a PostgreSQL database. */
export const durableRoot = (name: string) =>
  Effect.gen(function* () {
    if (name.startsWith("embedded")) {
      const dir = yield* tempDir
      const filename = Path.join(dir, "tkbridge.db")
      return () => EngineCluster.embedded({ filename, tuning: testTuning }).pipe(Layer.orDie)
    }
    const url = yield* SqlTesting.freshPgDatabase
    return () =>
      Layer.unwrapEffect(
        Effect.map(freePort, (port) =>
          EngineCluster.scaleOut({ url, runnerAddress: { host: "127.0.0.1", port }, tuning: testTuning })
        )
      ).pipe(Layer.orDie)
  })
