/**
 * Graceful shutdown, as a seller's service manager does it: `tkbridge run` over the sandboxes gets
 * SIGTERM while a partner call is out, held up by the sandbox. The process must exit 0 after the
 * call finished, and what the call did must be what the runner recorded — read from the sandbox
 * and, after the process is gone, from the store through the CLI.
 *
 * - A 4PX parcel booking whose answer is held up after the parcel was made: the booking is recorded
 *   (`tkbridge orders` shows the parcel), and the next `tkbridge run` carries the order on to the
 *   tracking number on Shopify without booking the parcel twice.
 * - A TikTok stock write held up before it takes effect: the channel ends at the new quantity and
 *   `tkbridge stock` shows the write done, not pending (`Engine.stop` counts the stock lanes' writes
 *   as in flight and starts no new one).
 */
import { describe, expect, it } from "vitest"
import * as DemoWorld from "../src/DemoWorld.ts"
import { start, tkbridge } from "./support/Cli.ts"
import { eventually, launch } from "./support/Runner.ts"

const { names } = DemoWorld

const catalogue: DemoWorld.Catalogue = {
  items: [{ sku: "MUG", title: "Mug", stock: 20 }],
  tiktok: [{ sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }],
  shopify: [{ sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }]
}

const shippingAddress = {
  firstName: "Jack",
  lastName: "Taylor",
  phone: "+447700900002",
  address1: "3 Station Road",
  city: "Leeds",
  provinceCode: "England",
  zip: "LS1 4AP",
  countryCode: "GB"
}

/** How long the sandboxes hold the call: well past the signal, well inside the 15 s stop budget. */
const HOLD_MS = 3_000

type Recorded = ReadonlyArray<{ readonly status: number | undefined }>
const inFlight = (requests: Recorded) => requests.some((r) => r.status === undefined)
const answered = (requests: Recorded) => requests.length > 0 && requests.every((r) => r.status !== undefined)

/** Runs `body` against fresh platforms and a started runner; on failure, says what the runner logged. */
const scenario = async (
  options: { readonly fulfilment: boolean },
  body: (
    platforms: DemoWorld.Platforms,
    launched: Awaited<ReturnType<typeof launch>>,
    stopped: () => void
  ) => Promise<void>
) => {
  const platforms = await DemoWorld.startPlatforms({ catalogue, seed: 11 })
  let launched: Awaited<ReturnType<typeof launch>> | undefined
  let done = false
  try {
    launched = await launch(platforms, { guards: false, fulfilment: options.fulfilment })
    DemoWorld.subscribe(platforms, `http://127.0.0.1:${launched.port}`)
    await eventually(
      "both channels show the ERP's stock",
      () => platforms.tiktok.stock("TT-MUG") === 20 && platforms.shopify.available("MUG") === 20
    )
    await body(platforms, launched, () => {
      done = true
    })
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- runner output ---\n${launched?.runner.output() ?? ""}`
    )
  } finally {
    if (launched !== undefined && !done) await launched.runner.stop()
    await platforms.close()
  }
}

describe("tkbridge run stops gracefully on SIGTERM", () => {
  it("with a 4PX parcel booking in flight: exits 0 after the answer, records the parcel, and the next start ships the order once", async () => {
    await scenario({ fulfilment: true }, async (platforms, { dir, env, runner }, stopped) => {
      const { shopify, fourpx } = platforms
      // The next booking takes effect at once; its answer comes HOLD_MS later.
      fourpx.fault("ds.xms.order.create", { latencyMs: HOLD_MS, afterEffect: true, times: 1 })
      const order = shopify.placeOrder({
        lines: [{ sku: "MUG", quantity: 3 }],
        financialStatus: "PAID",
        shippingAddress
      })
      await eventually("4PX's booking is in flight", () => inFlight(fourpx.requests("ds.xms.order.create")), 30_000)

      const code = await runner.stop()
      stopped()
      expect(code, runner.output()).toBe(0)
      // The process waited for the answer instead of dropping it.
      expect(answered(fourpx.requests("ds.xms.order.create"))).toBe(true)
      const parcels = fourpx.parcels()
      expect(parcels).toHaveLength(1)

      // The store, read after the process is gone, has the booking.
      const orders = await tkbridge(dir, ["orders", "--json"], env)
      expect(orders.code, orders.stderr).toBe(0)
      type OrderRow = { orderId: string; state: string; parcel?: { connection: string; outcome: string } }
      const row = (JSON.parse(orders.stdout) as { orders: ReadonlyArray<OrderRow> }).orders.find(
        (o) => o.orderId === order
      )
      expect(row?.parcel, orders.stdout).toMatchObject({ connection: names.fourpx })
      expect(
        (JSON.parse((await tkbridge(dir, ["dlq", "list", "--json"], env)).stdout) as { total: number }).total
      ).toBe(0)

      // The next start carries the order on: tracking back on Shopify, still one parcel at 4PX.
      const again = start(dir, ["run"], env)
      try {
        await eventually(
          "the order's tracking number is on Shopify",
          () => shopify.fulfillments(order).length > 0 || again.child.exitCode !== null
        )
        expect(again.child.exitCode, again.output()).toBeNull()
        expect(shopify.fulfillments(order)[0]!.tracking[0]!.number).toBe(parcels[0]!.trackingNumber)
        expect(fourpx.parcels()).toHaveLength(1)
        expect(fourpx.count(parcels[0]!.reference)).toBe(1)
      } finally {
        expect(await again.stop(), again.output()).toBe(0)
      }
    })
  })

  // The stock lanes' writes count as in flight: the stop waits for the answer and its settlement.
  it("with a TikTok stock write in flight: exits 0 after the answer, the channel holds the new quantity and the store shows it written", async () => {
    await scenario({ fulfilment: false }, async (platforms, { dir, env, runner }, stopped) => {
      const { tiktok, shopify } = platforms
      // The next stock write to TikTok takes effect only after HOLD_MS.
      tiktok.fault("inventory.update", { latencyMs: HOLD_MS, times: 1 })
      const before = tiktok.requestsTo("inventory.update").length
      shopify.placeOrder({ lines: [{ sku: "MUG", quantity: 3 }], financialStatus: "PAID", shippingAddress })
      await eventually(
        "TikTok's stock write is in flight",
        () => tiktok.requestsTo("inventory.update").length > before && inFlight(tiktok.requestsTo("inventory.update")),
        30_000
      )

      const code = await runner.stop()
      stopped()
      expect(code, runner.output()).toBe(0)
      // The process waited for the answer instead of dropping it …
      expect(answered(tiktok.requestsTo("inventory.update"))).toBe(true)
      expect(tiktok.stock("TT-MUG")).toBe(17)

      // … and the store, read after the process is gone, records the write as done.
      const stock = await tkbridge(dir, ["stock", "--json"], env)
      expect(stock.code, stock.stderr).toBe(0)
      type Row = {
        connection: string
        externalSku: string
        published: number
        channel: { quantity?: number; pending: boolean; dead: boolean }
      }
      const rows = (
        JSON.parse(stock.stdout) as { items: ReadonlyArray<{ listings: ReadonlyArray<Row> }> }
      ).items.flatMap((i) => i.listings)
      expect(rows.find((r) => r.connection === names.tiktok && r.externalSku === "TT-MUG")).toMatchObject({
        published: 17,
        channel: { quantity: 17, pending: false, dead: false }
      })
    })
  })
})
