/**
 * Issue 9 — kill and restart under load. A child process runs the embedded engine (SQLite file,
 * webhook edge on a fixed port) against two Memory platforms living in the test process: a shop
 * (orders by webhook, lost webhooks recovered by polling, stock pushed to it, tracking written back)
 * and an ERP (stock source, items source, fulfiller). While 1,000 orders arrive and the ERP's stock
 * levels change, the child is SIGKILLed at seeded random instants more than twenty times and started
 * again each time; a last run completes the work and stops gracefully.
 *
 * Checked against the platforms' own state and the database afterwards: every order has exactly one
 * parcel at the ERP and exactly one fulfilment on the shop carrying that parcel's tracking number;
 * every order's lines are reserved once (per line, with its quantity) and committed; no parcel exists
 * for anything else; the shop shows, for every SKU, exactly the quantity the pool publishes.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { SandboxServer } from "@tkbridge/connector-testkit"
import { AccessToken, Ledger } from "@tkbridge/core"
import { EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { SqlLedger, SqlStore } from "@tkbridge/store-sql"
import { Effect, Layer, Schema } from "effect"
import * as Child from "./support/Child.ts"
import * as KillScenario from "./support/KillScenario.ts"
import { freePort, tempDir } from "./support/Roots.ts"

const totalOrders = 1_000
const kills = 22
const skus = Array.from({ length: 20 }, (_, i) => `SKU-${String(i + 1).padStart(2, "0")}`)
const encodeTokens = Schema.encodeSync(AccessToken.TokenSet)

interface Status {
  readonly inboxPending: number
  readonly inboxDead: number
  readonly stockBacklog: number
  readonly jobsPending: number
  readonly deadLetters: number
  /** The pool's quantity per shop SKU, as the node computes it. */
  readonly published: Readonly<Record<string, number>>
}

/** A folder on tmpfs, removed with the scope (a process crash is what is tested, not a power cut). */
const shmDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join("/dev/shm", "tkb-kill-"))),
  (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
)

const lastStatus = (child: Child.Child): Status | undefined => {
  for (let i = child.lines.length - 1; i >= 0; i--) {
    const line = child.lines[i]!
    if (line.startsWith("status ")) return JSON.parse(line.slice("status ".length)) as Status
  }
  return undefined
}

