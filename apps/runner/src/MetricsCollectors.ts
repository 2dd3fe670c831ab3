/**
 * MetricsCollectors: feeds `/metrics`.
 *
 * - `fromEngine` (what `tkbridge run` uses): at scrape time from `Engine.status` — inbox and outbox
 *   depth, dead letters waiting, quota used and the quota in force, seconds to token and
 *   authorization expiry — for every configured connection; and, before every scrape and every
 *   second in the background, the engine's new propagation samples into the delay histogram (the
 *   status keeps only the latest ones, so waiting for a scrape alone would lose some).
 * - `register`: the same gauges straight from the store's ports, for tools that have the store but
 *   no engine.
 *
 * Either way a scrape shows what the database holds, across every runner sharing it.
 *
 * @since 0.1.0
 */
import { DeadLetter, Inbox, Quota, TokenStore } from "@tkbridge/core"
import type { Engine } from "@tkbridge/engine"
import type { Scope } from "effect"
import { Clock, Duration, Effect, Option, Schedule } from "effect"
import type { RunnerMetrics } from "./Metrics.ts"

/** Feeds the metrics from the engine's status for the lifetime of the scope. */
export const fromEngine = (
  metrics: RunnerMetrics,
  engine: Engine.EngineShape,
  connections: ReadonlyArray<string>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    metrics.registry.collect(
      Effect.gen(function* () {
        const status = yield* engine.status
        const now = status.at.getTime()
        for (const g of [
          metrics.inboxDepth,
          metrics.outboxDepth,
          metrics.dlqSize,
          metrics.quotaUsed,
          metrics.quotaLimit,
          metrics.tokenExpiry,
          metrics.refreshTokenExpiry
        ]) {
          g.reset()
        }
        for (const c of connections) {
          for (const g of [metrics.inboxDepth, metrics.outboxDepth, metrics.dlqSize]) g.set({ connection: c }, 0)
        }
        for (const c of status.connections) {
          const labels = { connection: c.connection }
          metrics.inboxDepth.set(labels, c.inbox.pending)
          metrics.outboxDepth.set(labels, c.stockBacklog + c.jobs.reduce((n, j) => n + j.pending, 0))
          metrics.dlqSize.set(labels, c.deadLetters)
          metrics.quotaUsed.set(labels, c.quota.usedToday)
          if (c.quota.dailyLimit !== undefined) metrics.quotaLimit.set(labels, c.quota.dailyLimit)
          if (c.token?.expiresAt !== undefined) {
            metrics.tokenExpiry.set(labels, Math.round((c.token.expiresAt.getTime() - now) / 1000))
          }
          if (c.token?.authorizationExpiresAt !== undefined) {
            metrics.refreshTokenExpiry.set(labels, Math.round((c.token.authorizationExpiresAt.getTime() - now) / 1000))
          }
        }
      }).pipe(Effect.ignore)
    )
    // Samples are identified by listing, version and instant; the newest first in `recent`. One feed
    // at a time, so the scrape's and the background's never observe the same sample twice.
    let seen = new Set<string>()
    const lock = yield* Effect.makeSemaphore(1)
    const feed = Effect.gen(function* () {
      const status = yield* engine.status
      const next = new Set<string>()
      for (const s of status.propagation.recent) {
        const id = `${s.connection}\u0000${s.listing}\u0000${s.version}\u0000${s.at.getTime()}`
        next.add(id)
        if (!seen.has(id)) metrics.propagationDelay.observe({ channel: s.connection }, s.delayMs / 1000)
      }
      seen = next
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logDebug("metrics: the engine's status could not be read", cause)),
      lock.withPermits(1)
    )
    // Before every scrape too, so a scrape shows the samples of a change that landed a moment ago.
    metrics.registry.collect(feed)
    yield* Effect.forkScoped(Effect.repeat(feed, Schedule.spaced(Duration.seconds(1))))
  })

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
