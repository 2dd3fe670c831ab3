/**
 * CommandDoctor: `tkbridge doctor` — runs every check (`Doctor`) and prints them, failing with exit
 * code 1 when any check fails, so it can gate a deployment script.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { CliFailure, configFile, configOption, jsonOption, loadConfig, withOutput } from "./CliCommon.ts"
import * as Doctor from "./Doctor.ts"
import type { OutputShape } from "./Output.ts"
import { emit, mark, paint, width } from "./Output.ts"
import * as StoreWiring from "./StoreWiring.ts"

/** Renders a report for people. */
export const render = (out: OutputShape, report: Doctor.Report): string => {
  const areaWidth = Math.max(...report.checks.map((c) => c.area.length))
  const subjects = report.checks.map((c) => (c.subject === undefined ? "" : c.subject))
  const subjectWidth = Math.max(0, ...subjects.map(width))
  const lines = report.checks.map((c, i) => {
    const subject = subjects[i]!
    const area = c.area.padEnd(areaWidth)
    const who = subjectWidth === 0 ? "" : `${subject}${" ".repeat(subjectWidth - width(subject))}  `
    const text =
      c.status === "fail"
        ? paint(out, "red", c.message)
        : c.status === "warn"
          ? paint(out, "yellow", c.message)
          : c.message
    return `  ${mark(out, c.status)} ${paint(out, "dim", area)}  ${who}${text}`
  })
  const { pass, warn, fail, skip } = report.counts
  const summary = [
    `${pass} passed`,
    warn > 0 ? paint(out, "yellow", `${warn} warning${warn === 1 ? "" : "s"}`) : undefined,
    fail > 0 ? paint(out, "red", `${fail} failed`) : undefined,
    skip > 0 ? `${skip} skipped` : undefined
  ].filter((s) => s !== undefined)
  return `${lines.join("\n")}\n\n${summary.join(", ")}\n`
}

/** `tkbridge doctor`. */
export const command = Command.make(
  "doctor",
  {
    config: configOption,
    json: jsonOption,
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("seconds to wait for each network check (default 10)"),
      Options.withDefault(10)
    )
  },
  ({ config, json, timeout }) =>
    withOutput(
      json,
      Effect.gen(function* () {
        const loaded = yield* loadConfig(configFile(config))
        // A store that cannot be opened still lets every other check run; token and quota checks say why.
        const state = yield* StoreWiring.state(loaded, "read").pipe(
          Effect.catchAll((error) =>
            Effect.succeed(
              Option.some({
                token: () => Effect.fail(error),
                saveToken: () => Effect.fail(error),
                quotaToday: () => Effect.fail(error)
              })
            )
          )
        )
        const report = yield* Doctor.run(loaded, {
          state: Option.getOrUndefined(state),
          timeoutMs: timeout * 1000
        })
        yield* emit(
          (out) => render(out, report),
          () => report
        )
        if (!report.ok) {
          return yield* new CliFailure({ message: `${report.counts.fail} check(s) failed`, exitCode: 1, printed: true })
        }
      }).pipe(Effect.scoped)
    )
).pipe(
  Command.withDescription(
    "check config, store, TLS chain and expiry of the public URL, webhook reachability, tokens, scopes, apps per licence and quota"
  )
)
