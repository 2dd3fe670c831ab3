/**
 * EngineClock: the time business decisions are made in — quota windows, suspensions, Retry-After
 * waits, back-off, token expiry, reservation TTLs, reconciliation windows. In production it is the
 * system clock. Tests and the demo swap in a faster clock (a sandbox's), so a 2-hour suspension or a
 * whole quota day passes in seconds.
 *
 * Only decision code runs on it (`business`); the cluster's own timers (shard locks, storage polls,
 * durable clocks) and every partner call (`real`: HTTP timeouts must stay real) keep the system
 * clock, so they behave exactly as in production whatever clock a test installs.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"

/** The clock business time is read from. */
export class EngineClock extends Context.Tag("@tkbridge/engine/EngineClock")<
  EngineClock,
  { readonly clock: Clock.Clock }
>() {}

/** The system clock. */
export const systemClock: Clock.Clock = Clock.make()

/** Business time is system time. */
export const layerSystem: Layer.Layer<EngineClock> = Layer.succeed(EngineClock, { clock: systemClock })

/** Business time is whatever `Clock` the layer is built with (`TestClock` under `it.effect`). */
export const layerCurrent: Layer.Layer<EngineClock> = Layer.effect(
  EngineClock,
  Effect.map(Effect.clock, (clock) => ({ clock }))
)

/**
 * A clock driven from outside — typically a sandbox clock running faster than real time: `now` reads
 * it and `sleep(ms)` resolves once it has advanced by `ms`.
 */
export const fromSource = (source: {
  readonly now: () => number
  readonly sleep: (ms: number) => Promise<void>
}): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => source.now(),
  currentTimeMillis: Effect.sync(() => source.now()),
  unsafeCurrentTimeNanos: () => BigInt(Math.floor(source.now())) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(Math.floor(source.now())) * 1_000_000n),
  sleep: (duration) => {
    const ms = Duration.toMillis(duration)
    return ms <= 0 ? Effect.void : Effect.promise(() => source.sleep(ms))
  }
})

/** A layer for a clock driven from outside. */
export const layerSource = (source: Parameters<typeof fromSource>[0]): Layer.Layer<EngineClock> =>
  Layer.succeed(EngineClock, { clock: fromSource(source) })

/** Runs decision code in business time: `Clock`, `DateTime.now` and `Effect.sleep` read the engine clock. */
export const business = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | EngineClock> =>
  Effect.flatMap(EngineClock, ({ clock }) => Effect.withClock(effect, clock))

/** Runs a partner call (or any I/O with timeouts) on the system clock, whatever the business clock. */
export const real = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withClock(effect, systemClock)

/** The current business time in epoch milliseconds. */
export const now: Effect.Effect<number, never, EngineClock> = Effect.flatMap(
  EngineClock,
  ({ clock }) => clock.currentTimeMillis
)

/** The current business time as a `Date`. */
export const nowDate: Effect.Effect<Date, never, EngineClock> = Effect.map(now, (ms) => new Date(ms))
