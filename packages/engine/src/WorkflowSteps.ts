/**
 * WorkflowSteps: how a workflow makes one partner call (or one pool change) durably.
 *
 * A step is an activity: its outcome is journaled, so a finished step never runs again, and a step
 * that was running when the process died runs again after the restart (at-least-once) — which is why
 * every partner call carries an idempotency key derived from the connection and the order, never from
 * the attempt. Inside the activity the call runs under the retry policy (back-off with jitter by
 * error class); the activity answers an outcome instead of failing, and the workflow reacts:
 *
 * - `Succeeded` → the value;
 * - `Deferred` (a suspension, a long `Retry-After`, a spent quota) → a durable wait until the stated
 *   time, then the step again;
 * - `Paused` (the connection needs re-authorization) → the step waits durably, re-trying at growing
 *   intervals, so the work resumes by itself once the seller authorizes again;
 * - `Dead` (refused for good, or the retry budget is spent) → a dead letter with the whole context —
 *   the error of the taxonomy and its redacted exchange — anchored on an outbound job that names the
 *   workflow and its payload, and the workflow ends. Replaying the letter starts the same workflow
 *   again as its next generation: every step is idempotent, so it walks past what already happened
 *   and retries where it stopped.
 *
 * Waits run in business time (`EngineClock`) in chunks of at most an hour of real time, re-reading
 * the business clock between chunks, so a faster test clock shortens them too.
 *
 * @since 0.1.0
 */

import { SqlClient } from "@effect/sql"
import type { WorkflowEngine } from "@effect/workflow"
import { Activity, DurableClock } from "@effect/workflow"
import type { Quota } from "@tkbridge/core"
import { ConnectorError, DeadLetter, Outbox } from "@tkbridge/core"
import { Context, Data, Duration, Effect, Option, Schedule, Schema } from "effect"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import { isSqlError, storeFailure } from "./StockPublisher.ts"

/** The services steps use (partner calls, dead letters, alerts, business time). */
export type StepRequirements =
  | PartnerCall.Requirements
  | SqlClient.SqlClient
  | Outbox.OutboundJobs
  | EngineAlerts
  | EngineClock.EngineClock

/** The retry policy of workflow steps (partner calls inside activities). */
export class StepRetryPolicy extends Context.Reference<StepRetryPolicy>()("@tkbridge/engine/StepRetryPolicy", {
  defaultValue: (): RetryPolicy.Options => RetryPolicy.defaults
}) {}

/** A step's journaled outcome. */
export const StepOutcome = <S extends Schema.Schema.Any>(value: S) =>
  Schema.Union(
    Schema.TaggedStruct("Succeeded", { value }),
    Schema.TaggedStruct("Dead", {
      reason: DeadLetter.Reason,
      error: ConnectorError.ConnectorError,
      exhausted: Schema.Boolean,
      attempts: Schema.Int
    }),
    Schema.TaggedStruct("Deferred", { until: Schema.Date, error: ConnectorError.ConnectorError }),
    Schema.TaggedStruct("Paused", { error: ConnectorError.ConnectorError })
  )

/** A step's outcome. */
export type StepOutcome<A> =
  | { readonly _tag: "Succeeded"; readonly value: A }
  | {
      readonly _tag: "Dead"
      readonly reason: DeadLetter.Reason
      readonly error: ConnectorError.ConnectorError
      readonly exhausted: boolean
      readonly attempts: number
    }
  | { readonly _tag: "Deferred"; readonly until: Date; readonly error: ConnectorError.ConnectorError }
  | { readonly _tag: "Paused"; readonly error: ConnectorError.ConnectorError }

/** The workflow stopped at a step whose work is now in the dead-letter queue. */
export class StepDead extends Data.TaggedError("StepDead")<{ readonly step: string; readonly reason: string }> {}

/** What a dead step leaves behind so a replay can start the workflow again. */
export interface DeadContext {
  /** The workflow's name, as `WorkflowStarter` knows it. */
  readonly workflow: string
  /** The workflow's payload, encoded (JSON-safe). */
  readonly payload: unknown
  /** `connection/order#generation`: unique per execution. */
  readonly executionKey: string
  /** What the letter is about (an order id), for the alert. */
  readonly subject: string
}

/** The job kind of a dead step (its letter's `kind` is `job`). */
export const deadStepKind = "workflow.step"

