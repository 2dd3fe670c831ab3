/**
 * The engine's clock-driven schedules against two Memory platforms (a shop, and an ERP that is the
 * items and stock source) over real HTTP, on both composition roots, each schedule tuned to run every
 * few hundred milliseconds:
 *
 * - `token-refresh` renews a grant whose access token is inside its lead time before any call needs
 *   it, and leaves a grant far from expiry alone;
 * - `authorization-warnings` raises `authorization_expiring` for a grant whose authorization ends
 *   within the warning window, naming the connection and the date, and not for one that ends later;
 * - `reservation-expiry` releases an unpaid order's hold once its TTL has passed, and the shop's
 *   published quantity goes back up; a paid order's hold stays;
 * - `dead-letter-alerts` raises `dead_letters` for a connection while it has open letters, with their
 *   count, and stops once they are replayed or discarded. (The status snapshot keeps the last alert
 *   raised; "stops" means no new raise.)
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { AccessToken, DeadLetter, Ledger, TokenStore } from "@tkbridge/core"
import type { Engine, EngineSchedules } from "@tkbridge/engine"
import { EngineAlerts, EngineFlows } from "@tkbridge/engine"
import { Duration, Effect, Option, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const minute = 60_000
const day = 86_400_000

const flows = (unpaidTtl: Duration.DurationInput = "24 hours") =>
  new EngineFlows.EngineFlows({
    orders: [new EngineFlows.OrderFlow({ from: ["shop"] })],
    stock: new EngineFlows.StockFlow({
      sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
      channels: ["shop"]
    }),
    pool: new EngineFlows.PoolSettings({ itemsFrom: "erp", unpaidTtl: Duration.decode(unpaidTtl) }),
    // Polling stays out of the way: orders arrive by webhook.
    reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) })
  })

interface Platforms {
  readonly shop: MemorySandbox.MemorySandbox
  readonly erp: MemorySandbox.MemorySandbox
  readonly engine: Engine.EngineShape
  /** Every alert raised, in order (the status snapshot keeps only the latest per subject). */
  readonly raised: ReadonlyArray<EngineAlerts.Alert>
}

/**
 * A shop selling the ERP's tee (20 units), the engine over `root` with `tuning`, started and
 * subscribed. `grants` may replace the fresh grants stored for each platform.
 */
const scenario = <A, E, R>(
  root: (typeof roots)[number],
  options: {
    readonly tuning: Partial<EngineSchedules.Tuning>
    readonly unpaidTtl?: Duration.DurationInput
    readonly grants?: (
      shop: MemorySandbox.MemorySandbox,
      erp: MemorySandbox.MemorySandbox
    ) => {
      readonly shop: AccessToken.TokenSet
      readonly erp: AccessToken.TokenSet
    }
  },
  body: (platforms: Platforms) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
    const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
    erp.seedItems([{ sku: "TEE", title: "Tee", stock: 20 }])
    shop.seedItems([{ sku: "TEE", stock: 0 }])
    const raised: Array<EngineAlerts.Alert> = []
    const layer = engineWithEdge({
      root: root.layer(),
      connections: [
        connection("shop", MemoryConnector.connector, decode(shop.connectorConfig())),
        connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
      ],
      flows: flows(options.unpaidTtl),
      tuning: options.tuning,
      alerts: EngineAlerts.layerWith((alert) => Effect.sync(() => raised.push(alert)))
    })
    const grants = options.grants?.(shop, erp) ?? {
      shop: MemoryFakeChannel.tokenSetOf(shop),
      erp: MemoryFakeChannel.tokenSetOf(erp)
    }
    return yield* Effect.gen(function* () {
      const engine = yield* startEngine({
        grants: [
          ["shop", grants.shop],
          ["erp", grants.erp]
        ],
        imports: ["erp", "shop"],
        published: () => shop.stock("TEE") === 20,
        subscribe: (url) => shop.subscribe(`${url}/webhooks/shop`)
      })
      return yield* body({ shop, erp, engine, raised })
    }).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

/** A fresh sandbox grant with other lifetimes (whole seconds, as stores keep them). */
const grantWith = (
  sandbox: MemorySandbox.MemorySandbox,
  lifetimes: { readonly issuedAt?: number; readonly expiresAt?: number; readonly refreshExpiresAt?: number }
) => {
  const grant = MemoryFakeChannel.tokenSetOf(sandbox)
  const at = (ms: number | undefined, fallback: Date | undefined) =>
    ms === undefined ? fallback : new Date(Math.floor(ms / 1000) * 1000)
  return new AccessToken.TokenSet({
    ...grant,
    issuedAt: at(lifetimes.issuedAt, grant.issuedAt),
    expiresAt: at(lifetimes.expiresAt, grant.expiresAt),
    refreshExpiresAt: at(lifetimes.refreshExpiresAt, grant.refreshExpiresAt)
  })
}

const heldStates = (orderId: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations("shop", orderId), (rows) => rows.map((r) => r.state))
  )

