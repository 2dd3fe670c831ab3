/**
 * FulfilmentWorkflow: one order, from its reservation to the tracking number on the channel it came
 * from. Started (through `WorkflowStarter`) when a reserved order is ready to ship, it:
 *
 * 1. checks the order is still reserved (a cancellation may have released it) — nothing else to do
 *    when it was released or already shipped by other means;
 * 2. creates the parcel at the fulfilment connection (`shipment.create`), with the parcel reference
 *    derived from the connection and the order: the provider's idempotency key, so a re-run finds the
 *    parcel it already made instead of making a second one;
 * 3. checks again: an order cancelled while the parcel was being created gets its parcel cancelled;
 * 4. waits durably for the tracking number when the provider assigns it later (a `get` every
 *    `trackingPollEvery`, spaced by durable clocks, up to `trackingTimeout`; a check whose retries
 *    run out counts as "not yet");
 * 5. writes carrier and tracking number back to the order's channel (`fulfillment.push`, idempotency
 *    key `ship:<connection>:<order>`), unless the flow says not to;
 * 6. commits the reservation: the units have left (on hand goes down, the listings are republished);
 * 7. fetches the parcel's label for the warehouse to print (`labels`, on by default). A label that
 *    cannot be had raises a `label_missing` alert instead of holding the order back: the tracking
 *    number is already on the channel and the provider's own console still has the label.
 *
 * Each parcel is kept in the parcels record (`Parcels`) as it goes: created, its tracking number,
 * its label, cancelled — what `tkbridge orders` shows and what the `parcel-tracking` schedule follows.
 *
 * Every partner call is its own activity with its own idempotency key, under the retry policy; a step
 * that cannot succeed dead-letters the order with the whole context and the workflow ends — a replay
 * starts it again as its next generation and it walks past what is already done.
 *
 * @since 0.1.0
 */

import * as Crypto from "node:crypto"
import type { WorkflowEngine } from "@effect/workflow"
import { Workflow } from "@effect/workflow"
import type { Connector, HttpExchange, Shipment } from "@tkbridge/core"
import { Audit, ConnectorError, Ids, Ledger, Order, Parcels } from "@tkbridge/core"
import type { Layer } from "effect"
import { Duration, Effect, Option, Schema } from "effect"
import type { ConnectionRegistryShape } from "./ConnectionRegistry.ts"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import type { FulfilmentDefaults } from "./EngineFlows.ts"
import { CurrentFlows, fulfilmentDefaults } from "./EngineFlows.ts"
import { StockPublisher } from "./StockPublisher.ts"
import type { DeadContext, StepDead, StepRequirements } from "./WorkflowSteps.ts"
import { giveUp, partnerStep, partnerStepOr, waitFor } from "./WorkflowSteps.ts"

/** What the workflow is started with. */
export const FulfilmentPayload = Schema.Struct({
  /** The channel the order came from. */
  connection: Ids.ConnectionId,
  orderId: Ids.ExternalId,
  /** The connection that ships it. */
  fulfiller: Ids.ConnectionId,
  trackingBack: Schema.Boolean,
  /** 0 for the first run; a dead-letter replay starts the next one. */
  generation: Schema.Int.pipe(Schema.nonNegative()),
  /** The order as it was when it became ready to ship (address, lines). */
  order: Order.Order
})
/** What the workflow is started with. */
export type FulfilmentPayload = typeof FulfilmentPayload.Type

/** How it ended. */
export const FulfilmentResult = Schema.Struct({
  outcome: Schema.Literal("shipped", "cancelled", "already_shipped", "not_reserved", "dead"),
  reference: Schema.optional(Schema.String),
  carrier: Schema.optional(Schema.String),
  trackingNumber: Schema.optional(Schema.String),
  /** The step that dead-lettered the order. */
  step: Schema.optional(Schema.String)
})
/** How it ended. */
export type FulfilmentResult = typeof FulfilmentResult.Type

/** The name `WorkflowStarter` starts it by. */
export const name = "fulfilment"

/** The workflow. Its execution is keyed by `connection/order#generation`. */
export const FulfilmentWorkflow = Workflow.make({
  name: "tkbridge/OrderFulfilment",
  payload: FulfilmentPayload,
  success: FulfilmentResult,
  idempotencyKey: (p) => executionKey(p)
})

/** The execution key of a payload. */
export const executionKey = (p: {
  readonly connection: string
  readonly orderId: string
  readonly generation: number
}) => `${p.connection}/${p.orderId}#${p.generation}`

