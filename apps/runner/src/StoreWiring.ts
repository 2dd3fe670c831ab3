/**
 * StoreWiring: where the CLI meets the sync-state store. `state` opens the store's token and quota
 * repositories (`SqlTokenStore`, `SqlQuota`) behind the `RunnerState` port.
 *
 * - `read` (doctor): an embedded SQLite file is opened read-only, without migrating it and without
 *   the single-owner lock, so `doctor` works beside a running `tkbridge run`; a file that does not
 *   exist yet simply holds no grant.
 * - `write` (auth): the file is created and migrated if needed, still without the owner lock — a
 *   seller re-authorizes a shop while the runner keeps running, and one token row written in its
 *   own transaction cannot duplicate work (SQLite serialises it with the runner's writes).
 *
 * Relative SQLite paths are resolved against the config file's folder. Tokens encrypted at rest need
 * `TKB_TOKEN_KEY`, as for `run`.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Quota, TokenStore } from "@tkbridge/core"
import { SqlQuota, SqlStore, SqlTokenStore, TokenCipher } from "@tkbridge/store-sql"
import type { Scope } from "effect"
import { Cause, Context, Effect, Layer, Option, Redacted } from "effect"
import type { LoadedConfig } from "./ConfigLoader.ts"
import type { RunnerStateShape } from "./RunnerState.ts"
import { StateUnavailable } from "./RunnerState.ts"

const unavailable = (what: string) => (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const message = String((error as { message?: unknown })?.message ?? error).replace(
    /postgres(ql)?:\/\/\S*/g,
    "postgres://***"
  )
  return new StateUnavailable({ message: `${what}: ${message}` })
}

/** The empty state of a store that does not exist yet. */
const empty: RunnerStateShape = {
  token: () => Effect.succeed(Option.none()),
  saveToken: () => Effect.fail(new StateUnavailable({ message: "the store does not exist yet" })),
  quotaToday: () => Effect.succeed(Option.none())
}

/** The daily-quota policy of a connection: the connector's limits with the config's overrides. */
export const quotaPolicy = (loaded: LoadedConfig, connection: string): Quota.Policy => {
  const c = loaded.config.connections[connection]
  const limits = loaded.connections.get(connection)?.loaded.connector.manifest.limits ?? {}
  const daily = c?.quota?.daily ?? (c?.plan === "enterprise" ? 200_000 : c?.plan === "basic" ? 50_000 : undefined)
  const policy = Quota.policyFromLimits(limits, { daily, perSecond: c?.quota?.perSecond })
  return policy.daily !== undefined && c?.quota?.headroom !== undefined
    ? { ...policy, headroom: Math.floor((policy.daily * c.quota.headroom) / 100) }
    : policy
}

/** Opens the store's state for the CLI: `read` for doctor, `write` for auth. */
export const state = (
  loaded: LoadedConfig,
  mode: "read" | "write" = "read"
): Effect.Effect<Option.Option<RunnerStateShape>, StateUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const location = SqlStore.parseLocation(Redacted.value(loaded.config.store))
    if (location === undefined) return yield* new StateUnavailable({ message: "unrecognised store URL" })
    let client: Layer.Layer<SqlClient.SqlClient, unknown>
    if (location.dialect === "sqlite") {
      const filename = Path.resolve(loaded.dir, location.filename)
      if (mode === "read") {
        if (!Fs.existsSync(filename)) return Option.some(empty)
        client = SqliteClient.layer({ filename, readonly: true })
      } else {
        Fs.mkdirSync(Path.dirname(filename), { recursive: true })
        client = SqlStore.layerSqlite({ filename, lock: false })
      }
    } else {
      client = SqlStore.layerPg({ url: location.url, maxConnections: 2 })
    }
    const context = yield* Layer.build(
      Layer.mergeAll(SqlTokenStore.layer, SqlQuota.layer).pipe(
        Layer.provide(TokenCipher.layerConfig),
        Layer.provide(client)
      )
    ).pipe(Effect.catchAllCause((cause) => Effect.fail(unavailable("cannot open the store")(cause))))
    const tokens = Context.get(context, TokenStore.TokenStore)
    const quota = Context.get(context, Quota.Quota)
    const shape: RunnerStateShape = {
      token: (connection) =>
        tokens.get(connection).pipe(
          Effect.map(Option.map((stored) => stored.tokens)),
          Effect.catchAllCause((cause) => Effect.fail(unavailable("cannot read the token")(cause)))
        ),
      saveToken: (connection, tokenSet) =>
        tokens.save(connection, tokenSet).pipe(
          Effect.asVoid,
          Effect.catchAllCause((cause) => Effect.fail(unavailable("cannot store the token")(cause)))
        ),
      quotaToday: (connection) => {
        const policy = quotaPolicy(loaded, connection)
        return quota.usage(Quota.scopeOf(connection, policy), policy).pipe(
          Effect.map((usage) =>
            Option.some({
              used: usage.usedToday,
              suspendedUntil: usage.suspension?.until
            })
          ),
          Effect.catchAllCause((cause) => Effect.fail(unavailable("cannot read the quota counters")(cause)))
        )
      }
    }
    return Option.some(shape)
  })
