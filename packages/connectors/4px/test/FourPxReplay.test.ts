/**
 * Replays under faults: the sandbox loses answers after the call took effect (`afterEffect`) and
 * fails others outright, at a seeded rate. Retrying every `Transient` failure — what the engine
 * does — must end with exactly one parcel per reference at 4PX and every parcel known to us, and a
 * cancellation whose answer was lost must succeed on replay.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Effect, Schedule } from "effect"
import { connect, parcelRequest } from "./support.ts"

const retryTransient = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.retry(effect, { while: (e) => e._tag === "Transient", schedule: Schedule.recurs(30) })

describe("replays under faults", () => {
  it.scopedLive("lost answers and transient failures never make a second parcel", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ seed: 11 })
      const { services } = yield* connect(sandbox, { config: { timeoutMs: 2_000 } })
      sandbox.fault("ds.xms.order.create", {
        afterEffect: true,
        status: 503,
        body: "upstream timeout",
        probability: 0.3
      })
      sandbox.fault("ds.xms.order.create", sandbox.fourPxError("000020", { probability: 0.15 }))
      sandbox.fault("ds.xms.order.get", { status: 502, body: "Bad Gateway", probability: 0.1 })
      const references = Array.from({ length: 40 }, (_, i) => `TT-REPLAY-${i}`)
      const results = yield* Effect.forEach(references, (ref) =>
        retryTransient(services["shipment.create"].create(parcelRequest(ref)))
      )
      for (const [i, ref] of references.entries()) {
        assert.strictEqual(sandbox.count(ref), 1, ref)
        assert.isFalse(results[i]!.pending, ref)
        assert.strictEqual(results[i]!.externalId, sandbox.parcel(ref)!.dsNo, ref)
        assert.strictEqual(results[i]!.trackingNumber, sandbox.parcel(ref)!.trackingNumber, ref)
      }
      assert.strictEqual(sandbox.parcels().length, 40)
      // The faults really happened: answers were lost after creation and calls failed before it.
      const creates = sandbox.requests("ds.xms.order.create")
      assert.isAbove(creates.filter((r) => r.status === 503).length, 3)
      assert.isAbove(creates.length, 50)

      sandbox.clearFaults()
      sandbox.fault("ds.xms.order.cancel", { afterEffect: true, status: 504, times: 1 })
      const cancelled = yield* retryTransient(services["shipment.create"].cancel("TT-REPLAY-0"))
      assert.isUndefined(cancelled)
      assert.strictEqual(sandbox.parcel("TT-REPLAY-0")!.status, "X")
      assert.strictEqual(sandbox.requests("ds.xms.order.cancel").length, 2)
    })
  )
})
