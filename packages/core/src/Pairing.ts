/**
 * Pairing: which items a channel SKU is made of (listing ↔ item, 商品配对).
 *
 * An explicit map always wins. Otherwise auto-pairing tries, in order: the SKU itself; the SKU with
 * one configured prefix and/or suffix removed (`TT-MUG-RED` → `MUG-RED`, as 店小秘 does); and for
 * each of those, the configured pack patterns (`MUG-RED*3` → 3 × `MUG-RED`). A candidate pairs when
 * exactly one item matches it; two items matching (e.g. differing only in case) is ambiguous and
 * left for a person. Pure functions: the caller supplies the item lookup.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId, ExternalSku, ItemId, PositiveQuantity } from "./Ids.ts"

/**
 * A pack pattern: a regular expression with named groups `sku` and `qty`, e.g.
 * `^(?<sku>.+)\*(?<qty>\d+)$` for `MUG*3` or `^(?<sku>.+)-(?<qty>\d+)PK$` for `MUG-3PK`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const PackPattern = Schema.String.pipe(
  Schema.filter((source) => {
    try {
      const re = new RegExp(source)
      const probe = re.source
      return (probe.includes("(?<sku>") && probe.includes("(?<qty>")) || "needs named groups (?<sku>…) and (?<qty>…)"
    } catch (e) {
      return `is not a valid regular expression: ${(e as Error).message}`
    }
  })
).annotations({ identifier: "PackPattern" })

/**
 * Auto-pairing rules, for one connection or (without `connection`) for all.
 *
 * @category models
 * @since 0.1.0
 */
export class PairingRules extends Schema.Class<PairingRules>("@tkbridge/core/PairingRules")({
  connection: Schema.optional(ConnectionId),
  /** Prefixes a channel adds to the master SKU (`TT-`, `SHOP1_`); at most one is removed, longest first. */
  ignorePrefixes: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }),
  /** Suffixes a channel adds to the master SKU (`-US`, `_new`); at most one is removed, longest first. */
  ignoreSuffixes: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }),
  /** Compare SKUs ignoring letter case (default true). */
  caseInsensitive: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  packPatterns: Schema.optionalWith(Schema.Array(PackPattern), { default: () => [] })
}) {}

/**
 * An explicit pairing: this SKU (on this connection, or on every connection) is made of these items.
 *
 * @category models
 * @since 0.1.0
 */
export class ExplicitPair extends Schema.Class<ExplicitPair>("@tkbridge/core/ExplicitPair")({
  connection: Schema.optional(ConnectionId),
  externalSku: ExternalSku,
  components: Schema.NonEmptyArray(Schema.Struct({ item: ItemId, qty: PositiveQuantity })).pipe(
    Schema.filter((cs) => new Set(cs.map((c) => c.item)).size === cs.length || "must not name an item twice")
  )
}) {}

/**
 * Pairing configuration: explicit pairs and auto-pairing rules.
 *
 * @category models
 * @since 0.1.0
 */
export class PairingConfig extends Schema.Class<PairingConfig>("@tkbridge/core/PairingConfig")({
  explicit: Schema.optionalWith(Schema.Array(ExplicitPair), { default: () => [] }),
  rules: Schema.optionalWith(Schema.Array(PairingRules), { default: () => [] })
}) {}

/**
 * How a listing got its components: `explicit` (configured map), `manual` (set through the ledger),
 * `exact` (the SKU is an item id) or `auto` (a prefix/suffix/pack rule).
 *
 * @category schemas
 * @since 0.1.0
 */
export const PairedBy = Schema.Literal("explicit", "manual", "exact", "auto")
/** @since 0.1.0 */
export type PairedBy = typeof PairedBy.Type

/**
 * Why a SKU is not paired: no item matches, more than one does, or a person unpaired it (it stays
 * unpaired through later imports until paired by hand).
 *
 * @category schemas
 * @since 0.1.0
 */
export const UnpairedReason = Schema.Literal("no_match", "ambiguous", "manual")
/** @since 0.1.0 */
export type UnpairedReason = typeof UnpairedReason.Type

/**
 * A component as pairing produces it.
 *
 * @category models
 * @since 0.1.0
 */
export interface PairComponent {
  readonly item: string
  readonly qty: number
}

/**
 * The outcome of pairing one SKU.
 *
 * @category models
 * @since 0.1.0
 */
export type Resolution =
  | {
      readonly _tag: "Paired"
      readonly components: ReadonlyArray<PairComponent>
      readonly by: PairedBy
      /** Which rule matched, e.g. `prefix "TT-"`, `pack ^(?<sku>.+)\*(?<qty>\d+)$`. */
      readonly rule: string
    }
  | { readonly _tag: "Unpaired"; readonly reason: UnpairedReason; readonly candidates: ReadonlyArray<string> }

/**
 * A candidate master SKU derived from a channel SKU, with its pack factor and the rule that made it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Candidate {
  readonly key: string
  readonly qty: number
  readonly rule: string
}

/**
 * The rules that apply to a connection: its own, else the ones without a connection, else none
 * (exact, case-insensitive matching only).
 *
 * @category constructors
 * @since 0.1.0
 */
export const rulesFor = (config: PairingConfig, connection: string): PairingRules =>
  config.rules.find((r) => r.connection === connection) ??
  config.rules.find((r) => r.connection === undefined) ??
  defaultRules

const defaultRules = new PairingRules({})

/**
 * The key items are matched on: the id itself, or its upper-case form when matching ignores case.
 *
 * @category constructors
 * @since 0.1.0
 */
