/**
 * OAuth against the sandbox: the install link, the signed callback (checked by Shopify's own
 * library too), the code exchange for expiring offline tokens, refresh with rotation, and the
 * migration of a non-expiring token.
 */
import "@shopify/shopify-api/adapters/node"
import { describe, expect, it } from "@effect/vitest"
import { ApiVersion, shopifyApi } from "@shopify/shopify-api"
import { SandboxClock } from "@tkbridge/connector-testkit"
import { Effect, Either, Option, Redacted } from "effect"
import { ShopifyAuth } from "../src/index.ts"
import type { ShopifySandbox } from "../src/sandbox/index.ts"
import { connect, postGraphql } from "./support.ts"

const redirectUri = "https://tkbridge.example/oauth/callback"

/** Opens the install link as the merchant's browser would and returns the callback's query. */
const install = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { redirect: "manual" })
    const location = response.headers.get("location")
    if (response.status !== 302 || location === null) throw new Error(`authorize answered ${response.status}`)
    const callback = new URL(location)
    return { callback, params: Object.fromEntries(callback.searchParams) as Record<string, string> }
  })

const works = (sandbox: ShopifySandbox.ShopifySandbox, token: string) =>
  Effect.promise(() => postGraphql(sandbox, { query: "{ locations(first: 1) { nodes { id } } }" }, { token })).pipe(
    Effect.map((r) => r.status)
  )

const failure = <A, E>(e: Either.Either<A, E>) => Either.getLeft(e).pipe(Option.getOrThrow)

describe("ShopifyAuth install", () => {
  it.scopedLive("the install link asks for the minimal scopes, an offline token and comes back signed", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const link = new URL(services.auth.authorizeUrl({ state: "nonce-123", redirectUri }))
      expect(link.origin + link.pathname).toBe(`${sandbox.url}/admin/oauth/authorize`)
      expect(link.searchParams.get("client_id")).toBe(sandbox.clientId)
      expect(link.searchParams.get("scope")).toBe(
        "read_inventory,read_locations,read_orders,read_products,write_inventory,write_merchant_managed_fulfillment_orders"
      )
      expect(link.searchParams.get("redirect_uri")).toBe(redirectUri)
      expect(link.searchParams.get("state")).toBe("nonce-123")
      expect(link.searchParams.getAll("grant_options[]")).toEqual([])
      const { callback, params } = yield* install(link.toString())
      expect(callback.origin + callback.pathname).toBe(redirectUri)
      expect(Object.keys(params).sort()).toEqual(["code", "hmac", "host", "shop", "state", "timestamp"])
      // Shopify's own library accepts the sandbox's signature.
      const shopify = shopifyApi({
        apiKey: sandbox.clientId,
        apiSecretKey: sandbox.clientSecret,
        hostName: "tkbridge.example",
        apiVersion: ApiVersion.October26,
        isEmbeddedApp: false,
        logger: { level: 0 }
      })
      expect(yield* Effect.promise(() => shopify.utils.validateHmac(params))).toBe(true)
      expect(yield* Effect.promise(() => shopify.utils.validateHmac({ ...params, state: "forged" }))).toBe(false)
    })
  )

  it.scopedLive("the code becomes an expiring offline token (1 hour) with a refresh token", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const { params } = yield* install(services.auth.authorizeUrl({ state: "s1", redirectUri }))
      const before = Date.now()
      const grant = yield* services.auth.exchange({ params, redirectUri })
      expect(grant.refreshToken).toBeDefined()
      const lifetime = grant.expiresAt!.getTime() - grant.issuedAt!.getTime()
      expect(lifetime).toBe(3_600_000)
      expect(grant.issuedAt!.getTime()).toBeGreaterThanOrEqual(before)
      expect(grant.refreshExpiresAt!.getTime() - grant.issuedAt!.getTime()).toBe(90 * 24 * 3_600_000)
      expect([...grant.scopes].sort()).toEqual([...ShopifyAuth.defaultScopes])
      expect(grant.extra).toEqual({ shop: sandbox.shop, expiring: "1" })
      expect(yield* works(sandbox, Redacted.value(grant.accessToken))).toBe(200)
      const exchanged = sandbox.server.requestsTo("oauth.token").map((r) => JSON.parse(r.text))
      expect(exchanged).toEqual([
        expect.objectContaining({ code: params.code, expiring: "1", client_id: sandbox.clientId })
      ])
      // A code works once.
      const again = failure(yield* Effect.either(services.auth.exchange({ params, redirectUri })))
      expect(again).toMatchObject({ _tag: "Rejected", httpStatus: 400 })
    })
  )

  it.scopedLive(
    "a callback with a changed parameter, an old timestamp or another shop is refused before any exchange",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect()
        const { params } = yield* install(services.auth.authorizeUrl({ state: "s2", redirectUri }))
        const tampered = failure(
          yield* Effect.either(services.auth.exchange({ params: { ...params, code: "attacker" }, redirectUri }))
        )
        expect(tampered).toMatchObject({ _tag: "Rejected", code: "bad_hmac" })
        const { hmac: _dropped, ...unsigned } = params
        expect(failure(yield* Effect.either(services.auth.exchange({ params: unsigned, redirectUri })))).toMatchObject({
          code: "missing_hmac"
        })
        const denied = failure(
          yield* Effect.either(services.auth.exchange({ params: { error: "access_denied" }, redirectUri }))
        )
        expect(denied).toMatchObject({ _tag: "Rejected", code: "access_denied" })
        expect(sandbox.server.requestsTo("oauth.token")).toHaveLength(0)

        // A sandbox whose clock is five minutes behind signs timestamps outside the ±90 s window.
        const late = yield* connect({
          sandbox: { clock: new SandboxClock.SandboxClock({ start: Date.now() - 300_000 }) }
        })
        const old = yield* install(late.services.auth.authorizeUrl({ state: "s3", redirectUri }))
        expect(
          failure(yield* Effect.either(late.services.auth.exchange({ params: old.params, redirectUri })))
        ).toMatchObject({
          code: "stale"
        })
        // A callback for another shop, even correctly signed, is not this connection's.
        const other = yield* connect({ config: { shop: "another-shop.myshopify.com" } })
        const foreign = yield* install(other.services.auth.authorizeUrl({ state: "s4", redirectUri }))
        expect(
          failure(yield* Effect.either(other.services.auth.exchange({ params: foreign.params, redirectUri })))
        ).toMatchObject({
          code: "wrong_shop"
        })
      })
  )

  it.scopedLive("verifyCallback compares the state it was given in constant time", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const { params } = yield* install(services.auth.authorizeUrl({ state: "expected-state", redirectUri }))
      const check = (expectedState: string) =>
        ShopifyAuth.verifyCallback({
          params,
          secrets: [sandbox.clientSecret],
          shop: sandbox.shop,
          now: Date.now(),
          maxAgeSeconds: 90,
          expectedState
        })
      expect(check("expected-state")).toEqual({ ok: true, code: params.code, shop: sandbox.shop })
      expect(check("other-state")).toMatchObject({ ok: false, problem: "bad_state" })
      expect(ShopifyAuth.safeEqual("abc", "abcd")).toBe(false)
    })
  )

  it.scopedLive("with expiringTokens off the exchange asks for a classic token, which has no expiry", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ config: { expiringTokens: false } })
      const { params } = yield* install(services.auth.authorizeUrl({ state: "s5", redirectUri }))
      const grant = yield* services.auth.exchange({ params, redirectUri })
      expect(grant.expiresAt).toBeUndefined()
      expect(grant.refreshToken).toBeUndefined()
      expect(sandbox.server.requestsTo("oauth.token").map((r) => JSON.parse(r.text).expiring)).toEqual(["0"])
      const refreshed = failure(yield* Effect.either(services.auth.refresh(grant)))
      expect(refreshed._tag).toBe("AuthRevoked")
    })
  )
})