/**
 * The parcel reference for an order: `<connection>-<order>` when it fits providers' limits (letters,
 * digits, `-`, `_`, at most 50 characters), else a stable hash of both. Never depends on the attempt.
 */
export const parcelReference = (connection: string, orderId: string): string => {
  const plain = `${connection}-${orderId}`
  return /^[A-Za-z0-9_-]{1,50}$/.test(plain)
    ? plain
    : `tkb-${Crypto.createHash("sha256").update(`${connection}\u0000${orderId}`).digest("hex").slice(0, 40)}`
}

/** The idempotency key of the tracking write-back. */
export const shipKey = (connection: string, orderId: string): string => `ship:${connection}:${orderId}`

/** The parcel request for an order: address, weight and a customs line per order line. */
export const parcelRequest = (
  order: Order.Order,
  reference: string,
  defaults: FulfilmentDefaults
): Connector.ParcelRequest | undefined => {
  if (order.shipTo === undefined) return undefined
  const units = order.lines.reduce((sum, l) => sum + l.qty, 0)
  const bySku = new Map<string, Connector.Declaration>()
  for (const l of order.lines) {
    const existing = bySku.get(l.externalSku)
    if (existing !== undefined) {
      bySku.set(l.externalSku, { ...existing, qty: existing.qty + l.qty })
      continue
    }
    bySku.set(l.externalSku, {
      externalSku: l.externalSku,
      description: l.title ?? defaults.declaration.description,
      descriptionLocal: defaults.declaration.descriptionLocal,
      qty: l.qty,
      unitValue: l.unitPrice !== undefined && l.unitPrice > 0 ? l.unitPrice : defaults.declaration.unitValue,
      currency: order.currency ?? defaults.declaration.currency,
      hsCode: defaults.declaration.hsCode,
      originCountry: defaults.declaration.originCountry,
      unitWeightGrams: defaults.unitWeightGrams
    })
  }
  return {
    reference,
    order,
    shipTo: order.shipTo,
    service: defaults.service,
    weightGrams: defaults.packagingWeightGrams + units * defaults.unitWeightGrams,
    declarations: [...bySku.values()]
  }
}

/** A parcel as journaled. */
export const Parcel = Schema.Struct({
  externalId: Schema.String,
  reference: Schema.String,
  trackingNumber: Schema.optional(Schema.String),
  carrier: Schema.String,
  pending: Schema.Boolean
})

const ReservationState = Schema.Literal("none", "held", "committed", "released")

/** The journaled outcome of the parcel step. */
const Creation = Schema.Union(
  Schema.TaggedStruct("Skipped", { state: ReservationState }),
  Schema.TaggedStruct("Created", { parcel: Parcel, released: Schema.Boolean })
)

/** Our own storage failing inside a partner step is transient: the step retries it. */
const storage = (connection: string) => (e: { readonly message: string }) =>
  new ConnectorError.Transient({ connection, message: `tkbridge's store: ${e.message}` })

/** The reservation state, as a step reads it. */
const ledgerState = (connection: string, orderId: string) =>
  reservationState(connection, orderId).pipe(Effect.mapError(storage(connection)))

/** Commits the order's held lines and republishes; answers the lines committed. */
const commit = (connection: string, orderId: string, trackingNumber: string) =>
  Effect.flatMap(StockPublisher, (publisher) =>
    publisher.run(
      Effect.flatMap(Ledger.Ledger, (ledger) =>
        ledger.commit({ connection, orderId }, { actor: "engine", reason: `shipped ${trackingNumber}` }).pipe(
          Effect.map((r) => ({ value: r.lines, changed: r.changed })),
          // Released meanwhile (cancelled after the parcel left) or unknown: nothing to commit.
          Effect.catchTags({
            UnknownOrder: () => Effect.succeed({ value: [] as ReadonlyArray<string>, changed: [] }),
            InvalidTransition: () => Effect.succeed({ value: [] as ReadonlyArray<string>, changed: [] })
          })
        )
      ),
      { actor: "engine", cause: `order ${orderId} shipped` }
    )
  ).pipe(Effect.mapError(storage(connection)))

/** Where an order's reservation stands: any line held → held; else committed if any shipped. */
export const reservationState = (connection: string, orderId: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations(connection, orderId), (rows): typeof ReservationState.Type => {
      if (rows.length === 0) return "none"
      if (rows.some((r) => r.state === "held")) return "held"
      if (rows.some((r) => r.state === "committed")) return "committed"
      return "released"
    })
  )

const capability = <C extends Connector.Capability>(registry: ConnectionRegistryShape, connection: string, c: C) =>
  registry
    .capability(connection, c)
    .pipe(
      Effect.mapError(
        (e) => new ConnectorError.Rejected({ connection, code: "capability_missing", message: e.message })
      )
    )

