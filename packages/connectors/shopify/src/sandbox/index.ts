/**
 * @tkbridge/connector-shopify/sandbox — a local Shopify shop for tests, the runner's demo and
 * partners: the GraphQL Admin API (2026-10, validated against a schema generated from Shopify's
 * own), OAuth with expiring tokens, the cost bucket, and webhooks signed and retried like Shopify.
 *
 * @since 0.1.0
 */

/** Start a sandbox shop and drive it. */
export * as ShopifySandbox from "./ShopifySandbox.ts"
/** The OAuth server and token store. */
export * as ShopifySandboxAuth from "./ShopifySandboxAuth.ts"
/** The sandbox as the conformance kit's fake channel. */
export * as ShopifySandboxFake from "./ShopifySandboxFake.ts"
/** The GraphQL endpoint: validation, cost bucket, run-time rules, resolvers. */
export * as ShopifySandboxGraphql from "./ShopifySandboxGraphql.ts"
/** Search syntax and cursor pagination. */
export * as ShopifySandboxQuery from "./ShopifySandboxQuery.ts"
/** The generated schema. */
export * as ShopifySandboxSchemaSdl from "./ShopifySandboxSchemaSdl.ts"
/** The shop's world and its rules. */
export * as ShopifySandboxState from "./ShopifySandboxState.ts"
/** Webhook subscriptions and deliveries. */
export * as ShopifySandboxWebhooks from "./ShopifySandboxWebhooks.ts"
