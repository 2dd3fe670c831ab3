/**
 * WorkflowStarter: makes sure every workflow the pool's changes call for is started exactly once
 * (as an execution), even when the process dies between the commit and the start.
 *
 * The inbox processor cannot start a workflow inside its transaction — a cluster message is not
 * part of it — so it queues a *start job* there instead (an outbound job, unique per
 * `start:<workflow>:<connection>:<order>`), atomically with the reservation. After the commit the
 * starter claims the connection's due jobs, starts each workflow (`execute` with `discard`: a second
 * start of the same execution attaches to it) and completes the job. A crash anywhere in between
 * leaves the job pending or leased; the periodic sweep claims it again after its lease.
 *
 * The same queue carries replays: a workflow step that dead-letters files its letter on a job of kind
 * `workflow.step` naming the workflow and its payload. Replaying the letter makes that job pending
 * again; the starter then starts the workflow's next generation (a new execution — the failed one
 * is finished), which walks past every step already done (they are idempotent) and retries the one
 * that failed.
 *
 * @since 0.1.0
 */
import type { WorkflowEngine } from "@effect/workflow"
import type { StoreError } from "@tkbridge/core"
import { Outbox } from "@tkbridge/core"
import type { Scope } from "effect"
import { Context, Duration, Effect, Layer, ParseResult, Schema } from "effect"
import * as CancellationWorkflow from "./CancellationWorkflow.ts"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import * as EngineClock from "./EngineClock.ts"
import * as FulfilmentWorkflow from "./FulfilmentWorkflow.ts"
import { deadStepKind } from "./WorkflowSteps.ts"

/** The job kind of a workflow start. */
export const startKind = "workflow.start"

/** The workflows the starter knows. */
export const WorkflowName = Schema.Literal(FulfilmentWorkflow.name, CancellationWorkflow.name)
/** The workflows the starter knows. */
export type WorkflowName = typeof WorkflowName.Type

/** A start (or dead step) job's payload: which workflow, with what payload (encoded). */
export const JobPayload = Schema.Struct({
  workflow: WorkflowName,
  payload: Schema.Unknown,
  step: Schema.optional(Schema.String)
})

/**
 * Queues a workflow start inside the caller's transaction. `key` identifies the work
 * (`<connection>:<order>`); queuing it twice queues it once.
 */
export const enqueueStart = (input: {
  readonly connection: string
  readonly workflow: WorkflowName
  readonly key: string
  /** The workflow's payload, encoded. */
  readonly payload: unknown
}): Effect.Effect<{ readonly id: number; readonly duplicate: boolean }, StoreError.StoreError, Outbox.OutboundJobs> =>
  Effect.flatMap(Outbox.OutboundJobs, (jobs) =>
    jobs.enqueue({
      connection: input.connection,
      kind: startKind,
      lane: "high",
      idempotencyKey: `start:${input.workflow}:${input.key}`,
      payload: { workflow: input.workflow, payload: input.payload }
    })
  )

/** Starts queued workflows. */
export interface WorkflowStarterShape {
  /** Starts the connection's due jobs now, in the background (after a commit that queued some). */
  readonly kick: (connection: string) => Effect.Effect<void>
  /** Starts every connection's due jobs and waits for it (the sweep). */
  readonly sweep: Effect.Effect<number>
}

/** The starter. */
export class WorkflowStarter extends Context.Tag("@tkbridge/engine/WorkflowStarter")<
  WorkflowStarter,
  WorkflowStarterShape
>() {}

/**
 * How long a claimed job is held before another worker may take it. Starting a workflow is one
 * stored message, so a short lease costs nothing and a crashed worker's jobs come back quickly.
 */
const leaseMs = 10_000

/** Jobs claimed and started together. */
const batch = 32

type Requirements = Outbox.OutboundJobs | ConnectionRegistry | WorkflowEngine.WorkflowEngine | EngineClock.EngineClock

