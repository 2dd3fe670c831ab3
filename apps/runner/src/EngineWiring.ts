/**
 * EngineWiring: where `tkbridge run` and `tkbridge demo` meet the sync engine. From a loaded config it
 * builds the engine over the configured store (`EngineCluster.embedded` on a SQLite file, resolved
 * against the config's folder; `scaleOut` on PostgreSQL), with every connection's connector instance
 * and the flows; puts the webhook edge in front of it (verify, record in the inbox, answer, then wake
 * the connection's inbox processor through `Engine.notifyInbox`); serves `/webhooks`, `/healthz`
 * and `/metrics` (fed from `Engine.status`); publishes the local admin endpoint on an embedded store;
 * starts the schedules; imports each catalogue the flows need and reads every stock source once, each
 * with a progress bar.
 *
 * Shutdown runs in reverse: the server stops accepting first, then `Engine.stop` lets in-flight inbox
 * entries and stock writes finish (15 s at most), then the cluster (which gives running workflows up
 * to 15 s) and the store close.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { DeadLetter, WebhookEdge } from "@tkbridge/core"
import type { ConnectionRegistry } from "@tkbridge/engine"
import { Engine, EngineCluster, EngineFlows } from "@tkbridge/engine"
import type { Scope } from "effect"
import { Cause, Context, Duration, Effect, Layer, Option } from "effect"
import * as AdminApi from "./AdminApi.ts"
import { CliFailure } from "./CliCommon.ts"
import type { ParcelConfig, RunnerConfig } from "./Config.ts"
import { connections } from "./Config.ts"
import type { LoadedConfig } from "./ConfigLoader.ts"
import * as Metrics from "./Metrics.ts"
import * as MetricsCollectors from "./MetricsCollectors.ts"
import * as OpsStore from "./OpsStore.ts"
import type { Output } from "./Output.ts"
import * as PoolWiring from "./PoolWiring.ts"
import * as Progress from "./Progress.ts"
import * as SelfTest from "./SelfTest.ts"
import * as Server from "./Server.ts"
import * as StoreWiring from "./StoreWiring.ts"

const parcelDefaults = (p: ParcelConfig | undefined): EngineFlows.FulfilmentDefaults =>
  EngineFlows.FulfilmentDefaults.make({
    ...(p?.service !== undefined ? { service: p.service } : {}),
    ...(p?.packagingWeightGrams !== undefined ? { packagingWeightGrams: p.packagingWeightGrams } : {}),
    ...(p?.unitWeightGrams !== undefined ? { unitWeightGrams: p.unitWeightGrams } : {}),
    ...(p?.trackingPollEvery !== undefined ? { trackingPollEvery: p.trackingPollEvery } : {}),
    ...(p?.trackingTimeout !== undefined ? { trackingTimeout: p.trackingTimeout } : {}),
    ...(p?.labels !== undefined ? { labels: p.labels } : {}),
    ...(p?.trackingEventsEvery !== undefined ? { trackingEventsEvery: p.trackingEventsEvery } : {}),
    ...(p?.declaration !== undefined
      ? {
          declaration: EngineFlows.DeclarationDefaults.make(
            Object.fromEntries(Object.entries(p.declaration).filter(([, v]) => v !== undefined))
          )
        }
      : {})
  })

/** The config's flows and pool as the engine's flows. */
export const flows = (config: RunnerConfig): EngineFlows.EngineFlows => {
  const { pool, flows: f } = config
  return EngineFlows.EngineFlows.make({
    orders: f.orders.map((o) =>
      EngineFlows.OrderFlow.make({
        from: connections(o.from) as [string, ...Array<string>],
        ...(o.fulfilment !== undefined ? { fulfilment: o.fulfilment } : {}),
        trackingBack: o.trackingBack
      })
    ),
    ...(f.stock !== undefined
      ? {
          stock: EngineFlows.StockFlow.make({
            sources: connections(f.stock.source).map((connection) =>
              EngineFlows.StockSource.make({ connection, every: f.stock!.pollEvery })
            ),
            channels: f.stock.channels,
            reconcileEvery: f.stock.reconcileEvery
          })
        }
      : {}),
    ...(f.afterSales !== undefined
      ? {
          afterSales: EngineFlows.AfterSalesFlow.make({
            from: connections(f.afterSales.from) as [string, ...Array<string>],
            cancelShipment: f.afterSales.cancelShipment
          })
        }
      : {}),
    pool: EngineFlows.PoolSettings.make(
      pool === undefined
        ? {}
        : {
            rules: PoolWiring.poolRules(pool),
            pairing: PoolWiring.pairingConfig(pool),
            itemsFrom: pool.items.from,
            unpaidTtl: pool.unpaidReservationTtl,
            restock: pool.returns.restock
          }
    ),
    reconciliation: EngineFlows.Reconciliation.make({
      every: f.reconcile.every,
      overlap: f.reconcile.overlap,
      firstLookback: f.reconcile.firstLookback
    }),
    fulfilment: parcelDefaults(undefined),
    fulfilmentFor: Object.fromEntries(Object.entries(f.parcels).map(([c, p]) => [c, parcelDefaults(p)]))
  })
}

