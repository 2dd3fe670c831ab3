/**
 * @tkbridge/connector-4px/sandbox — a protocol-faithful local 4PX open platform (FOP gateway,
 * direct-shipping and tracking methods, OAuth pages, label files) with a control API, and its
 * connector-testkit `FakeChannel`.
 *
 * @since 0.1.0
 */

/** The sandbox as a connector-testkit FakeChannel. */
export * as FourPxFakeChannel from "./FourPxFakeChannel.ts"
/** The sandbox: start, control API, scoped lifetime, Effect clock bridge. */
export * as FourPxSandbox from "./FourPxSandbox.ts"
/** FOP methods and their validation. */
export * as FourPxSandboxApi from "./FourPxSandboxApi.ts"
/** OAuth pages and the token store. */
export * as FourPxSandboxAuth from "./FourPxSandboxAuth.ts"
/** The gateway checks in 4PX's order, envelopes and per-method faults. */
export * as FourPxSandboxGateway from "./FourPxSandboxGateway.ts"
/** Label files. */
export * as FourPxSandboxLabel from "./FourPxSandboxLabel.ts"
/** Consignments and their status machine. */
export * as FourPxSandboxState from "./FourPxSandboxState.ts"
