/**
 * DemoRun: what `tkbridge demo` does — the whole product on one machine with nothing but the repository:
 * local TikTok Shop, Shopify and 4PX sandboxes and a Memory platform standing in for the ERP, the
 * runner on a temporary SQLite store (the same code path as `tkbridge run`, from a `tkbridge.yaml`
 * written for those platforms), and simulated shoppers buying on both channels — bundles, multipacks
 * and a race for the last units of a limited lamp. It shows live progress and ends with a summary
 * computed from the sandboxes' state: orders in, reserved, shipped with tracking written back,
 * oversells, dead letters, stock propagation delay, API calls per channel against the quota.
 *
 * Fails (exit code 1) when a unit was oversold or an order never reached the pool. Loaded only when
 * the demo runs: the sandboxes are not part of the runner's other commands.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { DeadLetter, Ledger, Pool } from "@tkbridge/core"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import type { Channel } from "./ChannelTimeline.ts"
import { ChannelTimeline, shown } from "./ChannelTimeline.ts"
import { CliFailure } from "./CliCommon.ts"
import * as ConfigLoader from "./ConfigLoader.ts"
import * as DemoSummary from "./DemoSummary.ts"
import * as DemoWorld from "./DemoWorld.ts"
import * as EngineWiring from "./EngineWiring.ts"
import * as Log from "./Log.ts"
import type * as Metrics from "./Metrics.ts"
import { emit, Output, paint } from "./Output.ts"
import * as PoolWiring from "./PoolWiring.ts"
import * as Propagation from "./Propagation.ts"
import { Shoppers } from "./Shoppers.ts"
import * as StoreWiring from "./StoreWiring.ts"

/** Waits until `done` holds (checked every 200 ms), at most `timeoutMs`; true when it held. */
const until = (done: () => Effect.Effect<boolean, unknown>, timeoutMs: number, onWait?: () => void) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (yield* done().pipe(Effect.orElseSucceed(() => false))) return true
      onWait?.()
      yield* Effect.sleep(Duration.millis(200))
    }
    return false
  })

/** The quantity each channel listing should show for the catalogue's starting stock. */
const expectedAtStart = (platforms: DemoWorld.Platforms, rules: Pool.PoolRules) => {
  const stock = new Map(platforms.catalogue.items.map((i) => [i.sku, i.stock]))
  const stockOf = (item: string): Pool.ItemStock => ({
    item,
    safetyStock: 0,
    held: 0,
    locations: [{ location: "WH-1", onHand: stock.get(item) ?? 0 }]
  })
  const out: Array<{ channel: Channel; sku: string; quantity: number }> = []
  for (const [channel, listings] of [
    [DemoWorld.names.tiktok, platforms.catalogue.tiktok],
    [DemoWorld.names.shopify, platforms.catalogue.shopify]
  ] as const) {
    for (const l of listings) {
      out.push({
        channel,
        sku: l.sku,
        quantity: Pool.publish({ connection: channel, externalSku: l.sku, components: l.components }, stockOf, rules)
          .published
      })
    }
  }
  return out
}

