import { describe, expect, it } from "@effect/vitest"
import type { Engine } from "@tkbridge/engine"
import { Effect } from "effect"
import * as Metrics from "../src/Metrics.ts"
import * as MetricsCollectors from "../src/MetricsCollectors.ts"

const at = new Date(Date.UTC(2026, 5, 1))

const connection = (name: string, overrides: Partial<Engine.ConnectionStatus> = {}): Engine.ConnectionStatus => ({
  connection: name,
  connector: "memory",
  state: "active",
  inbox: { pending: 0, dead: 0 },
  stockBacklog: 0,
  jobs: [],
  deadLetters: 0,
  quota: { scope: name, usedToday: 0 },
  ...overrides
})

const status = (
  connections: ReadonlyArray<Engine.ConnectionStatus>,
  recent: Engine.Propagation["recent"] = []
): Engine.EngineStatus => ({
  at,
  started: true,
  connections,
  totals: { inboxPending: 0, inboxDead: 0, stockBacklog: 0, jobsPending: 0, deadLetters: 0 },
  needsReauth: [],
  propagation: { samples: recent.length, recent },
  alerts: []
})

/** An engine whose status is whatever the test last set; nothing else is called. */
const engineShowing = (initial: Engine.EngineStatus) => {
  let current = initial
  const unused = Effect.die("not used by the metrics")
  const engine: Engine.EngineShape = {
    start: unused,
    stop: () => unused,
    notifyInbox: () => unused,
    status: Effect.sync(() => current),
    replayDeadLetters: () => unused,
    replayLetters: () => unused,
    importCatalog: () => unused,
    reconcileNow: () => unused,
    resumeConnection: () => unused
  }
  const show = (next: Engine.EngineStatus) => {
    current = next
  }
  return { engine, show }
}

describe("MetricsCollectors.fromEngine", () => {
  it.scoped("fills depths, dead letters, quota and token expiry per connection from the engine's status", () =>
    Effect.gen(function* () {
      const metrics = Metrics.makeRunnerMetrics()
      const { engine } = engineShowing(
        status([
          connection("shop", {
            inbox: { pending: 2, dead: 1 },
            stockBacklog: 3,
            jobs: [
              { lane: "high", pending: 1 },
              { lane: "low", pending: 2 }
            ],
            deadLetters: 1,
            quota: { scope: "shop", usedToday: 42, dailyLimit: 1000 },
            token: {
              expiresAt: new Date(at.getTime() + 3_600_000),
              authorizationExpiresAt: new Date(at.getTime() + 30 * 86_400_000),
              version: 1
            }
          })
        ])
      )
      // `erp` is configured but the engine reports nothing for it: its depths still show, as 0.
      yield* MetricsCollectors.fromEngine(metrics, engine, ["shop", "erp"])
      const text = yield* metrics.registry.scrape
      expect(text).toContain('tkbridge_inbox_depth{connection="shop"} 2')
      expect(text).toContain('tkbridge_outbox_depth{connection="shop"} 6')
      expect(text).toContain('tkbridge_dlq_size{connection="shop"} 1')
      expect(text).toContain('tkbridge_quota_used{connection="shop"} 42')
      expect(text).toContain('tkbridge_quota_limit{connection="shop"} 1000')
      expect(text).toContain('tkbridge_token_expiry_seconds{connection="shop"} 3600')
      expect(text).toContain('tkbridge_refresh_token_expiry_seconds{connection="shop"} 2592000')
      for (const gauge of ["inbox_depth", "outbox_depth", "dlq_size"]) {
        expect(text).toContain(`tkbridge_${gauge}{connection="erp"} 0`)
      }
      expect(metrics.tokenExpiry.get({ connection: "erp" })).toBeUndefined()
    })
  )

  it.scoped(
    "a scrape shows the engine's status now: a dead letter replayed is gone, a grant removed drops its expiry",
    () =>
      Effect.gen(function* () {
        const metrics = Metrics.makeRunnerMetrics()
        const token = { expiresAt: new Date(at.getTime() + 60_000), version: 1 }
        const { engine, show } = engineShowing(status([connection("shop", { deadLetters: 1, token })]))
        yield* MetricsCollectors.fromEngine(metrics, engine, ["shop"])
        expect(yield* metrics.registry.scrape).toContain('tkbridge_dlq_size{connection="shop"} 1')
        show(status([connection("shop")]))
        const text = yield* metrics.registry.scrape
        expect(text).toContain('tkbridge_dlq_size{connection="shop"} 0')
        expect(text).not.toContain("tkbridge_token_expiry_seconds{")
      })
  )

  it.scoped("observes each propagation sample once, however often it is scraped", () =>
    Effect.gen(function* () {
      const metrics = Metrics.makeRunnerMetrics()
      const sample = (listing: string, delayMs: number, version = 1) => ({
        connection: "shop",
        listing,
        version,
        delayMs,
        at: new Date(at.getTime() + delayMs)
      })
      const { engine, show } = engineShowing(status([connection("shop")], [sample("A", 200)]))
      yield* MetricsCollectors.fromEngine(metrics, engine, ["shop"])
      yield* metrics.registry.scrape
      yield* metrics.registry.scrape
      expect(metrics.propagationDelay.get({ channel: "shop" })).toEqual({ count: 1, sum: 0.2 })
      show(status([connection("shop")], [sample("B", 1_500), sample("A", 200)]))
      const text = yield* metrics.registry.scrape
      expect(metrics.propagationDelay.get({ channel: "shop" })).toEqual({ count: 2, sum: 1.7 })
      expect(text).toContain('tkbridge_propagation_delay_seconds_bucket{channel="shop",le="0.25"} 1')
      expect(text).toContain('tkbridge_propagation_delay_seconds_bucket{channel="shop",le="2"} 2')
    })
  )
})
