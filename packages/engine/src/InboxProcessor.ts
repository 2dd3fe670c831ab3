/**
 * InboxProcessor: one entity per connection that applies the connection's inbox entries one at a
 * time — webhook deliveries and polled snapshots alike — each in one transaction of its own.
 *
 * For an entry it: decodes it again (the connection's `WebhookReceiver`, or `PolledEvents` for a
 * polled one), prepares it (fetches what the events lack, outside any transaction), then runs
 * `Inbox.process`, which marks the entry done and applies it (`InboxApply`) in one transaction,
 * retried as a whole on a retryable storage failure (a deadlock, a busy file). After the commit it
 * wakes the pushers of the listings it republished and the starter of the workflows it queued.
 *
 * What cannot be applied is never dropped: an undecodable body, an unknown SKU, an order the pool
 * cannot cover or a fetch the platform refuses goes to the dead-letter queue with its reason; a fetch
 * that fails transiently is retried later (`Inbox.fail`, with back-off) up to a budget, then
 * dead-lettered too. Entries of a connection that needs re-authorization, is suspended or rate
 * limited wait as a whole (not using up their budget); the processor drains them itself when the
 * stated wait ends.
 *
 * Messages: `Process{connection, id}` (the edge's notify hook, after a delivery committed) and
 * `Drain{connection}` (the re-notify sweep: everything due). They are not persisted: the inbox table
 * is the durable queue and the sweep the backstop, so a message lost in a crash costs seconds.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import type { Connector, DeadLetter, Outbox } from "@tkbridge/core"
import { ConnectorError, Inbox, Webhook } from "@tkbridge/core"
import type { Scope } from "effect"
import { Context, Duration, Effect, FiberMap, Layer, Option, Random, Schema } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import type { CurrentFlows } from "./EngineFlows.ts"
import { EngineLifecycle } from "./EngineLifecycle.ts"
import type { ApplyRequirements } from "./InboxApply.ts"
import * as InboxApply from "./InboxApply.ts"
import type * as PartnerCall from "./PartnerCall.ts"
import * as PolledEvents from "./PolledEvents.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import { retryingTransaction, StockPublisher } from "./StockPublisher.ts"
import { WorkflowStarter } from "./WorkflowStarter.ts"

/** What processing an entry did. */
export const ProcessResult = Schema.Literal("applied", "skipped", "not_due", "waiting", "dead", "stopping")
/** What processing an entry did. */
export type ProcessResult = typeof ProcessResult.Type

/** The per-connection entity. Its id is the connection. */
export const InboxProcessorEntity = Entity.make("InboxProcessor", [
  Rpc.make("Process", {
    payload: { connection: Schema.String, id: Schema.Number },
    success: ProcessResult
  }),
  Rpc.make("Drain", {
    payload: { connection: Schema.String },
    success: Schema.Number
  }),
  Rpc.make("Resume", {
    payload: { connection: Schema.String },
    success: Schema.Number
  })
])

/** The work behind the entity (one entry, or everything due of a connection). */
export interface InboxWorkShape {
  readonly process: (connection: string, id: number) => Effect.Effect<ProcessResult>
  /** Applies every due pending entry of the connection, oldest first; answers how many were looked at. */
  readonly drain: (connection: string) => Effect.Effect<number>
  /** Ends the connection's wait (the seller authorized again) and applies what is due. */
  readonly resume: (connection: string) => Effect.Effect<number>
}

/** The inbox work of this process (call it through the entity to keep one entry at a time per connection). */
export class InboxWork extends Context.Tag("@tkbridge/engine/InboxWork")<InboxWork, InboxWorkShape>() {}

/** The receiver that decodes a connection's webhooks: its `orders.webhook`, else its `aftersales.webhook`. */
export const receiverOf = (
  registry: { readonly capability: ConnectionRegistry["Type"]["capability"] },
  connection: string
): Effect.Effect<Option.Option<Connector.WebhookReceiver>> =>
  registry.capability(connection, "orders.webhook").pipe(
    Effect.orElse(() => registry.capability(connection, "aftersales.webhook")),
    Effect.option
  )

type Requirements =
  | ApplyRequirements
  | PartnerCall.Requirements
  | CurrentFlows
  | Outbox.OutboundJobs
  | WorkflowStarter
  | EngineLifecycle
  | Sharding.Sharding

// Through the entity, so the connection's entries are still applied one at a time.
const requestDrain = (connection: string) => drain(connection)

