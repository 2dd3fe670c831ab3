/**
 * The FOP signature: the official example's inputs (reference vector V1), and vectors whose MD5 is
 * computed by a second implementation — the system's `openssl md5` (or `md5sum`) over the exact
 * bytes — including Chinese text in the body and the `{}` body of an empty payload. The sandbox's
 * own check (written separately) must agree with the client on each.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { FourPxSign } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Effect } from "effect"

/** MD5 of `input` by an external program: openssl, or coreutils md5sum. */
const externalMd5 = (input: Buffer): string => {
  try {
    const out = execFileSync("openssl", ["md5", "-r"], { input, stdio: ["pipe", "pipe", "pipe"] }).toString()
    return out.trim().split(/\s+/)[0]!
  } catch {
    return execFileSync("md5sum", [], { input }).toString().trim().split(/\s+/)[0]!
  }
}

const official = {
  params: {
    method: "ds.xms.order.create",
    app_key: "16081f05-e8fc-4250-b9c4-0660d1ecbb28",
    v: "1.0",
    timestamp: "1532592413187",
    format: "json"
  },
  body: '{"aa":"bb"}',
  appSecret: "7eebf328-8e5a-4030-904d-ec6e89174fbc"
}

describe("FourPxSign", () => {
  it("signs the official example's inputs to the pinned vector V1", () => {
    const text = FourPxSign.stringToSign(official).toString("utf8")
    assert.strictEqual(
      text,
      'app_key16081f05-e8fc-4250-b9c4-0660d1ecbb28formatjsonmethodds.xms.order.createtimestamp1532592413187v1.0{"aa":"bb"}7eebf328-8e5a-4030-904d-ec6e89174fbc'
    )
    assert.strictEqual(FourPxSign.sign(official), "ff4af77c062a9b97d98aa29777621c4a")
  })

  it("leaves access_token, language and sign out of the signature", () => {
    const withExtras = {
      ...official,
      params: { ...official.params, access_token: "at-123", language: "en", sign: "whatever" }
    }
    assert.strictEqual(FourPxSign.sign(withExtras), "ff4af77c062a9b97d98aa29777621c4a")
  })

  const vectors: ReadonlyArray<{ readonly name: string; readonly input: FourPxSign.SignInput }> = [
    { name: "the official example", input: official },
    {
      name: "an empty payload sent as {}",
      input: {
        params: {
          method: "ds.xms.logistics_product.getlist",
          app_key: "k-1",
          v: "1.0.0",
          timestamp: "1700000000000",
          format: "json"
        },
        body: "{}",
        appSecret: "s-1"
      }
    },
    {
      name: "Chinese text in the body",
      input: {
        params: {
          method: "ds.xms.order.create",
          app_key: "app-中文-无关",
          v: "1.1.0",
          timestamp: "1764201600123",
          format: "json"
        },
        body: '{"ref_no":"TT-1","recipient_info":{"first_name":"王","city":"深圳","street":"科技南一路1号"},"declare_product_name_cn":"陶瓷杯"}',
        appSecret: "secret-秘密"
      }
    },
    {
      name: "a tracking query with a camelCase body",
      input: {
        params: {
          method: "tr.order.tracking.get",
          app_key: "abc",
          v: "1.0.0",
          timestamp: "1764201600999",
          format: "json"
        },
        body: '{"deliveryOrderNo":"4PX3001291278502CN"}',
        appSecret: "xyz"
      }
    }
  ]

  for (const { name, input } of vectors) {
    it(`agrees with openssl/md5sum on ${name}`, () => {
      const expected = externalMd5(FourPxSign.stringToSign(input))
      assert.match(expected, /^[0-9a-f]{32}$/)
      assert.strictEqual(FourPxSign.sign(input), expected)
    })
  }

  it("hashes UTF-8 bytes, not UTF-16 code units", () => {
    const input = vectors[2]!.input
    const bytes = FourPxSign.stringToSign(input)
    assert.isTrue(bytes.includes(Buffer.from("陶瓷杯", "utf8")))
    assert.strictEqual(bytes.length, Buffer.byteLength(bytes.toString("utf8"), "utf8"))
  })

  it("compares case-insensitively and rejects malformed signatures", () => {
    assert.isTrue(FourPxSign.verify("ff4af77c062a9b97d98aa29777621c4a", "FF4AF77C062A9B97D98AA29777621C4A"))
    assert.isFalse(FourPxSign.verify("ff4af77c062a9b97d98aa29777621c4a", "ff4af77c062a9b97d98aa29777621c4b"))
    assert.isFalse(FourPxSign.verify("ff4af77c062a9b97d98aa29777621c4a", "ff4af77c"))
    assert.isFalse(FourPxSign.verify("ff4af77c062a9b97d98aa29777621c4a", "zz4af77c062a9b97d98aa29777621c4a"))
  })

  it.scoped("the sandbox's separate check computes the same signatures", () =>
    Effect.gen(function* () {
      for (const { input } of vectors) {
        const sandbox = yield* FourPxSandbox.scoped({ appKey: input.params.app_key!, appSecret: input.appSecret })
        const query = new URLSearchParams(input.params as Record<string, string>)
        const body = new TextEncoder().encode(input.body as string)
        assert.strictEqual(sandbox.gateway.expectedSign(query, body), FourPxSign.sign(input))
      }
    })
  )
})
