/**
 * Seller authorization against the sandbox's auth host: the consent link, the code exchange
 * (single-use, 30-minute codes; absolute expiries; `shop_cipher` from Get Authorized Shops), refresh,
 * and the mid-run case — an access token that expires between two calls is refreshed once through
 * the token server and the call succeeds.
 */
import { assert, describe, it } from "@effect/vitest"
import { SandboxOAuth } from "@tkbridge/connector-testkit"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect, Redacted, Ref } from "effect"
import { connect } from "./support.ts"

const day = 86_400_000

describe("authorization", () => {
  it.scopedLive("link → consent → code → tokens with absolute expiries and the shop's cipher", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ redirectUrl: "https://seller-app.example/tiktok/callback" })
      const { services } = yield* connect(sandbox)
      const auth = services.auth!
      const link = auth.authorizeUrl({
        state: "  csrf-123  ",
        redirectUri: "https://seller-app.example/tiktok/callback"
      })
      const url = new URL(link)
      assert.strictEqual(url.pathname, "/open/authorize")
      assert.strictEqual(url.searchParams.get("service_id"), sandbox.serviceId)
      assert.strictEqual(url.searchParams.get("state"), "csrf-123")
      const params = yield* SandboxOAuth.consent(link)
      assert.strictEqual(params.state, "csrf-123")
      const tokens = yield* auth.exchange({ params, redirectUri: "https://seller-app.example/tiktok/callback" })
      const held = sandbox.world.accessTokens.get(Redacted.value(tokens.accessToken))
      assert.isDefined(held)
      assert.strictEqual(tokens.expiresAt?.getTime(), Math.floor(held!.expiresAt / 1000) * 1000)
      assert.approximately(tokens.expiresAt!.getTime() - sandbox.clock.now(), 7 * day, 5_000)
      assert.approximately(tokens.refreshExpiresAt!.getTime() - sandbox.clock.now(), 365 * day, 5_000)
      assert.strictEqual(tokens.extra.shop_cipher, sandbox.defaultShop().cipher)
      assert.strictEqual(tokens.extra.shop_id, sandbox.defaultShop().id)
      assert.includeMembers([...tokens.scopes], ["Order Information", "Product Modify"])
      // The shops call carried no shop_cipher.
      const [shops] = sandbox.requestsTo("shops")
      assert.isNull(new URLSearchParams(shops!.query).get("shop_cipher"))
      // The token endpoint is a plain unsigned GET with the secret in the query.
      const [get] = sandbox.requestsTo("token.get")
      const q = new URLSearchParams(get!.query)
      assert.strictEqual(get!.method, "GET")
      assert.strictEqual(q.get("grant_type"), "authorized_code")
      assert.isNull(q.get("sign"))

      // Single use.
      const again = yield* Effect.flip(auth.exchange({ params, redirectUri: "" }))
      assert.deepInclude(again, { _tag: "AuthRevoked", code: "36004004" })
    })
  )

  it.scopedLive("codes expire after 30 minutes; a declined consent and unknown codes fail clearly", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const { services } = yield* connect(sandbox)
      const auth = services.auth!
      const code = sandbox.authCode()
      sandbox.clock.advance(30 * 60_000 + 1_000)
      const expired = yield* Effect.flip(auth.exchange({ params: { code }, redirectUri: "" }))
      assert.deepInclude(expired, { _tag: "AuthRevoked", code: "36004004" })
      const unknown = yield* Effect.flip(auth.exchange({ params: { code: "ROW_nope" }, redirectUri: "" }))
      assert.deepInclude(unknown, { _tag: "AuthRevoked", code: "36004005" })
      sandbox.setConsent("deny")
      const link = auth.authorizeUrl({ state: "s", redirectUri: "" })
      const response = yield* Effect.promise(() => fetch(link).then((r) => r.json() as Promise<Record<string, string>>))
      assert.deepStrictEqual(response, { code: "null", error: "auth_denied", state: "s" })
      const declined = yield* Effect.flip(auth.exchange({ params: response, redirectUri: "" }))
      assert.deepInclude(declined, { _tag: "Rejected", code: "auth_denied" })
      // The token host only answers GET.
      const post = yield* Effect.promise(() =>
        fetch(`${sandbox.authUrl}/api/v2/token/get`, { method: "POST", body: "{}" }).then((r) => r.status)
      )
      assert.strictEqual(post, 404)
    })
  )

  it.scopedLive("a seller with several shops picks one by shopId", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ shops: [{ name: "UK" }, { name: "DE", region: "DE" }] })
      const [, de] = sandbox.shops()
      const ambiguous = yield* connect(sandbox, { config: { shopId: undefined } as never })
      const failure = yield* Effect.flip(
        ambiguous.services.auth!.exchange({ params: { code: sandbox.authCode() }, redirectUri: "" })
      )
      assert.deepInclude(failure, { _tag: "Rejected", code: "shop_ambiguous" })
      const chosen = yield* connect(sandbox, { config: { shopId: de!.id } })
      const tokens = yield* chosen.services.auth!.exchange({ params: { code: sandbox.authCode() }, redirectUri: "" })
      assert.strictEqual(tokens.extra.shop_cipher, de!.cipher)
      assert.strictEqual(tokens.extra.shop_region, "DE")
    })
  )

  it.scopedLive("refresh issues a new access token; unknown or revoked grants are AuthRevoked", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ rotateRefreshToken: true })
      const { services } = yield* connect(sandbox)
      const tokens = sandbox.issueTokenSet()
      const fresh = yield* services.auth!.refresh(tokens)
      assert.notStrictEqual(Redacted.value(fresh.accessToken), Redacted.value(tokens.accessToken))
      assert.notStrictEqual(Redacted.value(fresh.refreshToken!), Redacted.value(tokens.refreshToken!))
      assert.strictEqual(fresh.extra.shop_cipher, tokens.extra.shop_cipher)
      const [refresh] = sandbox.requestsTo("token.refresh")
      assert.strictEqual(new URLSearchParams(refresh!.query).get("grant_type"), "refresh_token")
      // The rotated-away refresh token no longer works.
      const stale = yield* Effect.flip(services.auth!.refresh(tokens))
      assert.deepInclude(stale, { _tag: "AuthRevoked", code: "36004005" })
      sandbox.deauthorize()
      const revoked = yield* Effect.flip(services.auth!.refresh(fresh))
      assert.deepInclude(revoked, { _tag: "AuthRevoked", code: "36004005" })
    })
  )

  it.scopedLive("an expired refresh token is AuthRevoked; the app's own misconfiguration stays Rejected", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ refreshTokenTtlMs: day })
      const tokens = sandbox.issueTokenSet()
      const { services } = yield* connect(sandbox)
      // A wrong app secret: authorizing the seller again would not help, so the connection is not paused for it.
      const wrongSecret = yield* connect(sandbox, { config: { appSecret: "not-the-secret" } })
      const credentials = yield* Effect.flip(wrongSecret.services.auth!.refresh(tokens))
      assert.deepInclude(credentials, { _tag: "Rejected", code: "36009004" })
      assert.include(credentials.message, "appKey and appSecret")
      const wrongKey = yield* connect(sandbox, { config: { appKey: "6nope" } })
      assert.strictEqual((yield* Effect.flip(wrongKey.services.auth!.refresh(tokens)))._tag, "Rejected")
      // A token host URL that is not one (the Open API host has no token endpoints).
      const wrongHost = yield* connect(sandbox, { config: { authBaseUrl: sandbox.url } })
      const host = yield* Effect.flip(wrongHost.services.auth!.refresh(tokens))
      assert.strictEqual(host._tag, "Rejected")
      assert.include(host.message, "authBaseUrl")
      // The grant itself is gone: 36004001 once the refresh token's lifetime is over.
      sandbox.clock.advance(day + 1_000)
      const expired = yield* Effect.flip(services.auth!.refresh(tokens))
      assert.deepInclude(expired, { _tag: "AuthRevoked", code: "36004001" })
    })
  )

  it.scopedLive("an access token that expires mid-run is refreshed once and the call succeeds", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG-1", stock: 4 }] })
      const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG-1", qty: 2 }] })
      // Request timestamps follow the sandbox clock, which the test moves a week ahead.
      const { services, current } = yield* connect(sandbox, { clock: Sandbox.effectClock(sandbox.clock) })
      const before = yield* Ref.get(current)
      const first = yield* services["orders.pull"].get(orderId)
      assert.strictEqual(first.externalId, orderId)

      // A week later the access token is dead; the refresh token still works.
      sandbox.clock.advance(7 * day + 60_000)
      const second = yield* services["orders.pull"].get(orderId)
      assert.strictEqual(second.externalId, orderId)
      assert.strictEqual(sandbox.refreshCount(), 1)
      const detail = sandbox
        .requestsTo("orders.detail")
        .map((r) => ({ status: r.status, token: r.headers["x-tts-access-token"] }))
      const after = yield* Ref.get(current)
      assert.deepStrictEqual(detail, [
        { status: 200, token: Redacted.value(before.accessToken) },
        { status: 401, token: Redacted.value(before.accessToken) },
        { status: 200, token: Redacted.value(after.accessToken) }
      ])
      assert.isAbove(after.expiresAt!.getTime(), sandbox.clock.now() + 6 * day)
      // The next call uses the new token directly.
      yield* services["orders.pull"].get(orderId)
      assert.strictEqual(sandbox.refreshCount(), 1)
    })
  )

  it.scopedLive("a deauthorized shop fails AuthRevoked after one refresh attempt", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const { services } = yield* connect(sandbox)
      sandbox.deauthorize()
      const error = yield* Effect.flip(services["orders.pull"].list({}))
      assert.strictEqual(error._tag, "AuthRevoked")
      assert.strictEqual(sandbox.refreshCount(), 1)
    })
  )
})
