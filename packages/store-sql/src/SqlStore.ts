/**
 * SqlStore: opens tkbridge's database — a SQLite file for the embedded default or PostgreSQL for
 * scale-out — and brings its schema up to date. Both dialects run the same repository code; the
 * only differences live in DDL and a few helpers (`onDialect`).
 *
 * Conventions every repository follows, so one code path serves both dialects:
 * - integers only (`INTEGER`/`BIGINT`), instants as epoch milliseconds, booleans as 0/1, JSON as TEXT;
 * - PostgreSQL `int8`/`numeric` come back as JS numbers (configured here), like SQLite's;
 * - write transactions start with a write (insert-first guards), never read-then-write;
 * - table names start with `tkb_` (the cluster engine owns `cluster_*`).
 *
 * @since 0.1.0
 */
import { Migrator, SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { ConfigError } from "effect"
import { Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import { migrations } from "./migrations/index.ts"
import * as StoreLock from "./StoreLock.ts"

/** Where the store lives: `sqlite:<file>` or a `postgres://` / `postgresql://` URL. */
export type StoreLocation =
  | { readonly dialect: "sqlite"; readonly filename: string }
  | { readonly dialect: "pg"; readonly url: Redacted.Redacted<string> }

/** Parses a store URL from config. */
export const parseLocation = (url: string): StoreLocation | undefined => {
  if (url.startsWith("sqlite:")) {
    const filename = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "")
    return filename.length > 0 ? { dialect: "sqlite", filename } : undefined
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: "pg", url: Redacted.make(url) }
  return undefined
}

const runMigrations = Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "tkb_migrations" })

// Arbitrary, fixed: the advisory lock every tkbridge runner takes while migrating.
const migrationLockKey = 7_420_190_315

/**
 * Brings the schema up to date. Idempotent. On PostgreSQL concurrent runners serialise on the
 * migrations table lock; the table itself is created under a transaction-scoped advisory lock, since
 * two runners starting on a fresh database would otherwise race creating it
 * (`pg_type_typname_nsp_index` duplicate key).
 */
export const migrate: Effect.Effect<
  ReadonlyArray<readonly [number, string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () =>
      sql
        .withTransaction(
          Effect.zipRight(
            sql`SELECT pg_advisory_xact_lock(${migrationLockKey})`,
            // The same definition the migrator would create.
            sql`CREATE TABLE IF NOT EXISTS tkb_migrations (
              migration_id integer primary key,
              created_at timestamp with time zone not null default now(),
              name text not null
            )`
          )
        )
        .pipe(Effect.zipRight(runMigrations)),
    orElse: () => runMigrations
  })
)

/** Options for the embedded SQLite store. */
export interface SqliteOptions {
  readonly filename: string
  /** How long a writer waits for the file lock before failing, in ms (default 5,000). */
  readonly busyTimeoutMs?: number | undefined
  /**
   * Take the single-owner lock (`<db>.lock`, see `StoreLock`) before opening; default true. Only a
   * read-only inspector that never writes may turn it off.
   */
  readonly lock?: boolean | undefined
}

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=FULL` (a commit survives power
 * loss, which WAL+NORMAL does not promise), foreign keys on and a busy timeout, owned by exactly one
 * process (a second one fails with `StoreLocked` naming the holder). Runs migrations.
 */
export const layerSqlite = (
  options: SqliteOptions
): Layer.Layer<
  SqlClient.SqlClient | SqliteClient.SqliteClient,
  SqlError | ConfigError.ConfigError | Migrator.MigrationError | StoreLock.StoreLocked
> => {
  const store = Layer.effectDiscard(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
      yield* sql`PRAGMA synchronous = FULL`
      yield* sql`PRAGMA foreign_keys = ON`
      yield* migrate
    })
  ).pipe(Layer.provideMerge(SqliteClient.layer({ filename: options.filename })))
  const inMemory = options.filename === ":memory:" || options.filename === ""
  return options.lock === false || inMemory ? store : store.pipe(Layer.provide(StoreLock.layer(options.filename)))
}

/** Options for the scale-out PostgreSQL store. */
export interface PgOptions {
  readonly url: Redacted.Redacted<string> | string
  readonly maxConnections?: number | undefined
  readonly applicationName?: string | undefined
}

// int8 (20) and numeric (1700) as JS numbers, so rows look the same as SQLite's. Every value we keep
// in such columns (epoch ms, counters) is far below 2^53.
const numberTypes = {
  getTypeParser: (oid: number, format?: "text" | "binary") => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value)
    return format === "binary" ? Pg.types.getTypeParser(oid, "binary") : Pg.types.getTypeParser(oid, "text")
  }
}

/** The scale-out store on PostgreSQL. Runs migrations. */
export const layerPg = (
  options: PgOptions
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, SqlError | ConfigError.ConfigError | Migrator.MigrationError> =>
  Layer.effectDiscard(migrate).pipe(
    Layer.provideMerge(
      PgClient.layer({
        url: typeof options.url === "string" ? Redacted.make(options.url) : options.url,
        maxConnections: options.maxConnections ?? 10,
        applicationName: options.applicationName ?? "tkbridge",
        types: numberTypes
      })
    )
  )

/** Opens the store named by a location. */
export const layer = (
  location: StoreLocation,
  options: { readonly maxConnections?: number | undefined } = {}
): Layer.Layer<
  SqlClient.SqlClient,
  SqlError | ConfigError.ConfigError | Migrator.MigrationError | StoreLock.StoreLocked
> =>
  location.dialect === "sqlite"
    ? layerSqlite({ filename: location.filename })
    : layerPg({ url: location.url, maxConnections: options.maxConnections })