for (const root of roots) {
  describe(`engine schedules, ${root.name}`, () => {
    it.live(
      "token-refresh renews a grant inside its lead time before any call needs it, and not one far from expiry",
      () => {
        const now = Date.now()
        return scenario(
          root,
          {
            tuning: { tokenScan: "300 millis" },
            grants: (shop, erp) => ({
              // A one-hour token with five minutes left: inside its six-minute lead time, but far from
              // the half minute before expiry at which a call would refresh it itself.
              shop: grantWith(shop, { issuedAt: now - 55 * minute, expiresAt: now + 5 * minute }),
              // A fresh two-hour token: twelve minutes of lead time, an hour and three quarters away.
              erp: MemoryFakeChannel.tokenSetOf(erp)
            })
          },
          ({ shop, erp }) =>
            Effect.gen(function* () {
              const tokens = yield* TokenStore.TokenStore
              yield* eventually(Effect.sync(() => shop.server.requestsTo("oauth.token").length > 0))
              const stored = Option.getOrThrow(yield* tokens.get("shop"))
              expect(stored.version).toBe(2)
              expect(stored.tokens.expiresAt!.getTime()).toBeGreaterThan(now + 60 * minute)
              // Nothing was refused for an expired token: the schedule came first.
              expect(shop.server.requestsTo("inventory.set").every((r) => r.status !== 401)).toBe(true)

              // Several scans later: the renewed grant and the ERP's are left alone.
              yield* Effect.sleep("2 seconds")
              expect(shop.server.requestsTo("oauth.token")).toHaveLength(1)
              expect(erp.server.requestsTo("oauth.token")).toHaveLength(0)
              expect(Option.getOrThrow(yield* tokens.get("erp")).version).toBe(1)
            })
        )
      },
      60_000
    )

    it.live(
      "authorization-warnings names the connection and the date its authorization ends, only within the window",
      () => {
        const ends = Math.floor((Date.now() + 3 * day) / 1000) * 1000
        return scenario(
          root,
          {
            tuning: { authorizationScan: "300 millis", authorizationWarning: "14 days" },
            grants: (shop, erp) => ({
              shop: grantWith(shop, { refreshExpiresAt: ends }),
              // The sandbox's authorizations last 30 days: beyond the 14-day window.
              erp: MemoryFakeChannel.tokenSetOf(erp)
            })
          },
          ({ raised }) =>
            Effect.gen(function* () {
              const alerts = yield* EngineAlerts.EngineAlerts
              const expiring = () => raised.filter((a) => a.code === "authorization_expiring")
              yield* eventually(Effect.sync(() => expiring().length > 0))
              // The pass that warned about the shop went over every grant: the ERP is not among them.
              expect(new Set(expiring().map((a) => a.connection))).toEqual(new Set(["shop"]))
              const warning = expiring()[0]!
              expect(warning.message).toContain("shop")
              expect(warning.message).toContain(new Date(ends).toISOString())
              const latest = (yield* alerts.recent).filter((a) => a.code === "authorization_expiring")
              expect(latest.map((a) => a.connection)).toEqual(["shop"])
            })
        )
      },
      60_000
    )

    it.live(
      "reservation-expiry releases an unpaid order's hold past its TTL and the shop's quantity goes back up",
      () =>
        scenario(root, { tuning: { expiry: "300 millis" }, unpaidTtl: "3 seconds" }, ({ shop }) =>
          Effect.gen(function* () {
            const unpaid = shop.placeOrder({ lines: [{ sku: "TEE", quantity: 3 }], status: "pending_payment" })
            const paid = shop.placeOrder({ lines: [{ sku: "TEE", quantity: 2 }] })
            yield* eventually(Effect.map(heldStates(unpaid), (s) => s.length > 0 && s.every((x) => x === "held")))
            yield* eventually(Effect.map(heldStates(paid), (s) => s.length > 0 && s.every((x) => x === "held")))
            // Both orders' units are off the shop while the unpaid one is within its TTL.
            expect(shop.stock("TEE")).toBe(15)

            yield* eventually(Effect.map(heldStates(unpaid), (s) => s.every((x) => x === "released")))
            yield* eventually(Effect.sync(() => shop.stock("TEE") === 18))
            expect(yield* heldStates(paid)).toEqual(["held"])
            const onHand = yield* Effect.flatMap(Ledger.Ledger, (ledger) => ledger.balances(["TEE"]))
            expect(onHand[0]?.onHand).toBe(20)
          })
        ),
      60_000
    )

    it.live(
      "dead-letter-alerts counts a connection's open letters and stops once they are discarded",
      () =>
        scenario(root, { tuning: { deadLetterAlerts: "300 millis" } }, ({ shop, raised }) =>
          Effect.gen(function* () {
            const letters = yield* DeadLetter.DeadLetters
            // Two orders for SKUs the pool does not know: each waits in the dead-letter queue.
            shop.seedItems([
              { sku: "CAP-GREEN", stock: 4 },
              { sku: "CAP-BLUE", stock: 4 }
            ])
            shop.placeOrder({ lines: [{ sku: "CAP-GREEN", quantity: 1 }] })
            shop.placeOrder({ lines: [{ sku: "CAP-BLUE", quantity: 1 }] })
            yield* eventually(Effect.map(letters.count({ connection: "shop" }), (n) => n === 2))
            const aboutShop = () => raised.filter((a) => a.code === "dead_letters" && a.connection === "shop")
            yield* eventually(Effect.sync(() => aboutShop().some((a) => a.message.includes("2 open dead letters"))))
            expect(raised.filter((a) => a.code === "dead_letters" && a.connection !== "shop")).toEqual([])

            const [first, second] = yield* letters.list({ connection: "shop" })
            yield* letters.discard(first!.id, "test: not ours")
            yield* eventually(Effect.sync(() => aboutShop().some((a) => a.message.includes("1 open dead letter:"))))

            yield* letters.discard(second!.id, "test: not ours")
            // A pass that counted before the discard may still raise; then the raises stop.
            yield* Effect.sleep("1 second")
            const settled = aboutShop().length
            yield* Effect.sleep("2 seconds")
            expect(aboutShop()).toHaveLength(settled)
          })
        ),
      60_000
    )

    it.live(
      "dead-letter-alerts stops raising once the letter is replayed after fixing its cause",
      () =>
        scenario(root, { tuning: { deadLetterAlerts: "300 millis" } }, ({ shop, erp, engine, raised }) =>
          Effect.gen(function* () {
            const letters = yield* DeadLetter.DeadLetters
            shop.seedItems([{ sku: "CAP-GREEN", stock: 4 }])
            const order = shop.placeOrder({ lines: [{ sku: "CAP-GREEN", quantity: 1 }] })
            yield* eventually(Effect.map(letters.count({ connection: "shop", reason: "unknown_sku" }), (n) => n === 1))
            const aboutShop = () => raised.filter((a) => a.code === "dead_letters" && a.connection === "shop")
            yield* eventually(Effect.sync(() => aboutShop().some((a) => a.message.includes("1 open dead letter:"))))

            // The ERP gets the SKU, the pool pairs it, the letter is replayed and the order applied.
            erp.seedItems([{ sku: "CAP-GREEN", title: "Cap", stock: 4 }])
            yield* engine.importCatalog("erp")
            yield* engine.importCatalog("shop")
            yield* eventually(
              Effect.flatMap(Ledger.Ledger, (ledger) =>
                Effect.map(ledger.balances(["CAP-GREEN"]), (b) => b[0]?.onHand === 4)
              )
            )
            const replayed = yield* engine.replayDeadLetters({ connection: "shop" })
            expect(replayed.map((r) => r.outcome)).toEqual(["replayed"])
            yield* eventually(Effect.map(heldStates(order), (s) => s.length > 0 && s.every((x) => x === "held")))
            expect(yield* letters.count({ connection: "shop" })).toBe(0)

            yield* Effect.sleep("1 second")
            const settled = aboutShop().length
            yield* Effect.sleep("2 seconds")
            expect(aboutShop()).toHaveLength(settled)
          })
        ),
      60_000
    )
  })
}
