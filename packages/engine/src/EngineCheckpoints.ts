/**
 * EngineCheckpoints: the engine's own bookkeeping in the store — where each poll of a connection got
 * to (the end of its last complete window), so a restart resumes the backstop instead of starting
 * over, and every runner of a cluster sees the same position.
 *
 * The table lives beside the store's (`tkb_engine_checkpoints`) with its own migrations
 * (`tkb_engine_migrations`), run when the service is built; on PostgreSQL concurrent runners
 * serialise on an advisory lock, as the store's migrations do. A checkpoint only moves forward: a
 * slower runner that finishes an older window cannot pull it back.
 *
 * @since 0.1.0
 */
import { Migrator, SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"

/** Reading or writing a checkpoint failed. */
export class CheckpointError extends Schema.TaggedError<CheckpointError>("@tkbridge/engine/CheckpointError")(
  "CheckpointError",
  { operation: Schema.String, message: Schema.String }
) {}

/** Poll positions per (connection, name). */
export interface EngineCheckpointsShape {
  /** The position, if any (epoch milliseconds). */
  readonly get: (connection: string, name: string) => Effect.Effect<Option.Option<number>, CheckpointError>
  /** Moves the position forward to `at` (never back); true when it moved. */
  readonly advance: (connection: string, name: string, at: number) => Effect.Effect<boolean, CheckpointError>
}

/** The engine's poll positions. */
export class EngineCheckpoints extends Context.Tag("@tkbridge/engine/EngineCheckpoints")<
  EngineCheckpoints,
  EngineCheckpointsShape
>() {}

const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_engine_checkpoints": Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`CREATE TABLE tkb_engine_checkpoints (
      connection TEXT NOT NULL,
      name TEXT NOT NULL,
      position BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (connection, name)
    )`
  )
}

const runMigrations = Migrator.make({})({
  loader: Migrator.fromRecord(migrations),
  table: "tkb_engine_migrations"
})

// Arbitrary, fixed, distinct from the store's: held while the engine's tables are created.
const migrationLockKey = 7_420_190_316

/** Brings the engine's tables up to date. Idempotent; safe with several runners starting at once. */
export const migrate: Effect.Effect<void, Migrator.MigrationError | SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql
      .onDialectOrElse({
        pg: () =>
          sql
            .withTransaction(
              Effect.zipRight(
                sql`SELECT pg_advisory_xact_lock(${migrationLockKey})`,
                sql`CREATE TABLE IF NOT EXISTS tkb_engine_migrations (
                  migration_id integer primary key,
                  created_at timestamp with time zone not null default now(),
                  name text not null
                )`
              )
            )
            .pipe(Effect.zipRight(runMigrations)),
        orElse: () => runMigrations
      })
      .pipe(Effect.asVoid)
)

const failed = (operation: string) => (e: SqlError) =>
  new CheckpointError({ operation, message: `${operation} failed: ${e.message}` })

/** Checkpoints over the current `SqlClient` (run `migrate` first). */
export const make: Effect.Effect<EngineCheckpointsShape, never, SqlClient.SqlClient> = Effect.map(
  SqlClient.SqlClient,
  (sql) => ({
    get: (connection, name) =>
      sql<{ position: number }>`SELECT position FROM tkb_engine_checkpoints
        WHERE connection = ${connection} AND name = ${name}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => Number(r.position))),
        Effect.mapError(failed("checkpoints.get"))
      ),
    advance: (connection, name, at) =>
      sql<{ position: number }>`INSERT INTO tkb_engine_checkpoints (connection, name, position, updated_at)
        VALUES (${connection}, ${name}, ${Math.floor(at)}, ${Date.now()})
        ON CONFLICT (connection, name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
        WHERE tkb_engine_checkpoints.position < excluded.position
        RETURNING position`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.mapError(failed("checkpoints.advance"))
      )
  })
)

/** The checkpoints as a layer: migrates the engine's tables, then serves them. */
export const layer: Layer.Layer<EngineCheckpoints, Migrator.MigrationError | SqlError, SqlClient.SqlClient> =
  Layer.effect(EngineCheckpoints, Effect.zipRight(migrate, make))
