/**
 * SqlLedger: the ledger port (`@tkbridge/core` `Ledger`) on SQLite and PostgreSQL, one code path.
 *
 * How it keeps the pool from overselling:
 * - the decision is a guarded `UPDATE tkb_items SET reserved = reserved + n … WHERE on_hand -
 *   reserved >= n` inside the transaction that inserted the order's lines; an order any of whose
 *   items falls short takes nothing and keeps no line (all lines or none). There is no
 *   read-then-write: on PostgreSQL a second writer waits for the row and re-checks the guard against
 *   the committed value; on SQLite there is one writer;
 * - order lines are inserted first (`ON CONFLICT DO NOTHING`): the line key is the idempotency key,
 *   so a redelivered order reserves once, even when both deliveries race;
 * - item rows are locked in item order and stock rows in (item, location) order by every writer, so
 *   writers queue instead of deadlocking; PostgreSQL deadlocks/serialization failures (40P01, 40001)
 *   and SQLite busy errors are retried;
 * - `CHECK` constraints are the backstop: no counter below zero, reserved never above on hand plus
 *   the shortfall a physical reading recorded.
 *
 * A mutation called inside the caller's `sql.withTransaction` runs as a savepoint of it, so the
 * caller's outbox rows commit or roll back with the stock change. Called on its own, it joins a
 * shared transaction (group commit): every write on SQLite, reservations on PostgreSQL. Reservations
 * waiting together are processed as a set — one listing read, one insert of lines, one guarded
 * `UPDATE … FROM (VALUES …)` per wave of orders that share no item, one insert of movements — and
 * each caller's answer is released only after the one durable commit (`synchronous=FULL` on
 * SQLite). Per order that is a fraction of a statement, which is what lets one SQLite file or one
 * PostgreSQL connection take thousands of reservations a second.
 *
 * @since 0.1.0
 */
import type { Statement } from "@effect/sql"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Item } from "@tkbridge/core"
import { Ledger, Listing, Pairing, Pool, Reservation } from "@tkbridge/core"
import type { Scope } from "effect"
import { Chunk, Clock, Deferred, Effect, Either, Exit, Layer, Option, Queue, Schedule } from "effect"

type LedgerService = Ledger.LedgerService
type Meta = Ledger.Meta
type ListingRef = Ledger.ListingRef

/**
 * Options of the SQL ledger.
 *
 * @category models
 * @since 0.1.0
 */
export interface SqlLedgerOptions {
  readonly config: Ledger.LedgerConfig
  /**
   * Share one transaction among concurrent top-level writes (group commit; default on). On SQLite
   * every write joins it (one connection, one fsync per commit); on PostgreSQL reservations do, and
   * other writes run in parallel transactions of their own.
   */
  readonly groupCommit?: boolean | undefined
  /** Most writes per shared transaction (default 256). */
  readonly maxBatch?: number | undefined
  /**
   * Shared transactions in flight at once on PostgreSQL (default 1; SQLite has one writer). More
   * workers split the waiting callers into smaller batches, which only pays when callers far
   * outnumber them. Each holds a connection while it runs.
   */
  readonly batchWorkers?: number | undefined
  /** Attempts after a deadlock, serialization failure or busy database (default 10). */
  readonly retries?: number | undefined
}

type ReserveError = Ledger.UnknownSku | Ledger.InsufficientStock

interface ReserveRequest {
  readonly input: Ledger.ReserveInput
  /** The input's lines, first occurrence of each line id. */
  readonly lines: ReadonlyArray<Ledger.ReserveLine>
  readonly at: number
  readonly meta: Ledger.Meta | undefined
}

interface MoveRow {
  readonly at: number
  readonly op: Ledger.MovementOp
  readonly actor: string
  readonly reason: string | null
  readonly reference: string | null
  readonly item: string
  readonly location: string | null
  readonly kind: Ledger.MovementKind
  readonly qty_before: number
  readonly qty_after: number
  readonly delta: number
}

interface LineState {
  readonly line_id: string
  readonly qty: number
  readonly state: "held" | "committed" | "released"
  readonly released_reason: "cancelled" | "expired" | null
  readonly expires_at: number | null
  readonly returned: number
}

interface BalanceRow {
  readonly item: string
  readonly safety_stock: number
  readonly on_hand: number
  readonly reserved: number
  readonly location: string | null
  readonly loc_on_hand: number | null
}

