/**
 * PartnerCall: one call to a partner as the engine makes it — within the connection's quota, in a
 * priority lane, under the retry policy. Order, fulfilment, tracking and after-sales calls go in the
 * `high` lane (they keep the daily headroom), polling in `normal`, catalogue reads in `low`; stock
 * pushes spend their own quota in the pushers.
 *
 * Before each attempt the call spends one unit of the connection's quota. A denied spend becomes the
 * taxonomy's own answer — a per-second limit is `RateLimited` (waited out in place), a suspension or
 * a spent day is `Suspended` until the stated time (the caller parks the work) — so the retry policy
 * decides about our limits exactly as about the platform's. A platform suspension (or a `Retry-After`
 * long enough to be one) suspends the connection's scope for every caller, and `AuthExpired` gets one
 * refresh through the connection's token provider.
 *
 * @since 0.1.0
 */
import { ConnectorError, Quota, TokenStore } from "@tkbridge/core"
import { Duration, Effect, Option } from "effect"
import { ConnectionRegistry, TokenProviders } from "./ConnectionRegistry.ts"
import { EngineAlerts } from "./EngineAlerts.ts"
import * as EngineClock from "./EngineClock.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

type ConnectorErrorType = ConnectorError.ConnectorError

/** The services a partner call needs. */
export type Requirements =
  | ConnectionRegistry
  | TokenProviders
  | TokenStore.TokenStore
  | Quota.Quota
  | EngineAlerts
  | EngineClock.EngineClock

/** The code of the errors that stand for tkbridge's own quota denials (not the platform's answers). */
export const ownQuota = "tkbridge_quota"

const spend = (connection: string, lane: Quota.Lane) =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const quota = yield* Quota.Quota
    const entry = yield* registry.get(connection)
    const policy = Quota.policyFromLimits(entry.manifest.limits, entry.quota)
    const now = yield* EngineClock.now
    const spent = yield* EngineClock.business(quota.spend({ connection, lane, policy }))
    if (spent._tag === "Granted") return
    const wait = Math.max(1, spent.retryAt.getTime() - now)
    return yield* Effect.fail<ConnectorErrorType>(
      spent.reason === "rate"
        ? new ConnectorError.RateLimited({
            connection,
            code: ownQuota,
            message: `the per-second limit for ${connection} is reached`,
            retryAfter: Duration.millis(wait)
          })
        : new ConnectorError.Suspended({
            connection,
            code: ownQuota,
            message:
              spent.reason === "suspended"
                ? `${connection} is suspended until ${spent.retryAt.toISOString()}`
                : `${connection}'s daily quota for ${lane}-priority calls is spent until ${spent.retryAt.toISOString()}`,
            until: spent.retryAt
          })
    )
  }).pipe(
    Effect.catchTags({
      UnknownConnection: (e: { readonly message: string }) =>
        Effect.fail<ConnectorErrorType>(
          new ConnectorError.Rejected({ connection, code: "unknown_connection", message: e.message })
        ),
      StoreError: (e: { readonly message: string }) =>
        Effect.fail<ConnectorErrorType>(
          new ConnectorError.Transient({ connection, message: `the quota could not be checked: ${e.message}` })
        )
    })
  )

/** Forces one token refresh for the connection (after an `AuthExpired`). */
export const refresh = (connection: string): Effect.Effect<void, ConnectorErrorType, Requirements> =>
  Effect.gen(function* () {
    const tokens = yield* TokenStore.TokenStore
    const providers = yield* TokenProviders
    const stored = yield* tokens
      .get(connection)
      .pipe(
        Effect.mapError(
          (e) => new ConnectorError.AuthExpired({ connection, message: `the grant could not be read: ${e.message}` })
        )
      )
    if (Option.isNone(stored)) {
      return yield* Effect.fail(
        new ConnectorError.AuthRevoked({ connection, message: "no grant is stored: authorize the connection first" })
      )
    }
    yield* providers.forConnection(connection).refresh(stored.value.tokens)
  })

/** Records a suspension the platform asked for, for every caller of the connection's scope. */
const suspendIfAsked = (connection: string, error: ConnectorErrorType) =>
  Effect.gen(function* () {
    const now = yield* EngineClock.nowDate
    const asked = Quota.suspensionFor(error, now)
    if (Option.isNone(asked)) return
    const registry = yield* ConnectionRegistry
    const quota = yield* Quota.Quota
    const alerts = yield* EngineAlerts
    const entry = yield* registry.get(connection)
    const scope = Quota.scopeOf(connection, Quota.policyFromLimits(entry.manifest.limits, entry.quota))
    // Our own quota denials come back as `Suspended` too; they are already in force.
    const current = yield* quota.suspension(scope)
    if (Option.isSome(current) && current.value.until.getTime() >= asked.value.until.getTime()) return
    yield* EngineClock.business(quota.suspend({ scope, until: asked.value.until, reason: asked.value.reason }))
    yield* alerts.raise({
      code: "suspended",
      connection,
      message: `${connection}: the platform asked to wait until ${asked.value.until.toISOString()} (${error.message}); its work waits, nothing is dropped`
    })
  }).pipe(Effect.ignore)

/**
 * Calls a partner for `connection` in `lane` under the retry policy; never fails (every ending is an
 * `Outcome`). Suspensions the platform asks for are recorded for the whole scope.
 */
export const run = <A, R>(
  connection: string,
  lane: Quota.Lane,
  call: Effect.Effect<A, ConnectorErrorType, R>,
  policy?: Partial<RetryPolicy.Options> | undefined
): Effect.Effect<RetryPolicy.Outcome<A>, never, R | Requirements> =>
  RetryPolicy.run(Effect.zipRight(spend(connection, lane), call), {
    policy,
    refresh: refresh(connection)
  }).pipe(
    Effect.tap((outcome) =>
      outcome._tag === "Deferred" && outcome.error.code !== ownQuota
        ? suspendIfAsked(connection, outcome.error)
        : Effect.void
    )
  )