describe("issue 9: kill -9 and restart while orders and stock changes flow (embedded)", () => {
  it.live(
    `${totalOrders} orders, ${kills} kills: each order applied once, every push landed, nothing duplicated downstream`,
    () =>
      Effect.gen(function* () {
        const random = SandboxServer.seededRandom(20_261_126)
        const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
        const dir = yield* tempDir
        const db = Path.join(Fs.existsSync("/dev/shm") ? yield* shmDir : dir, "engine.db")
        const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false, webhookTimeoutMs: 2_000 })
        const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
        erp.seedItems(skus.map((sku) => ({ sku, title: `Item ${sku}`, stock: 50_000 })))
        shop.seedItems(skus.map((sku) => ({ sku, stock: 0 })))
        const port = yield* freePort
        const configFile = Path.join(dir, "node.json")
        const config: KillScenario.NodeConfig = {
          db,
          port,
          shop: shop.connectorConfig(),
          erp: erp.connectorConfig(),
          tokens: {
            shop: encodeTokens(MemoryFakeChannel.tokenSetOf(shop)),
            erp: encodeTokens(MemoryFakeChannel.tokenSetOf(erp))
          }
        }
        Fs.writeFileSync(configFile, JSON.stringify(config))

        const setup = Child.spawn("engine-node.ts", [configFile, "setup"])
        yield* Effect.promise(() => setup.waitFor(/setup-done/, 120_000))
        expect(yield* Effect.promise(() => setup.exited)).toBe(0)
        shop.subscribe(`http://127.0.0.1:${port}/webhooks/shop`)

        const orders: Array<string> = []
        const placeOne = () => {
          const lines = [...new Set([pick(skus), pick(skus)].slice(0, random() < 0.5 ? 1 : 2))].map((sku) => ({
            sku,
            quantity: 1 + Math.floor(random() * 3)
          }))
          // One webhook in five is lost: polling has to bring those orders in.
          orders.push(shop.placeOrder({ lines, notify: random() >= 0.2 }))
          if (orders.length % 8 === 0) erp.setStock(pick(skus), 40_000 + Math.floor(random() * 20_000))
        }

        const perRound = Math.ceil(totalOrders / kills)
        for (let round = 0; round < kills; round++) {
          const child = Child.spawn("engine-node.ts", [configFile, "run"])
          yield* Effect.promise(() => child.waitFor(/^ready$/, 120_000))
          if (round === 0) {
            // The shop can only sell what the pool published to it.
            while (!skus.every((s) => (shop.stock(s) ?? 0) > 1_000)) yield* Effect.sleep("100 millis")
          }
          const killAfter = 200 + Math.floor(random() * 1_500)
          const started = Date.now()
          let killed = false
          const target = Math.min(totalOrders, (round + 1) * perRound)
          while (orders.length < target) {
            placeOne()
            yield* Effect.sleep(`${5 + Math.floor(random() * 25)} millis`)
            if (!killed && Date.now() - started >= killAfter) {
              yield* Effect.promise(() => child.kill9())
              killed = true
            }
          }
          if (!killed) yield* Effect.promise(() => child.kill9())
        }
        expect(orders).toHaveLength(totalOrders)

        // The last run finishes the work and stops gracefully.
        const last = Child.spawn("engine-node.ts", [configFile, "run"])
        yield* Effect.promise(() => last.waitFor(/^ready$/, 120_000))
        let idle = 0
        while (idle < 4) {
          yield* Effect.sleep("500 millis")
          const status = lastStatus(last)
          const done = orders.every((id) => shop.fulfillments(id).length > 0)
          idle =
            done &&
            status !== undefined &&
            status.inboxPending === 0 &&
            status.stockBacklog === 0 &&
            status.jobsPending === 0 &&
            skus.every((s) => shop.stock(s) === status.published[s])
              ? idle + 1
              : 0
        }
        const final = lastStatus(last)!
        expect(final.deadLetters).toBe(0)
        expect(final.inboxDead).toBe(0)
        expect(yield* Effect.promise(() => last.term())).toBe(0)

        // Downstream: one parcel and one fulfilment per order, with the same tracking number.
        for (const id of orders) {
          const parcels = erp.parcels(FulfilmentWorkflow.parcelReference("shop", id))
          expect(parcels).toHaveLength(1)
          const fulfilments = shop.fulfillments(id)
          expect(fulfilments).toHaveLength(1)
          expect(fulfilments[0]!.trackingNumber).toBe(parcels[0]!.trackingNumber)
        }
        expect(erp.parcels()).toHaveLength(totalOrders)

        // The pool: every order reserved once per line with its quantity, and committed; the shop
        // shows what the pool publishes.
        yield* Effect.gen(function* () {
          const ledger = yield* Ledger.Ledger
          for (const id of orders) {
            const order = shop.order(id)
            const rows = yield* ledger.reservations("shop", id)
            expect(rows.length).toBe(order.lines.length)
            for (const line of order.lines) {
              const row = rows.find((r) => r.lineId === line.id)
              expect(row).toMatchObject({ item: line.sku, qty: line.quantity, state: "committed" })
            }
          }
          const published = yield* ledger.published(skus.map((externalSku) => ({ connection: "shop", externalSku })))
          for (const p of published) expect(shop.stock(p.externalSku)).toBe(p.published)
        }).pipe(
          Effect.provide(
            SqlLedger.layer({ config: EngineFlows.ledgerConfig(KillScenario.flows), groupCommit: false }).pipe(
              Layer.provideMerge(SqlStore.layerSqlite({ filename: db })),
              Layer.orDie
            )
          )
        )
      }).pipe(Effect.scoped),
    600_000
  )
})
