/**
 * Token refresh against the Memory sandbox's OAuth endpoint: a hundred concurrent calls that meet an
 * expired access token cause exactly one refresh request and all succeed; a refresh the platform
 * refuses (a 200 carrying an OAuth error) marks the connection `needs_reauth` and raises an alert.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { SandboxClock } from "@tkbridge/connector-testkit"
import { TokenStore } from "@tkbridge/core"
import { ConnectionAuth, ConnectionRegistry, EngineAlerts, EngineClock } from "@tkbridge/engine"
import { Effect, Option } from "effect"
import { authorize, memoryConnection, stockEngine } from "./support/Engine.ts"
import { embedded } from "./support/Roots.ts"

const hour = 3_600_000

describe("ConnectionAuth", () => {
  it.live(
    "one refresh for a hundred concurrent calls on an expired token; a refused refresh needs re-authorization",
    () =>
      Effect.gen(function* () {
        const clock = new SandboxClock.SandboxClock()
        const sandbox = yield* MemorySandbox.scoped({ clock, accessTokenTtlMs: hour, rateLimit: false })
        sandbox.seedItems([{ sku: "A", stock: 3 }])
        const engine = stockEngine({
          root: embedded(),
          connections: [memoryConnection("mem", sandbox)],
          clock: EngineClock.layerSource({ now: () => clock.now(), sleep: (ms) => clock.sleep(ms) })
        })
        yield* Effect.gen(function* () {
          yield* authorize([["mem", sandbox]])
          const registry = yield* ConnectionRegistry.ConnectionRegistry
          const stock = yield* registry.capability("mem", "stock.pull")
          const before = sandbox.refreshCount()

          clock.advance(2 * hour)
          const pages = yield* Effect.forEach(Array.from({ length: 100 }), () => stock.list({}), {
            concurrency: "unbounded"
          })
          expect(pages.every((p) => p.items.some((r) => r.externalSku === "A"))).toBe(true)
          expect(sandbox.refreshCount() - before).toBe(1)
          expect(sandbox.server.requestsTo("oauth.token").length).toBe(1)
          const store = yield* TokenStore.TokenStore
          const stored = Option.getOrThrow(yield* store.get("mem"))
          expect(stored.version).toBe(2)
          expect(stored.needsReauth).toBe(false)

          // The next expiry meets a token endpoint that refuses the refresh token with a 200 whose
          // body is an error, as many token endpoints do.
          clock.advance(2 * hour)
          sandbox.server.fault("oauth.token", {
            status: 200,
            body: { error: "invalid_grant", error_description: "the refresh token was revoked" }
          })
          const failed = yield* Effect.flip(stock.list({}))
          expect(failed._tag).toBe("AuthRevoked")
          const after = Option.getOrThrow(yield* store.get("mem"))
          expect(after.needsReauth).toBe(true)
          const alerts = yield* (yield* EngineAlerts.EngineAlerts).recent
          expect(alerts.some((a) => a.code === "needs_reauth" && a.connection === "mem")).toBe(true)
          // Work on a connection that needs re-authorization fails fast, without another refresh request.
          const tokenRequests = sandbox.server.requestsTo("oauth.token").length
          expect((yield* Effect.flip(stock.list({})))._tag).toBe("AuthRevoked")
          expect(sandbox.server.requestsTo("oauth.token").length).toBe(tokenRequests)
        }).pipe(Effect.provide(engine))
      }).pipe(Effect.scoped),
    120_000
  )

  it("derives the refresh lead time from the grant's real lifetime", () => {
    const at = (ms: number) => new Date(ms)
    const lead = (lifetimeMs: number) =>
      ConnectionAuth.leadTime(
        { expiresAt: at(lifetimeMs), issuedAt: at(0) } as Parameters<typeof ConnectionAuth.leadTime>[0],
        at(0)
      )
    expect(lead(hour)).toBe(6 * 60_000)
    expect(lead(7 * 24 * hour)).toBe(16.8 * hour)
    expect(lead(90 * 24 * hour)).toBe(7 * 24 * hour)
    expect(lead(5 * 60_000)).toBe(60_000)
  })
})