/** Maps a policy outcome onto a step outcome. */
export const fromPolicy = <A>(outcome: RetryPolicy.Outcome<A>): StepOutcome<A> => {
  switch (outcome._tag) {
    case "Succeeded":
      return { _tag: "Succeeded", value: outcome.value }
    case "Dead":
      return {
        _tag: "Dead",
        reason: outcome.exhausted ? "retry_exhausted" : DeadLetter.reasonFor(outcome.error),
        error: outcome.error,
        exhausted: outcome.exhausted,
        attempts: outcome.attempts.length
      }
    case "Deferred":
      return { _tag: "Deferred", until: outcome.until, error: outcome.error }
    case "Paused":
      return { _tag: "Paused", error: outcome.error }
  }
}

/** Business time, journaled (workflow code outside activities must be deterministic). */
const businessNow = (name: string) => Activity.make({ name, success: Schema.Number, execute: EngineClock.now })

const maxChunk = Duration.hours(1)

/** Waits durably until business time `until` (epoch ms). */
export const waitUntil = (
  name: string,
  until: number
): Effect.Effect<
  void,
  never,
  EngineClock.EngineClock | WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance
> =>
  Effect.gen(function* () {
    for (let k = 0; ; k++) {
      const now = yield* businessNow(`${name}:now:${k}`)
      if (now >= until) return
      const chunk = Math.min(until - now, Duration.toMillis(maxChunk))
      yield* DurableClock.sleep({ name: `${name}:${k}`, duration: Duration.millis(Math.max(1, chunk)) })
    }
  })

/** Waits durably for `duration` of business time. */
export const waitFor = (name: string, duration: Duration.DurationInput) =>
  Effect.gen(function* () {
    const start = yield* businessNow(`${name}:start`)
    yield* waitUntil(name, start + Duration.toMillis(Duration.decode(duration)))
  })

/** Records a dead step: an outbound job for the workflow (dead at once) with its letter, and an alert. */
const deadLetter = (
  name: string,
  connection: string,
  outcome: Extract<StepOutcome<unknown>, { _tag: "Dead" }>,
  context: DeadContext
) =>
  Activity.make({
    name: `${name}:dead-letter`,
    execute: Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Outbox.OutboundJobs
      const alerts = yield* EngineAlerts
      const message = `${name} failed${outcome.exhausted ? ` after ${outcome.attempts} attempts` : ""} (${outcome.error._tag}): ${outcome.error.message}`
      yield* Effect.gen(function* () {
        const { id } = yield* jobs.enqueue({
          connection,
          kind: deadStepKind,
          lane: "high",
          idempotencyKey: `step:${context.executionKey}:${name}`,
          payload: { workflow: context.workflow, step: name, payload: context.payload }
        })
        const job = yield* jobs.get(id)
        if (job._tag === "None") return
        yield* jobs.deadLetter(job.value, { reason: outcome.reason, message, error: outcome.error })
      }).pipe(
        sql.withTransaction,
        Effect.catchIf(isSqlError, (e) => Effect.fail(storeFailure("workflow.deadLetter", e))),
        Effect.retry({ schedule: Schedule.exponential("50 millis", 2), times: 10 }),
        Effect.orDie
      )
      yield* alerts.raise({
        code: "dead_letters",
        connection,
        subject: context.subject,
        message: `${connection}: ${context.subject} is in the dead-letter queue — ${message}. Replay it once the cause is fixed.`
      })
    })
  })

/**
 * Runs one step to completion: waits out deferrals and pauses, dead-letters a dead outcome (then
 * fails with `StepDead`, which the workflow turns into its `dead` result).
 */
export const step = <A, I, R>(options: {
  readonly name: string
  /** The connection the step talks to (its letter is filed under it). */
  readonly connection: string
  readonly success: Schema.Schema<A, I, never>
  readonly execute: Effect.Effect<StepOutcome<A>, never, R>
  readonly context: DeadContext
}) =>
  Effect.gen(function* () {
    const outcomeSchema = StepOutcome(options.success) as unknown as Schema.Schema<StepOutcome<A>, unknown, never>
    let pausedWaits = 0
    for (let attempt = 0; ; attempt++) {
      const outcome = yield* Activity.make({
        name: `${options.name}#${attempt}`,
        success: outcomeSchema,
        execute: options.execute
      })
      switch (outcome._tag) {
        case "Succeeded":
          return outcome.value
        case "Deferred":
          yield* waitUntil(`${options.name}#${attempt}:deferred`, outcome.until.getTime())
          break
        case "Paused": {
          if (pausedWaits === 0) {
            yield* Activity.make({
              name: `${options.name}#${attempt}:paused-alert`,
              execute: Effect.flatMap(EngineAlerts, (alerts) =>
                alerts.raise({
                  code: "needs_reauth",
                  connection: options.connection,
                  subject: options.context.subject,
                  message: `${options.connection} needs re-authorization (${outcome.error.message}); ${options.context.subject} waits and resumes once the seller authorizes again`
                })
              )
            })
          }
          const wait = Math.min(30 * 60_000, 60_000 * 2 ** Math.min(pausedWaits, 5))
          pausedWaits++
          yield* waitFor(`${options.name}#${attempt}:paused`, Duration.millis(wait))
          break
        }
        case "Dead":
          yield* deadLetter(options.name, options.connection, outcome, options.context)
          return yield* Effect.fail(new StepDead({ step: options.name, reason: outcome.reason }))
      }
    }
  })

