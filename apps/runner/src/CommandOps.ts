/**
 * CommandOps: the operator's commands over the sync state — `stock` (the pool per item and channel,
 * with the explanation of a published number), `orders`, `dlq list|show|replay|discard`, `audit` —
 * and `demo`. Their options are final; their bodies read the store's repositories and drive the
 * engine, which this build does not include yet, so each one checks the config and then says
 * exactly what it is missing (exit code 1) rather than printing an empty table.
 *
 * @since 0.1.0
 */
import { Args, Command, Options } from "@effect/cli"
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

/** `tkbridge stock`. */
export const stock = Command.make(
  "stock",
  {
    ...common,
    item: Options.text("item").pipe(Options.withDescription("only this item"), Options.optional),
    explain: Options.text("explain").pipe(
      Options.withDescription("explain the number published for <connection>/<sku>"),
      Options.optional
    )
  },
  ({ config, json }) => unavailable(config, json, "the pool table")
).pipe(Command.withDescription("the pool: on hand, reserved, available and published per item and channel"))

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

const dlqList = Command.make(
  "list",
  {
    ...common,
    connection: connectionFilter,
    reason: Options.text("reason").pipe(Options.withDescription("only this reason code"), Options.optional),
    olderThan: Options.text("older-than").pipe(
      Options.withDescription("only entries older than this (e.g. 1h)"),
      Options.optional
    ),
    limit
  },
  ({ config, json }) => unavailable(config, json, "the dead-letter list")
).pipe(Command.withDescription("dead letters waiting for an operator"))

const dlqShow = Command.make("show", { ...common, id: Args.text({ name: "id" }) }, ({ config, json }) =>
  unavailable(config, json, "dead-letter details")
).pipe(Command.withDescription("one dead letter: request (redacted cURL), response, error, attempts"))

const dlqReplay = Command.make(
  "replay",
  {
    ...common,
    ids: Args.text({ name: "id" }).pipe(Args.repeated),
    all: Options.boolean("all").pipe(Options.withDescription("replay every entry matching the filters")),
    connection: connectionFilter,
    reason: Options.text("reason").pipe(Options.optional)
  },
  ({ config, json }) => unavailable(config, json, "dead-letter replay")
).pipe(Command.withDescription("send dead letters through the normal path again"))

const dlqDiscard = Command.make(
  "discard",
  {
    ...common,
    ids: Args.text({ name: "id" }).pipe(Args.atLeast(1)),
    reason: Options.text("reason").pipe(Options.withDescription("why (kept in the audit log)"))
  },
  ({ config, json }) => unavailable(config, json, "dead-letter discard")
).pipe(Command.withDescription("drop dead letters, recording why"))

/** `tkbridge dlq`. */
export const dlq = Command.make("dlq").pipe(
  Command.withDescription("the dead-letter queue"),
  Command.withSubcommands([dlqList, dlqShow, dlqReplay, dlqDiscard])
)

/** `tkbridge audit`. */
export const audit = Command.make(
  "audit",
  {
    ...common,
    connection: connectionFilter,
    item: Options.text("item").pipe(Options.optional),
    since: Options.text("since").pipe(
      Options.withDescription("only entries newer than this (e.g. 24h)"),
      Options.optional
    ),
    limit
  },
  ({ config, json }) => unavailable(config, json, "the audit log")
).pipe(Command.withDescription("quantity decisions and outbound writes (PII masked)"))

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
