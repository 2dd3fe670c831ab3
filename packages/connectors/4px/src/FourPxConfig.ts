/**
 * FourPxConfig: the connection config of the 4PX connector, decoded from the runner's YAML.
 * `appSecret` is a secret (`Redacted`): it never reaches logs, errors or cURL lines.
 *
 * Two ways to authenticate, chosen by `auth.mode`:
 * - `apiKey` (default) — a 4PX direct customer ("B类客户") calls with its own AppKey/AppSecret; no
 *   `access_token` is sent and no token is needed.
 * - `oauth` — a software vendor's app acts for a 4PX customer who authorized it; every call carries
 *   the connection's `access_token`, refreshed through the connector's `auth` service.
 *
 * Facts the reference marks unverified are settings here, not constants: method versions, the
 * host, the response language, back-off after rate limiting, the codes that mean "label not ready"
 * and "token expired", the refresh grant spelling and the refresh-token lifetime.
 *
 * @since 0.1.0
 */
import { TrackingEvent } from "@tkbridge/core"
import { Duration, Option, ParseResult, Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.filter((s) => s.trim().length > 0 || "must not be empty"))
const Url = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const u = new URL(s)
      return u.protocol === "https:" || u.protocol === "http:" || "must be an http(s) URL"
    } catch {
      return "must be an absolute URL"
    }
  })
)
const Country = Schema.String.pipe(
  Schema.pattern(/^[A-Z]{2}$/, { message: () => "must be an ISO 3166-1 alpha-2 code like CN" })
)
const YesNo = Schema.Literal("Y", "N")
const Version = Schema.String.pipe(
  Schema.pattern(/^v?\d+(\.\d+){0,2}$/, { message: () => "must be a 4PX method version such as 1.0.0" })
)

/**
 * A span of time as YAML writes it: milliseconds (`2000`) or a number and a unit (`"2 seconds"`,
 * `"2 minutes"`), decoded to a `Duration` so waits run on Effect's `Clock` (and `TestClock`).
 */
export const Wait = Schema.transformOrFail(
  Schema.Union(
    Schema.Number.pipe(Schema.nonNegative({ message: () => "must be 0 or more milliseconds" })),
    Schema.String.pipe(Schema.pattern(/^\d+(\.\d+)?\s+[a-z]+$/, { message: () => 'must look like "2 seconds"' }))
  ),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) =>
      Option.match(Duration.decodeUnknown(input), {
        onNone: () =>
          ParseResult.fail(
            new ParseResult.Type(ast, input, 'must be milliseconds or a number and a unit, such as "2 seconds"')
          ),
        onSome: (d) =>
          Duration.isFinite(d)
            ? ParseResult.succeed(d)
            : ParseResult.fail(new ParseResult.Type(ast, input, "must be finite"))
      }),
    encode: (d) => ParseResult.succeed(Duration.toMillis(d))
  }
)

/**
 * How `label` waits for 4PX to render a label: it asks again every `every` until `timeout` has
 * passed since it started (`timeout: 0` asks once). 4PX renders labels seconds after the create.
 */
export const LabelWait = Schema.Struct({
  every: Schema.optionalWith(
    Wait.pipe(Schema.filter((d) => Duration.greaterThan(d, Duration.zero) || "must be more than 0")),
    { default: () => Duration.seconds(2) }
  ),
  timeout: Schema.optionalWith(Wait, { default: () => Duration.minutes(2) })
})
/** How `label` waits for a label, decoded. */
export type LabelWait = typeof LabelWait.Type

/** The FOP methods the connector calls. */
export const MethodName = Schema.Literal(
  "ds.xms.order.create",
  "ds.xms.order.get",
  "ds.xms.order.cancel",
  "ds.xms.label.get",
  "ds.xms.logistics_product.getlist",
  "tr.order.tracking.get"
)
/** @since 0.1.0 */
export type MethodName = typeof MethodName.Type

/**
 * The `v` each method is called with unless the config pins another. `1.0.0` is the public version
 * of `ds.xms.order.create`; accounts onboarded on `1.1.0` pin it. `1.1.0` is the only version seen
 * for `ds.xms.order.get`.
 */
export const defaultVersions: Readonly<Record<MethodName, string>> = {
  "ds.xms.order.create": "1.0.0",
  "ds.xms.order.get": "1.1.0",
  "ds.xms.order.cancel": "1.0.0",
  "ds.xms.label.get": "1.0.0",
  "ds.xms.logistics_product.getlist": "1.0.0",
  "tr.order.tracking.get": "1.0.0"
}

