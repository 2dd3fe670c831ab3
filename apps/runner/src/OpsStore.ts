/**
 * OpsStore: how the operator commands (`stock`, `orders`, `dlq`, `audit`) reach the sync-state store
 * while `tkbridge run` may be running.
 *
 * An embedded SQLite store has exactly one owner (the `<db>.lock` single-owner lock): two processes
 * writing the same file would both process deliveries and push stock. So:
 *
 * - **reads** open the file read-only, without the lock. SQLite's WAL lets a reader see the last
 *   committed state beside the running writer, so `stock`, `orders`, `dlq list|show` and `audit`
 *   work whether or not a runner is up;
 * - **writes** (`dlq replay`, `dlq discard`) take the lock. When a runner holds it the command fails
 *   here with {@link StoreHeld}, and the caller sends the operation to that runner's local admin
 *   endpoint instead (`AdminApi`), so the engine that owns the file does the write and wakes its
 *   workers at once. With no runner up, the command owns the file for the moment of the write; the
 *   next `tkbridge run` delivers what was replayed.
 *
 * PostgreSQL has no owner: every runner shares it, so writes go straight to the database and the
 * runners' sweeps pick replayed work up.
 *
 * Relative SQLite paths are resolved against the config file's folder, as everywhere.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { Audit, DeadLetter, Inbox, Outbox, Parcels } from "@tkbridge/core"
import { Ledger } from "@tkbridge/core"
import { SqlLedger, SqlStore, SqlSyncState, StoreLock } from "@tkbridge/store-sql"
import type { Scope } from "effect"
import { Cause, Context, Effect, Layer, Redacted, Schema } from "effect"
import type { LoadedConfig } from "./ConfigLoader.ts"
import * as PoolWiring from "./PoolWiring.ts"
import { StateUnavailable } from "./RunnerState.ts"

/** The repositories the operator commands use, and the store's client for read models. */
export type Services =
  | SqlClient.SqlClient
  | Ledger.Ledger
  | DeadLetter.DeadLetters
  | Audit.Audit
  | Inbox.Inbox
  | Outbox.StockOutbox
  | Outbox.OutboundJobs
  | Parcels.Parcels

/** A running `tkbridge run` owns the embedded store: writes must go through it. */
export class StoreHeld extends Schema.TaggedError<StoreHeld>("tkbridge/StoreHeld")("StoreHeld", {
  filename: Schema.String,
  message: Schema.String
}) {}

/** Where a config's store lives. */
export type Location =
  | { readonly dialect: "sqlite"; readonly filename: string }
  | { readonly dialect: "pg"; readonly url: Redacted.Redacted<string> }

/** The config's store location, with a relative SQLite path resolved against the config file's folder. */
export const location = (loaded: LoadedConfig): Location | undefined => {
  const parsed = SqlStore.parseLocation(Redacted.value(loaded.config.store))
  if (parsed === undefined) return undefined
  return parsed.dialect === "sqlite"
    ? { dialect: "sqlite", filename: Path.resolve(loaded.dir, parsed.filename) }
    : parsed
}

const failure = (what: string) => (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const message = String((error as { message?: unknown })?.message ?? error).replace(
    /postgres(ql)?:\/\/\S*/g,
    "postgres://***"
  )
  return new StateUnavailable({ message: `${what}: ${message}` })
}

const repositories = (loaded: LoadedConfig) =>
  Layer.merge(SqlSyncState.layer(), SqlLedger.layer({ config: PoolWiring.ledgerConfig(loaded.config) }))

const build = (client: Layer.Layer<SqlClient.SqlClient, unknown>, loaded: LoadedConfig) =>
  Layer.build(repositories(loaded).pipe(Layer.provideMerge(client))) as Effect.Effect<
    Context.Context<Services>,
    unknown,
    Scope.Scope
  >

/** Opens the store to read it (read-only on SQLite, beside a running runner). */
export const read = (loaded: LoadedConfig): Effect.Effect<Context.Context<Services>, StateUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const where = location(loaded)
    if (where === undefined) return yield* new StateUnavailable({ message: "unrecognised store URL" })
    if (where.dialect === "sqlite" && !Fs.existsSync(where.filename)) {
      return yield* new StateUnavailable({
        message: `there is no store at ${where.filename} yet: \`tkbridge run\` creates it`
      })
    }
    const client =
      where.dialect === "sqlite"
        ? SqliteClient.layer({ filename: where.filename, readonly: true })
        : SqlStore.layerPg({ url: where.url, maxConnections: 2, applicationName: "tkbridge-cli" })
    return yield* build(client, loaded).pipe(
      Effect.catchAllCause((c) => Effect.fail(failure("cannot open the store")(c)))
    )
  })

/** Opens the store to change it: on SQLite only when no runner owns the file (else {@link StoreHeld}). */
export const write = (
  loaded: LoadedConfig
): Effect.Effect<Context.Context<Services>, StateUnavailable | StoreHeld, Scope.Scope> =>
  Effect.gen(function* () {
    const where = location(loaded)
    if (where === undefined) return yield* new StateUnavailable({ message: "unrecognised store URL" })
    if (where.dialect === "sqlite") {
      if (!Fs.existsSync(where.filename)) {
        return yield* new StateUnavailable({
          message: `there is no store at ${where.filename} yet: \`tkbridge run\` creates it`
        })
      }
      return yield* build(SqlStore.layerSqlite({ filename: where.filename }), loaded).pipe(
        Effect.catchAllCause((cause): Effect.Effect<never, StateUnavailable | StoreHeld> => {
          const error = Cause.squash(cause)
          return error instanceof StoreLock.StoreLocked
            ? Effect.fail(new StoreHeld({ filename: where.filename, message: error.message }))
            : Effect.fail(failure("cannot open the store")(cause))
        })
      )
    }
    return yield* build(
      SqlStore.layerPg({ url: where.url, maxConnections: 2, applicationName: "tkbridge-cli" }),
      loaded
    ).pipe(Effect.catchAllCause((c) => Effect.fail(failure("cannot open the store")(c))))
  })

/** Runs `body` with the store's repositories opened for reading. */
export const withRead = <A, E, R>(loaded: LoadedConfig, body: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.flatMap(read(loaded), (context) => Effect.provide(body, context)))

/** The ledger port of an opened store (for callers that hold the context). */
export const ledger = (context: Context.Context<Services>): Ledger.LedgerService => Context.get(context, Ledger.Ledger)
