/**
 * InboxApply: what one inbox entry does to tkbridge's state, in two halves.
 *
 * **Prepare** (before the transaction — partner calls never run inside one): turns the decoded
 * events into snapshots. An `OrderChanged` that carries no order (TikTok's notices name the order and
 * status only) is fetched with `orders.pull` `get`; an after-sale that must move stock is fetched
 * with `aftersales.pull` `get` for its lines, and its order for the line ids. A fetch that cannot
 * succeed now says when to try again (`Wait`) or why it never will (`Dead`).
 *
 * **Apply** (inside the inbox's transaction, which also marks the entry done): per event —
 *
 * | event | effect |
 * |---|---|
 * | order state older than the one applied (`Inbox.advance`) | skipped |
 * | `unpaid` | reserve, held until now + the unpaid TTL |
 * | `on_hold`, `awaiting_shipment`, `partially_shipped` | reserve; `confirm` (no expiry; re-holds lines that expired) |
 * | `awaiting_shipment` with a fulfilment connection | + queue the fulfilment workflow's start |
 * | `awaiting_collection`, `in_transit`, `delivered`, `completed` | reserve if never seen, then commit (units left) |
 * | `cancelled` | release; a paid order handed to fulfilment also queues the parcel's cancellation |
 * | after-sale `cancel` completed | release (the lines it names, or the whole order) |
 * | after-sale `return` due per the restock policy | restock (or record it, when the policy is `never`) |
 * | `AuthorizationRevoked` | the connection needs re-authorization; its work stays queued |
 * | `AuthorizationExpiring` | an alert with the date |
 * | anything else | recorded (the entry is kept) |
 *
 * Every pool change's listings are republished in the same transaction (`StockPublisher.publish`).
 * A line whose SKU is not paired fails the entry as `unknown_sku` naming the SKU, and an order the
 * pool cannot cover as `apply_failed` with the shortages: the transaction rolls back, the entry goes
 * to the dead-letter queue, and a replay (after pairing or restocking) applies it then.
 *
 * @since 0.1.0
 */

import type { SqlClient } from "@effect/sql"
import type { ChannelEvent, Connector, ConnectorError, Outbox, StoreError } from "@tkbridge/core"
import { AfterSale, DeadLetter, Inbox, Ledger, Order, TokenStore } from "@tkbridge/core"
import { Context, Data, Duration, Effect, Option, Schema } from "effect"
import * as CancellationWorkflow from "./CancellationWorkflow.ts"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import type { Alert } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import { CurrentFlows, orderFlowOf, restockDue, takesAfterSales } from "./EngineFlows.ts"
import * as FulfilmentWorkflow from "./FulfilmentWorkflow.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as PolledEvents from "./PolledEvents.ts"
import type * as RetryPolicy from "./RetryPolicy.ts"
import type { Published } from "./StockPublisher.ts"
import { isSqlError, StockPublisher, storeFailure } from "./StockPublisher.ts"
import * as StockPusher from "./StockPusher.ts"
import { enqueueStart } from "./WorkflowStarter.ts"

/** An after-sale as far as it is known: a full snapshot, or what a notice said. */
export interface AfterSaleFacts {
  readonly externalId: string
  readonly orderId: string
  readonly kind: AfterSale.AfterSaleKind
  readonly status: AfterSale.AfterSaleStatus
  readonly lines?: ReadonlyArray<{ readonly externalSku: string; readonly qty: number }> | undefined
  readonly updatedAt?: Date | undefined
}

/** An event ready to apply: nothing left to ask a partner. */
export type Prepared =
  | { readonly _tag: "Order"; readonly order: Order.Order }
  /** A status without the order (the connector can neither send nor fetch it). */
  | {
      readonly _tag: "OrderStatus"
      readonly orderId: string
      readonly status: Order.OrderStatus
      readonly updatedAt?: Date | undefined
    }
  | { readonly _tag: "AfterSale"; readonly afterSale: AfterSaleFacts; readonly order?: Order.Order | undefined }
  | { readonly _tag: "Revoked"; readonly reason?: string | undefined }
  | { readonly _tag: "Expiring"; readonly expiresAt?: Date | undefined }
  | { readonly _tag: "Recorded"; readonly what: string }

