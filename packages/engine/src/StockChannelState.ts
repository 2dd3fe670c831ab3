/**
 * StockChannelState: what the stock pusher knows about each listing on a compare-and-set channel,
 * per location (`''` is the connection's default location), kept in the store's
 * `tkb_engine_stock_channel` table (migration 0020):
 *
 * - `known`: the quantity the channel last confirmed (an applied write) or reported (a stale answer's
 *   `actual`) — the `expected` of the next write;
 * - the {@link StockDecision.ChannelBalance}: units held back for sales the pool has not seen as
 *   orders yet, and credit for orders whose drop on the channel is not revealed yet;
 * - the stale rounds of the version being written: each round writes under a new idempotency key,
 *   because the platform keeps the outcome of the earlier one under its key.
 *
 * Every function runs inside the caller's transaction when there is one (the pusher records a whole
 * batch's outcomes in one commit).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { StockDecision } from "@tkbridge/core"
import { Clock, Effect } from "effect"

/** One listing at one location. */
export interface State {
  readonly listing: string
  readonly location: string
  /** What the channel last confirmed or reported; undefined when tkbridge never wrote it. */
  readonly known?: number | undefined
  readonly balance: StockDecision.ChannelBalance
  /** The outbox version `round` counts stale answers for. */
  readonly casVersion: number
  readonly round: number
}

interface Row {
  readonly listing: string
  readonly location: string
  readonly known_qty: number | null
  readonly held: number
  readonly held_until: number
  readonly credit: number
  readonly credit_until: number
  readonly cas_version: number
  readonly cas_round: number
}

const toState = (r: Row): State => ({
  listing: r.listing,
  location: r.location,
  known: r.known_qty === null ? undefined : Number(r.known_qty),
  balance: {
    held: Number(r.held),
    heldUntil: Number(r.held_until),
    credit: Number(r.credit),
    creditUntil: Number(r.credit_until)
  },
  casVersion: Number(r.cas_version),
  round: Number(r.cas_round)
})

/** A listing nothing is known about yet. */
export const initial = (listing: string, location = ""): State => ({
  listing,
  location,
  known: undefined,
  balance: StockDecision.emptyBalance,
  casVersion: 0,
  round: 0
})

/** The idempotency key of a write: the outbox's key, with the stale round after it from the second round on. */
export const roundKey = (key: string, round: number): string => (round === 0 ? key : `${key}~${round}`)

/** The states of `listings` of a connection at one location (listings never written are absent). */
export const read = (
  connection: string,
  listings: ReadonlyArray<string>,
  location = ""
): Effect.Effect<ReadonlyMap<string, State>, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    if (listings.length === 0) return new Map()
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Row>`SELECT listing, location, known_qty, held, held_until, credit, credit_until,
        cas_version, cas_round
      FROM tkb_engine_stock_channel
      WHERE connection = ${connection} AND location = ${location} AND ${sql.in("listing", listings)}`
    return new Map(rows.map((r) => [r.listing, toState(r)]))
  })

/** Writes a listing's state (insert or replace). */
export const save = (connection: string, state: State): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    const b = state.balance
    yield* sql`INSERT INTO tkb_engine_stock_channel
        (connection, listing, location, known_qty, known_at, held, held_until, credit, credit_until,
         cas_version, cas_round, updated_at)
      VALUES (${connection}, ${state.listing}, ${state.location}, ${state.known ?? null}, ${now}, ${b.held},
        ${b.heldUntil}, ${b.credit}, ${b.creditUntil}, ${state.casVersion}, ${state.round}, ${now})
      ON CONFLICT (connection, listing, location) DO UPDATE SET
        known_qty = excluded.known_qty, known_at = excluded.known_at, held = excluded.held,
        held_until = excluded.held_until, credit = excluded.credit, credit_until = excluded.credit_until,
        cas_version = excluded.cas_version, cas_round = excluded.cas_round, updated_at = excluded.updated_at`
  })

/** Reads one listing's state, locking its row on PostgreSQL for a read-modify-write. */
export const readForUpdate = (
  connection: string,
  listing: string,
  location = ""
): Effect.Effect<State, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const lock = sql.onDialectOrElse({ pg: () => sql.literal("FOR UPDATE"), orElse: () => sql.literal("") })
    const rows = yield* sql<Row>`SELECT listing, location, known_qty, held, held_until, credit, credit_until,
        cas_version, cas_round
      FROM tkb_engine_stock_channel
      WHERE connection = ${connection} AND listing = ${listing} AND location = ${location} ${lock}`
    return rows[0] === undefined ? initial(listing, location) : toState(rows[0])
  })

/** Listings of a connection whose held units' window has passed at `now`. */
export const expiredHolds = (
  connection: string,
  now: number
): Effect.Effect<
  ReadonlyArray<{ readonly listing: string; readonly location: string }>,
  SqlError,
  SqlClient.SqlClient
> =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ listing: string; location: string }>`SELECT listing, location FROM tkb_engine_stock_channel
      WHERE connection = ${connection} AND held > 0 AND held_until <= ${now}`
  )

/** When the next held units of a connection are let go (epoch milliseconds), if any are held. */
export const nextHoldExpiry = (connection: string): Effect.Effect<number | undefined, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ at: number | null }>`SELECT MIN(held_until) AS at FROM tkb_engine_stock_channel
        WHERE connection = ${connection} AND held > 0`,
      (rows) => (rows[0]?.at === null || rows[0]?.at === undefined ? undefined : Number(rows[0].at))
    )
  )
