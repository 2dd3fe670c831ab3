/**
 * The sandbox gateway rejects what TikTok rejects, in TikTok's order (reference §9): each request
 * below is wrong in several ways at once and must be answered with the earliest failing check.
 * Requests are made with plain `fetch`, signed by hand, so nothing of the connector's client is
 * involved.
 */
import { assert, describe, it } from "@effect/vitest"
import { SandboxClock } from "@tkbridge/connector-testkit"
import { TikTokShopSign } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox as Sandbox, TikTokShopSandboxApi } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Effect } from "effect"

const { allScopes } = TikTokShopSandboxApi

interface Call {
  readonly method?: string
  readonly path: string
  readonly query?: Record<string, string>
  readonly body?: string
  readonly contentType?: string
  readonly token?: string | undefined
  /** Sign with this secret (default: the sandbox's). */
  readonly secret?: string
  /** Change the request after signing. */
  readonly tamper?: (r: { query: Record<string, string>; body: string | undefined; rawQuery?: string }) => void
  readonly noSign?: boolean
}

const send = (sandbox: Sandbox.TikTokShopSandbox, call: Call) =>
  Effect.promise(async () => {
    const query: Record<string, string> = {
      app_key: sandbox.appKey,
      timestamp: String(sandbox.clock.nowSeconds()),
      ...(call.query ?? {})
    }
    const contentType = call.contentType ?? "application/json"
    const sign = TikTokShopSign.sign({
      secret: call.secret ?? sandbox.appSecret,
      path: call.path,
      query,
      body: call.body,
      contentType
    })
    const request: { query: Record<string, string>; body: string | undefined; rawQuery?: string } = {
      query: call.noSign ? query : { ...query, sign },
      body: call.body
    }
    call.tamper?.(request)
    const qs = request.rawQuery ?? new URLSearchParams(request.query).toString()
    const response = await fetch(`${sandbox.url}${call.path}?${qs}`, {
      method: call.method ?? (call.body === undefined ? "GET" : "POST"),
      headers: {
        "content-type": contentType,
        ...(call.token === undefined ? {} : { "x-tts-access-token": call.token })
      },
      ...(request.body === undefined ? {} : { body: request.body })
    })
    const json = (await response.json()) as { code: number; message: string }
    return { status: response.status, code: json.code, message: json.message }
  })

const ordersSearch = "/order/202309/orders/search"

