/**
 * SqlQuota: quota counters and suspensions (`Quota` port of @tkbridge/core) on SQLite and PostgreSQL.
 *
 * Each window is a row `(scope, kind, window_start)` created with `INSERT … ON CONFLICT DO NOTHING` and
 * spent with `UPDATE … SET used = used + n WHERE used + n <= limit RETURNING used`. On PostgreSQL a
 * concurrent spender waits for the row and re-checks the limit against the committed count, so no two
 * processes can take the last call; on SQLite the file has one writer. The per-second and the daily
 * window are spent in one transaction: a call denied by one leaves the other untouched.
 *
 * A suspension row only ever moves later (`… WHERE suspended_until < excluded.suspended_until`), so a
 * concurrent writer with a shorter suspension cannot shorten it.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Quota } from "@tkbridge/core"
import { Clock, Effect, Layer, Option } from "effect"
import { safeText, storeErrors } from "./internal/sync.ts"

class Denied {
  readonly _tag = "Denied"
  readonly reason: "rate" | "daily" | "headroom"
  readonly retryAt: number
  constructor(reason: "rate" | "daily" | "headroom", retryAt: number) {
    this.reason = reason
    this.retryAt = retryAt
  }
}

interface SuspensionRow {
  readonly scope: string
  readonly suspended_until: number
  readonly reason: string
  readonly since: number
}

const toSuspension = (r: SuspensionRow): Quota.Suspension => ({
  scope: r.scope,
  until: new Date(Number(r.suspended_until)),
  reason: r.reason,
  since: new Date(Number(r.since))
})

/** The bound of a day without a daily quota (a 32-bit integer, so PostgreSQL types the parameter as one). */
const uncounted = 2_147_483_647

