/**
 * Token refresh against the Memory sandbox's OAuth endpoint, on both composition roots (the refresh
 * entity and the token store on SQLite and on PostgreSQL): a hundred concurrent calls that meet an
 * expired access token cause exactly one refresh request and all succeed; a refresh the platform
 * refuses (a 200 carrying an OAuth error) marks the connection `needs_reauth` and raises an alert.
 *
 * With a business clock ahead of the system clock (the demo's fast clock), a grant the connector
 * stamped during the refresh (which runs on the system clock) is shifted into business time, so the
 * fresh token lasts its lifetime instead of looking expired at once.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { SandboxClock } from "@tkbridge/connector-testkit"
import { AccessToken, TokenStore } from "@tkbridge/core"
import { ConnectionAuth, ConnectionRegistry, EngineAlerts, EngineClock } from "@tkbridge/engine"
import { Effect, Option, Redacted } from "effect"
import { authorize, memoryConnection, stockEngine } from "./support/Engine.ts"
import { roots } from "./support/Roots.ts"

const hour = 3_600_000

for (const root of roots) {
  describe(`ConnectionAuth, ${root.name}`, () => {
    it.live(
      "one refresh for a hundred concurrent calls on an expired token; a refused refresh needs re-authorization",
      () =>
        Effect.gen(function* () {
          const sandbox = yield* MemorySandbox.scoped({ accessTokenTtlMs: hour, rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 3 }])
          const engine = stockEngine({ root: root.layer(), connections: [memoryConnection("mem", sandbox)] })
          yield* Effect.gen(function* () {
            const store = yield* TokenStore.TokenStore
            const registry = yield* ConnectionRegistry.ConnectionRegistry
            const stock = yield* registry.capability("mem", "stock.pull")
            // A grant whose access token expired a minute ago (the platform would still take it:
            // the engine must refresh before use because the stored expiry says so).
            const grant = MemoryFakeChannel.tokenSetOf(sandbox)
            yield* store.save("mem", new AccessToken.TokenSet({ ...grant, expiresAt: new Date(Date.now() - 60_000) }))

            const pages = yield* Effect.forEach(Array.from({ length: 100 }), () => stock.list({}), {
              concurrency: "unbounded"
            })
            expect(pages.every((p) => p.items.some((r) => r.externalSku === "A"))).toBe(true)
            expect(sandbox.refreshCount()).toBe(1)
            expect(sandbox.server.requestsTo("oauth.token").length).toBe(1)
            const stored = Option.getOrThrow(yield* store.get("mem"))
            expect(stored.version).toBe(2)
            expect(stored.needsReauth).toBe(false)
            // Refreshed before use: every call went out with the new token, none with the expired one.
            const sent = sandbox.server.requestsTo("inventory.list").map((r) => r.headers.authorization)
            expect(sent).toHaveLength(100)
            expect(new Set(sent)).toEqual(new Set([`Bearer ${Redacted.value(stored.tokens.accessToken)}`]))

            // The platform's clock passes the new token's expiry: calls are refused with 401, and the
            // token endpoint refuses the refresh token with a 200 whose body is an error, as many do.
            sandbox.clock.advance(2 * hour)
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
      60_000
    )

    // The refresh runs on the system clock (`EngineClock.real`), so the connector stamps the new grant
    // in system time; two hours behind business time, a fresh one-hour token would look expired an
    // hour ago and every call would refresh again.
    it.live(
      "with business time ahead of the system clock, a refreshed grant lasts its lifetime: the next call does not refresh again",
      () =>
        Effect.gen(function* () {
          const clock = new SandboxClock.SandboxClock()
          const sandbox = yield* MemorySandbox.scoped({ clock, accessTokenTtlMs: hour, rateLimit: false })
          sandbox.seedItems([{ sku: "A", stock: 3 }])
          const engine = stockEngine({
            root: root.layer(),
            connections: [memoryConnection("mem", sandbox)],
            clock: EngineClock.layerSource({ now: () => clock.now(), sleep: (ms) => clock.sleep(ms) })
          })
          yield* Effect.gen(function* () {
            yield* authorize([["mem", sandbox]])
            const registry = yield* ConnectionRegistry.ConnectionRegistry
            const stock = yield* registry.capability("mem", "stock.pull")
            clock.advance(2 * hour)
            yield* stock.list({})
            expect(sandbox.refreshCount()).toBe(1)
            yield* stock.list({})
            yield* stock.list({})
            expect(sandbox.refreshCount()).toBe(1)
            const stored = Option.getOrThrow(yield* (yield* TokenStore.TokenStore).get("mem"))
            expect(stored.tokens.expiresAt!.getTime()).toBeGreaterThan(clock.now())
          }).pipe(Effect.provide(engine))
        }).pipe(Effect.scoped),
      60_000
    )
  })
}

describe("ConnectionAuth.leadTime", () => {
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
