/**
 * OAuth for software-vendor apps against the sandbox's pages: the authorize link, the form-encoded
 * code exchange (`expires_in` in milliseconds → a 7-day access token; a 1-year refresh token), the
 * refresh grant, calls that carry `access_token` unsigned, and the mid-run case — a token that
 * expires between two calls is refreshed once and the call succeeds. A direct customer (apiKey mode)
 * sends no token at all.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxAuth, FourPxSign } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { SandboxOAuth } from "@tkbridge/connector-testkit"
import { Effect, Redacted, Ref } from "effect"
import { connect, parcelRequest } from "./support.ts"

const day = 86_400_000
const redirectUri = "https://vendor.example/4px/callback"

describe("authorization", () => {
  it.scopedLive("link → consent → code → tokens whose lifetimes come from the response", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ vendorApp: true, redirectUrl: redirectUri })
      const { auth } = yield* connect(sandbox)
      const link = auth.authorizeUrl({ state: " csrf-42 ", redirectUri })
      const url = new URL(link)
      assert.strictEqual(url.origin + url.pathname, `${sandbox.url}/authorize/get`)
      assert.strictEqual(url.searchParams.get("client_id"), sandbox.appKey)
      assert.strictEqual(url.searchParams.get("response_type"), "code")
      assert.strictEqual(url.searchParams.get("redirect_uri"), redirectUri)
      const params = yield* SandboxOAuth.consent(link)
      assert.strictEqual(params.state, "csrf-42")
      const before = sandbox.clock.now()
      const tokens = yield* auth.exchange({ params, redirectUri })
      assert.strictEqual(sandbox.auth.check(Redacted.value(tokens.accessToken)), "ok")
      assert.approximately(tokens.expiresAt!.getTime() - before, 7 * day, 5_000)
      assert.approximately(tokens.refreshExpiresAt!.getTime() - before, 365 * day, 5_000)
      assert.isDefined(tokens.refreshToken)
      const [call] = sandbox.requests("oauth.token")
      assert.strictEqual(call!.headers["content-type"], "application/x-www-form-urlencoded")
      const form = new URLSearchParams(call!.text)
      assert.strictEqual(form.get("grant_type"), "authorization_code")
      assert.strictEqual(form.get("client_id"), sandbox.appKey)
      assert.strictEqual(form.get("client_secret"), sandbox.appSecret)
      assert.strictEqual(form.get("redirect_uri"), redirectUri)
      // One-time code.
      const again = yield* Effect.flip(auth.exchange({ params, redirectUri }))
      assert.strictEqual(again._tag, "Rejected")
      assert.strictEqual(again.code, "000014")
      assert.notInclude(JSON.stringify(again), sandbox.appSecret)
      assert.notInclude(JSON.stringify(again), params.code!)
      // A declined consent is a clear refusal.
      sandbox.setConsent("deny")
      const denied = yield* SandboxOAuth.consent(auth.authorizeUrl({ state: "s", redirectUri }))
      const refusal = yield* Effect.flip(auth.exchange({ params: denied, redirectUri }))
      assert.strictEqual(refusal.code, "access_denied")
    })
  )

  it.scopedLive("refresh uses the refresh grant and keeps the refresh token's expiry", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ vendorApp: true, tokenResponse: "envelope" })
      const { auth } = yield* connect(sandbox)
      const grant = sandbox.issueTokenSet()
      sandbox.clock.advance(3 * day)
      const before = Math.floor(sandbox.clock.now())
      const fresh = yield* auth.refresh(grant).pipe(Effect.withClock(FourPxSandbox.effectClock(sandbox.clock)))
      const after = Math.floor(sandbox.clock.now())
      assert.notStrictEqual(Redacted.value(fresh.accessToken), Redacted.value(grant.accessToken))
      assert.strictEqual(Redacted.value(fresh.refreshToken!), Redacted.value(grant.refreshToken!))
      assert.strictEqual(fresh.refreshExpiresAt!.getTime(), grant.refreshExpiresAt!.getTime())
      // 7 days from the moment of the refresh, in sandbox time.
      assert.isAtLeast(fresh.expiresAt!.getTime(), before + 7 * day)
      assert.isAtMost(fresh.expiresAt!.getTime(), after + 7 * day)
      assert.strictEqual(sandbox.refreshCount(), 1)
      const form = new URLSearchParams(sandbox.requests("oauth.token")[0]!.text)
      assert.strictEqual(form.get("grant_type"), "refresh_token")
      // An SDK spelling, when the account needs it.
      const legacy = yield* FourPxSandbox.scoped({ vendorApp: true, refreshGrantTypes: ["refreshToken"] })
      const other = yield* connect(legacy, { config: { auth: { mode: "oauth", refreshGrantType: "refreshToken" } } })
      yield* other.auth.refresh(legacy.issueTokenSet())
      assert.strictEqual(new URLSearchParams(legacy.requests("oauth.token")[0]!.text).get("grant_type"), "refreshToken")
    })
  )

  it.scopedLive("a refused or expired refresh is AuthRevoked: the customer must authorize again", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ vendorApp: true })
      const { auth } = yield* connect(sandbox)
      const grant = sandbox.issueTokenSet()
      sandbox.revokeAuthorization()
      const revoked = yield* Effect.flip(auth.refresh(grant))
      assert.strictEqual(revoked._tag, "AuthRevoked")
      const old = sandbox.issueTokenSet()
      sandbox.clock.advance(366 * day)
      const expired = yield* Effect.flip(
        auth.refresh(old).pipe(Effect.withClock(FourPxSandbox.effectClock(sandbox.clock)))
      )
      assert.strictEqual(expired._tag, "AuthRevoked")
      assert.include(expired.message, "authorize again")
    })
  )

  it.scopedLive(
    "vendor calls carry access_token unsigned; an expired token is refreshed once and the call goes through",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* FourPxSandbox.scoped({ vendorApp: true })
        const token = sandbox.issueTokenSet()
        const { services, current } = yield* connect(sandbox, { token })
        yield* services["shipment.create"].create(parcelRequest("TT-OAUTH-1"))
        const [create] = sandbox.requests("ds.xms.order.create")
        const q = new URLSearchParams(create!.query)
        assert.strictEqual(q.get("access_token"), Redacted.value(token.accessToken))
        // The signature covers the five system parameters only.
        const params = Object.fromEntries(["method", "app_key", "v", "timestamp", "format"].map((k) => [k, q.get(k)!]))
        assert.strictEqual(q.get("sign"), FourPxSign.sign({ params, body: create!.text, appSecret: sandbox.appSecret }))

        sandbox.expireAccessTokens()
        const parcel = yield* services["shipment.create"].get("TT-OAUTH-1")
        assert.strictEqual(parcel.reference, "TT-OAUTH-1")
        assert.strictEqual(sandbox.refreshCount(), 1)
        const gets = sandbox.requests("ds.xms.order.get")
        assert.strictEqual(gets.length, 2)
        const fresh = yield* Ref.get(current)
        assert.strictEqual(new URLSearchParams(gets[1]!.query).get("access_token"), Redacted.value(fresh.accessToken))
        assert.notStrictEqual(Redacted.value(fresh.accessToken), Redacted.value(token.accessToken))
        // Tokens never reach an error.
        sandbox.revokeAuthorization()
        const error = yield* Effect.flip(services["shipment.create"].get("TT-OAUTH-1"))
        assert.strictEqual(error._tag, "AuthRevoked")
        assert.notInclude(JSON.stringify(error), Redacted.value(fresh.accessToken))
      })
  )

  it.scopedLive("a direct customer (apiKey mode) sends no token and needs none", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox, { config: { auth: { mode: "apiKey" } } })
      yield* services["shipment.create"].create(parcelRequest("TT-KEY-1"))
      assert.isNull(new URLSearchParams(sandbox.requests("ds.xms.order.create")[0]!.query).get("access_token"))
      // The same app turned vendor app refuses calls without a token.
      sandbox.setVendorApp(true)
      const refused = yield* Effect.flip(services["shipment.create"].get("TT-KEY-1"))
      assert.strictEqual(refused._tag, "AuthRevoked")
      assert.include(refused.message, "oauth")
    })
  )

  it("reads token answers plain or enveloped, with lifetimes in milliseconds", () => {
    const now = 1_764_000_000_000
    const set = FourPxAuth.toTokenSet({ access_token: "a", refresh_token: "r", expires_in: 604_800_000 }, now, 365)
    assert.strictEqual(set.expiresAt!.getTime(), now + 7 * day)
    assert.strictEqual(set.refreshExpiresAt!.getTime(), now + 365 * day)
    assert.strictEqual(set.issuedAt!.getTime(), now)
    const stated = FourPxAuth.toTokenSet(
      { access_token: "a", refresh_token: "r", expires_in: 1000, refresh_token_expires_in: 5000 },
      now,
      365
    )
    assert.strictEqual(stated.refreshExpiresAt!.getTime(), now + 5000)
  })

  it("an answer without expires_in gets the documented 7-day access-token lifetime", () => {
    const now = 1_764_000_000_000
    for (const expires_in of [undefined, null, 0]) {
      const set = FourPxAuth.toTokenSet({ access_token: "a", refresh_token: "r", expires_in }, now, 365)
      assert.strictEqual(set.expiresAt!.getTime(), now + 7 * day, String(expires_in))
    }
    assert.strictEqual(FourPxAuth.accessTokenLifetimeMs, 7 * day)
    // A refresh answer without one starts a new 7 days from the refresh.
    const first = FourPxAuth.toTokenSet({ access_token: "a", refresh_token: "r", expires_in: 1000 }, now, 365)
    const later = now + 3 * day
    const renewed = FourPxAuth.toTokenSet({ access_token: "b" }, later, 365, first)
    assert.strictEqual(renewed.expiresAt!.getTime(), later + 7 * day)
    assert.strictEqual(renewed.refreshExpiresAt!.getTime(), first.refreshExpiresAt!.getTime())
  })
})
