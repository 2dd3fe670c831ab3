/**
 * @tkbridge/connector-memory/sandbox — the Memory platform as a local HTTP server with a control
 * API (seed stock, place orders, read back pushes and shipments, subscribe webhooks), and its
 * connector-testkit `FakeChannel`.
 *
 * @since 0.1.0
 */

/** The sandbox as a connector-testkit FakeChannel. */
export * as MemoryFakeChannel from "./MemoryFakeChannel.ts"
/** The sandbox: start, control API, scoped lifetime, webhook signing. */
export * as MemorySandbox from "./MemorySandbox.ts"
/** The platform's HTTP API: routes, scopes, wire rendering. */
export * as MemorySandboxApi from "./MemorySandboxApi.ts"
/** The platform's world and its rules. */
export * as MemorySandboxState from "./MemorySandboxState.ts"
