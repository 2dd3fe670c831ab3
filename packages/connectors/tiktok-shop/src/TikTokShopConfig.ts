/**
 * TikTokShopConfig: the connection config of the TikTok Shop connector, decoded from the runner's
 * YAML. `appSecret` is a secret (`Redacted`): it never reaches logs, errors or cURL lines.
 *
 * Facts the TikTok reference marks unverified are settings here rather than constants: the US
 * authorization host, per-endpoint API versions, the `Retry-After` fallback and the webhook
 * signature recipe.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.filter((s) => s.trim().length > 0 || "must not be empty"))
const Version = Schema.String.pipe(
  Schema.pattern(/^\d{6}$/, { message: () => "must be a TikTok API version such as 202309" })
)
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

/** The endpoints whose API version can be pinned per endpoint. */
export const EndpointName = Schema.Literal(
  "shops",
  "orderSearch",
  "orderDetail",
  "productSearch",
  "inventoryUpdate",
  "inventorySearch",
  "shippingProviders",
  "markShipped",
  "returnsSearch",
  "cancellationsSearch"
)
/** @since 0.1.0 */
export type EndpointName = typeof EndpointName.Type

/** The API version each endpoint uses unless the config pins another (all 202309, the pinned line). */
export const defaultVersions: Readonly<Record<EndpointName, string>> = {
  shops: "202309",
  orderSearch: "202309",
  orderDetail: "202309",
  productSearch: "202309",
  inventoryUpdate: "202309",
  inventorySearch: "202309",
  shippingProviders: "202309",
  markShipped: "202309",
  returnsSearch: "202309",
  cancellationsSearch: "202309"
}

/** The config of one TikTok Shop connection (one shop). */
export const TikTokShopConfig = Schema.Struct({
  /** The app key from Partner Center. */
  appKey: NonEmpty,
  /** The app secret from Partner Center. Secret. */
  appSecret: Schema.Redacted(NonEmpty),
  /** The app's `service_id`, for the authorization link (Partner Center → Authorization). */
  serviceId: Schema.optional(NonEmpty),
  /** Which authorized shop this connection serves (shop id). Needed when one seller authorizes several shops. */
  shopId: Schema.optional(NonEmpty),
  /** Pins the shop's `shop_cipher`; normally it is stored in the token at authorization. */
  shopCipher: Schema.optional(NonEmpty),
  /** Open API base URL. */
  apiBaseUrl: Schema.optionalWith(Url, { default: () => "https://open-api.tiktokglobalshop.com" }),
  /** Token host (`/api/v2/token/get`, `/api/v2/token/refresh`). */
  authBaseUrl: Schema.optionalWith(Url, { default: () => "https://auth.tiktok-shops.com" }),
  /**
   * Where sellers authorize the app. ROW: `https://services.tiktokshop.com/open/authorize`; US:
   * `https://services.us.tiktokshop.com/open/authorize` or `https://services.tiktokshops.us/open/authorize`
   * (two official pages disagree).
   */
  authorizeUrl: Schema.optionalWith(Url, { default: () => "https://services.tiktokshop.com/open/authorize" }),
  /** `service` (`?service_id=`, current) or `legacy` (`{authBaseUrl}/oauth/authorize?app_key=`). */
  authorizeLink: Schema.optionalWith(Schema.Literal("service", "legacy"), { default: () => "service" as const }),
  /** Per-endpoint API versions, e.g. `{ orderDetail: "202507", productSearch: "202502" }`. */
  versions: Schema.optionalWith(Schema.partial(Schema.Record({ key: EndpointName, value: Version })), {
    default: () => ({})
  }),
  /** Which TikTok field is the SKU tkbridge pairs on: the seller's `seller_sku` (falls back to `sku_id` when empty) or `sku_id`. */
  skuKey: Schema.optionalWith(Schema.Literal("seller_sku", "sku_id"), { default: () => "seller_sku" as const }),
  /** Page size for searches (orders, products 1–100; returns and cancellations are capped at 50). */
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 50 }),
  /** Per-request timeout in milliseconds. */
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30_000 }),
  /**
   * Calls per second the client allows itself per API (TikTok: 50 per API per app and shop). A
   * stock push fans out to one call per product, so the client paces those calls itself.
   */
  requestsPerSecondPerApi: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50 }),
  /** How long to wait after a 429 that carries no `Retry-After` (TikTok documents none). */
  rateLimitBackoffMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1_000 }),
  /** Carrier name → TikTok `shipping_provider_id`; unmapped carriers are looked up by name on the order's delivery option. */
  shippingProviders: Schema.optionalWith(Schema.Record({ key: Schema.String, value: NonEmpty }), {
    default: () => ({})
  }),
  /** Webhook signature recipe: `app_key+body` (two SDKs agree; the official wording is vaguer) or `body`. */
  webhookSignature: Schema.optionalWith(Schema.Literal("app_key+body", "body"), {
    default: () => "app_key+body" as const
  }),
  /** Largest webhook body accepted, in bytes. */
  webhookMaxBytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1024 * 1024 })
})
/** The decoded config of one TikTok Shop connection. */
export type TikTokShopConfig = typeof TikTokShopConfig.Type
/** The config as written in YAML / JSON. */
export type TikTokShopConfigInput = typeof TikTokShopConfig.Encoded

/** The API version an endpoint uses under `config`. */
export const versionOf = (config: TikTokShopConfig, endpoint: EndpointName): string =>
  config.versions[endpoint] ?? defaultVersions[endpoint]
