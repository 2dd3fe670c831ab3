/**
 * CancellationWorkflow: the after-sales side of a cancelled order that was already handed to (or on
 * its way to) a fulfilment connection. It releases the order's held stock (idempotent: the inbox
 * processor normally did so in the transaction that recorded the cancellation) and cancels the parcel
 * at the fulfilment connection while the provider still allows it. A parcel the carrier already
 * collected cannot be cancelled: that is recorded in the audit trail and the operator is alerted, the
 * workflow does not fail.
 *
 * A parcel created after this ran (the fulfilment workflow was mid-flight) is cancelled by the
 * fulfilment workflow itself, which checks the reservation again right after creating it.
 *
 * @since 0.1.0
 */
import type { WorkflowEngine } from "@effect/workflow"
import { Workflow } from "@effect/workflow"
import { Audit, ConnectorError, Ids, Ledger } from "@tkbridge/core"
import type { Layer } from "effect"
import { Effect, Schema } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import { parcelReference } from "./FulfilmentWorkflow.ts"
import { StockPublisher } from "./StockPublisher.ts"
import type { DeadContext, StepDead, StepRequirements } from "./WorkflowSteps.ts"
import { localStep, partnerStep } from "./WorkflowSteps.ts"

/** What the workflow is started with. */
export const CancellationPayload = Schema.Struct({
  connection: Ids.ConnectionId,
  orderId: Ids.ExternalId,
  fulfiller: Ids.ConnectionId,
  generation: Schema.Int.pipe(Schema.nonNegative())
})
/** What the workflow is started with. */
export type CancellationPayload = typeof CancellationPayload.Type

/** How it ended. */
export const CancellationResult = Schema.Struct({
  outcome: Schema.Literal("cancelled", "too_late", "no_parcel", "dead"),
  step: Schema.optional(Schema.String)
})

/** The name `WorkflowStarter` starts it by. */
export const name = "cancellation"

/** The execution key of a payload. */
export const executionKey = (p: {
  readonly connection: string
  readonly orderId: string
  readonly generation: number
}) => `${p.connection}/${p.orderId}/cancel#${p.generation}`

/** The workflow. */
export const CancellationWorkflow = Workflow.make({
  name: "tkbridge/OrderCancellation",
  payload: CancellationPayload,
  success: CancellationResult,
  idempotencyKey: executionKey
})

/** What the workflow's behaviour needs. */
export type Requirements =
  | StepRequirements
  | WorkflowEngine.WorkflowEngine
  | Ledger.Ledger
  | Audit.Audit
  | StockPublisher

/** The workflow's behaviour. */
export const layer: Layer.Layer<never, never, Requirements> = CancellationWorkflow.toLayer((payload) =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const { connection, orderId, fulfiller } = payload
    const context: DeadContext = {
      workflow: name,
      payload: Schema.encodeSync(CancellationPayload)(payload),
      executionKey: executionKey(payload),
      subject: `cancellation of order ${orderId}`
    }
    const reference = parcelReference(connection, orderId)

    yield* localStep({
      name: "release",
      connection,
      success: Schema.Array(Schema.String),
      context,
      execute: Effect.flatMap(StockPublisher, (publisher) =>
        publisher.run(
          Effect.flatMap(Ledger.Ledger, (ledger) =>
            ledger.release({ connection, orderId }, { actor: "engine", reason: "order cancelled" }).pipe(
              Effect.map((r) => ({ value: r.lines, changed: r.changed })),
              Effect.catchTag("UnknownOrder", () => Effect.succeed({ value: [] as ReadonlyArray<string>, changed: [] }))
            )
          ),
          { actor: "engine", cause: `order ${orderId} cancelled` }
        )
      )
    })

    const outcome = yield* partnerStep({
      name: "cancel-parcel",
      connection: fulfiller,
      lane: "high",
      success: Schema.Literal("cancelled", "too_late", "no_parcel"),
      context,
      call: Effect.gen(function* () {
        const shipments = yield* registry
          .capability(fulfiller, "shipment.create")
          .pipe(
            Effect.mapError(
              (e) =>
                new ConnectorError.Rejected({ connection: fulfiller, code: "capability_missing", message: e.message })
            )
          )
        return yield* shipments.cancel(reference).pipe(
          Effect.as("cancelled" as const),
          Effect.catchTags({
            // The provider refuses once the carrier has the parcel.
            Rejected: () => Effect.succeed("too_late" as const),
            NotFound: () => Effect.succeed("no_parcel" as const)
          })
        )
      })
    })

    yield* localStep({
      name: "record",
      connection: fulfiller,
      success: Schema.Void,
      context,
      execute: Effect.gen(function* () {
        const audit = yield* Audit.Audit
        yield* audit.append(
          Audit.outboundWrite({
            connection: fulfiller,
            operation: "shipment.cancel",
            subject: orderId,
            idempotencyKey: reference,
            outcome
          })
        )
        if (outcome === "too_late") {
          const alerts = yield* EngineAlerts
          yield* alerts.raise({
            code: "parcel_not_cancelled",
            connection,
            subject: orderId,
            message: `order ${orderId} on ${connection} was cancelled after ${fulfiller} collected parcel ${reference}; intercept or return it by hand`
          })
        }
      })
    })
    return { outcome }
  }).pipe(
    Effect.catchTag("StepDead", (e: StepDead) => Effect.succeed({ outcome: "dead" as const, step: e.step })),
    Effect.annotateLogs({ workflow: "cancellation", connection: payload.connection, order: payload.orderId })
  )
)
