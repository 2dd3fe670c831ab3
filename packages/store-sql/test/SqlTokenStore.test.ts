import { SqlClient } from "@effect/sql"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { AccessToken, TokenStore } from "@tkbridge/core"
import { SqlTokenStore, TokenCipher } from "@tkbridge/store-sql"
import { ConfigProvider, Effect, Either, Exit, Layer, Option, Redacted, TestClock } from "effect"
import { dialects, unique } from "./support.ts"

const key = Redacted.make("q2Rj0cF1x6k7Qb3m5TzWn8Yv4Ls9Pd0Ge1Hu2Ia3Kb4=")
const otherKey = Redacted.make("0000000000000000000000000000000000000000000000000000000000000001")
const cipher = Layer.orDie(TokenCipher.layer(key))

const grant = (access: string, refresh: string, expiresAt: number) =>
  new AccessToken.TokenSet({
    accessToken: Redacted.make(access),
    refreshToken: Redacted.make(refresh),
    expiresAt: new Date(expiresAt),
    refreshExpiresAt: new Date(expiresAt + 86_400_000 * 30),
    issuedAt: new Date(expiresAt - 86_400_000 * 7),
    scopes: ["seller.order.info", "seller.product.write"],
    extra: { shop_cipher: "ROW_abc123", shop_id: "7495000000000000001" }
  })

