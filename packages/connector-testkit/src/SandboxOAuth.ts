/**
 * SandboxOAuth: OAuth 2 in connector tests — the seller's consent on a sandbox's authorize page, and
 * a token provider that refreshes through the connector's own `auth.refresh`, single-flight like the
 * engine's, so a test sees the same refresh behaviour a running connection does.
 *
 * @since 0.1.0
 */
import type { AccessToken, Connector } from "@tkbridge/core"
import { ConnectorError } from "@tkbridge/core"
import { Effect, Ref } from "effect"

/**
 * Opens an authorize link as the seller's browser would and returns the query of the redirect it
 * answers with (the callback's `code` and `state`, or its `error`). The redirect is not followed:
 * the callback URL belongs to the app, not to the sandbox.
 */
export const consent = (link: string): Effect.Effect<Record<string, string>> =>
  Effect.promise(async () => {
    const response = await fetch(link, { redirect: "manual" })
    const location = response.headers.get("location")
    if (location === null) throw new Error(`no redirect: ${response.status} ${await response.text()}`)
    return Object.fromEntries(new URL(location).searchParams) as Record<string, string>
  })

/**
 * A token provider over a Ref, refreshing through the connector's auth service. Refreshes are
 * single-flight: a caller holding a grant someone already replaced gets the current one, not a second
 * refresh. A failed refresh other than `AuthRevoked` reports `AuthExpired`, as the engine's does.
 */
export const refreshingProvider = (
  initial: AccessToken.TokenSet,
  auth: Connector.OAuth2
): Effect.Effect<{ readonly provider: AccessToken.TokenProvider; readonly current: Ref.Ref<AccessToken.TokenSet> }> =>
  Effect.gen(function* () {
    const current = yield* Ref.make(initial)
    const lock = yield* Effect.makeSemaphore(1)
    const provider: AccessToken.TokenProvider = {
      current: Ref.get(current),
      refresh: (stale) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            const now = yield* Ref.get(current)
            if (now !== stale) return now
            const fresh = yield* auth
              .refresh(stale)
              .pipe(
                Effect.mapError((e) =>
                  e._tag === "AuthRevoked"
                    ? e
                    : new ConnectorError.AuthExpired({ message: `refresh failed: ${e.message}`, code: e.code })
                )
              )
            yield* Ref.set(current, fresh)
            return fresh
          })
        )
    }
    return { provider, current }
  })
