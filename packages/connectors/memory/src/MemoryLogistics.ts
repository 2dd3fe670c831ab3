/**
 * MemoryLogistics: `shipment.create` and `tracking.pull` — the platform's shipping API.
 *
 * `POST /v1/parcels` is idempotent on our `reference`: creating it again returns the parcel
 * already created, so a retried create never books a second parcel. Labels come from
 * `GET /v1/parcels/{reference}/label` (`409 label_not_ready` → `Transient` while rendering).
 * Tracking reads up to 100 numbers per call; carrier codes map onto the domain's milestones and
 * are kept raw, an unknown code reads as `in_transit`.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Shipment, TrackingEvent } from "@tkbridge/core"
import { Array as Arr, Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import { segment } from "./MemoryClient.ts"
import type * as Wire from "./MemorySchema.ts"
import { LabelResponse, ParcelResponse, ServicesResponse, TrackingResponse } from "./MemorySchema.ts"

/** Carrier codes in the domain's words. */
export const trackingStatus: Readonly<Record<string, TrackingEvent.TrackingStatus>> = {
  INFO: "info_received",
  PICKUP: "picked_up",
  TRANSIT: "in_transit",
  CUSTOMS: "customs",
  OUT_FOR_DELIVERY: "out_for_delivery",
  DELIVERED: "delivered",
  EXCEPTION: "exception",
  RETURNED: "returned"
}

const toCreated = (p: typeof Wire.Parcel.Type): Connector.ParcelCreated => ({
  externalId: p.id,
  reference: p.reference,
  trackingNumber: p.tracking_number ?? undefined,
  carrier: p.carrier,
  pending: p.tracking_number === null
})

/** Builds `shipment.create`. */
export const makeShipments = (client: MemoryClientShape): Connector.ShipmentCreate => {
  const parcelPath = (reference: string) => `/v1/parcels/${segment(reference)}`
  return {
    create: (request) =>
      Effect.map(
        client.api(
          {
            method: "POST",
            path: "/v1/parcels",
            body: {
              reference: request.reference,
              order_id: request.order.externalId,
              service: request.service,
              ship_to: {
                name: request.shipTo.name,
                phone: request.shipTo.phone,
                line1: request.shipTo.line1,
                line2: request.shipTo.line2,
                city: request.shipTo.city,
                province: request.shipTo.state,
                postal_code: request.shipTo.postalCode,
                country_code: request.shipTo.country
              },
              weight_grams: request.weightGrams,
              dimensions_cm: request.dimensionsCm,
              declarations: request.declarations.map((d) => ({
                sku: d.externalSku,
                description: d.description,
                quantity: d.qty,
                unit_value: d.unitValue,
                currency: d.currency,
                hs_code: d.hsCode,
                origin_country: d.originCountry
              }))
            }
          },
          ParcelResponse
        ),
        ({ parcel }) => toCreated(parcel)
      ),
    get: (reference) =>
      Effect.map(client.api({ method: "GET", path: parcelPath(reference) }, ParcelResponse), ({ parcel }) =>
        toCreated(parcel)
      ),
    label: (reference) =>
      Effect.map(
        client.api({ method: "GET", path: `${parcelPath(reference)}/label` }, LabelResponse),
        ({ label }) => new Shipment.Label({ format: label.format, base64: label.content_base64 })
      ),
    cancel: (reference) =>
      Effect.asVoid(client.api({ method: "POST", path: `${parcelPath(reference)}/cancel` }, ParcelResponse)),
    services: Effect.map(client.api({ method: "GET", path: "/v1/services" }, ServicesResponse), ({ services }) =>
      services.map((s) => ({ code: s.code, name: s.name }))
    )
  }
}

/** Builds `tracking.pull`. */
export const makeTracking = (client: MemoryClientShape): Connector.TrackingPull => ({
  track: (numbers) =>
    Effect.map(
      Effect.forEach(Arr.chunksOf(numbers, 100), (chunk) =>
        client.api({ method: "GET", path: "/v1/tracking", query: { numbers: chunk.join(",") } }, TrackingResponse)
      ),
      (answers) =>
        answers.flatMap(({ events }) =>
          events.map(
            (e) =>
              new TrackingEvent.TrackingEvent({
                trackingNumber: e.tracking_number,
                carrier: e.carrier,
                status: trackingStatus[e.code] ?? "in_transit",
                rawCode: e.code,
                description: e.description,
                occurredAt: e.occurred_at,
                location: e.location ?? undefined
              })
          )
        )
    )
})
