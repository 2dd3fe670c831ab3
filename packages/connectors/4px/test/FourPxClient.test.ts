/**
 * The signed client against the sandbox over real HTTP: what goes on the wire (query, body bytes,
 * millisecond timestamps, one timestamp for URL and signature), how the envelope is read (string
 * `result`, `data` as a JSON string, error keys in either spelling, partial success), how 4PX's
 * failures map onto the taxonomy, and that no secret reaches an error.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxSchema as Wire } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Duration, Effect, Schema } from "effect"
import { connect, parcelRequest } from "./support.ts"

const products = {
  method: "ds.xms.logistics_product.getlist" as const,
  body: { transport_mode: "1" },
  data: Wire.LogisticsProductList
}

describe("FourPxClient", () => {
  it.scopedLive("posts to /router/api/service with the system parameters in the query and the JSON as the body", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      yield* services["shipment.create"].create(parcelRequest("TT-Q-1"))
      const [create] = sandbox.requests("ds.xms.order.create")
      assert.isDefined(create)
      assert.strictEqual(create!.method, "POST")
      assert.strictEqual(create!.path, "/router/api/service")
      assert.strictEqual(create!.status, 200)
      const q = new URLSearchParams(create!.query)
      assert.deepStrictEqual([...q.keys()], ["method", "app_key", "v", "timestamp", "format", "sign", "language"])
      assert.strictEqual(q.get("app_key"), sandbox.appKey)
      assert.strictEqual(q.get("v"), "1.0.0")
      assert.strictEqual(q.get("format"), "json")
      assert.strictEqual(q.get("language"), "en")
      assert.isNull(q.get("access_token"))
      assert.match(q.get("timestamp")!, /^\d{13}$/)
      assert.approximately(Number(q.get("timestamp")), Date.now(), 60_000)
      assert.match(q.get("sign")!, /^[0-9a-f]{32}$/)
      assert.strictEqual(create!.headers["content-type"], "application/json;charset=UTF-8")
      // The body is the business JSON itself — no wrapper — and Chinese text travels as UTF-8.
      const body = JSON.parse(create!.text)
      assert.strictEqual(body.ref_no, "TT-Q-1")
      assert.include(create!.text, "陶瓷杯")
      assert.notInclude(create!.text, "\\u")
      assert.strictEqual(create!.text, JSON.stringify(body))
    })
  )

  it.scopedLive("sends and signs {} for an empty payload, and honours pinned method versions", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { client } = yield* connect(sandbox, {
        config: { versions: { "ds.xms.logistics_product.getlist": "1.0.0", "ds.xms.order.create": "1.1.0" } }
      })
      const list = yield* client.call({ method: "ds.xms.logistics_product.getlist", data: Wire.LogisticsProductList })
      assert.isAbove(list!.length, 0)
      const [call] = sandbox.requests("ds.xms.logistics_product.getlist")
      assert.strictEqual(call!.text, "{}")
      assert.strictEqual(call!.status, 200)
      yield* client.call({ method: "ds.xms.order.create", body: {}, data: Schema.Unknown }).pipe(Effect.flip)
      assert.strictEqual(new URLSearchParams(sandbox.requests("ds.xms.order.create")[0]!.query).get("v"), "1.1.0")
    })
  )

  it.scopedLive("reads data sent as a JSON string and error items in camelCase or both spellings", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ dataAsString: true, errorKeys: "camel" })
      const { client, services } = yield* connect(sandbox)
      const list = yield* client.call(products)
      assert.deepStrictEqual(
        list!.map((p) => p.logistics_product_code),
        ["A2", "A6", "F3", "API-TEST"]
      )
      const created = yield* services["shipment.create"].create(parcelRequest("TT-STR-1"))
      assert.match(created.externalId, /^DS\d{12}$/)
      const missing = yield* Effect.flip(
        client.call({ method: "ds.xms.order.get", body: { request_no: "NO-SUCH-REF" }, data: Schema.Unknown })
      )
      assert.strictEqual(missing._tag, "NotFound")
      assert.strictEqual(missing.code, "DS000017")
      // `get` reads the same camelCase code; "not there yet" is Transient there (see FourPxShipment).
      const notYet = yield* Effect.flip(services["shipment.create"].get("NO-SUCH-REF"))
      assert.strictEqual(notYet._tag, "Transient")
      assert.strictEqual(notYet.code, "DS000017")

      const both = yield* FourPxSandbox.scoped({ errorKeys: "both" })
      const other = yield* connect(both)
      const refused = yield* Effect.flip(other.services["shipment.create"].cancel("NO-SUCH-REF"))
      assert.strictEqual(refused._tag, "NotFound")
      assert.include(refused.message, "Can not find this order")
    })
  )

  it("parses JSON-encoded data defensively and keeps other strings", () => {
    assert.deepStrictEqual(Wire.unwrapData('{"a":1}'), { a: 1 })
    assert.deepStrictEqual(Wire.unwrapData(" [1,2] "), [1, 2])
    assert.strictEqual(Wire.unwrapData("https://example.com/label.pdf"), "https://example.com/label.pdf")
    assert.strictEqual(Wire.unwrapData("{not json"), "{not json")
    assert.deepStrictEqual(
      Wire.normaliseError({ errorCode: "DS000004", errorMsg: "bad", error_data: "ref_no", referenceCode: null }),
      { code: "DS000004", message: "bad", data: "ref_no" }
    )
  })

  it.scopedLive("treats result 2 with data as a success and result 0 as a failure", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { client } = yield* connect(sandbox)
      const partial = {
        status: 200,
        headers: { "content-type": "application/json" },
        body: {
          result: "2",
          msg: "partial",
          errors: [{ error_code: "DS000004", error_msg: "one item failed" }],
          data: [{ logistics_product_code: "A2" }]
        },
        times: 1
      }
      sandbox.fault("ds.xms.logistics_product.getlist", partial)
      const list = yield* client.call(products)
      assert.deepStrictEqual(
        list!.map((p) => p.logistics_product_code),
        ["A2"]
      )
      sandbox.fault("ds.xms.logistics_product.getlist", { ...partial, body: { ...partial.body, data: null } })
      const failed = yield* Effect.flip(client.call(products))
      assert.strictEqual(failed._tag, "Rejected")
      assert.strictEqual(failed.code, "DS000004")
    })
  )

  it.scopedLive("a wrong secret is refused with 000012 and a message that says what to check", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { client } = yield* connect(sandbox, { config: { appSecret: "not-the-secret-0000" } })
      const error = yield* Effect.flip(client.call(products))
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error.code, "000012")
      assert.include(error.message, "signature")
      assert.include(error.message, "appSecret")
      assert.strictEqual(sandbox.requests("ds.xms.logistics_product.getlist")[0]!.status, 200)
      // Neither secret appears anywhere in the error.
      const text = JSON.stringify(error)
      assert.notInclude(text, "not-the-secret-0000")
      assert.notInclude(text, sandbox.appSecret)
      assert.include(error.exchange!.curl, "curl -X POST")
    })
  )

  it.scopedLive("maps gateway and business codes onto the taxonomy", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { client } = yield* connect(sandbox, { config: { rateLimitBackoffMs: 61_000, busyBackoffMs: 7_000 } })
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["000017", "RateLimited"],
        ["DS000006", "RateLimited"],
        ["000020", "Transient"],
        ["000015", "Transient"],
        ["DS000003", "Transient"],
        ["000013", "AuthRevoked"],
        ["000014", "AuthRevoked"],
        ["000022", "AuthRevoked"],
        ["000016", "ScopeMissing"],
        ["DS000004", "Rejected"],
        ["010101005", "Rejected"],
        ["DS000017", "NotFound"]
      ]
      for (const [code, tag] of cases) {
        sandbox.fault(
          "ds.xms.logistics_product.getlist",
          sandbox.fourPxError(code, { times: 1, message: `field says ${code}` })
        )
        const error = yield* Effect.flip(client.call(products))
        assert.strictEqual(error._tag, tag, code)
        assert.strictEqual(error.code, code)
        assert.include(error.message, `field says ${code}`)
        assert.strictEqual(error.connection, "4px-main")
        if (error._tag === "RateLimited") {
          assert.strictEqual(Duration.toMillis(error.retryAfter), code === "000017" ? 61_000 : 7_000)
        }
        if (error._tag === "ScopeMissing") assert.strictEqual(error.scope, "ds.xms.logistics_product.getlist")
      }
    })
  )

  it.scopedLive("a method version the gateway does not offer is Rejected with 000011", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { client } = yield* connect(sandbox, {
        config: { versions: { "ds.xms.logistics_product.getlist": "9.9.9" } }
      })
      const error = yield* Effect.flip(client.call(products))
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error.code, "000011")
      assert.include(error.message, "9.9.9")
    })
  )

  it.scopedLive(
    "classifies answers that are not envelopes: empty 200, HTML, 5xx text, 429, dropped and hung connections",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* FourPxSandbox.scoped()
        const { client } = yield* connect(sandbox, { config: { timeoutMs: 300 } })
        sandbox.fault("ds.xms.logistics_product.getlist", { empty: true, times: 1 })
        assert.strictEqual((yield* Effect.flip(client.call(products)))._tag, "Transient")
        sandbox.fault("ds.xms.logistics_product.getlist", { status: 200, body: "<html>busy</html>", times: 1 })
        assert.strictEqual((yield* Effect.flip(client.call(products)))._tag, "Transient")
        sandbox.fault("ds.xms.logistics_product.getlist", { status: 502, body: "Bad Gateway", times: 1 })
        const bad = yield* Effect.flip(client.call(products))
        assert.strictEqual(bad._tag, "Transient")
        assert.strictEqual(bad.httpStatus, 502)
        sandbox.fault("ds.xms.logistics_product.getlist", { retryAfterSeconds: 3, times: 1 })
        const limited = yield* Effect.flip(client.call(products))
        assert.strictEqual(limited._tag, "RateLimited")
        if (limited._tag === "RateLimited") assert.strictEqual(Duration.toMillis(limited.retryAfter), 3_000)
        sandbox.fault("gateway", { drop: true, times: 1 })
        assert.strictEqual((yield* Effect.flip(client.call(products)))._tag, "Transient")
        sandbox.fault("ds.xms.logistics_product.getlist", { hang: true, times: 1 })
        const hung = yield* Effect.flip(client.call(products))
        assert.strictEqual(hung._tag, "Transient")
        assert.include(hung.message, "no response within")
        // Afterwards the client works again.
        assert.isAbove((yield* client.call(products))!.length, 0)
      })
  )
})
