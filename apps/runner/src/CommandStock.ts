/**
 * CommandStock: `tkbridge stock` — the inventory pool as the store holds it: per item its on hand,
 * held and available units, and per channel listing of that item the quantity the pool publishes and
 * what was last written to the channel (the stock flow's channels only: the source's own SKUs are not
 * published). `--explain <channel> <sku>` answers "why did TikTok get 7?"
 * with the pool's explanation: every term of the arithmetic, the policy it came from, and the last
 * published decision in the audit trail.
 *
 * Read-only: works beside a running `tkbridge run` (see `OpsStore`).
 *
 * @since 0.1.0
 */
import { Args, Command, Options } from "@effect/cli"
import type { Listing, StoreError } from "@tkbridge/core"
import { Audit, Ledger, Outbox, Pool } from "@tkbridge/core"
import { Effect, Option } from "effect"
import { CliFailure, configOption, jsonOption, optionalOption, withStoreConfig } from "./CliCommon.ts"
import * as OpsStore from "./OpsStore.ts"
import type { OutputShape } from "./Output.ts"
import { emit, paint, table } from "./Output.ts"

/** What a channel holds for a listing, as far as the store knows (the last write that went through). */
export interface ChannelState {
  readonly quantity?: number | undefined
  readonly at?: Date | undefined
  /** The pool has a newer quantity than the channel was last sent. */
  readonly pending: boolean
  /** The listing's pushes wait in the dead-letter queue. */
  readonly dead: boolean
}

/** One listing of an item on a channel. */
export interface ListingRow {
  readonly connection: string
  readonly externalSku: string
  readonly kind: "single" | "multipack" | "bundle"
  readonly components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
  readonly published: number
  readonly channel: ChannelState
}

/** One item of the pool with its listings. */
export interface ItemRow {
  readonly item: string
  readonly onHand: number
  readonly held: number
  readonly safetyStock: number
  readonly available: number
  readonly shortfall: number
  readonly locations: ReadonlyArray<{ readonly location: string; readonly onHand: number }>
  readonly listings: ReadonlyArray<ListingRow>
}

/** The pool table: items, and channel SKUs that pair with none. */
export interface StockReport {
  readonly items: ReadonlyArray<ItemRow>
  readonly unpaired: ReadonlyArray<{
    readonly connection: string
    readonly externalSku: string
    readonly reason: string
  }>
}

const channelState = (row: Option.Option<Outbox.StockPushRow>): ChannelState =>
  Option.match(row, {
    onNone: () => ({ pending: false, dead: false }),
    onSome: (r) => ({
      quantity: r.pushedQuantity,
      at: r.pushedAt,
      pending: r.desiredVersion > r.pushedVersion,
      dead: r.status === "dead"
    })
  })

/** Reads the pool table (optionally one item's, one connection's). */
export const report = (filter: {
  readonly item?: string | undefined
  readonly connection?: string | undefined
  /** The channels quantities are published to (the stock flow's); other connections' listings are left out. */
  readonly channels?: ReadonlyArray<string> | undefined
}): Effect.Effect<StockReport, Ledger.LedgerUnavailable | StoreError.StoreError, Ledger.Ledger | Outbox.StockOutbox> =>
  Effect.gen(function* () {
    const ledger = yield* Ledger.Ledger
    const outbox = yield* Outbox.StockOutbox
    const balances = yield* ledger.balances(filter.item === undefined ? undefined : [filter.item])
    const listings = (yield* ledger.listings(filter.connection)).filter(
      (l) =>
        (filter.item === undefined || l.components.some((c) => c.item === filter.item)) &&
        (filter.channels === undefined || filter.channels.includes(l.connection))
    )
    const explanations = yield* ledger.published(
      listings.map((l) => ({ connection: l.connection, externalSku: l.externalSku }))
    )
    const published = new Map(explanations.map((e) => [`${e.connection}\u0000${e.externalSku}`, e.published]))
    const rows = yield* Effect.forEach(listings, (l: Listing.Listing) =>
      Effect.map(
        outbox.get(l.connection, l.externalSku),
        (row): ListingRow => ({
          connection: l.connection,
          externalSku: l.externalSku,
          kind: l.kind,
          components: l.components.map((c) => ({ item: c.item, qty: c.qty })),
          published: published.get(`${l.connection}\u0000${l.externalSku}`) ?? 0,
          channel: channelState(row)
        })
      )
    )
    const items = balances.map(
      (b): ItemRow => ({
        item: b.item,
        onHand: b.onHand,
        held: b.held,
        safetyStock: b.safetyStock,
        available: Pool.available(b.item, b).available,
        shortfall: b.shortfall,
        locations: b.locations.map((l) => ({ location: l.location, onHand: l.onHand })),
        listings: rows
          .filter((r) => r.components.some((c) => c.item === b.item))
          .sort((x, y) => (x.connection + x.externalSku < y.connection + y.externalSku ? -1 : 1))
      })
    )
    const unpaired = (yield* ledger.unpaired(filter.connection))
      .filter((u) => filter.channels === undefined || filter.channels.includes(u.connection))
      .map((u) => ({
        connection: u.connection,
        externalSku: u.externalSku,
        reason: u.reason
      }))
    return { items, unpaired } satisfies StockReport
  })

