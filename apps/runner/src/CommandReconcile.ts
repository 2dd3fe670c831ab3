/**
 * CommandReconcile: `tkbridge reconcile` — a full reconciliation now, with a progress bar: every
 * connection's orders, after-sales and stock are polled (`Engine.reconcileNow`), what the webhooks
 * missed is recorded in the inbox and stock readings are applied, instead of waiting for the next
 * `flows.reconcile` tick.
 *
 * On an embedded store the engine that owns the file does it: when `tkbridge run` is up the command
 * asks it through its admin endpoint (see `AdminApi`), so the orders found are applied at once; when
 * none is, the command runs the engine itself for the pass (no webhook server, no schedules) and what
 * it recorded is applied there or by the next `tkbridge run`. PostgreSQL stores are shared by a
 * cluster of runners, which reconcile on their schedule; the command does not join it.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import { Command, Options } from "@effect/cli"
import { Engine } from "@tkbridge/engine"
import { Cause, Context, Duration, Effect, Layer, Option } from "effect"
import * as AdminApi from "./AdminApi.ts"
import {
  CliFailure,
  configFile,
  configOption,
  jsonOption,
  loadConfig,
  optionalOption,
  withOutput
} from "./CliCommon.ts"
import * as EngineWiring from "./EngineWiring.ts"
import * as OpsStore from "./OpsStore.ts"
import type { OutputShape } from "./Output.ts"
import { emit, paint, table } from "./Output.ts"
import * as Progress from "./Progress.ts"

/** The reconciliation's rows for people. */
export const render = (
  out: OutputShape,
  via: "runner" | "here",
  rows: ReadonlyArray<AdminApi.ReconcileRow>
): string => {
  const recorded = rows.reduce((n, r) => n + r.orders.recorded + r.afterSales.recorded, 0)
  const lines = table(
    out,
    [
      { header: "CONNECTION" },
      { header: "ORDERS READ", align: "right" },
      { header: "NEW", align: "right" },
      { header: "AFTER-SALES READ", align: "right" },
      { header: "NEW", align: "right" },
      { header: "STOCK READ", align: "right" },
      { header: "APPLIED", align: "right" },
      { header: "SKIPPED" }
    ],
    rows.map((r) => [
      r.connection,
      String(r.orders.read),
      String(r.orders.recorded),
      String(r.afterSales.read),
      String(r.afterSales.recorded),
      String(r.stock.read),
      String(r.stock.applied),
      r.skipped.length === 0 ? "" : paint(out, "yellow", r.skipped.join("; "))
    ])
  )
  const where =
    via === "runner"
      ? "the running tkbridge is applying them"
      : "they are in the inbox: `tkbridge run` applies what this pass did not"
  return `${lines}${recorded > 0 ? `${recorded} order or after-sale event${recorded === 1 ? "" : "s"} the webhooks missed: ${where}.\n` : "Nothing missed.\n"}`
}

const failed = (what: string) => (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause) as { readonly message?: unknown }
  return new CliFailure({ message: `${what}: ${String(error?.message ?? error)}`, exitCode: 1 })
}

/** `tkbridge reconcile`. */
export const command = Command.make(
  "reconcile",
  {
    config: configOption,
    json: jsonOption,
    connection: optionalOption(Options.text("connection"), "only this connection (default: every one)")
  },
  ({ config, json, connection }) =>
    withOutput(
      json,
      Effect.gen(function* () {
        const loaded = yield* loadConfig(configFile(config))
        const all = [...loaded.connections.keys()]
        if (Option.isSome(connection) && !all.includes(connection.value)) {
          return yield* new CliFailure({
            message: `no connection named ${connection.value} (the config has ${all.join(", ")})`,
            exitCode: 2
          })
        }
        const targets = Option.isSome(connection) ? [connection.value] : all
        const where = OpsStore.location(loaded)
        if (where === undefined) return yield* new CliFailure({ message: "unrecognised store URL", exitCode: 2 })
        if (where.dialect !== "sqlite") {
          return yield* new CliFailure({
            message:
              "the store is PostgreSQL: its runners reconcile on their schedule (flows.reconcile.every); `tkbridge reconcile` works on an embedded store",
            exitCode: 1
          })
        }

        // The running runner when there is one; else an engine of our own for this pass.
        const viaRunner = Fs.existsSync(AdminApi.endpointFile(where.filename))
        const pass: (c: string) => Effect.Effect<ReadonlyArray<AdminApi.ReconcileRow>, CliFailure> = viaRunner
          ? (c) =>
              AdminApi.reconcile(where.filename, c).pipe(
                Effect.mapError((e) => new CliFailure({ message: e.message, exitCode: 1 }))
              )
          : yield* Effect.gen(function* () {
              const root = yield* EngineWiring.root(loaded)
              const context = yield* Layer.build(
                Engine.layer({
                  root,
                  connections: EngineWiring.specs(loaded),
                  flows: EngineWiring.flows(loaded.config)
                })
              ).pipe(Effect.catchAllCause((c) => Effect.fail(failed("cannot start the engine")(c))))
              const engine = Context.get(context, Engine.Engine)
              yield* Effect.addFinalizer(() => engine.stop({ timeout: Duration.seconds(15) }))
              return (c: string) =>
                Effect.map(engine.reconcileNow(c), (r) => r.connections).pipe(
                  Effect.catchAllCause((cause) => Effect.fail(failed(`reconciling ${c} failed`)(cause)))
                )
            })

        const rows: Array<AdminApi.ReconcileRow> = []
        yield* Progress.withBar("reconciling", targets.length, (bar) =>
          Effect.forEach(targets, (c, i) =>
            Effect.map(pass(c), (done) => {
              rows.push(...done)
              bar.update(i + 1)
            })
          ).pipe(
            Effect.tap(() =>
              Effect.sync(() =>
                bar.finish(
                  `${rows.reduce((n, r) => n + r.orders.read + r.afterSales.read, 0)} orders and after-sales read, ${rows.reduce((n, r) => n + r.stock.read, 0)} stock readings`
                )
              )
            )
          )
        )
        const via = viaRunner ? ("runner" as const) : ("here" as const)
        yield* emit(
          (out) => render(out, via, rows),
          () => ({ via, connections: rows })
        )
      }).pipe(Effect.scoped)
    )
).pipe(
  Command.withDescription(
    "poll every connection's orders, after-sales and stock now (a full reconciliation, with a progress bar)"
  )
)