describe("gateway order", () => {
  it.scopedLive("path, version and method come first", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const unknown = yield* send(sandbox, { path: "/order/202309/nothing", query: { app_key: "wrong" } })
      assert.deepInclude(unknown, { status: 404, code: 36009009 })
      const method = yield* send(sandbox, { method: "DELETE", path: ordersSearch, query: { app_key: "wrong" } })
      assert.deepInclude(method, { status: 405, code: 36009010 })
      const version = yield* send(sandbox, {
        path: "/order/202401/orders/search",
        body: "{}",
        query: { app_key: "wrong" }
      })
      assert.deepInclude(version, { code: 36009014 })
      const media = yield* send(sandbox, {
        path: ordersSearch,
        body: "a=1",
        contentType: "text/plain",
        query: { app_key: "wrong" }
      })
      assert.deepInclude(media, { code: 36009022 })
    })
  )

  it.scopedLive("app_key, then timestamp window, then sign, then token, then scope, then shop_cipher, then rate", () =>
    Effect.gen(function* () {
      const clock = new SandboxClock.SandboxClock({ speed: 1e-6 })
      const sandbox = yield* Sandbox.scoped({ clock, shops: [{ name: "UK" }, { name: "DE", region: "DE" }] })
      const [uk, de] = sandbox.shops()
      const now = clock.nowSeconds()
      const fresh = sandbox.issueToken(uk!.id)
      const expired = sandbox.issueToken(uk!.id)
      sandbox.world.accessTokens.get(expired.accessToken)!.expiresAt = clock.now()
      sandbox.setScopes(["Product Basic"])
      const narrow = sandbox.issueToken(uk!.id)
      sandbox.setScopes(allScopes)
      const body = "{}"

      // 2. a wrong app_key wins over a stale timestamp and a bad signature
      const appKey = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { app_key: "nope", timestamp: String(now - 1000) },
        secret: "wrong",
        token: expired.accessToken
      })
      assert.deepInclude(appKey, { status: 400, code: 36009004 })
      assert.include(appKey.message, "app_key")

      // 3. the timestamp window: 300 s back, 30 s ahead
      const early = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { timestamp: String(now - 301) },
        secret: "wrong"
      })
      assert.deepInclude(early, { code: 36009004 })
      assert.include(early.message, "too early")
      const late = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { timestamp: String(now + 31) },
        secret: "wrong"
      })
      assert.include(late.message, "too late")
      const edge = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { timestamp: String(now - 299), page_size: "10", shop_cipher: uk!.cipher },
        token: fresh.accessToken
      })
      assert.deepInclude(edge, { status: 200, code: 0 })

      // 4. a missing or bad sign wins over an expired token
      const missing = yield* send(sandbox, { path: ordersSearch, body, noSign: true, token: expired.accessToken })
      assert.include(missing.message, "Missing 'sign'")
      const badSign = yield* send(sandbox, { path: ordersSearch, body, secret: "wrong", token: expired.accessToken })
      assert.deepInclude(badSign, { status: 401, code: 106001 })

      // 5. an expired token wins over a missing scope; no token at all is 36009004
      const noToken = yield* send(sandbox, { path: ordersSearch, body })
      assert.deepInclude(noToken, { code: 36009004 })
      assert.include(noToken.message, "x-tts-access-token")
      const expiredToken = yield* send(sandbox, { path: ordersSearch, body, token: expired.accessToken })
      assert.deepInclude(expiredToken, { code: 105002 })

      // 6. a missing scope wins over a missing shop_cipher
      const scope = yield* send(sandbox, { path: ordersSearch, body, token: narrow.accessToken })
      assert.deepInclude(scope, { status: 401, code: 105005 })

      // 7. shop_cipher: missing, unexpected, not this token's shop
      const noCipher = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { page_size: "10" },
        token: fresh.accessToken
      })
      assert.deepInclude(noCipher, { code: 106013 })
      const unexpected = yield* send(sandbox, {
        path: "/authorization/202309/shops",
        query: { shop_cipher: uk!.cipher },
        token: fresh.accessToken
      })
      assert.deepInclude(unexpected, { code: 36009004 })
      assert.include(unexpected.message, "Unexpected")
      const foreign = yield* send(sandbox, {
        path: ordersSearch,
        body,
        query: { page_size: "10", shop_cipher: de!.cipher },
        token: fresh.accessToken
      })
      assert.deepInclude(foreign, { code: 101000 })

      // 8. 50 per second per app + shop + API; then business validation
      const ok = {
        path: ordersSearch,
        body,
        query: { page_size: "10", shop_cipher: uk!.cipher },
        token: fresh.accessToken
      }
      for (let i = 0; i < 49; i++) {
        const r = yield* send(sandbox, ok)
        assert.strictEqual(r.code, 0)
      }
      const limited = yield* send(sandbox, ok)
      assert.deepInclude(limited, { status: 429, code: 36009002 })
      // Still the earlier checks first: a bad signature is 106001 even over the limit.
      const overAndBad = yield* send(sandbox, { ...ok, secret: "wrong" })
      assert.strictEqual(overAndBad.code, 106001)
      // Other APIs and other shops have their own budget.
      const otherApi = yield* send(sandbox, {
        path: "/return_refund/202309/cancellations/search",
        body,
        query: { page_size: "10", shop_cipher: uk!.cipher },
        token: fresh.accessToken
      })
      assert.strictEqual(otherApi.code, 0)
      const deToken = sandbox.issueToken(de!.id)
      const otherShop = yield* send(sandbox, {
        ...ok,
        query: { page_size: "10", shop_cipher: de!.cipher },
        token: deToken.accessToken
      })
      assert.strictEqual(otherShop.code, 0)
      clock.advance(1001)
      const again = yield* send(sandbox, ok)
      assert.strictEqual(again.code, 0)
      // 9. business validation last
      const badPage = yield* send(sandbox, { ...ok, query: { page_size: "500", shop_cipher: uk!.cipher } })
      assert.deepInclude(badPage, { code: 36009004 })
      assert.include(badPage.message, "page_size")
    })
  )
})