/** The connections as the engine's specs: connector, decoded config and the quota in force. */
export const specs = (loaded: LoadedConfig): ReadonlyArray<ConnectionRegistry.ConnectionSpec> =>
  [...loaded.connections.values()].map((c) => {
    const policy = StoreWiring.quotaPolicy(loaded, c.name)
    return {
      id: c.name,
      connector: c.loaded.connector,
      config: c.config,
      quota: { perSecond: policy.perSecond, daily: policy.daily, headroom: policy.headroom }
    }
  })

/** The composition root for the config's store. */
export const root = (loaded: LoadedConfig) => {
  const where = OpsStore.location(loaded)
  if (where === undefined) return Effect.fail(new CliFailure({ message: "unrecognised store URL", exitCode: 2 }))
  if (where.dialect === "sqlite") {
    // `sqlite:./data/tkbridge.db` on a first run: the folder is ours to create.
    return Effect.tryPromise({
      try: () => Fs.mkdir(Path.dirname(where.filename), { recursive: true }),
      catch: (e) => new CliFailure({ message: `cannot create the store's folder: ${String(e)}`, exitCode: 1 })
    }).pipe(Effect.as(EngineCluster.embedded(where.filename)))
  }
  const cluster = loaded.config.server.cluster
  return Effect.succeed(
    EngineCluster.scaleOut({
      url: where.url,
      runnerAddress: { host: cluster.advertiseHost ?? Os.hostname(), port: cluster.port },
      listenAddress: { host: cluster.listenHost, port: cluster.port }
    })
  )
}

/** What a started runner gives its caller. */
export interface Running {
  readonly engine: Engine.EngineShape
  /** The store's repositories the engine runs on (read them; the engine writes). */
  readonly store: Context.Context<OpsStore.Services>
  /** `http://host:port` of the webhook server. */
  readonly baseUrl: string
}

/** How to start. */
export interface StartOptions {
  readonly port?: number | undefined
  /** Import the catalogues the flows need before returning (default true). */
  readonly importCatalogues?: boolean | undefined
  /** The engine's business clock (the demo passes none: real time). */
  readonly clock?: Engine.EngineOptions["clock"]
  /** Seconds `Engine.stop` waits for in-flight work at shutdown (default 15). */
  readonly stopTimeoutSeconds?: number | undefined
}

const cliFailure = (what: string) => (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause) as { readonly message?: unknown; readonly _tag?: unknown }
  const message = String(error?.message ?? error).replace(/postgres(ql)?:\/\/\S*/g, "postgres://***")
  return new CliFailure({ message: `${what}: ${message}`, exitCode: 1 })
}

/** The connections whose catalogues the flows need, items source first. */
export const cataloguesToImport = (loaded: LoadedConfig): ReadonlyArray<string> => {
  const { pool, flows: f } = loaded.config
  const wanted = [
    ...(pool !== undefined ? [pool.items.from] : []),
    ...(f.stock?.channels ?? []),
    ...f.orders.flatMap((o) => connections(o.from))
  ]
  return [...new Set(wanted)].filter((c) => loaded.connections.get(c)?.capabilities.includes("catalog.pull") ?? false)
}

/**
 * Builds and starts the runner for the lifetime of the scope: engine, webhook server, metrics, admin
 * endpoint, schedules, then the initial catalogue imports — the items source and the stock sources,
 * their first stock read, then the channels, so no channel is ever published an empty pool.
 */
