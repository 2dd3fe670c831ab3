/**
 * E2eBench: end-to-end stock propagation through a real `tkbridge run` — from an order on one
 * channel to every OTHER channel holding the new quantity — over at least 2,000 orders.
 *
 * Two processes, so the load never shares a CPU queue with what it measures: this one runs the
 * platforms (the TikTok Shop, Shopify and ERP sandboxes) and the shoppers; `tkbridge run` runs in a
 * child process on its own SQLite store, from a `tkbridge.yaml` written for those platforms, exactly
 * as a seller runs it. Shoppers buy plain SKUs (one or two units) at a steady rate on both channels.
 *
 * Every figure comes from the sandboxes' records (`ChannelTimeline`): the instant a shopper's order
 * was accepted, and the instants each other channel's quantity changed. An order's delay is the
 * longest, over the other channel's listings it touches, until that listing shows at most what the
 * pool should publish once the order is counted (availability from the ERP's stock minus every unit
 * the channels accepted, in order). `oversold` counts units the channels sold beyond the ERP's stock;
 * `lost` counts orders the channels accepted that the pool never reserved, or whose quantity never
 * reached the other channel.
 *
 * The default load is 10 orders a second (5 per channel) sustained for 2,000 orders: a busy shop's
 * peak, and what the shared 2-core machine sustains with room to spare. At 20 a second TikTok Shop's
 * inbox — one entry at a time per connection, each with an order-detail call — falls behind on that
 * machine and the delay grows with the queue (p95 7.5 s over 2,000 orders).
 */
import * as Child from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Ledger, Pool } from "@tkbridge/core"
import { Effect } from "effect"
import type { Channel } from "../src/ChannelTimeline.ts"
import { ChannelTimeline, shown } from "../src/ChannelTimeline.ts"
import * as ConfigLoader from "../src/ConfigLoader.ts"
import * as DemoSummary from "../src/DemoSummary.ts"
import * as DemoWorld from "../src/DemoWorld.ts"
import * as OpsStore from "../src/OpsStore.ts"
import * as Propagation from "../src/Propagation.ts"
import { Shoppers } from "../src/Shoppers.ts"

/** What `pnpm bench:e2e` writes. */
export interface Figures {
  readonly orders: number
  readonly p50_ms: number
  readonly p95_ms: number
  readonly p99_ms: number
  readonly oversold: number
  readonly lost: number
}

/** How the run is shaped. */
export interface Options {
  readonly orders: number
  /** Orders per second across both channels. */
  readonly rate: number
  readonly items: number
  readonly seed: number
}

const defaults: Options = { orders: 2_000, rate: 10, items: 40, seed: 7 }