const onChannel = (out: OutputShape, r: ListingRow): string => {
  const c = r.channel
  if (c.dead) return paint(out, "red", `${c.quantity ?? "-"} (dead letter)`)
  if (c.quantity === undefined) return paint(out, "yellow", c.pending ? "not yet sent" : "-")
  if (c.pending || c.quantity !== r.published) return paint(out, "yellow", `${c.quantity} (sending)`)
  return `${c.quantity}`
}

const composition = (r: ListingRow, item: string): string =>
  r.kind === "bundle"
    ? `bundle ${r.components.map((c) => `${c.qty}×${c.item}`).join(" + ")}`
    : r.kind === "multipack"
      ? `pack of ${r.components.find((c) => c.item === item)?.qty ?? 1}`
      : ""

/** The pool table for people. */
export const render = (out: OutputShape, r: StockReport): string => {
  if (r.items.length === 0 && r.unpaired.length === 0) {
    return "The pool is empty: no item has been imported yet (`tkbridge run` imports the catalogue).\n"
  }
  const rows: Array<Array<string>> = []
  for (const item of r.items) {
    const head = [
      paint(out, "bold", item.item),
      String(item.onHand),
      String(item.held),
      String(item.safetyStock),
      item.shortfall > 0 ? paint(out, "red", `${item.available} (short ${item.shortfall})`) : String(item.available)
    ]
    if (item.listings.length === 0) rows.push([...head, paint(out, "gray", "(no listing)"), "", "", "", ""])
    item.listings.forEach((l, i) => {
      rows.push([
        ...(i === 0 ? head : ["", "", "", "", ""]),
        l.connection,
        l.externalSku,
        String(l.published),
        onChannel(out, l),
        paint(out, "dim", composition(l, item.item))
      ])
    })
  }
  let text = table(
    out,
    [
      { header: "ITEM" },
      { header: "ON HAND", align: "right" },
      { header: "HELD", align: "right" },
      { header: "SAFETY", align: "right" },
      { header: "AVAILABLE", align: "right" },
      { header: "CHANNEL" },
      { header: "SKU" },
      { header: "PUBLISHED", align: "right" },
      { header: "ON CHANNEL", align: "right" },
      { header: "" }
    ],
    rows
  )
  if (r.unpaired.length > 0) {
    text += `\n${paint(out, "yellow", `${r.unpaired.length} channel SKU(s) not paired with an item`)} (they publish nothing; orders for them go to the dead-letter queue):\n`
    text += table(
      out,
      [{ header: "CHANNEL" }, { header: "SKU" }, { header: "WHY" }],
      r.unpaired.map((u) => [u.connection, u.externalSku, u.reason.replace("_", " ")])
    )
  }
  return text
}

/** The explanation of one published number, with the last decision the audit trail recorded. */
export interface ExplainReport {
  readonly explanation: Pool.Explanation
  readonly channel: ChannelState
  readonly lastDecision?: { readonly at: Date; readonly quantity: string | undefined } | undefined
}

/** Reads the explanation of `connection`/`sku`. */
export const explain = (
  connection: string,
  externalSku: string
): Effect.Effect<
  ExplainReport,
  CliFailure | Ledger.LedgerUnavailable | StoreError.StoreError,
  Ledger.Ledger | Outbox.StockOutbox | Audit.Audit
> =>
  Effect.gen(function* () {
    const ledger = yield* Ledger.Ledger
    const [explanation] = yield* ledger.published([{ connection, externalSku }])
    if (explanation === undefined) {
      const unpaired = (yield* ledger.unpaired(connection)).find((u) => u.externalSku === externalSku)
      return yield* new CliFailure({
        message:
          unpaired !== undefined
            ? `${connection}/${externalSku} is not paired with an item (${unpaired.reason.replace("_", " ")}): it publishes nothing`
            : `${connection} has no listing ${externalSku} in the pool`,
        exitCode: 1
      })
    }
    const row = yield* Effect.flatMap(Outbox.StockOutbox, (o) => o.get(connection, externalSku))
    const [decision] = yield* Effect.flatMap(Audit.Audit, (a) =>
      a.list({ connection, subject: externalSku, kind: "quantity", limit: 1 })
    )
    return {
      explanation,
      channel: channelState(row),
      lastDecision: decision === undefined ? undefined : { at: decision.at, quantity: decision.outcome }
    } satisfies ExplainReport
  })

const policyText = (e: Pool.Explanation): string =>
  e.policy === "listing"
    ? `pool.channels.${e.connection}.listings.${e.externalSku}`
    : e.policy === "connection"
      ? `pool.channels.${e.connection}`
      : "default (100% of the pool)"

