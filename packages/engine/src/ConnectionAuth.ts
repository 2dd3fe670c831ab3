/**
 * ConnectionAuth: one entity per connection that owns its OAuth refresh, so across every process of a
 * cluster exactly one refresh of a grant runs at a time and a rotated refresh token is never spent
 * twice. A refresh re-reads the stored grant first (freshness is re-checked inside the entity: if
 * another caller already refreshed, nothing is sent), calls the platform, and stores the new grant
 * with a version bump (compare-and-set on the version). A refresh the platform refuses — including a
 * 200 that carries an error — marks the connection `needs_reauth`, raises an alert, and leaves its
 * work queued until the seller authorizes again.
 *
 * On top of it, the engine's access-token provider (core's `AccessToken`) for every connector
 * instance: it hands out the stored token, refreshes shortly before expiry, and is single-flight per
 * connection inside a process — a hundred calls that meet an expired token wait for one refresh.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { AccessToken, ConnectorError, TokenStore } from "@tkbridge/core"
import { Clock, Deferred, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { ConnectionRegistry, TokenProviders } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

const AuthFailure = Schema.Union(ConnectorError.AuthRevoked, ConnectorError.AuthExpired)

/** The per-connection refresh entity. Its id is the connection. */
export const ConnectionAuthEntity = Entity.make("ConnectionAuth", [
  Rpc.make("Refresh", {
    payload: Schema.Struct({
      /** The stored version the caller saw fail or expire; a newer stored version means someone already refreshed. */
      staleVersion: Schema.optional(Schema.Number),
      /** A scheduled refresh ahead of expiry: only refresh when inside the lead time. */
      ahead: Schema.Boolean
    }),
    success: Schema.Struct({ version: Schema.Number, refreshed: Schema.Boolean }),
    error: AuthFailure
  }).annotate(ClusterSchema.Uninterruptible, true)
])

const day = 86_400_000

/**
 * How long before expiry a grant is refreshed, from its real lifetime: a tenth of it, at least a minute
 * and at most seven days — 6 minutes for a 1-hour Shopify token, about 17 hours for a 7-day TikTok
 * token, 7 days for a 90-day grant.
 */
export const leadTime = (tokens: AccessToken.TokenSet, storedAt: Date): number => {
  if (tokens.expiresAt === undefined) return 0
  const issued = (tokens.issuedAt ?? storedAt).getTime()
  const lifetime = Math.max(0, tokens.expiresAt.getTime() - issued)
  return Math.min(7 * day, Math.max(60_000, Math.floor(lifetime / 10)))
}

/** True when the grant's access token should be refreshed now. */
export const refreshDue = (stored: TokenStore.StoredToken, now: number): boolean =>
  stored.tokens.expiresAt !== undefined &&
  stored.tokens.expiresAt.getTime() - leadTime(stored.tokens, stored.updatedAt) <= now

const revoked = (connection: string, message: string) => new ConnectorError.AuthRevoked({ connection, message })

/**
 * The `code` of the `AuthRevoked` a call fails with, without reaching the platform, while the stored
 * grant is marked `needs_reauth`. Whoever meets it must not mark the grant again: by the time it
 * does, the seller may have authorized anew, and a stale mark would pause the fresh grant.
 */
export const awaitingReauthorization = "tkbridge:needs_reauth"

/** The stored grant, or the failure a caller meets: none stored, unreadable, or awaiting re-authorization. */
const readGrant = (
  store: TokenStore.TokenStoreShape,
  connection: string
): Effect.Effect<TokenStore.StoredToken, ConnectorError.AuthRevoked | ConnectorError.AuthExpired> =>
  store.get(connection).pipe(
    Effect.catchAll((e) =>
      Effect.fail(
        new ConnectorError.AuthExpired({ connection, message: `the stored grant could not be read: ${e.message}` })
      )
    ),
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.fail(revoked(connection, "no grant is stored: authorize the connection first")),
        onSome: (stored) =>
          stored.needsReauth
            ? Effect.fail(
                new ConnectorError.AuthRevoked({
                  connection,
                  code: awaitingReauthorization,
                  message: `the connection needs re-authorization: ${stored.reauthReason ?? "revoked"}`
                })
              )
            : Effect.succeed(stored)
      })
    )
  )