const bin = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../src/bin.ts")
const log = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const waitFor = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await done()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Runs the benchmark and writes the figures to `out`. */
export const run = async (out: string, options: Partial<Options> = {}): Promise<Figures> => {
  const o = { ...defaults, ...options }
  // Enough stock that no item sells out: delays are measured on quantities that keep falling.
  const perItem = Math.ceil(((o.orders * 1.25 * 2) / o.items) * 1.5)
  const catalogue = DemoWorld.plainCatalogue(o.items, perItem)
  const platforms = await DemoWorld.startPlatforms({ catalogue, seed: o.seed })
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkbridge-bench-e2e-"))
  let child: Child.ChildProcess | undefined
  try {
    const port = await DemoWorld.freePort()
    const written = DemoWorld.config(platforms, { port, fulfilment: false, guards: false, reconcileEvery: "5m" })
    const file = DemoWorld.writeConfig(dir, written.yaml)
    const env = { ...process.env, ...written.env }
    const loaded = await Effect.runPromise(ConfigLoader.load(file, { env }))
    await Effect.runPromise(DemoWorld.saveGrants(loaded, platforms))
    const timeline = new ChannelTimeline(platforms)

    log(`bench:e2e — tkbridge run on ${file}`)
    child = Child.spawn(process.execPath, ["--conditions=@tkbridge/source", bin, "run", "--config", file], {
      env,
      stdio: ["ignore", Fs.openSync(Path.join(dir, "runner.log"), "a"), Fs.openSync(Path.join(dir, "runner.log"), "a")]
    })
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)))
    await waitFor(
      "the runner to answer /healthz",
      async () => {
        if (child?.exitCode !== null) throw new Error(`the runner exited: see ${Path.join(dir, "runner.log")}`)
        return fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status < 500,
          () => false
        )
      },
      120_000
    )
    DemoWorld.subscribe(platforms, `http://127.0.0.1:${port}`)
    const listings = [
      ...catalogue.tiktok.map((l) => [DemoWorld.names.tiktok, l] as const),
      ...catalogue.shopify.map((l) => [DemoWorld.names.shopify, l] as const)
    ]
    await waitFor(
      "the pool to be published on both channels",
      () => listings.every(([c, l]) => shown(platforms, c, l.sku) === perItem),
      120_000
    )
    log(`published ${listings.length} listings; ${o.orders} orders at ${o.rate}/s`)

    const shoppers = new Shoppers(platforms, timeline, {
      seed: o.seed,
      rate: o.rate,
      mixed: false,
      maxOrders: o.orders
    })
    const started = Date.now()
    await shoppers.run(((o.orders * 1.5) / o.rate) * 1000, (elapsed) => {
      if (Math.round(elapsed / 1000) % 10 === 0)
        log(`  ${Math.round(elapsed / 1000)} s: ${shoppers.stats().accepted.length} orders`)
    })
    const accepted = shoppers.stats().accepted
    log(`${accepted.length} orders in ${((Date.now() - started) / 1000).toFixed(1)} s; letting the channels settle`)

    const rules = Pool.PoolRules.make({})
    const input = () => ({
      orders: accepted,
      initial: new Map(catalogue.items.map((i) => [i.sku, i.stock])),
      listings: new Map<Channel, ReadonlyArray<DemoWorld.DemoListing>>([
        [DemoWorld.names.tiktok, catalogue.tiktok],
        [DemoWorld.names.shopify, catalogue.shopify]
      ]),
      rules,
      timeline: timeline.snapshot()
    })
    await waitFor(
      "every order to reach the other channel",
      () => Propagation.measure(input()).unreached.length === 0,
      60_000
    ).catch((e: unknown) => log(String(e)))
    const measured = Propagation.measure(input())
    const orders = DemoSummary.channelOrders(platforms)
    const sold = DemoSummary.soldUnits(platforms, orders)
    const oversold = catalogue.items.reduce((n, i) => n + Math.max(0, (sold.get(i.sku) ?? 0) - i.stock), 0)
    const reserved = await Effect.runPromise(
      OpsStore.withRead(
        loaded,
        Effect.flatMap(Ledger.Ledger, (ledger) =>
          Effect.forEach(orders, (order) => ledger.reservations(order.channel, order.orderId), { concurrency: 8 })
        )
      )
    )
    const lost = reserved.filter((r) => r.length === 0).length
    const pct = (p: number) => Math.round(Propagation.percentile(measured.delays, p) ?? Number.NaN)
    const figures: Figures = {
      orders: orders.length,
      p50_ms: pct(50),
      p95_ms: pct(95),
      p99_ms: pct(99),
      oversold,
      lost: lost + measured.unreached.length
    }
    timeline.stop()
    child.kill("SIGTERM")
    const code = await exited
    child = undefined
    log(`runner stopped (exit ${code}); ${JSON.stringify(figures)}`)
    Fs.mkdirSync(Path.dirname(out), { recursive: true })
    Fs.writeFileSync(out, `${JSON.stringify(figures)}\n`)
    return figures
  } finally {
    child?.kill("SIGKILL")
    await platforms.close()
    // TKB_BENCH_KEEP=1 keeps the run's folder (config, store, runner.log) to look into a slow run.
    if (process.env.TKB_BENCH_KEEP === undefined) Fs.rmSync(dir, { recursive: true, force: true })
    else log(`kept ${dir}`)
  }
}
