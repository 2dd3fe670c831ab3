/**
 * ParcelTracking: follows parcels on their way. For a fulfilment connection that offers
 * `tracking.pull`, each pass reads the carrier's events of the parcels in the parcels record that
 * have a tracking number, are not delivered, cancelled or failed, and were not tracked within the
 * cadence — never-tracked first — and stores them (`Parcels.track`: repeated events are no-ops, the
 * first scan marks the parcel shipped, a delivery marks it delivered). A parcel whose newest event is
 * an exception or a return raises a `parcel_exception` alert: the seller hears of it before the buyer
 * complains.
 *
 * One partner call per tracking number, in the `normal` lane (each spends one unit of the quota, as
 * providers that answer one number per request count them); a call that does not succeed leaves its
 * parcel for the next pass.
 *
 * @since 0.1.0
 */
import type { StoreError } from "@tkbridge/core"
import { Parcels } from "@tkbridge/core"
import { Duration, Effect } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import type { EngineFlows } from "./EngineFlows.ts"
import { CurrentFlows, fulfilmentDefaults } from "./EngineFlows.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

/** What one pass did. */
export interface PassReport {
  /** Parcels asked about. */
  readonly tracked: number
  /** New events stored. */
  readonly events: number
  /** Parcels that reached `delivered` in this pass. */
  readonly delivered: number
  /** Parcels left for the next pass (their call did not succeed). */
  readonly skipped: number
}

/** Parcels asked about per pass and fulfilment connection. */
export const passLimit = 200

/** A pass's calls give up early: the parcel is asked again at the next pass. */
const passPolicy: Partial<RetryPolicy.Options> = { maxAttempts: 2 }

/** The fulfilment connections of the order flows. */
export const fulfillers = (flows: EngineFlows): ReadonlyArray<string> => [
  ...new Set(flows.orders.flatMap((f) => (f.fulfilment === undefined ? [] : [f.fulfilment])))
]

/** One tracking pass over a fulfilment connection's parcels on their way. */
export const pull = (
  fulfiller: string
): Effect.Effect<
  PassReport,
  StoreError.StoreError,
  PartnerCall.Requirements | Parcels.Parcels | CurrentFlows | EngineAlerts | EngineClock.EngineClock
> =>
  Effect.gen(function* () {
    const none = { tracked: 0, events: 0, delivered: 0, skipped: 0 }
    const registry = yield* ConnectionRegistry
    const entry = registry.all.find((c) => c.id === fulfiller)
    if (entry === undefined || !entry.manifest.capabilities.includes("tracking.pull")) return none
    const tracking = yield* registry.capability(fulfiller, "tracking.pull").pipe(Effect.orDie)
    const parcels = yield* Parcels.Parcels
    const alerts = yield* EngineAlerts
    const flows = yield* CurrentFlows
    const every = Duration.toMillis(fulfilmentDefaults(flows, fulfiller).trackingEventsEvery)
    const now = yield* EngineClock.now
    // Half a cadence of slack: a pass that ran a little late does not skip a parcel a whole round.
    const due = yield* parcels.dueForTracking(fulfiller, { before: new Date(now - every / 2), limit: passLimit })
    let events = 0
    let delivered = 0
    let skipped = 0
    for (const parcel of due) {
      const number = parcel.trackingNumber
      if (number === undefined) continue
      const outcome = yield* PartnerCall.run(fulfiller, "normal", tracking.track([number]), passPolicy)
      if (outcome._tag !== "Succeeded") {
        skipped++
        yield* Effect.logInfo(
          `tracking of ${number} at ${fulfiller} waits for the next pass: ${RetryPolicy.describe(outcome)}`
        )
        continue
      }
      const own = outcome.value.filter((e) => e.trackingNumber === number)
      const at = yield* EngineClock.nowDate
      const stored = yield* parcels.track(fulfiller, number, own, at)
      events += stored.added
      if (stored.status === "delivered" && parcel.status !== "delivered") delivered++
      const newest = own.reduce<(typeof own)[number] | undefined>(
        (latest, e) => (latest === undefined || e.occurredAt > latest.occurredAt ? e : latest),
        undefined
      )
      if (stored.added > 0 && newest !== undefined && (newest.status === "exception" || newest.status === "returned")) {
        yield* alerts.raise({
          code: "parcel_exception",
          connection: fulfiller,
          subject: parcel.orderId,
          message: `${fulfiller}: parcel ${number} for order ${parcel.orderId} (${parcel.orderConnection}) reports "${newest.description}" (${newest.status}, carrier code ${newest.rawCode})`
        })
      }
    }
    return { tracked: due.length, events, delivered, skipped }
  })
