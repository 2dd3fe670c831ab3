/**
 * `AccessToken.withToken` against a real HTTP endpoint that accepts one token only: an expired
 * token is refreshed once and the call retried with the fresh one; a second refusal is the
 * caller's; other failures never trigger a refresh.
 */
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { AccessToken, ConnectorError, ConnectorHttp } from "@tkbridge/core"
import { Effect, Redacted } from "effect"
import * as SandboxServer from "../../connector-testkit/src/SandboxServer.ts"

let sandbox: SandboxServer.Sandbox
/** The one token the endpoint accepts. */
let accepted = "fresh-token-2"

beforeAll(async () => {
  sandbox = await SandboxServer.start({
    name: "tokens",
    routes: [
      {
        name: "me",
        method: "GET",
        path: "/me",
        handler: (request) =>
          request.headers.authorization === `Bearer ${accepted}`
            ? SandboxServer.json(200, { ok: true })
            : SandboxServer.json(401, { error: "token expired" })
      }
    ]
  })
})

afterAll(() => sandbox.close())

const tokenSet = (value: string) => new AccessToken.TokenSet({ accessToken: Redacted.make(value) })

/** A provider that hands out `stale` until refreshed, counting refreshes. */
const provider = (refreshTo: AccessToken.TokenSet | ConnectorError.AuthRevoked) => {
  let current = tokenSet("stale-token-1")
  const refreshed: Array<string> = []
  const shape: AccessToken.TokenProvider = {
    current: Effect.sync(() => current),
    refresh: (stale) =>
      Effect.suspend(() => {
        refreshed.push(AccessToken.reveal(stale))
        if (refreshTo instanceof AccessToken.TokenSet) {
          current = refreshTo
          return Effect.succeed(refreshTo)
        }
        return Effect.fail(refreshTo)
      })
  }
  return { shape, refreshed }
}

/** One call to the endpoint with a token, mapped like a connector maps it. */
const callMe = (token: AccessToken.TokenSet) =>
  Effect.gen(function* () {
    const http = yield* ConnectorHttp.make({ connection: "shop-1" })
    const result = yield* http.send(
      HttpClientRequest.get(`${sandbox.url}/me`).pipe(HttpClientRequest.bearerToken(AccessToken.reveal(token)))
    )
    const error = ConnectorHttp.classifyStatus(result, Date.now(), "shop-1")
    return error === undefined ? "ok" : yield* Effect.fail(error)
  })

const tokensSent = () => sandbox.requestsTo("me").map((r) => r.headers.authorization?.replace("Bearer ", ""))

describe("AccessToken.withToken", () => {
  it.live("refreshes once after AuthExpired and retries with the fresh token", () =>
    Effect.gen(function* () {
      sandbox.clearRequests()
      accepted = "fresh-token-2"
      const { shape, refreshed } = provider(tokenSet("fresh-token-2"))
      const result = yield* AccessToken.withToken(callMe).pipe(Effect.provideService(AccessToken.AccessToken, shape))
      expect(result).toBe("ok")
      expect(refreshed).toEqual(["stale-token-1"])
      expect(tokensSent()).toEqual(["stale-token-1", "fresh-token-2"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("returns a second AuthExpired to the caller without refreshing again", () =>
    Effect.gen(function* () {
      sandbox.clearRequests()
      accepted = "a-token-nobody-has"
      const { shape, refreshed } = provider(tokenSet("fresh-token-2"))
      const error = yield* Effect.flip(
        AccessToken.withToken(callMe).pipe(Effect.provideService(AccessToken.AccessToken, shape))
      )
      expect(error._tag).toBe("AuthExpired")
      expect(refreshed).toEqual(["stale-token-1"])
      expect(tokensSent()).toEqual(["stale-token-1", "fresh-token-2"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("surfaces AuthRevoked when the refresh is refused, without a second call", () =>
    Effect.gen(function* () {
      sandbox.clearRequests()
      accepted = "fresh-token-2"
      const revoked = new ConnectorError.AuthRevoked({ message: "the seller revoked the app" })
      const { shape } = provider(revoked)
      const error = yield* Effect.flip(
        AccessToken.withToken(callMe).pipe(Effect.provideService(AccessToken.AccessToken, shape))
      )
      expect(error._tag).toBe("AuthRevoked")
      expect(tokensSent()).toEqual(["stale-token-1"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.live("does not refresh on other failures", () =>
    Effect.gen(function* () {
      sandbox.clearRequests()
      accepted = "stale-token-1"
      sandbox.fault("me", { status: 503, times: 1 })
      const { shape, refreshed } = provider(tokenSet("fresh-token-2"))
      const error = yield* Effect.flip(
        AccessToken.withToken(callMe).pipe(Effect.provideService(AccessToken.AccessToken, shape))
      )
      expect(error._tag).toBe("Transient")
      expect(refreshed).toEqual([])
      expect(tokensSent()).toEqual(["stale-token-1"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("fixed hands out the same token and 'refreshes' to it", () =>
    Effect.gen(function* () {
      const token = tokenSet("api-key-1")
      const fixed = AccessToken.fixed(token)
      expect(yield* fixed.current).toBe(token)
      expect(yield* fixed.refresh(token)).toBe(token)
    })
  )
})
