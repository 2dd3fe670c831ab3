/**
 * EngineLifecycle: whether the schedules run, whether the engine takes new work, and how much is in
 * flight — so a graceful stop
 * lets the inbox entry being applied (its transaction) and the workflow starts in progress finish
 * before the process lets go of the store, and takes nothing new meanwhile.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Option, Ref } from "effect"

/** Work admission and in-flight accounting. */
export interface EngineLifecycleShape {
  /** Runs `effect` unless the engine is stopping (then `None`), counting it as in flight. */
  readonly track: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, E, R>
  /** Takes work again (after a stop). */
  readonly open: Effect.Effect<void>
  /** Stops taking work and waits until nothing is in flight, at most `timeout`. */
  readonly close: (timeout: Duration.DurationInput) => Effect.Effect<void>
  readonly accepting: Effect.Effect<boolean>
  readonly inFlight: Effect.Effect<number>
  /** Whether the schedules run (set by the engine's `start` and `stop`). */
  readonly started: Effect.Effect<boolean>
  readonly setStarted: (started: boolean) => Effect.Effect<void>
}

/** The engine's lifecycle. */
export class EngineLifecycle extends Context.Tag("@tkbridge/engine/EngineLifecycle")<
  EngineLifecycle,
  EngineLifecycleShape
>() {}

/** A lifecycle that takes work from the start. */
export const make: Effect.Effect<EngineLifecycleShape> = Effect.gen(function* () {
  const accepting = yield* Ref.make(true)
  const inFlight = yield* Ref.make(0)
  const started = yield* Ref.make(false)
  return {
    track: (effect) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          if (!(yield* Ref.get(accepting))) return Option.none()
          yield* Ref.update(inFlight, (n) => n + 1)
          return yield* restore(Effect.map(effect, Option.some)).pipe(
            Effect.ensuring(Ref.update(inFlight, (n) => n - 1))
          )
        })
      ),
    open: Ref.set(accepting, true),
    close: (timeout) =>
      Effect.gen(function* () {
        yield* Ref.set(accepting, false)
        const waitIdle = Effect.gen(function* () {
          while ((yield* Ref.get(inFlight)) > 0) yield* Effect.sleep(Duration.millis(20))
        })
        yield* Effect.timeout(waitIdle, timeout).pipe(
          Effect.catchTag("TimeoutException", () =>
            Effect.flatMap(Ref.get(inFlight), (n) =>
              Effect.logWarning(
                `engine stop: ${n} piece(s) of work still in flight after the timeout; they resume on restart`
              )
            )
          )
        )
      }),
    accepting: Ref.get(accepting),
    inFlight: Ref.get(inFlight),
    started: Ref.get(started),
    setStarted: (value) => Ref.set(started, value)
  }
})

/** The lifecycle as a layer. */
export const layer: Layer.Layer<EngineLifecycle> = Layer.effect(EngineLifecycle, make)