/** A 4PX address (sender, return address), in the API's own terms. */
export const FourPxAddress = Schema.Struct({
  firstName: NonEmpty,
  lastName: Schema.optional(Schema.String),
  company: Schema.optional(Schema.String),
  phone: NonEmpty,
  email: Schema.optional(Schema.String),
  /** 4PX rejects parcels whose sender has no post code. */
  postCode: NonEmpty,
  country: Country,
  state: Schema.optional(Schema.String),
  city: NonEmpty,
  district: Schema.optional(Schema.String),
  /** 4PX accepts sender streets of 10–90 characters. */
  street: Schema.String.pipe(Schema.minLength(10), Schema.maxLength(90)),
  houseNumber: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type FourPxAddress = typeof FourPxAddress.Type

/** Direct customer: AppKey/AppSecret only, no token. */
export const ApiKeyAuth = Schema.Struct({ mode: Schema.Literal("apiKey") })

/** Software vendor: OAuth on behalf of the 4PX customer who authorized the app. */
export const OAuthAuth = Schema.Struct({
  mode: Schema.Literal("oauth"),
  /**
   * `grant_type` of a refresh. The official page says `refresh_token`; one SDK sends `refreshToken`.
   */
  refreshGrantType: Schema.optionalWith(Schema.Literal("refresh_token", "refreshToken"), {
    default: () => "refresh_token" as const
  }),
  /** Lifetime of the refresh token when the token response does not state one (documented: 1 year). */
  refreshTokenTtlDays: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 365 }),
  /** Gateway codes that mean "the access token is no longer accepted" (refresh once, retry). */
  tokenExpiredCodes: Schema.optionalWith(Schema.Array(NonEmpty), { default: () => ["000014"] })
})

/** How the connection authenticates. */
export const Auth = Schema.Union(ApiKeyAuth, OAuthAuth)
/** @since 0.1.0 */
export type Auth = typeof Auth.Type

/** Label sizes `ds.xms.label.get` accepts. */
export const LabelSize = Schema.Literal(
  "label_80x90",
  "label_90x100",
  "label_100x100",
  "label_100x150",
  "label_100x200"
)

