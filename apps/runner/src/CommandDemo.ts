/**
 * CommandDemo: `tkbridge demo` — every sandbox, the runner and simulated shoppers on one machine,
 * with live progress and a summary at the end (see `DemoRun`, loaded only when the demo runs).
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Duration, Effect, Schema } from "effect"
import { CliFailure, jsonOption, withOutput } from "./CliCommon.ts"
import { DurationText } from "./Config.ts"
import * as Metrics from "./Metrics.ts"

/** `tkbridge demo`. */
export const command = Command.make(
  "demo",
  {
    json: jsonOption,
    duration: Options.text("duration").pipe(
      Options.withDescription("how long shoppers buy (default 30s)"),
      Options.withDefault("30s")
    ),
    rate: Options.float("rate").pipe(
      Options.withDescription("orders per second across both channels (default 5)"),
      Options.withDefault(5)
    ),
    seed: Options.integer("seed").pipe(
      Options.withDescription("random seed for a repeatable run"),
      Options.withDefault(1)
    ),
    keep: Options.boolean("keep").pipe(Options.withDescription("keep the temporary config, store and logs"))
  },
  ({ json, duration, rate, seed, keep }) =>
    withOutput(
      json,
      Effect.gen(function* () {
        const d = yield* Schema.decodeUnknown(DurationText)(duration).pipe(
          Effect.mapError(
            () =>
              new CliFailure({ message: `--duration ${duration}: expected a duration such as 30s or 2m`, exitCode: 2 })
          )
        )
        if (!(rate > 0) || rate > 500) {
          return yield* new CliFailure({ message: "--rate must be between 0 and 500 orders per second", exitCode: 2 })
        }
        const demo = yield* Effect.promise(() => import("./DemoRun.ts"))
        yield* demo
          .run({ durationMs: Duration.toMillis(d), rate, seed, keep })
          .pipe(Effect.provide(Metrics.Metrics.layer))
      })
    )
).pipe(Command.withDescription("every sandbox + the runner + simulated shoppers, with live progress and a summary"))