describe("ShopifyAuth refresh", () => {
  it.scopedLive("every refresh rotates the pair; the old refresh token works only until its replacement is used", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const first = sandbox.issueToken()
      const second = yield* services.auth.refresh(first)
      expect(Redacted.value(second.refreshToken!)).not.toBe(Redacted.value(first.refreshToken!))
      expect(Redacted.value(second.accessToken)).not.toBe(Redacted.value(first.accessToken))
      // The answer to that refresh was "lost": the old refresh token still recovers.
      const third = yield* services.auth.refresh(first)
      // Once the replacement is in use, the old refresh token is refused.
      expect(yield* works(sandbox, Redacted.value(third.accessToken))).toBe(200)
      const refused = failure(yield* Effect.either(services.auth.refresh(first)))
      expect(refused).toMatchObject({ _tag: "AuthRevoked", httpStatus: 400 })
      // The superseded second pair is gone too; the newest one keeps working.
      expect(failure(yield* Effect.either(services.auth.refresh(second)))._tag).toBe("AuthRevoked")
      const fourth = yield* services.auth.refresh(third)
      expect(yield* works(sandbox, Redacted.value(fourth.accessToken))).toBe(200)
      expect(sandbox.refreshes()).toBe(5)
    })
  )

  it.scopedLive("without the grace period an old refresh token is refused at once", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ sandbox: { auth: { refreshGrace: false } } })
      const first = sandbox.issueToken()
      yield* services.auth.refresh(first)
      expect(failure(yield* Effect.either(services.auth.refresh(first)))._tag).toBe("AuthRevoked")
    })
  )

  it.scopedLive("a non-expiring token migrates to an expiring pair once; retries get the same pair", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const legacy = sandbox.issueToken({ expiring: false })
      expect(legacy.expiresAt).toBeUndefined()
      const migrated = yield* services.auth.migrate(legacy)
      expect(migrated.refreshToken).toBeDefined()
      expect(migrated.expiresAt!.getTime() - migrated.issuedAt!.getTime()).toBe(3_600_000)
      expect(yield* works(sandbox, Redacted.value(migrated.accessToken))).toBe(200)
      expect(yield* works(sandbox, Redacted.value(legacy.accessToken))).toBe(401)
      const retried = yield* services.auth.migrate(legacy)
      expect(Redacted.value(retried.accessToken)).toBe(Redacted.value(migrated.accessToken))
    })
  )

  it.scopedLive("the sandbox's install page refuses an unknown app", () =>
    Effect.gen(function* () {
      const { sandbox } = yield* connect()
      const response = yield* Effect.promise(() =>
        fetch(
          `${sandbox.url}/admin/oauth/authorize?client_id=nope&scope=read_orders&redirect_uri=${encodeURIComponent(redirectUri)}`,
          {
            redirect: "manual"
          }
        )
      )
      expect(response.status).toBe(400)
      expect(yield* Effect.promise(() => response.text())).toContain("client_id")
    })
  )
})
