/**
 * LedgerMemory: the ledger port in memory — the reference model of the pool's semantics.
 *
 * Every operation checks everything that can fail before it changes anything, and runs without
 * yielding, so each one is atomic. Tests run the same operation sequences against this model and the
 * SQL store and compare the two; the runner's demo and partner tests use it where no database is
 * wanted. State lives only as long as the service.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Layer } from "effect"
import type { Item } from "./Item.ts"
import type {
  AdjustResult,
  CatalogEntry,
  Changes,
  CommitInput,
  ExpireResult,
  ItemBalance,
  LedgerConfig,
  LedgerService,
  ListingRef,
  Meta,
  Movement,
  MovementKind,
  MovementOp,
  OrderRef,
  PairingReport,
  ReserveInput,
  ReserveResult,
  RestockInput,
  RestockResult,
  SetStockResult,
  Shortage,
  Shortfall,
  StockReading,
  TransitionResult
} from "./Ledger.ts"
import {
  adjustKey,
  allocateShipment,
  defaultActor,
  InsufficientStock,
  InvalidTransition,
  Ledger,
  NegativeStock,
  ReturnExceedsShipment,
  restockLocation,
  returnKey,
  returnRuleFor,
  sortRefs,
  UnknownOrder,
  UnknownSku
} from "./Ledger.ts"
import { Component, Listing } from "./Listing.ts"
import * as Pairing from "./Pairing.ts"
import * as Pool from "./Pool.ts"
import type { ReservationState } from "./Reservation.ts"
import { Reservation } from "./Reservation.ts"

interface ItemRow {
  readonly item: string
  title: string | undefined
  safetyStock: number
  onHand: number
  reserved: number
}

interface StockRow {
  readonly location: string
  onHand: number
  sourceVersion: number | undefined
}

interface ListingRow {
  readonly connection: string
  readonly externalSku: string
  externalIds: Readonly<Record<string, string>>
  title: string | undefined
  by: Pairing.PairedBy | undefined
  unpairedReason: Pairing.UnpairedReason | undefined
  components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
}

interface LineItem {
  readonly item: string
  /** Units of the item for the whole line (component qty × line qty). */
  readonly qty: number
  location: string | undefined
}

interface LineRow {
  readonly connection: string
  readonly orderId: string
  readonly lineId: string
  readonly externalSku: string
  readonly qty: number
  state: ReservationState
  releasedReason: "cancelled" | "expired" | undefined
  expiresAt: number | undefined
  returned: number
  readonly createdAt: number
  updatedAt: number
  readonly items: ReadonlyArray<LineItem>
}

