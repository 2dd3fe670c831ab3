/**
 * CliCommon: options every command shares (`--config`, `--json`, `--limit`), the failure type
 * commands exit with, loading the config with its errors printed the way a seller can act on them,
 * and the frame of the operator commands that only read the config's store and pool sections.
 *
 * Exit codes: 0 success; 1 a check or an operation failed; 2 the config or the command line is wrong.
 *
 * @since 0.1.0
 */
import { Options } from "@effect/cli"
import type { Layer, Option } from "effect"
import { Effect, Schema } from "effect"
import * as ConfigLoader from "./ConfigLoader.ts"
import { layerProcess, Output, paint } from "./Output.ts"

/** `--config <file>` (default `tkbridge.yaml`, or `$TKBRIDGE_CONFIG`). */
export const configOption = Options.file("config").pipe(
  Options.withAlias("c"),
  Options.withDescription("the config file (default: tkbridge.yaml, or $TKBRIDGE_CONFIG)"),
  Options.optional
)

/** `--json`: one JSON document on stdout instead of human output. */
export const jsonOption = Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))

/** An option that may be left out, with its help text. */
export const optionalOption = <A>(option: Options.Options<A>, description: string): Options.Options<Option.Option<A>> =>
  option.pipe(Options.withDescription(description), Options.optional)

/** `--limit <n>`: at most this many rows (default `byDefault`). */
export const limitOption = (byDefault: number): Options.Options<number> =>
  Options.integer("limit").pipe(
    Options.withDescription(`at most this many (default ${byDefault})`),
    Options.withDefault(byDefault)
  )

/** A command failed; `exitCode` says how. The message has already been printed when `printed` is set. */
export class CliFailure extends Schema.TaggedError<CliFailure>("tkbridge/CliFailure")("CliFailure", {
  message: Schema.String,
  exitCode: Schema.Number,
  printed: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/** The config file a command uses. */
export const configFile = (option: { readonly _tag: "Some"; readonly value: string } | { readonly _tag: "None" }) =>
  option._tag === "Some" ? option.value : ConfigLoader.defaultFile()

/** Runs a command body with output set up for `--json` or people. */
export const withOutput = <A, E, R>(json: boolean, body: Effect.Effect<A, E, R>) =>
  Effect.provide(body, layerProcess({ json }) satisfies Layer.Layer<Output>)

/** Loads the config, printing its problems (with line and column) and failing with exit code 2 when it is invalid. */
export const loadConfig = (file: string, options: { readonly shallow?: boolean | undefined } = {}) =>
  ConfigLoader.load(file, options).pipe(
    Effect.catchTags({
      ConfigInvalid: (e) =>
        Effect.flatMap(Output, (out) => {
          if (out.json) {
            out.write(
              `${JSON.stringify({ ok: false, error: { type: "ConfigInvalid", file: e.file, issues: e.issues } }, null, 2)}\n`
            )
          } else {
            out.writeErr(`${paint(out, "red", "✗")} ${e.file} is not valid:\n`)
            for (const issue of e.issues) out.writeErr(`  ${ConfigLoader.formatIssue(e.file, issue)}\n`)
          }
          return new CliFailure({ message: `${e.file} is not valid`, exitCode: 2, printed: true })
        }),
      ConfigMissing: (e) => new CliFailure({ message: e.message, exitCode: 2 })
    })
  )

/** The failures of the store access the operator commands share (`OpsStore`, the ledger, the sync-state store). */
interface StoreFailure {
  readonly _tag: "StateUnavailable" | "StoreError" | "LedgerUnavailable"
  readonly message: string
}

const storeFailureTags: ReadonlySet<string> = new Set(["StateUnavailable", "StoreError", "LedgerUnavailable"])

const isStoreFailure = <E>(e: E): e is Extract<E, StoreFailure> =>
  typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" && storeFailureTags.has(e._tag)

/** The store could not be opened, read or written: the command fails with exit code 1 and the store's message. */
const storeFailures = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(effect, isStoreFailure, (e) => Effect.fail(new CliFailure({ message: e.message, exitCode: 1 })))

/**
 * Runs an operator command (`audit`, `orders`, `stock`, `dlq`): output set up for `--json`, the
 * config's store and pool sections loaded (no connector), and the store's failures exit with code 1.
 */
export const withStoreConfig = <A, E, R>(
  input: { readonly config: Option.Option<string>; readonly json: boolean },
  body: (loaded: ConfigLoader.LoadedConfig) => Effect.Effect<A, E, R>
) =>
  withOutput(input.json, storeFailures(Effect.flatMap(loadConfig(configFile(input.config), { shallow: true }), body)))
