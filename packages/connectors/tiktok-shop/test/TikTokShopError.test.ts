/**
 * TikTok's codes onto the core taxonomy (reference §4.2): the body code decides; the HTTP status
 * only when the code is unknown.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopError } from "@tkbridge/connector-tiktok-shop"
import { Duration } from "effect"

const map = (code: number, message = "", httpStatus = 200, retryAfter?: string) =>
  TikTokShopError.fromFailure({ code, message, httpStatus, retryAfter }, 1_700_000_000_000, Duration.seconds(1))

describe("TikTokShopError.fromFailure", () => {
  it("maps the documented codes", () => {
    const cases: ReadonlyArray<[number, string, number, string]> = [
      [105002, "Expired credentials", 401, "AuthExpired"],
      [105005, "Access denied", 401, "ScopeMissing"],
      [106001, "Invalid credentials. The 'sign' query parameter is invalid.", 401, "Rejected"],
      [36009002, "Too many requests", 429, "RateLimited"],
      [36009003, "Internal error", 503, "Transient"],
      [36009007, "Request timeout", 200, "Transient"],
      [36009009, "Invalid path", 404, "Rejected"],
      [36009014, "The version name is invalid", 400, "Rejected"],
      [106013, "Missing identifier", 400, "Rejected"],
      [101000, "token not associated with the shop", 401, "AuthRevoked"],
      [36004005, "can not find related auth record", 200, "AuthRevoked"],
      [36004001, "rt has expired", 200, "AuthRevoked"],
      [12052556, "SKU id does not exist", 200, "NotFound"],
      [21011025, "Duplicate tracking number", 400, "Rejected"],
      [25001003, "Invalid order status", 400, "Rejected"]
    ]
    for (const [code, message, status, tag] of cases) {
      const error = map(code, message, status)
      assert.strictEqual(error._tag, tag, `${code}`)
      assert.strictEqual(error.code, String(code))
      assert.strictEqual(error.httpStatus, status)
    }
  })

  it("names the signature problem plainly", () => {
    const error = map(106001, "Invalid credentials. The 'sign' query parameter is invalid.", 401)
    assert.include(error.message, "signature")
    assert.include(error.message, "app_secret")
  })

  it("splits the 36009004 catch-all by what it complains about", () => {
    assert.strictEqual(
      map(36009004, "Invalid credentials. Invalid 'x-tts-access-token' header.", 401)._tag,
      "AuthExpired"
    )
    const skewed = map(36009004, "Invalid timestamp. The timestamp is too early.", 400)
    // A skewed clock signs every retry wrong too: it surfaces instead of retrying forever.
    assert.deepInclude(skewed, { _tag: "Rejected", code: "36009004" })
    assert.include(skewed.message, "clock")
    assert.include(skewed.message, "timestamp")
    assert.strictEqual(map(36009004, "Invalid credentials. Invalid 'app_key' query parameter.", 400)._tag, "Rejected")
    assert.strictEqual(map(36009004, "Skus is a required field and has not been provided.", 400)._tag, "Rejected")
  })

  it("unknown codes fall back on the HTTP status; 429 honours Retry-After", () => {
    assert.strictEqual(map(99999999, "?", 502)._tag, "Transient")
    assert.strictEqual(map(99999999, "?", 400)._tag, "Rejected")
    const retryAfterMs = (error: ReturnType<typeof map>) => {
      assert.strictEqual(error._tag, "RateLimited")
      return error._tag === "RateLimited" ? Duration.toMillis(error.retryAfter) : Number.NaN
    }
    assert.strictEqual(retryAfterMs(map(99999999, "?", 429, "3")), 3000)
    // Without Retry-After the configured back-off applies.
    assert.strictEqual(retryAfterMs(map(36009002, "Too many requests", 429)), 1000)
  })
})
