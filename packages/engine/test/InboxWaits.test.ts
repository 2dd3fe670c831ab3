/**
 * A connection's inbox that waits for a stated time (TikTok answers an order fetch with 429 and
 * `Retry-After`) resumes when the wait ends, not at the next sweep: the sweep here runs once an hour,
 * so the order is only reserved in time if the processor wakes itself — after a stated wait, and after
 * an entry's own back-off. Work held for a
 * re-authorization goes as soon as the runner is told the seller authorized again
 * (`resumeConnection`), not after its hour-long wait. Both composition roots.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { TikTokShopConfig, TikTokShopConnector } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { DeadLetter, Ledger, Outbox, TokenStore } from "@tkbridge/core"
import type { Engine } from "@tkbridge/engine"
import { EngineFlows, RetryPolicy } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decodeMemory = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const decodeTikTok = Schema.decodeUnknownSync(TikTokShopConfig.TikTokShopConfig)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["tiktok"] })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["tiktok"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) })
})

/**
 * A TikTok shop selling the ERP's mug (30 units), the engine over `root` with `options` and its
 * webhook edge, started and subscribed. Runs `body` with the TikTok sandbox and the ERP.
 */
const scenario = <A, E, R>(
  root: (typeof roots)[number],
  options: Pick<Parameters<typeof engineWithEdge>[0], "tuning" | "push">,
  body: (
    tiktok: TikTokShopSandbox.TikTokShopSandbox,
    erp: MemorySandbox.MemorySandbox,
    engine: Engine.EngineShape
  ) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const tiktok = yield* TikTokShopSandbox.scoped({ shops: [{ name: "UK" }] })
    const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
    erp.seedItems([{ sku: "MUG", title: "Mug", stock: 30 }])
    tiktok.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 0 }] })
    const layer = engineWithEdge({
      root: root.layer(),
      connections: [
        connection("tiktok", TikTokShopConnector.connector, decodeTikTok(tiktok.connectorConfig())),
        connection("erp", MemoryConnector.connector, decodeMemory(erp.connectorConfig()))
      ],
      flows,
      ...options
    })
    return yield* Effect.gen(function* () {
      const engine = yield* startEngine({
        grants: [
          ["tiktok", tiktok.issueTokenSet()],
          ["erp", MemoryFakeChannel.tokenSetOf(erp)]
        ],
        imports: ["erp", "tiktok"],
        published: () => tiktok.stock("MUG") === 30,
        subscribe: (url) => tiktok.subscribe(`${url}/webhooks/tiktok`)
      })
      return yield* body(tiktok, erp, engine)
    }).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

for (const root of roots) {
  describe(`inbox waits, ${root.name}`, () => {
    it.live(
      "an order fetch answered 429 with Retry-After is applied once the stated wait ends",
      () =>
        scenario(root, { tuning: { inboxSweep: "1 hour" } }, (tiktok) =>
          Effect.gen(function* () {
            const ledger = yield* Ledger.Ledger
            const letters = yield* DeadLetter.DeadLetters
            // Longer than the engine waits inline for a fetch: the connection's inbox waits as a whole.
            tiktok.fault("orders.detail", { retryAfterSeconds: 2, times: 1 })
            const order = tiktok.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
            yield* eventually(
              Effect.map(ledger.reservations("tiktok", order), (rows) => rows.some((r) => r.state === "held"))
            )
            const fetches = tiktok.requestsTo("orders.detail")
            expect(fetches.map((r) => r.status)).toEqual(expect.arrayContaining([429, 200]))
            // The second fetch came after the stated wait, not before.
            const refused = fetches.find((r) => r.status === 429)!
            const answered = fetches.find((r) => r.status === 200)!
            expect(answered.at - refused.at).toBeGreaterThanOrEqual(2_000)
            expect(yield* letters.count({ connection: "tiktok" })).toBe(0)
          })
        ),
      60_000
    )

    it.live(
      "order fetches that fail are tried again when their back-off ends, not at the next sweep",
      () =>
        scenario(root, { tuning: { inboxSweep: "1 hour" } }, (tiktok) =>
          Effect.gen(function* () {
            const ledger = yield* Ledger.Ledger
            // Every notice of the order meets one failure (TikTok sends one per status change).
            tiktok.fault("orders.detail", { status: 500, body: "upstream error", times: 3 })
            const order = tiktok.placeOrder({ lines: [{ sku: "MUG", qty: 1 }] })
            yield* eventually(
              Effect.map(ledger.reservations("tiktok", order), (rows) => rows.some((r) => r.state === "held"))
            )
            expect(tiktok.requestsTo("orders.detail").map((r) => r.status)).toEqual(expect.arrayContaining([500, 200]))
          })
        ),
      60_000
    )

    it.live(
      "after the seller authorizes again, resumeConnection sends the held order and stock at once",
      () =>
        scenario(
          root,
          {
            // Held work would otherwise be tried again only after an hour.
            tuning: { inboxSweep: "1 hour", pausedRetry: "1 hour", outboxSweep: "1 hour" },
            push: { retry: { ...RetryPolicy.defaults, maxDelayMs: 3_600_000 } }
          },
          (tiktok, erp, engine) =>
            Effect.gen(function* () {
              const ledger = yield* Ledger.Ledger
              const tokens = yield* TokenStore.TokenStore
              const outbox = yield* Outbox.StockOutbox
              tiktok.deauthorize()
              yield* eventually(Effect.map(engine.status, (s) => s.needsReauth.some((r) => r.connection === "tiktok")))
              const order = tiktok.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
              erp.setStock("MUG", 25)
              yield* eventually(
                Effect.map(
                  engine.status,
                  (s) => (s.connections.find((c) => c.connection === "tiktok")?.inbox.pending ?? 0) > 0
                )
              )
              yield* eventually(Effect.map(outbox.backlog("tiktok"), (n) => n > 0))
              yield* Effect.sleep("500 millis")
              // TikTok took the order's 2 off itself; nothing of ours went out.
              expect(tiktok.stock("MUG")).toBe(28)
              expect(yield* ledger.reservations("tiktok", order)).toEqual([])

              yield* tokens.save("tiktok", tiktok.issueTokenSet())
              const resumed = yield* engine.resumeConnection("tiktok")
              expect(resumed.stock).toBeGreaterThan(0)
              yield* eventually(
                Effect.map(ledger.reservations("tiktok", order), (rows) => rows.some((r) => r.state === "held"))
              )
              yield* eventually(Effect.sync(() => tiktok.stock("MUG") === 23))
            })
        ),
      60_000
    )
  })
}
