/**
 * End to end, as a seller runs it: the built `tkbridge run` binary, from a `tkbridge.yaml` written for
 * local TikTok Shop, Shopify and 4PX sandboxes and a Memory platform standing in for the ERP. Every
 * assertion reads the sandboxes (what buyers see, what the carrier booked, what the channel shows as
 * shipped) or the CLI's own output, never the runner's internals:
 *
 * - the ERP's stock reaches both channels;
 * - orders for the same item on both channels lower it on both channels, each order gets a 4PX parcel
 *   and its tracking number is written back to the channel it came from;
 * - a push TikTok refuses (a sandbox fault) shows up in `tkbridge dlq list`, and once the fault is gone
 *   `tkbridge dlq replay` (through the running runner, which owns the store) delivers it;
 * - `tkbridge stock` publishes what the channels show, and `--explain` names the bundle's limiting item;
 * - SIGTERM stops the runner cleanly (exit code 0);
 * - `tkbridge demo`, the README's first command, runs end to end with nothing oversold or lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DemoWorld from "../src/DemoWorld.ts"
import { tempDir, tkbridge } from "./support/Cli.ts"
import { eventually, launch } from "./support/Runner.ts"

const { names } = DemoWorld

/** Two plain items and a TikTok bundle of both. */
const catalogue: DemoWorld.Catalogue = {
  items: [
    { sku: "MUG", title: "Mug", stock: 20 },
    { sku: "TEA", title: "Tea", stock: 30 }
  ],
  tiktok: [
    { sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] },
    { sku: "TT-TEA", title: "Tea", components: [{ item: "TEA", qty: 1 }] },
    {
      sku: "TT-SET",
      title: "Mug and tea",
      components: [
        { item: "MUG", qty: 1 },
        { item: "TEA", qty: 2 }
      ]
    }
  ],
  shopify: [
    { sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] },
    { sku: "TEA", title: "Tea", components: [{ item: "TEA", qty: 1 }] }
  ]
}