/** Runs the demo; resolves to the summary. */
export const run = (options: {
  readonly durationMs: number
  readonly rate: number
  readonly seed: number
  readonly keep: boolean
}): Effect.Effect<DemoSummary.Summary, CliFailure, Output | Metrics.Metrics> =>
  Effect.gen(function* () {
    const out = yield* Output
    const say = (text: string) => (out.json ? out.writeErr(`${text}\n`) : out.write(`${text}\n`))
    const expectedUnits = (options.rate * options.durationMs) / 1000
    const catalogue = DemoWorld.demoCatalogue(Math.max(1, expectedUnits / 60))
    say(
      paint(out, "bold", "tkbridge demo") +
        paint(
          out,
          "dim",
          `  (seed ${options.seed}, ${options.rate} orders/s for ${Math.round(options.durationMs / 1000)} s)`
        )
    )
    say("  starting the TikTok Shop, Shopify and 4PX sandboxes and an ERP (Memory platform)…")
    const platforms = yield* Effect.acquireRelease(
      Effect.promise(() => DemoWorld.startPlatforms({ catalogue, seed: options.seed })),
      (p) => Effect.promise(() => p.close())
    )
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkbridge-demo-"))),
      (d) => Effect.sync(() => (options.keep ? undefined : Fs.rmSync(d, { recursive: true, force: true })))
    )
    const port = yield* Effect.promise(() => DemoWorld.freePort())
    const written = DemoWorld.config(platforms, { port })
    const file = DemoWorld.writeConfig(dir, written.yaml)
    const loaded = yield* ConfigLoader.load(file, { env: { ...process.env, ...written.env } }).pipe(
      Effect.mapError((e) => new CliFailure({ message: `the demo's config is not valid: ${e.message}`, exitCode: 1 }))
    )
    yield* DemoWorld.saveGrants(loaded, platforms).pipe(
      Effect.mapError((e) => new CliFailure({ message: e.message, exitCode: 1 }))
    )
    if (options.keep) {
      // The sandboxes' secrets die with them; kept so the operator commands can read the config.
      const envFile = Path.join(dir, "demo.env")
      Fs.writeFileSync(
        envFile,
        Object.entries(written.env)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(""),
        { mode: 0o600 }
      )
      say(`  runner config ${file} (kept; load ${envFile} before \`tkbridge stock -c ${file}\`)`)
    } else say(`  runner config ${file} (removed at the end; --keep keeps it)`)
    const logFile = Path.join(dir, "tkbridge.log")
    const log = Fs.createWriteStream(logFile, { flags: "a" })
    yield* Effect.addFinalizer(() => Effect.promise(() => new Promise<void>((r) => log.end(() => r()))))
    say(`  runner logs   ${logFile}`)
    return yield* live(platforms, loaded, port, options).pipe(
      Effect.provide(Layer.merge(Log.layerFile(log), Logger.minimumLogLevel(LogLevel.Info)))
    )
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      LedgerUnavailable: (e) => new CliFailure({ message: e.message, exitCode: 1 }),
      StoreError: (e) => new CliFailure({ message: e.message, exitCode: 1 })
    })
  )

