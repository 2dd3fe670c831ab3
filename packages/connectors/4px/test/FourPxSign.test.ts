/**
 * The FOP signature against pinned vectors: the official example's inputs (reference vector V1),
 * an empty payload sent as `{}`, Chinese text in the app key, body and secret, and a tracking query.
 * Each vector pins the literal string to sign — built by hand from the rule (names sorted, name and
 * value joined with nothing, then the body, then the secret) — and its lowercase MD5, computed
 * outside this code base (Python `hashlib`, checked with `openssl md5`). The client must produce
 * both exactly; `openssl`, when present, re-checks the pinned pairs; the sandbox's own check
 * (written separately) must agree with the client on each.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { FourPxSign } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Effect } from "effect"

/** Why the openssl cross-check cannot run here, or undefined when it can. */
const opensslMissing: string | undefined = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: ["ignore", "pipe", "pipe"] })
    return undefined
  } catch (e) {
    return `openssl is not available on this machine (${(e as Error).message.split("\n")[0]})`
  }
})()

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
  it("leaves access_token, language and sign out of the signature", () => {
    const withExtras = {
      ...official,
      params: { ...official.params, access_token: "at-123", language: "en", sign: "whatever" }
    }
    assert.strictEqual(FourPxSign.sign(withExtras), "ff4af77c062a9b97d98aa29777621c4a")
  })

  interface Vector {
    readonly name: string
    readonly input: FourPxSign.SignInput
    /** The string to sign, written out by hand from the rule. */
    readonly text: string
    /** Its MD5, lowercase hex, computed independently. */
    readonly md5: string
  }

  const vectors: ReadonlyArray<Vector> = [
    {
      name: "the official example (V1)",
      input: official,
      text: 'app_key16081f05-e8fc-4250-b9c4-0660d1ecbb28formatjsonmethodds.xms.order.createtimestamp1532592413187v1.0{"aa":"bb"}7eebf328-8e5a-4030-904d-ec6e89174fbc',
      md5: "ff4af77c062a9b97d98aa29777621c4a"
    },
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
      },
      text: "app_keyk-1formatjsonmethodds.xms.logistics_product.getlisttimestamp1700000000000v1.0.0{}s-1",
      md5: "3aa924c7855788678caf33fe252d491b"
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
      },
      text: 'app_keyapp-中文-无关formatjsonmethodds.xms.order.createtimestamp1764201600123v1.1.0{"ref_no":"TT-1","recipient_info":{"first_name":"王","city":"深圳","street":"科技南一路1号"},"declare_product_name_cn":"陶瓷杯"}secret-秘密',
      md5: "a9acc487b45ea6baee22252f1ec42391"
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
      },
      text: 'app_keyabcformatjsonmethodtr.order.tracking.gettimestamp1764201600999v1.0.0{"deliveryOrderNo":"4PX3001291278502CN"}xyz',
      md5: "dad1894d631b08faac664370a9701c14"
    }
  ]

  for (const { name, input, text, md5 } of vectors) {
    it(`signs ${name} to the pinned string and MD5`, () => {
      assert.strictEqual(FourPxSign.stringToSign(input).toString("utf8"), text)
      assert.strictEqual(FourPxSign.sign(input), md5)
    })
  }

  const opensslTitle = "openssl md5 of each pinned string is its pinned MD5 (guards the literals themselves)"
  if (opensslMissing === undefined) {
    it(opensslTitle, () => {
      for (const { name, text, md5 } of vectors) {
        const out = execFileSync("openssl", ["md5", "-r"], { input: Buffer.from(text, "utf8") }).toString()
        assert.strictEqual(out.trim().split(/\s+/)[0], md5, name)
      }
    })
  } else {
    it.skip(`${opensslTitle} — skipped: ${opensslMissing}`, () => {})
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
