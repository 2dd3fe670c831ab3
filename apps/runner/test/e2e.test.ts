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
 * - `/metrics` shows what the runner is doing: inbox and outbox depth, dead letters (1 while the
 *   refused push waits, 0 once replayed), quota used and the daily limit, seconds to token expiry,
 *   the propagation delay and the webhook answer time, per connection or channel;
 * - `tkbridge stock` publishes what the channels show, and `--explain` names the bundle's limiting item;
 * - `tkbridge audit` lists the writes made for each order;
 * - SIGTERM stops the runner cleanly (exit code 0);
 * - no buyer's name, phone, street, postcode or e-mail reaches the runner's logs (at debug level) or
 *   the audit trail, and no secret reaches the logs;
 * - `tkbridge demo`, the README's first command, runs end to end with nothing oversold or lost, and
 *   its JSON log file names none of its simulated buyers.
 */
import * as Fs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DemoWorld from "../src/DemoWorld.ts"
import * as Shoppers from "../src/Shoppers.ts"
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

const buyer = { email: "olivia.smith@example.com" }
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

/** What identifies the two buyers: none of it may reach a log line or the audit trail. */
const personalData = [
  "Olivia",
  "Smith",
  "7700900001",
  "12 High Street",
  "EC1A 1BB",
  buyer.email,
  "Jack",
  "Taylor",
  "7700900002",
  "3 Station Road",
  "LS1 4AP"
]

