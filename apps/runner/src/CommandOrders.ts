/**
 * CommandOrders: `tkbridge orders` — recent orders as the pool sees them: their lines' reservations
 * (held, committed when the parcel left, released when cancelled or expired), the parcel booked at
 * the fulfilment connection and the tracking number written back to the channel, from the audit
 * trail of those writes, and each parcel as the parcels record keeps it (tracking number, label,
 * the carrier's latest scan, delivered or not).
 *
 * The ledger port answers one order's reservations; which orders are recent is read here from the
 * reservation table itself (newest first, read-only), the one query the port does not offer. A
 * released order was cancelled, or was unpaid past its hold (`tkbridge audit --listing <order>`).
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { SqlClient } from "@effect/sql"
import type { Reservation, StoreError } from "@tkbridge/core"
import { Audit, Ledger, Parcels } from "@tkbridge/core"
import { Clock, Effect, Option, Schema } from "effect"
import { CliFailure, configOption, jsonOption, limitOption, optionalOption, withStoreConfig } from "./CliCommon.ts"
import { ago } from "./CommandDlq.ts"
import * as OpsStore from "./OpsStore.ts"
import type { OutputShape } from "./Output.ts"
import { emit, paint, table } from "./Output.ts"

/** Where an order stands. */
export const OrderState = Schema.Literal("reserved", "partly shipped", "shipped", "released", "mixed")
/** @since 0.1.0 */
export type OrderState = typeof OrderState.Type

/** One order with its reservations and fulfilment. */
export interface OrderRow {
  readonly connection: string
  readonly orderId: string
  readonly receivedAt: Date
  readonly state: OrderState
  readonly lines: ReadonlyArray<{
    readonly item: string
    readonly qty: number
    readonly state: Reservation.ReservationState
  }>
  readonly parcel?: { readonly connection: string; readonly outcome: string; readonly at: Date } | undefined
  readonly tracking?: { readonly outcome: string; readonly at: Date } | undefined
  /** The order's parcels as the parcels record keeps them (labels as links only, never their bytes). */
  readonly parcels: ReadonlyArray<ParcelRow>
}

/** A parcel of an order. */
export interface ParcelRow {
  readonly fulfiller: string
  readonly reference: string
  readonly carrier: string
  readonly trackingNumber?: string | undefined
  readonly status: string
  readonly label?: { readonly format: string; readonly url?: string | undefined } | undefined
  readonly lastEvent?: { readonly status: string; readonly description: string; readonly at: Date } | undefined
  readonly deliveredAt?: Date | undefined
}

const parcelRow = (p: Parcels.ParcelRecord): ParcelRow => ({
  fulfiller: p.fulfiller,
  reference: p.reference,
  carrier: p.carrier,
  trackingNumber: p.trackingNumber,
  status: p.status,
  label: p.label === undefined ? undefined : { format: p.label.format, url: p.label.url },
  lastEvent:
    p.lastEvent === undefined
      ? undefined
      : { status: p.lastEvent.status, description: p.lastEvent.description, at: p.lastEvent.occurredAt },
  deliveredAt: p.deliveredAt
})

const RecentOrder = Schema.Struct({
  connection: Schema.String,
  order_id: Schema.String,
  last: Schema.Number
})

/** The keys of the most recently changed orders (newest first). */
const recent = (filter: { readonly connection?: string | undefined; readonly limit: number }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`SELECT connection, order_id, MAX(updated_at) AS last FROM tkb_reservations
      ${filter.connection !== undefined ? sql`WHERE connection = ${filter.connection}` : sql``}
      GROUP BY connection, order_id ORDER BY last DESC LIMIT ${filter.limit}`
    return yield* Schema.decodeUnknown(Schema.Array(RecentOrder))(rows)
  })

/** An order's state from its reservation rows (released: cancelled, or unpaid past its hold). */
export const stateOf = (rows: ReadonlyArray<Reservation.Reservation>): OrderState => {
  const states = new Set(rows.map((r) => r.state))
  if (states.size === 1 && states.has("held")) return "reserved"
  if (states.size === 1 && states.has("committed")) return "shipped"
  if (states.size === 1 && states.has("released")) return "released"
  if (states.has("committed") && states.has("held")) return "partly shipped"
  return "mixed"
}

/** Reads recent orders. */
export const report = (filter: {
  readonly connection?: string | undefined
  readonly state?: OrderState | undefined
  readonly limit: number
}): Effect.Effect<
  ReadonlyArray<OrderRow>,
  Ledger.LedgerUnavailable | StoreError.StoreError | CliFailure,
  Ledger.Ledger | Audit.Audit | Parcels.Parcels | SqlClient.SqlClient
