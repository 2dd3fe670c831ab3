/**
 * CommandRun: `tkbridge run` — the sync engine behind the webhook server (`/webhooks/<connection>`,
 * `/healthz`, `/metrics`), the schedules, and the initial catalogue import with a progress bar; JSON
 * logs with personal data masked. SIGINT/SIGTERM stop it gracefully: the listener closes first, work
 * in flight finishes, and the process exits 0 (see `EngineWiring`).
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { configFile, configOption, loadConfig, optionalOption, withOutput } from "./CliCommon.ts"
import { storeDisplay } from "./Config.ts"
import * as EngineWiring from "./EngineWiring.ts"
import * as Log from "./Log.ts"
import * as Metrics from "./Metrics.ts"

/** The runner's version, reported by `/healthz`. */
export const VERSION = EngineWiring.VERSION

/** `tkbridge run`. */
export const command = Command.make(
  "run",
  {
    config: configOption,
    port: optionalOption(Options.integer("port"), "override server.port")
  },
  ({ config, port }) =>
    withOutput(
      false,
      Effect.gen(function* () {
        const loaded = yield* loadConfig(configFile(config))
        yield* Effect.logInfo("tkbridge starting").pipe(
          Effect.annotateLogs({
            connections: [...loaded.connections.keys()].join(","),
            store: storeDisplay(loaded.config)
          })
        )
        const running = yield* EngineWiring.start(loaded, { port: Option.getOrUndefined(port) })
        yield* Effect.logInfo("tkbridge running").pipe(Effect.annotateLogs({ url: running.baseUrl }))
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(Metrics.Metrics.layer))
    ).pipe(Effect.provide(Log.layerJson()))
).pipe(Command.withDescription("serve webhooks and keep every channel in sync (until Ctrl-C)"))