/** `/metrics`, with each series' value by its name and labels (as `name{a="x",b="y"}`, keys sorted). */
const scrape = async (port: number) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const series = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const space = line.lastIndexOf(" ")
    series.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  const key = (name: string, labels: Record<string, string>) =>
    `${name}{${Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]}"`)
      .join(",")}}`
  return {
    text,
    /** The series' value, or undefined when `/metrics` does not show it. */
    value: (name: string, labels: Record<string, string>) => series.get(key(name, labels))
  }
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
    // Debug logs too: personal data must not reach any level.
    const { dir, port, written, env, runner } = await launch(platforms, {
      guards: false,
      reconcileEvery: "10s",
      args: ["--log-level", "debug"]
    })
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
      // The pool read the ERP before the channels were paired: no listing was published 0 on the way.
      const stockWrites = [
        ...tiktok.requestsTo("inventory.update").map((r) => r.text),
        ...shopify.server
          .requestsTo("graphql")
          .filter((r) => r.text.includes("inventorySetQuantities"))
          .map((r) => r.text)
      ]
      expect(stockWrites.length).toBeGreaterThan(0)
      expect(stockWrites.filter((text) => /"quantity":0[,}]/.test(text))).toEqual([])

      // The same item bought on both channels.
      const onTikTok = tiktok.placeOrder({ lines: [{ sku: "TT-MUG", qty: 2 }], recipient, buyer })
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

      // /metrics is fed from the engine. Once both orders are shipped, nothing waits in any queue.
      const connections = [names.tiktok, names.shopify, names.fourpx, names.erp]
      await eventually(
        "/metrics shows every inbox and outbox empty",
        async () => {
          const m = await scrape(port)
          return connections.every(
            (connection) =>
              m.value("tkbridge_inbox_depth", { connection }) === 0 &&
              m.value("tkbridge_outbox_depth", { connection }) === 0
          )
        },
        30_000
      )
      const metrics = await scrape(port)
      for (const connection of connections) {
        expect(metrics.value("tkbridge_dlq_size", { connection }), connection).toBe(0)
      }
      // Calls spent today: every connection that made calls shows them, with or without a daily quota;
      // TikTok's plan has one, and it is far from used up.
      for (const connection of connections) {
        expect(metrics.value("tkbridge_quota_used", { connection }), connection).toBeGreaterThan(0)
      }
      const used = metrics.value("tkbridge_quota_used", { connection: names.tiktok })
      expect(used, metrics.text).toBeGreaterThan(0)
      expect(metrics.value("tkbridge_quota_limit", { connection: names.tiktok })).toBeGreaterThan(used! * 100)
      // Each OAuth grant: TikTok's 7-day access token within a 365-day authorization; Shopify's and
      // the ERP's shorter ones, still valid.
      const day = 86_400
      const token = metrics.value("tkbridge_token_expiry_seconds", { connection: names.tiktok })
      expect(token, metrics.text).toBeGreaterThan(6 * day)
      expect(token).toBeLessThanOrEqual(7 * day)
      const authorization = metrics.value("tkbridge_refresh_token_expiry_seconds", { connection: names.tiktok })
      expect(authorization).toBeGreaterThan(364 * day)
      expect(authorization).toBeLessThanOrEqual(365 * day)
      for (const connection of [names.shopify, names.erp]) {
        expect(metrics.value("tkbridge_token_expiry_seconds", { connection }), connection).toBeGreaterThan(0)
        expect(metrics.value("tkbridge_refresh_token_expiry_seconds", { connection }), connection).toBeGreaterThan(
          metrics.value("tkbridge_token_expiry_seconds", { connection })!
        )
      }
      // 4PX is configured with an API key: no token to expire.
      expect(metrics.value("tkbridge_token_expiry_seconds", { connection: names.fourpx })).toBeUndefined()
      for (const channel of [names.tiktok, names.shopify]) {
        // Stock propagation samples of both channels, none slower than the test's own waits.
        const changes = metrics.value("tkbridge_propagation_delay_seconds_count", { channel })
        expect(changes, metrics.text).toBeGreaterThan(0)
        expect(metrics.value("tkbridge_propagation_delay_seconds_sum", { channel })! / changes!).toBeLessThan(60)
        expect(metrics.value("tkbridge_propagation_delay_seconds_bucket", { channel, le: "+Inf" })).toBe(changes)
        // Both channels' webhooks were answered, on average well inside TikTok's 3 s.
        const acks = metrics.value("tkbridge_webhook_ack_seconds_count", { connection: channel })
        expect(acks, metrics.text).toBeGreaterThan(0)
        expect(metrics.value("tkbridge_webhook_ack_seconds_sum", { connection: channel })! / acks!).toBeLessThan(3)
        expect(metrics.value("tkbridge_webhook_ack_seconds_bucket", { connection: channel, le: "+Inf" })).toBe(acks)
      }

      // The audit trail has each order's writes: the parcel booked at 4PX and the tracking sent back.
      for (const [connection, order] of [
        [names.tiktok, onTikTok],
        [names.shopify, onShopify]
      ] as const) {
        const trail = await tkbridge(dir, ["audit", "--json", "--listing", order, "--kind", "write"], env)
        expect(trail.code, trail.stderr).toBe(0)
        const entries = (
          JSON.parse(trail.stdout) as {
            entries: ReadonlyArray<{ subject?: string; connection?: string; action: string; kind: string }>
          }
        ).entries
        expect(entries.every((e) => e.subject === order && e.kind === "write")).toBe(true)
        expect(entries.map((e) => `${e.connection}:${e.action}`)).toEqual(
          expect.arrayContaining([`${names.fourpx}:shipment.create`, `${connection}:fulfillment.push`])
        )
      }

      type Listed = {
        orderId: string
        connection: string
        parcels: ReadonlyArray<{ fulfiller: string; trackingNumber?: string; label?: { url?: string } }>
      }
      let listed: ReadonlyArray<Listed> = []
      // The label is fetched right after the tracking number went back: give it that moment.
      await eventually("orders lists each parcel with its label", async () => {
        const orders = await tkbridge(dir, ["orders", "--json"], env)
        expect(orders.code, orders.stderr).toBe(0)
        listed = (JSON.parse(orders.stdout) as { orders: ReadonlyArray<Listed> }).orders
        return listed.length === 2 && listed.every((o) => o.parcels[0]?.label !== undefined)
      })
      expect(listed.map((o) => `${o.connection}/${o.orderId}`).sort()).toEqual(
        [`${names.shopify}/${onShopify}`, `${names.tiktok}/${onTikTok}`].sort()
      )
      // Each order's parcel is listed with the tracking number 4PX gave it and a link to its label.
      for (const o of listed) {
        expect(o.parcels, JSON.stringify(o)).toHaveLength(1)
        expect(booked.has(o.parcels[0]!.trackingNumber!)).toBe(true)
        expect(o.parcels[0]).toMatchObject({
          fulfiller: names.fourpx,
          label: { url: expect.stringMatching(/^https?:/) }
        })
      }

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
      expect((await scrape(port)).value("tkbridge_dlq_size", { connection: names.tiktok })).toBe(letters.length)
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
      expect((await scrape(port)).value("tkbridge_dlq_size", { connection: names.tiktok })).toBe(0)

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
      // The log (debug lines included) and the audit trail never name, call, locate or e-mail a buyer.
      const log = runner.output()
      expect(log).toContain('"level":"debug"')
      const audit = await tkbridge(dir, ["audit", "--json", "--limit", "10000"], env)
      expect(audit.code, audit.stderr).toBe(0)
      for (const pii of personalData) {
        expect(log.includes(pii), `the runner's log holds "${pii}"`).toBe(false)
        expect(audit.stdout.includes(pii), `the audit trail holds "${pii}"`).toBe(false)
      }
    } catch (error) {
      // What the runner said is what explains a stall.
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- channels ---\n${channelState()}\n--- webhooks ---\n${webhookHistory()}\n--- runner output ---\n${runner.output()}`
      )
    } finally {
      if (!stopped) await runner.stop()
    }
  })

  it("tkbridge demo runs end to end, sells nothing twice, and its log names no buyer", async () => {
    const demo = await tkbridge(tempDir("tkbridge-demo-"), [
      "demo",
      "--duration",
      "3s",
      "--rate",
      "4",
      "--seed",
      "5",
      "--json",
      "--keep"
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

    // The runner's JSON log file (kept with --keep): one object a line, none naming a buyer.
    const file = /runner logs\s+(\S+)/.exec(demo.stderr)?.[1]
    expect(file, demo.stderr).toBeDefined()
    const log = Fs.readFileSync(file!, "utf8")
    const lines = log.split("\n").filter((l) => l !== "")
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    const { familyNames, cities, streets } = Shoppers.buyerParts
    for (const pii of [...familyNames, ...streets, ...cities.map((c) => c.postalCode)]) {
      expect(log.includes(pii), `the demo's log holds "${pii}"`).toBe(false)
    }
    // The shoppers' phones (7700 and six digits) and any e-mail address.
    expect(log).not.toMatch(/7700\d{6}/)
    expect(log).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i)
  })
})
