/**
 * CommandDlq: `tkbridge dlq list|show|replay|discard` — the dead-letter queue, where work that could
 * not be done waits for an operator with its whole context.
 *
 * - `list` filters by connection, reason, kind, status and age;
 * - `show <id>` prints the failed request as a redacted cURL line, the response, the error and every
 *   attempt, and the source row (the delivery, the listing or the job);
 * - `replay <id>…` or `replay --all [filters]` sends work back through the normal path (a progress
 *   bar for bulk replays); replaying twice is a no-op;
 * - `discard <id>… --reason` drops letters for good; they stay listed with the reason, and the
 *   audit trail records who did it and why.
 *
 * Reads open the store read-only beside a running runner; replay and discard go through the
 * running runner's admin endpoint when it owns the embedded store (see `OpsStore`, `AdminApi`).
 *
 * @since 0.1.0
 */
import { Args, Command, Options } from "@effect/cli"
import { DeadLetter } from "@tkbridge/core"
import type { Scope } from "effect"
import { Clock, Context, Duration, Effect, Option, Schema } from "effect"
import * as AdminApi from "./AdminApi.ts"
import { CliFailure, configOption, jsonOption, limitOption, optionalOption, withStoreConfig } from "./CliCommon.ts"
import { DurationText } from "./Config.ts"
import type { LoadedConfig } from "./ConfigLoader.ts"
import * as OpsStore from "./OpsStore.ts"
import type { OutputShape } from "./Output.ts"
import { emit, paint, table } from "./Output.ts"
import * as Progress from "./Progress.ts"

const reasons = DeadLetter.Reason.literals
const kinds = DeadLetter.Kind.literals

/** `1h`, `30m`, `7d` … as a duration, or a command-line error naming the option. */
export const parseAge = (option: string, text: string): Effect.Effect<Duration.Duration, CliFailure> =>
  Schema.decodeUnknown(DurationText)(text).pipe(
    Effect.mapError(
      () => new CliFailure({ message: `--${option} ${text}: expected a duration such as 30m, 1h or 7d`, exitCode: 2 })
    )
  )

/** How long ago, for people: `42s`, `5m`, `3h`, `2d`. */
export const ago = (now: number, at: Date): string => {
  const s = Math.max(0, Math.round((now - at.getTime()) / 1000))
  if (s < 90) return `${s}s`
  if (s < 90 * 60) return `${Math.round(s / 60)}m`
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

const ellipsis = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

/** The filter options shared by `list` and `replay --all`. */
const filterOptions = {
  connection: optionalOption(Options.text("connection"), "only this connection"),
  reason: optionalOption(Options.choice("reason", reasons), "only this reason"),
  kind: optionalOption(Options.choice("kind", kinds), "only inbox deliveries, stock pushes or jobs"),
  olderThan: optionalOption(
    Options.text("older-than"),
    "only letters that first failed longer ago than this (e.g. 1h)"
  ),
  newerThan: optionalOption(Options.text("newer-than"), "only letters that first failed within this (e.g. 30m)")
}

interface FilterInput {
  readonly connection: Option.Option<string>
  readonly reason: Option.Option<DeadLetter.Reason>
  readonly kind: Option.Option<DeadLetter.Kind>
  readonly olderThan: Option.Option<string>
  readonly newerThan: Option.Option<string>
}

const toFilter = (input: FilterInput, extra: Partial<DeadLetter.Filter>) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const older = Option.isSome(input.olderThan) ? yield* parseAge("older-than", input.olderThan.value) : undefined
    const newer = Option.isSome(input.newerThan) ? yield* parseAge("newer-than", input.newerThan.value) : undefined
    return {
      connection: Option.getOrUndefined(input.connection),
      reason: Option.getOrUndefined(input.reason),
      kind: Option.getOrUndefined(input.kind),
      olderThan: older === undefined ? undefined : new Date(now - Duration.toMillis(older)),
      newerThan: newer === undefined ? undefined : new Date(now - Duration.toMillis(newer)),
      ...extra
    } satisfies DeadLetter.Filter
  })