const makeWork: Effect.Effect<InboxWorkShape, never, Requirements | Scope.Scope> = Effect.gen(function* () {
  const inbox = yield* Inbox.Inbox
  const registry = yield* ConnectionRegistry
  const alerts = yield* EngineAlerts
  const publisher = yield* StockPublisher
  const starter = yield* WorkflowStarter
  const lifecycle = yield* EngineLifecycle
  const clock = yield* EngineClock.EngineClock
  const context = yield* Effect.context<Requirements>()

  const deadLetter = (id: number, failure: DeadLetter.Failure, connection: string, subject?: string) =>
    inbox.deadLetter(id, failure).pipe(
      Effect.tap(() =>
        alerts.raise({
          code: "dead_letters",
          connection,
          subject: subject ?? `inbox entry ${id}`,
          message: `${connection}: inbox entry ${id} is in the dead-letter queue (${failure.reason}): ${failure.message}`
        })
      ),
      Effect.as("dead" as const)
    )

  // Connections whose entries wait as a whole (a pause for re-authorization, a suspension, a rate
  // limit): until when, in business time. Kept in memory — after a restart they are simply tried.
  const blocked = new Map<string, number>()
  const blockedNow = (connection: string, now: number) => (blocked.get(connection) ?? 0) > now
  // The connection's drain, due when its wait or an entry's back-off ends: a one-second Retry-After
  // costs a second, not the time to the next sweep (which still covers whatever this misses). A wait
  // of the whole connection replaces the pending wake-up; an entry's back-off only brings it forward.
  const wakes = yield* FiberMap.make<string>()
  const wakeDue = new Map<string, number>()
  const wakeAt = (connection: string, until: number, now: number, replace: boolean) =>
    Effect.suspend(() => {
      const due = wakeDue.get(connection)
      if (!replace && due !== undefined && due > now && due <= until) return Effect.void
      wakeDue.set(connection, until)
      return FiberMap.run(
        wakes,
        connection,
        Effect.sleep(Duration.millis(Math.max(0, until - now))).pipe(
          Effect.zipRight(Effect.sync(() => wakeDue.delete(connection))),
          Effect.zipRight(requestDrain(connection))
        )
      )
    })

  const retryLater = (entry: Inbox.InboxEntry, message: string, counts: boolean, retryAt?: Date, error?: unknown) =>
    Effect.gen(function* () {
      const now = yield* EngineClock.now
      if (!counts) {
        // Every entry of the connection would meet the same wait: hold them all, spend no attempt.
        const until = Math.max(retryAt?.getTime() ?? now + 1_000, now + 100)
        blocked.set(entry.connection, until)
        yield* wakeAt(entry.connection, until, now, true)
        yield* Effect.logInfo(`inbox of ${entry.connection} waits: ${message}`)
        return "waiting" as const
      }
      if (entry.attempts + 1 >= InboxApply.maxAttempts) {
        return yield* deadLetter(
          entry.id,
          {
            reason: "retry_exhausted",
            message: `gave up after ${entry.attempts + 1} attempts: ${message}`,
            ...(ConnectorError.isConnectorError(error) ? { error } : {})
          },
          entry.connection
        )
      }
      const random = yield* Random.next
      const backoff = new Date(
        now + RetryPolicy.backoffMs({ ...RetryPolicy.defaults, maxDelayMs: 300_000 }, entry.attempts + 1, random)
      )
      const at = retryAt !== undefined && retryAt.getTime() > backoff.getTime() ? retryAt : backoff
      yield* inbox.fail(entry.id, {
        message,
        retryAt: at,
        ...(ConnectorError.isConnectorError(error) ? { error } : {})
      })
      yield* wakeAt(entry.connection, at.getTime(), now, false)
      return "waiting" as const
    })

  const processEntry = (connection: string, id: number): Effect.Effect<ProcessResult, unknown, Requirements> =>
    Effect.gen(function* () {
      const found = yield* inbox.get(id)
      if (Option.isNone(found)) return "skipped"
      const entry = found.value
      if (entry.status !== "pending" || entry.connection !== connection) return "skipped"
      const now = yield* EngineClock.now
      if (entry.nextAttemptAt !== undefined && entry.nextAttemptAt.getTime() > now) return "not_due"
      if (blockedNow(connection, now)) return "waiting"

      const decoded = yield* Effect.either(
        PolledEvents.isPolled(entry.request)
          ? PolledEvents.decode(entry)
          : Effect.flatMap(receiverOf(registry, connection), (receiver) =>
              Option.isSome(receiver)
                ? Inbox.decode(receiver.value, entry)
                : Effect.fail(
                    new Webhook.WebhookMalformed({
                      message: `${connection}'s connector decodes no webhooks (no orders.webhook or aftersales.webhook)`
                    })
                  )
            )
      )
      if (decoded._tag === "Left") {
        return yield* deadLetter(id, { reason: "malformed_payload", message: decoded.left.message }, connection)
      }
      const prepared = yield* Effect.either(InboxApply.prepare(connection, decoded.right.events))
      if (prepared._tag === "Left") {
        const failure = prepared.left
        return failure._tag === "Dead"
          ? yield* deadLetter(
              id,
              { reason: failure.reason, message: failure.message, ...(failure.error ? { error: failure.error } : {}) },
              connection
            )
          : yield* retryLater(entry, failure.message, failure.counts, failure.retryAt, failure.error)
      }
      const outcome = yield* retryingTransaction(inbox.process(id, (e) => InboxApply.apply(e, prepared.right))).pipe(
        Effect.either
      )
      if (outcome._tag === "Left") {
        const error = outcome.left
        if (error._tag === "ApplyDead") {
          yield* inbox.deadLetter(id, { reason: error.reason, message: error.message })
          if (error.alert !== undefined) yield* alerts.raise(error.alert)
          else
            yield* alerts.raise({
              code: "dead_letters",
              connection,
              subject: `inbox entry ${id}`,
              message: `${connection}: inbox entry ${id} is in the dead-letter queue (${error.reason}): ${error.message}`
            })
          return "dead"
        }
        return yield* retryLater(entry, `applying failed: ${error.message}`, true)
      }
      if (outcome.right._tag === "Skipped") return "skipped"
      const applied = outcome.right.value
      yield* publisher.afterCommit(applied.published)
      for (const c of applied.starts) yield* starter.kick(c)
      for (const a of applied.alerts) yield* alerts.raise(a)
      if (applied.notes.length > 0) {
        yield* Effect.logDebug(applied.notes.join("; ")).pipe(Effect.annotateLogs({ connection, inboxId: id }))
      }
      return "applied"
    })

  const process: InboxWorkShape["process"] = (connection, id) =>
    lifecycle.track(processEntry(connection, id)).pipe(
      Effect.map(Option.getOrElse(() => "stopping" as const)),
      Effect.catchAllCause((cause) =>
        Effect.as(
          Effect.logWarning("inbox entry could not be processed; the sweep retries it", cause).pipe(
            Effect.annotateLogs({ connection, inboxId: id })
          ),
          "waiting" as const
        )
      ),
      Effect.withClock(clock.clock),
      Effect.provide(context)
    )

  const drain: InboxWorkShape["drain"] = (connection) =>
    Effect.gen(function* () {
      const seen = new Set<number>()
      let looked = 0
      while (true) {
        const now = yield* EngineClock.now
        if (blockedNow(connection, now)) return looked
        const due = yield* inbox
          .pending({ dueAt: new Date(now), connection, limit: 100 })
          .pipe(Effect.orElseSucceed(() => []))
        const fresh = due.filter((d) => !seen.has(d.id))
        if (fresh.length === 0) return looked
        for (const d of fresh) {
          seen.add(d.id)
          looked++
          const result = yield* process(connection, d.id)
          if (result === "stopping") return looked
        }
      }
    }).pipe(Effect.withClock(clock.clock), Effect.provide(context))

  const resume: InboxWorkShape["resume"] = (connection) =>
    Effect.gen(function* () {
      blocked.delete(connection)
      wakeDue.delete(connection)
      yield* FiberMap.remove(wakes, connection)
      return yield* drain(connection)
    })

  return { process, drain, resume }
})

