/**
 * SqlRepair: finds and fixes drift in the pool's counters — the repair tool peers lack (Medusa #12401:
 * "reserved_quantity negative and no way to fix").
 *
 * It recomputes, under a lock that keeps writers out for the duration:
 * - each item's `reserved` from its open (held) reservations;
 * - each item's `on_hand` from its per-location stock rows, and its `shortfall`;
 * - each counter from the movement ledger (Σ delta), so every unit stays accounted for.
 *
 * `repair({ fix: false })` only reports. With `fix: true` the counters are set to the recomputed
 * values and every correction is itself an append-only `repair` movement, so the ledger balances
 * again and the history says who fixed what and why.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Ledger } from "@tkbridge/core"
import { Clock, Effect } from "effect"

/**
 * One item counter whose stored value differs from the value recomputed from its sources.
 *
 * @category models
 * @since 0.1.0
 */
export interface CounterDrift {
  readonly item: string
  readonly counter: "reserved" | "on_hand" | "shortfall"
  readonly recorded: number
  readonly expected: number
}

/**
 * A counter the movement ledger does not add up to: `recorded` is the stored value, `fromMovements`
 * the Σ of its movements.
 *
 * @category models
 * @since 0.1.0
 */
export interface LedgerDrift {
  readonly item: string
  readonly kind: Ledger.MovementKind
  readonly location?: string | undefined
  readonly recorded: number
  readonly fromMovements: number
}

/**
 * What the repair found and (with `fix`) corrected.
 *
 * @category models
 * @since 0.1.0
 */
export interface RepairReport extends Ledger.Changes {
  readonly counters: ReadonlyArray<CounterDrift>
  readonly ledger: ReadonlyArray<LedgerDrift>
  readonly fixed: boolean
}

/**
 * Options of a repair run.
 *
 * @category models
 * @since 0.1.0
 */
export interface RepairOptions {
  /** Correct what was found (default: report only). */
  readonly fix?: boolean | undefined
  /** Who ran it and why, recorded on the repair movements. */
  readonly actor?: string | undefined
  readonly reason?: string | undefined
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const key = (item: string, location: string | null) => `${item}\u0000${location ?? ""}`

/**
 * Recomputes the pool's counters and reports (or fixes) drift. Runs in one transaction; joins the
 * caller's when there is one.
 *
 * @category constructors
 * @since 0.1.0
 */
export const repair = (options: RepairOptions = {}): Effect.Effect<RepairReport, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const at = yield* Clock.currentTimeMillis
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        // Keep writers out while counting: PostgreSQL table locks (readers still pass); on SQLite a
        // first write takes the one writer lock.
        yield* sql.onDialectOrElse({
          pg: () => sql`LOCK TABLE tkb_items, tkb_stock, tkb_reservations, tkb_movements IN EXCLUSIVE MODE`,
          orElse: () =>
            sql`INSERT INTO tkb_ledger_ops (op_key, at) VALUES ('repair', ${at}) ON CONFLICT (op_key) DO UPDATE SET at = excluded.at`
        })
        const items = yield* sql<{ item: string; on_hand: number; reserved: number; shortfall: number }>`
          SELECT item, on_hand, reserved, shortfall FROM tkb_items`
        const held = new Map(
          (yield* sql<{ item: string; qty: number }>`
            SELECT item, SUM(item_qty) AS qty FROM tkb_reservations WHERE state = 'held' GROUP BY item`).map(
            (r) => [r.item, Number(r.qty)] as const
          )
        )
        const stockRows = yield* sql<{ item: string; location: string; on_hand: number }>`
          SELECT item, location, on_hand FROM tkb_stock`
        const onHand = new Map<string, number>()
        for (const s of stockRows) onHand.set(s.item, (onHand.get(s.item) ?? 0) + s.on_hand)
        const sums = new Map(
          (yield* sql<{ item: string; location: string | null; kind: Ledger.MovementKind; total: number }>`
            SELECT item, location, kind, SUM(delta) AS total FROM tkb_movements GROUP BY item, location, kind`).map(
            (r) => [`${r.kind}\u0000${key(r.item, r.location)}`, Number(r.total)] as const
          )
        )

