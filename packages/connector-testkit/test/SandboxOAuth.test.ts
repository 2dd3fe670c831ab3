/**
 * The OAuth helpers connector tests share: consent returns the callback's query without following
 * the redirect, and the refreshing provider refreshes once for many callers holding the same stale
 * grant, reporting a failed refresh as the engine does.
 */
import { describe, expect, it } from "@effect/vitest"
import { SandboxOAuth, SandboxServer } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { AccessToken, ConnectorError } from "@tkbridge/core"
import { Effect, Redacted, Ref } from "effect"

const grant = (value: string) => new AccessToken.TokenSet({ accessToken: Redacted.make(value) })

/** An auth service whose refresh answers `answer` after a short real-time pause, counting calls. */
const authRefreshing = (answer: (n: number) => Effect.Effect<AccessToken.TokenSet, ConnectorError.ConnectorError>) => {
  let calls = 0
  const auth: Connector.OAuth2 = {
    authorizeUrl: () => "https://example.com/authorize",
    exchange: () => Effect.die("not used"),
    refresh: () =>
      Effect.suspend(() => {
        calls += 1
        return Effect.zipRight(Effect.sleep("10 millis"), answer(calls))
      })
  }
  return { auth, calls: () => calls }
}

describe("SandboxOAuth.consent", () => {
  it.scopedLive("returns the redirect's query and leaves the callback alone", () =>
    Effect.gen(function* () {
      const server = yield* SandboxServer.scoped({
        name: "oauth",
        routes: [
          {
            name: "authorize",
            method: "GET",
            path: "/authorize",
            handler: (r) => ({
              status: 302,
              headers: { location: `https://app.example/callback?code=c-1&state=${r.query.get("state")}` }
            })
          }
        ]
      })
      const params = yield* SandboxOAuth.consent(`${server.url}/authorize?state=s-9`)
      expect(params).toEqual({ code: "c-1", state: "s-9" })
    })
  )

  it.scopedLive("fails when the page does not redirect", () =>
    Effect.gen(function* () {
      const server = yield* SandboxServer.scoped({
        name: "oauth",
        routes: [{ name: "authorize", method: "GET", path: "/authorize", handler: () => ({ status: 400, body: "no" }) }]
      })
      const exit = yield* Effect.exit(SandboxOAuth.consent(`${server.url}/authorize`))
      expect(exit._tag).toBe("Failure")
    })
  )
})

describe("SandboxOAuth.refreshingProvider", () => {
  it.live("refreshes once for concurrent callers with the same stale grant", () =>
    Effect.gen(function* () {
      const { auth, calls } = authRefreshing((n) => Effect.succeed(grant(`fresh-${n}`)))
      const stale = grant("stale")
      const { provider, current } = yield* SandboxOAuth.refreshingProvider(stale, auth)
      const fresh = yield* Effect.all(
        Array.from({ length: 6 }, () => provider.refresh(stale)),
        { concurrency: "unbounded" }
      )
      expect(calls()).toBe(1)
      // A grant that is no longer the current one is answered with the current grant, without a refresh.
      expect(AccessToken.reveal(yield* provider.refresh(grant("older")))).toBe("fresh-1")
      expect(calls()).toBe(1)
      expect(new Set(fresh.map(AccessToken.reveal))).toEqual(new Set(["fresh-1"]))
      expect(AccessToken.reveal(yield* Ref.get(current))).toBe("fresh-1")
      expect(AccessToken.reveal(yield* provider.current)).toBe("fresh-1")
    })
  )

  it.live("keeps AuthRevoked and reports other refresh failures as AuthExpired", () =>
    Effect.gen(function* () {
      const revoked = authRefreshing(() => Effect.fail(new ConnectorError.AuthRevoked({ message: "uninstalled" })))
      const held = grant("a")
      const a = yield* SandboxOAuth.refreshingProvider(held, revoked.auth)
      const revokedError = yield* Effect.flip(a.provider.refresh(held))
      expect(revokedError._tag).toBe("AuthRevoked")

      const initial = grant("b")
      const down = authRefreshing(() =>
        Effect.fail(new ConnectorError.Transient({ message: "token server down", code: "503" }))
      )
      const b = yield* SandboxOAuth.refreshingProvider(initial, down.auth)
      const expired = yield* Effect.flip(b.provider.refresh(initial))
      expect(expired._tag).toBe("AuthExpired")
      expect(expired.message).toBe("refresh failed: token server down")
      expect(expired.code).toBe("503")
      // The grant stays as it was: a failed refresh replaces nothing.
      expect(yield* Ref.get(b.current)).toBe(initial)
    })
  )
})
