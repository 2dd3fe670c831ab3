import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import type { Shipment as ShipmentModel } from "@tkbridge/core"
import { Parcels, Shipment, TrackingEvent } from "@tkbridge/core"
import { Effect, TestClock } from "effect"
import { countRows, dialects, unique } from "./support.ts"

const parcel = (
  fulfiller: string,
  reference: string,
  fields: Partial<Parcels.ParcelInput> = {}
): Parcels.ParcelInput => ({
  orderConnection: "tts-shop",
  orderId: `order-${reference}`,
  fulfiller,
  reference,
  carrier: "4PX Express",
  status: "created",
  ...fields
})

const scan = (
  trackingNumber: string,
  rawCode: string,
  status: TrackingEvent.TrackingStatus,
  at: number,
  location?: string
): TrackingEvent.TrackingEvent =>
  new TrackingEvent.TrackingEvent({
    trackingNumber,
    carrier: "4PX Express",
    status,
    rawCode,
    description: `${rawCode} at ${at}`,
    occurredAt: new Date(at),
    ...(location !== undefined ? { location } : {})
  })

const get = (fulfiller: string, reference: string) =>
  Effect.gen(function* () {
    const parcels = yield* Parcels.Parcels
    const found = (yield* parcels.list({ connection: fulfiller, limit: 1000 })).filter((p) => p.reference === reference)
    expect(found).toHaveLength(1)
    return found[0]!
  })

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlParcels (${dialect.name})`, (it) => {
    it.effect("record upserts by (fulfiller, reference): given fields replace, absent ones are kept", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const fulfiller = unique("4px")
        yield* TestClock.setTime(1_000)
        yield* parcels.record(parcel(fulfiller, "R1"))
        yield* TestClock.setTime(2_000)
        yield* parcels.record(
          parcel(fulfiller, "R1", {
            externalId: "4PX-9001",
            trackingNumber: "TN-1",
            status: "labelled",
            label: new Shipment.Label({ format: "pdf", url: "https://labels.example/1.pdf" })
          })
        )
        // A replayed booking answer: no tracking number, no label, an older status.
        yield* TestClock.setTime(3_000)
        yield* parcels.record(parcel(fulfiller, "R1", { carrier: "4PX Standard" }))
        expect(yield* get(fulfiller, "R1")).toEqual({
          orderConnection: "tts-shop",
          orderId: "order-R1",
          fulfiller,
          reference: "R1",
          externalId: "4PX-9001",
          carrier: "4PX Standard",
          trackingNumber: "TN-1",
          status: "labelled",
          label: new Shipment.Label({ format: "pdf", url: "https://labels.example/1.pdf" }),
          createdAt: new Date(1_000),
          updatedAt: new Date(3_000),
          trackedAt: undefined,
          lastEvent: undefined,
          deliveredAt: undefined
        })
        // A new label replaces the old one whole (the url does not survive next to base64).
        yield* parcels.record(
          parcel(fulfiller, "R1", { status: "labelled", label: new Shipment.Label({ format: "zpl", base64: "XlhB" }) })
        )
        expect((yield* get(fulfiller, "R1")).label).toEqual(new Shipment.Label({ format: "zpl", base64: "XlhB" }))
        expect(yield* countRows("tkb_parcels", "fulfiller", fulfiller)).toBe(1)
      })
    )

    it.effect("status never moves backwards; cancelled and failed are final except for delivered", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const fulfiller = unique("4px")
        yield* TestClock.setTime(50_000)
        const cases: ReadonlyArray<
          readonly [ReadonlyArray<ShipmentModel.ShipmentStatus>, ShipmentModel.ShipmentStatus]
        > = [
          [["created", "labelled", "shipped"], "shipped"],
          [["shipped", "labelled", "created"], "shipped"],
          [["labelled", "cancelled", "shipped", "labelled"], "cancelled"],
          [["failed", "cancelled", "created"], "failed"],
          [["cancelled", "failed"], "cancelled"],
          [["cancelled", "delivered"], "delivered"],
          [["delivered", "cancelled", "failed", "shipped", "created"], "delivered"]
        ]
        for (const [i, [statuses, expected]] of cases.entries()) {
          for (const status of statuses) yield* parcels.record(parcel(fulfiller, `S${i}`, { status }))
          const stored = yield* get(fulfiller, `S${i}`)
          expect([statuses, stored.status]).toEqual([statuses, expected])
          expect(stored.status).toBe(statuses.reduce(Parcels.advance))
          // Recorded as delivered without a scan: the time we learned it.
          expect(stored.deliveredAt).toEqual(expected === "delivered" ? new Date(50_000) : undefined)
        }
      })
    )

    it.effect("record runs inside the caller's transaction", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const sql = yield* SqlClient.SqlClient
        const fulfiller = unique("4px")
        const failed = yield* parcels
          .record(parcel(fulfiller, "T1", { orderId: "order-rolled-back" }))
          .pipe(Effect.zipRight(Effect.fail("boom" as const)), sql.withTransaction, Effect.flip)
        expect(failed).toBe("boom")
        expect(yield* parcels.ofOrder("tts-shop", "order-rolled-back")).toEqual([])
        expect(yield* countRows("tkb_parcels", "fulfiller", fulfiller)).toBe(0)
      })
    )

    it.effect(
      "dueForTracking: trackable parcels of one fulfiller, never tracked first, then oldest, at most limit",
      () =>
        Effect.gen(function* () {
          const parcels = yield* Parcels.Parcels
          const fulfiller = unique("4px")
          const other = unique("4px")
          const at = (ms: number) => TestClock.setTime(ms)
          yield* at(10_000)
          yield* parcels.record(parcel(fulfiller, "tracked-old", { trackingNumber: "TN-A", status: "labelled" }))
          yield* at(11_000)
          yield* parcels.record(parcel(fulfiller, "never-2", { trackingNumber: "TN-B", status: "shipped" }))
          yield* at(10_500)
          yield* parcels.record(parcel(fulfiller, "never-1", { trackingNumber: "TN-C" }))
          yield* parcels.record(parcel(fulfiller, "tracked-older", { trackingNumber: "TN-D", status: "shipped" }))
          yield* parcels.record(parcel(fulfiller, "tracked-recently", { trackingNumber: "TN-E", status: "shipped" }))
          yield* parcels.record(parcel(fulfiller, "no-number", { status: "labelled" }))
          yield* parcels.record(parcel(fulfiller, "delivered", { trackingNumber: "TN-F", status: "delivered" }))
          yield* parcels.record(parcel(fulfiller, "cancelled", { trackingNumber: "TN-G", status: "cancelled" }))
          yield* parcels.record(parcel(fulfiller, "failed", { trackingNumber: "TN-H", status: "failed" }))
          yield* parcels.record(parcel(other, "elsewhere", { trackingNumber: "TN-I" }))
          yield* parcels.track(fulfiller, "TN-A", [], new Date(20_000))
          yield* parcels.track(fulfiller, "TN-D", [], new Date(15_000))
          yield* parcels.track(fulfiller, "TN-E", [], new Date(30_000))

          const due = (limit: number) =>
            Effect.map(parcels.dueForTracking(fulfiller, { before: new Date(25_000), limit }), (rows) =>
              rows.map((r) => r.reference)
            )
          expect(yield* due(10)).toEqual(["never-1", "never-2", "tracked-older", "tracked-old"])
          expect(yield* due(3)).toEqual(["never-1", "never-2", "tracked-older"])
          expect(yield* due(0)).toEqual([])
          // Tracked at 20,000 is not due before 16,000.
          expect(
            (yield* parcels.dueForTracking(fulfiller, { before: new Date(16_000), limit: 10 })).map((r) => r.reference)
          ).toEqual(["never-1", "never-2", "tracked-older"])
          const trackedOld = (yield* parcels.dueForTracking(fulfiller, { before: new Date(25_000), limit: 10 }))[3]
          expect(trackedOld?.trackedAt).toEqual(new Date(20_000))
          // A new tracking number has never been tracked: it is due first (oldest parcel among those).
          yield* parcels.record(parcel(fulfiller, "tracked-old", { trackingNumber: "TN-A2", status: "labelled" }))
          expect(yield* due(10)).toEqual(["tracked-old", "never-1", "never-2", "tracked-older"])
        })
    )

    it.effect("track dedupes scans, keeps the newest as lastEvent, and marks shipped then delivered", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const fulfiller = unique("4px")
        const tn = unique("TN")
        yield* TestClock.setTime(1_000)
        yield* parcels.record(parcel(fulfiller, "P1", { trackingNumber: tn, status: "labelled" }))

        const received = scan(tn, "FPX_I_RCUK", "info_received", 2_000)
        const inTransit = scan(tn, "FPX_L_RPIF", "in_transit", 4_000, "Shenzhen, CN")
        const pickedUp = scan(tn, "FPX_C_SPLS", "picked_up", 3_000, "Shenzhen, CN")
        // The provider booking the parcel is not the carrier holding it: still labelled.
        expect(yield* parcels.track(fulfiller, tn, [received], new Date(2_500))).toEqual({
          added: 1,
          status: "labelled"
        })
        // Out of order and with a repeat inside one pull: the carrier's lists are not sorted.
        const first = yield* parcels.track(fulfiller, tn, [received, inTransit, pickedUp, received], new Date(5_000))
        expect(first).toEqual({ added: 2, status: "shipped" })
        let stored = yield* get(fulfiller, "P1")
        expect(stored.lastEvent).toEqual(inTransit)
        expect(stored.trackedAt).toEqual(new Date(5_000))
        expect(stored.deliveredAt).toBeUndefined()

        const again = yield* parcels.track(fulfiller, tn, [pickedUp, received, inTransit], new Date(6_000))
        expect(again).toEqual({ added: 0, status: "shipped" })
        expect(yield* countRows("tkb_parcel_events", "tracking_number", tn)).toBe(3)
        expect((yield* get(fulfiller, "P1")).trackedAt).toEqual(new Date(6_000))

        const delivered = scan(tn, "FPX_S_OK", "delivered", 9_000, "London, GB")
        const customs = scan(tn, "FPX_M_CC", "customs", 7_000)
        const last = yield* parcels.track(fulfiller, tn, [received, delivered, customs], new Date(10_000))
        expect(last).toEqual({ added: 2, status: "delivered" })
        stored = yield* get(fulfiller, "P1")
        expect(stored.status).toBe("delivered")
        expect(stored.deliveredAt).toEqual(new Date(9_000))
        expect(stored.lastEvent).toEqual(delivered)
        expect(yield* parcels.events(fulfiller, tn)).toEqual([received, pickedUp, inTransit, customs, delivered])

        // An older scan arriving late changes nothing but the event list.
        const late = scan(tn, "FPX_L_X", "in_transit", 8_000)
        expect(yield* parcels.track(fulfiller, tn, [late], new Date(11_000))).toEqual({ added: 1, status: "delivered" })
        stored = yield* get(fulfiller, "P1")
        expect(stored.lastEvent).toEqual(delivered)
        expect(stored.deliveredAt).toEqual(new Date(9_000))
        // Delivered parcels are no longer due for tracking.
        expect(yield* parcels.dueForTracking(fulfiller, { before: new Date(1e12), limit: 10 })).toEqual([])
        // A replayed booking answer does not undo the delivery.
        yield* parcels.record(parcel(fulfiller, "P1", { status: "labelled" }))
        expect((yield* get(fulfiller, "P1")).status).toBe("delivered")
      })
    )

    it.effect("track of an unknown tracking number stores nothing; a cancelled parcel stays cancelled", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const fulfiller = unique("4px")
        const tn = unique("TN")
        expect(yield* parcels.track(fulfiller, tn, [scan(tn, "X", "in_transit", 1_000)], new Date(2_000))).toEqual({
          added: 0,
          status: undefined
        })
        expect(yield* parcels.events(fulfiller, tn)).toEqual([])
        // Known number, other fulfiller: still unknown.
        yield* parcels.record(parcel(fulfiller, "C1", { trackingNumber: tn, status: "cancelled" }))
        expect(yield* parcels.track(unique("4px"), tn, [scan(tn, "X", "in_transit", 1_000)], new Date(2_000))).toEqual({
          added: 0,
          status: undefined
        })
        expect(yield* parcels.track(fulfiller, tn, [scan(tn, "X", "in_transit", 1_000)], new Date(3_000))).toEqual({
          added: 1,
          status: "cancelled"
        })
        expect(yield* parcels.track(fulfiller, tn, [], new Date(4_000))).toEqual({ added: 0, status: "cancelled" })
      })
    )

    it.effect("concurrent records and pulls of one parcel converge on one row", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const fulfiller = unique("4px")
        const tn = unique("TN")
        const statuses: ReadonlyArray<ShipmentModel.ShipmentStatus> = ["created", "labelled", "shipped"]
        yield* Effect.all(
          Array.from({ length: 24 }, (_, i) =>
            parcels.record(
              parcel(fulfiller, "C1", {
                status: statuses[i % 3]!,
                ...(i % 4 === 0 ? { trackingNumber: tn } : {}),
                ...(i === 5 ? { externalId: "4PX-5" } : {})
              })
            )
          ),
          { concurrency: "unbounded", discard: true }
        )
        expect(yield* countRows("tkb_parcels", "fulfiller", fulfiller)).toBe(1)
        const stored = yield* get(fulfiller, "C1")
        expect(stored).toMatchObject({ status: "shipped", trackingNumber: tn, externalId: "4PX-5" })

        const scans = [scan(tn, "A", "picked_up", 1_000), scan(tn, "B", "in_transit", 2_000)]
        const results = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) => parcels.track(fulfiller, tn, scans, new Date(10_000 + i))),
          { concurrency: "unbounded" }
        )
        expect(results.reduce((n, r) => n + r.added, 0)).toBe(2)
        expect(yield* countRows("tkb_parcel_events", "tracking_number", tn)).toBe(2)
        expect((yield* get(fulfiller, "C1")).lastEvent).toEqual(scans[1])
      })
    )

    it.effect("ofOrder lists an order's parcels oldest first; list newest first by connection, with a limit", () =>
      Effect.gen(function* () {
        const parcels = yield* Parcels.Parcels
        const shop = unique("tts")
        const fulfiller = unique("4px")
        const erp = unique("erp")
        yield* TestClock.setTime(100_000)
        yield* parcels.record(parcel(fulfiller, "O1-b", { orderConnection: shop, orderId: "O1" }))
        yield* TestClock.setTime(90_000)
        yield* parcels.record(parcel(erp, "O1-a", { orderConnection: shop, orderId: "O1" }))
        yield* TestClock.setTime(110_000)
        yield* parcels.record(parcel(fulfiller, "O2-a", { orderConnection: shop, orderId: "O2" }))
        yield* parcels.record(parcel(fulfiller, "X-a", { orderConnection: unique("shopify"), orderId: "O1" }))

        expect((yield* parcels.ofOrder(shop, "O1")).map((p) => p.reference)).toEqual(["O1-a", "O1-b"])
        expect(yield* parcels.ofOrder(shop, "O3")).toEqual([])
        expect((yield* parcels.list({ connection: shop })).map((p) => p.reference)).toEqual(["O2-a", "O1-b", "O1-a"])
        expect((yield* parcels.list({ connection: fulfiller })).map((p) => p.reference)).toEqual([
          "X-a",
          "O2-a",
          "O1-b"
        ])
        expect((yield* parcels.list({ connection: shop, limit: 1 })).map((p) => p.reference)).toEqual(["O2-a"])
        expect((yield* parcels.list({ limit: 2 })).length).toBe(2)
      })
    )
  })
}