/** Renders letters as a table. */
export const renderList = (out: OutputShape, now: number, letters: ReadonlyArray<DeadLetter.Summary>): string => {
  if (letters.length === 0) return "No dead letters match.\n"
  return table(
    out,
    [
      { header: "ID", align: "right" },
      { header: "AGE", align: "right" },
      { header: "CONNECTION" },
      { header: "KIND" },
      { header: "KEY" },
      { header: "REASON" },
      { header: "HTTP", align: "right" },
      { header: "TRIES", align: "right" },
      { header: "STATUS" },
      { header: "MESSAGE" }
    ],
    letters.map((l) => [
      String(l.id),
      ago(now, l.firstFailedAt),
      l.connection,
      l.kind,
      ellipsis(l.key, 28),
      l.reason,
      l.httpStatus === undefined ? "" : String(l.httpStatus),
      String(l.attempts),
      l.status === "open" ? paint(out, "red", "open") : l.status,
      ellipsis(l.message.split("\n")[0] ?? "", 60)
    ])
  )
}

const dlqList = Command.make(
  "list",
  {
    config: configOption,
    json: jsonOption,
    ...filterOptions,
    status: Options.choice("status", ["open", "replayed", "discarded", "any"] as const).pipe(
      Options.withDescription("open (default), replayed, discarded or any"),
      Options.withDefault("open" as const)
    ),
    limit: limitOption(100)
  },
  (input) =>
    withStoreConfig(input, (loaded) =>
      Effect.gen(function* () {
        const filter = yield* toFilter(input, { status: input.status, limit: input.limit })
        const { letters, total } = yield* OpsStore.withRead(
          loaded,
          Effect.flatMap(DeadLetter.DeadLetters, (dlq) =>
            Effect.all({ letters: dlq.list(filter), total: dlq.count(filter) })
          )
        )
        const now = yield* Clock.currentTimeMillis
        yield* emit(
          (out) =>
            renderList(out, now, letters) +
            (total > letters.length ? paint(out, "dim", `… ${total - letters.length} more (raise --limit)\n`) : ""),
          () => ({ total, letters })
        )
      })
    )
).pipe(Command.withDescription("dead letters waiting for an operator (filter by connection, reason, kind, age)"))

