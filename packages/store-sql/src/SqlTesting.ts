/**
 * SqlTesting: real databases for tests — a fresh SQLite file in a temp folder, or a fresh PostgreSQL
 * database created on the server named by `TKB_PG_URL` (default: the local server's `test` database)
 * and dropped afterwards. Each layer build gets its own database, so test files never share state.
 *
 * @since 0.1.0
 */

import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { layerPg, layerSqlite } from "./SqlStore.ts"

/** The admin URL fresh test databases are created from. */
export const adminUrl = (): string => process.env.TKB_PG_URL ?? "postgres://root@127.0.0.1:5432/test"

/** A migrated store on a fresh SQLite file, deleted when the layer is released. */
export const sqlite: Layer.Layer<SqlClient.SqlClient> = Layer.unwrapScoped(
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-test-"))),
      (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
    )
    return layerSqlite({ filename: Path.join(dir, "tkbridge.db") })
  })
).pipe(Layer.orDie)

/** Creates a fresh PostgreSQL database and returns its URL; drops it when the scope closes. */
export const freshPgDatabase = Effect.gen(function* () {
  const admin = adminUrl()
  const name = `tkb_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const run = (statement: string) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(statement)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin), maxConnections: 1 })), Effect.orDie)
  yield* Effect.acquireRelease(run(`CREATE DATABASE ${name}`), () =>
    run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  )
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
})

/** A migrated store on a fresh PostgreSQL database, dropped when the layer is released. */
export const pg = (options: { readonly maxConnections?: number } = {}): Layer.Layer<SqlClient.SqlClient> =>
  Layer.unwrapScoped(
    Effect.map(freshPgDatabase, (url) => layerPg({ url, maxConnections: options.maxConnections ?? 20 }))
  ).pipe(Layer.orDie)

/** Both dialects, for running one suite against each. */
export const dialects: ReadonlyArray<{
  readonly name: "sqlite" | "postgres"
  readonly layer: () => Layer.Layer<SqlClient.SqlClient>
}> = [
  { name: "sqlite", layer: () => sqlite },
  { name: "postgres", layer: () => pg() }
]