/** The entity's behaviour. */
export const layer: Layer.Layer<
  never,
  never,
  Sharding.Sharding | TokenStore.TokenStore | ConnectionRegistry | EngineAlerts | EngineClock.EngineClock
> = ConnectionAuthEntity.toLayer(
  Effect.gen(function* () {
    const address = yield* Entity.CurrentAddress
    const connection = address.entityId
    const store = yield* TokenStore.TokenStore
    const registry = yield* ConnectionRegistry
    const alerts = yield* EngineAlerts
    const clock = yield* EngineClock.EngineClock

    const read = readGrant(store, connection)

    // Only the grant the refusal was about: one stored since is a new authorization.
    const needsReauth = (reason: string, version: number) =>
      Effect.gen(function* () {
        const marked = yield* store.markNeedsReauth(connection, reason, version).pipe(Effect.orElseSucceed(() => true))
        if (!marked) return
        yield* alerts.raise({
          code: "needs_reauth",
          connection,
          message: `${connection} needs re-authorization: ${reason}. Its work is kept and resumes once the seller authorizes again.`
        })
      })

    const refresh = (payload: { readonly staleVersion?: number | undefined; readonly ahead: boolean }) =>
      Effect.gen(function* () {
        const stored = yield* read
        const now = yield* EngineClock.now
        if (
          payload.ahead
            ? !refreshDue(stored, now)
            : payload.staleVersion !== undefined && stored.version > payload.staleVersion
        ) {
          return { version: stored.version, refreshed: false }
        }
        const entry = yield* registry
          .get(connection)
          .pipe(Effect.mapError((e) => new ConnectorError.AuthExpired({ connection, message: e.message })))
        const auth = entry.services.auth
        if (auth === undefined) {
          return yield* Effect.fail(
            new ConnectorError.AuthExpired({ connection, message: `${entry.manifest.id} cannot refresh tokens` })
          )
        }
        const outcome = yield* RetryPolicy.run(auth.refresh(stored.tokens))
        switch (outcome._tag) {
          case "Succeeded": {
            const fresh = inBusinessTime(
              outcome.value,
              yield* EngineClock.now,
              yield* EngineClock.real(Clock.currentTimeMillis)
            )
            const rotated = yield* store.rotate(connection, stored.version, fresh).pipe(
              Effect.map((s) => ({ version: s.version, refreshed: true })),
              Effect.catchTag("TokenConflict", () =>
                Effect.map(read, (s) => ({ version: s.version, refreshed: false }))
              ),
              Effect.catchTag("StoreError", (e) =>
                Effect.fail(
                  new ConnectorError.AuthExpired({
                    connection,
                    message: `the refreshed grant could not be stored: ${e.message}`
                  })
                )
              )
            )
            return rotated
          }
          case "Paused":
          case "Dead": {
            const reason = `the platform refused the token refresh (${outcome.error._tag}): ${outcome.error.message}`
            if (outcome._tag === "Dead" && outcome.exhausted) {
              return yield* Effect.fail(new ConnectorError.AuthExpired({ connection, message: reason }))
            }
            yield* needsReauth(reason, stored.version)
            return yield* Effect.fail(revoked(connection, reason))
          }
          case "Deferred":
            return yield* Effect.fail(
              new ConnectorError.AuthExpired({
                connection,
                message: `the token endpoint asked to wait until ${outcome.until.toISOString()}`
              })
            )
        }
      }).pipe(Effect.withClock(clock.clock))

    return { Refresh: ({ payload }) => refresh(payload) }
  })
)

/**
 * A refreshed grant in business time. Partner calls run on the system clock (their timeouts are real
 * time), so a connector that stamps the grant itself (issued now, expiring in `expires_in`) stamps it
 * in system time; where business time runs elsewhere (a scaled or test clock) the grant is shifted by
 * the difference, or every expiry check would find it expired or fresh for the wrong span. A grant
 * the platform stamped (its issue time not within a minute of the system clock) is kept as it is.
 */