/** Preparation cannot finish now (`Wait`) or ever (`Dead`). */
export type PrepareFailure =
  | {
      readonly _tag: "Wait"
      readonly retryAt: Date
      readonly message: string
      readonly error?: ConnectorError.ConnectorError | undefined
      /**
       * Whether the wait uses up one of the entry's attempts: a transient failure does; a rate limit,
       * a suspension or a connection waiting for re-authorization does not.
       */
      readonly counts: boolean
    }
  | {
      readonly _tag: "Dead"
      readonly reason: DeadLetter.Reason
      readonly message: string
      readonly error?: ConnectorError.ConnectorError | undefined
    }

/** The entry cannot be applied; it goes to the dead-letter queue with this reason. */
export class ApplyDead extends Data.TaggedError("ApplyDead")<{
  readonly reason: DeadLetter.Reason
  readonly message: string
  readonly alert?: Omit<Alert, "at"> | undefined
}> {}

/** What an applied entry leaves to do after its commit. */
export interface Applied {
  readonly published: ReadonlyArray<Published>
  /** Connections whose workflow starts were queued. */
  readonly starts: ReadonlyArray<string>
  readonly alerts: ReadonlyArray<Omit<Alert, "at">>
  /** What happened, for the log. */
  readonly notes: ReadonlyArray<string>
}

/** How long (ms) an entry of a connection that needs re-authorization waits before it is tried again. */
export class PausedRetry extends Context.Reference<PausedRetry>()("@tkbridge/engine/PausedRetry", {
  defaultValue: () => 60_000
}) {}

/**
 * The retry policy for fetches made while applying an entry. The processor applies a connection's
 * entries one at a time, so a fetch never sleeps through a back-off in place: a transient failure
 * sends the entry back to the inbox with its own back-off (`Inbox.fail`) and the processor moves on
 * to the next entry. Only short rate-limit waits are sat out.
 */
export const fetchPolicy: Partial<RetryPolicy.Options> = {
  maxAttempts: 1,
  inlineWaitMs: 1_000,
  maxRateLimitedWaits: 3
}

const fetch = <A>(
  connection: string,
  what: string,
  call: Effect.Effect<A, ConnectorError.ConnectorError>
): Effect.Effect<A, PrepareFailure, PartnerCall.Requirements> =>
  Effect.gen(function* () {
    const outcome = yield* PartnerCall.run(connection, "high", call, fetchPolicy)
    const now = yield* EngineClock.now
    switch (outcome._tag) {
      case "Succeeded":
        return outcome.value
      case "Deferred":
        return yield* Effect.fail<PrepareFailure>({
          _tag: "Wait",
          retryAt: outcome.until,
          message: `${what}: ${outcome.error.message}`,
          error: outcome.error,
          counts: false
        })
      case "Paused":
        return yield* Effect.fail<PrepareFailure>({
          _tag: "Wait",
          retryAt: new Date(now + (yield* PausedRetry)),
          message: `${what}: ${connection} needs re-authorization (${outcome.error.message})`,
          error: outcome.error,
          counts: false
        })
      case "Dead":
        return yield* Effect.fail<PrepareFailure>(
          outcome.exhausted
            ? {
                _tag: "Wait",
                // The entry's own back-off (`Inbox.fail`) spaces the next try.
                retryAt: new Date(now),
                message: `${what}: ${outcome.error._tag}: ${outcome.error.message}`,
                error: outcome.error,
                counts: true
              }
            : {
                _tag: "Dead",
                reason: DeadLetter.reasonFor(outcome.error),
                message: `${what}: ${outcome.error._tag}: ${outcome.error.message}`,
                error: outcome.error
              }
        )
    }
  })

const service = <C extends Connector.Capability>(connection: string, capability: C) =>
  Effect.flatMap(ConnectionRegistry, (registry) =>
    Effect.map(Effect.option(registry.capability(connection, capability)), (o) =>
      o._tag === "Some" ? o.value : undefined
    )
  )

/** Whether an after-sale moves stock under the flows. */
const movesStock = (policy: Parameters<typeof restockDue>[0], facts: { kind: string; status?: string | undefined }) =>
  (facts.kind === "cancel" && facts.status === "completed") ||
  (facts.kind === "return" &&
    facts.status !== undefined &&
    restockDue(policy, facts.status as AfterSale.AfterSaleStatus))

