/**
 * MetricsCollectors: feeds `/metrics` from the sync-state store at scrape time — inbox depth, dead
 * letters waiting, quota used and the quota in force, seconds to token and authorization expiry —
 * for every configured connection. Each collector reads through the store's ports, so a scrape shows
 * what the database holds, across every runner sharing it.
 *
 * @since 0.1.0
 */
import { DeadLetter, Inbox, Quota, TokenStore } from "@tkbridge/core"
import { Clock, Effect, Option } from "effect"
import type { RunnerMetrics } from "./Metrics.ts"

/** Registers the store-backed collectors. `policies` gives each connection's quota policy. */
export const register = (
  metrics: RunnerMetrics,
  connections: ReadonlyArray<string>,
  policies: (connection: string) => Quota.Policy
): Effect.Effect<void, never, Inbox.Inbox | DeadLetter.DeadLetters | Quota.Quota | TokenStore.TokenStore> =>
  Effect.gen(function* () {
    const inbox = yield* Inbox.Inbox
    const letters = yield* DeadLetter.DeadLetters
    const quota = yield* Quota.Quota
    const tokens = yield* TokenStore.TokenStore
    metrics.registry.collect(
      Effect.gen(function* () {
        const depth = yield* inbox.depth
        metrics.inboxDepth.reset()
        for (const c of connections) metrics.inboxDepth.set({ connection: c }, 0)
        for (const d of depth) metrics.inboxDepth.set({ connection: d.connection }, d.pending)
      }).pipe(Effect.ignore)
    )
    metrics.registry.collect(
      Effect.forEach(
        connections,
        (c) =>
          letters
            .count({ connection: c, status: "open" })
            .pipe(Effect.map((n) => metrics.dlqSize.set({ connection: c }, n))),
        { discard: true }
      ).pipe(Effect.ignore)
    )
    metrics.registry.collect(
      Effect.forEach(
        connections,
        (c) => {
          const policy = policies(c)
          return quota.usage(Quota.scopeOf(c, policy), policy).pipe(
            Effect.tap((usage) =>
              Effect.sync(() => {
                metrics.quotaUsed.set({ connection: c }, usage.usedToday)
                const limit = usage.dailyLimit ?? policy.daily
                if (limit !== undefined) metrics.quotaLimit.set({ connection: c }, limit)
              })
            )
          )
        },
        { discard: true }
      ).pipe(Effect.ignore)
    )
    metrics.registry.collect(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        metrics.tokenExpiry.reset()
        metrics.refreshTokenExpiry.reset()
        for (const c of connections) {
          const stored = yield* tokens.get(c).pipe(Effect.orElseSucceed(() => Option.none()))
          if (Option.isNone(stored)) continue
          const { expiresAt, refreshExpiresAt } = stored.value.tokens
          if (expiresAt !== undefined)
            metrics.tokenExpiry.set({ connection: c }, Math.round((expiresAt.getTime() - now) / 1000))
          if (refreshExpiresAt !== undefined) {
            metrics.refreshTokenExpiry.set({ connection: c }, Math.round((refreshExpiresAt.getTime() - now) / 1000))
          }
        }
      })
    )
  })
