/**
 * EngineAlerts: what the engine tells the operator — a connection that needs re-authorization, an
 * authorization about to expire, work that landed in the dead-letter queue, an order the pool could
 * not cover. Alerts are logged at warning level and kept (the latest per code and subject) for the
 * status snapshot; the runner can add its own sink (e-mail, a webhook) with `layerWith`.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Ref } from "effect"

/** What an alert is about. */
export type AlertCode =
  | "needs_reauth"
  | "authorization_expiring"
  | "dead_letters"
  | "order_not_reserved"
  | "parcel_not_cancelled"
  | "label_missing"
  | "parcel_exception"
  | "suspended"
  | "messages_stalled"

/** One alert. */
export interface Alert {
  readonly code: AlertCode
  readonly connection?: string | undefined
  /** What exactly: an order id, a count … */
  readonly subject?: string | undefined
  readonly message: string
  readonly at: Date
}

/** Raises and lists alerts. */
export interface EngineAlertsShape {
  readonly raise: (alert: Omit<Alert, "at">) => Effect.Effect<void>
  /** The latest alert per (code, connection, subject), newest first. */
  readonly recent: Effect.Effect<ReadonlyArray<Alert>>
}

/** The operator's alerts. */
export class EngineAlerts extends Context.Tag("@tkbridge/engine/EngineAlerts")<EngineAlerts, EngineAlertsShape>() {}

const keep = 200

/** Alerts logged and kept in memory; `sink` also receives each one (default: nothing more). */
export const make = (sink: (alert: Alert) => Effect.Effect<void> = () => Effect.void) =>
  Effect.map(
    Ref.make(new Map<string, Alert>()),
    (store): EngineAlertsShape => ({
      raise: (input) =>
        Effect.gen(function* () {
          const alert: Alert = { ...input, at: new Date() }
          const key = `${alert.code}\u0000${alert.connection ?? ""}\u0000${alert.subject ?? ""}`
          yield* Ref.update(store, (m) => {
            const next = new Map(m)
            next.delete(key)
            next.set(key, alert)
            while (next.size > keep) next.delete(next.keys().next().value as string)
            return next
          })
          yield* Effect.logWarning(alert.message).pipe(
            Effect.annotateLogs({ alert: alert.code, connection: alert.connection ?? "", subject: alert.subject ?? "" })
          )
          yield* sink(alert)
        }),
      recent: Effect.map(Ref.get(store), (m) => [...m.values()].reverse())
    })
  )

/** Alerts that are logged and kept for the status snapshot. */
export const layer: Layer.Layer<EngineAlerts> = Layer.effect(EngineAlerts, make())

/** Alerts that are also handed to `sink`. */
export const layerWith = (sink: (alert: Alert) => Effect.Effect<void>): Layer.Layer<EngineAlerts> =>
  Layer.effect(EngineAlerts, make(sink))