/** Fetches what the events lack. */
export const prepare = (
  connection: string,
  events: ReadonlyArray<ChannelEvent.ChannelEvent>
): Effect.Effect<ReadonlyArray<Prepared>, PrepareFailure, PartnerCall.Requirements | CurrentFlows> =>
  Effect.gen(function* () {
    const flows = yield* CurrentFlows
    const out: Array<Prepared> = []
    for (const event of events) {
      switch (event._tag) {
        case "OrderChanged": {
          if (event.order !== undefined) {
            out.push({ _tag: "Order", order: event.order })
            break
          }
          const orders = yield* service(connection, "orders.pull")
          if (orders !== undefined) {
            const order = yield* fetch(connection, `fetching order ${event.orderId}`, orders.get(event.orderId))
            out.push({ _tag: "Order", order })
          } else if (event.status !== undefined) {
            out.push({ _tag: "OrderStatus", orderId: event.orderId, status: event.status, updatedAt: event.updatedAt })
          } else {
            out.push({ _tag: "Recorded", what: `a change of order ${event.orderId} without its state` })
          }
          break
        }
        case "AfterSaleChanged": {
          let facts: AfterSaleFacts | undefined = event.afterSale
            ? event.afterSale
            : event.status !== undefined
              ? {
                  externalId: event.afterSaleId,
                  orderId: event.orderId,
                  kind: event.kind,
                  status: event.status,
                  updatedAt: event.updatedAt
                }
              : undefined
          const relevant = facts === undefined || movesStock(flows.pool.restock, facts)
          if (event.afterSale === undefined && relevant) {
            const afterSales = yield* service(connection, "aftersales.pull")
            if (afterSales?.get !== undefined) {
              const get = afterSales.get
              facts = yield* fetch(
                connection,
                `fetching ${event.kind} ${event.afterSaleId}`,
                get(event.afterSaleId, event.kind)
              )
            }
          }
          if (facts === undefined) {
            out.push({ _tag: "Recorded", what: `${event.kind} ${event.afterSaleId} without its state` })
            break
          }
          let order: Order.Order | undefined
          if (movesStock(flows.pool.restock, facts) && (facts.kind === "return" || facts.lines !== undefined)) {
            const orders = yield* service(connection, "orders.pull")
            if (orders !== undefined) {
              order = yield* fetch(connection, `fetching order ${facts.orderId}`, orders.get(facts.orderId))
            }
          }
          out.push({ _tag: "AfterSale", afterSale: facts, order })
          break
        }
        case "AuthorizationRevoked":
          out.push({ _tag: "Revoked", reason: event.reason })
          break
        case "AuthorizationExpiring":
          out.push({ _tag: "Expiring", expiresAt: event.expiresAt })
          break
        case "InventoryChanged":
          out.push({
            _tag: "Recorded",
            what: `an inventory notice${event.externalSku ? ` for ${event.externalSku}` : ""}`
          })
          break
        case "FulfillmentChanged":
          out.push({ _tag: "Recorded", what: `a package update${event.orderId ? ` of order ${event.orderId}` : ""}` })
          break
        case "Unhandled":
          out.push({ _tag: "Recorded", what: `topic ${event.topic}` })
          break
      }
    }
    return out
  })

/**
 * Order lines for after-sale lines (listing units): each after-sale line takes units from the
 * order's lines of the same SKU, in line order. The whole order when the after-sale names no lines.
 */
export const linesFor = (
  order: Order.Order,
  lines: ReadonlyArray<{ readonly externalSku: string; readonly qty: number }> | undefined
): ReadonlyArray<{ readonly lineId: string; readonly qty: number }> => {
  if (lines === undefined) return order.lines.map((l) => ({ lineId: l.lineId, qty: l.qty }))
  const used = new Map<string, number>()
  const out = new Map<string, number>()
  for (const wanted of lines) {
    let remaining = wanted.qty
    for (const l of order.lines) {
      if (remaining <= 0) break
      if (l.externalSku !== wanted.externalSku) continue
      const free = l.qty - (used.get(l.lineId) ?? 0)
      const take = Math.min(free, remaining)
      if (take <= 0) continue
      used.set(l.lineId, (used.get(l.lineId) ?? 0) + take)
      out.set(l.lineId, (out.get(l.lineId) ?? 0) + take)
      remaining -= take
    }
  }
  return [...out].map(([lineId, qty]) => ({ lineId, qty }))
}

