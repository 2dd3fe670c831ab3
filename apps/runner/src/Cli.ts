/**
 * Cli: the `tkbridge` command tree and its entry point. Errors are printed once, plainly, and turned
 * into the exit code: 0 success, 1 a check or operation failed, 2 the config or command line is wrong.
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import * as CommandAudit from "./CommandAudit.ts"
import * as CommandAuth from "./CommandAuth.ts"
import * as CommandConfig from "./CommandConfig.ts"
import * as CommandDemo from "./CommandDemo.ts"
import * as CommandDlq from "./CommandDlq.ts"
import * as CommandDoctor from "./CommandDoctor.ts"
import * as CommandInit from "./CommandInit.ts"
import * as CommandOrders from "./CommandOrders.ts"
import * as CommandReconcile from "./CommandReconcile.ts"
import * as CommandRun from "./CommandRun.ts"
import * as CommandStock from "./CommandStock.ts"

/** The root command. */
export const root = Command.make("tkbridge").pipe(
  Command.withDescription("one inventory pool across TikTok Shop, Shopify, 4PX and your ERP"),
  Command.withSubcommands([
    CommandInit.command,
    CommandConfig.command,
    CommandAuth.command,
    CommandDoctor.command,
    CommandRun.command,
    CommandDemo.command,
    CommandStock.command,
    CommandOrders.command,
    CommandReconcile.command,
    CommandDlq.command,
    CommandAudit.command
  ])
)

const cli = Command.run(root, { name: "tkbridge", version: CommandRun.VERSION })

/** Runs the CLI on `argv` (as `process.argv`) and returns the exit code. */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  cli(argv).pipe(
    Effect.provide(NodeContext.layer),
    Effect.exit,
    Effect.map((exit) => {
      if (Exit.isSuccess(exit)) return 0
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const error = failure.value as { _tag?: string; message?: string; exitCode?: number; printed?: boolean }
        if (ValidationError.isValidationError(failure.value)) return 2
        if (error._tag === "CliFailure") {
          if (!error.printed) process.stderr.write(`tkbridge: ${error.message}\n`)
          return error.exitCode ?? 1
        }
        process.stderr.write(`tkbridge: ${error.message ?? String(failure.value)}\n`)
        return 1
      }
      if (Cause.isInterruptedOnly(exit.cause)) return 130
      process.stderr.write(`tkbridge: unexpected failure\n${Cause.pretty(exit.cause)}\n`)
      return 1
    })
  )
