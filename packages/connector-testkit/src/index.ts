/**
 * @tkbridge/connector-testkit — the conformance suites every connector must pass, and the building
 * blocks of connector sandboxes (HTTP harness with fault injection, recorder, clock, webhook emitter).
 *
 * @since 0.1.0
 */

/** The conformance suites: `suite`, `checks`, `runCheck`. */
export * as ConnectorTestkit from "./ConnectorTestkit.ts"
/** Probes into a fake platform, and the connector-under-test tag. */
export * as FakeChannel from "./FakeChannel.ts"
/** A controllable clock for sandboxes. */
export * as SandboxClock from "./SandboxClock.ts"
/** OAuth in connector tests: consent on a sandbox and a refreshing token provider. */
export * as SandboxOAuth from "./SandboxOAuth.ts"
/** The HTTP harness sandboxes are built on. */
export * as SandboxServer from "./SandboxServer.ts"
/** Webhook delivery with platform-like retries. */
export * as WebhookEmitter from "./WebhookEmitter.ts"
