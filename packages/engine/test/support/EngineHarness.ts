/**
 * The whole engine over a composition root, with the webhook edge served over real HTTP (as the
 * runner serves it), for end-to-end tests against sandboxes: deliveries go to
 * `<edgeUrl>/webhooks/<connection>`, the edge's notify hook wakes the inbox processor.
 */
import * as Http from "node:http"
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { AccessToken, Connector } from "@tkbridge/core"
import { TokenStore, WebhookEdge } from "@tkbridge/core"
import type {
  ConnectionRegistry,
  EngineAlerts,
  EngineClock,
  EngineCluster,
  EngineFlows,
  EngineSchedules,
  RetryPolicy,
  StockPusher
} from "@tkbridge/engine"
import { Engine } from "@tkbridge/engine"
import { Effect, Layer } from "effect"
import { freePort } from "./Roots.ts"

/** A connection spec over any connector (the registry takes the widened type). */
export const connection = <C extends Connector.Capability, Config>(
  id: string,
  connector: Connector.Connector<C, Config>,
  config: unknown,
  quota?: ConnectionRegistry.QuotaOverrides
): ConnectionRegistry.ConnectionSpec => ({
  id,
  connector: connector as unknown as Connector.Connector<Connector.Capability, unknown>,
  config,
  quota
})

/** Fast cadences for tests: sweeps every few hundred milliseconds. */
export const testTuning: Partial<EngineSchedules.Tuning> = {
  inboxSweep: "300 millis",
  inboxGrace: "200 millis",
  jobSweep: "500 millis",
  outboxSweep: "1 second",
  tokenScan: "2 seconds",
  authorizationScan: "2 seconds",
  expiry: "500 millis",
  deadLetterAlerts: "2 seconds",
  pausedRetry: "1 second"
}

/** The engine plus an edge server; `edgeUrl` is where sandboxes deliver webhooks. */
export class EdgeUrl extends Effect.Tag("test/EdgeUrl")<EdgeUrl, { readonly url: string }>() {}

/** The engine and its webhook edge on a free loopback port. */
export const engineWithEdge = (options: {
  readonly root: Layer.Layer<EngineCluster.ClusterServices>
  readonly connections: ReadonlyArray<ConnectionRegistry.ConnectionSpec>
  readonly flows: EngineFlows.EngineFlows
  readonly clock?: Layer.Layer<EngineClock.EngineClock> | undefined
  readonly push?: Partial<StockPusher.Options> | undefined
  readonly tuning?: Partial<EngineSchedules.Tuning> | undefined
  readonly stepRetry?: Partial<RetryPolicy.Options> | undefined
  /** Where alerts go besides the status snapshot (e.g. a recorder of every raise). */
  readonly alerts?: Layer.Layer<EngineAlerts.EngineAlerts> | undefined
}) => {
  const engine = Engine.layer({
    root: options.root,
    connections: options.connections,
    flows: options.flows,
    clock: options.clock,
    push: options.push,
    stepRetry: options.stepRetry,
    alerts: options.alerts,
    tuning: { ...testTuning, ...options.tuning }
  })
  const edge = Layer.effect(
    WebhookEdge.WebhookEdge,
    Effect.flatMap(Engine.Engine, (e) =>
      WebhookEdge.make({ notify: (stored) => e.notifyInbox(stored.connection, stored.id) })
    )
  )
  const served = Layer.unwrapEffect(
    Effect.map(freePort, (port) =>
      Layer.merge(
        HttpServer.serve(HttpRouter.empty.pipe(HttpRouter.post("/webhooks/:connection", WebhookEdge.handler))).pipe(
          Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port, host: "127.0.0.1" }))
        ),
        Layer.succeed(EdgeUrl, { url: `http://127.0.0.1:${port}` })
      )
    )
  )
  return served.pipe(Layer.provideMerge(edge), Layer.provideMerge(engine), Layer.orDie)
}

/** Polls `check` until it holds (no timing assertion: the test's own timeout is the only limit). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, intervalMs = 50) =>
  Effect.gen(function* () {
    while (!(yield* check)) yield* Effect.sleep(`${intervalMs} millis`)
  })

/**
 * The usual start of a scenario: stores each connection's grant, imports the catalogues in order
 * (the items source first), starts the engine, waits until the channel shows the pool's stock
 * (`published`), then points the channel's webhooks at the edge.
 */
export const startEngine = (options: {
  readonly grants: ReadonlyArray<readonly [string, AccessToken.TokenSet]>
  readonly imports: ReadonlyArray<string>
  readonly published: () => boolean
  readonly subscribe: (url: string) => void
}): Effect.Effect<Engine.EngineShape, never, Engine.Engine | TokenStore.TokenStore | EdgeUrl> =>
  Effect.gen(function* () {
    const engine = yield* Engine.Engine
    const tokens = yield* TokenStore.TokenStore
    const { url } = yield* EdgeUrl
    for (const [connection, grant] of options.grants) yield* tokens.save(connection, grant)
    for (const connection of options.imports) yield* engine.importCatalog(connection)
    yield* engine.start
    yield* eventually(Effect.sync(options.published))
    options.subscribe(url)
    return engine
  }).pipe(Effect.orDie)
