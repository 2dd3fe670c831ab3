/**
 * EmbeddedLock: exactly one process may run the engine on an embedded SQLite file. A second one
 * would think it owns every shard too (the cluster's SQLite lock table only refuses a shard held by
 * a *different* runner address) and process every message twice.
 *
 * The lock is an exclusive SQLite lock on a small side file (`<db>.owner`), held by a connection in
 * `locking_mode=EXCLUSIVE` for the life of the process. SQLite takes it with the operating system's
 * advisory file locks, which the kernel releases when the process dies — a `kill -9` never leaves a
 * stale lock behind, and a restarted process gets the file at once.
 *
 * @since 0.1.0
 */
import { Reactivity } from "@effect/experimental"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { Scope } from "effect"
import { Effect, Layer, Schema } from "effect"

/** Another process holds the embedded database. */
export class EmbeddedLockHeld extends Schema.TaggedError<EmbeddedLockHeld>("@tkbridge/engine/EmbeddedLockHeld")(
  "EmbeddedLockHeld",
  { filename: Schema.String, message: Schema.String }
) {}

/** The side file that carries the lock for a database file. */
export const lockFile = (filename: string): string => `${filename}.owner`

/** Takes the lock for `filename` for the lifetime of the scope, or fails at once if another process holds it. */
export const acquire = (filename: string): Effect.Effect<void, EmbeddedLockHeld, Scope.Scope> =>
  Effect.gen(function* () {
    const held = () =>
      new EmbeddedLockHeld({
        filename,
        message: `another tkbridge process is running on ${filename} (the lock ${lockFile(filename)} is held): stop it first, or give this one its own database`
      })
    const sql = yield* SqliteClient.make({ filename: lockFile(filename), disableWAL: true }).pipe(
      Effect.provide(Reactivity.layer),
      Effect.mapError(held)
    )
    yield* Effect.gen(function* () {
      yield* sql`PRAGMA busy_timeout = 0`
      yield* sql`PRAGMA locking_mode = EXCLUSIVE`
      // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
      yield* sql`CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since INTEGER NOT NULL)`
      yield* sql`INSERT INTO owner (id, pid, since) VALUES (1, ${process.pid}, ${Date.now()})
        ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, since = excluded.since`
    }).pipe(Effect.mapError(held))
  })

/** The lock as a layer: built before the store opens, released when the layer is. */
export const layer = (filename: string): Layer.Layer<never, EmbeddedLockHeld> => Layer.scopedDiscard(acquire(filename))