interface LineItemRow {
  readonly line_id: string
  readonly item: string
  readonly qty: number
  readonly location: string | null
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
/** Distinct line ids, sorted: updates return one row per component of a line. */
const lineIdsOf = (rows: ReadonlyArray<{ readonly line_id: string }>) =>
  [...new Set(rows.map((r) => r.line_id))].sort(byString)
const chunk = <A>(xs: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}
const orderRef = (connection: string, orderId: string) => `order:${connection}/${orderId}`
const assertInt = (what: string, n: number, min: number) => {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${what} must be a whole number ≥ ${min}, got ${n}`)
}

const retryableCodes = new Set([
  "40P01",
  "40001",
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_RECOVERY",
  "SQLITE_BUSY_TIMEOUT",
  "SQLITE_LOCKED",
  "SQLITE_LOCKED_SHAREDCACHE"
])

/**
 * True for storage failures that a fresh attempt of the whole transaction may get past: PostgreSQL
 * deadlock (40P01) and serialization failure (40001), SQLite busy/locked.
 *
 * @category constructors
 * @since 0.1.0
 */
export const isRetryable = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null) return false
  const e = error as { readonly _tag?: unknown; readonly cause?: unknown }
  if (e._tag !== "SqlError") return false
  const code = (e.cause as { readonly code?: unknown } | undefined)?.code
  return typeof code === "string" && retryableCodes.has(code)
}

const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

const unavailable = (e: SqlError): Ledger.LedgerUnavailable =>
  new Ledger.LedgerUnavailable({
    message: `ledger storage failed: ${e.message}`,
    retryable: isRetryable(e),
    cause: e.cause
  })

/**
 * Builds the SQL ledger. Tables come from the store's migrations (`SqlStore` runs them).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: SqlLedgerOptions
): Effect.Effect<LedgerService, never, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const config = options.config
    const dialect = sql.onDialectOrElse({ sqlite: () => "sqlite" as const, orElse: () => "other" as const })
    const groupCommit = options.groupCommit ?? true
    const maxBatch = Math.max(1, options.maxBatch ?? 256)
    const batchWorkers = dialect === "sqlite" ? 1 : Math.max(1, options.batchWorkers ?? 1)
    const retryPolicy = Schedule.exponential("2 millis", 2).pipe(
      Schedule.union(Schedule.spaced("100 millis")),
      Schedule.jittered,
      Schedule.intersect(Schedule.recurs(options.retries ?? 10))
    )
    const retrying = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.retry(effect, { schedule: retryPolicy, while: isRetryable })

    // ---- group commit ---------------------------------------------------------------------------
    // Work waiting for the shared transaction: a generic mutation, or a reservation (reservations
    // queued together are processed as one set, see `reserveBatch`).
    type Pending =
      | {
          readonly _tag: "job"
          readonly job: Effect.Effect<unknown, unknown>
          readonly done: Deferred.Deferred<unknown, unknown>
        }
      | {
          readonly _tag: "reserve"
          readonly request: ReserveRequest
          readonly done: Deferred.Deferred<Ledger.ReserveResult, ReserveError | SqlError>
        }
    const queue = yield* Queue.unbounded<Pending>()
    // SQLite upgrades a reading transaction to a writing one only if no other connection wrote in
    // between (else SQLITE_BUSY_SNAPSHOT, which waiting cannot cure), so a shared transaction takes
    // the write lock first, whatever its jobs read.
    const writeLock =
      dialect === "sqlite"
        ? sql`
            INSERT INTO tkb_ledger_ops (op_key, at) VALUES ('writer', 0)
            ON CONFLICT (op_key) DO UPDATE SET at = tkb_ledger_ops.at + 1`.pipe(Effect.asVoid)
        : Effect.void
    const runBatch = (batch: ReadonlyArray<Pending>) => {
      // Consecutive reservations form one group; every group and every job is its own savepoint.
      const groups: Array<ReadonlyArray<Pending>> = []
      for (const p of batch) {
        const last = groups[groups.length - 1]
        if (p._tag === "reserve" && last !== undefined && last[0]!._tag === "reserve") (last as Array<Pending>).push(p)
        else groups.push([p])
      }
      const runGroup = (group: ReadonlyArray<Pending>) => {
        const first = group[0]!
        if (first._tag === "job") return Effect.map(Effect.exit(sql.withTransaction(first.job)), (e) => [e])
        const requests = group.map((p) => (p as Extract<Pending, { _tag: "reserve" }>).request)
        const toExits = (out: ReadonlyArray<Either.Either<Ledger.ReserveResult, ReserveError>>) =>
          out.map((e): Exit.Exit<unknown, unknown> => (Either.isRight(e) ? Exit.succeed(e.right) : Exit.fail(e.left)))
        // A group that is the whole batch needs no savepoint of its own: a storage failure fails
        // (and rolls back) the batch's transaction, and every caller in it gets that failure.
        if (groups.length === 1) return Effect.map(reserveBatch(requests), toExits)
        return Effect.map(Effect.exit(sql.withTransaction(reserveBatch(requests))), (exit) =>
          Exit.isSuccess(exit) ? toExits(exit.value) : group.map(() => exit as Exit.Exit<unknown, unknown>)
        )
      }
      return sql.withTransaction(Effect.zipRight(writeLock, Effect.forEach(groups, runGroup))).pipe(
        retrying,
        Effect.exit,
        Effect.flatMap((exit) => {
          if (Exit.isFailure(exit)) {
            return Effect.forEach(
              batch,
              (p) => Deferred.failCause(p.done as Deferred.Deferred<unknown, unknown>, exit.cause),
              {
                discard: true
              }
            )
          }
          const exits = exit.value.flat()
          return Effect.forEach(
            batch,
            (p, i) => Deferred.done(p.done as Deferred.Deferred<unknown, unknown>, exits[i]!),
            { discard: true }
          )
        }),
        Effect.onInterrupt(() =>
          Effect.forEach(batch, (p) => Deferred.interrupt(p.done as Deferred.Deferred<unknown, unknown>), {
            discard: true
          })
        )
      )
    }
    if (groupCommit) {
      // Yield first: the callers the previous batch just released get to queue their next writes,
      // so they join this batch instead of each paying for a commit of its own.
      // A shared transaction belongs to no single caller's trace, so its statements carry no
      // spans (a span per statement also costs about as much CPU as the statement itself).
      const worker = Effect.yieldNow().pipe(
        Effect.zipRight(Queue.takeBetween(queue, 1, maxBatch)),
        Effect.flatMap((batch) => runBatch(Chunk.toReadonlyArray(batch))),
        Effect.forever,
        Effect.withTracerEnabled(false)
      )
      for (let i = 0; i < batchWorkers; i++) yield* Effect.forkScoped(worker)
      yield* Effect.addFinalizer(() =>
        Queue.takeAll(queue).pipe(
          Effect.flatMap((rest) =>
            Effect.forEach(rest, (p) => Deferred.interrupt(p.done as Deferred.Deferred<unknown, unknown>), {
              discard: true
            })
          ),
          Effect.zipRight(Queue.shutdown(queue))
        )
      )
    }
    const submit = <A, E>(job: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.flatMap(Deferred.make<A, E>(), (done) =>
        Effect.zipRight(Queue.offer(queue, { _tag: "job", job, done } as unknown as Pending), Deferred.await(done))
      )

    /**
     * Runs a mutation: as a savepoint of the caller's transaction when there is one, else in a
     * transaction of its own (shared with concurrent writers under group commit), retried on
     * deadlock/busy. Storage failures become `LedgerUnavailable`.
     */
    const write = <A, E>(
      job: Effect.Effect<A, E | SqlError>
    ): Effect.Effect<A, Exclude<E, SqlError> | Ledger.LedgerUnavailable> =>
      Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (outer) => {
        if (Option.isSome(outer)) return sql.withTransaction(job)
        if (groupCommit && dialect === "sqlite") return submit(job)
        return retrying(sql.withTransaction(Effect.zipRight(writeLock, job)))
      }).pipe(Effect.catchIf(isSqlError, (e) => Effect.fail(unavailable(e)))) as Effect.Effect<
        A,
        Exclude<E, SqlError> | Ledger.LedgerUnavailable
      >

    const read = <A, E>(
      effect: Effect.Effect<A, E | SqlError>
    ): Effect.Effect<A, Exclude<E, SqlError> | Ledger.LedgerUnavailable> =>
      Effect.catchIf(effect, isSqlError, (e) => Effect.fail(unavailable(e))) as Effect.Effect<
        A,
        Exclude<E, SqlError> | Ledger.LedgerUnavailable
      >

    // ---- shared statements --------------------------------------------------------------------
    const movement = (
      at: number,
      meta: Meta | undefined,
      op: Ledger.MovementOp,
      item: string,
      location: string | undefined,
      kind: Ledger.MovementKind,
      before: number,
      after: number,
      reference: string | undefined
    ): MoveRow => ({
      at,
      op,
      actor: meta?.actor ?? Ledger.defaultActor,
      reason: meta?.reason ?? null,
      reference: reference ?? null,
      item,
      location: location ?? null,
      kind,
      qty_before: before,
      qty_after: after,
      delta: after - before
    })

    const insertMovements = (rows: ReadonlyArray<MoveRow>) =>
      Effect.forEach(
        chunk(
          rows.filter((r) => r.delta !== 0),
          400
        ),
        (part) => sql`INSERT INTO tkb_movements ${sql.insert(part as Array<MoveRow & Record<string, unknown>>)}`,
        { discard: true }
      )

    const changedFor = (items: Iterable<string>) =>
      Effect.gen(function* () {
        const list = [...new Set(items)]
        const refs: Array<ListingRef> = []
        for (const part of chunk(list, 400)) {
          const rows = yield* sql<{ connection: string; external_sku: string }>`
            SELECT DISTINCT connection, external_sku FROM tkb_listing_components WHERE item IN ${sql.in(part)}`
          for (const r of rows) refs.push({ connection: r.connection, externalSku: r.external_sku })
        }
        return Ledger.sortRefs(refs)
      })

    /** Creates missing item rows and locks all of them, in item order (the lock order every writer follows). */
    const ensureItems = (items: Iterable<string>, at: number) =>
      Effect.forEach(
        chunk([...new Set(items)].sort(byString), 400),
        (part) =>
          sql`INSERT INTO tkb_items ${sql.insert(
            part.map((item) => ({ item, pair_key: Pairing.pairKey(item), updated_at: at }))
          )} ON CONFLICT (item) DO UPDATE SET updated_at = excluded.updated_at`,
        { discard: true }
      )

    // shortfall = max(0, reserved − on_hand), kept in step with every physical change so the CHECK holds.
    const shortfallOf = (reserved: string, onHand: string) =>
      sql.literal(`CASE WHEN ${reserved} > ${onHand} THEN ${reserved} - (${onHand}) ELSE 0 END`)

    /** Moves an item's total on hand by `delta`, keeping its shortfall in step. */
    const addOnHand = (item: string, delta: number, at: number) =>
      sql`
        UPDATE tkb_items SET on_hand = on_hand + ${delta},
          shortfall = ${shortfallOf("reserved", `on_hand + ${Number(delta)}`)}, updated_at = ${at}
        WHERE item = ${item}`

    const shortfalls = (items: Iterable<string>) =>
      Effect.gen(function* () {
        const list = [...new Set(items)].sort(byString)
        const out: Array<Ledger.Shortfall> = []
        for (const part of chunk(list, 400)) {
          const rows = yield* sql<{ item: string; on_hand: number; reserved: number }>`
            SELECT item, on_hand, reserved FROM tkb_items WHERE item IN ${sql.in(part)} AND reserved > on_hand`
          for (const r of rows) {
            out.push({ item: r.item, onHand: r.on_hand, reserved: r.reserved, shortfall: r.reserved - r.on_hand })
          }
        }
        return out.sort((a, b) => byString(a.item, b.item))
      })

    const lineStates = (connection: string, orderId: string) =>
      sql<LineState>`
        SELECT line_id, qty, state, released_reason, expires_at, returned FROM tkb_reservations
        WHERE connection = ${connection} AND order_id = ${orderId} AND seq = 0`

    const lineItems = (connection: string, orderId: string, lineIds: ReadonlyArray<string>) =>
      lineIds.length === 0
        ? Effect.succeed<ReadonlyArray<LineItemRow>>([])
        : sql<LineItemRow>`
            SELECT line_id, item, item_qty AS qty, location FROM tkb_reservations
            WHERE connection = ${connection} AND order_id = ${orderId} AND line_id IN ${sql.in(lineIds)}`

    const readReservations = (connection: string, orderId: string, lineIds?: ReadonlyArray<string>) =>
      Effect.map(
        sql<{
          line_id: string
          state: "held" | "committed" | "released"
          expires_at: number | null
          created_at: number
          item: string
          qty: number
        }>`
          SELECT line_id, state, expires_at, created_at, item, item_qty AS qty FROM tkb_reservations
          WHERE connection = ${connection} AND order_id = ${orderId}`,
        (rows) =>
          rows
            .filter((r) => lineIds === undefined || lineIds.includes(r.line_id))
            .map(
              (r) =>
                new Reservation.Reservation(
                  {
                    connection,
                    orderId,
                    lineId: r.line_id,
                    item: r.item,
                    qty: r.qty,
                    state: r.state,
                    ...(r.expires_at !== null ? { expiresAt: new Date(r.expires_at) } : {}),
                    createdAt: new Date(r.created_at)
                  },
                  true
                )
            )
            .sort((a, b) => byString(a.lineId, b.lineId) || byString(a.item, b.item))
      )

    /** Selects an order's lines like the reference model: unknown order or lines → `UnknownOrder`. */
    const selectLines = (ref: Ledger.OrderRef, states: ReadonlyArray<LineState>) => {
      if (states.length === 0) return new Ledger.UnknownOrder({ connection: ref.connection, orderId: ref.orderId })
      if (ref.lineIds === undefined) return states
      const wanted = [...new Set(ref.lineIds)]
      const missing = wanted.filter((id) => !states.some((l) => l.line_id === id))
      if (missing.length > 0) {
        return new Ledger.UnknownOrder({ connection: ref.connection, orderId: ref.orderId, lineIds: missing })
      }
      return states.filter((l) => wanted.includes(l.line_id))
    }

    /** `AND line_id IN (…)` for the lines `ref` names, nothing when it names the whole order. */
    const lineFilterOf = (ref: Ledger.OrderRef) =>
      ref.lineIds === undefined ? sql.literal("") : sql`AND line_id IN ${sql.in([...new Set(ref.lineIds)])}`

    /** The lines `ref` names, sorted by line id; an unknown order or line fails with `UnknownOrder`. */
    const orderLines = (ref: Ledger.OrderRef) =>
      Effect.flatMap(lineStates(ref.connection, ref.orderId), (states) => {
        const selected = selectLines(ref, states)
        return Array.isArray(selected)
          ? Effect.succeed([...(selected as ReadonlyArray<LineState>)].sort((a, b) => byString(a.line_id, b.line_id)))
          : Effect.fail(selected as Ledger.UnknownOrder)
      })

    const perItem = (rows: ReadonlyArray<LineItemRow>) =>
      Pool.demand(rows.map((r) => ({ qty: 1, components: [{ item: r.item, qty: r.qty }] })))

    /** Takes `qty` more units into `reserved` for each item, guarded; returns the movements or the shortages. */
    const hold = (
      demand: ReadonlyArray<{ readonly item: string; readonly qty: number }>,
      at: number,
      meta: Meta | undefined,
      op: "reserve" | "confirm",
      reference: string
    ) =>
      Effect.gen(function* () {
        const moves: Array<MoveRow> = []
        const short: Array<{ item: string; qty: number }> = []
        for (const d of demand) {
          const rows = yield* sql<{ reserved: number }>`
            UPDATE tkb_items SET reserved = reserved + ${d.qty}, updated_at = ${at}
            WHERE item = ${d.item} AND on_hand - reserved >= ${d.qty}
            RETURNING reserved`
          const row = rows[0]
          if (row === undefined) short.push(d)
          else
            moves.push(
              movement(at, meta, op, d.item, undefined, "reserved", row.reserved - d.qty, row.reserved, reference)
            )
        }
        if (short.length === 0) return { moves, shortages: [] as Array<Ledger.Shortage> }
        const current = yield* sql<{ item: string; on_hand: number; reserved: number }>`
          SELECT item, on_hand, reserved FROM tkb_items WHERE item IN ${sql.in(short.map((d) => d.item))}`
        const shortages = short.map((d) => {
          const row = current.find((r) => r.item === d.item)
          return {
            item: d.item,
            requested: d.qty,
            available: row === undefined ? 0 : Math.max(0, row.on_hand - row.reserved)
          }
        })
        return { moves, shortages }
      })

    /** Gives units back from `reserved` (release, expiry), per order. */
    const unhold = (
      connection: string,
      orderId: string,
      lineIds: ReadonlyArray<string>,
      at: number,
      meta: Meta | undefined,
      op: "release" | "expire"
    ) =>
      Effect.gen(function* () {
        const items = perItem(yield* lineItems(connection, orderId, lineIds))
        const moves: Array<MoveRow> = []
        for (const d of items) {
          const rows = yield* sql<{ reserved: number }>`
            UPDATE tkb_items SET reserved = reserved - ${d.qty},
              shortfall = ${shortfallOf(`reserved - ${Number(d.qty)}`, "on_hand")}, updated_at = ${at}
            WHERE item = ${d.item}
            RETURNING reserved`
          const row = rows[0]!
          moves.push(
            movement(
              at,
              meta,
              op,
              d.item,
              undefined,
              "reserved",
              row.reserved + d.qty,
              row.reserved,
              orderRef(connection, orderId)
            )
          )
        }
        return { moves, items: items.map((d) => d.item) }
      })

    // ---- mutations ----------------------------------------------------------------------------
    const upsertItems: LedgerService["upsertItems"] = (list) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        for (const i of list) assertInt("safety stock", i.safetyStock, 0)
        const byId = new Map<string, Item.Item>()
        for (const i of list) byId.set(i.id, i)
        const sorted = [...byId.values()].sort((a, b) => byString(a.id, b.id))
        return write(
          Effect.gen(function* () {
            const touched: Array<string> = []
            for (const part of chunk(sorted, 300)) {
              const created = yield* sql<{ item: string }>`
                INSERT INTO tkb_items ${sql.insert(
                  part.map((i) => ({
                    item: i.id,
                    pair_key: Pairing.pairKey(i.id),
                    title: i.title ?? null,
                    safety_stock: i.safetyStock,
                    updated_at: at
                  }))
                )} ON CONFLICT (item) DO NOTHING RETURNING item`
              const fresh = new Set(created.map((r) => r.item))
              for (const i of part) if (fresh.has(i.id)) touched.push(i.id)
              const existing = part.filter((i) => !fresh.has(i.id))
              if (existing.length === 0) continue
              const rows = yield* sql<{ item: string; safety_stock: number; title: string | null }>`
                SELECT item, safety_stock, title FROM tkb_items WHERE item IN ${sql.in(existing.map((i) => i.id))}`
              for (const i of existing) {
                const row = rows.find((r) => r.item === i.id)
                const title = i.title ?? row?.title ?? null
                if (row !== undefined && row.safety_stock === i.safetyStock && row.title === title) continue
                if (row?.safety_stock !== i.safetyStock) touched.push(i.id)
                yield* sql`
                  UPDATE tkb_items SET safety_stock = ${i.safetyStock}, title = ${title}, updated_at = ${at}
                  WHERE item = ${i.id}`
              }
            }
            return { changed: yield* changedFor(touched) }
          })
        )
      })

    const setStock: LedgerService["setStock"] = (readings, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        for (const r of readings) {
          assertInt("on hand", r.onHand, 0)
          if (r.sourceVersion !== undefined) assertInt("source version", r.sourceVersion, 0)
        }
        const sorted = [...readings].sort((a, b) => byString(a.item, b.item) || byString(a.location, b.location))
        return write(
          Effect.gen(function* () {
            yield* ensureItems(
              sorted.map((r) => r.item),
              at
            )
            const applied: Array<Ledger.SetStockResult["applied"][number]> = []
            const stale: Array<Ledger.SetStockResult["stale"][number]> = []
            const moves: Array<MoveRow> = []
            const deltas = new Map<string, number>()
            const changedItems = new Set<string>()
            for (const r of sorted) {
              const version = r.sourceVersion ?? null
              const rows = yield* sql<{ on_hand: number; last_delta: number }>`
                INSERT INTO tkb_stock (item, location, on_hand, source_version, last_delta, updated_at)
                VALUES (${r.item}, ${r.location}, ${r.onHand}, ${version}, ${r.onHand}, ${at})
                ON CONFLICT (item, location) DO UPDATE SET
                  last_delta = excluded.on_hand - tkb_stock.on_hand,
                  on_hand = excluded.on_hand,
                  source_version = COALESCE(excluded.source_version, tkb_stock.source_version),
                  updated_at = excluded.updated_at
                WHERE excluded.source_version IS NULL OR tkb_stock.source_version IS NULL
                  OR tkb_stock.source_version < excluded.source_version
                RETURNING on_hand, last_delta`
              const row = rows[0]
              if (row === undefined) {
                const [stored] = yield* sql<{ source_version: number }>`
                  SELECT source_version FROM tkb_stock WHERE item = ${r.item} AND location = ${r.location}`
                stale.push({
                  item: r.item,
                  location: r.location,
                  sourceVersion: r.sourceVersion!,
                  storedVersion: stored?.source_version ?? 0
                })
                continue
              }
              const before = row.on_hand - row.last_delta
              applied.push({ item: r.item, location: r.location, before, after: row.on_hand })
              deltas.set(r.item, (deltas.get(r.item) ?? 0) + row.last_delta)
              if (row.last_delta !== 0) changedItems.add(r.item)
              const reference = r.sourceVersion !== undefined ? `version:${r.sourceVersion}` : undefined
              moves.push(movement(at, meta, "set", r.item, r.location, "on_hand", before, row.on_hand, reference))
            }
            for (const [item, delta] of deltas) {
              if (delta === 0) continue
              yield* addOnHand(item, delta, at)
            }
            yield* insertMovements(moves)
            return {
              applied,
              stale,
              shortfalls: yield* shortfalls(applied.map((a) => a.item)),
              changed: yield* changedFor(changedItems)
            }
          })
        )
      })

    const adjustStock: LedgerService["adjustStock"] = (a, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        if (!Number.isSafeInteger(a.delta)) throw new Error(`delta must be a whole number, got ${a.delta}`)
        const key = a.idempotencyKey !== undefined ? Ledger.adjustKey(a.idempotencyKey) : undefined
        return write(
          Effect.gen(function* () {
            if (key !== undefined) {
              const inserted = yield* sql`
                INSERT INTO tkb_ledger_ops (op_key, at) VALUES (${key}, ${at}) ON CONFLICT (op_key) DO NOTHING RETURNING op_key`
              if (inserted.length === 0) {
                const [row] = yield* sql<{ on_hand: number }>`
                  SELECT on_hand FROM tkb_stock WHERE item = ${a.item} AND location = ${a.location}`
                const current = row?.on_hand ?? 0
                return {
                  outcome: "duplicate" as const,
                  before: current,
                  after: current,
                  shortfalls: [],
                  changed: []
                }
              }
            }
            yield* ensureItems([a.item], at)
            const rows =
              a.delta >= 0
                ? yield* sql<{ on_hand: number }>`
                    INSERT INTO tkb_stock (item, location, on_hand, source_version, last_delta, updated_at)
                    VALUES (${a.item}, ${a.location}, ${a.delta}, ${null}, ${a.delta}, ${at})
                    ON CONFLICT (item, location) DO UPDATE SET
                      on_hand = tkb_stock.on_hand + excluded.on_hand,
                      last_delta = excluded.on_hand,
                      updated_at = excluded.updated_at
                    RETURNING on_hand`
                : yield* sql<{ on_hand: number }>`
                    UPDATE tkb_stock SET on_hand = on_hand + ${a.delta}, last_delta = ${a.delta}, updated_at = ${at}
                    WHERE item = ${a.item} AND location = ${a.location} AND on_hand + ${a.delta} >= 0
                    RETURNING on_hand`
            const row = rows[0]
            if (row === undefined) {
              const [current] = yield* sql<{ on_hand: number }>`
                SELECT on_hand FROM tkb_stock WHERE item = ${a.item} AND location = ${a.location}`
              return yield* Effect.fail(
                new Ledger.NegativeStock({
                  item: a.item,
                  location: a.location,
                  onHand: current?.on_hand ?? 0,
                  delta: a.delta
                })
              )
            }
            if (a.delta !== 0) {
              yield* addOnHand(a.item, a.delta, at)
            }
            yield* insertMovements([
              movement(at, meta, "adjust", a.item, a.location, "on_hand", row.on_hand - a.delta, row.on_hand, key)
            ])
            return {
              outcome: "adjusted" as const,
              before: row.on_hand - a.delta,
              after: row.on_hand,
              shortfalls: yield* shortfalls([a.item]),
              changed: a.delta !== 0 ? yield* changedFor([a.item]) : []
            }
          })
        )
      })

    const persistListing = (
      connection: string,
      sku: string,
      by: Pairing.PairedBy | null,
      unpairedReason: Pairing.UnpairedReason | null,
      components: ReadonlyArray<Pairing.PairComponent>,
      at: number,
      extra?: { readonly externalIds: string; readonly title: string | null }
    ) =>
      Effect.gen(function* () {
        if (extra === undefined) {
          yield* sql`
            INSERT INTO tkb_listings (connection, external_sku, paired_by, unpaired_reason, updated_at)
            VALUES (${connection}, ${sku}, ${by}, ${unpairedReason}, ${at})
            ON CONFLICT (connection, external_sku) DO UPDATE SET
              paired_by = excluded.paired_by, unpaired_reason = excluded.unpaired_reason, updated_at = excluded.updated_at`
        } else {
          yield* sql`
            INSERT INTO tkb_listings (connection, external_sku, external_ids, title, paired_by, unpaired_reason, updated_at)
            VALUES (${connection}, ${sku}, ${extra.externalIds}, ${extra.title}, ${by}, ${unpairedReason}, ${at})
            ON CONFLICT (connection, external_sku) DO UPDATE SET
              external_ids = excluded.external_ids, title = excluded.title, paired_by = excluded.paired_by,
              unpaired_reason = excluded.unpaired_reason, updated_at = excluded.updated_at`
        }
        yield* sql`DELETE FROM tkb_listing_components WHERE connection = ${connection} AND external_sku = ${sku}`
        if (components.length > 0) {
          yield* sql`INSERT INTO tkb_listing_components ${sql.insert(
            components.map((c) => ({ connection, external_sku: sku, item: c.item, qty: c.qty }))
          )} ON CONFLICT (connection, external_sku, item) DO UPDATE SET qty = excluded.qty`
        }
      })

    /**
     * Reserves for a set of orders in the current transaction, each all-or-nothing, with the result
     * of taking them one after another. The orders of a group-commit batch are read and written as
     * sets — one listing lookup, one insert of every new order line (insert-first: the idempotency
     * keys), on PostgreSQL one `SELECT … ORDER BY item FOR UPDATE` so rows are locked in item order,
     * one insert of item rows and of movements — and only the guarded
     * `UPDATE tkb_items … WHERE on_hand - reserved >= n` runs per order and item. An order whose
     * guard fails gives back what it took and drops its lines. Orders that repeat a line of an
     * earlier order in the batch (a redelivery) run in a following round, so they see its outcome.
     */
    const reserveBatch = (
      requests: ReadonlyArray<ReserveRequest>
    ): Effect.Effect<Array<Either.Either<Ledger.ReserveResult, ReserveError>>, SqlError> =>
      Effect.gen(function* () {
        const results: Array<Either.Either<Ledger.ReserveResult, ReserveError> | undefined> = requests.map(
          () => undefined
        )
        let round = requests.map((request, index) => ({ request, index }))
        while (round.length > 0) {
          const taken = new Set<string>()
          const now: typeof round = []
          const later: typeof round = []
          for (const r of round) {
            const keys = r.request.lines.map((l) => lineKey(r.request.input, l.lineId))
            if (keys.some((k) => taken.has(k))) later.push(r)
            else {
              for (const k of keys) taken.add(k)
              now.push(r)
            }
          }
          const out = yield* reserveRound(now.map((r) => r.request))
          for (const [i, r] of now.entries()) results[r.index] = out[i]
          round = later
        }
        return results as Array<Either.Either<Ledger.ReserveResult, ReserveError>>
      })

    const lineKey = (input: Ledger.ReserveInput, lineId: string) =>
      `${input.connection}\u0000${input.orderId}\u0000${lineId}`

    const reserveRound = (requests: ReadonlyArray<ReserveRequest>) =>
      Effect.gen(function* () {
        // 1. what the SKUs are made of
        const skusBy = new Map<string, Set<string>>()
        for (const r of requests) {
          const skus = skusBy.get(r.input.connection) ?? new Set<string>()
          for (const l of r.lines) skus.add(l.externalSku)
          skusBy.set(r.input.connection, skus)
        }
        // One read brings what each SKU is made of and, for every component item, the listings that
        // contain it (what a reservation of that item makes the pusher recompute).
        const known = new Map<string, { manual: boolean; components: Array<Pairing.PairComponent> }>()
        const affected = new Map<string, Map<string, ListingRef>>()
        const total = [...skusBy.values()].reduce((n, set) => n + set.size, 0)
        const queries =
          total <= 400
            ? [[...skusBy].map(([connection, skus]) => ({ connection, skus: [...skus] }))]
            : [...skusBy].flatMap(([connection, skus]) =>
                chunk([...skus], 400).map((part) => [{ connection, skus: part }])
              )
        for (const q of queries) {
          const where = sql.or(
            q.map((g) => sql`(c.connection = ${g.connection} AND c.external_sku IN ${sql.in(g.skus)})`)
          )
          const rows = yield* sql<{
            connection: string
            external_sku: string
            item: string
            qty: number
            in_connection: string | null
            in_sku: string | null
          }>`
            SELECT c.connection, c.external_sku, c.item, c.qty, x.connection AS in_connection, x.external_sku AS in_sku
            FROM tkb_listing_components c LEFT JOIN tkb_listing_components x ON x.item = c.item
            WHERE ${where}`
          for (const row of rows) {
            const key = `${row.connection}\u0000${row.external_sku}`
            let entry = known.get(key)
            if (entry === undefined) {
              entry = { manual: false, components: [] }
              known.set(key, entry)
            }
            const item = row.item
            if (!entry.components.some((c) => c.item === item)) entry.components.push({ item, qty: row.qty })
            if (row.in_connection !== null && row.in_sku !== null) {
              const refs = affected.get(item) ?? new Map<string, ListingRef>()
              refs.set(`${row.in_connection}\u0000${row.in_sku}`, {
                connection: row.in_connection,
                externalSku: row.in_sku
              })
              affected.set(item, refs)
            }
          }
        }
        // SKUs without components: unpaired listings (a person's "unpaired" sticks) or unknown ones.
        for (const [connection, skus] of skusBy) {
          const missing = [...skus].filter((sku) => !known.has(`${connection}\u0000${sku}`))
          for (const part of chunk(missing, 400)) {
            const rows = yield* sql<{ external_sku: string; unpaired_reason: Pairing.UnpairedReason | null }>`
              SELECT external_sku, unpaired_reason FROM tkb_listings
              WHERE connection = ${connection} AND external_sku IN ${sql.in(part)}`
            for (const row of rows) {
              known.set(`${connection}\u0000${row.external_sku}`, {
                manual: row.unpaired_reason === "manual",
                components: []
              })
            }
          }
        }

        // 2. resolve each order's lines; a SKU that does not resolve fails the order, unless its line
        //    was reserved before (a redelivery keeps what it reserved even if pairing changed since)
        type Plan = {
          readonly request: ReserveRequest
          readonly resolved: ReadonlyArray<{
            line: Ledger.ReserveLine
            components: ReadonlyArray<Pairing.PairComponent>
          }>
          readonly pending: ReadonlyArray<{
            sku: string
            by: Pairing.PairedBy
            components: ReadonlyArray<Pairing.PairComponent>
          }>
        }
        const results: Array<Either.Either<Ledger.ReserveResult, ReserveError> | undefined> = requests.map(
          () => undefined
        )
        const plans: Array<Plan | undefined> = []
        const planned = new Map<string, { by: Pairing.PairedBy; components: ReadonlyArray<Pairing.PairComponent> }>()
        for (const [index, request] of requests.entries()) {
          const { input } = request
          const resolved: Array<Plan["resolved"][number]> = []
          const pending: Array<Plan["pending"][number]> = []
          const failures: Array<Ledger.UnknownSku> = []
          for (const line of request.lines) {
            const key = `${input.connection}\u0000${line.externalSku}`
            const entry = known.get(key)
            if (entry !== undefined && entry.components.length > 0) {
              resolved.push({ line, components: entry.components })
              continue
            }
            const unknown = (reason: Ledger.UnknownSku["reason"]) =>
              failures.push(
                new Ledger.UnknownSku({
                  connection: input.connection,
                  orderId: input.orderId,
                  lineId: line.lineId,
                  externalSku: line.externalSku,
                  reason
                })
              )
            if (entry?.manual === true) {
              unknown("manual")
              continue
            }
            const plan = planned.get(key)
            if (plan !== undefined) {
              resolved.push({ line, components: plan.components })
              if (!pending.some((p) => p.sku === line.externalSku)) pending.push({ sku: line.externalSku, ...plan })
              continue
            }
            const r = yield* autoPair(input.connection, line.externalSku)
            if (r._tag === "Unpaired") {
              unknown(r.reason === "ambiguous" ? "ambiguous" : entry !== undefined ? "no_match" : "unknown")
              continue
            }
            resolved.push({ line, components: r.components })
            pending.push({ sku: line.externalSku, by: r.by, components: r.components })
            planned.set(key, { by: r.by, components: r.components })
          }
          if (failures.length > 0) {
            const existing = new Set(
              (yield* sql<{ line_id: string }>`
                SELECT line_id FROM tkb_reservations
                WHERE connection = ${input.connection} AND order_id = ${input.orderId}`).map((r) => r.line_id)
            )
            const first = failures.find((f) => !existing.has(f.lineId!))
            if (first !== undefined) {
              results[index] = Either.left(first)
              plans.push(undefined)
              continue
            }
          }
          plans.push({ request, resolved, pending })
        }

        // 3. insert-first: every new line claims its idempotency key. On PostgreSQL a concurrent
        //    delivery of the same line waits here for the first to commit, then finds the key taken.
        const candidates = plans.flatMap((p) =>
          p === undefined
            ? []
            : p.resolved.flatMap((r) =>
                r.components.map((c, seq) => ({
                  connection: p.request.input.connection,
                  order_id: p.request.input.orderId,
                  line_id: r.line.lineId,
                  seq,
                  item: c.item,
                  item_qty: c.qty * r.line.qty,
                  external_sku: r.line.externalSku,
                  qty: r.line.qty,
                  state: "held",
                  expires_at: p.request.input.expiresAt?.getTime() ?? null,
                  created_at: p.request.at,
                  updated_at: p.request.at
                }))
              )
        )
        const claimed = new Set<string>()
        const extra: Array<{ connection: string; order_id: string; line_id: string; seq: number }> = []
        for (const part of chunk(candidates, 200)) {
          const rows = yield* sql<{ connection: string; order_id: string; line_id: string; seq: number }>`
            INSERT INTO tkb_reservations ${sql.insert(part)}
            ON CONFLICT (connection, order_id, line_id, seq) DO NOTHING RETURNING connection, order_id, line_id, seq`
          for (const r of rows) {
            if (r.seq === 0) claimed.add(`${r.connection}\u0000${r.order_id}\u0000${r.line_id}`)
            else extra.push(r)
          }
        }
        // A known line whose pairing gained components since inserts its extra rows only: the line
        // is a redelivery (its row 0 exists), so those rows go again.
        for (const r of extra) {
          if (claimed.has(`${r.connection}\u0000${r.order_id}\u0000${r.line_id}`)) continue
          yield* sql`
            DELETE FROM tkb_reservations
            WHERE connection = ${r.connection} AND order_id = ${r.order_id} AND line_id = ${r.line_id} AND seq = ${r.seq}`
        }

        // 4. per order, in order: take its demand with the guarded update, or give it all back
        const work = plans.map((p) => {
          if (p === undefined) return undefined
          const mine = p.resolved.filter((r) => claimed.has(lineKey(p.request.input, r.line.lineId)))
          return { ...p, mine, demand: Pool.demand(mine.map((r) => ({ qty: r.line.qty, components: r.components }))) }
        })
        const items = [...new Set(work.flatMap((w) => w?.demand.map((d) => d.item) ?? []))].sort(byString)
        if (dialect !== "sqlite" && batchWorkers > 1 && items.length > 0) {
          // Parallel shared transactions overlap on items all the time: each locks every row it will
          // touch, in item order, before touching any, so they queue instead of deadlocking. With
          // one shared transaction (the default) the guarded update below takes its rows in the
          // order of its sorted VALUES list (a nested loop over it), like every other writer; a
          // deadlock with another writer is still possible in theory (PostgreSQL may plan otherwise)
          // and is detected and retried, never a wrong count. The extra statement would cost a
          // sixth of a batch.
          for (const part of chunk(items, 400)) {
            yield* sql`SELECT item FROM tkb_items WHERE item IN ${sql.in(part)} ORDER BY item FOR UPDATE`
          }
        }
        const moves: Array<MoveRow> = []
        const drop: Array<{ connection: string; orderId: string; lineIds: ReadonlyArray<string> }> = []
        const accepted: Array<{
          index: number
          demand: ReadonlyArray<{ item: string; qty: number }>
          created: Array<Reservation.Reservation>
        }> = []
        const persist = new Map<
          string,
          { connection: string; sku: string; by: Pairing.PairedBy; components: ReadonlyArray<Pairing.PairComponent> }
        >()
        // Orders that share no item commute, so each wave applies many orders' guarded updates in
        // one statement; an order sharing an item with an earlier one goes in a later wave, which
        // keeps every item's orders in their arrival order.
        const waveOf = new Map<number, number>()
        const lastWave = new Map<string, number>()
        for (const [index, w] of work.entries()) {
          if (w === undefined || w.mine.length === 0) continue
          const wave = Math.max(-1, ...w.demand.map((d) => lastWave.get(d.item) ?? -1)) + 1
          waveOf.set(index, wave)
          for (const d of w.demand) lastWave.set(d.item, wave)
        }
        const members: Array<Array<number>> = []
        for (const [index, wave] of waveOf) {
          const list = members[wave] ?? []
          list.push(index)
          members[wave] = list
        }
        const values = (rows: ReadonlyArray<{ item: string; qty: number }>) =>
          sql.csv(rows.map((r) => sql`(${r.item}, CAST(${r.qty} AS INTEGER))`))
        for (const wave of members) {
          // Sorted: the update takes its rows in this order (see above).
          const rows = wave.flatMap((index) => work[index]!.demand).sort((a, b) => byString(a.item, b.item))
          const got = new Map<string, number>()
          for (const part of chunk(rows, 300)) {
            const updated = yield* sql<{ item: string; reserved: number }>`
              UPDATE tkb_items SET reserved = reserved + d.column2, updated_at = ${requests[0]!.at}
              FROM (VALUES ${values(part)}) AS d
              WHERE tkb_items.item = d.column1 AND tkb_items.on_hand - tkb_items.reserved >= d.column2
              RETURNING tkb_items.item, tkb_items.reserved`
            for (const u of updated) got.set(u.item, u.reserved)
          }
          const failed = wave.filter((index) => work[index]!.demand.some((d) => !got.has(d.item)))
          const refused = new Set(failed)
          if (failed.length > 0) {
            // All or nothing: an order that fell short on any item gives back what it took.
            const giveBack = failed
              .flatMap((index) => work[index]!.demand.filter((d) => got.has(d.item)))
              .sort((a, b) => byString(a.item, b.item))
            for (const part of chunk(giveBack, 300)) {
              yield* sql`
                UPDATE tkb_items SET reserved = reserved - d.column2
                FROM (VALUES ${values(part)}) AS d
                WHERE tkb_items.item = d.column1`
            }
            // Report every item that falls short, not just the first, as the reference model does.
            const current = new Map<string, number>()
            const asked = [...new Set(failed.flatMap((index) => work[index]!.demand.map((d) => d.item)))]
            for (const part of chunk(asked, 400)) {
              const rows = yield* sql<{ item: string; on_hand: number; reserved: number }>`
                SELECT item, on_hand, reserved FROM tkb_items WHERE item IN ${sql.in(part)}`
              for (const r of rows) current.set(r.item, Math.max(0, r.on_hand - r.reserved))
            }
            for (const index of failed) {
              const w = work[index]!
              const { input } = w.request
              drop.push({
                connection: input.connection,
                orderId: input.orderId,
                lineIds: w.mine.map((r) => r.line.lineId)
              })
              const shortages = w.demand.flatMap((d) => {
                const available = current.get(d.item) ?? 0
                return available < d.qty ? [{ item: d.item, requested: d.qty, available }] : []
              })
              results[index] = Either.left(
                new Ledger.InsufficientStock({ connection: input.connection, orderId: input.orderId, shortages })
              )
            }
          }
          for (const index of wave) {
            if (refused.has(index)) continue
            const w = work[index]!
            const { input, at, meta } = w.request
            const reference = orderRef(input.connection, input.orderId)
            for (const d of w.demand) {
              const after = got.get(d.item)!
              moves.push(movement(at, meta, "reserve", d.item, undefined, "reserved", after - d.qty, after, reference))
            }
            for (const p of w.pending) {
              if (w.mine.some((r) => r.line.externalSku === p.sku)) {
                persist.set(`${input.connection}\u0000${p.sku}`, { connection: input.connection, ...p })
              }
            }
            const created: Array<Reservation.Reservation> = []
            for (const r of w.mine) {
              for (const c of r.components) {
                created.push(
                  new Reservation.Reservation(
                    {
                      connection: input.connection,
                      orderId: input.orderId,
                      lineId: r.line.lineId,
                      item: c.item,
                      qty: c.qty * r.line.qty,
                      state: "held",
                      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
                      createdAt: new Date(at)
                    },
                    true
                  )
                )
              }
            }
            accepted.push({ index, demand: w.demand, created })
          }
        }
        accepted.sort((a, b) => a.index - b.index)

        // 5. write the rest as sets
        for (const d of drop) {
          yield* sql`
            DELETE FROM tkb_reservations
            WHERE connection = ${d.connection} AND order_id = ${d.orderId} AND line_id IN ${sql.in(d.lineIds)}`
        }
        for (const p of [...persist.values()].sort(
          (a, b) => byString(a.connection, b.connection) || byString(a.sku, b.sku)
        )) {
          yield* persistListing(p.connection, p.sku, p.by, null, p.components, requests[0]!.at)
        }
        yield* insertMovements(moves)
        // Items no listing lookup covered (a SKU paired just now) are looked up here.
        const uncovered = [...new Set(accepted.flatMap((a) => a.demand.map((d) => d.item)))].filter(
          (item) => !affected.has(item) || persist.size > 0
        )
        for (const part of chunk(uncovered, 400)) {
          const rows = yield* sql<{ item: string; connection: string; external_sku: string }>`
            SELECT item, connection, external_sku FROM tkb_listing_components WHERE item IN ${sql.in(part)}`
          for (const row of rows) {
            const refs = affected.get(row.item) ?? new Map<string, ListingRef>()
            refs.set(`${row.connection}\u0000${row.external_sku}`, {
              connection: row.connection,
              externalSku: row.external_sku
            })
            affected.set(row.item, refs)
          }
        }

        // 6. answers
        for (const a of accepted) {
          const { input, lines } = requests[a.index]!
          const reservations =
            a.created.length > 0 && work[a.index]!.mine.length === lines.length
              ? a.created.sort((x, y) => byString(x.lineId, y.lineId) || byString(x.item, y.item))
              : yield* readReservations(
                  input.connection,
                  input.orderId,
                  lines.map((l) => l.lineId)
                )
          results[a.index] = Either.right({
            outcome: "reserved",
            demand: a.demand,
            reservations,
            changed: Ledger.sortRefs(a.demand.flatMap((d) => [...(affected.get(d.item)?.values() ?? [])]))
          })
        }
        for (const [index, r] of results.entries()) {
          if (r !== undefined) continue
          const { input, lines } = requests[index]!
          results[index] = Either.right({
            outcome: "duplicate",
            demand: [],
            reservations: yield* readReservations(
              input.connection,
              input.orderId,
              lines.map((l) => l.lineId)
            ),
            changed: []
          })
        }
        return results as Array<Either.Either<Ledger.ReserveResult, ReserveError>>
      })

    /** Auto-pairs an unknown SKU against the items (explicit map first). */
    const autoPair = (connection: string, sku: string) =>
      Effect.gen(function* () {
        const rules = Pairing.rulesFor(config.pairing, connection)
        const explicit = Pairing.explicitFor(config.pairing, connection, sku)
        const keys = [...new Set(Pairing.candidates(sku, rules).map((c) => Pairing.pairKey(c.key)))]
        const found =
          explicit !== undefined
            ? []
            : (yield* sql<{ item: string }>`SELECT item FROM tkb_items WHERE pair_key IN ${sql.in(keys)}`).map(
                (r) => r.item
              )
        return Pairing.resolve(connection, sku, config.pairing, () => found)
      })

    const reserve: LedgerService["reserve"] = (input, meta) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const seen = new Set<string>()
        const lines = input.lines.filter((l) => {
          assertInt("line quantity", l.qty, 1)
          if (seen.has(l.lineId)) return false
          seen.add(l.lineId)
          return true
        })
        const request: ReserveRequest = { input, lines, at, meta }
        const outer = yield* Effect.serviceOption(SqlClient.TransactionConnection)
        const once = Effect.flatMap(reserveBatch([request]), (results) => results[0]!)
        const run: Effect.Effect<Ledger.ReserveResult, ReserveError | SqlError> = Option.isSome(outer)
          ? sql.withTransaction(once)
          : groupCommit
            ? // The shared transaction retries itself; what reaches here is final.
              Effect.flatMap(Deferred.make<Ledger.ReserveResult, ReserveError | SqlError>(), (done) =>
                Effect.zipRight(Queue.offer(queue, { _tag: "reserve", request, done }), Deferred.await(done))
              )
            : retrying(sql.withTransaction(Effect.zipRight(writeLock, once)))
        return yield* run.pipe(Effect.catchIf(isSqlError, (e) => Effect.fail(unavailable(e))))
      }) as Effect.Effect<Ledger.ReserveResult, ReserveError | Ledger.LedgerUnavailable>

    const confirm: LedgerService["confirm"] = (ref, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        write(
          Effect.gen(function* () {
            const lineFilter = lineFilterOf(ref)
            const cleared = yield* sql<{ line_id: string }>`
              UPDATE tkb_reservations SET expires_at = NULL, updated_at = ${at}
              WHERE connection = ${ref.connection} AND order_id = ${ref.orderId}
                AND state = 'held' AND expires_at IS NOT NULL ${lineFilter}
              RETURNING line_id`
            const reheld = yield* sql<{ line_id: string }>`
              UPDATE tkb_reservations SET state = 'held', released_reason = NULL, expires_at = NULL, updated_at = ${at}
              WHERE connection = ${ref.connection} AND order_id = ${ref.orderId}
                AND state = 'released' AND released_reason = 'expired' ${lineFilter}
              RETURNING line_id`
            yield* orderLines(ref)
            const dem = perItem(yield* lineItems(ref.connection, ref.orderId, lineIdsOf(reheld)))
            const { moves, shortages } = yield* hold(dem, at, meta, "confirm", orderRef(ref.connection, ref.orderId))
            if (shortages.length > 0) {
              return yield* Effect.fail(
                new Ledger.InsufficientStock({ connection: ref.connection, orderId: ref.orderId, shortages })
              )
            }
            yield* insertMovements(moves)
            return {
              lines: lineIdsOf([...cleared, ...reheld]),
              changed: yield* changedFor(dem.map((d) => d.item))
            }
          })
        )
      )

    const commit: LedgerService["commit"] = (input, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        write(
          Effect.gen(function* () {
            const lineFilter = lineFilterOf(input)
            const committed = yield* sql<{ line_id: string }>`
              UPDATE tkb_reservations SET state = 'committed', expires_at = NULL, updated_at = ${at}
              WHERE connection = ${input.connection} AND order_id = ${input.orderId} AND state = 'held' ${lineFilter}
              RETURNING line_id`
            const ls = yield* orderLines(input)
            const released = ls.filter((l) => l.state === "released")
            if (released.length > 0 && (input.lineIds !== undefined || released.length === ls.length)) {
              return yield* Effect.fail(
                new Ledger.InvalidTransition({
                  connection: input.connection,
                  orderId: input.orderId,
                  lineId: released[0]!.line_id,
                  state: "released",
                  attempted: "commit"
                })
              )
            }
            const lineIds = lineIdsOf(committed)
            const rows = yield* lineItems(input.connection, input.orderId, lineIds)
            const moves: Array<MoveRow> = []
            const reference = orderRef(input.connection, input.orderId)
            const items = perItem(rows)
            for (const d of items) {
              const [counters] = yield* sql<{ reserved: number }>`
                UPDATE tkb_items SET reserved = reserved - ${d.qty}, updated_at = ${at}
                WHERE item = ${d.item} RETURNING reserved`
              moves.push(
                movement(
                  at,
                  meta,
                  "commit",
                  d.item,
                  undefined,
                  "reserved",
                  counters!.reserved + d.qty,
                  counters!.reserved,
                  reference
                )
              )
              const locations = yield* sql<{ location: string; on_hand: number }>`
                SELECT location, on_hand FROM tkb_stock WHERE item = ${d.item}`
              const parts = Ledger.allocateShipment(
                locations.map((l) => ({ location: l.location, onHand: l.on_hand })),
                d.qty,
                input.location
              )
              let taken = 0
              for (const p of parts) {
                const [s] = yield* sql<{ on_hand: number }>`
                  UPDATE tkb_stock SET on_hand = on_hand - ${p.qty}, last_delta = ${-p.qty}, updated_at = ${at}
                  WHERE item = ${d.item} AND location = ${p.location} RETURNING on_hand`
                taken += p.qty
                moves.push(
                  movement(at, meta, "commit", d.item, p.location, "on_hand", s!.on_hand + p.qty, s!.on_hand, reference)
                )
              }
              yield* addOnHand(d.item, -taken, at)
              const from = parts[0]?.location ?? input.location ?? null
              yield* sql`
                UPDATE tkb_reservations SET location = ${from}
                WHERE connection = ${input.connection} AND order_id = ${input.orderId}
                  AND item = ${d.item} AND line_id IN ${sql.in(lineIds)}`
            }
            yield* insertMovements(moves)
            return { lines: lineIds, changed: yield* changedFor(items.map((d) => d.item)) }
          })
        )
      )

    const release: LedgerService["release"] = (ref, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        write(
          Effect.gen(function* () {
            const lineFilter = lineFilterOf(ref)
            const released = yield* sql<{ line_id: string }>`
              UPDATE tkb_reservations SET state = 'released', released_reason = 'cancelled', expires_at = NULL,
                updated_at = ${at}
              WHERE connection = ${ref.connection} AND order_id = ${ref.orderId} AND state = 'held' ${lineFilter}
              RETURNING line_id`
            if (released.length === 0) {
              yield* orderLines(ref)
              return { lines: [], changed: [] }
            }
            if (ref.lineIds !== undefined) {
              yield* orderLines(ref)
            }
            const lineIds = lineIdsOf(released)
            const { moves, items } = yield* unhold(ref.connection, ref.orderId, lineIds, at, meta, "release")
            yield* insertMovements(moves)
            return { lines: lineIds, changed: yield* changedFor(items) }
          })
        )
      )

    const expire: LedgerService["expire"] = (when, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        write(
          Effect.gen(function* () {
            const due = yield* sql<{ connection: string; order_id: string; line_id: string }>`
              UPDATE tkb_reservations SET state = 'released', released_reason = 'expired', expires_at = NULL,
                updated_at = ${at}
              WHERE state = 'held' AND expires_at IS NOT NULL AND expires_at <= ${when.getTime()}
              RETURNING connection, order_id, line_id`
            const seen = new Set<string>()
            const lines = due.filter((r) => {
              const key = `${r.connection}\u0000${r.order_id}\u0000${r.line_id}`
              if (seen.has(key)) return false
              seen.add(key)
              return true
            })
            const byOrder = new Map<string, { connection: string; orderId: string; lines: Array<string> }>()
            for (const r of lines) {
              const key = `${r.connection}\u0000${r.order_id}`
              const entry = byOrder.get(key)
              if (entry === undefined)
                byOrder.set(key, { connection: r.connection, orderId: r.order_id, lines: [r.line_id] })
              else entry.lines.push(r.line_id)
            }
            const moves: Array<MoveRow> = []
            const touched: Array<string> = []
            for (const key of [...byOrder.keys()].sort(byString)) {
              const o = byOrder.get(key)!
              const done = yield* unhold(o.connection, o.orderId, o.lines, at, meta, "expire")
              moves.push(...done.moves)
              touched.push(...done.items)
            }
            yield* insertMovements(moves)
            return {
              expired: lines
                .map((r) => ({ connection: r.connection, orderId: r.order_id, lineId: r.line_id }))
                .sort(
                  (a, b) =>
                    byString(a.connection, b.connection) ||
                    byString(a.orderId, b.orderId) ||
                    byString(a.lineId, b.lineId)
                ),
              changed: yield* changedFor(touched)
            }
          })
        )
      )

    const restock: LedgerService["restock"] = (input, meta) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const key = Ledger.returnKey(input.connection, input.returnId)
        const wanted = new Map<string, number>()
        for (const l of input.lines) {
          assertInt("returned quantity", l.qty, 1)
          wanted.set(l.lineId, (wanted.get(l.lineId) ?? 0) + l.qty)
        }
        const rule = Ledger.returnRuleFor(config, input.connection)
        const doRestock = input.restock ?? rule.restock
        const exceeds = (l: LineState, qty: number) =>
          new Ledger.ReturnExceedsShipment({
            connection: input.connection,
            orderId: input.orderId,
            lineId: l.line_id,
            shipped: l.qty,
            returned: l.returned,
            requested: qty
          })
        return write(
          Effect.gen(function* () {
            const first = yield* sql`
              INSERT INTO tkb_ledger_ops (op_key, at) VALUES (${key}, ${at}) ON CONFLICT (op_key) DO NOTHING RETURNING op_key`
            if (first.length === 0) return { outcome: "duplicate" as const, items: [], changed: [] }
            const ls = yield* orderLines({
              connection: input.connection,
              orderId: input.orderId,
              lineIds: [...wanted.keys()]
            })
            for (const l of ls) {
              const qty = wanted.get(l.line_id)!
              if (l.state !== "committed") {
                return yield* Effect.fail(
                  new Ledger.InvalidTransition({
                    connection: input.connection,
                    orderId: input.orderId,
                    lineId: l.line_id,
                    state: l.state,
                    attempted: "restock"
                  })
                )
              }
              if (l.returned + qty > l.qty) {
                return yield* Effect.fail(exceeds(l, qty))
              }
            }
            for (const l of ls) {
              const qty = wanted.get(l.line_id)!
              const updated = yield* sql`
                UPDATE tkb_reservations SET returned = returned + ${qty}, updated_at = ${at}
                WHERE connection = ${input.connection} AND order_id = ${input.orderId} AND line_id = ${l.line_id}
                  AND state = 'committed' AND returned + ${qty} <= qty
                RETURNING line_id`
              if (updated.length === 0) {
                return yield* Effect.fail(exceeds(l, qty))
              }
            }
            if (!doRestock) return { outcome: "recorded" as const, items: [], changed: [] }
            const rows = yield* lineItems(
              input.connection,
              input.orderId,
              ls.map((l) => l.line_id)
            )
            const units = new Map<string, { item: string; location: string; qty: number }>()
            for (const r of rows) {
              const line = ls.find((l) => l.line_id === r.line_id)!
              const location = Ledger.restockLocation(input.location, rule, r.location ?? undefined)
              const k = `${r.item}\u0000${location}`
              const qty = (r.qty / line.qty) * wanted.get(r.line_id)!
              const u = units.get(k)
              if (u === undefined) units.set(k, { item: r.item, location, qty })
              else u.qty += qty
            }
            const restocked = [...units.values()].sort(
              (a, b) => byString(a.item, b.item) || byString(a.location, b.location)
            )
            yield* ensureItems(
              restocked.map((u) => u.item),
              at
            )
            const moves: Array<MoveRow> = []
            const perItemTotal = new Map<string, number>()
            for (const u of restocked) {
              const [s] = yield* sql<{ on_hand: number }>`
                INSERT INTO tkb_stock (item, location, on_hand, source_version, last_delta, updated_at)
                VALUES (${u.item}, ${u.location}, ${u.qty}, ${null}, ${u.qty}, ${at})
                ON CONFLICT (item, location) DO UPDATE SET
                  on_hand = tkb_stock.on_hand + excluded.on_hand, last_delta = excluded.on_hand,
                  updated_at = excluded.updated_at
                RETURNING on_hand`
              moves.push(
                movement(at, meta, "restock", u.item, u.location, "on_hand", s!.on_hand - u.qty, s!.on_hand, key)
              )
              perItemTotal.set(u.item, (perItemTotal.get(u.item) ?? 0) + u.qty)
            }
            for (const [item, qty] of perItemTotal) {
              yield* addOnHand(item, qty, at)
            }
            yield* insertMovements(moves)
            return {
              outcome: "restocked" as const,
              items: restocked,
              changed: yield* changedFor(restocked.map((u) => u.item))
            }
          })
        )
      })

    // Catalogue writes of one connection serialise on a lock row (and start with a write).
    const lockCatalog = (connection: string, at: number) =>
      sql`
        INSERT INTO tkb_ledger_ops (op_key, at) VALUES (${`catalog:${connection}`}, ${at})
        ON CONFLICT (op_key) DO UPDATE SET at = excluded.at`

    const importCatalog: LedgerService["importCatalog"] = (connection, entries) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const bySku = new Map<string, Ledger.CatalogEntry>()
        for (const e of entries) bySku.set(e.externalSku, e)
        const skus = [...bySku.keys()].sort(byString)
        const rules = Pairing.rulesFor(config.pairing, connection)
        return write(
          Effect.gen(function* () {
            yield* lockCatalog(connection, at)
            const existing = new Map<
              string,
              {
                externalIds: string
                title: string | null
                by: Pairing.PairedBy | null
                reason: Pairing.UnpairedReason | null
                components: Array<Pairing.PairComponent>
              }
            >()
            const listingRows = yield* sql<{
              external_sku: string
              external_ids: string
              title: string | null
              paired_by: Pairing.PairedBy | null
              unpaired_reason: Pairing.UnpairedReason | null
            }>`
              SELECT external_sku, external_ids, title, paired_by, unpaired_reason FROM tkb_listings
              WHERE connection = ${connection}`
            for (const r of listingRows) {
              existing.set(r.external_sku, {
                externalIds: r.external_ids,
                title: r.title,
                by: r.paired_by,
                reason: r.unpaired_reason,
                components: []
              })
            }
            const componentRows = yield* sql<{ external_sku: string; item: string; qty: number }>`
              SELECT external_sku, item, qty FROM tkb_listing_components WHERE connection = ${connection}`
            for (const r of componentRows) existing.get(r.external_sku)?.components.push({ item: r.item, qty: r.qty })
            const itemIds = (yield* sql<{ item: string }>`SELECT item FROM tkb_items`).map((r) => r.item)
            const index = new Map<string, Array<string>>()
            for (const id of itemIds) {
              const k = Pairing.matchKey(id, rules)
              const list = index.get(k)
              if (list === undefined) index.set(k, [id])
              else list.push(id)
            }
            const lookup = (keys: ReadonlyArray<string>) => keys.flatMap((k) => index.get(k) ?? [])
            const paired: Array<Ledger.PairingReport["paired"][number]> = []
            const unpaired: Array<Pairing.Unpaired> = []
            const changed: Array<ListingRef> = []
            const writes: Array<{
              sku: string
              by: Pairing.PairedBy | null
              reason: Pairing.UnpairedReason | null
              components: ReadonlyArray<Pairing.PairComponent>
              externalIds: string
              title: string | null
              componentsChanged: boolean
            }> = []
            const needItems = new Set<string>()
            const canon = (cs: ReadonlyArray<Pairing.PairComponent>) =>
              JSON.stringify([...cs].sort((a, b) => byString(a.item, b.item)).map((c) => [c.item, c.qty]))
            for (const sku of skus) {
              const e = bySku.get(sku)!
              const old = existing.get(sku)
              const externalIds =
                e.externalIds !== undefined ? JSON.stringify(e.externalIds) : (old?.externalIds ?? "{}")
              const title = e.title ?? old?.title ?? null
              let by = old?.by ?? null
              let reason = old?.reason ?? null
              let components: ReadonlyArray<Pairing.PairComponent> = old?.components ?? []
              if (by !== "manual") {
                const r = Pairing.resolve(connection, sku, config.pairing, lookup)
                if (r._tag === "Paired") {
                  by = r.by
                  reason = null
                  components = r.components
                } else {
                  by = null
                  reason = r.reason
                  components = []
                }
              }
              const componentsChanged = canon(components) !== canon(old?.components ?? [])
              if (componentsChanged) changed.push({ connection, externalSku: sku })
              for (const c of components) needItems.add(c.item)
              writes.push({ sku, by, reason, components, externalIds, title, componentsChanged })
              if (components.length > 0) {
                paired.push({
                  externalSku: sku,
                  by: by!,
                  components: [...components].sort((a, b) => byString(a.item, b.item))
                })
              } else {
                unpaired.push(
                  new Pairing.Unpaired({
                    connection,
                    externalSku: sku,
                    reason: reason ?? "no_match",
                    ...(title !== null ? { title } : {})
                  })
                )
              }
            }
            yield* ensureItems(needItems, at)
            for (const part of chunk(writes, 300)) {
              yield* sql`
                INSERT INTO tkb_listings ${sql.insert(
                  part.map((w) => ({
                    connection,
                    external_sku: w.sku,
                    external_ids: w.externalIds,
                    title: w.title,
                    paired_by: w.by,
                    unpaired_reason: w.reason,
                    updated_at: at
                  }))
                )}
                ON CONFLICT (connection, external_sku) DO UPDATE SET
                  external_ids = excluded.external_ids, title = excluded.title, paired_by = excluded.paired_by,
                  unpaired_reason = excluded.unpaired_reason, updated_at = excluded.updated_at`
            }
            const moved = writes.filter((w) => w.componentsChanged)
            for (const part of chunk(moved, 400)) {
              yield* sql`
                DELETE FROM tkb_listing_components
                WHERE connection = ${connection} AND external_sku IN ${sql.in(part.map((w) => w.sku))}`
            }
            const rows = moved.flatMap((w) =>
              w.components.map((c) => ({ connection, external_sku: w.sku, item: c.item, qty: c.qty }))
            )
            for (const part of chunk(rows, 400)) yield* sql`INSERT INTO tkb_listing_components ${sql.insert(part)}`
            return { paired, unpaired, changed: Ledger.sortRefs(changed) }
          })
        )
      })

    const pair: LedgerService["pair"] = (connection, externalSku, components) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        for (const c of components) assertInt("component quantity", c.qty, 1)
        if (components.length === 0 || new Set(components.map((c) => c.item)).size !== components.length) {
          throw new Error("a pairing needs at least one component and must not name an item twice")
        }
        return write(
          Effect.gen(function* () {
            yield* lockCatalog(connection, at)
            yield* ensureItems(
              components.map((c) => c.item),
              at
            )
            yield* persistListing(connection, externalSku, "manual", null, components, at)
            return { changed: [{ connection, externalSku }] }
          })
        )
      })

    const unpair: LedgerService["unpair"] = (connection, externalSku) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        write(
          Effect.gen(function* () {
            yield* lockCatalog(connection, at)
            yield* persistListing(connection, externalSku, "manual", "manual", [], at)
            return { changed: [{ connection, externalSku }] }
          })
        )
      )

    // ---- queries ------------------------------------------------------------------------------
    /** Item counters joined with their per-location stock, narrowed by `filter` (a `WHERE` or nothing). */
    const balanceRows = (filter: Statement.Fragment) =>
      sql<BalanceRow>`
        SELECT i.item, i.safety_stock, i.on_hand, i.reserved, s.location, s.on_hand AS loc_on_hand
        FROM tkb_items i LEFT JOIN tkb_stock s ON s.item = i.item ${filter}`

    const stockOf = (items: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const out = new Map<string, Ledger.ItemBalance>()
        for (const part of chunk([...new Set(items)], 400)) {
          collectBalances(yield* balanceRows(sql`WHERE i.item IN ${sql.in(part)}`), out)
        }
        return out
      })

    const published: LedgerService["published"] = (refs) =>
      read(
        Effect.gen(function* () {
          const sorted = Ledger.sortRefs(refs)
          const byConnection = new Map<string, Array<string>>()
          for (const r of sorted) {
            const list = byConnection.get(r.connection)
            if (list === undefined) byConnection.set(r.connection, [r.externalSku])
            else list.push(r.externalSku)
          }
          const components = new Map<string, Array<{ item: string; qty: number }>>()
          for (const [connection, skus] of byConnection) {
            for (const part of chunk(skus, 400)) {
              const rows = yield* sql<{ external_sku: string; item: string; qty: number }>`
                SELECT external_sku, item, qty FROM tkb_listing_components
                WHERE connection = ${connection} AND external_sku IN ${sql.in(part)}`
              for (const r of rows) {
                const key = `${connection}\u0000${r.external_sku}`
                const list = components.get(key)
                if (list === undefined) components.set(key, [{ item: r.item, qty: r.qty }])
                else list.push({ item: r.item, qty: r.qty })
              }
            }
          }
          const items = new Set<string>()
          for (const cs of components.values()) for (const c of cs) items.add(c.item)
          const stock = yield* stockOf([...items])
          const lookup = (item: string) => stock.get(item)
          return sorted.flatMap((r) => {
            const cs = components.get(`${r.connection}\u0000${r.externalSku}`)
            if (cs === undefined) return []
            cs.sort((a, b) => byString(a.item, b.item))
            return [
              Pool.publish(
                { connection: r.connection, externalSku: r.externalSku, components: cs },
                lookup,
                config.pool
              )
            ]
          })
        })
      )

    const listings: LedgerService["listings"] = (connection) =>
      read(
        Effect.gen(function* () {
          const filter = connection === undefined ? sql.literal("") : sql`WHERE l.connection = ${connection}`
          const rows = yield* sql<{
            connection: string
            external_sku: string
            external_ids: string
            title: string | null
            item: string
            qty: number
          }>`
            SELECT l.connection, l.external_sku, l.external_ids, l.title, c.item, c.qty
            FROM tkb_listings l JOIN tkb_listing_components c
              ON c.connection = l.connection AND c.external_sku = l.external_sku
            ${filter}`
          const grouped = new Map<
            string,
            { row: (typeof rows)[number]; components: Array<{ item: string; qty: number }> }
          >()
          for (const r of rows) {
            const key = `${r.connection}\u0000${r.external_sku}`
            const g = grouped.get(key)
            if (g === undefined) grouped.set(key, { row: r, components: [{ item: r.item, qty: r.qty }] })
            else g.components.push({ item: r.item, qty: r.qty })
          }
          return [...grouped.entries()]
            .sort(([a], [b]) => byString(a, b))
            .map(
              ([, g]) =>
                new Listing.Listing({
                  connection: g.row.connection,
                  externalSku: g.row.external_sku,
                  externalIds: JSON.parse(g.row.external_ids) as Record<string, string>,
                  ...(g.row.title !== null ? { title: g.row.title } : {}),
                  components: g.components
                    .sort((a, b) => byString(a.item, b.item))
                    .map((c) => new Listing.Component(c)) as [Listing.Component, ...Array<Listing.Component>]
                })
            )
        })
      )

    const unpaired: LedgerService["unpaired"] = (connection) =>
      read(
        Effect.gen(function* () {
          const filter = connection === undefined ? sql.literal("") : sql`AND l.connection = ${connection}`
          const rows = yield* sql<{
            connection: string
            external_sku: string
            title: string | null
            unpaired_reason: Pairing.UnpairedReason | null
          }>`
            SELECT l.connection, l.external_sku, l.title, l.unpaired_reason FROM tkb_listings l
            WHERE NOT EXISTS (
              SELECT 1 FROM tkb_listing_components c
              WHERE c.connection = l.connection AND c.external_sku = l.external_sku
            ) ${filter}`
          return rows
            .map(
              (r) =>
                new Pairing.Unpaired({
                  connection: r.connection,
                  externalSku: r.external_sku,
                  reason: r.unpaired_reason ?? "no_match",
                  ...(r.title !== null ? { title: r.title } : {})
                })
            )
            .sort((a, b) => byString(a.connection, b.connection) || byString(a.externalSku, b.externalSku))
        })
      )

    const balances: LedgerService["balances"] = (wanted) =>
      read(
        Effect.gen(function* () {
          if (wanted !== undefined) {
            const m = yield* stockOf(wanted)
            return [...m.values()].sort((a, b) => byString(a.item, b.item))
          }
          const out = new Map<string, Ledger.ItemBalance>()
          collectBalances(yield* balanceRows(sql.literal("")), out)
          return [...out.values()].sort((a, b) => byString(a.item, b.item))
        })
      )

    const movements: LedgerService["movements"] = (query) =>
      read(
        Effect.gen(function* () {
          const conditions = [
            ...(query?.item !== undefined ? [sql`item = ${query.item}`] : []),
            ...(query?.afterId !== undefined ? [sql`id > ${query.afterId}`] : [])
          ]
          const where = conditions.length === 0 ? sql.literal("") : sql`WHERE ${sql.and(conditions)}`
          const limit = query?.limit !== undefined ? sql`LIMIT ${query.limit}` : sql.literal("")
          const rows = yield* sql<MoveRow & { id: number }>`
            SELECT id, at, op, actor, reason, reference, item, location, kind, qty_before, qty_after, delta
            FROM tkb_movements ${where} ORDER BY id ${limit}`
          return rows.map(
            (r): Ledger.Movement => ({
              id: r.id,
              at: new Date(r.at),
              op: r.op,
              actor: r.actor,
              ...(r.reason !== null ? { reason: r.reason } : {}),
              ...(r.reference !== null ? { reference: r.reference } : {}),
              item: r.item,
              ...(r.location !== null ? { location: r.location } : {}),
              kind: r.kind,
              before: r.qty_before,
              after: r.qty_after,
              delta: r.delta
            })
          )
        })
      )

    return {
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
      listings,
      unpaired,
      balances,
      reservations: (connection, orderId) => read(readReservations(connection, orderId)),
      movements
    } satisfies LedgerService
  })

const collectBalances = (rows: ReadonlyArray<BalanceRow>, out: Map<string, Ledger.ItemBalance>) => {
  const locations = new Map<string, Array<Pool.LocationStock>>()
  for (const r of rows) {
    if (!out.has(r.item)) {
      const list: Array<Pool.LocationStock> = []
      locations.set(r.item, list)
      out.set(r.item, {
        item: r.item,
        safetyStock: r.safety_stock,
        held: r.reserved,
        locations: list,
        onHand: r.on_hand,
        shortfall: Math.max(0, r.reserved - r.on_hand)
      })
    }
    if (r.location !== null && r.loc_on_hand !== null) {
      locations.get(r.item)?.push({ location: r.location, onHand: r.loc_on_hand })
    }
  }
  for (const list of locations.values()) list.sort((a, b) => byString(a.location, b.location))
}

/**
 * The SQL ledger as a layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: SqlLedgerOptions): Layer.Layer<Ledger.Ledger, never, SqlClient.SqlClient> =>
  Layer.scoped(Ledger.Ledger, make(options))
