/**
 * LedgerLaws: the laws every `Ledger` implementation must keep, as executable checks over random
 * operation sequences — the pool's conformance kit.
 *
 * A scenario of four channels selling singles, multipacks and bundles out of two warehouses is set
 * up; random sequences of set / adjust / reserve / confirm / commit / release / expire / restock
 * (generated with `FastCheck` from `effect`, so failures shrink) run against the ledger, and after
 * each step the laws are checked against the ledger's counters and movement history:
 *
 * 1. **never publishes more than it has** — published × component qty ≤ on hand − held − safety
 *    stock, for every listing and component;
 * 2. **no oversell** — only physical readings (set/adjust) can leave reserved above on hand, and they
 *    report exactly that shortfall; no other operation creates or grows one;
 * 3. **every unit is accounted for** — per (item, location) Σ on-hand movements = on hand, per item
 *    Σ reserved movements = reserved, each movement chains from the previous one, and reserved = Σ
 *    held reservation rows;
 * 4. **published quantities are monotone in available** — a step that only raised availability
 *    never lowers a published quantity, and vice versa;
 * 5. **"which listings changed" is complete** — every listing whose published quantity moved is
 *    among the step's `changed`.
 *
 * `@tkbridge/store-sql` runs the same sequences against SQLite and PostgreSQL and compares every
 * step's outcome with `LedgerMemory`'s.
 *
 * @since 0.1.0
 */
import { Effect, Either, FastCheck as fc } from "effect"
import { ChannelPolicy, FixedAllocation, LastUnitsRule, ShareAllocation } from "./ChannelPolicy.ts"
import { Item } from "./Item.ts"
import type * as Ledger from "./Ledger.ts"
import { LedgerConfig, ReturnRule } from "./Ledger.ts"
import { ExplicitPair, PairingConfig, PairingRules } from "./Pairing.ts"
import type { Explanation } from "./Pool.ts"
import { PoolRules } from "./Pool.ts"

/** The scenario's channels. */
export const connections = ["tiktok-uk", "tiktok-us", "shopify-main", "shoplazza-eu"] as const
/** The scenario's master SKUs. */
export const items = ["BAG", "LID", "MUG", "TEA"] as const
/** The scenario's warehouses. */
export const locations = ["WH1", "WH2"] as const
/** Channel SKUs before the TikTok prefix: singles, multipacks (pack pattern) and bundles (explicit). */
export const baseSkus = ["MUG", "MUG*2", "MUG*3", "LID", "TEA", "BAG", "MUG-LID-SET", "TEA-GIFT"] as const
/** A SKU no rule pairs. */
export const unpairableSku = "MYSTERY-1"
/** The logical clock's origin (epoch ms). */
export const origin = 1_767_225_600_000

const isTikTok = (connection: string) => connection.startsWith("tiktok")

/** The channel SKU of a base SKU on a connection (TikTok singles and packs carry a `TT-` prefix). */
export const skuOn = (connection: string, base: string): string =>
  isTikTok(connection) && !base.includes("-SET") && !base.includes("-GIFT") && base !== unpairableSku
    ? `TT-${base}`
    : base

