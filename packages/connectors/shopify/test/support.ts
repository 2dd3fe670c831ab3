/**
 * Test support: Shopify's official Admin schema (fetched into the cache on first use) and a
 * connector wired to a fresh sandbox over real HTTP, with a token provider that refreshes through
 * the connector's own `auth.refresh`, as the engine does.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import type { GraphQLSchema, IntrospectionQuery } from "graphql"
import { buildClientSchema } from "graphql"
import { loadAdminIntrospection } from "../scripts/admin-schema.ts"
import { ShopifyClient, ShopifyConfig, ShopifyConnector } from "../src/index.ts"
import { ShopifySandbox } from "../src/sandbox/index.ts"

const introspections = new Map<string, Promise<IntrospectionQuery>>()
const schemas = new Map<string, Promise<GraphQLSchema>>()

/** Shopify's Admin introspection for a version (downloaded with `npm pack` when not cached). */
export const officialIntrospection = (version = "2026-10"): Promise<IntrospectionQuery> => {
  let found = introspections.get(version)
  if (found === undefined) {
    found = loadAdminIntrospection(version).then((i) => i as unknown as IntrospectionQuery)
    introspections.set(version, found)
  }
  return found
}

/** Shopify's Admin schema for a version (2026-10 by default). */
export const officialSchema = (version = "2026-10"): Promise<GraphQLSchema> => {
  let found = schemas.get(version)
  if (found === undefined) {
    found = officialIntrospection(version).then((i) => buildClientSchema(i))
    schemas.set(version, found)
  }
  return found
}

/** What `connect` gives a test. */
export interface Connected {
  readonly sandbox: ShopifySandbox.ShopifySandbox
  readonly services: ShopifyConnector.ShopifyServices
  readonly client: ShopifyClient.ShopifyClientShape
  readonly config: ShopifyConfig.ShopifyConfig
  /** The grant the provider holds now. */
  readonly token: () => AccessToken.TokenSet
  /** Refreshes the provider made through `auth.refresh`. */
  readonly refreshes: () => number
}

/** Starts a sandbox and a connector instance on it, both closed with the scope. */
export const connect = (
  options: {
    readonly sandbox?: ShopifySandbox.ShopifySandboxOptions
    readonly config?: Partial<ShopifyConfig.ShopifyConfigInput>
    readonly token?: (sandbox: ShopifySandbox.ShopifySandbox) => AccessToken.TokenSet
    readonly connection?: string
  } = {}
) =>
  Effect.gen(function* () {
    const sandbox = yield* ShopifySandbox.scoped(options.sandbox)
    const config = yield* Schema.decodeUnknown(ShopifyConfig.ShopifyConfig)(sandbox.config(options.config))
    let current = options.token ? options.token(sandbox) : sandbox.issueToken()
    let refreshes = 0
    let auth: Connector.OAuth2 | undefined
    const provider: AccessToken.TokenProvider = {
      current: Effect.sync(() => current),
      refresh: (stale) =>
        Effect.suspend(() => {
          if (Redacted.value(stale.accessToken) !== Redacted.value(current.accessToken)) return Effect.succeed(current)
          if (auth === undefined) return Effect.fail(new ConnectorError.AuthRevoked({ message: "no auth service" }))
          return auth.refresh(current).pipe(
            Effect.tap((fresh) =>
              Effect.sync(() => {
                refreshes += 1
                current = fresh
              })
            ),
            Effect.mapError((e) =>
              e._tag === "AuthRevoked" ? e : new ConnectorError.AuthExpired({ message: `refresh failed: ${e.message}` })
            )
          )
        })
    }
    const base = yield* Layer.build(
      Layer.mergeAll(
        NodeHttpClient.layerUndici,
        Layer.succeed(AccessToken.AccessToken, provider),
        Layer.succeed(Connector.ConnectionContext, { connection: options.connection ?? "shopify-test" })
      )
    )
    const built = yield* Layer.build(ShopifyConnector.layer(config)).pipe(Effect.provide(base))
    const services = Context.get(built, ShopifyConnector.Shopify)
    auth = services.auth
    const client = Context.get(built, ShopifyClient.ShopifyClient)
    return {
      sandbox,
      services,
      client,
      config,
      token: () => current,
      refreshes: () => refreshes
    } satisfies Connected
  })

/** Posts a raw GraphQL request to a sandbox. */
export const postGraphql = async (
  sandbox: ShopifySandbox.ShopifySandbox,
  body: { readonly query: string; readonly variables?: Record<string, unknown>; readonly operationName?: string },
  options: { readonly token?: string; readonly version?: string } = {}
): Promise<{ readonly status: number; readonly headers: Headers; readonly json: Record<string, unknown> }> => {
  const token = options.token ?? Redacted.value(sandbox.issueToken().accessToken)
  const response = await fetch(sandbox.graphqlUrl(options.version), {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-access-token": token },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as Record<string, unknown> }
}