/** Ends the workflow at a step that cannot succeed (no partner call involved): dead letter, then `StepDead`. */
export const giveUp = (options: {
  readonly name: string
  readonly connection: string
  readonly reason: DeadLetter.Reason
  readonly error: ConnectorError.ConnectorError
  readonly attempts?: number | undefined
  readonly context: DeadContext
}) =>
  Effect.zipRight(
    deadLetter(
      options.name,
      options.connection,
      {
        _tag: "Dead",
        reason: options.reason,
        error: options.error,
        exhausted: (options.attempts ?? 0) > 0,
        attempts: options.attempts ?? 0
      },
      options.context
    ),
    Effect.fail(new StepDead({ step: options.name, reason: options.reason }))
  )

/** A partner call as a step: the call, where it goes and how it is retried. */
export interface PartnerStepOptions<A, I, R> {
  readonly name: string
  readonly connection: string
  readonly lane: Quota.Lane
  readonly success: Schema.Schema<A, I, never>
  readonly call: Effect.Effect<A, ConnectorError.ConnectorError, R>
  readonly context: DeadContext
  readonly policy?: Partial<RetryPolicy.Options> | undefined
}

/**
 * A partner call as a step that may end without a dead letter: when the call gives up, `orElse`
 * can answer a value instead (journaled like a success) — a tracking check that is only "not yet",
 * a label the order can do without. `None` dead-letters as `partnerStep` does.
 */
export const partnerStepOr = <A, I, R, R2>(
  options: PartnerStepOptions<A, I, R> & {
    readonly orElse: (dead: {
      readonly error: ConnectorError.ConnectorError
      readonly exhausted: boolean
    }) => Option.Option<Effect.Effect<A, never, R2>>
  }
) =>
  step({
    name: options.name,
    connection: options.connection,
    success: options.success,
    context: options.context,
    execute: Effect.gen(function* () {
      const policy = yield* StepRetryPolicy
      const outcome = yield* PartnerCall.run(options.connection, options.lane, options.call, {
        ...policy,
        ...options.policy
      })
      if (outcome._tag === "Dead") {
        const instead = options.orElse(outcome)
        if (Option.isSome(instead)) return { _tag: "Succeeded" as const, value: yield* instead.value }
      }
      return fromPolicy(outcome)
    })
  })

/** A partner call as a step: quota, lane, retry policy, then the step's reactions. */
export const partnerStep = <A, I, R>(options: PartnerStepOptions<A, I, R>) =>
  partnerStepOr({ ...options, orElse: () => Option.none<Effect.Effect<A>>() })

/**
 * A change on our side (the pool, the outbox) as a step: retried while the store is busy or briefly
 * unavailable; a failure that outlasts the retries is dead-lettered like a partner failure
 * (`apply_failed`), so a replay tries again after the cause is fixed.
 */
export const localStep = <A, I, E, R>(options: {
  readonly name: string
  readonly connection: string
  readonly success: Schema.Schema<A, I, never>
  readonly execute: Effect.Effect<A, E, R>
  readonly context: DeadContext
  readonly describe?: ((error: E) => string) | undefined
}) =>
  step({
    name: options.name,
    connection: options.connection,
    success: options.success,
    context: options.context,
    execute: options.execute.pipe(
      Effect.retry({
        schedule: Schedule.exponential("100 millis", 2),
        times: 6,
        while: (e) => (e as { retryable?: unknown }).retryable !== false
      }),
      Effect.map((value): StepOutcome<A> => ({ _tag: "Succeeded", value })),
      Effect.catchAll((e) =>
        Effect.succeed<StepOutcome<A>>({
          _tag: "Dead",
          reason: "apply_failed",
          error: new ConnectorError.Transient({
            connection: options.connection,
            message: options.describe?.(e) ?? (e instanceof Error ? e.message : String(e))
          }),
          exhausted: true,
          attempts: 7
        })
      ),
      Effect.catchAllDefect((defect) =>
        Effect.succeed<StepOutcome<A>>({
          _tag: "Dead",
          reason: "apply_failed",
          error: new ConnectorError.Transient({
            connection: options.connection,
            message: `failed unexpectedly: ${String(defect).slice(0, 2000)}`
          }),
          exhausted: false,
          attempts: 1
        })
      )
    )
  })