/** The pairing every scenario uses: explicit bundles, a TikTok prefix rule and a `*n` pack pattern. */
export const pairing: PairingConfig = new PairingConfig({
  explicit: [
    new ExplicitPair({
      externalSku: "MUG-LID-SET",
      components: [
        { item: "MUG", qty: 1 },
        { item: "LID", qty: 1 }
      ]
    }),
    new ExplicitPair({
      externalSku: "TEA-GIFT",
      components: [
        { item: "TEA", qty: 2 },
        { item: "BAG", qty: 1 }
      ]
    })
  ],
  rules: [
    new PairingRules({
      connection: "tiktok-uk",
      ignorePrefixes: ["TT-"],
      packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$"]
    }),
    new PairingRules({
      connection: "tiktok-us",
      ignorePrefixes: ["TT-"],
      packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$"]
    }),
    new PairingRules({ packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$"] })
  ]
})

/**
 * A scenario: safety stock per item and the ledger configuration (random channel policies,
 * last-units rule and return rules).
 *
 * @category models
 * @since 0.1.0
 */
export interface Scenario {
  readonly safetyStock: Readonly<Record<string, number>>
  readonly config: LedgerConfig
}

const policyArb = (connection: string): fc.Arbitrary<ChannelPolicy> =>
  fc
    .record({
      allocation: fc.oneof(
        fc.integer({ min: 0, max: 10000 }).map((bp) => new ShareAllocation({ percent: bp / 100 })),
        fc.constant(new ShareAllocation({ percent: 100 })),
        fc.integer({ min: 0, max: 20 }).map((quantity) => new FixedAllocation({ quantity }))
      ),
      safetyBuffer: fc.integer({ min: 0, max: 3 }),
      floor: fc.integer({ min: 0, max: 3 }),
      cap: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      locations: fc.option(fc.constantFrom<ReadonlyArray<string>>(["WH1"], ["WH2"], ["WH1", "WH2"]), { nil: undefined })
    })
    .map(
      (p) =>
        new ChannelPolicy({
          connection,
          allocation: p.allocation,
          safetyBuffer: p.safetyBuffer,
          floor: p.floor,
          ...(p.cap !== undefined ? { cap: p.cap } : {}),
          ...(p.locations !== undefined ? { locations: p.locations } : {})
        })
    )

/**
 * Random scenarios.
 *
 * @category constructors
 * @since 0.1.0
 */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({
    safety: fc.tuple(...items.map(() => fc.integer({ min: 0, max: 2 }))),
    policies: fc.tuple(...connections.map((c) => fc.option(policyArb(c), { nil: undefined }))),
    override: fc.option(
      fc.tuple(fc.constantFrom(...connections), fc.constantFrom(...baseSkus), fc.integer({ min: 0, max: 4 })),
      { nil: undefined }
    ),
    lastUnits: fc.option(
      fc.record({ threshold: fc.integer({ min: 0, max: 5 }), channel: fc.constantFrom(...connections) }),
      { nil: undefined }
    ),
    restock: fc.boolean(),
    returnTo: fc.option(fc.constantFrom("WH2", "RETURNS"), { nil: undefined })
  })
  .map(({ lastUnits, override, policies, restock, returnTo, safety }) => ({
    safetyStock: Object.fromEntries(items.map((item, i) => [item, safety[i]!])),
    config: new LedgerConfig({
      pool: new PoolRules({
        policies: [
          ...(override !== undefined
            ? [
                new ChannelPolicy({
                  connection: override[0],
                  externalSku: skuOn(override[0], override[1]),
                  safetyBuffer: override[2]
                })
              ]
            : []),
          ...policies.filter((p): p is ChannelPolicy => p !== undefined)
        ],
        ...(lastUnits !== undefined ? { lastUnits: new LastUnitsRule(lastUnits) } : {})
      }),
      pairing,
      returns: [new ReturnRule({ restock, ...(returnTo !== undefined ? { location: returnTo } : {}) })]
    })
  }))

/**
 * One step of a sequence.
 *
 * @category models
 * @since 0.1.0
 */
export type Op =
  | {
      readonly _tag: "set"
      readonly item: string
      readonly location: string
      readonly onHand: number
      readonly version?: number | undefined
    }
  | {
      readonly _tag: "adjust"
      readonly item: string
      readonly location: string
      readonly delta: number
      readonly key?: string | undefined
    }
  | {
      readonly _tag: "reserve"
      readonly order: number
      readonly lines: ReadonlyArray<{ readonly lineId: string; readonly base: string; readonly qty: number }>
      readonly ttl?: number | undefined
    }
  | { readonly _tag: "confirm"; readonly order: number }
  | { readonly _tag: "commit"; readonly order: number; readonly location?: string | undefined }
  | { readonly _tag: "release"; readonly order: number; readonly lineIds?: ReadonlyArray<string> | undefined }
  | { readonly _tag: "expire"; readonly advance: number }
  | {
      readonly _tag: "restock"
      readonly order: number
      readonly returnId: string
      readonly lineId: string
      readonly qty: number
    }

/** How many distinct orders sequences draw from. */
export const orderCount = 8

/** The connection and id of order number `n` (orders rotate through the four channels). */
export const orderOf = (n: number): { readonly connection: string; readonly orderId: string } => ({
  connection: connections[n % connections.length]!,
  orderId: `o${n}`
})

const orderArb = fc.integer({ min: 0, max: orderCount - 1 })

/**
 * One random step.
 *
 * @category constructors
 * @since 0.1.0
 */
export const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        _tag: fc.constant("set" as const),
        item: fc.constantFrom(...items),
        location: fc.constantFrom(...locations),
        onHand: fc.integer({ min: 0, max: 25 }),
        version: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined })
      },
      { requiredKeys: ["_tag", "item", "location", "onHand"] }
    )
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        _tag: fc.constant("adjust" as const),
        item: fc.constantFrom(...items),
        location: fc.constantFrom(...locations),
        delta: fc.integer({ min: -6, max: 10 }),
        key: fc.option(fc.constantFrom("k1", "k2", "k3"), { nil: undefined })
      },
      { requiredKeys: ["_tag", "item", "location", "delta"] }
    )
  },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        _tag: fc.constant("reserve" as const),
        order: orderArb,
        lines: fc.array(
          fc.record({
            lineId: fc.constantFrom("1", "2", "3"),
            base: fc.oneof(
              { weight: 12, arbitrary: fc.constantFrom(...baseSkus) },
              { weight: 1, arbitrary: fc.constant(unpairableSku) }
            ),
            qty: fc.integer({ min: 1, max: 3 })
          }),
          { minLength: 1, maxLength: 3 }
        ),
        ttl: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined })
      },
      { requiredKeys: ["_tag", "order", "lines"] }
    )
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("confirm" as const), order: orderArb }) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        _tag: fc.constant("commit" as const),
        order: orderArb,
        location: fc.option(fc.constantFrom(...locations), { nil: undefined })
      },
      { requiredKeys: ["_tag", "order"] }
    )
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        _tag: fc.constant("release" as const),
        order: orderArb,
        lineIds: fc.option(fc.subarray(["1", "2", "3"], { minLength: 1 }), { nil: undefined })
      },
      { requiredKeys: ["_tag", "order"] }
    )
  },
  {
    weight: 1,
    arbitrary: fc.record({ _tag: fc.constant("expire" as const), advance: fc.integer({ min: 0, max: 40 }) })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("restock" as const),
      order: orderArb,
      returnId: fc.constantFrom("r1", "r2"),
      lineId: fc.oneof({ weight: 4, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: fc.constantFrom("2", "3") }),
      qty: fc.integer({ min: 1, max: 2 })
    })
  }
)