describe("signature checks", () => {
  it.scopedLive(
    "rejects tampered bodies and queries, unencoded + in page tokens, and honours multipart exclusion",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.scoped()
        const token = sandbox.issueToken()
        const cipher = sandbox.defaultShop().cipher
        const base = { path: ordersSearch, token: token.accessToken, query: { page_size: "10", shop_cipher: cipher } }
        const body = '{"update_time_ge":1700000000}'
        assert.strictEqual((yield* send(sandbox, { ...base, body })).code, 0)
        const tamperedBody = yield* send(sandbox, {
          ...base,
          body,
          tamper: (r) => {
            r.body = '{"update_time_ge": 1700000000}'
          }
        })
        assert.strictEqual(tamperedBody.code, 106001)
        const addedParam = yield* send(sandbox, {
          ...base,
          body,
          tamper: (r) => {
            r.query = { ...r.query, sort_order: "ASC" }
          }
        })
        assert.strictEqual(addedParam.code, 106001)
        // A page token sent with a raw `+` arrives as a space and no longer matches its signature.
        const pageToken = "+/8ab+cd/=="
        const raw = yield* send(sandbox, {
          ...base,
          body,
          query: { ...base.query, page_token: pageToken },
          tamper: (r) => {
            r.rawQuery = Object.entries(r.query)
              .map(([k, v]) => `${k}=${v}`)
              .join("&")
          }
        })
        assert.strictEqual(raw.code, 106001)
        const encoded = yield* send(sandbox, { ...base, body, query: { ...base.query, page_token: pageToken } })
        assert.strictEqual(encoded.code, 36009004) // signature fine; the token itself is not one of the sandbox's
        assert.include(encoded.message, "page_token")

        // Multipart: the body is not signed, and no shop_cipher is allowed on uploads.
        const multipart = {
          path: "/product/202309/images/upload",
          token: token.accessToken,
          contentType: "multipart/form-data; boundary=xyz",
          body: '--xyz\r\nContent-Disposition: form-data; name="data"; filename="a.jpg"\r\n\r\nJPEG\r\n--xyz--\r\n'
        }
        const upload = yield* send(sandbox, multipart)
        assert.deepInclude(upload, { status: 200, code: 0 })
        // The same upload signed as if its body counted: TikTok ignores multipart bodies, so it fails.
        const jsonSigned = yield* Effect.promise(async () => {
          const query = { app_key: sandbox.appKey, timestamp: String(sandbox.clock.nowSeconds()) }
          const sign = TikTokShopSign.sign({
            secret: sandbox.appSecret,
            path: multipart.path,
            query,
            body: multipart.body,
            contentType: "application/json"
          })
          const response = await fetch(`${sandbox.url}${multipart.path}?${new URLSearchParams({ ...query, sign })}`, {
            method: "POST",
            headers: { "content-type": multipart.contentType, "x-tts-access-token": token.accessToken },
            body: multipart.body
          })
          return ((await response.json()) as { code: number }).code
        })
        assert.strictEqual(jsonSigned, 106001)
      })
  )

  it.scopedLive("an empty JSON object body may be signed without the body, unless the sandbox is told otherwise", () =>
    Effect.gen(function* () {
      const call = (sandbox: Sandbox.TikTokShopSandbox) =>
        Effect.promise(async () => {
          const token = sandbox.issueToken()
          const query = {
            app_key: sandbox.appKey,
            timestamp: String(sandbox.clock.nowSeconds()),
            shop_cipher: sandbox.defaultShop().cipher,
            page_size: "10"
          }
          // Signed without a body (the official Node sample's behaviour for `{}`), sent with `{}`.
          const sign = TikTokShopSign.sign({ secret: sandbox.appSecret, path: ordersSearch, query })
          const response = await fetch(`${sandbox.url}${ordersSearch}?${new URLSearchParams({ ...query, sign })}`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-tts-access-token": token.accessToken },
            body: "{}"
          })
          return ((await response.json()) as { code: number }).code
        })
      assert.strictEqual(yield* call(yield* Sandbox.scoped()), 0)
      assert.strictEqual(yield* call(yield* Sandbox.scoped({ acceptBodylessSignature: false })), 106001)
    })
  )
})