/** The config of one 4PX connection. */
export const FourPxConfig = Schema.Struct({
  /** AppKey from the FOP console (Access management → My APPs). */
  appKey: NonEmpty,
  /** AppSecret from the FOP console. Secret. */
  appSecret: Schema.Redacted(NonEmpty),
  /**
   * The FOP host; calls go to `{baseUrl}/router/api/service`. Production `https://open.4px.com`,
   * test `https://open-test.4px.com` (the 2019 host `http://open.sandbox.4px.com` is legacy).
   */
  baseUrl: Schema.optionalWith(Url, { default: () => "https://open.4px.com" }),
  /** Host of the OAuth pages (`/authorize/get`, `/accessToken/get`); `baseUrl` when absent. */
  authBaseUrl: Schema.optional(Url),
  /** `apiKey` (direct customer, default) or `oauth` (software vendor). */
  auth: Schema.optionalWith(Auth, { default: () => ({ mode: "apiKey" as const }) }),
  /** Language of the platform's messages (`language` parameter, unsigned). */
  language: Schema.optionalWith(Schema.Literal("en", "cn"), { default: () => "en" as const }),
  /** Per-method versions, e.g. `{ "ds.xms.order.create": "1.1.0" }`. */
  versions: Schema.optionalWith(Schema.partial(Schema.Record({ key: MethodName, value: Version })), {
    default: () => ({})
  }),
  /** Per-request timeout in milliseconds. */
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30_000 }),
  /** Wait after `000017` (the gateway says "retry in one minute"). */
  rateLimitBackoffMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 60_000 }),
  /** Wait after `DS000006` "too many operations, retry later" (no duration documented). */
  busyBackoffMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 10_000 }),

  /** The carrier name reported with parcels and tracking events (what the channel is told). */
  carrier: Schema.optionalWith(NonEmpty, { default: () => "4PX" }),
  /**
   * Which number is the parcel's tracking number: the 4PX number (`4px`, at once) or the last-mile
   * carrier's (`lastMile`; the parcel stays pending until 4PX allocates it).
   */
  trackingNumber: Schema.optionalWith(Schema.Literal("4px", "lastMile"), { default: () => "4px" as const }),
  /** The logistics product used when a parcel request names none (codes are per account). */
  productCode: Schema.optional(NonEmpty),
  /** The shipper. Required by `ds.xms.order.create`. */
  sender: FourPxAddress,
  /** `U` delivered duty unpaid (recipient pays), `P` delivered duty paid. */
  dutyType: Schema.optionalWith(Schema.Literal("U", "P"), { default: () => "U" as const }),
  /** `1` gift, `2` document, `3` sample, `5` other. */
  cargoType: Schema.optionalWith(Schema.Literal("1", "2", "3", "5"), { default: () => "5" as const }),
  includeBattery: Schema.optionalWith(YesNo, { default: () => "N" as const }),
  /** `966` built in (PI966), `967` packed with (PI967); when `includeBattery` is `Y`. */
  batteryType: Schema.optional(Schema.Literal("966", "967")),
  /** How goods reach 4PX: `1` pickup, `2` courier to 4PX, `3` self-drop at a warehouse, `5` self-drop at a store. */
  deliverType: Schema.optionalWith(Schema.Literal("1", "2", "3", "5"), { default: () => "1" as const }),
  /** The 4PX warehouse that receives the goods (e.g. `CNDGMA`). */
  warehouseCode: Schema.optional(NonEmpty),
  /** Returns inside China: `Y` return, `N` destroy, `U` await instruction. */
  returnOnDomestic: Schema.optionalWith(Schema.Literal("Y", "N", "U"), { default: () => "N" as const }),
  /** Returns abroad: `Y` return, `N` destroy, `U` await instruction. */
  returnOnOversea: Schema.optionalWith(Schema.Literal("Y", "N", "U"), { default: () => "N" as const }),
  /** The domestic return address when returns come back (`sender` when absent). */
  returnAddress: Schema.optional(FourPxAddress),
  /** `sales_platform` sent with each parcel, e.g. `TIKTOK`. */
  salesPlatform: Schema.optional(NonEmpty),
  /** EU VAT number (`vat_no`). */
  vatNo: Schema.optional(NonEmpty),
  /** EORI number (`eori_no`). */
  eoriNo: Schema.optional(NonEmpty),
  /** IOSS number (`ioss_no`). */
  iossNo: Schema.optional(NonEmpty),
  /** Brand declared for every item (`brand_export`/`brand_import`); 4PX wants `none` when there is none. */
  brand: Schema.optionalWith(NonEmpty, { default: () => "none" }),
  /**
   * What to send as `recipient_info.state` when the address has none: the city (`city`, default —
   * 4PX rejects GB parcels without a state) or nothing (`none`).
   */
  stateFallback: Schema.optionalWith(Schema.Literal("city", "none"), { default: () => "city" as const }),
  labelSize: Schema.optionalWith(LabelSize, { default: () => "label_80x90" as const }),
  labelFormat: Schema.optionalWith(Schema.Literal("PDF", "IMG"), { default: () => "PDF" as const }),
  /** Error codes of `ds.xms.label.get` that mean "not rendered yet" (`label` asks again, see `labelWait`). */
  labelPendingCodes: Schema.optionalWith(Schema.Array(NonEmpty), { default: () => ["DS000046"] }),
  /** How long and how often `label` waits for a label 4PX has not rendered yet (default every 2 s, up to 2 min). */
  labelWait: Schema.optionalWith(LabelWait, {
    default: () => ({ every: Duration.seconds(2), timeout: Duration.minutes(2) })
  }),
  /** `cancel_reason` sent with cancellations (≤ 128 characters). */
  cancelReason: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)), {
    default: () => "Order cancelled by the seller"
  }),
  /** `transport_mode` filter of the product list: `1` all, `2` express, `3` small parcel, `4` dedicated line, `5` LianYouTong, `6` other. */
  productsTransportMode: Schema.optionalWith(Schema.Literal("1", "2", "3", "4", "5", "6"), {
    default: () => "1" as const
  }),
  /**
   * Tracking code → status overrides, on top of the built-in table. Keys are exact codes
   * (`FPX_D_HQ`) or prefixes ending in `*` (`FPX_D_*`).
   */
  trackingCodes: Schema.optionalWith(Schema.Record({ key: NonEmpty, value: TrackingEvent.TrackingStatus }), {
    default: () => ({})
  }),
  /** Status of events whose code no table knows (the raw code is always kept). */
  trackingDefaultStatus: Schema.optionalWith(TrackingEvent.TrackingStatus, { default: () => "in_transit" as const }),
  /** UTC offset assumed for events that carry no `timeZone` (4PX's own scans are Beijing time). */
  trackingDefaultUtcOffset: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[+-]\d{2}:\d{2}$/, { message: () => "must look like +08:00" })),
    { default: () => "+08:00" }
  )
})
/** The decoded config of one 4PX connection. */
export type FourPxConfig = typeof FourPxConfig.Type
/** The config as written in YAML / JSON. */
export type FourPxConfigInput = typeof FourPxConfig.Encoded

/** The `v` a method is called with under `config`. */
export const versionOf = (config: FourPxConfig, method: MethodName): string =>
  config.versions[method] ?? defaultVersions[method]

/** The host of the OAuth pages. */
export const authBaseOf = (config: FourPxConfig): string => (config.authBaseUrl ?? config.baseUrl).replace(/\/+$/, "")