const makeStarter: Effect.Effect<WorkflowStarterShape, never, Requirements | Scope.Scope> = Effect.gen(function* () {
  const jobs = yield* Outbox.OutboundJobs
  const registry = yield* ConnectionRegistry
  const context = yield* Effect.context<WorkflowEngine.WorkflowEngine | EngineClock.EngineClock>()
  const scope = yield* Effect.scope
  const running = new Map<string, { again: boolean }>()

  const start = (workflow: WorkflowName, encoded: unknown, next: boolean) =>
    Effect.gen(function* () {
      switch (workflow) {
        case FulfilmentWorkflow.name: {
          const p = yield* Schema.decodeUnknown(FulfilmentWorkflow.FulfilmentPayload)(encoded)
          yield* FulfilmentWorkflow.FulfilmentWorkflow.execute(
            { ...p, generation: next ? p.generation + 1 : p.generation },
            { discard: true }
          )
          return
        }
        case CancellationWorkflow.name: {
          const p = yield* Schema.decodeUnknown(CancellationWorkflow.CancellationPayload)(encoded)
          yield* CancellationWorkflow.CancellationWorkflow.execute(
            { ...p, generation: next ? p.generation + 1 : p.generation },
            { discard: true }
          )
          return
        }
      }
    })

  const handle = (job: Outbox.Job) =>
    Effect.gen(function* () {
      if (job.kind !== startKind && job.kind !== deadStepKind) {
        // Not ours (another tool's job): leave it alone for a day.
        const now = yield* EngineClock.now
        yield* jobs.fail(job, {
          message: `no engine handler for job kind ${job.kind}`,
          retryAt: new Date(now + Duration.toMillis(Duration.days(1)))
        })
        return
      }
      const decoded = yield* Schema.decodeUnknown(JobPayload)(job.payload).pipe(
        Effect.flatMap((p) => Effect.as(start(p.workflow, p.payload, job.kind === deadStepKind), p)),
        Effect.either
      )
      if (decoded._tag === "Left") {
        const error = decoded.left
        if (ParseResult.isParseError(error)) {
          yield* jobs.deadLetter(job, {
            reason: "unmappable_payload",
            message: `the job's workflow payload cannot be read: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
          })
          return
        }
        const now = yield* EngineClock.now
        yield* jobs.fail(job, {
          message: `the workflow could not be started: ${String(error)}`,
          retryAt: new Date(now + 10_000)
        })
        return
      }
      yield* jobs.complete(job)
    })

  const drain = (connection: string): Effect.Effect<number> =>
    Effect.gen(function* () {
      let started = 0
      while (true) {
        // Claims a handful, then starts them together: a start is one stored message, and the
        // cluster's storage takes concurrent writes better than a queue of single ones.
        const claimed: Array<Outbox.Job> = []
        while (claimed.length < batch) {
          const next = yield* jobs.claimNext({ connection, leaseMs, lanes: ["high"] })
          if (next._tag === "None") break
          claimed.push(next.value)
        }
        if (claimed.length === 0) return started
        yield* Effect.forEach(claimed, handle, { concurrency: batch, discard: true })
        started += claimed.length
      }
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.as(Effect.logWarning("workflow starter: a pass failed; the sweep retries", cause), 0)
      ),
      Effect.provide(context)
    )

  const kick: WorkflowStarterShape["kick"] = (connection) =>
    Effect.suspend(() => {
      const state = running.get(connection)
      if (state !== undefined) {
        state.again = true
        return Effect.void
      }
      const mine = { again: true }
      running.set(connection, mine)
      const loop: Effect.Effect<void> = Effect.suspend(() => {
        if (!mine.again) {
          running.delete(connection)
          return Effect.void
        }
        mine.again = false
        return Effect.zipRight(drain(connection), loop)
      })
      return Effect.asVoid(Effect.forkIn(loop, scope))
    })

  const sweep: WorkflowStarterShape["sweep"] = Effect.map(
    Effect.forEach(registry.all, (entry) => drain(entry.id)),
    (counts) => counts.reduce((a, b) => a + b, 0)
  )

  return { kick, sweep }
})

/** The starter as a layer; its background passes live as long as the layer. */
export const layer: Layer.Layer<WorkflowStarter, never, Requirements> = Layer.scoped(WorkflowStarter, makeStarter)