/**
 * Random sequences of steps.
 *
 * @category constructors
 * @since 0.1.0
 */
export const opsArbitrary = (options: { readonly maxLength?: number } = {}): fc.Arbitrary<ReadonlyArray<Op>> =>
  fc.array(opArbitrary, { minLength: 1, maxLength: options.maxLength ?? 40, size: "max" })

/**
 * Prepares a ledger for a scenario: items with their safety stock, each channel's catalogue (paired
 * through the scenario's rules), and some stock in both warehouses.
 *
 * @category constructors
 * @since 0.1.0
 */
export const setup = (
  ledger: Ledger.LedgerService,
  scenario: Scenario
): Effect.Effect<ReadonlyArray<Ledger.ListingRef>, Ledger.LedgerError> =>
  Effect.gen(function* () {
    yield* ledger.upsertItems(items.map((id) => new Item({ id, safetyStock: scenario.safetyStock[id] ?? 0 })))
    const refs: Array<Ledger.ListingRef> = []
    for (const connection of connections) {
      const report = yield* ledger.importCatalog(
        connection,
        [...baseSkus, unpairableSku].map((base) => ({ externalSku: skuOn(connection, base), title: base }))
      )
      for (const p of report.paired) refs.push({ connection, externalSku: p.externalSku })
    }
    yield* ledger.setStock([
      { item: "MUG", location: "WH1", onHand: 6, sourceVersion: 1 },
      { item: "MUG", location: "WH2", onHand: 2, sourceVersion: 1 },
      { item: "LID", location: "WH1", onHand: 4, sourceVersion: 1 },
      { item: "TEA", location: "WH2", onHand: 9, sourceVersion: 1 },
      { item: "BAG", location: "WH1", onHand: 3, sourceVersion: 1 }
    ])
    return refs
  })