export const inBusinessTime = (
  tokens: AccessToken.TokenSet,
  businessNow: number,
  systemNow: number
): AccessToken.TokenSet => {
  const offset = businessNow - systemNow
  const issued = tokens.issuedAt?.getTime()
  if (Math.abs(offset) < 1_000 || issued === undefined || Math.abs(issued - systemNow) > 60_000) return tokens
  const shift = (d: Date | undefined) => (d === undefined ? undefined : new Date(d.getTime() + offset))
  return new AccessToken.TokenSet({
    ...tokens,
    issuedAt: shift(tokens.issuedAt),
    expiresAt: shift(tokens.expiresAt),
    refreshExpiresAt: shift(tokens.refreshExpiresAt)
  })
}

/**
 * The engine's token providers: per connection, the stored grant, refreshed shortly before it expires
 * and on demand, single-flight inside the process and serialised across processes by the entity.
 */
export const layerTokenProviders: Layer.Layer<
  TokenProviders,
  never,
  Sharding.Sharding | TokenStore.TokenStore | EngineClock.EngineClock
> = Layer.effect(
  TokenProviders,
  Effect.gen(function* () {
    const store = yield* TokenStore.TokenStore
    const makeClient = yield* ConnectionAuthEntity.client
    const clock = yield* EngineClock.EngineClock
    const inFlight = new Map<
      string,
      Deferred.Deferred<AccessToken.TokenSet, ConnectorError.AuthRevoked | ConnectorError.AuthExpired>
    >()
    // A token this close to expiry is refreshed before use rather than sent to fail.
    const skewMs = Duration.toMillis(Duration.seconds(30))

    const forConnection = (connection: string): AccessToken.TokenProvider => {
      const read = readGrant(store, connection)

      const runRefresh = (stale: AccessToken.TokenSet) =>
        Effect.gen(function* () {
          const stored = yield* read
          const alreadyNew = Redacted.value(stored.tokens.accessToken) !== Redacted.value(stale.accessToken)
          const now = yield* clock.clock.currentTimeMillis
          const expired = stored.tokens.expiresAt !== undefined && stored.tokens.expiresAt.getTime() - skewMs <= now
          if (alreadyNew && !expired) return stored.tokens
          yield* makeClient(connection)
            .Refresh({ staleVersion: stored.version, ahead: false })
            .pipe(
              Effect.catchTags({
                MailboxFull: (e) => Effect.fail(new ConnectorError.AuthExpired({ connection, message: String(e) })),
                AlreadyProcessingMessage: (e) =>
                  Effect.fail(new ConnectorError.AuthExpired({ connection, message: String(e) })),
                PersistenceError: (e) => Effect.fail(new ConnectorError.AuthExpired({ connection, message: String(e) }))
              })
            )
          return (yield* read).tokens
        })

      const refresh = (stale: AccessToken.TokenSet) =>
        Effect.suspend(() => {
          const running = inFlight.get(connection)
          if (running) return Deferred.await(running)
          return Effect.gen(function* () {
            const deferred = yield* Deferred.make<
              AccessToken.TokenSet,
              ConnectorError.AuthRevoked | ConnectorError.AuthExpired
            >()
            inFlight.set(connection, deferred)
            const exit = yield* Effect.exit(runRefresh(stale))
            inFlight.delete(connection)
            yield* Deferred.done(deferred, exit)
            return yield* exit
          }).pipe(Effect.uninterruptible)
        })

      return {
        current: Effect.gen(function* () {
          const running = inFlight.get(connection)
          if (running) return yield* Deferred.await(running)
          const stored = yield* read
          const now = yield* clock.clock.currentTimeMillis
          if (stored.tokens.expiresAt !== undefined && stored.tokens.expiresAt.getTime() - skewMs <= now) {
            return yield* refresh(stored.tokens)
          }
          return stored.tokens
        }),
        refresh
      }
    }
    return { forConnection }
  })
)