        const counters: Array<CounterDrift> = []
        const fixes: Array<{ item: string; onHand: number; reserved: number; shortfall: number }> = []
        for (const row of [...items].sort((a, b) => byString(a.item, b.item))) {
          const reserved = held.get(row.item) ?? 0
          const total = onHand.get(row.item) ?? 0
          const shortfall = Math.max(0, reserved - total)
          const before = counters.length
          if (row.reserved !== reserved) {
            counters.push({ item: row.item, counter: "reserved", recorded: row.reserved, expected: reserved })
          }
          if (row.on_hand !== total) {
            counters.push({ item: row.item, counter: "on_hand", recorded: row.on_hand, expected: total })
          }
          if (row.shortfall !== shortfall) {
            counters.push({ item: row.item, counter: "shortfall", recorded: row.shortfall, expected: shortfall })
          }
          if (counters.length > before) fixes.push({ item: row.item, onHand: total, reserved, shortfall })
        }

        // The ledger must account for the counters as they will be after the fix.
        const ledger: Array<LedgerDrift> = []
        for (const s of [...stockRows].sort((a, b) => byString(a.item, b.item) || byString(a.location, b.location))) {
          const fromMovements = sums.get(`on_hand\u0000${key(s.item, s.location)}`) ?? 0
          if (fromMovements !== s.on_hand) {
            ledger.push({ item: s.item, kind: "on_hand", location: s.location, recorded: s.on_hand, fromMovements })
          }
        }
        for (const row of [...items].sort((a, b) => byString(a.item, b.item))) {
          const fromMovements = sums.get(`reserved\u0000${key(row.item, null)}`) ?? 0
          if (fromMovements !== row.reserved) {
            ledger.push({ item: row.item, kind: "reserved", recorded: row.reserved, fromMovements })
          }
        }

        if (options.fix !== true || (counters.length === 0 && ledger.length === 0)) {
          return { counters, ledger, fixed: false, changed: [] }
        }
        const actor = options.actor ?? Ledger.defaultActor
        const reason = options.reason ?? null
        const moves: Array<Record<string, unknown>> = []
        const move = (
          item: string,
          location: string | null,
          kind: Ledger.MovementKind,
          before: number,
          after: number
        ) =>
          moves.push({
            at,
            op: "repair",
            actor,
            reason,
            reference: "repair",
            item,
            location,
            kind,
            qty_before: before,
            qty_after: after,
            delta: after - before
          })
        // Reconcile the ledger first (Σ movements → stored value), then record the counter fixes on top.
        for (const d of ledger) move(d.item, d.location ?? null, d.kind, d.fromMovements, d.recorded)
        for (const f of fixes) {
          const row = items.find((r) => r.item === f.item)!
          if (row.reserved !== f.reserved) move(f.item, null, "reserved", row.reserved, f.reserved)
          yield* sql`
            UPDATE tkb_items SET on_hand = ${f.onHand}, reserved = ${f.reserved}, shortfall = ${f.shortfall},
              updated_at = ${at}
            WHERE item = ${f.item}`
        }
        for (let i = 0; i < moves.length; i += 400) {
          yield* sql`INSERT INTO tkb_movements ${sql.insert(moves.slice(i, i + 400))}`
        }
        const touched = fixes.map((f) => f.item)
        const refs: Array<Ledger.ListingRef> = []
        for (let i = 0; i < touched.length; i += 400) {
          const rows = yield* sql<{ connection: string; external_sku: string }>`
            SELECT DISTINCT connection, external_sku FROM tkb_listing_components
            WHERE item IN ${sql.in(touched.slice(i, i + 400))}`
          for (const r of rows) refs.push({ connection: r.connection, externalSku: r.external_sku })
        }
        return { counters, ledger, fixed: true, changed: Ledger.sortRefs(refs) }
      })
    )
  })
