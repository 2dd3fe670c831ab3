/**
 * CommandRun: `tkbridge run` — the webhook server with `/healthz` and `/metrics`, JSON logs with
 * personal data masked, and the sync engine behind the webhook edge. SIGINT/SIGTERM close the
 * listener first, then let in-flight work finish before the process exits.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { CliFailure, configFile, configOption, loadConfig, withOutput } from "./CliCommon.ts"
import { storeDisplay } from "./Config.ts"
import * as EngineWiring from "./EngineWiring.ts"
import * as Log from "./Log.ts"
import * as Metrics from "./Metrics.ts"
import * as SelfTest from "./SelfTest.ts"
import * as Server from "./Server.ts"

/** The server and engine for a loaded config, as one layer that runs until interrupted. */
export const serve = (
  loaded: import("./ConfigLoader.ts").LoadedConfig,
  options: { readonly port?: number | undefined } = {}
) =>
  Effect.gen(function* () {
    const { config } = loaded
    const key = yield* SelfTest.loadKey(loaded.dir, config.server.selfTestSecret)
    const maxBody = Math.max(
      1024 * 1024,
      ...[...loaded.connections.values()].map((c) => c.loaded.connector.manifest.limits.webhookMaxBytes ?? 0)
    )
    const tls =
      config.server.tls === undefined
        ? undefined
        : {
            cert: resolvePath(loaded.dir, config.server.tls.cert),
            key: resolvePath(loaded.dir, config.server.tls.key)
          }
    if (tls !== undefined) {
      for (const [key, file] of [
        ["cert", tls.cert],
        ["key", tls.key]
      ] as const) {
        yield* Effect.tryPromise({
          try: () => Fs.access(file, Fs.constants.R_OK),
          catch: () => new CliFailure({ message: `cannot read server.tls.${key} ${file}`, exitCode: 2 })
        })
      }
    }
    const server = Server.layer({
      port: options.port ?? config.server.port,
      host: config.server.host,
      tls,
      connections: [...loaded.connections.keys()],
      selfTestKey: key,
      maxBodyBytes: maxBody,
      version: VERSION
    })
    const engine = EngineWiring.engine(loaded)
    if (Option.isNone(engine)) {
      yield* Effect.logWarning(
        "the sync engine is not part of this build: serving health, metrics and doctor's self-test only; webhook deliveries are answered 503 so platforms retry them later"
      )
      return server
    }
    return server.pipe(Layer.provide(engine.value))
  })

const resolvePath = (dir: string, file: string) => Path.resolve(dir, file)

/** The runner's version, reported by `/healthz`. */
export const VERSION = "0.1.0"

/** `tkbridge run`. */
export const command = Command.make(
  "run",
  {
    config: configOption,
    port: Options.integer("port").pipe(Options.withDescription("override server.port"), Options.optional)
  },
  ({ config, port }) =>
    withOutput(
      false,
      Effect.gen(function* () {
        const loaded = yield* loadConfig(configFile(config))
        const app = yield* serve(loaded, { port: Option.getOrUndefined(port) })
        yield* Effect.logInfo("tkbridge running").pipe(
          Effect.annotateLogs({
            connections: [...loaded.connections.keys()].join(","),
            store: storeDisplay(loaded.config)
          })
        )
        return yield* Layer.launch(app.pipe(Layer.provide(Metrics.Metrics.layer)))
      })
    ).pipe(Effect.provide(Log.layerJson()))
).pipe(Command.withDescription("serve webhooks and keep every channel in sync (until Ctrl-C)"))
