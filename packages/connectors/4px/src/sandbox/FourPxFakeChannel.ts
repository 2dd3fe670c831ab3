/**
 * FourPxFakeChannel: the 4PX sandbox as a connector-testkit `FakeChannel` — the probes a conformance
 * suite uses to read what the fake 4PX holds (parcels per reference, token refreshes) and to move
 * parcels along, independently of what the connector reports.
 *
 * Every FOP method shares one HTTP route (`gateway`), so route faults hit every call; per-method
 * faults go through `FourPxSandbox.fault("<method>", …)`.
 *
 * @since 0.1.0
 */
import { FakeChannel } from "@tkbridge/connector-testkit"
import { Effect, Layer } from "effect"
import type { FourPxSandbox, FourPxSandboxOptions } from "./FourPxSandbox.ts"
import { scoped } from "./FourPxSandbox.ts"

/** The harness route each capability's main call uses (fault injection targets it). */
export const capabilityRoutes: FakeChannel.FakeChannelShape["routes"] = {
  "shipment.create": "gateway",
  "tracking.pull": "gateway"
}

/** Probes over a running sandbox. */
export const fakeOf = (sandbox: FourPxSandbox): FakeChannel.FakeChannelShape => ({
  sandbox: sandbox.server,
  routes: capabilityRoutes,
  logistics: {
    parcels: (reference) => Effect.sync(() => sandbox.count(reference)),
    progress: (reference) =>
      Effect.sync(() => {
        // Label rendered, picked up, received and shipped out: scans from the whole first leg.
        sandbox.labelReady(reference)
        sandbox.allocateLastMile(reference)
        sandbox.advance(reference, "C")
      })
  },
  tokens: {
    issue: () => Effect.sync(() => sandbox.issueTokenSet()),
    refreshes: () => Effect.sync(() => sandbox.refreshCount())
  }
})

/** A `FakeChannel` layer: starts a sandbox for the scope and exposes its probes. */
export const layer = (options: FourPxSandboxOptions = {}): Layer.Layer<FakeChannel.FakeChannel> =>
  Layer.scoped(FakeChannel.FakeChannel, Effect.map(scoped(options), fakeOf))
