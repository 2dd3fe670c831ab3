/**
 * RetryPolicy: what the engine does when a partner call fails, decided by the error's class alone
 * (core's `ConnectorError.disposition`), never by vendor codes:
 *
 * | class | reaction |
 * |---|---|
 * | `Transient` (5xx, timeout, empty 200) | back off exponentially with full jitter and try again, up to the budget |
 * | `RateLimited` | wait the stated `Retry-After` and try again; a wait longer than `inlineWaitMs` is handed back as `Deferred` (the caller parks the work durably) |
 * | `Suspended` | `Deferred` until the stated time |
 * | `AuthExpired` | refresh the token once, then try again; expired again → `Paused` |
 * | `AuthRevoked` | `Paused`: the connection needs re-authorization, the work is kept |
 * | `Rejected`, `NotFound`, `ScopeMissing` | `Dead` at once: retrying cannot help |
 *
 * A budget spent on `Transient` failures also ends `Dead` (`retry_exhausted`). Every attempt is
 * recorded with its error and redacted exchange, so a dead letter carries the whole history. Waits
 * run in business time (`EngineClock`); the call itself always runs on the system clock, so HTTP
 * timeouts stay real.
 *
 * @since 0.1.0
 */
import { ConnectorError } from "@tkbridge/core"
import { Cause, Duration, Effect, Option, Random } from "effect"
import * as EngineClock from "./EngineClock.ts"

/** Tuning of the policy. */
export interface Options {
  /** Attempts in all for `Transient` failures (the first call included). */
  readonly maxAttempts: number
  /** First back-off, in milliseconds; doubles per attempt. */
  readonly baseDelayMs: number
  /** Longest back-off, in milliseconds. */
  readonly maxDelayMs: number
  /** `RateLimited` waits up to this long are slept in place; longer ones are handed back `Deferred`. */
  readonly inlineWaitMs: number
  /** How many `RateLimited` waits one run may sit through before deferring. */
  readonly maxRateLimitedWaits: number
}

/** Defaults: 6 attempts over about half a minute of back-off. */
export const defaults: Options = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  inlineWaitMs: 60_000,
  maxRateLimitedWaits: 5
}

/** One failed attempt. */
export interface Attempt {
  readonly at: Date
  readonly error: ConnectorError.ConnectorError
}

/** How a run ended. */
export type Outcome<A> =
  | { readonly _tag: "Succeeded"; readonly value: A; readonly attempts: ReadonlyArray<Attempt> }
  /** Retrying cannot help (a permanent refusal), or the budget ran out. */
  | {
      readonly _tag: "Dead"
      readonly error: ConnectorError.ConnectorError
      readonly exhausted: boolean
      readonly attempts: ReadonlyArray<Attempt>
    }
  /** Try again at `until` (a suspension, a long Retry-After, rate-limit waits used up). */
  | {
      readonly _tag: "Deferred"
      readonly until: Date
      readonly error: ConnectorError.ConnectorError
      readonly attempts: ReadonlyArray<Attempt>
    }
  /** The connection's authorization is gone; keep the work until the seller authorizes again. */
  | {
      readonly _tag: "Paused"
      readonly error: ConnectorError.ConnectorError
      readonly attempts: ReadonlyArray<Attempt>
    }

/**
 * The back-off before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential
 * ceiling, `random` in [0, 1).
 */
export const backoffMs = (options: Options, attempt: number, random: number): number => {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  // Half fixed, half random: never zero (no hot loop), never in lockstep with other callers.
  return Math.round(ceiling / 2 + (ceiling / 2) * random)
}

/** What to do after one failed attempt, for callers that keep their retry state durably (the outbox). */
export type Decision =
  /** Try again at `at` (back-off, or a short Retry-After). */
  | { readonly _tag: "Retry"; readonly at: Date }
  /** Stop until `until`: the platform suspended the app, or asked for a long wait. */
  | { readonly _tag: "Defer"; readonly until: Date }
  /** Refresh the token, then try again. */
  | { readonly _tag: "Refresh" }
  /** The authorization is gone: pause the connection, keep the work. */
  | { readonly _tag: "Pause" }
  /** Dead-letter it: refused for good, or the budget is spent. */
  | { readonly _tag: "Dead"; readonly exhausted: boolean }

/**
 * The decision for `error` on failure number `failures` (1 for the first), at business time `now`,
 * with `random` in [0, 1) for the jitter. Rate-limit waits never count towards the budget.
 */
