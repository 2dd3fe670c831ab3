/**
 * The signed client against the sandbox over real HTTP: what goes on the wire (query, headers,
 * body bytes, encoding of page tokens), what counts as success (HTTP 200 and code 0), how TikTok's
 * failures map onto the taxonomy, and that no secret reaches an error.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSchema as Wire } from "@tkbridge/connector-tiktok-shop"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import { Duration, Effect, Either, Redacted } from "effect"
import { connect } from "./support.ts"

const seedProducts = (sandbox: Sandbox.TikTokShopSandbox, count: number) => {
  for (let i = 0; i < count; i++) {
    sandbox.addProduct({ title: `Mug ${i}`, skus: [{ sellerSku: `MUG-${i}`, stock: 3 }] })
  }
}

describe("TikTokShopClient", () => {
  it.scopedLive("signs with seconds, sends the token in a header and shop_cipher only on shop calls", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      seedProducts(sandbox, 1)
      const token = sandbox.issueTokenSet()
      const { services, client } = yield* connect(sandbox, { token })
      yield* services["catalog.pull"].list({})
      yield* client.callWith(token, {
        method: "GET",
        path: client.path("shops"),
        shopScoped: false,
        data: Wire.ShopsData
      })
      const [search] = sandbox.requestsTo("products.search")
      const [shops] = sandbox.requestsTo("shops")
      assert.isDefined(search)
      assert.isDefined(shops)
      const q = new URLSearchParams(search!.query)
      assert.strictEqual(q.get("app_key"), sandbox.appKey)
      assert.match(q.get("timestamp") ?? "", /^\d{10}$/)
      assert.approximately(Number(q.get("timestamp")), sandbox.clock.nowSeconds(), 5)
      assert.match(q.get("sign") ?? "", /^[0-9a-f]{64}$/)
      assert.strictEqual(q.get("shop_cipher"), sandbox.defaultShop().cipher)
      assert.isNull(q.get("access_token"))
      assert.isNull(q.get("version"))
      assert.strictEqual(search!.headers["x-tts-access-token"], Redacted.value(token.accessToken))
      assert.strictEqual(search!.headers["content-type"], "application/json")
      assert.strictEqual(search!.status, 200)
      assert.isNull(new URLSearchParams(shops!.query).get("shop_cipher"))
      assert.strictEqual(shops!.status, 200)
    })
  )

  it.scopedLive("sends compact JSON bodies byte-exact as signed", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const { services } = yield* connect(sandbox)
      yield* services["orders.pull"].list({
        updatedSince: new Date(1_700_000_000_000),
        updatedUntil: new Date(1_700_000_100_500)
      })
      const [search] = sandbox.requestsTo("orders.search")
      assert.strictEqual(search!.text, '{"update_time_ge":1700000000,"update_time_lt":1700000101}')
      assert.strictEqual(search!.status, 200)
    })
  )

  it.scopedLive("percent-encodes page tokens holding + and / and pages through them", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      seedProducts(sandbox, 3)
      const { services } = yield* connect(sandbox)
      const seen: Array<string> = []
      let cursor: string | undefined
      do {
        const page = yield* services["catalog.pull"].list({ cursor, pageSize: 1 })
        seen.push(...page.items.map((l) => l.externalSku))
        cursor = page.next
      } while (cursor !== undefined)
      assert.deepStrictEqual(seen, ["MUG-0", "MUG-1", "MUG-2"])
      const paged = sandbox.requestsTo("products.search").filter((r) => r.query.includes("page_token"))
      assert.strictEqual(paged.length, 2)
      for (const r of paged) {
        const raw = /page_token=([^&]*)/.exec(r.query)![1]!
        assert.include(raw, "%2B")
        assert.include(raw, "%2F")
        assert.notInclude(raw, "+")
        assert.strictEqual(r.status, 200)
      }
    })
  )

  it.scopedLive("success is HTTP 200 and code 0; everything else maps onto the taxonomy", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const { services } = yield* connect(sandbox)
      const list = services["orders.pull"].list({})
      const failWith = (fault: Parameters<typeof sandbox.fault>[1]) =>
        Effect.gen(function* () {
          sandbox.clearFaults()
          sandbox.fault("orders.search", { ...fault, times: 1 })
          return yield* Effect.flip(list)
        })
      const businessIn200 = yield* failWith({
        status: 200,
        body: { code: 36009003, message: "Internal error", data: null }
      })
      assert.strictEqual(businessIn200._tag, "Transient")
      assert.strictEqual(businessIn200.code, "36009003")
      const empty = yield* failWith({ empty: true })
      assert.strictEqual(empty._tag, "Transient")
      const notJson = yield* failWith({ status: 200, body: "<html>gateway</html>" })
      assert.strictEqual(notJson._tag, "Transient")
      const overloaded = yield* failWith(sandbox.tiktokError(36009003))
      assert.deepInclude(overloaded, { _tag: "Transient", httpStatus: 503, code: "36009003" })
      const retryAfterMs = (error: typeof empty) => {
        assert.strictEqual(error._tag, "RateLimited")
        return error._tag === "RateLimited" ? Duration.toMillis(error.retryAfter) : Number.NaN
      }
      // TikTok sends no Retry-After: the configured back-off (1 s) applies.
      assert.strictEqual(retryAfterMs(yield* failWith(sandbox.tiktokError(36009002))), 1000)
      assert.strictEqual(retryAfterMs(yield* failWith({ retryAfterSeconds: 7 })), 7000)
      const down = yield* failWith({ status: 502 })
      assert.strictEqual(down._tag, "Transient")
      const dropped = yield* failWith({ drop: true })
      assert.strictEqual(dropped._tag, "Transient")
      sandbox.clearFaults()
      const ok = yield* list
      assert.deepStrictEqual(ok.items, [])
    })
  )

  it.scopedLive("TikTok's credential and permission codes", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped({ shops: [{ name: "UK" }, { name: "DE", region: "DE" }] })
      const [uk, de] = sandbox.shops()
      const wrongSecret = yield* connect(sandbox, { config: { appSecret: "not-the-secret" } })
      const signature = yield* Effect.flip(wrongSecret.services["orders.pull"].list({}))
      assert.deepInclude(signature, { _tag: "Rejected", code: "106001", httpStatus: 401 })
      assert.include(signature.message, "signature")

      const version = yield* connect(sandbox, { config: { versions: { orderSearch: "202401" } } })
      const badVersion = yield* Effect.flip(version.services["orders.pull"].list({}))
      assert.deepInclude(badVersion, { _tag: "Rejected", code: "36009014" })

      const foreignShop = yield* connect(sandbox, {
        token: sandbox.issueTokenSet(uk!.id),
        config: { shopCipher: de!.cipher }
      })
      const mismatch = yield* Effect.flip(foreignShop.services["orders.pull"].list({}))
      assert.deepInclude(mismatch, { _tag: "AuthRevoked", code: "101000" })

      const scoped = yield* connect(sandbox)
      sandbox.setScopes(["Product Basic"], true)
      const scope = yield* Effect.flip(scoped.services["orders.pull"].list({}))
      assert.deepInclude(scope, { _tag: "ScopeMissing", code: "105005", httpStatus: 401 })
      const catalog = yield* scoped.services["catalog.pull"].list({}).pipe(Effect.either)
      assert.isTrue(Either.isRight(catalog))
    })
  )

  it.scopedLive("a clock outside TikTok's timestamp window fails Rejected, naming the clock", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      // The connector signs with the host's clock; TikTok's is now 10 minutes ahead of it.
      const { services } = yield* connect(sandbox)
      sandbox.clock.advance(10 * 60_000)
      const skewed = yield* Effect.flip(services["orders.pull"].list({}))
      assert.deepInclude(skewed, { _tag: "Rejected", code: "36009004" })
      assert.include(skewed.message, "clock")
      assert.strictEqual(sandbox.requestsTo("orders.search").length, 1)
    })
  )

  it.scopedLive("no secret reaches an error or its cURL line", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      const token = sandbox.issueTokenSet()
      const { services } = yield* connect(sandbox, { token })
      sandbox.fault("orders.search", { ...sandbox.tiktokError(36009003), times: 1 })
      const error = yield* Effect.flip(services["orders.pull"].list({}))
      const text = JSON.stringify(error)
      assert.notInclude(text, sandbox.appSecret)
      assert.notInclude(text, Redacted.value(token.accessToken))
      assert.include(error.exchange?.curl ?? "", "x-tts-access-token: ***")
      assert.include(error.exchange?.curl ?? "", "app_key=")
    })
  )
})