/**
 * What a step returned, reduced to plain data so two implementations can be compared.
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }

const plain = (u: unknown): unknown => {
  if (u instanceof Date) return u.getTime()
  if (Array.isArray(u)) return u.map(plain)
  if (typeof u === "object" && u !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(u)) if (v !== undefined && k !== "cause") out[k] = plain(v)
    if ("_tag" in u) out._tag = (u as { _tag: unknown })._tag
    return out
  }
  return u
}

/**
 * The state a sequence carries: the logical time (advanced by `expire` steps) and the orders
 * reserved so far.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunState {
  now: number
  readonly reserved: Array<number>
}

/** A new sequence's state. */
export const initialState = (): RunState => ({ now: 0, reserved: [] })

// Follow-up steps mostly address an order that was reserved (so shipments, cancellations and returns
// happen often), sometimes one that may not exist (so unknown orders are exercised too).
const pick = (state: RunState, n: number): number =>
  state.reserved.length > 0 && n % 5 !== 4 ? state.reserved[n % state.reserved.length]! : n

/**
 * Runs one step.
 *
 * @category constructors
 * @since 0.1.0
 */
export const run = (
  ledger: Ledger.LedgerService,
  op: Op,
  state: RunState
): Effect.Effect<{
  readonly outcome: Outcome
  readonly changed: ReadonlyArray<Ledger.ListingRef>
  readonly shortfalls?: ReadonlyArray<Ledger.Shortfall>
}> => {
  const meta = { actor: "laws", reason: op._tag }
  const clock = state
  const effect: Effect.Effect<
    Ledger.Changes & { readonly shortfalls?: ReadonlyArray<Ledger.Shortfall> },
    Ledger.LedgerError
  > = (() => {
    switch (op._tag) {
      case "set":
        return ledger.setStock(
          [{ item: op.item, location: op.location, onHand: op.onHand, sourceVersion: op.version }],
          meta
        )
      case "adjust":
        return ledger.adjustStock(
          { item: op.item, location: op.location, delta: op.delta, idempotencyKey: op.key },
          meta
        )
      case "reserve": {
        const { connection, orderId } = orderOf(op.order)
        return ledger.reserve(
          {
            connection,
            orderId,
            lines: op.lines.map((l) => ({ lineId: l.lineId, externalSku: skuOn(connection, l.base), qty: l.qty })),
            expiresAt: op.ttl !== undefined ? new Date(origin + clock.now + op.ttl) : undefined
          },
          meta
        )
      }
      case "confirm":
        return ledger.confirm(orderOf(pick(state, op.order)), meta)
      case "commit":
        return ledger.commit({ ...orderOf(pick(state, op.order)), location: op.location }, meta)
      case "release":
        return ledger.release({ ...orderOf(pick(state, op.order)), lineIds: op.lineIds }, meta)
      case "expire":
        clock.now += op.advance
        return ledger.expire(new Date(origin + clock.now), meta)
      case "restock": {
        const { connection, orderId } = orderOf(pick(state, op.order))
        return ledger.restock(
          { connection, orderId, returnId: `${orderId}-${op.returnId}`, lines: [{ lineId: op.lineId, qty: op.qty }] },
          meta
        )
      }
    }
  })()
  return Effect.map(Effect.either(effect), (e) => {
    if (op._tag === "reserve" && Either.isRight(e) && !state.reserved.includes(op.order)) state.reserved.push(op.order)
    return Either.isRight(e)
      ? {
          outcome: { ok: true, value: plain(e.right) },
          changed: e.right.changed,
          ...(e.right.shortfalls !== undefined ? { shortfalls: e.right.shortfalls } : {})
        }
      : { outcome: { ok: false, error: plain(e.left) }, changed: [] }
  })
}

/**
 * The state the laws look at: counters, published quantities and the movement ledger.
 *
 * @category models
 * @since 0.1.0
 */
export interface Snapshot {
  readonly balances: ReadonlyArray<Ledger.ItemBalance>
  readonly published: ReadonlyArray<Explanation>
  readonly movements: ReadonlyArray<Ledger.Movement>
}