export const decide = (
  error: ConnectorError.ConnectorError,
  input: { readonly failures: number; readonly now: Date; readonly random: number; readonly policy?: Partial<Options> }
): Decision => {
  const policy = { ...defaults, ...input.policy }
  switch (ConnectorError.disposition(error)) {
    case "dead":
      return { _tag: "Dead", exhausted: false }
    case "pause":
      return { _tag: "Pause" }
    case "refresh":
      return { _tag: "Refresh" }
    case "wait": {
      const wait = Option.fromNullable(ConnectorError.waitFor(error, input.now)).pipe(
        Option.map(Duration.toMillis),
        Option.getOrElse(() => policy.baseDelayMs)
      )
      const at = new Date(input.now.getTime() + wait)
      return error._tag === "Suspended" || wait > policy.inlineWaitMs
        ? { _tag: "Defer", until: at }
        : { _tag: "Retry", at }
    }
    case "retry":
      return input.failures >= policy.maxAttempts
        ? { _tag: "Dead", exhausted: true }
        : { _tag: "Retry", at: new Date(input.now.getTime() + backoffMs(policy, input.failures, input.random)) }
  }
}

/** A defect thrown by a connector is a bug there; it is retried like a transient failure and ends dead with its text. */
const defectAsTransient = (cause: Cause.Cause<never>): ConnectorError.ConnectorError =>
  new ConnectorError.Transient({ message: `connector failed unexpectedly: ${Cause.pretty(cause).slice(0, 2000)}` })

/**
 * Runs `call` under the policy. `refresh` (for `AuthExpired`) renews the connection's token; without
 * one an `AuthExpired` pauses the work. Never fails: every ending is an `Outcome`.
 */
export const run = <A, R, R2 = never>(
  call: Effect.Effect<A, ConnectorError.ConnectorError, R>,
  options: {
    readonly policy?: Partial<Options> | undefined
    readonly refresh?: Effect.Effect<void, ConnectorError.ConnectorError, R2> | undefined
  } = {}
): Effect.Effect<Outcome<A>, never, R | R2 | EngineClock.EngineClock> =>
  Effect.gen(function* () {
    const policy = { ...defaults, ...options.policy }
    const attempts: Array<Attempt> = []
    let transientFailures = 0
    let rateLimitedWaits = 0
    let refreshed = false
    while (true) {
      const result = yield* EngineClock.real(call).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(defectAsTransient(Cause.die(defect)))),
        Effect.either
      )
      if (result._tag === "Right") return { _tag: "Succeeded", value: result.right, attempts } as const
      const error = result.left
      const at = yield* EngineClock.nowDate
      attempts.push({ at, error })
      switch (ConnectorError.disposition(error)) {
        case "dead":
          return { _tag: "Dead", error, exhausted: false, attempts } as const
        case "pause":
          return { _tag: "Paused", error, attempts } as const
        case "refresh": {
          if (refreshed || options.refresh === undefined) return { _tag: "Paused", error, attempts } as const
          refreshed = true
          const renewed = yield* Effect.either(options.refresh)
          if (renewed._tag === "Left") {
            const failure = renewed.left
            attempts.push({ at: yield* EngineClock.nowDate, error: failure })
            if (ConnectorError.disposition(failure) === "retry") {
              transientFailures++
              if (transientFailures >= policy.maxAttempts) {
                return { _tag: "Dead", error: failure, exhausted: true, attempts } as const
              }
              break
            }
            return { _tag: "Paused", error: failure, attempts } as const
          }
          break
        }
        case "wait": {
          const wait = Option.fromNullable(ConnectorError.waitFor(error, at)).pipe(
            Option.map(Duration.toMillis),
            Option.getOrElse(() => policy.baseDelayMs)
          )
          rateLimitedWaits++
          if (
            error._tag === "Suspended" ||
            wait > policy.inlineWaitMs ||
            rateLimitedWaits > policy.maxRateLimitedWaits
          ) {
            return { _tag: "Deferred", until: new Date(at.getTime() + wait), error, attempts } as const
          }
          yield* EngineClock.business(Effect.sleep(Duration.millis(wait)))
          break
        }
        case "retry": {
          transientFailures++
          if (transientFailures >= policy.maxAttempts) {
            return { _tag: "Dead", error, exhausted: true, attempts } as const
          }
          const random = yield* Random.next
          yield* EngineClock.business(Effect.sleep(Duration.millis(backoffMs(policy, transientFailures, random))))
          break
        }
      }
    }
  })

/** A one-line account of an outcome for logs and dead letters. */
export const describe = (outcome: Outcome<unknown>): string => {
  switch (outcome._tag) {
    case "Succeeded":
      return `succeeded after ${outcome.attempts.length + 1} attempt(s)`
    case "Dead":
      return outcome.exhausted
        ? `gave up after ${outcome.attempts.length} failed attempt(s): ${outcome.error._tag}: ${outcome.error.message}`
        : `refused (${outcome.error._tag}): ${outcome.error.message}`
    case "Deferred":
      return `deferred until ${outcome.until.toISOString()} (${outcome.error._tag}): ${outcome.error.message}`
    case "Paused":
      return `paused: the connection needs re-authorization (${outcome.error._tag}): ${outcome.error.message}`
  }
}
