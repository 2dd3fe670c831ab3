/**
 * FourPxShipment: `shipment.create` on 4PX direct shipping (`ds.xms.*`) — parcels, labels,
 * cancellation and the account's logistics products.
 *
 * - `create` builds a `ds.xms.order.create` body from the domain order and parcel request (recipient,
 *   one piece with its customs lines, the configured sender, product, duty and return choices) and
 *   sends it with our `reference` as `ref_no`. It is idempotent on `ref_no`: when 4PX refuses a
 *   create, the connector looks the reference up and returns the parcel 4PX already holds, so a
 *   replay never makes a second parcel. `DS000007` (a create with this `ref_no` is still in flight)
 *   answers `pending: true`.
 * - `get` reads the parcel by reference (`ds.xms.order.get`). 4PX cannot tell "never created"
 *   from "still processing", so a reference it does not hold fails `Transient` ("4PX has no order
 *   … yet (still processing?)"), not `NotFound`: a poll after a pending create keeps going. A create
 *   that failed inside 4PX after `DS000007` only heals when the caller creates the reference again.
 * - `label` reads `ds.xms.label.get` and waits for a label 4PX has not rendered yet: it asks again
 *   every `labelWait.every` (2 s) for up to `labelWait.timeout` (2 min), through rate limiting and
 *   gateway hiccups too (`FourPxLabelWait`), and fails `Transient` only when that time has passed.
 *   An unknown reference fails `NotFound` and a cancelled parcel `Rejected`, at once.
 * - `cancel` works only while the parcel is in forecast status (`P`); later it fails `Rejected`
 *   with the reason. Cancelling a parcel that is already cancelled succeeds.
 * - `services` lists `ds.xms.logistics_product.getlist`.
 *
 * @since 0.1.0
 */
import type { Address, Connector } from "@tkbridge/core"
import { ConnectorError as Errors, Shipment } from "@tkbridge/core"
import { Effect, Either, Option, Schema } from "effect"
import type { CallFailure, FourPxClientShape } from "./FourPxClient.ts"
import type { FourPxAddress, FourPxConfig } from "./FourPxConfig.ts"
import * as FourPxLabelWait from "./FourPxLabelWait.ts"
import type { ConsignmentInfo, CreateOrderBody, CreateOrderData, WireAddress, WireDeclaration } from "./FourPxSchema.ts"
import * as Wire from "./FourPxSchema.ts"

/** `consignment_status` letters and what they mean. */
export const consignmentStatuses: Readonly<Record<string, string>> = {
  D: "draft",
  P: "forecast (not yet handed to 4PX)",
  V: "handed over to 4PX",
  H: "received in the 4PX warehouse",
  C: "shipped out",
  F: "completed",
  R: "returned",
  X: "closed (cancelled)"
}

const maxRefNo = 64

/** Digits after the decimal point of a currency (2 for USD, 0 for JPY, 3 for KWD). */
export const currencyDigits = (currency: string): number | undefined => {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits
  } catch {
    return undefined
  }
}

const major = (minor: number, digits: number): number => Number((minor / 10 ** digits).toFixed(digits))

/**
 * A buyer's name as 4PX's consignee rules take it (letters and spaces only): accents are dropped
 * ("Zoë" → "Zoe"), apostrophes and dots join their word ("O'Brien" → "OBrien", "St. John" → "St John"),
 * anything else that is not a letter separates words ("Mary-Jane" → "Mary Jane"). Letters of any
 * script are kept. A name that still breaks the rules (one letter, a repeated word) is refused by 4PX
 * and the order waits in the dead-letter queue with 4PX's field code.
 */
