/**
 * SqlParcels: the parcels record (`Parcels` port of @tkbridge/core) on SQLite and PostgreSQL.
 *
 * `record` is one upsert on (fulfiller, reference) whose status only moves forward (a `CASE` over
 * `Parcels.statusRank`), so concurrent and replayed reports of one parcel converge on one row with
 * the most advanced status, whatever order they commit in. `track` opens with the write that stamps
 * `tracked_at` — which also tells whether the tracking number is known — then inserts the events
 * with `ON CONFLICT DO NOTHING` on (fulfiller, tracking number, raw code, time) and copies the newest
 * one onto the parcel row, so listing parcels never needs a join.
 *
 * `tracked_at` 0 stands for "never tracked": never-tracked parcels sort first on the same index.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { Parcels as ParcelsPort } from "@tkbridge/core"
import { Parcels, Shipment, TrackingEvent } from "@tkbridge/core"
import { Array as Arr, Clock, Effect, Layer, Order } from "effect"
import { optional, optionalDate, safeText, storeErrors } from "./internal/sync.ts"

interface ParcelRow {
  readonly fulfiller: string
  readonly reference: string
  readonly order_connection: string
  readonly order_id: string
  readonly external_id: string | null
  readonly carrier: string
  readonly tracking_number: string | null
  readonly status: Shipment.ShipmentStatus
  readonly label_format: Shipment.Label["format"] | null
  readonly label_url: string | null
  readonly label_base64: string | null
  readonly created_at: number
  readonly updated_at: number
  readonly tracked_at: number
  readonly delivered_at: number | null
  readonly last_event_at: number | null
  readonly last_event_carrier: string | null
  readonly last_event_status: TrackingEvent.TrackingStatus | null
  readonly last_event_code: string | null
  readonly last_event_description: string | null
  readonly last_event_location: string | null
}

interface EventRow {
  readonly id: number
  readonly tracking_number: string
  readonly carrier: string
  readonly status: TrackingEvent.TrackingStatus
  readonly raw_code: string
  readonly description: string
  readonly occurred_at: number
  readonly location: string | null
}

const toEvent = (r: Omit<EventRow, "id">): TrackingEvent.TrackingEvent =>
  new TrackingEvent.TrackingEvent({
    trackingNumber: r.tracking_number,
    carrier: r.carrier,
    status: r.status,
    rawCode: r.raw_code,
    description: r.description,
    occurredAt: new Date(Number(r.occurred_at)),
    ...(r.location !== null ? { location: r.location } : {})
  })

const toLabel = (r: ParcelRow): Shipment.Label | undefined =>
  r.label_format === null
    ? undefined
    : new Shipment.Label({
        format: r.label_format,
        ...(r.label_url !== null ? { url: r.label_url } : {}),
        ...(r.label_base64 !== null ? { base64: r.label_base64 } : {})
      })

const toRecord = (r: ParcelRow): ParcelsPort.ParcelRecord => ({
  orderConnection: r.order_connection,
  orderId: r.order_id,
  fulfiller: r.fulfiller,
  reference: r.reference,
  externalId: optional(r.external_id),
  carrier: r.carrier,
  trackingNumber: optional(r.tracking_number),
  status: r.status,
  label: toLabel(r),
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
  trackedAt: Number(r.tracked_at) > 0 ? new Date(Number(r.tracked_at)) : undefined,
  lastEvent:
    r.last_event_at === null || r.tracking_number === null
      ? undefined
      : toEvent({
          tracking_number: r.tracking_number,
          carrier: r.last_event_carrier ?? r.carrier,
          status: r.last_event_status ?? "in_transit",
          raw_code: r.last_event_code ?? "",
          description: r.last_event_description ?? "",
          occurred_at: r.last_event_at,
          location: r.last_event_location
        }),
  deliveredAt: optionalDate(r.delivered_at)
})

const byTime = Order.mapInput(Order.number, (e: TrackingEvent.TrackingEvent) => e.occurredAt.getTime())

// Parcels sharing a tracking number (a re-booked reference) answer with the furthest along.
const mostAdvanced = (
  rows: ReadonlyArray<{ readonly status: Shipment.ShipmentStatus }>
): Shipment.ShipmentStatus | undefined =>
  rows.reduce<Shipment.ShipmentStatus | undefined>(
    (acc, r) => (acc === undefined ? r.status : Parcels.advance(acc, r.status)),
    undefined
  )

// Generated from the port's table so the SQL and `Parcels.advance` cannot disagree; the statuses are
// a closed set of literals, never input.
const rankSql = (column: string): string =>
  `CASE ${column} ${Object.entries(Parcels.statusRank)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(" ")} END`

/** Builds the parcels record over the current `SqlClient`. */
export const make: Effect.Effect<ParcelsPort.ParcelsShape, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const storedRank = sql.literal(rankSql("tkb_parcels.status"))
  const givenRank = sql.literal(rankSql("excluded.status"))

  const record: ParcelsPort.ParcelsShape["record"] = (input) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      // A label is one value: a new one replaces format, url and base64 together.
      yield* sql`INSERT INTO tkb_parcels
          (fulfiller, reference, order_connection, order_id, external_id, carrier, tracking_number, status,
           label_format, label_url, label_base64, created_at, updated_at, delivered_at)
        VALUES (${input.fulfiller}, ${input.reference}, ${input.orderConnection}, ${input.orderId},
          ${input.externalId ?? null}, ${safeText(input.carrier)}, ${input.trackingNumber ?? null}, ${input.status},
          ${input.label?.format ?? null}, ${input.label?.url ?? null}, ${input.label?.base64 ?? null},
          ${now}, ${now}, ${input.status === "delivered" ? now : null})
        ON CONFLICT (fulfiller, reference) DO UPDATE SET
          order_connection = excluded.order_connection,
          order_id = excluded.order_id,
          external_id = COALESCE(excluded.external_id, tkb_parcels.external_id),
          carrier = excluded.carrier,
          tracking_number = COALESCE(excluded.tracking_number, tkb_parcels.tracking_number),
          tracked_at = CASE WHEN excluded.tracking_number <> tkb_parcels.tracking_number THEN 0
            ELSE tkb_parcels.tracked_at END,
          status = CASE WHEN ${givenRank} > ${storedRank} THEN excluded.status ELSE tkb_parcels.status END,
          label_format = COALESCE(excluded.label_format, tkb_parcels.label_format),
          label_url = CASE WHEN excluded.label_format IS NULL THEN tkb_parcels.label_url ELSE excluded.label_url END,
          label_base64 = CASE WHEN excluded.label_format IS NULL THEN tkb_parcels.label_base64
            ELSE excluded.label_base64 END,
          updated_at = excluded.updated_at,
          delivered_at = COALESCE(tkb_parcels.delivered_at, excluded.delivered_at)`
    }).pipe(storeErrors("parcels.record"))

  const ofOrder: ParcelsPort.ParcelsShape["ofOrder"] = (orderConnection, orderId) =>
    sql<ParcelRow>`SELECT * FROM tkb_parcels WHERE order_connection = ${orderConnection} AND order_id = ${orderId}
      ORDER BY created_at, fulfiller, reference`.pipe(
      Effect.map((rows) => rows.map(toRecord)),
      storeErrors("parcels.ofOrder")
    )

  const dueForTracking: ParcelsPort.ParcelsShape["dueForTracking"] = (fulfiller, input) =>
    // The predicate repeats the partial index `tkb_parcels_due` word for word so PostgreSQL uses it.
    sql<ParcelRow>`SELECT * FROM tkb_parcels
      WHERE fulfiller = ${fulfiller} AND tracked_at < ${input.before.getTime()}
        AND tracking_number IS NOT NULL AND status IN ('created', 'labelled', 'shipped')
      ORDER BY tracked_at, created_at, reference
      LIMIT ${Math.max(0, Math.floor(input.limit))}`.pipe(
      Effect.map((rows) => rows.map(toRecord)),
      storeErrors("parcels.dueForTracking")
    )

  const track: ParcelsPort.ParcelsShape["track"] = (fulfiller, trackingNumber, events, at) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const ofNumber = sql`fulfiller = ${fulfiller} AND tracking_number = ${trackingNumber}`
      // The first statement writes, so SQLite holds the write lock (and PostgreSQL the parcel rows)
      // before anything is read.
      const known = yield* sql<{ status: Shipment.ShipmentStatus }>`UPDATE tkb_parcels
        SET tracked_at = ${at.getTime()}, updated_at = ${now} WHERE ${ofNumber} RETURNING status`
      if (known.length === 0) return { added: 0, status: undefined }

      // Sorted so that events with the same time keep, by id, the order the carrier gave them.
      const sorted = Arr.sort(events, byTime)
      let added = 0
      for (const chunk of Arr.chunksOf(sorted, 200)) {
        const inserted = yield* sql<{ id: number }>`INSERT INTO tkb_parcel_events ${sql.insert(
          chunk.map((e) => ({
            fulfiller,
            tracking_number: trackingNumber,
            carrier: safeText(e.carrier),
            status: e.status,
            raw_code: safeText(e.rawCode),
            description: safeText(e.description),
            occurred_at: e.occurredAt.getTime(),
            location: e.location === undefined ? null : safeText(e.location)
          }))
        )}
          ON CONFLICT (fulfiller, tracking_number, raw_code, occurred_at) DO NOTHING
          RETURNING id`
        added += inserted.length
      }

      const [newest] = yield* sql<EventRow>`SELECT * FROM tkb_parcel_events WHERE ${ofNumber}
        ORDER BY occurred_at DESC, id DESC LIMIT 1`
      if (newest === undefined) {
        return { added, status: mostAdvanced(known) }
      }
      const [delivered] = yield* sql<{ at: number | null; moved: number | null }>`SELECT
          MIN(CASE WHEN status = 'delivered' THEN occurred_at END) AS at,
          MAX(CASE WHEN status <> 'info_received' THEN 1 ELSE 0 END) AS moved
        FROM tkb_parcel_events WHERE ${ofNumber}`
      const deliveredAt = delivered?.at === null || delivered?.at === undefined ? null : Number(delivered.at)
      // "Information received" is the provider booking the parcel, not the carrier holding it.
      const reached: Shipment.ShipmentStatus =
        deliveredAt !== null ? "delivered" : Number(delivered?.moved ?? 0) > 0 ? "shipped" : "created"
      const rows = yield* sql<{ status: Shipment.ShipmentStatus }>`UPDATE tkb_parcels SET
          last_event_at = ${Number(newest.occurred_at)},
          last_event_carrier = ${newest.carrier},
          last_event_status = ${newest.status},
          last_event_code = ${newest.raw_code},
          last_event_description = ${newest.description},
          last_event_location = ${newest.location},
          status = CASE WHEN ${Parcels.statusRank[reached]} > ${storedRank} THEN ${reached} ELSE status END,
          delivered_at = COALESCE(${deliveredAt}, delivered_at)
        WHERE ${ofNumber}
        RETURNING status`
      return { added, status: mostAdvanced(rows) }
    }).pipe(sql.withTransaction, storeErrors("parcels.track"))

  const events: ParcelsPort.ParcelsShape["events"] = (fulfiller, trackingNumber) =>
    sql<EventRow>`SELECT * FROM tkb_parcel_events WHERE fulfiller = ${fulfiller} AND tracking_number = ${trackingNumber}
      ORDER BY occurred_at, id`.pipe(
      Effect.map((rows) => rows.map(toEvent)),
      storeErrors("parcels.events")
    )

  const list: ParcelsPort.ParcelsShape["list"] = (filter = {}) =>
    sql<ParcelRow>`SELECT * FROM tkb_parcels WHERE ${
      filter.connection === undefined
        ? sql.literal("1=1")
        : sql`(order_connection = ${filter.connection} OR fulfiller = ${filter.connection})`
    } ORDER BY created_at DESC, fulfiller DESC, reference DESC LIMIT ${Math.max(1, Math.floor(filter.limit ?? 100))}`.pipe(
      Effect.map((rows) => rows.map(toRecord)),
      storeErrors("parcels.list")
    )

  return { record, ofOrder, dueForTracking, track, events, list }
})

/** The parcels record as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<Parcels.Parcels, never, SqlClient.SqlClient> = Layer.effect(Parcels.Parcels, make)
