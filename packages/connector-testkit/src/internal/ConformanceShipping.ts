/**
 * ConformanceShipping: the `fulfillment.push`, `shipment.create` and `tracking.pull` checks.
 *
 * - fulfillment: the tracking number lands on the platform's order; shipping the same order with
 *   the same tracking number again succeeds and leaves one shipment, not two;
 * - shipment.create: creating the same reference twice leaves one parcel at the provider, and the
 *   label can be fetched once the parcel has moved on;
 * - tracking.pull: a parcel's events come back under its tracking number.
 *
 * @since 0.1.0
 */

import type { Connector } from "@tkbridge/core"
import { Address, Order } from "@tkbridge/core"
import { Effect } from "effect"
import type { Check, ManifestView } from "./ConformanceKit.ts"
import { call, check, ensure, fail, probe, service, unique } from "./ConformanceKit.ts"

/** An alphanumeric tracking number no other check uses (carriers refuse punctuation). */
export const trackingNumber = (): string => unique("KIT").replace(/[^A-Z0-9]/gi, "")

/** A generic parcel request to a UK address, for fakes that do not supply their own. */
export const defaultParcelRequest = (reference: string, now: Date): Connector.ParcelRequest => {
  const shipTo = new Address.Address({
    name: "Conformance Receiver",
    phone: "+44 20 7946 0000",
    line1: "1 Test Street",
    city: "London",
    postalCode: "SW1A 1AA",
    country: "GB"
  })
  return {
    reference,
    order: new Order.Order({
      connection: "conformance",
      externalId: reference,
      status: "awaiting_shipment",
      lines: [new Order.OrderLine({ lineId: "1", externalSku: "KIT-SKU", qty: 1, title: "Test item" })],
      shipTo,
      placedAt: now,
      updatedAt: now
    }),
    shipTo,
    weightGrams: 250,
    declarations: [
      {
        externalSku: "KIT-SKU",
        description: "Cotton T-shirt",
        qty: 1,
        unitValue: 1000,
        currency: "USD",
        originCountry: "CN"
      }
    ]
  }
}

/** A parcel request for `reference`: the fake's own, or the generic one. */
export const parcelRequest = (reference: string) =>
  Effect.gen(function* () {
    const logistics = yield* probe("logistics", "shipment.create")
    return logistics.parcelRequest === undefined
      ? defaultParcelRequest(reference, new Date())
      : yield* logistics.parcelRequest(reference)
  })

const fulfillmentChecks: ReadonlyArray<Check> = [
  check(
    "fulfillment.push",
    "tracking-lands",
    "the tracking number lands on the platform's order",
    Effect.gen(function* () {
      const fulfillment = yield* probe("fulfillment", "fulfillment.push")
      const push = yield* service("fulfillment.push")
      const orderId = yield* fulfillment.seedOrder()
      const tn = trackingNumber()
      const carrier = fulfillment.carrier ?? "4PX"
      yield* call(
        `shipping order ${orderId}`,
        push.ship({ orderId, carrier, trackingNumber: tn, idempotencyKey: unique("kit-ship") })
      )
      const shipments = yield* fulfillment.shipments(orderId)
      yield* ensure(
        shipments.some((s) => s.trackingNumber === tn),
        () =>
          `after shipping order ${orderId} with ${tn} the platform holds ${JSON.stringify(shipments.map((s) => s.trackingNumber))}`
      )
    })
  ),
  check(
    "fulfillment.push",
    "repeat-is-idempotent",
    "shipping the same order twice with the same tracking number succeeds and leaves one shipment",
    Effect.gen(function* () {
      const fulfillment = yield* probe("fulfillment", "fulfillment.push")
      const push = yield* service("fulfillment.push")
      const orderId = yield* fulfillment.seedOrder()
      const request: Connector.ShipRequest = {
        orderId,
        carrier: fulfillment.carrier ?? "4PX",
        trackingNumber: trackingNumber(),
        idempotencyKey: unique("kit-ship")
      }
      yield* call(`shipping order ${orderId}`, push.ship(request))
      yield* call(`shipping order ${orderId} again`, push.ship(request))
      const shipments = yield* fulfillment.shipments(orderId)
      const count = shipments.filter((s) => s.trackingNumber === request.trackingNumber).length
      yield* ensure(count === 1, () => `shipping twice left ${count} shipments with ${request.trackingNumber}`)
    })
  )
]