/** The runner, the shoppers, the settling and the summary (logs go to the run's log file). */
const live = (
  platforms: DemoWorld.Platforms,
  loaded: ConfigLoader.LoadedConfig,
  port: number,
  options: { readonly durationMs: number; readonly rate: number; readonly seed: number }
) =>
  Effect.gen(function* () {
    const out = yield* Output
    const say = (text: string) => (out.json ? out.writeErr(`${text}\n`) : out.write(`${text}\n`))
    const timeline = new ChannelTimeline(platforms)
    yield* Effect.addFinalizer(() => Effect.sync(() => timeline.stop()))
    const running = yield* EngineWiring.start(loaded, { port })
    DemoWorld.subscribe(platforms, running.baseUrl)
    const rules = loaded.config.pool === undefined ? Pool.PoolRules.make({}) : PoolWiring.poolRules(loaded.config.pool)

    const expected = expectedAtStart(platforms, rules)
    const published = yield* until(
      () => Effect.succeed(expected.every((e) => shown(platforms, e.channel, e.sku) === e.quantity)),
      60_000
    )
    say(
      published
        ? `  the pool is published: ${expected.length} listings on ${DemoWorld.names.tiktok} and ${DemoWorld.names.shopify}`
        : paint(out, "yellow", "  the channels do not show the pool's quantities yet; shopping starts anyway")
    )

    const ledger = Effect.provide(Ledger.Ledger, running.store)
    const reservedIds = new Set<string>()
    const countReserved = (orders: ReadonlyArray<Propagation.AcceptedOrder>) =>
      Effect.gen(function* () {
        const l = yield* ledger
        for (const o of orders) {
          const id = `${o.channel}/${o.orderId}`
          if (reservedIds.has(id)) continue
          if ((yield* l.reservations(o.channel, o.orderId)).length > 0) reservedIds.add(id)
        }
        return reservedIds.size
      })
    const deadLetters = Effect.provide(
      Effect.flatMap(DeadLetter.DeadLetters, (d) => d.count({ status: "open" })),
      running.store
    )
    const shoppers = new Shoppers(platforms, timeline, {
      seed: options.seed,
      rate: options.rate,
      race: { item: "LAMP-LTD", at: 0.6, shoppers: 8 }
    })
    const progress = (label: string, elapsed: number) =>
      Effect.gen(function* () {
        const stats = shoppers.stats()
        const reserved = yield* countReserved(stats.accepted)
        const tracked = DemoSummary.channelOrders(platforms).filter((o) => o.tracking.length > 0).length
        const delays = Propagation.measure({
          orders: stats.accepted.filter((o) => o.at < Date.now() - 2_000),
          initial: new Map(platforms.catalogue.items.map((i) => [i.sku, i.stock])),
          listings: new Map<Channel, ReadonlyArray<DemoWorld.DemoListing>>([
            [DemoWorld.names.tiktok, platforms.catalogue.tiktok],
            [DemoWorld.names.shopify, platforms.catalogue.shopify]
          ]),
          rules,
          timeline: timeline.snapshot()
        }).delays
        const p95 = Propagation.percentile(delays, 95)
        const dlq = yield* deadLetters.pipe(Effect.orElseSucceed(() => 0))
        const line = `  ${label} ${String(Math.round(elapsed / 1000)).padStart(3)}s  orders ${stats.accepted.length} · reserved ${reserved} · tracking back ${tracked} · sold out ${stats.soldOut} · dead letters ${dlq} · sync p95 ${p95 === undefined ? "-" : `${p95} ms`}`
        if (out.isTty && !out.json) process.stdout.write(`\r\u001b[2K${line}`)
        else say(line)
      }).pipe(Effect.ignore)

    say(`  shoppers are buying (${paint(out, "dim", "Ctrl-C stops the demo")})`)
    const runtime = yield* Effect.runtime<never>()
    let lastTick = 0
    yield* Effect.promise((signal) =>
      shoppers.run(
        options.durationMs,
        (elapsed) => {
          // Terminal: redraw every second; logs: a line every five.
          if (!out.isTty && elapsed - lastTick < 5_000) return
          lastTick = elapsed
          void Effect.runPromise(Effect.provide(progress("shopping", elapsed), runtime.context))
        },
        signal
      )
    )
    if (out.isTty && !out.json) process.stdout.write("\n")

    // Let the pipeline settle: every accepted order reserved, shipped and tracked back, every push out.
    const accepted = shoppers.stats().accepted
    const settleStarted = Date.now()
    yield* until(
      () =>
        Effect.gen(function* () {
          const reserved = yield* countReserved(accepted)
          const tracked = DemoSummary.channelOrders(platforms).filter((o) => o.tracking.length > 0).length
          const status = yield* running.engine.status
          return reserved >= accepted.length && tracked >= accepted.length && status.totals.stockBacklog === 0
        }),
      60_000,
      () => {
        if (out.isTty && !out.json)
          void Effect.runPromise(Effect.provide(progress("settling", Date.now() - settleStarted), runtime.context))
      }
    )
    if (out.isTty && !out.json) process.stdout.write("\n")
    const summary = yield* DemoSummary.compute({
      platforms,
      timeline,
      shopping: shoppers.stats(),
      rules,
      quotas: Object.fromEntries(
        [...loaded.connections.keys()].map((c) => [c, StoreWiring.quotaPolicy(loaded, c).daily])
      )
    }).pipe(Effect.provide(running.store))
    yield* emit(
      (o) => `${DemoSummary.render(o, summary)}\n`,
      () => summary
    )
    if (summary.oversold > 0 || summary.lost.length > 0) {
      return yield* new CliFailure({
        message: summary.oversold > 0 ? `${summary.oversold} unit(s) oversold` : `${summary.lost.length} order(s) lost`,
        exitCode: 1,
        printed: true
      })
    }
    return summary
  })
