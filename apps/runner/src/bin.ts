#!/usr/bin/env node
/**
 * The `tkbridge` executable: runs the CLI and exits with its code. SIGINT/SIGTERM interrupt the
 * running command so `tkbridge run` shuts down gracefully.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { main } from "./Cli.ts"

NodeRuntime.runMain(
  Effect.flatMap(main(process.argv), (code) => Effect.sync(() => (process.exitCode = code))),
  { disableErrorReporting: true, disablePrettyLogger: true }
)