/**
 * Reads a snapshot.
 *
 * @category constructors
 * @since 0.1.0
 */
export const snapshot = (
  ledger: Ledger.LedgerService,
  refs: ReadonlyArray<Ledger.ListingRef>
): Effect.Effect<Snapshot, Ledger.LedgerError> =>
  Effect.all({ balances: ledger.balances(), published: ledger.published(refs), movements: ledger.movements() })

const physical = (op: Op) => op._tag === "set" || op._tag === "adjust"

/**
 * The laws a step must keep, given the snapshots before and after it. Returns the violations (empty
 * when the step is lawful).
 *
 * @category constructors
 * @since 0.1.0
 */
export const check = (
  op: Op,
  before: Snapshot,
  after: Snapshot,
  result: {
    readonly outcome: Outcome
    readonly changed: ReadonlyArray<Ledger.ListingRef>
    readonly shortfalls?: ReadonlyArray<Ledger.Shortfall>
  }
): ReadonlyArray<string> => {
  const violations: Array<string> = []
  const where = `after ${JSON.stringify(op)}`
  const balance = new Map(after.balances.map((b) => [b.item, b]))
  const previous = new Map(before.balances.map((b) => [b.item, b]))

  // 1. never publishes more than it has
  for (const e of after.published) {
    if (e.published > e.base)
      violations.push(`${where}: ${e.connection}/${e.externalSku} publishes ${e.published} > base ${e.base}`)
    for (const c of e.components) {
      const b = balance.get(c.item)
      const has = b === undefined ? 0 : Math.max(0, b.onHand - b.held - b.safetyStock)
      if (e.published * c.qty > has) {
        violations.push(
          `${where}: ${e.connection}/${e.externalSku} publishes ${e.published}×${c.qty} of ${c.item}, pool has ${has}`
        )
      }
    }
  }

  // 2. no oversell: only physical readings create a shortfall, and they report it exactly
  for (const b of after.balances) {
    const sumLocations = b.locations.reduce((n, l) => n + l.onHand, 0)
    if (sumLocations !== b.onHand)
      violations.push(`${where}: ${b.item} on hand ${b.onHand} ≠ Σ locations ${sumLocations}`)
    if (b.held < 0 || b.locations.some((l) => l.onHand < 0))
      violations.push(`${where}: ${b.item} has a negative counter`)
    const excess = Math.max(0, b.held - b.onHand)
    const p = previous.get(b.item)
    const excessBefore = p === undefined ? 0 : Math.max(0, p.held - p.onHand)
    const reading = physical(op) && "item" in op && op.item === b.item
    if (!reading && excess > excessBefore) {
      violations.push(`${where}: ${b.item} reserved ${b.held} exceeds on hand ${b.onHand} (was short ${excessBefore})`)
    }
    if (reading && result.outcome.ok && excess > 0 && b.onHand !== (p?.onHand ?? 0)) {
      const reported = result.shortfalls?.find((s) => s.item === b.item)
      if (reported === undefined || reported.shortfall !== excess) {
        violations.push(`${where}: ${b.item} is short ${excess} but the step reported ${JSON.stringify(reported)}`)
      }
    }
  }

  // 3. every unit is accounted for by movements
  const sums = new Map<string, number>()
  const last = new Map<string, number>()
  for (const m of after.movements) {
    const key = `${m.kind}/${m.item}/${m.location ?? ""}`
    if (m.after !== m.before + m.delta) violations.push(`${where}: movement ${m.id} does not add up`)
    if ((last.get(key) ?? 0) !== m.before) {
      violations.push(`${where}: movement ${m.id} starts at ${m.before}, the counter was at ${last.get(key) ?? 0}`)
    }
    last.set(key, m.after)
    sums.set(key, (sums.get(key) ?? 0) + m.delta)
  }
  for (const b of after.balances) {
    if ((sums.get(`reserved/${b.item}/`) ?? 0) !== b.held) {
      violations.push(`${where}: ${b.item} reserved ${b.held}, movements say ${sums.get(`reserved/${b.item}/`) ?? 0}`)
    }
    for (const l of b.locations) {
      const key = `on_hand/${b.item}/${l.location}`
      if ((sums.get(key) ?? 0) !== l.onHand) {
        violations.push(`${where}: ${b.item}@${l.location} on hand ${l.onHand}, movements say ${sums.get(key) ?? 0}`)
      }
    }
  }

  // 4. monotone in available: classify the step by what it did to every view of availability
  let rose = false
  let fell = false
  const names = new Set([...balance.keys(), ...previous.keys()])
  for (const item of names) {
    const a = balance.get(item)
    const p = previous.get(item)
    const held = (a?.held ?? 0) - (p?.held ?? 0)
    if (held > 0) fell = true
    if (held < 0) rose = true
    const locs = new Set([...(a?.locations ?? []), ...(p?.locations ?? [])].map((l) => l.location))
    for (const loc of locs) {
      const d =
        (a?.locations.find((l) => l.location === loc)?.onHand ?? 0) -
        (p?.locations.find((l) => l.location === loc)?.onHand ?? 0)
      if (d > 0) rose = true
      if (d < 0) fell = true
    }
  }
  const was = new Map(before.published.map((e) => [`${e.connection}\u0000${e.externalSku}`, e.published]))
  const changed = new Set(result.changed.map((r) => `${r.connection}\u0000${r.externalSku}`))
  for (const e of after.published) {
    const key = `${e.connection}\u0000${e.externalSku}`
    const old = was.get(key)
    if (old === undefined) continue
    if (rose && !fell && e.published < old) {
      violations.push(
        `${where}: availability only rose but ${e.connection}/${e.externalSku} fell ${old} → ${e.published}`
      )
    }
    if (fell && !rose && e.published > old) {
      violations.push(
        `${where}: availability only fell but ${e.connection}/${e.externalSku} rose ${old} → ${e.published}`
      )
    }
    // 5. the changed set covers every listing whose published quantity moved
    if (e.published !== old && !changed.has(key)) {
      violations.push(
        `${where}: ${e.connection}/${e.externalSku} moved ${old} → ${e.published} but was not reported changed`
      )
    }
  }
  return violations
}

