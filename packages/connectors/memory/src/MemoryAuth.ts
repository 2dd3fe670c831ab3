/**
 * MemoryAuth: the `auth` service — OAuth 2 authorization code grant against the platform's token
 * server. Lifetimes come from the token response (`expires_in`, `refresh_token_expires_in`),
 * never from constants. Refresh tokens rotate: every refresh returns a new one and the old one
 * stops working, which is why refreshes must be single-flight per connection (the engine's token
 * provider guarantees it).
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { AccessToken, ConnectorError } from "@tkbridge/core"
import { Clock, Effect, Redacted } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import type { TokenResponse } from "./MemorySchema.ts"

/** Builds a `TokenSet` from a token response received at `now`. */
export const toTokenSet = (
  response: TokenResponse,
  now: number,
  previous?: AccessToken.TokenSet
): AccessToken.TokenSet =>
  new AccessToken.TokenSet({
    accessToken: Redacted.make(response.access_token),
    refreshToken: response.refresh_token === undefined ? previous?.refreshToken : Redacted.make(response.refresh_token),
    expiresAt: response.expires_in === undefined ? undefined : new Date(now + response.expires_in * 1000),
    refreshExpiresAt:
      response.refresh_token_expires_in === undefined
        ? previous?.refreshExpiresAt
        : new Date(now + response.refresh_token_expires_in * 1000),
    issuedAt: new Date(now),
    scopes: response.scope === undefined ? (previous?.scopes ?? []) : response.scope.split(" ").filter((s) => s !== ""),
    extra: previous?.extra ?? {}
  })

/** Builds the auth service on a client. `scopes` are requested on the consent page. */
export const make = (client: MemoryClientShape, scopes: ReadonlyArray<string>): Connector.OAuth2 => {
  const base = client.config.baseUrl.replace(/\/+$/, "")
  const grant = (form: Readonly<Record<string, string>>, previous?: AccessToken.TokenSet) =>
    Effect.gen(function* () {
      const response = yield* client.token(form)
      return toTokenSet(response, yield* Clock.currentTimeMillis, previous)
    })
  return {
    authorizeUrl: ({ state, redirectUri, scopes: asked }) => {
      const url = new URL(`${base}/oauth/authorize`)
      url.searchParams.set("client_id", client.config.clientId)
      url.searchParams.set("redirect_uri", redirectUri)
      url.searchParams.set("response_type", "code")
      url.searchParams.set("scope", (asked ?? scopes).join(" "))
      url.searchParams.set("state", state)
      return url.toString()
    },
    exchange: ({ params, redirectUri }) => {
      const code = params.code
      if (code === undefined || code === "") {
        const reason = params.error_description ?? params.error ?? "the callback carries no code"
        return Effect.fail(
          new ConnectorError.Rejected({
            connection: client.connection,
            code: params.error ?? "no_code",
            message: reason
          })
        )
      }
      return grant({ grant_type: "authorization_code", code, redirect_uri: redirectUri })
    },
    refresh: (tokens) =>
      tokens.refreshToken === undefined
        ? Effect.fail(
            new ConnectorError.AuthRevoked({
              connection: client.connection,
              message: "the grant has no refresh token; the seller must authorize again"
            })
          )
        : grant({ grant_type: "refresh_token", refresh_token: Redacted.value(tokens.refreshToken) }, tokens)
  }
}
