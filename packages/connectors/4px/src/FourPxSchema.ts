/**
 * FourPxSchema: the 4PX open platform's wire formats — the response envelope, the `data` of each
 * method the connector calls, the token response, and the request bodies it sends.
 *
 * Parsing is lenient where 4PX is known to vary: `result` and ids may be strings or numbers, error
 * items come in `snake_case`, `camelCase` or both, and `data` may arrive as a JSON-encoded string.
 * Unknown fields are ignored.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** A string the platform may also send as a number (codes, ids, flags). Numbers become their decimal text. */
export const Text = Schema.transform(Schema.Union(Schema.String, Schema.Number), Schema.String, {
  strict: true,
  decode: (v) => (typeof v === "number" ? String(v) : v),
  encode: (s) => s
})

const OptText = Schema.optional(Schema.NullOr(Text))
const OptNumber = Schema.optional(Schema.NullOr(Schema.Union(Schema.Number, Schema.NumberFromString)))

/** One item of `errors[]`, in either key spelling. */
export const ErrorItem = Schema.Struct({
  error_code: OptText,
  errorCode: OptText,
  error_msg: OptText,
  errorMsg: OptText,
  error_data: Schema.optional(Schema.Unknown),
  errorData: Schema.optional(Schema.Unknown),
  reference_code: OptText,
  referenceCode: OptText
})
/** @since 0.1.0 */
export type ErrorItem = typeof ErrorItem.Type

/** The FOP envelope: `result` `"1"` success, `"0"` failure, `"2"` partial success. */
export const Envelope = Schema.Struct({
  result: Text,
  msg: OptText,
  errors: Schema.optional(Schema.NullOr(Schema.Array(ErrorItem))),
  data: Schema.optional(Schema.Unknown)
})
/** @since 0.1.0 */
export type Envelope = typeof Envelope.Type

/** An error item with its two spellings merged. */
export interface FourPxErrorDetail {
  readonly code: string
  readonly message: string
  readonly data?: unknown
  readonly reference?: string | undefined
}

/** Merges the `snake_case` and `camelCase` spellings of an error item. */
export const normaliseError = (item: ErrorItem): FourPxErrorDetail => {
  const data = item.error_data ?? item.errorData
  const reference = item.reference_code ?? item.referenceCode ?? undefined
  return {
    code: item.error_code ?? item.errorCode ?? "",
    message: item.error_msg ?? item.errorMsg ?? "",
    ...(data !== undefined && data !== null ? { data } : {}),
    ...(reference ? { reference } : {})
  }
}

/**
 * `data` as a value: a JSON object or array that arrived encoded as a string is parsed (observed in
 * the wild); any other string is kept as it is (some methods answer a bare URL).
 */
export const unwrapData = (data: unknown): unknown => {
  if (typeof data !== "string") return data
  const trimmed = data.trim()
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return data
  try {
    return JSON.parse(trimmed)
  } catch {
    return data
  }
}

/** `ds.xms.order.create` → `data`. */
export const CreateOrderData = Schema.Struct({
  ds_consignment_no: Text,
  "4px_tracking_no": OptText,
  label_barcode: OptText,
  logistics_channel_name: OptText,
  ref_no: OptText,
  /** The last-mile number; empty while 4PX is still allocating it. */
  logistics_channel_no: OptText,
  oda_result_sign: OptText
})
/** @since 0.1.0 */
export type CreateOrderData = typeof CreateOrderData.Type

/** `consignment_info` of `ds.xms.order.get`. Dates are epoch milliseconds. */
export const ConsignmentInfo = Schema.Struct({
  ds_consignment_no: Text,
  "4px_tracking_no": OptText,
  ref_no: OptText,
  /** `P` forecast, `V` handed over, `H` in warehouse, `C` shipped out, `F` completed, `R` returned, `X` closed, `D` draft. */
  consignment_status: OptText,
  logistics_channel_no: OptText,
  logistics_product_code: OptText,
  logistics_product_name: OptText,
  is_hold_sign: OptText,
  consignment_create_date: OptNumber,
  "4px_inbound_date": OptNumber,
  "4px_outbound_date": OptNumber,
  /** Why allocation of the last-mile number failed, when it did. */
  get_no_exmsg: OptText
})
/** @since 0.1.0 */
export type ConsignmentInfo = typeof ConsignmentInfo.Type

/** One entry of `ds.xms.order.get` → `data[]`. */
export const OrderGetItem = Schema.Struct({
  consignment_info: ConsignmentInfo,
  parcel_confirm_info: Schema.optional(Schema.NullOr(Schema.Unknown))
})

/** `ds.xms.order.get` → `data` (an array; `null` when nothing matches). */
export const OrderGetData = Schema.NullOr(Schema.Array(OrderGetItem))

