/**
 * StoreLock: exactly one process owns an embedded SQLite store. A second `tkbridge run` on the same
 * file would process every delivery and push twice, and SQLite's own locking across processes is
 * where the cluster engine's known "database is locked" bugs live — so the store refuses it up front,
 * with an error naming the process that holds it.
 *
 * The lock is an exclusive SQLite lock on a side file `<db>.lock`, held for the life of the layer by a
 * connection in `locking_mode=EXCLUSIVE`. SQLite takes it with the operating system's advisory file
 * locks, which the kernel releases when the process dies: a `kill -9` never leaves a stale lock, and a
 * restart gets the file at once. The holder writes who it is (pid, host, start time) to
 * `<db>.lock.json`, which a refused process reads for its error message.
 *
 * @since 0.1.0
 */

import * as Fs from "node:fs"
import * as Os from "node:os"
import { Reactivity } from "@effect/experimental"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { Scope } from "effect"
import { Effect, Layer, Schema } from "effect"

/** Another process owns the store. */
export class StoreLocked extends Schema.TaggedError<StoreLocked>("@tkbridge/store-sql/StoreLocked")("StoreLocked", {
  filename: Schema.String,
  /** The holder's process id, when it could be read. */
  pid: Schema.optional(Schema.Int),
  host: Schema.optional(Schema.String),
  message: Schema.String
}) {}

/** The side file carrying the lock. */
export const lockFile = (filename: string): string => `${filename}.lock`

/** The side file naming the holder. */
export const ownerFile = (filename: string): string => `${filename}.lock.json`

/** Who holds a store, as written to the owner file. */
export interface Owner {
  readonly pid: number
  readonly host: string
  readonly since: string
}

const readOwner = (filename: string): Owner | undefined => {
  try {
    const parsed: unknown = JSON.parse(Fs.readFileSync(ownerFile(filename), "utf8"))
    if (typeof parsed !== "object" || parsed === null) return undefined
    const { pid, host, since } = parsed as Record<string, unknown>
    return typeof pid === "number" && Number.isInteger(pid) && typeof host === "string" && typeof since === "string"
      ? { pid, host, since }
      : undefined
  } catch {
    return undefined
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM"
  }
}

const locked = (filename: string): StoreLocked => {
  const owner = readOwner(filename)
  const known = owner !== undefined && (owner.host !== Os.hostname() || alive(owner.pid))
  const who = known
    ? `process ${owner.pid}${owner.host !== Os.hostname() ? ` on ${owner.host}` : ""} (since ${owner.since})`
    : "another process"
  return new StoreLocked({
    filename,
    ...(known ? { pid: owner.pid, host: owner.host } : {}),
    message: `the store ${filename} is in use by ${who}: stop it first, or give this process its own store`
  })
}

/**
 * Takes the lock on `filename` for the lifetime of the scope, or fails at once with `StoreLocked`.
 * Released (and the owner file removed) when the scope closes.
 */
export const acquire = (filename: string): Effect.Effect<void, StoreLocked, Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqliteClient.make({ filename: lockFile(filename), disableWAL: true }).pipe(
      Effect.provide(Reactivity.layer),
      Effect.mapError(() => locked(filename))
    )
    yield* Effect.gen(function* () {
      yield* sql`PRAGMA busy_timeout = 0`
      yield* sql`PRAGMA locking_mode = EXCLUSIVE`
      // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
      yield* sql`CREATE TABLE IF NOT EXISTS tkb_owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL)`
      yield* sql`INSERT INTO tkb_owner (id, pid) VALUES (1, ${process.pid}) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid`
    }).pipe(Effect.mapError(() => locked(filename)))
    const owner: Owner = { pid: process.pid, host: Os.hostname(), since: new Date().toISOString() }
    yield* Effect.acquireRelease(
      Effect.sync(() => Fs.writeFileSync(ownerFile(filename), `${JSON.stringify(owner)}\n`)),
      () =>
        Effect.sync(() => {
          if (readOwner(filename)?.pid === process.pid) Fs.rmSync(ownerFile(filename), { force: true })
        })
    )
  })

/** The lock as a layer: built before the store opens, released when the layer is. */
export const layer = (filename: string): Layer.Layer<never, StoreLocked> => Layer.scopedDiscard(acquire(filename))
