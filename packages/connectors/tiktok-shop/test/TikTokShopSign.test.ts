/**
 * Request and webhook signatures, pinned to the official worked example (reference §3.3 T1) and to
 * vectors computed by a second, independent implementation: OpenSSL. The pinned values were made
 * with `printf '%s' "<secret><string to sign><secret>" | openssl dgst -sha256 -hmac <secret>`
 * (webhooks: `printf '%s' "<app_key><body>" | openssl dgst -sha256 -hmac <secret>`). Every vector
 * is also recomputed on each run by the first second implementation this machine has: the `openssl`
 * binary, else Python's `hmac`, else WebCrypto (a different code path from the `node:crypto`
 * `createHmac` the connector uses), so the cross-check never silently drops out.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSign } from "@tkbridge/connector-tiktok-shop"

const secret = "e59af819cc"
const appKey = "29a39d"

const runs = (command: string, args: ReadonlyArray<string>): boolean => {
  try {
    execFileSync(command, args, { stdio: "pipe" })
    return true
  } catch {
    return false
  }
}

const pythonHmac =
  "import hashlib, hmac, sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())"

/** HMAC-SHA256 hex by an implementation other than the connector's. */
const second: { readonly name: string; readonly hmac: (key: string, message: string) => Promise<string> } = runs(
  "openssl",
  ["version"]
)
  ? {
      name: "openssl",
      hmac: async (key, message) =>
        execFileSync("openssl", ["dgst", "-sha256", "-hmac", key], { input: message })
          .toString()
          .trim()
          .split(" ")
          .pop()!
    }
  : runs("python3", ["--version"])
    ? {
        name: "python3 hmac",
        hmac: async (key, message) =>
          execFileSync("python3", ["-c", pythonHmac, key], { input: message }).toString().trim()
      }
    : {
        name: "WebCrypto",
        hmac: async (key, message) => {
          const encoder = new TextEncoder()
          const imported = await globalThis.crypto.subtle.importKey(
            "raw",
            encoder.encode(key),
            { name: "HMAC", hash: "SHA-256" },
            false,
            ["sign"]
          )
          const digest = await globalThis.crypto.subtle.sign("HMAC", imported, encoder.encode(message))
          return Buffer.from(digest).toString("hex")
        }
      }

const vectors = [
  {
    name: "T1: official example, GET without body",
    input: { secret, path: "/authorization/202309/shops", query: { app_key: appKey, timestamp: "1623812664" } },
    wrapped: `${secret}/authorization/202309/shopsapp_key29a39dtimestamp1623812664${secret}`,
    expected: "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
  },
  {
    name: "POST with a JSON body; sign and access_token excluded; keys in byte order",
    input: {
      secret,
      path: "/order/202309/orders/search",
      query: {
        timestamp: "1623812664",
        sort_order: "ASC",
        app_key: appKey,
        sign: "must-not-be-signed",
        access_token: "must-not-be-signed",
        shop_cipher: "ROW_abc123",
        sort_field: "update_time",
        page_size: "20"
      },
      body: '{"update_time_ge":1623800000,"update_time_lt":1623812664}',
      contentType: "application/json"
    },
    wrapped: `${secret}/order/202309/orders/searchapp_key29a39dpage_size20shop_cipherROW_abc123sort_fieldupdate_timesort_orderASCtimestamp1623812664{"update_time_ge":1623800000,"update_time_lt":1623812664}${secret}`,
    expected: "f384591c02862456041eafc09b6a7b5602410d40571baadbbcdf14dda50210ca"
  },
  {
    name: "page_token with + / = is signed decoded",
    input: {
      secret,
      path: "/product/202309/products/search",
      query: {
        app_key: appKey,
        timestamp: "1623812664",
        shop_cipher: "ROW_abc123",
        page_size: "50",
        page_token: "aGVsbG8+d29ybGQ/Zm9v+/=="
      },
      contentType: "application/json"
    },
    wrapped: `${secret}/product/202309/products/searchapp_key29a39dpage_size50page_tokenaGVsbG8+d29ybGQ/Zm9v+/==shop_cipherROW_abc123timestamp1623812664${secret}`,
    expected: "6eb391f5bd588792bc9fddcd0cc74f57f270ee392d6b2ab813b4486115af80ec"
  },
  {
    name: "multipart body is left out",
    input: {
      secret,
      path: "/product/202309/images/upload",
      query: { app_key: appKey, timestamp: "1623812664" },
      body: '--xyz\r\nContent-Disposition: form-data; name="data"; filename="a.jpg"\r\n\r\nJPEGBYTES\r\n--xyz--\r\n',
      contentType: "multipart/form-data; boundary=xyz"
    },
    wrapped: `${secret}/product/202309/images/uploadapp_key29a39dtimestamp1623812664${secret}`,
    expected: "2f292aaeecc6a6ce8c7240771265c3342b343f27ef91271fe72a9452d74fa844"
  },
  {
    name: "DELETE carries a signed JSON body",
    input: {
      secret,
      path: "/event/202309/webhooks",
      query: { app_key: appKey, timestamp: "1623812664", shop_cipher: "ROW_abc123" },
      body: '{"event_type":"ORDER_STATUS_CHANGE"}',
      contentType: "application/json"
    },
    wrapped: `${secret}/event/202309/webhooksapp_key29a39dshop_cipherROW_abc123timestamp1623812664{"event_type":"ORDER_STATUS_CHANGE"}${secret}`,
    expected: "217f6ee8978d4d3cf5b6ce5a73bd84206208cd003398ba5d41c6d5222e31a361"
  }
]

