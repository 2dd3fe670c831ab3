/**
 * @tkbridge/connector-tiktok-shop/sandbox — a protocol-faithful local TikTok Shop (Open API host,
 * auth host, webhook pusher) with a control API, and its connector-testkit `FakeChannel`.
 *
 * @since 0.1.0
 */

/** The sandbox as a connector-testkit FakeChannel. */
export * as TikTokShopFakeChannel from "./TikTokShopFakeChannel.ts"
/** The sandbox: start, control API, scoped lifetime, Effect clock bridge. */
export * as TikTokShopSandbox from "./TikTokShopSandbox.ts"
/** Open API endpoints and renderers. */
export * as TikTokShopSandboxApi from "./TikTokShopSandboxApi.ts"
/** The auth host: consent page and token endpoints. */
export * as TikTokShopSandboxAuth from "./TikTokShopSandboxAuth.ts"
/** The gateway checks in TikTok's order. */
export * as TikTokShopSandboxGateway from "./TikTokShopSandboxGateway.ts"
/** The sandbox world and its status machines. */
export * as TikTokShopSandboxState from "./TikTokShopSandboxState.ts"
/** Webhook delivery with TikTok's signing and retries. */
export * as TikTokShopSandboxWebhooks from "./TikTokShopSandboxWebhooks.ts"