/**
 * Checks that reserved equals the Σ of held reservation rows over every order the sequences use.
 *
 * @category constructors
 * @since 0.1.0
 */
export const checkReservations = (
  ledger: Ledger.LedgerService
): Effect.Effect<ReadonlyArray<string>, Ledger.LedgerError> =>
  Effect.gen(function* () {
    const held = new Map<string, number>()
    for (let n = 0; n < orderCount; n++) {
      const { connection, orderId } = orderOf(n)
      for (const r of yield* ledger.reservations(connection, orderId)) {
        if (r.state === "held") held.set(r.item, (held.get(r.item) ?? 0) + r.qty)
      }
    }
    const violations: Array<string> = []
    for (const b of yield* ledger.balances()) {
      if ((held.get(b.item) ?? 0) !== b.held) {
        violations.push(`${b.item}: reserved ${b.held}, held reservation rows ${held.get(b.item) ?? 0}`)
      }
    }
    return violations
  })

/**
 * Runs a whole sequence against a prepared ledger, checking the laws after every step. Returns the
 * outcomes (for comparison with another implementation) and every violation.
 *
 * @category constructors
 * @since 0.1.0
 */
export const runAll = (
  ledger: Ledger.LedgerService,
  refs: ReadonlyArray<Ledger.ListingRef>,
  ops: ReadonlyArray<Op>
): Effect.Effect<
  { readonly outcomes: ReadonlyArray<Outcome>; readonly violations: ReadonlyArray<string> },
  Ledger.LedgerError
> =>
  Effect.gen(function* () {
    const state = initialState()
    const outcomes: Array<Outcome> = []
    const violations: Array<string> = []
    let before = yield* snapshot(ledger, refs)
    for (const op of ops) {
      const result = yield* run(ledger, op, state)
      const after = yield* snapshot(ledger, refs)
      outcomes.push(result.outcome)
      violations.push(...check(op, before, after, result))
      before = after
    }
    violations.push(...(yield* checkReservations(ledger)))
    return { outcomes, violations }
  })
