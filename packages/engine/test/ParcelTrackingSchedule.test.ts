/**
 * The `parcel-tracking` schedule with a Memory platform as the ERP that ships (and is the items and
 * stock source) and a Memory shop as the channel, over real HTTP on both composition roots:
 *
 * - as the carrier scans a parcel on its way and delivers it, the parcels record follows: shipped,
 *   then delivered, holding each of the carrier's events once however often they are read — and a
 *   delivered parcel is not asked about again;
 * - an exception scan raises one `parcel_exception` alert naming the parcel, the order and what the
 *   carrier said.
 *
 * (The Memory sandbox has no control for an exception scan; the test appends one to the parcel's
 * scans in the sandbox's state, as its carrier would.)
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { Parcels } from "@tkbridge/core"
import { EngineAlerts, EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decode = Schema.decodeUnknownSync(MemoryConnector.manifest.config)

const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
    channels: ["shop"]
  }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) }),
  fulfilment: new EngineFlows.FulfilmentDefaults({
    trackingPollEvery: Duration.millis(200),
    trackingEventsEvery: Duration.millis(400)
  })
})

/** A shop selling the ERP's mug (10 units), shipped by the ERP; every alert raised is kept in `raised`. */
const scenario = <A, E, R>(
  root: (typeof roots)[number],
  body: (platforms: {
    readonly shop: MemorySandbox.MemorySandbox
    readonly erp: MemorySandbox.MemorySandbox
    readonly raised: ReadonlyArray<EngineAlerts.Alert>
  }) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
    const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
    erp.seedItems([{ sku: "MUG", title: "Mug", stock: 10 }])
    shop.seedItems([{ sku: "MUG", stock: 0 }])
    const raised: Array<EngineAlerts.Alert> = []
    const layer = engineWithEdge({
      root: root.layer(),
      connections: [
        connection("shop", MemoryConnector.connector, decode(shop.connectorConfig())),
        connection("erp", MemoryConnector.connector, decode(erp.connectorConfig()))
      ],
      flows,
      alerts: EngineAlerts.layerWith((alert) => Effect.sync(() => raised.push(alert)))
    })
    return yield* Effect.gen(function* () {
      yield* startEngine({
        grants: [
          ["shop", MemoryFakeChannel.tokenSetOf(shop)],
          ["erp", MemoryFakeChannel.tokenSetOf(erp)]
        ],
        imports: ["erp", "shop"],
        published: () => shop.stock("MUG") === 10,
        subscribe: (url) => shop.subscribe(`${url}/webhooks/shop`)
      })
      return yield* body({ shop, erp, raised })
    }).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

/** Places an order and waits until it shipped (its tracking number is on the shop). */
const shipped = (shop: MemorySandbox.MemorySandbox, erp: MemorySandbox.MemorySandbox) =>
  Effect.gen(function* () {
    const order = shop.placeOrder({ lines: [{ sku: "MUG", quantity: 1 }] })
    yield* eventually(Effect.sync(() => shop.fulfillments(order).length > 0))
    const reference = FulfilmentWorkflow.parcelReference("shop", order)
    const parcel = erp.parcels(reference)[0]!
    return { order, reference, trackingNumber: parcel.trackingNumber! }
  })

const parcelOf = (orderId: string) =>
  Effect.flatMap(Parcels.Parcels, (parcels) => Effect.map(parcels.ofOrder("shop", orderId), (all) => all[0]))

for (const root of roots) {
  describe(`parcel tracking, ${root.name}`, () => {
    it.live(
      "the parcels record follows the carrier's scans to delivered, each event once, and stops asking",
      () =>
        scenario(root, ({ shop, erp }) =>
          Effect.gen(function* () {
            const parcels = yield* Parcels.Parcels
            const { order, reference, trackingNumber } = yield* shipped(shop, erp)
            const asked = () =>
              erp.server.requestsTo("tracking.list").filter((r) => r.query.includes(trackingNumber)).length

            // Collected and in transit.
            erp.progressParcel(reference)
            yield* eventually(Effect.map(parcelOf(order), (p) => p?.status === "shipped"))
            // Read again at the next passes while on its way.
            const inTransit = asked()
            yield* eventually(Effect.sync(() => asked() >= inTransit + 2))
            // Delivered.
            erp.progressParcel(reference)
            yield* eventually(Effect.map(parcelOf(order), (p) => p?.status === "delivered"))

            const record = (yield* parcelOf(order))!
            expect(record.trackingNumber).toBe(trackingNumber)
            expect(record.deliveredAt).toBeDefined()
            expect(record.lastEvent?.status).toBe("delivered")
            const events = yield* parcels.events("erp", trackingNumber)
            const carrier = erp.parcels(reference)[0]!.events
            expect(events.map((e) => [e.rawCode, e.description])).toEqual(carrier.map((e) => [e.code, e.description]))
            // Each event once, though the early ones were read at every pass.
            expect(events.map((e) => e.status)).toEqual(["info_received", "picked_up", "in_transit", "delivered"])

            // Delivered: no longer asked about.
            yield* Effect.sleep("1 second")
            const after = asked()
            yield* Effect.sleep("1500 millis")
            expect(asked()).toBe(after)
          })
        ),
      60_000
    )

    it.live(
      "an exception scan raises one parcel_exception alert naming the parcel, the order and the carrier's words",
      () =>
        scenario(root, ({ shop, erp, raised }) =>
          Effect.gen(function* () {
            const { order, reference, trackingNumber } = yield* shipped(shop, erp)
            erp.progressParcel(reference)
            yield* eventually(Effect.map(parcelOf(order), (p) => p?.status === "shipped"))
            expect(raised.filter((a) => a.code === "parcel_exception")).toEqual([])

            erp.world.parcel(reference).events.push({
              code: "EXCEPTION",
              description: "Delivery failed: address not found",
              occurredAt: erp.clock.now(),
              location: "Leeds, GB"
            })
            const exceptions = () => raised.filter((a) => a.code === "parcel_exception")
            yield* eventually(Effect.sync(() => exceptions().length > 0))
            const alert = exceptions()[0]!
            expect(alert.connection).toBe("erp")
            expect(alert.subject).toBe(order)
            expect(alert.message).toContain(trackingNumber)
            expect(alert.message).toContain(order)
            expect(alert.message).toContain("Delivery failed: address not found")
            expect((yield* parcelOf(order))?.lastEvent?.status).toBe("exception")

            // The parcel is still followed, but the same scan does not raise the alert again.
            const asked = () =>
              erp.server.requestsTo("tracking.list").filter((r) => r.query.includes(trackingNumber)).length
            const before = asked()
            yield* eventually(Effect.sync(() => asked() >= before + 2))
            expect(exceptions()).toHaveLength(1)
          })
        ),
      60_000
    )
    it.live(
      "a label the fulfiller cannot give raises label_missing and holds nothing back; a label it gives is kept",
      () =>
        scenario(root, ({ shop, erp, raised }) =>
          Effect.gen(function* () {
            const first = yield* shipped(shop, erp)
            yield* eventually(Effect.map(parcelOf(first.order), (p) => p?.label !== undefined))
            expect((yield* parcelOf(first.order))?.label?.format).toBe("pdf")

            erp.server.fault("parcels.label", { status: 500, body: "renderer down" })
            const second = yield* shipped(shop, erp)
            const missing = () => raised.filter((a) => a.code === "label_missing")
            yield* eventually(Effect.sync(() => missing().length > 0))
            expect(missing()[0]).toMatchObject({ connection: "erp", subject: second.order })
            expect(missing()[0]!.message).toContain(second.reference)
            // The tracking number is on the shop and the parcel is kept, without its label.
            expect(shop.fulfillments(second.order)[0]!.trackingNumber).toBe(second.trackingNumber)
            const kept = yield* parcelOf(second.order)
            expect(kept).toMatchObject({ trackingNumber: second.trackingNumber })
            expect(kept?.label).toBeUndefined()
          })
        ),
      60_000
    )
  })
}
