/**
 * Full reconciliation, as a seller sees it: `tkbridge run` reads every stock source once at start
 * with a progress bar, and `tkbridge reconcile` polls every connection now — through the running
 * runner, or with an engine of its own when none runs — finding the orders whose webhooks never
 * came, with a progress bar on stderr and the counts on stdout (`--json` alike).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DemoWorld from "../src/DemoWorld.ts"
import { tkbridge } from "./support/Cli.ts"
import { eventually, launch } from "./support/Runner.ts"

const { names } = DemoWorld

const catalogue: DemoWorld.Catalogue = {
  items: [{ sku: "MUG", title: "Mug", stock: 20 }],
  tiktok: [{ sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }],
  shopify: [{ sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }]
}

const recipient = {
  name: "Amelia Jones",
  phone: "(+44)7700900003",
  addressLine1: "7 Church Lane",
  city: "Bristol",
  state: "England",
  postalCode: "BS1 4ST",
  regionCode: "GB"
}

interface ReconcileJson {
  readonly via: "runner" | "here"
  readonly connections: ReadonlyArray<{
    readonly connection: string
    readonly orders: { readonly read: number; readonly recorded: number }
    readonly stock: { readonly read: number; readonly applied: number }
  }>
}

let platforms: DemoWorld.Platforms

beforeAll(async () => {
  platforms = await DemoWorld.startPlatforms({ catalogue, seed: 13 })
})

afterAll(async () => {
  await platforms?.close()
})

describe("full reconciliation", () => {
  it("run reads the stock sources with a progress bar; reconcile finds an order whose webhook never came, through the runner and without one", async () => {
    // No webhooks are subscribed and the schedule's poll is an hour away: only a reconciliation
    // sees the orders placed here.
    const { dir, env, runner } = await launch(platforms, { fulfilment: false, guards: false, reconcileEvery: "1h" })
    let stopped = false
    try {
      const { tiktok, shopify } = platforms
      await eventually(
        "both channels show the ERP's stock",
        () => tiktok.stock("TT-MUG") === 20 && shopify.available("MUG") === 20
      )
      // Outside a terminal the bars print lines: where they got, then what they did.
      expect(runner.output()).toContain(`reconciling stock from ${names.erp}  [████████████████████] 1/1 100%`)
      expect(runner.output()).toMatch(
        new RegExp(`reconciling stock from ${names.erp} {2}done — 1 stock reading, 1 applied`)
      )

      const first = tiktok.placeOrder({ lines: [{ sku: "TT-MUG", qty: 2 }], recipient })
      const human = await tkbridge(dir, ["reconcile"], env)
      expect(human.code, human.stderr).toBe(0)
      const count = 4
      expect(human.stderr).toContain(`reconciling  [████████████████████] ${count}/${count} 100%`)
      expect(human.stderr).toMatch(/reconciling {2}done — \d+ orders and after-sales read, \d+ stock readings/)
      expect(human.stdout).toMatch(new RegExp(`${names.tiktok}\\s+1\\s+1\\s`))
      expect(human.stdout).toContain("the running tkbridge is applying them")
      // The runner applied it: the pool holds two mugs, and Shopify shows 18.
      await eventually("Shopify shows the TikTok order's mugs gone", () => shopify.available("MUG") === 18)
      const orders = await tkbridge(dir, ["orders", "--json"], env)
      expect((JSON.parse(orders.stdout) as { orders: ReadonlyArray<{ orderId: string }> }).orders).toEqual([
        expect.objectContaining({ orderId: first })
      ])

      // Asked again, the runner reads the order again and records nothing new; --json prints no bar.
      const again = await tkbridge(dir, ["reconcile", "--json", "--connection", names.tiktok], env)
      expect(again.code, again.stderr).toBe(0)
      expect(again.stderr).toBe("")
      const report = JSON.parse(again.stdout) as ReconcileJson
      expect(report.via).toBe("runner")
      expect(report.connections).toEqual([
        expect.objectContaining({ connection: names.tiktok, orders: { read: 1, recorded: 0 } })
      ])

      const code = await runner.stop()
      stopped = true
      expect(code, runner.output()).toBe(0)

      // No runner: the command runs the engine for the pass and records the new order.
      const second = tiktok.placeOrder({ lines: [{ sku: "TT-MUG", qty: 1 }], recipient })
      const alone = await tkbridge(dir, ["reconcile", "--json", "--connection", names.tiktok], env)
      expect(alone.code, alone.stderr).toBe(0)
      const here = JSON.parse(alone.stdout) as ReconcileJson
      expect(here.via).toBe("here")
      expect(here.connections).toEqual([
        expect.objectContaining({ connection: names.tiktok, orders: { read: 2, recorded: 1 } })
      ])
      expect(second).not.toBe(first)

      const unknown = await tkbridge(dir, ["reconcile", "--connection", "nope"], env)
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("no connection named nope")
    } catch (error) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- runner output ---\n${runner.output()}`
      )
    } finally {
      if (!stopped) await runner.stop()
    }
  })
})