/** The call, with an audit row for each attempt: its outcome, or `failed:<error>` with the exchange. */
const audited = <A>(
  call: Effect.Effect<A, ConnectorError.ConnectorError>,
  input: { connection: string; operation: string; subject: string; idempotencyKey: string; request?: unknown },
  outcome: (a: A) => string
) => {
  // A trail that cannot be written must not fail the write it describes; it is logged instead.
  const record = (result: string, exchange?: HttpExchange.HttpExchange | undefined) =>
    Effect.flatMap(Audit.Audit, (audit) =>
      audit.append(Audit.outboundWrite({ ...input, outcome: result, exchange }))
    ).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning(`the audit row of ${input.operation} for ${input.subject} was not written: ${e.message}`)
      )
    )
  return call.pipe(
    Effect.tap((a) => record(outcome(a))),
    Effect.tapError((e) => record(`failed:${e._tag}`, e.exchange))
  )
}

/** What the workflow's behaviour needs. */
export type Requirements =
  | StepRequirements
  | WorkflowEngine.WorkflowEngine
  | CurrentFlows
  | Ledger.Ledger
  | Audit.Audit
  | StockPublisher
  | Parcels.Parcels

/** The workflow's behaviour. */
export const layer: Layer.Layer<never, never, Requirements> = FulfilmentWorkflow.toLayer((payload) =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const flows = yield* CurrentFlows
    const { connection, orderId, fulfiller, order } = payload
    const context: DeadContext = {
      workflow: name,
      payload: Schema.encodeSync(FulfilmentPayload)(payload),
      executionKey: executionKey(payload),
      subject: `order ${orderId}`
    }
    const reference = parcelReference(connection, orderId)
    const defaults = fulfilmentDefaults(flows, fulfiller)

    const request = parcelRequest(order, reference, defaults)
    const state = ledgerState(connection, orderId)
    /** Keeps the parcel in the parcels record (a step's storage failure is retried like a partner's). */
    const keep = (parcel: typeof Parcel.Type, status: Shipment.ShipmentStatus, label?: Shipment.Label) =>
      Effect.flatMap(Parcels.Parcels, (store) =>
        store.record({
          orderConnection: connection,
          orderId,
          fulfiller,
          reference,
          externalId: parcel.externalId,
          carrier: parcel.carrier,
          trackingNumber: parcel.trackingNumber === "" ? undefined : parcel.trackingNumber,
          status,
          label
        })
      ).pipe(Effect.mapError(storage(fulfiller)))
    // One activity: the reservation is checked just before the parcel is created and right after
    // it (a cancellation may have released it in between), so a re-run repeats all three.
    const creation = yield* partnerStep({
      name: "create-parcel",
      connection: fulfiller,
      lane: "high",
      success: Creation,
      context,
      call: Effect.gen(function* () {
        const before = yield* state
        if (before !== "held") return { _tag: "Skipped" as const, state: before }
        if (request === undefined) {
          return yield* Effect.fail(
            new ConnectorError.Rejected({
              connection,
              code: "no_address",
              message: `order ${orderId} carries no delivery address; the channel has not disclosed it`
            })
          )
        }
        const shipments = yield* capability(registry, fulfiller, "shipment.create")
        const parcel = yield* audited(
          shipments.create(request),
          {
            connection: fulfiller,
            operation: "shipment.create",
            subject: orderId,
            idempotencyKey: reference,
            request: { order: orderId, service: request.service, weightGrams: request.weightGrams }
          },
          (p) => `created ${p.externalId}${p.trackingNumber ? ` ${p.trackingNumber}` : " (tracking pending)"}`
        )
        yield* keep(parcel, "created")
        const after = yield* state
        return { _tag: "Created" as const, parcel, released: after === "released" }
      })
    })
    if (creation._tag === "Skipped") {
      const outcomes = { none: "not_reserved", released: "cancelled", committed: "already_shipped" } as const
      return { outcome: outcomes[creation.state === "held" ? "none" : creation.state] }
    }
    if (creation.released) {
      yield* partnerStep({
        name: "cancel-parcel",
        connection: fulfiller,
        lane: "high",
        success: Schema.Literal("cancelled", "too_late", "absent"),
        context,
        call: Effect.flatMap(capability(registry, fulfiller, "shipment.create"), (shipments) =>
          shipments.cancel(reference).pipe(
            Effect.as("cancelled" as const),
            Effect.catchTags({
              Rejected: () => Effect.succeed("too_late" as const),
              NotFound: () => Effect.succeed("absent" as const)
            }),
            Effect.tap((outcome) => (outcome === "cancelled" ? keep(creation.parcel, "cancelled") : Effect.void))
          )
        )
      })
      return { outcome: "cancelled" as const, reference }
    }
    const created = creation.parcel

    let parcel = created
    const every = defaults.trackingPollEvery
    const polls = Math.max(
      1,
      Math.ceil(Duration.toMillis(defaults.trackingTimeout) / Math.max(1, Duration.toMillis(every)))
    )
    for (let i = 0; parcel.trackingNumber === undefined || parcel.trackingNumber === ""; i++) {
      if (i >= polls) {
        return yield* giveUp({
          name: "await-tracking",
          connection: fulfiller,
          reason: "retry_exhausted",
          error: new ConnectorError.Transient({
            connection: fulfiller,
            message: `parcel ${reference} still has no tracking number after ${polls} checks`
          }),
          attempts: polls,
          context
        })
      }
      yield* waitFor(`tracking-wait-${i}`, every)
      const asked = parcel
      parcel = yield* partnerStepOr({
        name: `parcel-get-${i}`,
        connection: fulfiller,
        lane: "high",
        success: Parcel,
        context,
        call: Effect.flatMap(capability(registry, fulfiller, "shipment.create"), (shipments) =>
          shipments.get(reference).pipe(Effect.tap((p) => (p.trackingNumber ? keep(p, "created") : Effect.void)))
        ),
        // A provider still processing the parcel may not know it yet: that is "no number yet",
        // asked again at the next check until the tracking timeout, not a dead letter.
        orElse: (dead) => (dead.exhausted ? Option.some(Effect.succeed(asked)) : Option.none())
      })
    }
    const trackingNumber = parcel.trackingNumber!

    const origin = yield* registry.get(connection).pipe(Effect.orDie)
    const writeBack = payload.trackingBack && origin.manifest.capabilities.includes("fulfillment.push")
    // One activity: tracking onto the channel, then the reservation committed (the units left). A
    // re-run writes again under the same idempotency key and commits once.
    yield* partnerStep({
      name: writeBack ? "write-tracking" : "commit",
      connection,
      lane: "high",
      success: Schema.Struct({ alreadyShipped: Schema.Boolean, committed: Schema.Array(Schema.String) }),
      context,
      call: Effect.gen(function* () {
        let alreadyShipped = false
        if (writeBack) {
          const fulfilment = yield* capability(registry, connection, "fulfillment.push")
          const shipped = yield* audited(
            fulfilment.ship({
              orderId,
              carrier: parcel.carrier,
              trackingNumber,
              idempotencyKey: shipKey(connection, orderId)
            }),
            {
              connection,
              operation: "fulfillment.push",
              subject: orderId,
              idempotencyKey: shipKey(connection, orderId),
              request: { carrier: parcel.carrier, trackingNumber }
            },
            (r) => (r.alreadyShipped ? "already_shipped" : "shipped")
          )
          alreadyShipped = shipped.alreadyShipped
        }
        const committed = yield* commit(connection, orderId, trackingNumber)
        return { alreadyShipped, committed }
      })
    })
    if (defaults.labels) {
      // Journaled as a word, not the label: a PDF does not belong in the workflow's journal.
      yield* partnerStepOr({
        name: "label",
        connection: fulfiller,
        lane: "high",
        success: Schema.Literal("labelled", "missing"),
        context,
        call: Effect.flatMap(capability(registry, fulfiller, "shipment.create"), (shipments) =>
          Effect.flatMap(shipments.label(reference), (label) => keep(parcel, "labelled", label))
        ).pipe(Effect.as("labelled" as const)),
        // Providers wait for the label to render inside the call: one more try is enough.
        policy: { maxAttempts: 2 },
        orElse: (dead) =>
          Option.some(
            Effect.flatMap(EngineAlerts, (alerts) =>
              alerts.raise({
                code: "label_missing",
                connection: fulfiller,
                subject: orderId,
                message: `${fulfiller}: no label for parcel ${reference} (order ${orderId}): ${dead.error.message}; the tracking number is on the channel, print the label from ${fulfiller}'s console`
              })
            ).pipe(Effect.as("missing" as const))
          )
      })
    }
    return { outcome: "shipped" as const, reference, carrier: parcel.carrier, trackingNumber }
  }).pipe(
    Effect.catchTag("StepDead", (e: StepDead) => Effect.succeed({ outcome: "dead" as const, step: e.step })),
    Effect.annotateLogs({ workflow: "fulfilment", connection: payload.connection, order: payload.orderId })
  )
)
