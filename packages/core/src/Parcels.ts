/**
 * Parcels: the record of every parcel booked for an order at a fulfiller (4PX, an ERP/WMS) — its
 * tracking number and carrier, its label to print, and the carrier's tracking events — so a seller can
 * see, per order, what was shipped and whether it arrived.
 *
 * A parcel is keyed by (fulfiller, reference): `reference` is our idempotency key at the carrier, so
 * booking the same parcel twice, or learning about it from a replayed call, updates one record.
 * Its status only moves forward (see {@link advance}): a late or replayed answer never turns a
 * delivered parcel back into a labelled one.
 *
 * Parcels hold no personal data: no names, phones or addresses (those stay with the order).
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { Label, ShipmentStatus } from "./Shipment.ts"
import type { StoreError } from "./StoreError.ts"
import type { TrackingEvent } from "./TrackingEvent.ts"

/**
 * A parcel as the fulfiller reported it, to record.
 *
 * @category models
 * @since 0.1.0
 */
export interface ParcelInput {
  /** The channel connection the order came from. */
  readonly orderConnection: string
  readonly orderId: string
  /** The connection that ships it (e.g. `4px`). */
  readonly fulfiller: string
  /** Our idempotency key at the carrier; unique per fulfiller. */
  readonly reference: string
  readonly externalId?: string | undefined
  readonly carrier: string
  readonly trackingNumber?: string | undefined
  readonly status: ShipmentStatus
  readonly label?: Label | undefined
}

/**
 * A stored parcel.
 *
 * @category models
 * @since 0.1.0
 */
export interface ParcelRecord extends ParcelInput {
  readonly createdAt: Date
  readonly updatedAt: Date
  /** When tracking was last pulled. */
  readonly trackedAt?: Date | undefined
  /** The newest tracking event by `occurredAt`. */
  readonly lastEvent?: TrackingEvent | undefined
  readonly deliveredAt?: Date | undefined
}

/**
 * What a tracking pull changed: how many events were new, and the parcel's status afterwards
 * (undefined when no parcel has that tracking number).
 *
 * @category models
 * @since 0.1.0
 */
export interface Tracked {
  readonly added: number
  readonly status: ShipmentStatus | undefined
}

/**
 * Which parcels to list (newest first).
 *
 * @category models
 * @since 0.1.0
 */
export interface Filter {
  /** Parcels of orders from this connection, or shipped by it. */
  readonly connection?: string | undefined
  readonly limit?: number | undefined
}

/**
 * How far along each status is. `cancelled` and `failed` are final, so they rank above every status
 * of a parcel on its way; `delivered` ranks above them because a carrier's delivery scan is the last
 * word even on a parcel we were told was cancelled.
 *
 * @category models
 * @since 0.1.0
 */
export const statusRank: { readonly [S in ShipmentStatus]: number } = {
  created: 0,
  labelled: 1,
  shipped: 2,
  cancelled: 3,
  failed: 3,
  delivered: 4
}

/**
 * The status a parcel has after being told `next`: `next` when it ranks higher than `current`,
 * otherwise `current` (so between `cancelled` and `failed`, the first one stays).
 *
 * @category combinators
 * @since 0.1.0
 */
export const advance = (current: ShipmentStatus, next: ShipmentStatus): ShipmentStatus =>
  statusRank[next] > statusRank[current] ? next : current

/**
 * True when tracking a parcel in this status can still tell something new.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTrackable = (status: ShipmentStatus): boolean =>
  status === "created" || status === "labelled" || status === "shipped"

/**
 * The parcels record.
 *
 * @category services
 * @since 0.1.0
 */
export interface ParcelsShape {
  /**
   * Upserts by (fulfiller, reference). Fields given replace stored ones; absent optional fields keep
   * the stored value; the status never moves backwards ({@link advance}). Runs inside the caller's
   * transaction when there is one.
   */
  readonly record: (input: ParcelInput) => Effect.Effect<void, StoreError>
  /** The parcels of one order, oldest first. */
  readonly ofOrder: (orderConnection: string, orderId: string) => Effect.Effect<ReadonlyArray<ParcelRecord>, StoreError>
  /**
   * Parcels of a fulfiller that have a tracking number, are still on their way ({@link isTrackable})
   * and were not tracked since `before` — never-tracked first, then oldest `trackedAt` — at most `limit`.
   */
  readonly dueForTracking: (
    fulfiller: string,
    input: { readonly before: Date; readonly limit: number }
  ) => Effect.Effect<ReadonlyArray<ParcelRecord>, StoreError>
  /**
   * Stores the events of one tracking number (deduplicated on tracking number, raw code and
   * `occurredAt`, so pulling again is a no-op) and sets `trackedAt = at`, `lastEvent` (the newest by
   * `occurredAt`) and the status: `delivered` with `deliveredAt` when a `delivered` event is stored,
   * otherwise `shipped` when any event beyond `info_received` is (never backwards). An unknown tracking number stores
   * nothing and answers `{ added: 0, status: undefined }`.
   */
  readonly track: (
    fulfiller: string,
    trackingNumber: string,
    events: ReadonlyArray<TrackingEvent>,
    at: Date
  ) => Effect.Effect<Tracked, StoreError>
  /** Every stored event of a tracking number, oldest first. */
  readonly events: (
    fulfiller: string,
    trackingNumber: string
  ) => Effect.Effect<ReadonlyArray<TrackingEvent>, StoreError>
  /** Recent parcels, newest first (default 100). */
  readonly list: (filter?: Filter) => Effect.Effect<ReadonlyArray<ParcelRecord>, StoreError>
}

/**
 * The parcels record service.
 *
 * @category services
 * @since 0.1.0
 */
export class Parcels extends Context.Tag("@tkbridge/core/Parcels")<Parcels, ParcelsShape>() {}