/** `ds.xms.label.get` → `data`. */
export const LabelData = Schema.NullOr(
  Schema.Struct({
    label_barcode: OptText,
    child_label_barcode: Schema.optional(Schema.NullOr(Schema.Array(Text))),
    label_url_info: Schema.optional(
      Schema.NullOr(
        Schema.Struct({
          logistics_label: OptText,
          custom_label: OptText,
          package_label: OptText,
          invoice_label: OptText
        })
      )
    )
  })
)
/** @since 0.1.0 */
export type LabelData = typeof LabelData.Type

/** One entry of `ds.xms.logistics_product.getlist` → `data[]`. */
export const LogisticsProduct = Schema.Struct({
  logistics_product_code: Text,
  logistics_product_name_cn: OptText,
  logistics_product_name_en: OptText,
  transport_mode: OptText,
  with_battery: OptText,
  order_track: OptText
})

/** `ds.xms.logistics_product.getlist` → `data`. */
export const LogisticsProductList = Schema.NullOr(Schema.Array(LogisticsProduct))

/** One scan of `tr.order.tracking.get` (camelCase, unlike the `ds.xms` family). */
export const TrackingItem = Schema.Struct({
  businessLinkCode: Text,
  /** `YYYY-MM-DD HH:mm:ss`, local time of the event. */
  occurDatetime: Text,
  /** e.g. `UTC+08:00`; absent on older accounts. */
  timeZone: OptText,
  occurLocation: OptText,
  country: OptText,
  city: OptText,
  trackingContent: OptText
})
/** @since 0.1.0 */
export type TrackingItem = typeof TrackingItem.Type

/** `tr.order.tracking.get` → `data`. */
export const TrackingData = Schema.NullOr(
  Schema.Struct({
    deliveryOrderNo: OptText,
    destinationCountry: OptText,
    serverName: OptText,
    serverNum: OptText,
    trackingList: Schema.optional(Schema.NullOr(Schema.Array(TrackingItem)))
  })
)

/** The token endpoint's answer. `expires_in` is in milliseconds. */
export const TokenData = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  refresh_token: Schema.optional(Schema.NullOr(Schema.String)),
  expires_in: OptNumber,
  refresh_token_expires_in: OptNumber
})
/** @since 0.1.0 */
export type TokenData = typeof TokenData.Type

/** A 4PX address as sent on the wire. */
export interface WireAddress {
  readonly first_name: string
  readonly last_name?: string
  readonly company?: string
  readonly phone?: string
  readonly email?: string
  readonly post_code?: string
  readonly country: string
  readonly state?: string
  readonly city: string
  readonly district?: string
  readonly street: string
  readonly house_number?: string
}

/** One customs line (`declare_product_info[]`). */
export interface WireDeclaration {
  readonly declare_product_name_cn?: string
  readonly declare_product_name_en: string
  readonly declare_product_code_qty: number
  readonly unit_declare_product: string
  readonly origin_country?: string
  readonly hscode_export?: string
  readonly hscode_import?: string
  readonly unit_net_weight?: number
  readonly unit_gross_weight?: number
  readonly declare_unit_price_export: number
  readonly currency_export: string
  readonly declare_unit_price_import: number
  readonly currency_import: string
  readonly brand_export: string
  readonly brand_import: string
  readonly package_remarks?: string
}

/** One piece (`parcel_list[]`). */
export interface WireParcel {
  readonly weight: number
  readonly length?: number
  readonly width?: number
  readonly height?: number
  readonly parcel_value: number
  readonly currency: string
  readonly include_battery: "Y" | "N"
  readonly battery_type?: string
  readonly declare_product_info: ReadonlyArray<WireDeclaration>
}

/** The `ds.xms.order.create` request body. */
export interface CreateOrderBody {
  readonly ref_no: string
  readonly business_type: "BDS"
  readonly duty_type: "U" | "P"
  readonly cargo_type: string
  readonly vat_no?: string
  readonly eori_no?: string
  readonly ioss_no?: string
  readonly sales_platform?: string
  readonly trade_id?: string
  readonly is_insure: "Y" | "N"
  readonly logistics_service_info: {
    readonly logistics_product_code: string
    readonly customs_service?: "Y" | "N"
    readonly signature_service?: "Y" | "N"
  }
  readonly label_config_info: {
    readonly label_size: string
    readonly response_label_format: string
    readonly create_logistics_label: "Y" | "N"
  }
  readonly return_info: {
    readonly is_return_on_domestic: string
    readonly domestic_return_addr?: WireAddress
    readonly is_return_on_oversea: string
  }
  readonly parcel_list: ReadonlyArray<WireParcel>
  readonly sender: WireAddress
  readonly recipient_info: WireAddress
  readonly deliver_type_info: {
    readonly deliver_type: string
    readonly warehouse_code?: string
    readonly pick_up_info?: { readonly pick_up_address_info: WireAddress }
  }
}