const rawColumns = (connection: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ access_token: string; refresh_token: string | null }>`SELECT access_token, refresh_token
      FROM tkb_tokens WHERE connection = ${connection}`
    return rows[0]!
  })

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlTokenStore (${dialect.name}, plaintext)`, (it) => {
    it.effect("stores a grant with the lifetimes the platform reported", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        const saved = yield* tokens.save(connection, grant("TTS_ACCESS_1", "TTS_REFRESH_1", 1_900_000_000_000))
        expect(saved.version).toBe(1)
        const read = Option.getOrThrow(yield* tokens.get(connection))
        expect(Redacted.value(read.tokens.accessToken)).toBe("TTS_ACCESS_1")
        expect(Redacted.value(read.tokens.refreshToken!)).toBe("TTS_REFRESH_1")
        expect(read.tokens.expiresAt?.getTime()).toBe(1_900_000_000_000)
        expect(read.tokens.refreshExpiresAt?.getTime()).toBe(1_900_000_000_000 + 86_400_000 * 30)
        expect(read.tokens.scopes).toEqual(["seller.order.info", "seller.product.write"])
        expect(read.tokens.extra).toEqual({ shop_cipher: "ROW_abc123", shop_id: "7495000000000000001" })
        expect(read).toMatchObject({ version: 1, needsReauth: false })
        expect(String(read.tokens.accessToken)).toBe("<redacted>")
        expect(Option.isNone(yield* tokens.get(unique("none")))).toBe(true)
      })
    )

    it.effect("a refresh stores only over the version it read; a second refresher must re-read", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("A1", "R1", 1))
        const read = Option.getOrThrow(yield* tokens.get(connection))
        const winner = yield* tokens.rotate(connection, read.version, grant("A2", "R2", 2))
        expect(winner.version).toBe(2)
        const loser = yield* tokens.rotate(connection, read.version, grant("A2b", "R2b", 2)).pipe(Effect.flip)
        expect(loser).toEqual(new TokenStore.TokenConflict({ connection, expected: 1, actual: 2 }))
        const current = Option.getOrThrow(yield* tokens.get(connection))
        expect(Redacted.value(current.tokens.refreshToken!)).toBe("R2")
      })
    )

    it.effect("concurrent refreshers of one grant: exactly one rotation is stored", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("A", "R", 1))
        const results = yield* Effect.all(
          Array.from({ length: 16 }, (_, i) =>
            tokens.rotate(connection, 1, grant(`A${i}`, `R${i}`, 2)).pipe(Effect.exit)
          ),
          { concurrency: "unbounded" }
        )
        const won = results.filter(Exit.isSuccess)
        expect(won).toHaveLength(1)
        const current = Option.getOrThrow(yield* tokens.get(connection))
        expect(current.version).toBe(2)
        assert(Exit.isSuccess(won[0]!))
        expect(Redacted.value(current.tokens.accessToken)).toBe(Redacted.value(won[0].value.tokens.accessToken))
      })
    )

    it.effect("needs-reauth: set by revocation, listed, cleared by a new authorization", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("A", "R", 1))
        yield* tokens.markNeedsReauth(connection, "seller deauthorized the app")
        expect(Option.getOrThrow(yield* tokens.get(connection))).toMatchObject({
          needsReauth: true,
          reauthReason: "seller deauthorized the app"
        })
        expect(yield* tokens.needingReauth).toEqual(
          expect.arrayContaining([{ connection, reason: "seller deauthorized the app" }])
        )
        expect((yield* tokens.expiring({ before: new Date(8.64e15) })).map((e) => e.connection)).not.toContain(
          connection
        )
        const again = yield* tokens.save(connection, grant("A9", "R9", 9))
        expect(again).toMatchObject({ version: 2, needsReauth: false })
        expect((yield* tokens.needingReauth).map((n) => n.connection)).not.toContain(connection)
        // A refusal met with the first grant does not mark the one stored since.
        expect(yield* tokens.markNeedsReauth(connection, "refused with grant 1", 1)).toBe(false)
        expect(Option.getOrThrow(yield* tokens.get(connection)).needsReauth).toBe(false)
        expect(yield* tokens.markNeedsReauth(connection, "refused with grant 2", 2)).toBe(true)
        expect(Option.getOrThrow(yield* tokens.get(connection))).toMatchObject({
          needsReauth: true,
          reauthReason: "refused with grant 2"
        })
      })
    )

    it.effect("expiring lists grants by access-token and authorization expiry", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const soon = unique("soon")
        const later = unique("later")
        yield* tokens.save(soon, grant("A", "R", 5_000))
        yield* tokens.save(later, grant("A", "R", 50_000_000_000))
        const due = (yield* tokens.expiring({ before: new Date(10_000) })).map((e) => e.connection)
        expect(due).toContain(soon)
        expect(due).not.toContain(later)
        const authDue = (yield* tokens.expiring({
          before: new Date(10_000),
          authorizationBefore: new Date(50_000_000_000 + 86_400_000 * 30)
        })).map((e) => e.connection)
        expect(authDue).toEqual(expect.arrayContaining([soon, later]))
      })
    )

    it.effect("remove forgets the grant but never reuses its versions", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(0)
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("A", "R", 1))
        yield* tokens.remove(connection)
        expect(Option.isNone(yield* tokens.get(connection))).toBe(true)
        const stale = yield* tokens.rotate(connection, 1, grant("OLD", "OLD", 2)).pipe(Effect.flip)
        expect(stale._tag).toBe("TokenConflict")
        const fresh = yield* tokens.save(connection, grant("NEW", "NEW", 3))
        expect(fresh.version).toBe(3)
      })
    )
  })

  layer(dialect.layer(cipher), { timeout: "120 seconds" })(`SqlTokenStore (${dialect.name}, encrypted)`, (it) => {
    it.effect("tokens are encrypted at rest and read back", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("TTS_ACCESS_SECRET", "TTS_REFRESH_SECRET", 1))
        const raw = yield* rawColumns(connection)
        expect(raw.access_token).toMatch(/^enc:v1:/)
        expect(raw.refresh_token).toMatch(/^enc:v1:/)
        expect(JSON.stringify(raw)).not.toContain("TTS_ACCESS_SECRET")
        expect(JSON.stringify(raw)).not.toContain("TTS_REFRESH_SECRET")
        const read = Option.getOrThrow(yield* tokens.get(connection))
        expect(Redacted.value(read.tokens.accessToken)).toBe("TTS_ACCESS_SECRET")
        expect(Redacted.value(read.tokens.refreshToken!)).toBe("TTS_REFRESH_SECRET")
      })
    )

    it.effect("a ciphertext moved onto another connection's row does not decrypt", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const sql = yield* SqlClient.SqlClient
        const victim = unique("victim")
        const attacker = unique("attacker")
        yield* tokens.save(victim, grant("VICTIM_TOKEN", "VICTIM_REFRESH", 1))
        yield* tokens.save(attacker, grant("MINE", "MINE", 1))
        const stolen = yield* rawColumns(victim)
        yield* sql`UPDATE tkb_tokens SET access_token = ${stolen.access_token} WHERE connection = ${attacker}`
        const error = yield* tokens.get(attacker).pipe(Effect.flip)
        assert(error._tag === "TokenUnreadable")
        expect(error.message).toContain("failed authentication")
      })
    )

    it.effect("without the key, or with another key, stored tokens are unreadable with a clear reason", () =>
      Effect.gen(function* () {
        const tokens = yield* TokenStore.TokenStore
        const connection = unique("tts")
        yield* tokens.save(connection, grant("A", "R", 1))
        const plain = yield* SqlTokenStore.make.pipe(Effect.provide(TokenCipher.layerPlaintext))
        const noKey = yield* plain.get(connection).pipe(Effect.flip)
        assert(noKey._tag === "TokenUnreadable")
        expect(noKey.message).toContain("TKB_TOKEN_KEY")
        const other = yield* SqlTokenStore.make.pipe(Effect.provide(Layer.orDie(TokenCipher.layer(otherKey))))
        const wrong = yield* other.get(connection).pipe(Effect.flip)
        assert(wrong._tag === "TokenUnreadable")
        expect(wrong.message).toContain("another key")
        // tokens stored before a key was configured stay readable, and are encrypted on the next write
        const older = unique("older")
        yield* plain.save(older, grant("PLAIN", "PLAIN_R", 1))
        expect(Redacted.value(Option.getOrThrow(yield* tokens.get(older)).tokens.accessToken)).toBe("PLAIN")
        yield* tokens.rotate(older, 1, grant("NOW_ENCRYPTED", "R2", 2))
        expect((yield* rawColumns(older)).access_token).toMatch(/^enc:v1:/)
      })
    )
  })
}

describe("TokenCipher", () => {
  it("accepts 32-byte keys as hex or base64 and refuses others", () => {
    expect(Either.isRight(TokenCipher.parseKey("00".repeat(32)))).toBe(true)
    expect(Either.isRight(TokenCipher.parseKey(Buffer.alloc(32, 7).toString("base64")))).toBe(true)
    expect(Either.isRight(TokenCipher.parseKey(Buffer.alloc(32, 7).toString("base64url")))).toBe(true)
    expect(Either.isLeft(TokenCipher.parseKey("short"))).toBe(true)
    expect(Either.isLeft(TokenCipher.parseKey(Buffer.alloc(16).toString("base64")))).toBe(true)
  })

  it("every encryption uses a fresh IV", () => {
    const c = Either.getOrThrow(TokenCipher.aes256gcm(key))
    const a = c.encrypt("same", "aad")
    const b = c.encrypt("same", "aad")
    expect(a).not.toBe(b)
    expect(c.decrypt(a, "aad")).toEqual(Either.right("same"))
    expect(Either.isLeft(c.decrypt(a, "other aad"))).toBe(true)
  })

  it.effect("reads TKB_TOKEN_KEY from the environment; absent means plaintext; invalid fails loudly", () =>
    Effect.gen(function* () {
      const withEnv = (env: Record<string, string>) =>
        Effect.exit(
          Effect.provide(
            TokenCipher.TokenCipher,
            TokenCipher.layerConfig.pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
            )
          )
        )
      const on = yield* withEnv({ TKB_TOKEN_KEY: Redacted.value(key) })
      assert(Exit.isSuccess(on))
      expect(on.value.encrypting).toBe(true)
      const off = yield* withEnv({})
      assert(Exit.isSuccess(off))
      expect(off.value.encrypting).toBe(false)
      const bad = yield* withEnv({ TKB_TOKEN_KEY: "not-a-key" })
      assert(Exit.isFailure(bad))
      expect(String(bad.cause)).toContain("32 bytes")
      expect(String(bad.cause)).not.toContain("not-a-key")
    })
  )
})