const recipient = {
  name: "Olivia Smith",
  phone: "(+44)7700900001",
  addressLine1: "12 High Street",
  city: "London",
  state: "England",
  postalCode: "EC1A 1BB",
  regionCode: "GB"
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

let platforms: DemoWorld.Platforms

/** What each channel shows, and every stock write it took (Shopify's with the quantity it expected). */
const channelState = (): string =>
  [
    ...["TT-MUG", "TT-TEA", "TT-SET"].map((sku) => `tiktok ${sku}: ${platforms.tiktok.stock(sku)}`),
    ...["MUG", "TEA"].map((sku) => `shopify ${sku}: ${platforms.shopify.available(sku)}`),
    ...platforms.tiktok.requestsTo("inventory.update").map((r) => `tiktok write ${r.status} ${r.text}`),
    ...platforms.shopify.server
      .requestsTo("graphql")
      .filter((r) => r.text.includes("inventorySetQuantities"))
      .map(
        (r) => `shopify write ${r.status} ${JSON.stringify((JSON.parse(r.text) as { variables?: unknown }).variables)}`
      )
  ].join("\n")

/** Every webhook the channels sent and how each attempt went: a stall is often an ack that came too late. */
const webhookHistory = (): string =>
  [
    ...platforms.tiktok.webhooks.notifications.map(
      (n) => `tiktok type ${n.type} ${n.state}: ${n.attempts.map((a) => a.status || a.error).join(", ")}`
    ),
    ...platforms.shopify
      .deliveries()
      .map(
        (d) =>
          `shopify ${d.topic} ${d.state}: ${d.attempts.map((a) => `${a.status || a.error} in ${a.durationMs} ms`).join(", ")}`
      )
  ].join("\n")

beforeAll(async () => {
  platforms = await DemoWorld.startPlatforms({ catalogue, seed: 3 })
})

afterAll(async () => {
  await platforms?.close()
})

describe("tkbridge run and tkbridge demo against the sandboxes", () => {
  it("publishes the ERP's stock to both channels, ships orders from both through 4PX with tracking back, and replays a refused push from the dead-letter queue", async () => {
    // The channels give an ack 3 s (TikTok) or 5 s (Shopify) and retry minutes later; on a loaded
    // machine the runner can miss that, as it can in production, and the reconciliation poll is the
    // backstop. Polling every 10 s keeps the seller-visible outcome within the test's waits.
    const { dir, port, written, env, runner } = await launch(platforms, { guards: false, reconcileEvery: "10s" })
    let stopped = false
    try {
      DemoWorld.subscribe(platforms, `http://127.0.0.1:${port}`)
      const { tiktok, shopify, fourpx } = platforms

      // The ERP's stock reaches both channels (the bundle: min(20, 30 / 2)).
      await eventually("both channels show the ERP's stock", () =>
        [
          tiktok.stock("TT-MUG"),
          tiktok.stock("TT-TEA"),
          tiktok.stock("TT-SET"),
          shopify.available("MUG"),
          shopify.available("TEA")
        ].every((q, i) => q === [20, 30, 15, 20, 30][i])
      )

      // The same item bought on both channels.
      const onTikTok = tiktok.placeOrder({ lines: [{ sku: "TT-MUG", qty: 2 }], recipient })
      const onShopify = shopify.placeOrder({
        lines: [{ sku: "MUG", quantity: 3 }],
        financialStatus: "PAID",
        shippingAddress
      })
      await eventually(
        "both channels show MUG at 15 and the bundle at 15",
        () => tiktok.stock("TT-MUG") === 15 && shopify.available("MUG") === 15 && tiktok.stock("TT-SET") === 15
      )
      await eventually(
        "tracking numbers are back on both orders",
        () => tiktok.shipments(onTikTok).length > 0 && shopify.fulfillments(onShopify).length > 0
      )
      const parcels = fourpx.parcels()
      expect(parcels).toHaveLength(2)
      const booked = new Set(parcels.map((p) => p.trackingNumber))
      expect(booked.has(tiktok.shipments(onTikTok)[0]!.trackingNumber)).toBe(true)
      expect(booked.has(shopify.fulfillments(onShopify)[0]!.tracking[0]!.number!)).toBe(true)

      // /metrics is fed from the engine: the propagation samples of both channels are in.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      for (const channel of [names.tiktok, names.shopify]) {
        const count = new RegExp(`tkbridge_propagation_delay_seconds_count\\{channel="${channel}"\\} (\\d+)`).exec(
          metrics
        )
        expect(Number(count?.[1] ?? 0), metrics).toBeGreaterThan(0)
      }
      expect(metrics).toMatch(new RegExp(`tkbridge_outbox_depth\\{connection="${names.tiktok}"\\} \\d+`))

      const orders = await tkbridge(dir, ["orders", "--json"], env)
      expect(orders.code, orders.stderr).toBe(0)
      const listed = (JSON.parse(orders.stdout) as { orders: ReadonlyArray<{ orderId: string; connection: string }> })
        .orders
      expect(listed.map((o) => `${o.connection}/${o.orderId}`).sort()).toEqual(
        [`${names.shopify}/${onShopify}`, `${names.tiktok}/${onTikTok}`].sort()
      )

      // TikTok refuses stock writes for a while: the next push to it ends in the dead-letter queue.
      tiktok.fault("inventory.update", tiktok.tiktokError(12052901, { message: "The product is under review." }))
      shopify.placeOrder({ lines: [{ sku: "TEA", quantity: 4 }], financialStatus: "PAID", shippingAddress })
      type Letter = { id: number; connection: string; kind: string; reason: string; key: string }
      let letters: ReadonlyArray<Letter> = []
      await eventually("the refused push is in the dead-letter queue", async () => {
        const list = await tkbridge(dir, ["dlq", "list", "--json", "--connection", names.tiktok], env)
        letters = (JSON.parse(list.stdout) as { letters: ReadonlyArray<Letter> }).letters
        return letters.length > 0
      })
      expect(letters[0]).toMatchObject({ connection: names.tiktok, kind: "stock_push", reason: "rejected" })
      expect(tiktok.stock("TT-TEA")).toBe(30)
      expect(shopify.available("TEA")).toBe(26)

      const shown = await tkbridge(dir, ["dlq", "show", String(letters[0]!.id)], env)
      expect(shown.code).toBe(0)
      expect(shown.stdout).toContain("The product is under review.")
      expect(shown.stdout).toMatch(/curl .*inventory\/update/)

      tiktok.clearFaults("inventory.update")
      const replay = await tkbridge(dir, ["dlq", "replay", ...letters.map((l) => String(l.id))], env)
      expect(replay.code, replay.stderr).toBe(0)
      expect(replay.stdout).toContain("the running tkbridge is delivering them")
      await eventually(
        "the replayed push reaches TikTok",
        () => tiktok.stock("TT-TEA") === 26 && tiktok.stock("TT-SET") === 13
      )
      const open = await tkbridge(dir, ["dlq", "list", "--json"], env)
      expect((JSON.parse(open.stdout) as { total: number }).total).toBe(0)

      // The pool table publishes what the channels now show, and explains the bundle's number.
      const stock = await tkbridge(dir, ["stock", "--json"], env)
      type Row = { connection: string; externalSku: string; published: number }
      const rows = (
        JSON.parse(stock.stdout) as { items: ReadonlyArray<{ listings: ReadonlyArray<Row> }> }
      ).items.flatMap((i) => i.listings)
      const show = (r: Row) =>
        r.connection === names.tiktok ? tiktok.stock(r.externalSku) : shopify.available(r.externalSku)
      expect(new Set(rows.map((r) => `${r.connection}/${r.externalSku}`)).size).toBe(5)
      for (const r of rows) expect(r.published, `${r.connection}/${r.externalSku}`).toBe(show(r))
      const why = await tkbridge(dir, ["stock", "--explain", names.tiktok, "TT-SET"], env)
      expect(why.stdout).toContain(`${names.tiktok} / TT-SET is published at 13`)
      expect(why.stdout).toContain("base 13 (limited by TEA)")

      const code = await runner.stop()
      stopped = true
      expect(code, runner.output()).toBe(0)
      for (const secret of Object.values(written.env)) expect(runner.output()).not.toContain(secret)
    } catch (error) {
      // What the runner said is what explains a stall.
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- channels ---\n${channelState()}\n--- webhooks ---\n${webhookHistory()}\n--- runner output ---\n${runner.output()}`
      )
    } finally {
      if (!stopped) await runner.stop()
    }
  })

  it("tkbridge demo runs end to end and sells nothing twice", async () => {
    const demo = await tkbridge(tempDir("tkbridge-demo-"), [
      "demo",
      "--duration",
      "3s",
      "--rate",
      "4",
      "--seed",
      "5",
      "--json"
    ])
    expect(demo.code, demo.stderr).toBe(0)
    const summary = JSON.parse(demo.stdout) as {
      orders: { total: number }
      reserved: number
      shippedWithTracking: number
      oversold: number
      lost: ReadonlyArray<string>
      race: { accepted: Record<string, number> }
    }
    expect(summary.orders.total).toBeGreaterThan(0)
    expect(summary.oversold).toBe(0)
    expect(summary.lost).toEqual([])
    expect(summary.reserved).toBe(summary.orders.total)
    // The lamp's last four units went to the priority channel only.
    expect(summary.race.accepted).toEqual({ [names.tiktok]: 4, [names.shopify]: 0 })
  })
})