describe("TikTokShopSign.sign", () => {
  for (const v of vectors) {
    it(v.name, () => {
      assert.strictEqual(TikTokShopSign.sign(v.input), v.expected)
    })
    it(`${v.name} (recomputed by ${second.name})`, async () => {
      assert.strictEqual(await second.hmac(secret, v.wrapped), v.expected)
    })
  }

  it("a signature changes when a single query value, the path or a body byte changes", () => {
    const base = vectors[1]!.input
    const signed = TikTokShopSign.sign(base)
    assert.notStrictEqual(TikTokShopSign.sign({ ...base, query: { ...base.query, page_size: "21" } }), signed)
    assert.notStrictEqual(TikTokShopSign.sign({ ...base, path: "/order/202309/orders/searc" }), signed)
    assert.notStrictEqual(TikTokShopSign.sign({ ...base, body: (base.body ?? "").replace("}", " }") }), signed)
  })

  it("multipart detection ignores parameters and case", () => {
    assert.isTrue(TikTokShopSign.isMultipart("Multipart/Form-Data; boundary=----x"))
    assert.isFalse(TikTokShopSign.isMultipart("application/json; charset=utf-8"))
    assert.isFalse(TikTokShopSign.isMultipart(undefined))
  })
})

const webhookBody =
  '{"type":1,"tts_notification_id":"7327111111111111111","shop_id":"7494009543680853513","timestamp":1700000000,"data":{"order_id":"576486316948490001","order_status":"AWAITING_SHIPMENT","is_on_hold_order":false,"update_time":1700000000}}'
const webhookBareNumbers =
  '{"type":27,"tts_notification_id":"7327111111111111112","shop_id":"7494009543680853513","timestamp":1700000100,"data":{"product_id":576486316948490000,"sku_id":1729382256910270465,"current_inventory_status":"LOW_STOCK","update_time":1700000100}}'

describe("TikTokShopSign.signWebhook", () => {
  it("HMAC-SHA256(app_secret, app_key + body), pinned", () => {
    assert.strictEqual(
      TikTokShopSign.signWebhook(appKey, secret, webhookBody),
      "6cba583738e4cc827c293c1b355f0b8064998dc2e5d49f67a13b71ddf59168df"
    )
    assert.strictEqual(
      TikTokShopSign.signWebhook(appKey, secret, new TextEncoder().encode(webhookBareNumbers)),
      "504dbc617949a05931da2eaef97ab2ea38361f23b7e1d9a321e95dab499bbf8e"
    )
  })

  it(`matches ${second.name} over app_key + raw body`, async () => {
    assert.strictEqual(
      await second.hmac(secret, appKey + webhookBody),
      TikTokShopSign.signWebhook(appKey, secret, webhookBody)
    )
    assert.strictEqual(
      await second.hmac(secret, appKey + webhookBareNumbers),
      TikTokShopSign.signWebhook(appKey, secret, webhookBareNumbers)
    )
  })

  it("constant-time comparison accepts only the exact digest", () => {
    const good = TikTokShopSign.signWebhook(appKey, secret, webhookBody)
    assert.isTrue(TikTokShopSign.safeEqualHex(good, good))
    assert.isTrue(TikTokShopSign.safeEqualHex(good, good.toUpperCase()))
    assert.isFalse(
      TikTokShopSign.safeEqualHex(good, `${good.slice(0, -1)}0`.replace(/0$/, good.endsWith("0") ? "1" : "0"))
    )
    assert.isFalse(TikTokShopSign.safeEqualHex(good, good.slice(0, 32)))
    assert.isFalse(TikTokShopSign.safeEqualHex(good, `Bearer ${good}`))
    assert.isFalse(TikTokShopSign.safeEqualHex(good, "z".repeat(64)))
  })
})
