/**
 * CommandInit: `tkbridge init` — writes the commented starter config. Refuses to overwrite an
 * existing file unless `--force` is given, because that file holds a seller's whole setup.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { CliFailure, configFile, configOption, jsonOption, withOutput } from "./CliCommon.ts"
import * as ConfigTemplate from "./ConfigTemplate.ts"
import { emit, mark } from "./Output.ts"

/** `tkbridge init`. */
export const command = Command.make(
  "init",
  {
    config: configOption,
    json: jsonOption,
    force: Options.boolean("force").pipe(Options.withDescription("overwrite an existing config file"))
  },
  ({ config, json, force }) =>
    withOutput(
      json,
      Effect.gen(function* () {
        const file = configFile(config)
        yield* Effect.promise(() => Fs.mkdir(Path.dirname(Path.resolve(file)), { recursive: true }))
        const written = yield* Effect.promise(() =>
          Fs.writeFile(file, ConfigTemplate.starter, { flag: force ? "w" : "wx" }).then(
            () => true,
            (e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? false : Promise.reject(e))
          )
        )
        if (!written) {
          return yield* new CliFailure({
            message: `${file} already exists — pass --force to overwrite it`,
            exitCode: 1
          })
        }
        yield* emit(
          (out) =>
            `${mark(out, "pass")} wrote ${file}\n\nNext:\n  1. add your connections (TikTok Shop, Shopify, 4PX, your ERP) and flows\n  2. tkbridge auth <connection>   for each shop\n  3. tkbridge doctor\n  4. tkbridge run\n`,
          () => ({ ok: true, file: Path.resolve(file) })
        )
      })
    )
).pipe(Command.withDescription("write a commented starter tkbridge.yaml"))
