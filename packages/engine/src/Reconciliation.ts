/**
 * Reconciliation: polling is the backstop behind webhooks — every `reconciliation.every` each order
 * and after-sales source is read for what changed since its checkpoint, so a lost webhook costs
 * minutes, not an order.
 *
 * A pass reads the window from (checkpoint − overlap) to now, page by page (`orders.pull` /
 * `aftersales.pull` `list`, `normal` lane), and records every snapshot in the inbox as a polled entry
 * (`PolledEvents`: keyed by id and update time, so re-reading the overlap stores nothing twice),
 * except states the ordering guard already let through (a webhook brought them). Only
 * when the whole window was read and recorded does the checkpoint move to its end; a pass that fails
 * half-way leaves it, and the next pass reads the window again. Then the connection's inbox processor
 * is asked to apply what is due — the same path as webhooks.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import type { Connector, ConnectorError } from "@tkbridge/core"
import { Inbox } from "@tkbridge/core"
import { Duration, Effect, Option } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineCheckpoints } from "./EngineCheckpoints.ts"
import * as EngineClock from "./EngineClock.ts"
import { CurrentFlows } from "./EngineFlows.ts"
import * as InboxProcessor from "./InboxProcessor.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as PolledEvents from "./PolledEvents.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

/** What one pass over one stream did. */
export interface PassReport {
  readonly read: number
  readonly recorded: number
  /** Read, but already applied (a webhook brought that state): not recorded again. */
  readonly current: number
  /** Why the pass stopped early, when it did. */
  readonly skipped?: string | undefined
}

/** Polls give up a window quickly and try it again at the next pass. */
const pollPolicy: Partial<RetryPolicy.Options> = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  inlineWaitMs: 10_000
}

type Requirements = PartnerCall.Requirements | Inbox.Inbox | EngineCheckpoints | CurrentFlows | Sharding.Sharding

const pass = <A>(options: {
  readonly connection: string
  readonly stream: "orders" | "aftersales"
  readonly list: (query: Connector.PullQuery) => Effect.Effect<Connector.Page<A>, ConnectorError.ConnectorError>
  readonly toPolled: (a: A) => PolledEvents.Polled
}): Effect.Effect<PassReport, never, Requirements> =>
  Effect.gen(function* () {
    const { connection, stream } = options
    const flows = yield* CurrentFlows
    const inbox = yield* Inbox.Inbox
    const checkpoints = yield* EngineCheckpoints
    const settings = flows.reconciliation
    const now = yield* EngineClock.now
    const name = `poll:${stream}`
    const last = yield* checkpoints.get(connection, name).pipe(Effect.orElseSucceed(() => Option.none<number>()))
    const since = Option.match(last, {
      onNone: () => now - Duration.toMillis(settings.firstLookback),
      onSome: (at) => at - Duration.toMillis(settings.overlap)
    })
    const until = now
    let cursor: string | undefined
    let read = 0
    let recorded = 0
    let current = 0
    while (true) {
      const outcome = yield* PartnerCall.run(
        connection,
        "normal",
        options.list({
          updatedSince: new Date(since),
          updatedUntil: new Date(until),
          cursor,
          pageSize: settings.pageSize
        }),
        pollPolicy
      )
      if (outcome._tag !== "Succeeded") {
        if (recorded > 0) yield* InboxProcessor.drain(connection)
        return { read, recorded, current, skipped: `${stream}: ${RetryPolicy.describe(outcome)}` }
      }
      const snapshots = outcome.value.items.map((item) => {
        const polled = options.toPolled(item)
        return { polled, clock: PolledEvents.clockOf(polled) }
      })
      read += snapshots.length
      // What a webhook already applied is left out: queued, it would only be a no-op ahead of the
      // live webhooks behind it (a first pass or a wide overlap reads every recent order again).
      const applied = yield* inbox
        .applied(
          connection,
          snapshots.map((s) => s.clock.entity)
        )
        .pipe(Effect.orElseSucceed(() => new Map<string, Inbox.AppliedState>()))
      for (const { polled, clock } of snapshots) {
        if (PolledEvents.alreadyApplied(clock, applied.get(clock.entity))) {
          current++
          continue
        }
        const stored = yield* inbox.record(PolledEvents.record(connection, polled)).pipe(Effect.either)
        if (stored._tag === "Left") {
          if (recorded > 0) yield* InboxProcessor.drain(connection)
          return {
            read,
            recorded,
            current,
            skipped: `${stream}: the inbox could not be written (${stored.left.message})`
          }
        }
        if (!stored.right.duplicate) recorded++
      }
      cursor = outcome.value.next
      if (cursor === undefined || cursor === "") break
    }
    yield* checkpoints.advance(connection, name, until).pipe(Effect.ignore)
    if (recorded > 0) yield* InboxProcessor.drain(connection)
    return { read, recorded, current }
  }).pipe(Effect.annotateLogs({ connection: options.connection, stream: options.stream }))

/** Polls a connection's orders (when it has `orders.pull`). */
export const pollOrders = (connection: string): Effect.Effect<PassReport, never, Requirements> =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const orders = yield* Effect.option(registry.capability(connection, "orders.pull"))
    if (Option.isNone(orders)) return { read: 0, recorded: 0, current: 0 }
    return yield* pass({
      connection,
      stream: "orders",
      list: orders.value.list,
      toPolled: (order) => ({ _tag: "PolledOrder" as const, order })
    })
  })

/** Polls a connection's after-sales (when it has `aftersales.pull`). */
export const pollAfterSales = (connection: string): Effect.Effect<PassReport, never, Requirements> =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const afterSales = yield* Effect.option(registry.capability(connection, "aftersales.pull"))
    if (Option.isNone(afterSales)) return { read: 0, recorded: 0, current: 0 }
    return yield* pass({
      connection,
      stream: "aftersales",
      list: afterSales.value.list,
      toPolled: (afterSale) => ({ _tag: "PolledAfterSale" as const, afterSale })
    })
  })