export const consigneeName = (name: string): string =>
  name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/['’‘`´.]/g, "")
    .replace(/[^\p{L}]+/gu, " ")
    .trim()

/** Splits a full name into 4PX's first and last name: the last word is the last name. */
export const splitName = (name: string): { readonly first: string; readonly last?: string } => {
  const words = consigneeName(name).split(/\s+/).filter(Boolean)
  if (words.length < 2) return { first: words.join(" ") }
  return { first: words.slice(0, -1).join(" "), last: words[words.length - 1]! }
}

const has = (s: string | undefined): s is string => s !== undefined && s.trim() !== ""

/** A configured 4PX address on the wire. */
export const wireFromConfig = (a: FourPxAddress): WireAddress => ({
  first_name: a.firstName,
  ...(has(a.lastName) ? { last_name: a.lastName } : {}),
  ...(has(a.company) ? { company: a.company } : {}),
  phone: a.phone,
  ...(has(a.email) ? { email: a.email } : {}),
  post_code: a.postCode,
  country: a.country,
  ...(has(a.state) ? { state: a.state } : {}),
  city: a.city,
  ...(has(a.district) ? { district: a.district } : {}),
  street: a.street,
  ...(has(a.houseNumber) ? { house_number: a.houseNumber } : {})
})

/** The recipient on the wire. A missing state becomes the city when `stateFallback` is `city`. */
export const recipientOf = (to: Address.Address, stateFallback: FourPxConfig["stateFallback"]): WireAddress => {
  const name = splitName(to.name)
  const state = has(to.state) ? to.state : stateFallback === "city" ? to.city : undefined
  return {
    first_name: name.first,
    ...(name.last !== undefined ? { last_name: name.last } : {}),
    ...(has(to.company) ? { company: to.company } : {}),
    ...(has(to.phone) ? { phone: to.phone } : {}),
    ...(has(to.email) ? { email: to.email } : {}),
    ...(has(to.postalCode) ? { post_code: to.postalCode } : {}),
    country: to.country,
    ...(state !== undefined ? { state } : {}),
    city: to.city,
    street: [to.line1, to.line2].filter(has).join(", ")
  }
}

const reject = (code: string, message: string, connection: string | undefined) =>
  new Errors.Rejected({ code, message: `4PX parcel: ${message}`, connection })

/**
 * The `ds.xms.order.create` body for a parcel request, or `Rejected` when the request cannot make
 * a valid parcel (no product, no customs lines, mixed currencies, over-long reference).
 */
export const createBody = (
  config: FourPxConfig,
  request: Connector.ParcelRequest,
  connection?: string
): Either.Either<CreateOrderBody, Errors.Rejected> => {
  const product = request.service ?? config.productCode
  if (!has(product)) {
    return Either.left(
      reject("product_missing", "no logistics product: set productCode in the config or pass a service", connection)
    )
  }
  if (request.reference.length === 0 || request.reference.length > maxRefNo) {
    return Either.left(reject("ref_no", `the reference must be 1–${maxRefNo} characters (ref_no)`, connection))
  }
  if (!(request.weightGrams > 0)) {
    return Either.left(reject("weight", "the parcel weight must be more than 0 grams", connection))
  }
  if (request.declarations.length === 0) {
    return Either.left(reject("declarations", "4PX needs at least one customs line (declarations)", connection))
  }
  const currencies = [...new Set(request.declarations.map((d) => d.currency.toUpperCase()))]
  const currency = currencies[0]!
  if (currencies.length > 1) {
    return Either.left(
      reject("currency", `customs lines must share one currency; got ${currencies.join(", ")}`, connection)
    )
  }
  const digits = currencyDigits(currency)
  if (digits === undefined) {
    return Either.left(reject("currency", `"${currency}" is not an ISO 4217 currency`, connection))
  }
  const lines: Array<WireDeclaration> = request.declarations.map((d) => {
    const price = major(d.unitValue, digits)
    const hs = d.hsCode?.replace(/\D/g, "")
    return {
      ...(has(d.descriptionLocal) ? { declare_product_name_cn: d.descriptionLocal } : {}),
      declare_product_name_en: d.description,
      declare_product_code_qty: d.qty,
      unit_declare_product: "PCS",
      ...(has(d.originCountry) ? { origin_country: d.originCountry } : {}),
      ...(has(hs) ? { hscode_export: hs, hscode_import: hs } : {}),
      ...(d.unitWeightGrams !== undefined
        ? { unit_net_weight: d.unitWeightGrams, unit_gross_weight: d.unitWeightGrams }
        : {}),
      declare_unit_price_export: price,
      currency_export: currency,
      declare_unit_price_import: price,
      currency_import: currency,
      brand_export: config.brand,
      brand_import: config.brand,
      // Printed on the label as `remarks*qty` when pick info is on: the picker sees the SKU.
      package_remarks: d.externalSku
    }
  })
  const total = request.declarations.reduce((sum, d) => sum + d.unitValue * d.qty, 0)
  const sender = wireFromConfig(config.sender)
  const dims = request.dimensionsCm
  const body: CreateOrderBody = {
    ref_no: request.reference,
    business_type: "BDS",
    duty_type: config.dutyType,
    cargo_type: config.cargoType,
    ...(has(config.vatNo) ? { vat_no: config.vatNo } : {}),
    ...(has(config.eoriNo) ? { eori_no: config.eoriNo } : {}),
    ...(has(config.iossNo) ? { ioss_no: config.iossNo } : {}),
    ...(has(config.salesPlatform) ? { sales_platform: config.salesPlatform } : {}),
    trade_id: request.order.externalId,
    is_insure: "N",
    logistics_service_info: { logistics_product_code: product },
    label_config_info: {
      label_size: config.labelSize,
      response_label_format: config.labelFormat,
      create_logistics_label: "Y"
    },
    return_info: {
      is_return_on_domestic: config.returnOnDomestic,
      ...(config.returnOnDomestic === "Y"
        ? { domestic_return_addr: wireFromConfig(config.returnAddress ?? config.sender) }
        : {}),
      is_return_on_oversea: config.returnOnOversea
    },
    parcel_list: [
      {
        weight: Math.round(request.weightGrams),
        ...(dims !== undefined ? { length: dims.length, width: dims.width, height: dims.height } : {}),
        parcel_value: major(total, digits),
        currency,
        include_battery: config.includeBattery,
        ...(config.includeBattery === "Y" && config.batteryType !== undefined
          ? { battery_type: config.batteryType }
          : {}),
        declare_product_info: lines
      }
    ],
    sender,
    recipient_info: recipientOf(request.shipTo, config.stateFallback),
    deliver_type_info: {
      deliver_type: config.deliverType,
      ...(has(config.warehouseCode) ? { warehouse_code: config.warehouseCode } : {}),
      ...(config.deliverType === "1" ? { pick_up_info: { pick_up_address_info: sender } } : {})
    }
  }
  return Either.right(body)
}

/** Builds the `shipment.create` service on a client. */
export const make = (client: FourPxClientShape): Connector.ShipmentCreate => {
  const { config, connection } = client

  const trackingOf = (fourPx: string | null | undefined, lastMile: string | null | undefined) => {
    const number = config.trackingNumber === "lastMile" ? lastMile : fourPx
    return has(number ?? undefined) ? (number as string) : undefined
  }

  const fromCreated = (data: CreateOrderData, reference: string): Connector.ParcelCreated => {
    const trackingNumber = trackingOf(data["4px_tracking_no"], data.logistics_channel_no)
    return {
      externalId: data.ds_consignment_no,
      reference: data.ref_no ?? reference,
      ...(trackingNumber !== undefined ? { trackingNumber } : {}),
      carrier: config.carrier,
      pending: trackingNumber === undefined
    }
  }

  const fromConsignment = (info: ConsignmentInfo, reference: string): Connector.ParcelCreated => {
    const trackingNumber = trackingOf(info["4px_tracking_no"], info.logistics_channel_no)
    return {
      externalId: info.ds_consignment_no,
      reference: info.ref_no ?? reference,
      ...(trackingNumber !== undefined ? { trackingNumber } : {}),
      carrier: config.carrier,
      pending: trackingNumber === undefined
    }
  }

  /** `ds.xms.order.get` by reference: the matching consignment, none for an empty answer. */
  const lookup = (reference: string): Effect.Effect<Option.Option<ConsignmentInfo>, Errors.ConnectorError> =>
    client.call({ method: "ds.xms.order.get", body: { request_no: reference }, data: Wire.OrderGetData }).pipe(
      Effect.map((items) => {
        const all = (items ?? []).map((i) => i.consignment_info)
        const exact = all.find((c) => c.ref_no === reference || c.ds_consignment_no === reference)
        return Option.fromNullable(exact ?? all[0])
      })
    )

  /** The consignment 4PX holds under a reference, if any ("not found" is an answer here). */
  const find = (reference: string): Effect.Effect<Option.Option<ConsignmentInfo>, Errors.ConnectorError> =>
    Effect.catchTag(lookup(reference), "NotFound", () => Effect.succeed(Option.none()))

  const statusText = (info: ConsignmentInfo) => {
    const s = info.consignment_status ?? "?"
    return `${s} ${consignmentStatuses[s] ?? "unknown status"}`
  }

  const create = (request: Connector.ParcelRequest): Effect.Effect<Connector.ParcelCreated, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const body = yield* createBody(config, request, connection)
      const outcome = yield* client
        .callDetailed({ method: "ds.xms.order.create", body, data: Wire.CreateOrderData })
        .pipe(Effect.either)
      if (Either.isRight(outcome)) return fromCreated(outcome.right, request.reference)
      const failure: CallFailure = outcome.left
      if (failure.errors.some((e) => e.code === "DS000007")) {
        // Another create with this ref_no is still being processed: report it in flight.
        const existing = yield* find(request.reference)
        if (Option.isSome(existing)) return fromConsignment(existing.value, request.reference)
        return { externalId: request.reference, reference: request.reference, carrier: config.carrier, pending: true }
      }
      if (failure.error._tag !== "Rejected") return yield* failure.error
      // A refused create may be a replay of one that went through: 4PX keeps one order per ref_no.
      const existing = yield* find(request.reference)
      if (Option.isNone(existing)) return yield* failure.error
      if (existing.value.consignment_status === "X") {
        return yield* new Errors.Rejected({
          code: failure.error.code,
          connection,
          httpStatus: failure.error.httpStatus,
          exchange: failure.error.exchange,
          message: `4PX parcel ${existing.value.ds_consignment_no} with reference ${request.reference} was cancelled; ship again under a new reference. ${failure.error.message}`
        })
      }
      return fromConsignment(existing.value, request.reference)
    })

  // 4PX answers "order not found" both for a reference it never saw and for one whose create is
  // still being processed (`DS000007`) — which `create` reports as a pending parcel the caller then
  // polls with `get`. `NotFound` would end that poll for good, so "not there yet" is `Transient`.
  const notYet = (reference: string, cause?: Errors.NotFound) =>
    new Errors.Transient({
      connection,
      code: cause?.code ?? "DS000017",
      httpStatus: cause?.httpStatus,
      exchange: cause?.exchange,
      message: `4PX has no order ${reference} yet (still processing?): a create answered "processing" (DS000007) may still be in flight, or it failed there and the parcel must be created again under this reference${cause === undefined ? "" : `. ${cause.message}`}`
    })

  const get = (reference: string): Effect.Effect<Connector.ParcelCreated, Errors.ConnectorError> =>
    lookup(reference).pipe(
      Effect.catchTag("NotFound", (e) => Effect.fail(notYet(reference, e))),
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.fail(notYet(reference)),
          onSome: (info) => Effect.succeed(fromConsignment(info, reference))
        })
      )
    )

  const notReady = (reference: string, failure?: CallFailure) =>
    new Errors.Transient({
      connection,
      code: failure?.error.code ?? "label_pending",
      httpStatus: failure?.error.httpStatus,
      exchange: failure?.error.exchange,
      message: `4PX has not rendered the label of ${reference} yet${failure ? ` (${failure.error.message})` : ""}`
    })

  /** One look at the label: the label, or why there is none (not rendered yet is `Transient`). */
  const labelOnce = (reference: string, checked: { known: boolean }) =>
    Effect.gen(function* () {
      const outcome = yield* client
        .callDetailed({
          method: "ds.xms.label.get",
          body: {
            request_no: reference,
            response_label_format: config.labelFormat,
            label_size: config.labelSize
          },
          data: Wire.LabelData
        })
        .pipe(Effect.either)
      if (Either.isLeft(outcome)) {
        const failure = outcome.left
        const pending = failure.errors.some((e) => config.labelPendingCodes.includes(e.code))
        if (!pending) return yield* failure.error
        // "No label" is also what an unknown or cancelled parcel gets: tell those apart once, not on
        // every look of a wait (a parcel cancelled meanwhile then waits out the timeout).
        if (!checked.known) {
          const existing = yield* find(reference)
          if (Option.isNone(existing)) {
            return yield* new Errors.NotFound({
              connection,
              message: `4PX holds no parcel with reference ${reference}`
            })
          }
          if (existing.value.consignment_status === "X") {
            return yield* new Errors.Rejected({
              code: "cancelled",
              connection,
              message: `4PX parcel ${existing.value.ds_consignment_no} (${reference}) is cancelled and has no label`
            })
          }
          checked.known = true
        }
        return yield* notReady(reference, failure)
      }
      const url = outcome.right?.label_url_info?.logistics_label
      if (!has(url ?? undefined)) return yield* notReady(reference)
      return new Shipment.Label({ format: config.labelFormat === "IMG" ? "png" : "pdf", url: url as string })
    })

  const label = (reference: string): Effect.Effect<Shipment.Label, Errors.ConnectorError> =>
    Effect.suspend(() =>
      FourPxLabelWait.waitFor(labelOnce(reference, { known: false }), config.labelWait, `label for ${reference}`)
    )

  const cancel = (reference: string): Effect.Effect<void, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const outcome = yield* client
        .callDetailed({
          method: "ds.xms.order.cancel",
          body: { request_no: reference, cancel_reason: config.cancelReason },
          data: Schema.Unknown
        })
        .pipe(Effect.either)
      if (Either.isRight(outcome)) return
      const failure = outcome.left
      if (failure.error._tag !== "Rejected") return yield* failure.error
      const existing = yield* find(reference)
      if (Option.isNone(existing)) {
        return yield* new Errors.NotFound({ connection, message: `4PX holds no parcel with reference ${reference}` })
      }
      // Cancelling twice is a replay, not an error.
      if (existing.value.consignment_status === "X") return
      return yield* new Errors.Rejected({
        code: failure.error.code,
        connection,
        httpStatus: failure.error.httpStatus,
        exchange: failure.error.exchange,
        message: `4PX will not cancel parcel ${existing.value.ds_consignment_no} (${reference}): it is ${statusText(existing.value)}, and 4PX cancels only in forecast status. ${failure.error.message}`
      })
    })

  const services: Effect.Effect<ReadonlyArray<Connector.LogisticsService>, Errors.ConnectorError> = client
    .call({
      method: "ds.xms.logistics_product.getlist",
      body: { transport_mode: config.productsTransportMode },
      data: Wire.LogisticsProductList
    })
    .pipe(
      Effect.map((products) =>
        (products ?? []).map((p) => ({
          code: p.logistics_product_code,
          name: p.logistics_product_name_en || p.logistics_product_name_cn || p.logistics_product_code
        }))
      )
    )

  return { create, get, label, cancel, services }
}