/** The inbox work as a layer. */
export const layerWork: Layer.Layer<InboxWork, never, Requirements> = Layer.scoped(InboxWork, makeWork)

/** The entity's behaviour: one message at a time per connection. */
export const layer: Layer.Layer<never, never, Sharding.Sharding | InboxWork> = InboxProcessorEntity.toLayer(
  Effect.gen(function* () {
    const work = yield* InboxWork
    return {
      Process: ({ payload }) => work.process(payload.connection, payload.id),
      Drain: ({ payload }) => work.drain(payload.connection),
      Resume: ({ payload }) => work.resume(payload.connection)
    }
  }),
  { maxIdleTime: "5 minutes" }
)

/** Wakes a connection's processor for one entry (fire and forget: the sweep covers a lost message). */
export const notify = (connection: string, id: number): Effect.Effect<void, never, Sharding.Sharding> =>
  Effect.flatMap(InboxProcessorEntity.client, (client) =>
    client(connection).Process({ connection, id }, { discard: true })
  ).pipe(Effect.catchAllCause((cause) => Effect.logDebug("inbox notification not delivered", cause)))

/** Asks a connection's processor to apply everything due. */
export const drain = (connection: string): Effect.Effect<void, never, Sharding.Sharding> =>
  Effect.flatMap(InboxProcessorEntity.client, (client) =>
    client(connection).Drain({ connection }, { discard: true })
  ).pipe(Effect.catchAllCause((cause) => Effect.logDebug("inbox drain request not delivered", cause)))

/**
 * Ends a connection's wait on the runner that owns its processor (the seller authorized again) and
 * has it apply what is due.
 */
export const resume = (connection: string): Effect.Effect<void, never, Sharding.Sharding> =>
  Effect.flatMap(InboxProcessorEntity.client, (client) =>
    client(connection).Resume({ connection }, { discard: true })
  ).pipe(Effect.catchAllCause((cause) => Effect.logDebug("inbox resume request not delivered", cause)))
