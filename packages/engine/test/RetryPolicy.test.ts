/**
 * The retry policy by error class: back-off with jitter for transient failures, waits for rate limits,
 * deferral for suspensions, one refresh for an expired token, dead at once for permanent refusals.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConnectorError } from "@tkbridge/core"
import { EngineClock, RetryPolicy } from "@tkbridge/engine"
import { Duration, Effect, Random, Ref, TestClock } from "effect"

const fast: Partial<RetryPolicy.Options> = { baseDelayMs: 1, maxDelayMs: 4, maxAttempts: 4 }

/** A call that fails with the given errors in turn, then succeeds; counts its invocations. */
const scripted = (errors: ReadonlyArray<ConnectorError.ConnectorError>) =>
  Effect.map(Ref.make(0), (calls) => ({
    calls,
    call: Effect.flatMap(
      Ref.getAndUpdate(calls, (n) => n + 1),
      (n) => (n < errors.length ? Effect.fail(errors[n]!) : Effect.succeed(`ok after ${n}`))
    )
  }))

const transient = new ConnectorError.Transient({ message: "502 from the gateway", httpStatus: 502 })

const run = <A, R>(effect: Effect.Effect<A, never, R>) =>
  effect.pipe(Effect.withRandom(Random.make(42)), Effect.provide(EngineClock.layerCurrent))

describe("RetryPolicy", () => {
  it.live("retries transient failures and succeeds", () =>
    Effect.gen(function* () {
      const { calls, call } = yield* scripted([transient, transient])
      const outcome = yield* run(RetryPolicy.run(call, { policy: fast }))
      expect(outcome._tag).toBe("Succeeded")
      expect(outcome.attempts.map((a) => a.error._tag)).toEqual(["Transient", "Transient"])
      expect(yield* Ref.get(calls)).toBe(3)
    })
  )

  it.live("gives up after the budget with the last error, marked exhausted", () =>
    Effect.gen(function* () {
      const { calls, call } = yield* scripted(Array.from({ length: 10 }, () => transient))
      const outcome = yield* run(RetryPolicy.run(call, { policy: fast }))
      expect(outcome).toMatchObject({ _tag: "Dead", exhausted: true })
      expect(yield* Ref.get(calls)).toBe(4)
    })
  )

  it.live("does not retry a rejection", () =>
    Effect.gen(function* () {
      const rejected = new ConnectorError.Rejected({ message: "SKU is locked", code: "12052700" })
      const { calls, call } = yield* scripted([rejected])
      const outcome = yield* run(RetryPolicy.run(call, { policy: fast }))
      expect(outcome).toMatchObject({ _tag: "Dead", exhausted: false, error: { _tag: "Rejected" } })
      expect(yield* Ref.get(calls)).toBe(1)
    })
  )

  it.effect("waits out a short Retry-After in business time, then retries", () =>
    Effect.gen(function* () {
      const limited = new ConnectorError.RateLimited({ message: "429", retryAfter: Duration.seconds(30) })
      const { calls, call } = yield* scripted([limited])
      const fiber = yield* Effect.fork(run(RetryPolicy.run(call, { policy: fast })))
      yield* Effect.yieldNow()
      expect(yield* Ref.get(calls)).toBe(1)
      yield* TestClock.adjust(Duration.seconds(29))
      expect(yield* Ref.get(calls)).toBe(1)
      yield* TestClock.adjust(Duration.seconds(1))
      const outcome = yield* fiber.await.pipe(Effect.flatten)
      expect(outcome._tag).toBe("Succeeded")
      expect(yield* Ref.get(calls)).toBe(2)
    })
  )

  it.effect("hands a long Retry-After or a suspension back as deferred until the stated time", () =>
    Effect.gen(function* () {
      const long = new ConnectorError.RateLimited({ message: "429", retryAfter: Duration.hours(2) })
      const a = yield* scripted([long])
      const deferred = yield* run(RetryPolicy.run(a.call, { policy: fast }))
      expect(deferred._tag).toBe("Deferred")
      if (deferred._tag === "Deferred") expect(deferred.until.getTime()).toBe(Duration.toMillis(Duration.hours(2)))
      const until = new Date(5_000_000)
      const b = yield* scripted([new ConnectorError.Suspended({ message: "app suspended", until })])
      const suspended = yield* run(RetryPolicy.run(b.call, { policy: fast }))
      expect(suspended).toMatchObject({ _tag: "Deferred", until })
      expect(yield* Ref.get(b.calls)).toBe(1)
    })
  )

  it.live("refreshes once on an expired token, and pauses when it expires again", () =>
    Effect.gen(function* () {
      const expired = new ConnectorError.AuthExpired({ message: "access token expired" })
      const refreshes = yield* Ref.make(0)
      const refresh = Ref.update(refreshes, (n) => n + 1)
      const once = yield* scripted([expired])
      expect((yield* run(RetryPolicy.run(once.call, { policy: fast, refresh })))._tag).toBe("Succeeded")
      expect(yield* Ref.get(refreshes)).toBe(1)
      const twice = yield* scripted([expired, expired])
      expect((yield* run(RetryPolicy.run(twice.call, { policy: fast, refresh })))._tag).toBe("Paused")
      expect(yield* Ref.get(refreshes)).toBe(2)
      expect(yield* Ref.get(twice.calls)).toBe(2)
    })
  )

  it.live("pauses a revoked authorization without retrying", () =>
    Effect.gen(function* () {
      const { calls, call } = yield* scripted([new ConnectorError.AuthRevoked({ message: "seller deauthorized" })])
      expect((yield* run(RetryPolicy.run(call, { policy: fast })))._tag).toBe("Paused")
      expect(yield* Ref.get(calls)).toBe(1)
    })
  )

  it.live("treats a connector defect as transient and ends dead with its text", () =>
    Effect.gen(function* () {
      const outcome = yield* run(RetryPolicy.run(Effect.die(new Error("boom in decoder")), { policy: fast }))
      expect(outcome._tag).toBe("Dead")
      if (outcome._tag === "Dead") expect(outcome.error.message).toContain("boom in decoder")
    })
  )

  it("backs off exponentially with jitter, capped", () => {
    const o = { ...RetryPolicy.defaults, baseDelayMs: 100, maxDelayMs: 1_000 }
    expect(RetryPolicy.backoffMs(o, 1, 0)).toBe(50)
    expect(RetryPolicy.backoffMs(o, 1, 0.999)).toBeLessThanOrEqual(100)
    expect(RetryPolicy.backoffMs(o, 3, 0)).toBe(200)
    expect(RetryPolicy.backoffMs(o, 10, 0.5)).toBe(750)
  })
})
