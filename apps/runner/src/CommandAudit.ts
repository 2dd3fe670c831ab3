/**
 * CommandAudit: `tkbridge audit` — the append-only trail of quantity decisions (with the pool's
 * explanation), outbound writes (with the redacted request) and operator actions, newest first,
 * filtered by connection, listing or order (the row's subject), kind, action and time. Personal data
 * was masked before the rows were written.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import { Audit } from "@tkbridge/core"
import { Clock, Duration, Effect, Option } from "effect"
import { configOption, jsonOption, limitOption, optionalOption, withStoreConfig } from "./CliCommon.ts"
import { ago, parseAge } from "./CommandDlq.ts"
import * as OpsStore from "./OpsStore.ts"
import type { OutputShape } from "./Output.ts"
import { emit, paint, table } from "./Output.ts"

const ellipsis = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

/** A row's detail in one line: the explanation's summary, the write's status, or the JSON. */
export const detailText = (entry: Audit.AuditEntry): string => {
  const d = entry.detail as Record<string, unknown> | undefined
  if (d === undefined || d === null) return ""
  if (entry.kind === "write") {
    const parts = [
      d["status"] !== undefined ? `HTTP ${String(d["status"])}` : undefined,
      d["durationMs"] !== undefined ? `${Math.round(Number(d["durationMs"]))} ms` : undefined,
      d["idempotencyKey"] !== undefined ? `key ${String(d["idempotencyKey"])}` : undefined
    ].filter((p) => p !== undefined)
    if (parts.length > 0) return parts.join(", ")
  }
  if (entry.kind === "quantity") {
    const e = d["explanation"] as
      | { base?: number; components?: ReadonlyArray<{ item: string; available: number }> }
      | undefined
    if (e?.components !== undefined) {
      return `base ${e.base ?? "?"} from ${e.components.map((c) => `${c.item} available ${c.available}`).join(", ")}`
    }
  }
  return JSON.stringify(d)
}

/** Audit rows for people. */
export const render = (out: OutputShape, now: number, entries: ReadonlyArray<Audit.AuditEntry>): string => {
  if (entries.length === 0) return "No audit entries match.\n"
  return table(
    out,
    [
      { header: "ID", align: "right" },
      { header: "TIME" },
      { header: "AGE", align: "right" },
      { header: "KIND" },
      { header: "CONNECTION" },
      { header: "SUBJECT" },
      { header: "ACTION" },
      { header: "OUTCOME" },
      { header: "DETAIL" }
    ],
    entries.map((e) => [
      String(e.id),
      e.at.toISOString().replace("T", " ").slice(0, 19),
      ago(now, e.at),
      e.kind,
      e.connection ?? "",
      ellipsis(e.subject ?? "", 28),
      e.action,
      e.outcome?.startsWith("failed") ? paint(out, "red", e.outcome) : (e.outcome ?? ""),
      paint(out, "dim", ellipsis(detailText(e), 70))
    ])
  )
}

/** `tkbridge audit`. */
export const command = Command.make(
  "audit",
  {
    config: configOption,
    json: jsonOption,
    connection: optionalOption(Options.text("connection"), "only this connection"),
    listing: Options.text("listing").pipe(
      Options.withDescription("only rows about this listing SKU, order id or dead letter (the subject)"),
      Options.withAlias("subject"),
      Options.optional
    ),
    kind: optionalOption(
      Options.choice("kind", Audit.Kind.literals),
      "quantity decisions, outbound writes or operator actions"
    ),
    action: optionalOption(Options.text("action"), "only this action (publish, stock.push, dlq.replay …)"),
    since: optionalOption(Options.text("since"), "only rows newer than this (e.g. 24h)"),
    limit: limitOption(50)
  },
  (input) =>
    withStoreConfig(input, (loaded) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const since = Option.isSome(input.since) ? yield* parseAge("since", input.since.value) : undefined
        const filter: Audit.Filter = {
          connection: Option.getOrUndefined(input.connection),
          subject: Option.getOrUndefined(input.listing),
          kind: Option.getOrUndefined(input.kind),
          action: Option.getOrUndefined(input.action),
          since: since === undefined ? undefined : new Date(now - Duration.toMillis(since)),
          limit: Math.max(1, input.limit)
        }
        const entries = yield* OpsStore.withRead(
          loaded,
          Effect.flatMap(Audit.Audit, (audit) => audit.list(filter))
        )
        yield* emit(
          (out) => render(out, now, entries),
          () => ({ entries })
        )
      })
    )
).pipe(Command.withDescription("quantity decisions, outbound writes and operator actions (personal data masked)"))