const k2 = (a: string, b: string) => `${a}\u0000${b}`
const k3 = (a: string, b: string, c: string) => `${a}\u0000${b}\u0000${c}`
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Quantities arrive typed but unchecked; a bad one is a bug in the caller, so it is a defect. */
const assertInt = (what: string, n: number, min: number) => {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${what} must be a whole number ≥ ${min}, got ${n}`)
}

/**
 * Builds an in-memory ledger.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (config: LedgerConfig): Effect.Effect<LedgerService> =>
  Effect.sync(() => {
    const items = new Map<string, ItemRow>()
    const stock = new Map<string, Map<string, StockRow>>()
    const listings = new Map<string, ListingRow>()
    const byItem = new Map<string, Set<string>>()
    const lines = new Map<string, LineRow>()
    const orders = new Map<string, Array<string>>()
    const ops = new Set<string>()
    const movements: Array<Movement> = []
    let nextMovement = 1

    const ensureItem = (item: string): ItemRow => {
      let row = items.get(item)
      if (row === undefined) {
        row = { item, title: undefined, safetyStock: 0, onHand: 0, reserved: 0 }
        items.set(item, row)
      }
      return row
    }
    const stockRows = (item: string): Map<string, StockRow> => {
      let m = stock.get(item)
      if (m === undefined) {
        m = new Map()
        stock.set(item, m)
      }
      return m
    }
    const move = (
      at: number,
      meta: Meta | undefined,
      op: MovementOp,
      item: string,
      location: string | undefined,
      kind: MovementKind,
      before: number,
      after: number,
      reference: string | undefined
    ) => {
      if (before === after) return
      movements.push({
        id: nextMovement++,
        at: new Date(at),
        op,
        actor: meta?.actor ?? defaultActor,
        ...(meta?.reason !== undefined ? { reason: meta.reason } : {}),
        ...(reference !== undefined ? { reference } : {}),
        item,
        ...(location !== undefined ? { location } : {}),
        kind,
        before,
        after,
        delta: after - before
      })
    }
    const setComponents = (row: ListingRow, components: ReadonlyArray<{ item: string; qty: number }>): boolean => {
      const key = k2(row.connection, row.externalSku)
      const before = JSON.stringify([...row.components].sort((a, b) => byString(a.item, b.item)))
      const sorted = [...components].sort((a, b) => byString(a.item, b.item))
      for (const c of row.components) byItem.get(c.item)?.delete(key)
      row.components = sorted.map((c) => ({ item: c.item, qty: c.qty }))
      for (const c of sorted) {
        ensureItem(c.item)
        let set = byItem.get(c.item)
        if (set === undefined) {
          set = new Set()
          byItem.set(c.item, set)
        }
        set.add(key)
      }
      return before !== JSON.stringify(row.components)
    }
    const listingRow = (connection: string, externalSku: string): ListingRow => {
      const key = k2(connection, externalSku)
      let row = listings.get(key)
      if (row === undefined) {
        row = {
          connection,
          externalSku,
          externalIds: {},
          title: undefined,
          by: undefined,
          unpairedReason: undefined,
          components: []
        }
        listings.set(key, row)
      }
      return row
    }
    const refsFor = (touched: Iterable<string>): ReadonlyArray<ListingRef> => {
      const refs: Array<ListingRef> = []
      for (const item of touched) {
        for (const key of byItem.get(item) ?? []) {
          const row = listings.get(key)
          if (row !== undefined) refs.push({ connection: row.connection, externalSku: row.externalSku })
        }
      }
      return sortRefs(refs)
    }
    const availableOf = (item: string): number => {
      const row = items.get(item)
      return row === undefined ? 0 : Math.max(0, row.onHand - row.reserved)
    }
    const shortfalls = (touched: Iterable<string>): ReadonlyArray<Shortfall> => {
      const out: Array<Shortfall> = []
      for (const item of [...new Set(touched)].sort(byString)) {
        const row = items.get(item)
        if (row !== undefined && row.reserved > row.onHand) {
          out.push({ item, onHand: row.onHand, reserved: row.reserved, shortfall: row.reserved - row.onHand })
        }
      }
      return out
    }
    const stockOf = (item: string): Pool.ItemStock | undefined => {
      const row = items.get(item)
      if (row === undefined) return undefined
      const locations = [...(stock.get(item)?.values() ?? [])]
        .map((s) => ({ location: s.location, onHand: s.onHand }))
        .sort((a, b) => byString(a.location, b.location))
      return { item, safetyStock: row.safetyStock, held: row.reserved, locations }
    }
    const lookup =
      (rules: Pairing.PairingRules) =>
      (keys: ReadonlyArray<string>): ReadonlyArray<string> => {
        const wanted = new Set(keys)
        const out: Array<string> = []
        for (const id of items.keys()) if (wanted.has(Pairing.matchKey(id, rules))) out.push(id)
        return out
      }
    const orderLines = (connection: string, orderId: string): ReadonlyArray<LineRow> =>
      (orders.get(k2(connection, orderId)) ?? []).map((k) => lines.get(k)!)
    const selectLines = (ref: OrderRef): ReadonlyArray<LineRow> | UnknownOrder => {
      const all = orderLines(ref.connection, ref.orderId)
      if (all.length === 0) return new UnknownOrder({ connection: ref.connection, orderId: ref.orderId })
      if (ref.lineIds === undefined) return all
      const wanted = [...new Set(ref.lineIds)]
      const missing = wanted.filter((id) => !all.some((l) => l.lineId === id))
      if (missing.length > 0) {
        return new UnknownOrder({ connection: ref.connection, orderId: ref.orderId, lineIds: missing })
      }
      return all.filter((l) => wanted.includes(l.lineId))
    }
    const perItem = (ls: ReadonlyArray<LineRow>): ReadonlyArray<{ item: string; qty: number }> =>
      Pool.demand(ls.map((l) => ({ qty: 1, components: l.items })))
    const toReservations = (
      connection: string,
      orderId: string,
      named?: ReadonlyArray<string>
    ): ReadonlyArray<Reservation> =>
      orderLines(connection, orderId)
        .filter((l) => named === undefined || named.includes(l.lineId))
        .flatMap((l) =>
          l.items.map(
            (li) =>
              new Reservation(
                {
                  connection,
                  orderId,
                  lineId: l.lineId,
                  item: li.item,
                  qty: li.qty,
                  state: l.state,
                  ...(l.expiresAt !== undefined ? { expiresAt: new Date(l.expiresAt) } : {}),
                  createdAt: new Date(l.createdAt)
                },
                true
              )
          )
        )
        .sort((a, b) => byString(a.lineId, b.lineId) || byString(a.item, b.item))
    const releaseLines = (
      at: number,
      meta: Meta | undefined,
      op: "release" | "expire",
      ls: ReadonlyArray<LineRow>
    ): ReadonlyArray<string> => {
      const touched = new Set<string>()
      const byOrder = new Map<string, Array<LineRow>>()
      for (const l of ls) {
        const key = k2(l.connection, l.orderId)
        const list = byOrder.get(key)
        if (list === undefined) byOrder.set(key, [l])
        else list.push(l)
      }
      for (const key of [...byOrder.keys()].sort(byString)) {
        const group = byOrder.get(key)!
        const first = group[0]!
        for (const d of perItem(group)) {
          const row = ensureItem(d.item)
          const before = row.reserved
          row.reserved -= d.qty
          touched.add(d.item)
          move(
            at,
            meta,
            op,
            d.item,
            undefined,
            "reserved",
            before,
            row.reserved,
            `order:${first.connection}/${first.orderId}`
          )
        }
        for (const l of group) {
          l.state = "released"
          l.releasedReason = op === "expire" ? "expired" : "cancelled"
          l.expiresAt = undefined
          l.updatedAt = at
        }
      }
      return [...touched]
    }

    const now = Clock.currentTimeMillis

    const upsertItems = (list: ReadonlyArray<Item>, _meta?: Meta): Effect.Effect<Changes> =>
      Effect.sync(() => {
        const touched: Array<string> = []
        for (const item of list) {
          assertInt("safety stock", item.safetyStock, 0)
          const existing = items.get(item.id)
          const row = ensureItem(item.id)
          if (existing === undefined || existing.safetyStock !== item.safetyStock) touched.push(item.id)
          row.safetyStock = item.safetyStock
          if (item.title !== undefined) row.title = item.title
        }
        return { changed: refsFor(touched) }
      })

    const setStock = (readings: ReadonlyArray<StockReading>, meta?: Meta): Effect.Effect<SetStockResult> =>
      Effect.map(now, (at) => {
        for (const r of readings) {
          assertInt("on hand", r.onHand, 0)
          if (r.sourceVersion !== undefined) assertInt("source version", r.sourceVersion, 0)
        }
        const sorted = [...readings].sort((a, b) => byString(a.item, b.item) || byString(a.location, b.location))
        const applied: Array<SetStockResult["applied"][number]> = []
        const stale: Array<SetStockResult["stale"][number]> = []
        const changedItems = new Set<string>()
        const appliedItems = new Set<string>()
        for (const r of sorted) {
          const rows = stock.get(r.item)
          const existing = rows?.get(r.location)
          if (
            r.sourceVersion !== undefined &&
            existing?.sourceVersion !== undefined &&
            r.sourceVersion <= existing.sourceVersion
          ) {
            stale.push({
              item: r.item,
              location: r.location,
              sourceVersion: r.sourceVersion,
              storedVersion: existing.sourceVersion
            })
            continue
          }
          const row = ensureItem(r.item)
          const before = existing?.onHand ?? 0
          stockRows(r.item).set(r.location, {
            location: r.location,
            onHand: r.onHand,
            sourceVersion: r.sourceVersion ?? existing?.sourceVersion
          })
          row.onHand += r.onHand - before
          applied.push({ item: r.item, location: r.location, before, after: r.onHand })
          appliedItems.add(r.item)
          if (before !== r.onHand) changedItems.add(r.item)
          const reference = r.sourceVersion !== undefined ? `version:${r.sourceVersion}` : undefined
          move(at, meta, "set", r.item, r.location, "on_hand", before, r.onHand, reference)
        }
        return { applied, stale, shortfalls: shortfalls(appliedItems), changed: refsFor(changedItems) }
      })

    const adjustStock: LedgerService["adjustStock"] = (a, meta) =>
      Effect.flatMap(now, (at) => {
        if (!Number.isSafeInteger(a.delta)) throw new Error(`delta must be a whole number, got ${a.delta}`)
        const current = stock.get(a.item)?.get(a.location)
        const before = current?.onHand ?? 0
        if (a.idempotencyKey !== undefined && ops.has(adjustKey(a.idempotencyKey))) {
          return Effect.succeed<AdjustResult>({
            outcome: "duplicate",
            before,
            after: before,
            shortfalls: [],
            changed: []
          })
        }
        const after = before + a.delta
        if (after < 0) {
          return Effect.fail(new NegativeStock({ item: a.item, location: a.location, onHand: before, delta: a.delta }))
        }
        const row = ensureItem(a.item)
        if (current === undefined)
          stockRows(a.item).set(a.location, { location: a.location, onHand: after, sourceVersion: undefined })
        else current.onHand = after
        row.onHand += a.delta
        if (a.idempotencyKey !== undefined) ops.add(adjustKey(a.idempotencyKey))
        const reference = a.idempotencyKey !== undefined ? adjustKey(a.idempotencyKey) : undefined
        move(at, meta, "adjust", a.item, a.location, "on_hand", before, after, reference)
        return Effect.succeed<AdjustResult>({
          outcome: "adjusted",
          before,
          after,
          shortfalls: shortfalls([a.item]),
          changed: a.delta !== 0 ? refsFor([a.item]) : []
        })
      })

    const reserve = (input: ReserveInput, meta?: Meta): Effect.Effect<ReserveResult, UnknownSku | InsufficientStock> =>
      Effect.flatMap(now, (at): Effect.Effect<ReserveResult, UnknownSku | InsufficientStock> => {
        const seen = new Set<string>()
        const unique = input.lines.filter((l) => {
          assertInt("line quantity", l.qty, 1)
          if (seen.has(l.lineId)) return false
          seen.add(l.lineId)
          return true
        })
        const fresh = unique.filter((l) => !lines.has(k3(input.connection, input.orderId, l.lineId)))
        // Only new lines are resolved: a redelivered line keeps what it reserved even if pairing changed since.
        const resolved: Array<{ line: (typeof unique)[number]; components: ReadonlyArray<Pairing.PairComponent> }> = []
        const toPersist: Array<{
          sku: string
          by: Pairing.PairedBy
          components: ReadonlyArray<Pairing.PairComponent>
        }> = []
        for (const line of fresh) {
          const row = listings.get(k2(input.connection, line.externalSku))
          if (row !== undefined && row.components.length > 0) {
            resolved.push({ line, components: row.components })
            continue
          }
          if (row?.unpairedReason === "manual") {
            return Effect.fail(unknownSku(input, line, "manual"))
          }
          const rules = Pairing.rulesFor(config.pairing, input.connection)
          const r = Pairing.resolve(input.connection, line.externalSku, config.pairing, lookup(rules))
          if (r._tag === "Unpaired") {
            return Effect.fail(
              unknownSku(
                input,
                line,
                r.reason === "ambiguous" ? "ambiguous" : row !== undefined ? "no_match" : "unknown"
              )
            )
          }
          resolved.push({ line, components: r.components })
          if (!toPersist.some((p) => p.sku === line.externalSku)) {
            toPersist.push({ sku: line.externalSku, by: r.by, components: r.components })
          }
        }
        if (fresh.length === 0) {
          return Effect.succeed<ReserveResult>({
            outcome: "duplicate",
            demand: [],
            reservations: toReservations(input.connection, input.orderId, [...seen]),
            changed: []
          })
        }
        const dem = Pool.demand(resolved.map((r) => ({ qty: r.line.qty, components: r.components })))
        const shortages: Array<Shortage> = []
        for (const d of dem) {
          const avail = availableOf(d.item)
          if (avail < d.qty) shortages.push({ item: d.item, requested: d.qty, available: avail })
        }
        if (shortages.length > 0) {
          return Effect.fail(new InsufficientStock({ connection: input.connection, orderId: input.orderId, shortages }))
        }
        for (const p of toPersist) {
          const row = listingRow(input.connection, p.sku)
          row.by = p.by
          row.unpairedReason = undefined
          setComponents(row, p.components)
        }
        const orderKey = k2(input.connection, input.orderId)
        const keys = orders.get(orderKey) ?? []
        for (const { line, components } of resolved) {
          const key = k3(input.connection, input.orderId, line.lineId)
          lines.set(key, {
            connection: input.connection,
            orderId: input.orderId,
            lineId: line.lineId,
            externalSku: line.externalSku,
            qty: line.qty,
            state: "held",
            releasedReason: undefined,
            expiresAt: input.expiresAt?.getTime(),
            returned: 0,
            createdAt: at,
            updatedAt: at,
            items: components.map((c) => ({ item: c.item, qty: c.qty * line.qty, location: undefined }))
          })
          keys.push(key)
        }
        orders.set(orderKey, keys)
        for (const d of dem) {
          const row = ensureItem(d.item)
          const before = row.reserved
          row.reserved += d.qty
          move(
            at,
            meta,
            "reserve",
            d.item,
            undefined,
            "reserved",
            before,
            row.reserved,
            `order:${input.connection}/${input.orderId}`
          )
        }
        return Effect.succeed<ReserveResult>({
          outcome: "reserved",
          demand: dem,
          reservations: toReservations(input.connection, input.orderId, [...seen]),
          changed: refsFor(dem.map((d) => d.item))
        })
      })

    const confirm = (ref: OrderRef, meta?: Meta): Effect.Effect<TransitionResult, UnknownOrder | InsufficientStock> =>
      Effect.flatMap(now, (at): Effect.Effect<TransitionResult, UnknownOrder | InsufficientStock> => {
        const selected = selectLines(ref)
        if (!Array.isArray(selected)) return Effect.fail(selected as UnknownOrder)
        const ls = selected as ReadonlyArray<LineRow>
        const clear = ls.filter((l) => l.state === "held" && l.expiresAt !== undefined)
        const rehold = ls.filter((l) => l.state === "released" && l.releasedReason === "expired")
        const dem = perItem(rehold)
        const shortages: Array<Shortage> = []
        for (const d of dem) {
          const avail = availableOf(d.item)
          if (avail < d.qty) shortages.push({ item: d.item, requested: d.qty, available: avail })
        }
        if (shortages.length > 0) {
          return Effect.fail(new InsufficientStock({ connection: ref.connection, orderId: ref.orderId, shortages }))
        }
        for (const l of clear) {
          l.expiresAt = undefined
          l.updatedAt = at
        }
        for (const l of rehold) {
          l.state = "held"
          l.releasedReason = undefined
          l.expiresAt = undefined
          l.updatedAt = at
        }
        for (const d of dem) {
          const row = ensureItem(d.item)
          const before = row.reserved
          row.reserved += d.qty
          move(
            at,
            meta,
            "confirm",
            d.item,
            undefined,
            "reserved",
            before,
            row.reserved,
            `order:${ref.connection}/${ref.orderId}`
          )
        }
        return Effect.succeed<TransitionResult>({
          lines: [...clear, ...rehold].map((l) => l.lineId).sort(byString),
          changed: refsFor(dem.map((d) => d.item))
        })
      })

    const commit = (
      input: CommitInput,
      meta?: Meta
    ): Effect.Effect<TransitionResult, UnknownOrder | InvalidTransition> =>
      Effect.flatMap(now, (at): Effect.Effect<TransitionResult, UnknownOrder | InvalidTransition> => {
        const selected = selectLines(input)
        if (!Array.isArray(selected)) return Effect.fail(selected as UnknownOrder)
        const ls = [...(selected as ReadonlyArray<LineRow>)].sort((a, b) => byString(a.lineId, b.lineId))
        const released = ls.filter((l) => l.state === "released")
        if (released.length > 0 && (input.lineIds !== undefined || released.length === ls.length)) {
          const l = released[0]!
          return Effect.fail(
            new InvalidTransition({
              connection: input.connection,
              orderId: input.orderId,
              lineId: l.lineId,
              state: "released",
              attempted: "commit"
            })
          )
        }
        const held = ls.filter((l) => l.state === "held")
        const reference = `order:${input.connection}/${input.orderId}`
        for (const d of perItem(held)) {
          const row = ensureItem(d.item)
          const rows = stockRows(d.item)
          const parts = allocateShipment([...rows.values()], d.qty, input.location)
          const before = row.reserved
          row.reserved -= d.qty
          move(at, meta, "commit", d.item, undefined, "reserved", before, row.reserved, reference)
          for (const p of parts) {
            const s = rows.get(p.location)!
            const b = s.onHand
            s.onHand -= p.qty
            row.onHand -= p.qty
            move(at, meta, "commit", d.item, p.location, "on_hand", b, s.onHand, reference)
          }
          const from = parts[0]?.location ?? input.location
          for (const l of held) for (const li of l.items) if (li.item === d.item) li.location = from
        }
        for (const l of held) {
          l.state = "committed"
          l.expiresAt = undefined
          l.updatedAt = at
        }
        return Effect.succeed<TransitionResult>({
          lines: held.map((l) => l.lineId),
          changed: refsFor(perItem(held).map((d) => d.item))
        })
      })

    const release = (ref: OrderRef, meta?: Meta): Effect.Effect<TransitionResult, UnknownOrder> =>
      Effect.flatMap(now, (at) => {
        const selected = selectLines(ref)
        if (!Array.isArray(selected)) return Effect.fail(selected as UnknownOrder)
        const held = (selected as ReadonlyArray<LineRow>).filter((l) => l.state === "held")
        const touched = releaseLines(at, meta, "release", held)
        return Effect.succeed<TransitionResult>({
          lines: held.map((l) => l.lineId).sort(byString),
          changed: refsFor(touched)
        })
      })

    const expire = (when: Date, meta?: Meta): Effect.Effect<ExpireResult> =>
      Effect.map(now, (at) => {
        const cutoff = when.getTime()
        const due = [...lines.values()]
          .filter((l) => l.state === "held" && l.expiresAt !== undefined && l.expiresAt <= cutoff)
          .sort(
            (a, b) =>
              byString(a.connection, b.connection) || byString(a.orderId, b.orderId) || byString(a.lineId, b.lineId)
          )
        const touched = releaseLines(at, meta, "expire", due)
        return {
          expired: due.map((l) => ({ connection: l.connection, orderId: l.orderId, lineId: l.lineId })),
          changed: refsFor(touched)
        }
      })

    const restock = (
      input: RestockInput,
      meta?: Meta
    ): Effect.Effect<RestockResult, UnknownOrder | InvalidTransition | ReturnExceedsShipment> =>
      Effect.flatMap(
        now,
        (at): Effect.Effect<RestockResult, UnknownOrder | InvalidTransition | ReturnExceedsShipment> => {
          const key = returnKey(input.connection, input.returnId)
          if (ops.has(key)) return Effect.succeed<RestockResult>({ outcome: "duplicate", items: [], changed: [] })
          const wanted = new Map<string, number>()
          for (const l of input.lines) {
            assertInt("returned quantity", l.qty, 1)
            wanted.set(l.lineId, (wanted.get(l.lineId) ?? 0) + l.qty)
          }
          const selected = selectLines({
            connection: input.connection,
            orderId: input.orderId,
            lineIds: [...wanted.keys()]
          })
          if (!Array.isArray(selected)) return Effect.fail(selected as UnknownOrder)
          const ls = [...(selected as ReadonlyArray<LineRow>)].sort((a, b) => byString(a.lineId, b.lineId))
          for (const l of ls) {
            const qty = wanted.get(l.lineId)!
            if (l.state !== "committed") {
              return Effect.fail(
                new InvalidTransition({
                  connection: input.connection,
                  orderId: input.orderId,
                  lineId: l.lineId,
                  state: l.state,
                  attempted: "restock"
                })
              )
            }
            if (l.returned + qty > l.qty) {
              return Effect.fail(
                new ReturnExceedsShipment({
                  connection: input.connection,
                  orderId: input.orderId,
                  lineId: l.lineId,
                  shipped: l.qty,
                  returned: l.returned,
                  requested: qty
                })
              )
            }
          }
          const rule = returnRuleFor(config, input.connection)
          const doRestock = input.restock ?? rule.restock
          const units = new Map<string, { item: string; location: string; qty: number }>()
          for (const l of ls) {
            const qty = wanted.get(l.lineId)!
            l.returned += qty
            l.updatedAt = at
            if (!doRestock) continue
            for (const li of l.items) {
              const location = restockLocation(input.location, rule, li.location)
              const k = k2(li.item, location)
              const perUnit = li.qty / l.qty
              const u = units.get(k)
              if (u === undefined) units.set(k, { item: li.item, location, qty: perUnit * qty })
              else u.qty += perUnit * qty
            }
          }
          const restocked = [...units.values()].sort(
            (a, b) => byString(a.item, b.item) || byString(a.location, b.location)
          )
          for (const u of restocked) {
            const row = ensureItem(u.item)
            const rows = stockRows(u.item)
            const s = rows.get(u.location)
            const before = s?.onHand ?? 0
            if (s === undefined) rows.set(u.location, { location: u.location, onHand: u.qty, sourceVersion: undefined })
            else s.onHand += u.qty
            row.onHand += u.qty
            move(at, meta, "restock", u.item, u.location, "on_hand", before, before + u.qty, key)
          }
          ops.add(key)
          return Effect.succeed<RestockResult>({
            outcome: doRestock ? "restocked" : "recorded",
            items: restocked,
            changed: refsFor(restocked.map((u) => u.item))
          })
        }
      )

    const importCatalog = (connection: string, entries: ReadonlyArray<CatalogEntry>): Effect.Effect<PairingReport> =>
      Effect.sync(() => {
        const bySku = new Map<string, (typeof entries)[number]>()
        for (const e of entries) bySku.set(e.externalSku, e)
        const rules = Pairing.rulesFor(config.pairing, connection)
        const changed: Array<ListingRef> = []
        const paired: Array<PairingReport["paired"][number]> = []
        const unpaired: Array<Pairing.Unpaired> = []
        for (const sku of [...bySku.keys()].sort(byString)) {
          const e = bySku.get(sku)!
          const row = listingRow(connection, sku)
          if (e.externalIds !== undefined) row.externalIds = { ...e.externalIds }
          if (e.title !== undefined) row.title = e.title
          if (row.by !== "manual") {
            const r = Pairing.resolve(connection, sku, config.pairing, lookup(rules))
            let moved: boolean
            if (r._tag === "Paired") {
              row.by = r.by
              row.unpairedReason = undefined
              moved = setComponents(row, r.components)
            } else {
              row.by = undefined
              row.unpairedReason = r.reason
              moved = setComponents(row, [])
            }
            if (moved) changed.push({ connection, externalSku: sku })
          }
          if (row.components.length > 0) paired.push({ externalSku: sku, by: row.by!, components: row.components })
          else {
            unpaired.push(
              new Pairing.Unpaired({
                connection,
                externalSku: sku,
                reason: row.unpairedReason ?? "no_match",
                ...(row.title !== undefined ? { title: row.title } : {})
              })
            )
          }
        }
        return { paired, unpaired, changed: sortRefs(changed) }
      })

    const pair: LedgerService["pair"] = (connection, externalSku, components) =>
      Effect.sync(() => {
        const checked = components.map((c) => new Component({ item: c.item, qty: c.qty }))
        if (checked.length === 0 || new Set(checked.map((c) => c.item)).size !== checked.length) {
          throw new Error("a pairing needs at least one component and must not name an item twice")
        }
        const row = listingRow(connection, externalSku)
        row.by = "manual"
        row.unpairedReason = undefined
        setComponents(row, checked)
        return { changed: [{ connection, externalSku }] }
      })

    const unpair: LedgerService["unpair"] = (connection, externalSku) =>
      Effect.sync(() => {
        const row = listingRow(connection, externalSku)
        row.by = "manual"
        row.unpairedReason = "manual"
        setComponents(row, [])
        return { changed: [{ connection, externalSku }] }
      })

    const published: LedgerService["published"] = (refs) =>
      Effect.sync(() =>
        sortRefs(refs).flatMap((ref) => {
          const row = listings.get(k2(ref.connection, ref.externalSku))
          if (row === undefined || row.components.length === 0) return []
          return [Pool.publish(row, stockOf, config.pool)]
        })
      )

    const listingsOf: LedgerService["listings"] = (connection) =>
      Effect.sync(() =>
        [...listings.values()]
          .filter((r) => r.components.length > 0 && (connection === undefined || r.connection === connection))
          .sort((a, b) => byString(a.connection, b.connection) || byString(a.externalSku, b.externalSku))
          .map(
            (r) =>
              new Listing({
                connection: r.connection,
                externalSku: r.externalSku,
                externalIds: r.externalIds,
                ...(r.title !== undefined ? { title: r.title } : {}),
                components: r.components.map((c) => new Component(c)) as [Component, ...Array<Component>]
              })
          )
      )

    const unpairedOf: LedgerService["unpaired"] = (connection) =>
      Effect.sync(() =>
        [...listings.values()]
          .filter((r) => r.components.length === 0 && (connection === undefined || r.connection === connection))
          .sort((a, b) => byString(a.connection, b.connection) || byString(a.externalSku, b.externalSku))
          .map(
            (r) =>
              new Pairing.Unpaired({
                connection: r.connection,
                externalSku: r.externalSku,
                reason: r.unpairedReason ?? "no_match",
                ...(r.title !== undefined ? { title: r.title } : {})
              })
          )
      )

    const balances: LedgerService["balances"] = (wanted) =>
      Effect.sync(() =>
        (wanted === undefined ? [...items.keys()] : [...new Set(wanted)])
          .sort(byString)
          .flatMap((item): Array<ItemBalance> => {
            const row = items.get(item)
            const s = stockOf(item)
            if (row === undefined || s === undefined) return []
            return [{ ...s, onHand: row.onHand, shortfall: Math.max(0, row.reserved - row.onHand) }]
          })
      )

    const service: LedgerService = {
      upsertItems,
      setStock,
      adjustStock,
      reserve,
      confirm,
      commit,
      release,
      expire,
      restock,
      importCatalog,
      pair,
      unpair,
      published,
      listings: listingsOf,
      unpaired: unpairedOf,
      balances,
      reservations: (connection, orderId) => Effect.sync(() => toReservations(connection, orderId)),
      movements: (query) =>
        Effect.sync(() => {
          const list = movements.filter(
            (m) =>
              (query?.item === undefined || m.item === query.item) &&
              (query?.afterId === undefined || m.id > query.afterId)
          )
          return query?.limit === undefined ? list : list.slice(0, query.limit)
        })
    }
    return service
  })

const unknownSku = (
  input: ReserveInput,
  line: { readonly lineId: string; readonly externalSku: string },
  reason: UnknownSku["reason"]
) =>
  new UnknownSku({
    connection: input.connection,
    orderId: input.orderId,
    lineId: line.lineId,
    externalSku: line.externalSku,
    reason
  })

/**
 * An in-memory ledger as a layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (config: LedgerConfig): Layer.Layer<Ledger> => Layer.effect(Ledger, make(config))