> =>
  Effect.gen(function* () {
    const ledger = yield* Ledger.Ledger
    const audit = yield* Audit.Audit
    const parcels = yield* Parcels.Parcels
    const keys = yield* recent({
      connection: filter.connection,
      limit: filter.state === undefined ? filter.limit : filter.limit * 10
    }).pipe(Effect.mapError((e) => new CliFailure({ message: `cannot read recent orders: ${e.message}`, exitCode: 1 })))
    const rows = yield* Effect.forEach(keys, (k) =>
      Effect.gen(function* () {
        const reservations = yield* ledger.reservations(k.connection, k.order_id)
        const writes = yield* audit.list({ subject: k.order_id, kind: "write", limit: 20 })
        const parcel = writes.find((w) => w.action === "shipment.create")
        const tracking = writes.find((w) => w.action === "fulfillment.push" && w.connection === k.connection)
        const kept = yield* parcels.ofOrder(k.connection, k.order_id)
        return {
          connection: k.connection,
          orderId: k.order_id,
          receivedAt: new Date(Math.min(k.last, ...reservations.map((r) => r.createdAt.getTime()))),
          state: stateOf(reservations),
          lines: reservations.map((r) => ({ item: r.item, qty: r.qty, state: r.state })),
          parcel:
            parcel === undefined
              ? undefined
              : { connection: parcel.connection ?? "", outcome: parcel.outcome ?? "", at: parcel.at },
          tracking: tracking === undefined ? undefined : { outcome: tracking.outcome ?? "", at: tracking.at },
          parcels: kept.map(parcelRow)
        } satisfies OrderRow
      })
    )
    return rows.filter((r) => filter.state === undefined || r.state === filter.state).slice(0, filter.limit)
  })

const stateText = (out: OutputShape, s: OrderState) =>
  s === "shipped"
    ? paint(out, "green", s)
    : s === "released"
      ? paint(out, "gray", s)
      : s === "mixed"
        ? paint(out, "yellow", s)
        : s

/** A parcel for people: where it is, by its tracking number, and whether its label is there. */
const parcelText = (out: OutputShape, p: ParcelRow): string => {
  const where = p.status === "delivered" ? paint(out, "green", "delivered") : p.status
  const scan = p.lastEvent !== undefined && p.status !== "delivered" ? ` (${p.lastEvent.description})` : ""
  const label = p.label === undefined && p.status !== "cancelled" ? paint(out, "yellow", " no label") : ""
  return `${p.fulfiller}: ${p.trackingNumber ?? p.reference} ${where}${scan}${label}`
}

/** Orders for people. */
export const render = (out: OutputShape, now: number, rows: ReadonlyArray<OrderRow>): string => {
  if (rows.length === 0) return "No orders yet.\n"
  return table(
    out,
    [
      { header: "CHANNEL" },
      { header: "ORDER" },
      { header: "AGE", align: "right" },
      { header: "STATE" },
      { header: "ITEMS" },
      { header: "PARCEL" },
      { header: "TRACKING BACK" }
    ],
    rows.map((r) => [
      r.connection,
      r.orderId,
      ago(now, r.receivedAt),
      stateText(out, r.state),
      r.lines.map((l) => `${l.qty}×${l.item}`).join(" "),
      r.parcels.length > 0
        ? r.parcels.map((p) => parcelText(out, p)).join(" ")
        : r.parcel === undefined
          ? paint(out, "gray", "-")
          : r.parcel.outcome.startsWith("failed")
            ? paint(out, "red", `${r.parcel.connection}: ${r.parcel.outcome}`)
            : `${r.parcel.connection}: ${r.parcel.outcome}`,
      r.tracking === undefined
        ? paint(out, "gray", "-")
        : r.tracking.outcome.startsWith("failed")
          ? paint(out, "red", r.tracking.outcome)
          : r.tracking.outcome.replace("_", " ")
    ])
  )
}

/** `tkbridge orders`. */
export const command = Command.make(
  "orders",
  {
    config: configOption,
    json: jsonOption,
    connection: optionalOption(Options.text("connection"), "only this channel"),
    state: optionalOption(Options.choice("state", OrderState.literals), "only orders in this state"),
    limit: limitOption(50)
  },
  (input) =>
    withStoreConfig(input, (loaded) =>
      Effect.gen(function* () {
        const rows = yield* OpsStore.withRead(
          loaded,
          report({
            connection: Option.getOrUndefined(input.connection),
            state: Option.getOrUndefined(input.state),
            limit: Math.max(1, input.limit)
          })
        )
        const now = yield* Clock.currentTimeMillis
        yield* emit(
          (out) => render(out, now, rows),
          () => ({ orders: rows })
        )
      })
    )
).pipe(Command.withDescription("recent orders: reservations, the parcel booked and tracking written back"))