/** The services applying needs. */
export type ApplyRequirements =
  | Inbox.Inbox
  | Ledger.Ledger
  | TokenStore.TokenStore
  | StockPublisher
  | CurrentFlows
  | EngineClock.EngineClock
  | ConnectionRegistry
  | Outbox.OutboundJobs
  | Outbox.StockOutbox
  | SqlClient.SqlClient

/**
 * Applies prepared events inside the inbox's transaction (the entry is being marked done in it).
 * Fails with `ApplyDead` when the entry must go to the dead-letter queue; storage failures
 * propagate (the caller retries the whole transaction when they are retryable).
 */
export const apply = (
  entry: Inbox.InboxEntry,
  prepared: ReadonlyArray<Prepared>
): Effect.Effect<Applied, ApplyDead | Ledger.LedgerUnavailable | StoreError.StoreError, ApplyRequirements> =>
  Effect.gen(function* () {
    const connection = entry.connection
    const inbox = yield* Inbox.Inbox
    const ledger = yield* Ledger.Ledger
    const tokens = yield* TokenStore.TokenStore
    const publisher = yield* StockPublisher
    const flows = yield* CurrentFlows
    const now = yield* EngineClock.now
    const flow = orderFlowOf(flows, connection)
    const changed: Array<Ledger.ListingRef> = []
    const starts = new Set<string>()
    const alerts: Array<Omit<Alert, "at">> = []
    const notes: Array<string> = []
    const meta = (why: string): Ledger.Meta => ({ actor: `inbox:${connection}`, reason: why })

    const deadFor = (e: Ledger.UnknownSku | Ledger.InsufficientStock, orderId: string) =>
      e._tag === "UnknownSku"
        ? new ApplyDead({
            reason: "unknown_sku",
            message: `SKU ${e.externalSku}${e.lineId ? ` (line ${e.lineId})` : ""} of order ${orderId} on ${connection} is not paired with a pool item (${e.reason}); pair it, then replay`,
            alert: {
              code: "dead_letters",
              connection,
              subject: orderId,
              message: `${connection}: order ${orderId} names SKU ${e.externalSku}, which is not paired; it waits in the dead-letter queue — pair the SKU and replay`
            }
          })
        : new ApplyDead({
            reason: "apply_failed",
            message: `insufficient stock: ${e.message}`,
            alert: {
              code: "order_not_reserved",
              connection,
              subject: orderId,
              message: `${connection}: order ${orderId} cannot be covered by the pool (${e.message}); it waits in the dead-letter queue — restock or cancel it, then replay`
            }
          })

    const reserve = (order: Order.Order, expiresAt?: Date) =>
      ledger
        .reserve(
          {
            connection,
            orderId: order.externalId,
            lines: order.lines.map((l) => ({ lineId: l.lineId, externalSku: l.externalSku, qty: l.qty })),
            expiresAt
          },
          meta(`order ${order.externalId} ${order.status}`)
        )
        .pipe(
          Effect.tap((r) => Effect.sync(() => changed.push(...r.changed))),
          // A fresh reservation tells a compare-and-set channel's pusher that the drop it may find on
          // the channel is this order, not an unseen sale (a redelivery answers `duplicate`).
          Effect.tap((r) =>
            r.outcome === "reserved"
              ? StockPusher.ordersSeen({ connection, lines: order.lines }).pipe(
                  Effect.catchIf(isSqlError, (e) => Effect.fail(storeFailure("orders.seen", e)))
                )
              : Effect.void
          ),
          Effect.catchTags({
            UnknownSku: (e) => Effect.fail(deadFor(e, order.externalId)),
            InsufficientStock: (e) => Effect.fail(deadFor(e, order.externalId))
          })
        )

    const cancel = (orderId: string, lineIds?: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const rows = yield* ledger.reservations(connection, orderId)
        const paidAndHeld = rows.some((r) => r.state === "held" && r.expiresAt === undefined)
        const released = yield* ledger
          .release({ connection, orderId, lineIds }, meta(`order ${orderId} cancelled`))
          .pipe(Effect.catchTag("UnknownOrder", () => Effect.succeed({ lines: [], changed: [] })))
        changed.push(...released.changed)
        notes.push(`order ${orderId}: released ${released.lines.length} line(s)`)
        const cancelShipment = flows.afterSales?.cancelShipment ?? true
        if (flow?.fulfilment !== undefined && cancelShipment && paidAndHeld && lineIds === undefined) {
          yield* enqueueStart({
            connection,
            workflow: CancellationWorkflow.name,
            key: `${connection}:${orderId}`,
            payload: Schema.encodeSync(CancellationWorkflow.CancellationPayload)({
              connection,
              orderId,
              fulfiller: flow.fulfilment,
              generation: 0
            })
          })
          starts.add(connection)
        }
      })

    const commit = (orderId: string) =>
      ledger.commit({ connection, orderId }, meta(`order ${orderId} shipped`)).pipe(
        Effect.tap((r) => Effect.sync(() => changed.push(...r.changed))),
        Effect.catchTags({
          UnknownOrder: () => Effect.sync(() => notes.push(`order ${orderId}: shipped, but nothing was reserved`)),
          InvalidTransition: (e) => Effect.sync(() => notes.push(`order ${orderId}: ${e.message}`))
        })
      )

    const applyOrder = (order: Order.Order) =>
      Effect.gen(function* () {
        const fresh = yield* inbox.advance(
          connection,
          PolledEvents.orderEntity(order.externalId),
          order.updatedAt,
          PolledEvents.orderState(order)
        )
        if (!fresh) {
          notes.push(`order ${order.externalId}: an older state than the one applied; skipped`)
          return
        }
        if (flow === undefined) {
          notes.push(`order ${order.externalId}: ${connection} is in no order flow; recorded`)
          return
        }
        const status = order.status
        if (status === "unpaid") {
          yield* reserve(order, new Date(now + Duration.toMillis(flows.pool.unpaidTtl)))
        } else if (status === "on_hold" || status === "awaiting_shipment" || status === "partially_shipped") {
          yield* reserve(order)
          const confirmed = yield* ledger
            .confirm({ connection, orderId: order.externalId }, meta(`order ${order.externalId} paid`))
            .pipe(
              Effect.catchTags({
                UnknownOrder: () => Effect.succeed({ lines: [], changed: [] }),
                InsufficientStock: (e) => Effect.fail(deadFor(e, order.externalId))
              })
            )
          changed.push(...confirmed.changed)
          if (status === "awaiting_shipment" && flow.fulfilment !== undefined) {
            yield* enqueueStart({
              connection,
              workflow: FulfilmentWorkflow.name,
              key: `${connection}:${order.externalId}`,
              payload: Schema.encodeSync(FulfilmentWorkflow.FulfilmentPayload)({
                connection,
                orderId: order.externalId,
                fulfiller: flow.fulfilment,
                trackingBack: flow.trackingBack,
                generation: 0,
                order
              })
            })
            starts.add(connection)
          }
        } else if (Order.shippedStatuses.has(status)) {
          yield* reserve(order).pipe(
            Effect.catchIf(
              (e) => e._tag === "ApplyDead" && e.reason === "apply_failed",
              () => Effect.sync(() => notes.push(`order ${order.externalId}: shipped before it could be reserved`))
            )
          )
          yield* commit(order.externalId)
        } else if (status === "cancelled") {
          yield* cancel(order.externalId)
        }
      })

    const applyStatus = (orderId: string, status: Order.OrderStatus, updatedAt: Date | undefined) =>
      Effect.gen(function* () {
        const fresh = yield* inbox.advance(connection, PolledEvents.orderEntity(orderId), updatedAt ?? entry.receivedAt)
        if (!fresh || flow === undefined) return
        if (status === "cancelled") return yield* cancel(orderId)
        if (Order.shippedStatuses.has(status)) return yield* commit(orderId)
        return yield* Effect.fail(
          new ApplyDead({
            reason: "unmappable_payload",
            message: `order ${orderId} is ${status}, but ${connection} sent no order and cannot fetch one (no orders.pull): its lines are unknown`
          })
        )
      })

    const applyAfterSale = (facts: AfterSaleFacts, order: Order.Order | undefined) =>
      Effect.gen(function* () {
        const fresh = yield* inbox.advance(
          connection,
          PolledEvents.afterSaleEntity(facts.kind, facts.externalId),
          facts.updatedAt ?? entry.receivedAt,
          facts instanceof AfterSale.AfterSale ? PolledEvents.afterSaleState(facts) : undefined
        )
        if (!fresh) {
          notes.push(`${facts.kind} ${facts.externalId}: an older state than the one applied; skipped`)
          return
        }
        if (flow === undefined && !takesAfterSales(flows, connection)) return
        if (facts.kind === "cancel" && facts.status === "completed") {
          const lineIds =
            facts.lines === undefined || order === undefined
              ? undefined
              : linesFor(order, facts.lines).map((l) => l.lineId)
          const whole = lineIds === undefined || (order !== undefined && lineIds.length === order.lines.length)
          return yield* cancel(facts.orderId, whole ? undefined : lineIds)
        }
        if (facts.kind === "return" && restockDue(flows.pool.restock, facts.status)) {
          if (order === undefined) {
            return yield* Effect.fail(
              new ApplyDead({
                reason: "unmappable_payload",
                message: `return ${facts.externalId} of order ${facts.orderId}: ${connection} cannot fetch the order (no orders.pull), so the returned lines are unknown`
              })
            )
          }
          const lines = linesFor(order, facts.lines)
          if (lines.length === 0) {
            notes.push(`return ${facts.externalId}: names no line of order ${facts.orderId}`)
            return
          }
          const restocked = yield* ledger
            .restock(
              { connection, orderId: facts.orderId, returnId: facts.externalId, lines },
              meta(`return ${facts.externalId} ${facts.status}`)
            )
            .pipe(
              Effect.catchTags({
                UnknownOrder: () =>
                  Effect.succeed({
                    outcome: "recorded" as const,
                    items: [],
                    changed: [] as ReadonlyArray<Ledger.ListingRef>
                  }),
                InvalidTransition: (e) =>
                  Effect.as(
                    Effect.sync(() => notes.push(`return ${facts.externalId}: ${e.message}`)),
                    { outcome: "recorded" as const, items: [], changed: [] as ReadonlyArray<Ledger.ListingRef> }
                  ),
                ReturnExceedsShipment: (e) =>
                  Effect.fail(
                    new ApplyDead({ reason: "apply_failed", message: `return ${facts.externalId}: ${e.message}` })
                  )
              })
            )
          changed.push(...restocked.changed)
          notes.push(`return ${facts.externalId}: ${restocked.outcome}`)
        }
      })

    for (const p of prepared) {
      switch (p._tag) {
        case "Order":
          yield* applyOrder(p.order)
          break
        case "OrderStatus":
          yield* applyStatus(p.orderId, p.status, p.updatedAt)
          break
        case "AfterSale":
          yield* applyAfterSale(p.afterSale, p.order)
          break
        case "Revoked": {
          const reason = p.reason ?? "the seller revoked the app's authorization"
          // A grant stored after the notice arrived is a new authorization the notice cannot be about.
          const current = yield* tokens.get(connection).pipe(Effect.orElseSucceed(() => Option.none()))
          if (Option.isSome(current) && current.value.updatedAt.getTime() > entry.receivedAt.getTime()) {
            notes.push(`deauthorization notice older than the current grant (${reason}); the grant stays`)
            break
          }
          // The grant read above, not one stored since (a new authorization).
          const marked = yield* tokens.markNeedsReauth(
            connection,
            reason,
            Option.isSome(current) ? current.value.version : undefined
          )
          if (!marked) {
            notes.push(`deauthorization notice (${reason}) met no grant to pause`)
            break
          }
          alerts.push({
            code: "needs_reauth",
            connection,
            message: `${connection} was deauthorized (${reason}); its work is kept and resumes once the seller authorizes again`
          })
          break
        }
        case "Expiring":
          alerts.push({
            code: "authorization_expiring",
            connection,
            message: `${connection}'s authorization expires${p.expiresAt ? ` on ${p.expiresAt.toISOString()}` : " soon"}: ask the seller to authorize again before then`
          })
          break
        case "Recorded":
          notes.push(`recorded ${p.what}`)
          break
      }
    }
    const published = yield* publisher.publish(changed, { actor: `inbox:${connection}`, cause: entry.topic })
    return { published, starts: [...starts], alerts, notes }
  })

/** The retry budget of an inbox entry (fetches that fail transiently, storage failures). */
export const maxAttempts = 8

/** A short description of a prepare failure, for logs. */
export const describeFailure = (f: PrepareFailure): string => `${f._tag === "Wait" ? "waiting" : "dead"}: ${f.message}`
