/**
 * CommandConfig: `tkbridge config schema` (print or write the JSON Schema of the config, including
 * the first-party connectors' settings) and `tkbridge config check` (decode the file and report).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import { Command, Options } from "@effect/cli"
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import { configFile, configOption, jsonOption, loadConfig, optionalOption, withOutput } from "./CliCommon.ts"
import * as ConfigJsonSchema from "./ConfigJsonSchema.ts"
import * as Connectors from "./Connectors.ts"
import { emit, info, mark, table } from "./Output.ts"

/** The first-party connectors that load in this installation, for the schema. */
export const firstPartyManifests: Effect.Effect<
  ReadonlyArray<{ readonly ref: string; readonly manifest: Connector.Manifest }>
> = Effect.forEach(Object.keys(Connectors.firstParty), (ref) =>
  Connectors.load(ref).pipe(
    Effect.map((l) => ({ ref, manifest: l.connector.manifest })),
    Effect.option
  )
).pipe(Effect.map((all) => all.flatMap((o) => (o._tag === "Some" ? [o.value] : []))))

const schema = Command.make(
  "schema",
  {
    out: optionalOption(Options.file("out"), "write the schema to this file")
  },
  ({ out }) =>
    Effect.gen(function* () {
      const manifests = yield* firstPartyManifests
      const text = `${JSON.stringify(ConfigJsonSchema.make(manifests), null, 2)}\n`
      if (out._tag === "Some") {
        yield* Effect.promise(() => Fs.writeFile(out.value, text))
        process.stderr.write(`wrote ${out.value} (${manifests.map((m) => m.ref).join(", ") || "no connectors"})\n`)
      } else process.stdout.write(text)
    })
).pipe(Command.withDescription("print the JSON Schema of tkbridge.yaml (for editor completion)"))

const check = Command.make("check", { config: configOption, json: jsonOption }, ({ config, json }) =>
  withOutput(
    json,
    Effect.gen(function* () {
      const loaded = yield* loadConfig(configFile(config))
      const connections = [...loaded.connections.values()].map((c) => ({
        name: c.name,
        connector: c.loaded.connector.manifest.id,
        package: c.loaded.packageName,
        capabilities: c.capabilities,
        scopes: c.neededScopes
      }))
      yield* emit(
        (out) =>
          `${mark(out, "pass")} ${loaded.file} is valid\n\n${table(
            out,
            [{ header: "connection" }, { header: "connector" }, { header: "uses" }, { header: "scopes" }],
            connections.map((c) => [c.name, c.connector, c.capabilities.join(", ") || "-", c.scopes.join(", ") || "-"])
          )}`,
        () => ({ ok: true, file: loaded.file, connections, env: loaded.envReferences.map((r) => r.name) })
      )
      if (loaded.literalSecrets.length > 0) {
        yield* info("secrets written in the file: run `tkbridge doctor` for details")
      }
    })
  )
).pipe(Command.withDescription("check tkbridge.yaml and show what each connection is used for"))

/** `tkbridge config`. */
export const command = Command.make("config").pipe(
  Command.withDescription("config file tools"),
  Command.withSubcommands([schema, check])
)