const stepText = (s: Pool.Step): string => {
  switch (s.term) {
    case "lastUnits":
      return `last units go to another channel (threshold ${s.value})`
    case "share":
      return `share ${s.value}%`
    case "fixed":
      return `fixed allocation ${s.value}`
    case "safetyBuffer":
      return `safety buffer −${s.value}`
    case "floor":
      return `floor: 0 at or below ${s.value}`
    case "cap":
      return `cap ${s.value}`
  }
}

/** An explanation for people. */
export const renderExplain = (out: OutputShape, r: ExplainReport): string => {
  const e = r.explanation
  const lines: Array<string> = [
    `${paint(out, "bold", `${e.connection} / ${e.externalSku}`)} is published at ${paint(out, "bold", String(e.published))}`,
    ""
  ]
  for (const c of e.components) {
    const where = c.locations.map((l) => `${l.location} ${l.onHand}`).join(", ")
    lines.push(
      `  ${c.item} ×${c.qty}: on hand ${c.onHand}${where ? ` (${where})` : ""} − held ${c.held} − safety ${c.safetyStock} = available ${c.available} → ${c.units} unit${c.units === 1 ? "" : "s"} of this SKU`
    )
  }
  if (e.locations !== undefined) lines.push(`  counting only locations ${e.locations.join(", ")}`)
  lines.push(`  base ${e.base}${e.components.length > 1 ? ` (limited by ${e.limitingItem})` : ""}`)
  if (e.lastUnits !== undefined && e.lastUnits.outcome !== "inactive") {
    lines.push(
      `  last units: ${e.lastUnits.item} has ${e.lastUnits.available} available (threshold ${e.lastUnits.threshold}); ${
        e.lastUnits.outcome === "priority" ? "this channel keeps selling" : `only ${e.lastUnits.channel} keeps selling`
      }`
    )
  }
  for (const s of e.steps) lines.push(`  ${stepText(s).padEnd(34)} → ${s.result}`)
  lines.push(`  policy from ${policyText(e)}`)
  lines.push("")
  const c = r.channel
  lines.push(
    c.quantity === undefined
      ? "The channel has not been sent a quantity yet."
      : `Last written to the channel: ${c.quantity}${c.at ? ` at ${c.at.toISOString()}` : ""}${
          c.dead
            ? paint(out, "red", " — later pushes wait in the dead-letter queue")
            : c.pending
              ? " — a newer quantity is on its way"
              : ""
        }`
  )
  if (r.lastDecision !== undefined) {
    lines.push(
      `Last decision in the audit trail: ${r.lastDecision.quantity ?? "?"} at ${r.lastDecision.at.toISOString()}`
    )
  }
  lines.push(paint(out, "dim", Pool.describe(e)))
  return `${lines.join("\n")}\n`
}

/** Splits `--explain tiktok-uk/MUG-01` or `--explain tiktok-uk MUG-01`. */
export const explainTarget = (
  explain: string,
  sku: Option.Option<string>
): { readonly connection: string; readonly externalSku: string } | undefined => {
  if (Option.isSome(sku)) return { connection: explain, externalSku: sku.value }
  const slash = explain.indexOf("/")
  return slash > 0 && slash < explain.length - 1
    ? { connection: explain.slice(0, slash), externalSku: explain.slice(slash + 1) }
    : undefined
}

/** `tkbridge stock`. */
export const command = Command.make(
  "stock",
  {
    config: configOption,
    json: jsonOption,
    item: optionalOption(Options.text("item"), "only this item"),
    connection: optionalOption(Options.text("connection"), "only this channel"),
    explain: optionalOption(
      Options.text("explain"),
      "why <channel> <sku> is published at its number (also <channel>/<sku>)"
    ),
    sku: Args.text({ name: "sku" }).pipe(Args.withDescription("the SKU for --explain"), Args.optional)
  },
  ({ config, json, item, connection, explain: explainOption, sku }) =>
    withStoreConfig({ config, json }, (loaded) =>
      Effect.gen(function* () {
        if (Option.isSome(explainOption)) {
          const target = explainTarget(explainOption.value, sku)
          if (target === undefined) {
            return yield* new CliFailure({
              message: "--explain needs a channel and a SKU: --explain <channel> <sku>",
              exitCode: 2
            })
          }
          const result = yield* OpsStore.withRead(loaded, explain(target.connection, target.externalSku))
          return yield* emit(
            (out) => renderExplain(out, result),
            () => result
          )
        }
        if (Option.isSome(sku)) {
          return yield* new CliFailure({
            message: `unexpected argument ${sku.value} (did you mean --explain?)`,
            exitCode: 2
          })
        }
        const result = yield* OpsStore.withRead(
          loaded,
          report({
            item: Option.getOrUndefined(item),
            connection: Option.getOrUndefined(connection),
            channels: loaded.config.flows.stock?.channels
          })
        )
        return yield* emit(
          (out) => render(out, result),
          () => result
        )
      })
    )
).pipe(
  Command.withDescription(
    "the pool per item and channel: on hand, held, available, published and on the channel; --explain <channel> <sku> says why"
  )
)