/** One letter with its whole context, for people. */
export const renderShow = (out: OutputShape, l: DeadLetter.DeadLetter): string => {
  const lines: Array<string> = []
  const field = (name: string, value: string | undefined) => {
    if (value !== undefined) lines.push(`${paint(out, "dim", name.padEnd(12))} ${value}`)
  }
  lines.push(paint(out, "bold", `dead letter ${l.id}`))
  field("connection", l.connection)
  field("kind", l.kind)
  field("key", l.key)
  field("reason", l.reason)
  field("status", `${l.status}${l.discardReason ? ` (${l.discardReason})` : ""}`)
  field(
    "failed",
    `${l.firstFailedAt.toISOString()} first, ${l.lastFailedAt.toISOString()} last, ${l.attempts} attempt(s)`
  )
  if (l.replayCount > 0) field("replayed", `${l.replayCount} time(s), last ${l.replayedAt?.toISOString() ?? "?"}`)
  field("message", l.message)
  if (l.error !== undefined) {
    const e = l.error as { readonly _tag: string; readonly message: string; readonly code?: string | undefined }
    field("error", `${e._tag}${e.code ? ` ${e.code}` : ""}: ${e.message}`)
  }
  if (l.exchange !== undefined) {
    lines.push("", paint(out, "bold", "request (redacted)"), l.exchange.curl)
    lines.push("", paint(out, "bold", `response${l.exchange.status !== undefined ? ` ${l.exchange.status}` : ""}`))
    for (const [k, v] of Object.entries(l.exchange.responseHeaders ?? {})) lines.push(`${k}: ${v}`)
    if (l.exchange.responseBody !== undefined) lines.push("", l.exchange.responseBody)
  }
  if (l.history.length > 0) {
    lines.push("", paint(out, "bold", "attempts"))
    l.history.forEach((a, i) => {
      const e = a.error as { readonly _tag: string } | undefined
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${a.at.toISOString()}  ${e ? `${e._tag}: ` : ""}${a.message.split("\n")[0]}${
          a.exchange?.status !== undefined ? ` (HTTP ${a.exchange.status})` : ""
        }`
      )
    })
  }
  if (l.source !== undefined) {
    lines.push("", paint(out, "bold", "source"), JSON.stringify(l.source, null, 2))
  }
  return `${lines.join("\n")}\n`
}

const idArg = Args.integer({ name: "id" })

const dlqShow = Command.make("show", { config: configOption, json: jsonOption, id: idArg }, ({ config, json, id }) =>
  withStoreConfig({ config, json }, (loaded) =>
    Effect.gen(function* () {
      const letter = yield* OpsStore.withRead(
        loaded,
        Effect.flatMap(DeadLetter.DeadLetters, (dlq) => dlq.show(id))
      )
      if (Option.isNone(letter)) return yield* new CliFailure({ message: `no dead letter ${id}`, exitCode: 1 })
      yield* emit(
        (out) => renderShow(out, letter.value),
        () => letter.value
      )
    })
  )
).pipe(Command.withDescription("one dead letter: request (redacted cURL), response, error, attempts, source"))

/** Replays and discards, done here (the store is free) or by the runner that owns it. */
interface Mutator {
  readonly via: "store" | "runner"
  readonly replay: (ids: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<DeadLetter.ReplayOutcome>, CliFailure>
  readonly discard: (
    ids: ReadonlyArray<number>,
    reason: string
  ) => Effect.Effect<ReadonlyArray<DeadLetter.DiscardOutcome>, CliFailure>
}

const failed = (e: { readonly message: string }) => new CliFailure({ message: e.message, exitCode: 1 })

const mutator = (loaded: LoadedConfig): Effect.Effect<Mutator, CliFailure, Scope.Scope> =>
  OpsStore.write(loaded).pipe(
    Effect.map((context): Mutator => {
      const dlq = Context.get(context, DeadLetter.DeadLetters)
      return {
        via: "store",
        replay: (ids) => Effect.forEach(ids, (id) => dlq.replay(id)).pipe(Effect.mapError(failed)),
        discard: (ids, reason) => Effect.forEach(ids, (id) => dlq.discard(id, reason)).pipe(Effect.mapError(failed))
      }
    }),
    Effect.catchTags({
      StoreHeld: (held) =>
        Effect.succeed<Mutator>({
          via: "runner",
          replay: (ids) => AdminApi.replay(held.filename, ids).pipe(Effect.mapError(failed)),
          discard: (ids, reason) => AdminApi.discard(held.filename, ids, reason).pipe(Effect.mapError(failed))
        }),
      StateUnavailable: (e) => Effect.fail(failed(e))
    })
  )

const count = <A extends { readonly outcome: string }>(outcomes: ReadonlyArray<A>) => {
  const by: Record<string, number> = {}
  for (const o of outcomes) by[o.outcome] = (by[o.outcome] ?? 0) + 1
  return by
}

const dlqReplay = Command.make(
  "replay",
  {
    config: configOption,
    json: jsonOption,
    ids: idArg.pipe(Args.repeated),
    all: Options.boolean("all").pipe(Options.withDescription("replay every open letter matching the filters")),
    ...filterOptions
  },
  (input) =>
    withStoreConfig(input, (loaded) =>
      Effect.gen(function* () {
        const filtered =
          Option.isSome(input.connection) ||
          Option.isSome(input.reason) ||
          Option.isSome(input.kind) ||
          Option.isSome(input.olderThan) ||
          Option.isSome(input.newerThan)
        if (input.ids.length > 0 && (input.all || filtered)) {
          return yield* new CliFailure({
            message: "name letters by id, or use --all with filters — not both",
            exitCode: 2
          })
        }
        if (input.ids.length === 0 && !input.all) {
          return yield* new CliFailure({
            message: "name the letters to replay (`tkbridge dlq replay 12 13`) or use --all with filters",
            exitCode: 2
          })
        }
        const ids =
          input.ids.length > 0
            ? input.ids
            : yield* Effect.gen(function* () {
                const filter = yield* toFilter(input, { status: "open", limit: 1_000_000 })
                return yield* OpsStore.withRead(
                  loaded,
                  Effect.map(
                    Effect.flatMap(DeadLetter.DeadLetters, (dlq) => dlq.list(filter)),
                    (letters) => letters.map((l) => l.id)
                  )
                )
              })
        const m = yield* mutator(loaded)
        const outcomes: Array<DeadLetter.ReplayOutcome> = []
        const batch = 50
        yield* Progress.withBar("replaying dead letters", ids.length, (bar) =>
          Effect.gen(function* () {
            for (let i = 0; i < ids.length; i += batch) {
              outcomes.push(...(yield* m.replay(ids.slice(i, i + batch))))
              if (ids.length > 1) bar.update(outcomes.length)
            }
          })
        )
        const counts = count(outcomes)
        const replayed = counts["replayed"] ?? 0
        yield* emit(
          (out) => {
            const lines = outcomes.map((o) => {
              const what =
                o.connection !== undefined
                  ? ` (${o.connection} ${o.kind ?? ""} ${o.key ?? ""})`.replace(/\s+\)/, ")")
                  : ""
              return `  ${o.outcome === "replayed" ? paint(out, "green", "✓") : paint(out, "gray", "-")} ${o.id}${what}: ${o.outcome.replace("_", " ")}`
            })
            const where =
              m.via === "runner"
                ? "the running tkbridge is delivering them"
                : "they will be delivered by `tkbridge run`"
            return `${ids.length === 0 ? "No open dead letters match.\n" : ""}${lines.join("\n")}${lines.length > 0 ? "\n" : ""}${
              replayed > 0 ? `${replayed} replayed: ${where}.\n` : ""
            }`
          },
          () => ({ via: m.via, counts, outcomes })
        )
        if (outcomes.some((o) => o.outcome === "not_found")) {
          return yield* new CliFailure({ message: "some letters do not exist", exitCode: 1, printed: true })
        }
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("send dead letters through the normal path again (one, several, or --all matching)"))

const dlqDiscard = Command.make(
  "discard",
  {
    config: configOption,
    json: jsonOption,
    ids: idArg.pipe(Args.atLeast(1)),
    reason: Options.text("reason").pipe(Options.withDescription("why (kept with the letter and in the audit trail)"))
  },
  ({ config, json, ids, reason }) =>
    withStoreConfig({ config, json }, (loaded) =>
      Effect.gen(function* () {
        if (reason.trim().length === 0) {
          return yield* new CliFailure({ message: "--reason must say why the letters are dropped", exitCode: 2 })
        }
        const m = yield* mutator(loaded)
        const outcomes = yield* m.discard(ids, reason.trim())
        yield* emit(
          (out) =>
            `${outcomes
              .map(
                (o) =>
                  `  ${o.outcome === "discarded" ? paint(out, "green", "✓") : paint(out, "gray", "-")} ${o.id}: ${o.outcome.replace("_", " ")}`
              )
              .join("\n")}\n`,
          () => ({ via: m.via, outcomes })
        )
        if (outcomes.some((o) => o.outcome === "not_found")) {
          return yield* new CliFailure({ message: "some letters do not exist", exitCode: 1, printed: true })
        }
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("drop dead letters for good, recording why"))

/** `tkbridge dlq`. */
export const command = Command.make("dlq").pipe(
  Command.withDescription("the dead-letter queue: list, show, replay, discard"),
  Command.withSubcommands([dlqList, dlqShow, dlqReplay, dlqDiscard])
)