export const start = (
  loaded: LoadedConfig,
  options: StartOptions = {}
): Effect.Effect<Running, CliFailure, Scope.Scope | Metrics.Metrics | Output> =>
  Effect.gen(function* () {
    const { config } = loaded
    const metrics = yield* Metrics.Metrics
    const engineLayer = Engine.layer({
      root: yield* root(loaded),
      connections: specs(loaded),
      flows: flows(config),
      ...(options.clock !== undefined ? { clock: options.clock } : {})
    })
    const context = yield* Layer.build(engineLayer).pipe(
      Effect.catchAllCause((c) => Effect.fail(cliFailure("cannot start the engine")(c)))
    )
    const engine = Context.get(context, Engine.Engine)
    // Registered before the server's finalizer, so it runs after the server stopped accepting.
    yield* Effect.addFinalizer(() =>
      Effect.logInfo("tkbridge stopping: finishing in-flight work").pipe(
        Effect.zipRight(engine.stop({ timeout: Duration.seconds(options.stopTimeoutSeconds ?? 15) })),
        Effect.zipRight(Effect.logInfo("tkbridge stopped"))
      )
    )

    // The webhook edge in front of the engine: record, answer, then wake the inbox processor.
    const maxBytes = (connection: string) =>
      loaded.connections.get(connection)?.loaded.connector.manifest.limits.webhookMaxBytes
    const edge = WebhookEdge.layer({
      maxBytesFor: maxBytes,
      notify: ({ connection, id }) => engine.notifyInbox(connection, id)
    })
    const key = yield* SelfTest.loadKey(loaded.dir, config.server.selfTestSecret)
    const port = options.port ?? config.server.port
    const tls =
      config.server.tls === undefined
        ? undefined
        : {
            cert: Path.resolve(loaded.dir, config.server.tls.cert),
            key: Path.resolve(loaded.dir, config.server.tls.key)
          }
    for (const [name, file] of Object.entries(tls ?? {})) {
      yield* Effect.tryPromise({
        try: () => Fs.access(file, Fs.constants.R_OK),
        catch: () => new CliFailure({ message: `cannot read server.tls.${name} ${file}`, exitCode: 2 })
      })
    }
    yield* Layer.build(
      Server.layer({
        port,
        host: config.server.host,
        tls,
        connections: [...loaded.connections.keys()],
        selfTestKey: key,
        maxBodyBytes: Math.max(1024 * 1024, ...[...loaded.connections.keys()].map((c) => maxBytes(c) ?? 0)),
        version: VERSION,
        health: [
          { name: "engine", check: Effect.map(engine.status, (s) => s.started).pipe(Effect.orElseSucceed(() => false)) }
        ]
      }).pipe(
        Layer.provide(Server.ingressFromEdge),
        Layer.provide(edge),
        Layer.provide(Layer.succeedContext(context)),
        Layer.provide(Layer.succeed(Metrics.Metrics, metrics))
      )
    ).pipe(Effect.catchAllCause((c) => Effect.fail(cliFailure(`cannot serve on ${config.server.host}:${port}`)(c))))

    yield* MetricsCollectors.fromEngine(metrics, engine, [...loaded.connections.keys()])

    const where = OpsStore.location(loaded)
    if (where?.dialect === "sqlite") {
      const letters = Context.get(context, DeadLetter.DeadLetters)
      yield* AdminApi.serve(where.filename, {
        replay: (ids) => engine.replayLetters(ids),
        discard: (ids, reason) => Effect.forEach(ids, (id) => letters.discard(id, reason)),
        resume: (connection) => engine.resumeConnection(connection),
        reconcile: (connection) => Effect.map(engine.reconcileNow(connection), (r) => r.connections)
      })
    }

    yield* engine.start
    if (options.importCatalogues ?? true) {
      const importOne = (connection: string) =>
        Effect.gen(function* () {
          const report = yield* Progress.withBar(`importing the ${connection} catalogue`, undefined, (bar) =>
            engine.importCatalog(connection, {
              onProgress: (p) => Effect.sync(() => (p.done ? bar.finish(`${p.listings} SKUs`) : bar.update(p.listings)))
            })
          ).pipe(
            Effect.tapError((e) =>
              Effect.logWarning(`catalogue import of ${connection} failed; the next reconciliation retries`, e)
            ),
            Effect.option
          )
          if (Option.isSome(report)) {
            yield* Effect.logInfo("catalogue imported").pipe(
              Effect.annotateLogs({
                connection,
                listings: report.value.listings,
                paired: report.value.paired.length,
                unpaired: report.value.unpaired.length,
                published: report.value.published
              })
            )
          }
        })
      const sources = (flows(config).stock?.sources ?? []).map((s) => s.connection)
      const catalogues = cataloguesToImport(loaded)
      // The items and the sources' numbers come before any channel is paired: a channel paired
      // against a pool that has not read its stock yet would be published 0 until the first read.
      const first = catalogues.filter((c) => c === config.pool?.items.from || sources.includes(c))
      for (const connection of first) yield* importOne(connection)
      // The first full read of every stock source, so the pool starts from the sources' numbers.
      if (sources.length > 0) {
        yield* Progress.withBar(`reconciling stock from ${sources.join(", ")}`, sources.length, (bar) =>
          Effect.gen(function* () {
            let read = 0
            let applied = 0
            for (const [i, connection] of sources.entries()) {
              const report = yield* engine.reconcileNow(connection).pipe(
                Effect.tapError((e) =>
                  Effect.logWarning(`reading stock from ${connection} failed; the schedule retries`, e)
                ),
                Effect.option
              )
              for (const row of Option.isSome(report) ? report.value.connections : []) {
                read += row.stock.read
                applied += row.stock.applied
              }
              bar.update(i + 1)
            }
            bar.finish(`${read} stock reading${read === 1 ? "" : "s"}, ${applied} applied`)
          })
        )
      }
      for (const connection of catalogues.filter((c) => !first.includes(c))) yield* importOne(connection)
    }
    const host = config.server.host === "0.0.0.0" || config.server.host === "::" ? "127.0.0.1" : config.server.host
    return {
      engine,
      store: context as unknown as Context.Context<OpsStore.Services>,
      baseUrl: `${tls === undefined ? "http" : "https"}://${host}:${port}`
    } satisfies Running
  })

/** The runner's version, reported by `/healthz`. */
export const VERSION = "0.1.0"
