/**
 * Quota: how many partner calls a connection may make, counted in the database so restarts and
 * several runner processes never reset or double-spend it.
 *
 * - **Per-second rate** per connection and a **daily quota** per scope (the app: connections sharing
 *   one app key share its daily quota; by default the scope is the connection). A call is granted
 *   only when both windows have room, atomically.
 * - **Priority lanes.** The daily quota keeps a headroom for the `high` lane (orders, fulfilment,
 *   tracking, after-sales, token refresh): once the remaining quota drops below the headroom, only
 *   `high` work may spend; `normal` (polling) and `low` (stock pushes, catalog) wait for the next day.
 *   Stock pushes keep coalescing while they wait, so nothing is dropped — the latest value goes out.
 * - **Suspensions.** A platform suspension (`Suspended{until}`, or a `Retry-After` long enough to be
 *   one) opens the circuit for the whole scope until the stated time. A suspension is never shortened
 *   by a concurrent writer: the later `until` wins.
 *
 * TikTok Shop: 50,000 calls/day (basic) or 200,000 (enterprise); a breach answers 429 and suspends the
 * app for 2 hours.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Context, Duration, Option, Schema } from "effect"
import type { Limits } from "./Connector.ts"
import type { ConnectorError } from "./ConnectorError.ts"
import type { StoreError } from "./StoreError.ts"

/**
 * A priority lane: `high` (orders, fulfilment, tracking, after-sales, auth), `normal` (polling and
 * reconciliation), `low` (stock pushes, catalog reads).
 *
 * @category models
 * @since 0.1.0
 */
export const Lane = Schema.Literal("high", "normal", "low")
/**
 * @category models
 * @since 0.1.0
 */
export type Lane = typeof Lane.Type

/**
 * The lanes in priority order.
 *
 * @category models
 * @since 0.1.0
 */
export const lanes: ReadonlyArray<Lane> = ["high", "normal", "low"]

/**
 * How a connection's calls are limited.
 *
 * @category models
 * @since 0.1.0
 */
export interface Policy {
  /** The key the daily quota and suspensions are counted under (default: the connection). */
  readonly scope?: string | undefined
  /** Calls per second per connection. */
  readonly perSecond?: number | undefined
  /** Calls per day per scope. */
  readonly daily?: number | undefined
  /** Calls per day kept for the `high` lane (default: 10% of `daily`). */
  readonly headroom?: number | undefined
  /** Where the platform's day starts, in minutes east of UTC midnight (default 0). */
  readonly dayStartOffsetMinutes?: number | undefined
}

/**
 * The policy a connector's manifest implies, with the operator's overrides.
 *
 * @category constructors
 * @since 0.1.0
 */
export const policyFromLimits = (limits: Limits, overrides: Policy = {}): Policy => ({
  perSecond: overrides.perSecond ?? limits.requestsPerSecond,
  daily: overrides.daily ?? limits.dailyQuota,
  headroom: overrides.headroom,
  scope: overrides.scope,
  dayStartOffsetMinutes: overrides.dayStartOffsetMinutes
})

/**
 * The scope a connection's daily quota and suspensions are counted under.
 *
 * @category constructors
 * @since 0.1.0
 */
export const scopeOf = (connection: string, policy: Policy): string => policy.scope ?? connection

/**
 * The daily calls a lane may use: all of them for `high`, the quota minus the headroom otherwise.
 *
 * @category constructors
 * @since 0.1.0
 */
export const dailyLimitFor = (policy: Policy, lane: Lane): number | undefined => {
  if (policy.daily === undefined) return undefined
  if (lane === "high") return policy.daily
  const headroom = policy.headroom ?? Math.floor(policy.daily / 10)
  return Math.max(0, policy.daily - headroom)
}

const dayMs = 86_400_000

/**
 * The platform day containing `now` (epoch ms), as `[start, end)`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const dayWindow = (now: number, offsetMinutes = 0): { readonly start: number; readonly end: number } => {
  const offset = offsetMinutes * 60_000
  const start = Math.floor((now - offset) / dayMs) * dayMs + offset
  return { start, end: start + dayMs }
}

/**
 * The answer to a spend: `Granted`, or `Denied` with the reason and the earliest instant worth trying
 * again.
 *
 * @category models
 * @since 0.1.0
 */
export type SpendResult =
  | { readonly _tag: "Granted"; readonly usedToday?: number | undefined }
  | {
      readonly _tag: "Denied"
      readonly reason: "suspended" | "rate" | "daily" | "headroom"
      readonly retryAt: Date
    }

/**
 * A running suspension.
 *
 * @category models
 * @since 0.1.0
 */
export interface Suspension {
  readonly scope: string
  readonly until: Date
  readonly reason: string
  readonly since: Date
}

/**
 * A scope's usage today.
 *
 * @category models
 * @since 0.1.0
 */
export interface Usage {
  readonly scope: string
  readonly usedToday: number
  readonly dailyLimit?: number | undefined
  readonly suspension?: Suspension | undefined
}

/**
 * The quota counters.
 *
 * @category services
 * @since 0.1.0
 */
export interface QuotaShape {
  /**
   * Spends `calls` (default 1) for a connection in a lane: checks the scope's suspension, then takes
   * room in the per-second and daily windows in one transaction, or none.
   */
  readonly spend: (input: {
    readonly connection: string
    readonly lane: Lane
    readonly policy: Policy
    readonly calls?: number | undefined
  }) => Effect.Effect<SpendResult, StoreError>
  /**
   * Suspends a scope until `until` unless it is already suspended until later; returns the suspension
   * in force afterwards.
   */
  readonly suspend: (input: {
    readonly scope: string
    readonly until: Date
    readonly reason: string
  }) => Effect.Effect<Suspension, StoreError>
  /** The suspension in force now, if any. */
  readonly suspension: (scope: string) => Effect.Effect<Option.Option<Suspension>, StoreError>
  /** Ends a suspension early (the operator knows the platform lifted it). */
  readonly lift: (scope: string) => Effect.Effect<void, StoreError>
  /** Calls used today and any running suspension. */
  readonly usage: (scope: string, policy: Policy) => Effect.Effect<Usage, StoreError>
  /** Deletes counter windows that ended before `before`; returns how many. */
  readonly prune: (before: Date) => Effect.Effect<number, StoreError>
}

/**
 * The quota service.
 *
 * @category services
 * @since 0.1.0
 */
export class Quota extends Context.Tag("@tkbridge/core/Quota")<Quota, QuotaShape>() {}

/**
 * The suspension an error asks for: `Suspended{until}`, or a `RateLimited` whose `Retry-After` is at
 * least `longRetryAfter` (default 1 minute) — a short one is an ordinary back-off, not a suspension.
 *
 * @category constructors
 * @since 0.1.0
 */
export const suspensionFor = (
  error: ConnectorError,
  now: Date,
  longRetryAfter: Duration.DurationInput = Duration.minutes(1)
): Option.Option<{ readonly until: Date; readonly reason: string }> => {
  const reason = (kind: string) => `${kind}${error.code !== undefined ? ` (${error.code})` : ""}: ${error.message}`
  if (error._tag === "Suspended") return Option.some({ until: error.until, reason: reason("suspended") })
  if (error._tag === "RateLimited" && Duration.greaterThanOrEqualTo(error.retryAfter, longRetryAfter)) {
    return Option.some({
      until: new Date(now.getTime() + Duration.toMillis(error.retryAfter)),
      reason: reason("rate limited")
    })
  }
  return Option.none()
}
