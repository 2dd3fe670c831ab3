/**
 * CommandOps: the operator's commands over the sync state — `stock` (the pool per item and channel,
 * with the explanation of a published number), `orders`, `dlq list|show|replay|discard`, `audit` —
 * and `demo`. Their options are final; their bodies read the store's repositories and drive the
 * engine, which this build does not include yet, so each one checks the config and then says
 * exactly what it is missing (exit code 1) rather than printing an empty table.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { CliFailure, configFile, configOption, jsonOption, loadConfig, withOutput } from "./CliCommon.ts"

const unavailable = (
  config: { readonly _tag: "Some"; readonly value: string } | { readonly _tag: "None" },
  json: boolean,
  what: string
) =>
  withOutput(
    json,
    Effect.gen(function* () {
      yield* loadConfig(configFile(config), { shallow: true })
      return yield* new CliFailure({
        message: `${what} is not available in this build: it needs the sync-state store and engine`,
        exitCode: 1
      })
    })
  )

const common = { config: configOption, json: jsonOption }
const connectionFilter = Options.text("connection").pipe(
  Options.withDescription("only this connection"),
  Options.optional
)
const limit = Options.integer("limit").pipe(
  Options.withDescription("at most this many rows (default 50)"),
  Options.withDefault(50)
)

/** `tkbridge orders`. */
export const orders = Command.make(
  "orders",
  {
    ...common,
    connection: connectionFilter,
    status: Options.text("status").pipe(Options.withDescription("only orders in this status"), Options.optional),
    limit
  },
  ({ config, json }) => unavailable(config, json, "the order list")
).pipe(Command.withDescription("recent orders, their reservations, shipments and tracking"))

/** `tkbridge demo`. */
export const demo = Command.make(
  "demo",
  {
    json: jsonOption,
    duration: Options.text("duration").pipe(
      Options.withDescription("how long shoppers buy (default 30s)"),
      Options.withDefault("30s")
    ),
    rate: Options.integer("rate").pipe(
      Options.withDescription("orders per second across channels (default 5)"),
      Options.withDefault(5)
    ),
    seed: Options.integer("seed").pipe(
      Options.withDescription("random seed for a reproducible run"),
      Options.withDefault(1)
    )
  },
  ({ json }) =>
    withOutput(
      json,
      new CliFailure({ message: "the demo is not available in this build: it needs the sync engine", exitCode: 1 })
    )
).pipe(Command.withDescription("every sandbox + the runner + simulated shoppers; prints a summary"))