export const matchKey = (id: string, rules: PairingRules): string => (rules.caseInsensitive ? id.toUpperCase() : id)

/** Upper-cased key every store keeps next to an item id, so case-insensitive lookups use an index. */
export const pairKey = (item: string): string => item.toUpperCase()

const byLengthDesc = (xs: ReadonlyArray<string>): ReadonlyArray<string> => [...xs].sort((a, b) => b.length - a.length)

const startsWith = (s: string, prefix: string, ci: boolean) =>
  ci ? s.toUpperCase().startsWith(prefix.toUpperCase()) : s.startsWith(prefix)
const endsWith = (s: string, suffix: string, ci: boolean) =>
  ci ? s.toUpperCase().endsWith(suffix.toUpperCase()) : s.endsWith(suffix)

/**
 * Candidate master SKUs for a channel SKU, most specific first, without duplicates.
 *
 * @category constructors
 * @since 0.1.0
 */
export const candidates = (sku: string, rules: PairingRules): ReadonlyArray<Candidate> => {
  const ci = rules.caseInsensitive
  const stems: Array<Candidate> = [{ key: sku, qty: 1, rule: "exact" }]
  const prefix = byLengthDesc(rules.ignorePrefixes).find((p) => sku.length > p.length && startsWith(sku, p, ci))
  const suffix = byLengthDesc(rules.ignoreSuffixes).find((s) => sku.length > s.length && endsWith(sku, s, ci))
  if (prefix !== undefined) stems.push({ key: sku.slice(prefix.length), qty: 1, rule: `prefix "${prefix}"` })
  if (suffix !== undefined)
    stems.push({ key: sku.slice(0, sku.length - suffix.length), qty: 1, rule: `suffix "${suffix}"` })
  if (prefix !== undefined && suffix !== undefined && sku.length > prefix.length + suffix.length) {
    stems.push({
      key: sku.slice(prefix.length, sku.length - suffix.length),
      qty: 1,
      rule: `prefix "${prefix}" and suffix "${suffix}"`
    })
  }
  const out: Array<Candidate> = [...stems]
  for (const source of rules.packPatterns) {
    const re = new RegExp(source)
    for (const stem of stems) {
      const m = re.exec(stem.key)
      const key = m?.groups?.sku
      const qty = Number(m?.groups?.qty)
      if (key !== undefined && key.length > 0 && Number.isSafeInteger(qty) && qty >= 1) {
        out.push({ key, qty, rule: stem.rule === "exact" ? `pack ${source}` : `${stem.rule}, pack ${source}` })
      }
    }
  }
  const seen = new Set<string>()
  return out.filter((c) => {
    const k = `${matchKey(c.key, rules)}\u0000${c.qty}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/**
 * The explicit pair for a SKU on a connection: one naming the connection wins over one for all.
 *
 * @category constructors
 * @since 0.1.0
 */
export const explicitFor = (config: PairingConfig, connection: string, sku: string): ExplicitPair | undefined =>
  config.explicit.find((p) => p.connection === connection && p.externalSku === sku) ??
  config.explicit.find((p) => p.connection === undefined && p.externalSku === sku)

/**
 * Pairs one SKU. `lookup(keys)` returns the item ids whose {@link matchKey} is among `keys` (a store
 * answers it with one indexed query).
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolve = (
  connection: string,
  sku: string,
  config: PairingConfig,
  lookup: (keys: ReadonlyArray<string>) => ReadonlyArray<string>
): Resolution => {
  const explicit = explicitFor(config, connection, sku)
  if (explicit !== undefined) {
    return {
      _tag: "Paired",
      components: explicit.components.map((c) => ({ item: c.item, qty: c.qty })),
      by: "explicit",
      rule: "explicit"
    }
  }
  const rules = rulesFor(config, connection)
  const cands = candidates(sku, rules)
  const keys = [...new Set(cands.map((c) => matchKey(c.key, rules)))]
  const items = lookup(keys)
  const byKey = new Map<string, Array<string>>()
  for (const item of items) {
    const k = matchKey(item, rules)
    const list = byKey.get(k)
    if (list === undefined) byKey.set(k, [item])
    else if (!list.includes(item)) list.push(item)
  }
  let ambiguous = false
  for (const c of cands) {
    const matches = byKey.get(matchKey(c.key, rules)) ?? []
    if (matches.length === 1) {
      const item = matches[0]!
      const exact = c.rule === "exact" && item === sku
      return { _tag: "Paired", components: [{ item, qty: c.qty }], by: exact ? "exact" : "auto", rule: c.rule }
    }
    if (matches.length > 1) ambiguous = true
  }
  return { _tag: "Unpaired", reason: ambiguous ? "ambiguous" : "no_match", candidates: cands.map((c) => c.key) }
}

/**
 * A listing pairing left unresolved, for the "unpaired" report.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Unpaired extends Schema.Class<Unpaired>("@tkbridge/core/Unpaired")({
  connection: ConnectionId,
  externalSku: ExternalSku,
  reason: UnpairedReason,
  title: Schema.optional(Schema.String)
}) {}

/**
 * A listing that pairing resolved, for reports.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Paired extends Schema.Class<Paired>("@tkbridge/core/Paired")({
  connection: ConnectionId,
  externalSku: ExternalSku,
  by: PairedBy,
  rule: Schema.String,
  components: Schema.NonEmptyArray(Schema.Struct({ item: ItemId, qty: PositiveQuantity }))
}) {}
