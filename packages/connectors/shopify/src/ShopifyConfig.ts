/**
 * ShopifyConfig: the connection config of the Shopify connector, decoded from the runner's YAML.
 * `clientSecret` (and `previousClientSecret` during a rotation) are secrets (`Redacted`): they never
 * reach logs, errors or cURL lines.
 *
 * Facts the Shopify reference marks unverified are settings rather than constants: the inventory
 * `reason`, the OAuth callback's timestamp window, how long to wait when throttled without a hint,
 * and which inventory state a stock pull reports.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** The Admin API version the connector is pinned to (newest stable on 2026-11-26). */
export const defaultApiVersion = "2026-10"

/**
 * The Admin API versions a connection may name: the stable versions Shopify still supports on
 * 2026-11-26 that have the `inventorySetQuantities` shape the connector writes (mandatory
 * `changeFromQuantity` and `@idempotent`, from 2026-04). 2026-01 (supported until January 2027)
 * predates it; `unstable` and release candidates carry no guarantees.
 */
export const supportedApiVersions = ["2026-04", "2026-07", "2026-10"] as const

/** An Admin API version a connection may name. */
export type ApiVersion = (typeof supportedApiVersions)[number]

const NonEmpty = Schema.String.pipe(Schema.filter((s) => s.trim().length > 0 || "must not be empty"))

/** A shop's permanent domain, `<name>.myshopify.com`. */
export const ShopDomain = Schema.String.pipe(
  Schema.filter(
    (s) =>
      /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(s) ||
      "must be the shop's permanent domain, like example.myshopify.com (lower case)"
  )
)

const ApiVersion = Schema.Literal(...supportedApiVersions).annotations({
  message: () => ({
    message: `must be a supported Admin API version: ${supportedApiVersions.join(", ")}`,
    override: true
  })
})

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

const Positive = Schema.Int.pipe(Schema.positive())

/** The config of one Shopify connection (one shop). */
export const ShopifyConfig = Schema.Struct({
  /** The shop's permanent domain, e.g. `example.myshopify.com`. */
  shop: ShopDomain,
  /** The app's client id (API key) from the Partner Dashboard or Dev Dashboard. */
  clientId: NonEmpty,
  /** The app's client secret. Secret. Signs OAuth callbacks and webhooks. */
  clientSecret: Schema.Redacted(NonEmpty),
  /** The secret being rotated out: Shopify may keep signing webhooks with it for up to an hour. Secret. */
  previousClientSecret: Schema.optional(Schema.Redacted(NonEmpty)),
  /**
   * Admin API version: one of `supportedApiVersions` (default 2026-10). Should Shopify retire it, it
   * answers with the oldest version it still serves, and the client logs a warning.
   */
  apiVersion: Schema.optionalWith(ApiVersion, { default: () => defaultApiVersion }),
  /** Overrides `https://<shop>` (a proxy or the sandbox). OAuth and GraphQL paths are appended to it. */
  apiBaseUrl: Schema.optional(Url),
  /** Scopes requested at install; by default the minimal union for every capability. */
  scopes: Schema.optional(Schema.Array(NonEmpty)),
  /** Ask for expiring offline tokens (`expiring=1`: 1-hour access token plus a rotating refresh token). */
  expiringTokens: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** How far the OAuth callback's `timestamp` may be from now, in seconds (the official library uses 90). */
  callbackMaxAgeSeconds: Schema.optionalWith(Positive, { default: () => 90 }),
  /** Location id (numeric or GID) stock is pushed to when an update names none. */
  locationId: Schema.optional(NonEmpty),
  /** `reason` of every `inventorySetQuantities` (shown in the shop's inventory history). */
  inventoryReason: Schema.optionalWith(NonEmpty, { default: () => "correction" }),
  /** `referenceDocumentUri` of stock writes; default `gid://tkbridge/Connection/<connection>`. */
  referenceDocumentUri: Schema.optional(NonEmpty),
  /** Which inventory state `stock.pull` reports as on hand: `on_hand` (physical) or `available`. */
  stockPullQuantity: Schema.optionalWith(Schema.Literal("on_hand", "available"), { default: () => "on_hand" as const }),
  /** Page size of catalog and location reads (1–250). */
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 250)), { default: () => 100 }),
  /** Orders per page of `orders.pull` (1–10: each order carries up to 20 lines, and a query may cost at most 1,000 points). */
  ordersPageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10)), { default: () => 10 }),
  /** Read the shipping address (needs protected customer data approval on public apps). */
  includeShippingAddress: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Let Shopify email the buyer when tracking is written back. */
  notifyCustomer: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Carrier name → the company name Shopify knows (so it builds the tracking link). */
  carriers: Schema.optionalWith(Schema.Record({ key: Schema.String, value: NonEmpty }), { default: () => ({}) }),
  /** Per-request timeout in milliseconds. */
  timeoutMs: Schema.optionalWith(Positive, { default: () => 30_000 }),
  /** Longest the client waits for the cost bucket to refill before a call; longer waits fail `RateLimited`. */
  maxThrottleWaitMs: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 10_000 }),
  /** Wait after a 429 that carries neither `Retry-After` nor cost information. */
  rateLimitBackoffMs: Schema.optionalWith(Positive, { default: () => 1_000 }),
  /** Largest webhook body accepted, in bytes. */
  webhookMaxBytes: Schema.optionalWith(Positive, { default: () => 5 * 1024 * 1024 })
})
/** The decoded config of one Shopify connection. */
export type ShopifyConfig = typeof ShopifyConfig.Type
/** The config as written in YAML / JSON. */
export type ShopifyConfigInput = typeof ShopifyConfig.Encoded

/** The base URL of the shop's admin (`https://<shop>` unless overridden), without a trailing slash. */
export const adminBase = (config: ShopifyConfig): string =>
  (config.apiBaseUrl ?? `https://${config.shop}`).replace(/\/+$/, "")

/** The GraphQL Admin API endpoint for the configured version. */
export const graphqlUrl = (config: ShopifyConfig): string =>
  `${adminBase(config)}/admin/api/${config.apiVersion}/graphql.json`