/** Builds the quota counters over the current `SqlClient`. */
export const make: Effect.Effect<Quota.QuotaShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const activeSuspension = (scope: string, now: number) =>
    sql<SuspensionRow>`SELECT scope, suspended_until, reason, since FROM tkb_suspensions
      WHERE scope = ${scope} AND suspended_until > ${now}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toSuspension))
    )

  const take = (scope: string, kind: "second" | "day", start: number, end: number, calls: number, limit: number) =>
    Effect.gen(function* () {
      yield* sql`INSERT INTO tkb_quota_windows (scope, kind, window_start, window_end, used)
        VALUES (${scope}, ${kind}, ${start}, ${end}, 0)
        ON CONFLICT (scope, kind, window_start) DO NOTHING`
      const rows = yield* sql<{ used: number }>`UPDATE tkb_quota_windows SET used = used + ${calls}
        WHERE scope = ${scope} AND kind = ${kind} AND window_start = ${start} AND used + ${calls} <= ${limit}
        RETURNING used`
      return rows.length > 0 ? Option.some(Number(rows[0]!.used)) : Option.none()
    })

  const spend: Quota.QuotaShape["spend"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const scope = Quota.scopeOf(input.connection, input.policy)
      const calls = Math.max(1, Math.floor(input.calls ?? 1))
      const suspended = yield* activeSuspension(scope, now)
      if (Option.isSome(suspended)) {
        return { _tag: "Denied", reason: "suspended", retryAt: suspended.value.until } satisfies Quota.SpendResult
      }
      const perSecond = input.policy.perSecond
      const dailyLimit = Quota.dailyLimitFor(input.policy, input.lane)
      const granted = yield* Effect.gen(function* () {
        if (perSecond !== undefined && perSecond > 0) {
          const start = Math.floor(now / 1000) * 1000
          // A batch larger than the per-second limit still goes, alone in its second.
          const taken = yield* take(
            input.connection,
            "second",
            start,
            start + 1000,
            Math.min(calls, perSecond),
            perSecond
          )
          if (Option.isNone(taken)) return yield* Effect.fail(new Denied("rate", start + 1000))
        }
        const day = Quota.dayWindow(now, input.policy.dayStartOffsetMinutes)
        // Without a daily quota the day is still counted (calls per connection per day for the
        // operator), against a bound no connection reaches.
        if (dailyLimit === undefined) {
          return Option.getOrUndefined(yield* take(scope, "day", day.start, day.end, calls, uncounted))
        }
        const taken = yield* take(scope, "day", day.start, day.end, calls, dailyLimit)
        if (Option.isSome(taken)) return taken.value
        const full = input.lane !== "high" && input.policy.daily !== undefined && dailyLimit < input.policy.daily
        const used = yield* sql<{ used: number }>`SELECT used FROM tkb_quota_windows
          WHERE scope = ${scope} AND kind = 'day' AND window_start = ${day.start}`
        const reason = full && Number(used[0]?.used ?? 0) + calls <= input.policy.daily! ? "headroom" : "daily"
        return yield* Effect.fail(new Denied(reason, day.end))
      }).pipe(sql.withTransaction, Effect.either)
      if (granted._tag === "Left") {
        const error = granted.left
        if (error instanceof Denied) {
          return { _tag: "Denied", reason: error.reason, retryAt: new Date(error.retryAt) } satisfies Quota.SpendResult
        }
        return yield* Effect.fail(error)
      }
      return { _tag: "Granted", usedToday: granted.right } satisfies Quota.SpendResult
    }).pipe(storeErrors("quota.spend"))

  const suspend: Quota.QuotaShape["suspend"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql`INSERT INTO tkb_suspensions (scope, suspended_until, reason, since)
        VALUES (${input.scope}, ${input.until.getTime()}, ${safeText(input.reason.slice(0, 1000))}, ${now})
        ON CONFLICT (scope) DO UPDATE SET suspended_until = excluded.suspended_until, reason = excluded.reason,
          since = CASE WHEN tkb_suspensions.suspended_until > excluded.since THEN tkb_suspensions.since ELSE excluded.since END
        WHERE tkb_suspensions.suspended_until < excluded.suspended_until`
      const rows = yield* sql<SuspensionRow>`SELECT scope, suspended_until, reason, since FROM tkb_suspensions
        WHERE scope = ${input.scope}`
      return toSuspension(rows[0]!)
    }).pipe(storeErrors("quota.suspend"))

  const suspension: Quota.QuotaShape["suspension"] = (scope) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => activeSuspension(scope, now)).pipe(storeErrors("quota.suspension"))

  const lift: Quota.QuotaShape["lift"] = (scope) =>
    sql`DELETE FROM tkb_suspensions WHERE scope = ${scope}`.pipe(Effect.asVoid, storeErrors("quota.lift"))

  const usage: Quota.QuotaShape["usage"] = (scope, policy) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const day = Quota.dayWindow(now, policy.dayStartOffsetMinutes)
      const rows = yield* sql<{ used: number }>`SELECT used FROM tkb_quota_windows
        WHERE scope = ${scope} AND kind = 'day' AND window_start = ${day.start}`
      const suspended = yield* activeSuspension(scope, now)
      return {
        scope,
        usedToday: Number(rows[0]?.used ?? 0),
        dailyLimit: policy.daily,
        suspension: Option.getOrUndefined(suspended)
      } satisfies Quota.Usage
    }).pipe(storeErrors("quota.usage"))

  const prune: Quota.QuotaShape["prune"] = (before) =>
    Effect.gen(function* () {
      const windows = yield* sql<{ scope: string }>`DELETE FROM tkb_quota_windows WHERE window_end < ${before.getTime()}
        RETURNING scope`
      yield* sql`DELETE FROM tkb_suspensions WHERE suspended_until < ${before.getTime()}`
      return windows.length
    }).pipe(storeErrors("quota.prune"))

  return { spend, suspend, suspension, lift, usage, prune }
})

/** The quota counters as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<Quota.Quota, never, SqlClient.SqlClient> = Layer.effect(Quota.Quota, make)
