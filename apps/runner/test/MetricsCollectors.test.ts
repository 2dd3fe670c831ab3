import { describe, expect, it } from "@effect/vitest"
import { AccessToken, Quota, TokenStore } from "@tkbridge/core"
import {
  SqlDeadLetter,
  SqlInbox,
  SqlQuota,
  SqlStore,
  SqlTesting,
  SqlTokenStore,
  TokenCipher
} from "@tkbridge/store-sql"
import { Effect, Layer, Redacted, TestClock } from "effect"
import * as Metrics from "../src/Metrics.ts"
import * as MetricsCollectors from "../src/MetricsCollectors.ts"

const store = Layer.mergeAll(SqlInbox.layer, SqlDeadLetter.layer, SqlQuota.layer, SqlTokenStore.layer).pipe(
  Layer.provide(TokenCipher.layerPlaintext),
  Layer.provideMerge(Layer.effectDiscard(SqlStore.migrate.pipe(Effect.orDie))),
  Layer.provide(SqlTesting.sqlite)
)

describe("MetricsCollectors", () => {
  it.effect("fills quota, token expiry, inbox depth and DLQ size from the store at scrape time", () =>
    Effect.gen(function* () {
      const now = Date.UTC(2026, 5, 1)
      yield* TestClock.setTime(now)
      const metrics = Metrics.makeRunnerMetrics()
      const policy: Quota.Policy = { daily: 100 }
      yield* MetricsCollectors.register(metrics, ["shop", "erp"], () => policy)
      const quota = yield* Quota.Quota
      yield* quota.spend({ connection: "shop", lane: "normal", policy, calls: 3 })
      const tokens = yield* TokenStore.TokenStore
      yield* tokens.save(
        "shop",
        AccessToken.TokenSet.make({
          accessToken: Redacted.make("a"),
          expiresAt: new Date(now + 3_600_000),
          refreshExpiresAt: new Date(now + 30 * 86_400_000)
        })
      )
      const text = yield* metrics.registry.scrape
      expect(text).toContain('tkbridge_quota_used{connection="shop"} 3')
      expect(text).toContain('tkbridge_quota_limit{connection="shop"} 100')
      expect(text).toContain('tkbridge_inbox_depth{connection="shop"} 0')
      expect(text).toContain('tkbridge_dlq_size{connection="erp"} 0')
      expect(text).toContain('tkbridge_token_expiry_seconds{connection="shop"} 3600')
      expect(text).toContain('tkbridge_refresh_token_expiry_seconds{connection="shop"} 2592000')
      expect(metrics.refreshTokenExpiry.get({ connection: "erp" })).toBeUndefined()
    }).pipe(Effect.provide(store))
  )
})
