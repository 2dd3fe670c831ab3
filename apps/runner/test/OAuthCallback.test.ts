import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as OAuthCallback from "../src/OAuthCallback.ts"
import { table, width } from "../src/Output.ts"

describe("OAuthCallback", () => {
  it("turns away a redirect with the wrong state and hands over the query of the right one", () =>
    Effect.gen(function* () {
      const server = yield* OAuthCallback.listen("http://127.0.0.1:0/callback", "expected-state")
      const waiting = yield* Effect.fork(server.params)
      const base = server.redirectUri
      const forged = yield* Effect.promise(() => fetch(`${base}?code=evil&state=other`))
      expect(forged.status).toBe(400)
      expect(yield* Fiber.poll(waiting)).toEqual(expect.objectContaining({ _tag: "None" }))
      const ok = yield* Effect.promise(() => fetch(`${base}?code=abc&state=expected-state&shop_region=GB`))
      expect(ok.status).toBe(200)
      expect(yield* Fiber.join(waiting)).toEqual({ code: "abc", state: "expected-state", shop_region: "GB" })
    }).pipe(Effect.scoped, Effect.runPromise))

  it("fails when the platform redirects with an error", () =>
    Effect.gen(function* () {
      const server = yield* OAuthCallback.listen("http://localhost:0/cb", "s")
      yield* Effect.promise(() =>
        fetch(`${server.redirectUri}?state=s&error=access_denied&error_description=seller%20declined`)
      )
      const result = yield* Effect.either(server.params)
      expect(result).toEqual(expect.objectContaining({ _tag: "Left" }))
      if (result._tag === "Left") expect(result.left.message).toBe("the platform refused: seller declined")
    }).pipe(Effect.scoped, Effect.runPromise))

  it("refuses a redirect URI it cannot listen on", async () => {
    const result = await Effect.runPromise(
      Effect.either(Effect.scoped(OAuthCallback.listen("https://sync.example.com/callback", "s")))
    )
    expect(result._tag).toBe("Left")
  })
})

describe("Output", () => {
  it("aligns tables by terminal cells, counting Chinese characters as two", () => {
    const out = { json: false, color: false, isTty: false, columns: 80, write: () => {}, writeErr: () => {} }
    expect(width("马克杯")).toBe(6)
    expect(
      table(
        out,
        [{ header: "item" }, { header: "qty", align: "right" }],
        [
          ["马克杯", "7"],
          ["MUG-01", "12"]
        ]
      )
    ).toBe("item    qty\n马克杯    7\nMUG-01   12\n")
  })
})
