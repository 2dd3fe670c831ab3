/**
 * StoreProbe: is the configured store reachable, without changing it? `doctor` must not migrate a
 * database or take the embedded store's ownership lock from a running `tkbridge run`, so it opens
 * SQLite read-only (or only checks that the file can be created) and runs one query on PostgreSQL.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { SqlStore } from "@tkbridge/store-sql"
import { Cause, Effect, Layer, Redacted } from "effect"

/** What the probe found. */
export interface StoreStatus {
  readonly ok: boolean
  readonly dialect: "sqlite" | "pg" | "unknown"
  readonly message: string
  /** Migrations applied so far (absent when the store is new or unreadable). */
  readonly migrations?: number | undefined
}

const migrationsApplied = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM tkb_migrations`.pipe(
    Effect.orElseSucceed(() => [] as ReadonlyArray<{ readonly n: number }>)
  )
  return rows[0] === undefined ? undefined : Number(rows[0].n)
})

/** Probes the store at `url`; relative SQLite paths resolve against `baseDir` (the config's folder). */
export const probe = (url: string, baseDir: string): Effect.Effect<StoreStatus> => {
  const location = SqlStore.parseLocation(url)
  if (location === undefined)
    return Effect.succeed({ ok: false, dialect: "unknown", message: "unrecognised store URL" })
  if (location.dialect === "sqlite") {
    const file = Path.resolve(baseDir, location.filename)
    return Effect.gen(function* () {
      const exists = yield* Effect.promise(() =>
        Fs.stat(file).then(
          (s) => s.isFile(),
          () => false
        )
      )
      if (!exists) {
        const dir = yield* Effect.promise(() => nearestDir(Path.dirname(file)))
        const writable = yield* Effect.promise(() =>
          Fs.access(dir, Fs.constants.W_OK).then(
            () => true,
            () => false
          )
        )
        return writable
          ? { ok: true, dialect: "sqlite" as const, message: `${file} will be created by the first \`tkbridge run\`` }
          : { ok: false, dialect: "sqlite" as const, message: `cannot create ${file}: ${dir} is not writable` }
      }
      const migrations = yield* migrationsApplied.pipe(
        Effect.provide(SqliteClient.layer({ filename: file, readonly: true })),
        Effect.scoped
      )
      return {
        ok: true,
        dialect: "sqlite" as const,
        message: `SQLite ${file}${migrations !== undefined ? ` (${migrations} migrations applied)` : ""}`,
        migrations
      }
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.succeed({
          ok: false,
          dialect: "sqlite" as const,
          message: `cannot open SQLite store ${file}: ${firstLine(cause)}`
        })
      )
    )
  }
  const display = (() => {
    try {
      const u = new URL(Redacted.value(location.url))
      return `${u.hostname}:${u.port || 5432}${u.pathname}`
    } catch {
      return "PostgreSQL"
    }
  })()
  return Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`
    const migrations = yield* migrationsApplied
    return {
      ok: true,
      dialect: "pg" as const,
      message: `PostgreSQL ${display}${migrations !== undefined ? ` (${migrations} migrations applied)` : ""}`,
      migrations
    }
  }).pipe(
    Effect.provide(
      PgClient.layer({ url: location.url, maxConnections: 1, connectTimeout: "5 seconds" }).pipe(Layer.orDie)
    ),
    Effect.scoped,
    Effect.timeout("10 seconds"),
    Effect.catchAllCause((cause) =>
      Effect.succeed({
        ok: false,
        dialect: "pg" as const,
        message: `cannot reach PostgreSQL ${display}: ${firstLine(cause)}`
      })
    )
  )
}

const nearestDir = async (dir: string): Promise<string> => {
  let current = dir
  for (;;) {
    const ok = await Fs.stat(current).then(
      (s) => s.isDirectory(),
      () => false
    )
    if (ok) return current
    const parent = Path.dirname(current)
    if (parent === current) return current
    current = parent
  }
}

const firstLine = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const text = String((error as { message?: unknown })?.message ?? error)
  const pretty = text.includes("\n") ? text.split("\n")[0]! : text
  return pretty.replace(/postgres(ql)?:\/\/[^\s]*/g, "postgres://***")
}
