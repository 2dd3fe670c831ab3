/**
 * MetricsCollectors: feeds `/metrics` from the sync engine (`fromEngine`, what `tkbridge run` uses):
 *
 * - at scrape time, from `Engine.status`: inbox and outbox depth, dead letters waiting, quota used
 *   and the quota in force, seconds to token and authorization expiry — for every configured
 *   connection, so a scrape shows what the database holds across every runner sharing it;
 * - before every scrape and every second in the background, the engine's new propagation samples
 *   into the delay histogram (the status keeps only the latest ones, so waiting for a scrape alone
 *   would lose some).
 *
 * The webhook answer-time histogram is fed by the server itself, as it answers.
 *
 * @since 0.1.0
 */
import type { Engine } from "@tkbridge/engine"
import type { Scope } from "effect"
import { Duration, Effect, Schedule } from "effect"
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