const shipmentChecks: ReadonlyArray<Check> = [
  check(
    "shipment.create",
    "one-parcel-per-reference",
    "creating the same reference twice leaves one parcel",
    Effect.gen(function* () {
      const logistics = yield* probe("logistics", "shipment.create")
      const create = yield* service("shipment.create")
      const reference = unique("KITREF")
      const request = yield* parcelRequest(reference)
      const first = yield* call(`creating parcel ${reference}`, create.create(request))
      const second = yield* call(`creating parcel ${reference} again`, create.create(request))
      yield* ensure(first.reference === reference, () => `the parcel came back with reference ${first.reference}`)
      yield* ensure(
        second.externalId === first.externalId,
        () => `the repeated create returned parcel ${second.externalId}, the first ${first.externalId}`
      )
      const parcels = yield* logistics.parcels(reference)
      yield* ensure(parcels === 1, () => `the provider holds ${parcels} parcels for reference ${reference}`)
    })
  ),
  check(
    "shipment.create",
    "label",
    "the label of a processed parcel can be fetched",
    Effect.gen(function* () {
      const logistics = yield* probe("logistics", "shipment.create")
      const create = yield* service("shipment.create")
      const reference = unique("KITREF")
      yield* call(`creating parcel ${reference}`, create.create(yield* parcelRequest(reference)))
      yield* logistics.progress(reference)
      const label = yield* call(`fetching the label of ${reference}`, create.label(reference))
      yield* ensure((label.url ?? "") !== "" || (label.base64 ?? "") !== "", "the label has neither a URL nor content")
    })
  )
]

const trackingEvents = (manifest: ManifestView): Check =>
  check(
    "tracking.pull",
    "events",
    "a parcel's events come back under its tracking number",
    Effect.gen(function* () {
      const logistics = yield* probe("logistics", "tracking.pull")
      const tracking = yield* service("tracking.pull")
      let tn: string | undefined
      if (manifest.capabilities.includes("shipment.create")) {
        const create = yield* service("shipment.create")
        const reference = unique("KITREF")
        const created = yield* call(`creating parcel ${reference}`, create.create(yield* parcelRequest(reference)))
        yield* logistics.progress(reference)
        const parcel = yield* call(`reading parcel ${reference}`, create.get(reference))
        tn = parcel.trackingNumber ?? created.trackingNumber
      } else if (logistics.seedParcel !== undefined) {
        const seeded = yield* logistics.seedParcel()
        yield* logistics.progress(seeded.reference)
        tn = seeded.trackingNumber
      } else {
        return yield* fail("tracking.pull without shipment.create needs the logistics probe's seedParcel")
      }
      if (tn === undefined) return yield* fail("the processed parcel has no tracking number")
      const events = yield* call(`tracking ${tn}`, tracking.track([tn]))
      yield* ensure(events.length > 0, () => `tracking ${tn} returned no event after the parcel moved`)
      const foreign = events.filter((e) => e.trackingNumber !== tn)
      yield* ensure(foreign.length === 0, () => `tracking ${tn} returned events of ${foreign[0]?.trackingNumber}`)
    })
  )

/** The shipping checks for a manifest. */
export const checks = (manifest: ManifestView): ReadonlyArray<Check> => {
  const has = (c: Connector.Capability) => manifest.capabilities.includes(c)
  return [
    ...(has("fulfillment.push") ? fulfillmentChecks : []),
    ...(has("shipment.create") ? shipmentChecks : []),
    ...(has("tracking.pull") ? [trackingEvents(manifest)] : [])
  ]
}
