/**
 * The GraphQL client: cost-aware pacing (deterministic under TestClock, against a scripted Shopify
 * whose bucket runs on the same clock), throttling in both of Shopify's shapes and REST-style 429s,
 * token refresh on 401, Shopify's error codes on the taxonomy, and redaction.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { SandboxServer } from "@tkbridge/connector-testkit"
import { AccessToken, Connector } from "@tkbridge/core"
import { Clock, Duration, Effect, Either, Fiber, Layer, Logger, Option, Redacted, Schema, TestClock } from "effect"
import { ShopifyClient, ShopifyConfig, ShopifyCost, ShopifyDocuments, ShopifySchema } from "../src/index.ts"
import { ShopifySandbox } from "../src/sandbox/index.ts"
import { connect } from "./support.ts"

const config = Schema.decodeUnknownSync(ShopifyConfig.ShopifyConfig)({
  shop: "pacing.myshopify.com",
  clientId: "app",
  clientSecret: "shpss_pacing_secret",
  apiBaseUrl: "http://shopify.test"
})

/**
 * A scripted Shopify: a leaky bucket (restore `rate`/s, size `size`) on the Effect clock, charging
 * each call the cost model's requested cost and answering THROTTLED when it cannot.
 */
const scriptedShopify = (rate: number, size: number) => {
  let available = size
  let at = 0
  const calls: Array<{ readonly at: number; readonly throttled: boolean }> = []
  const client = HttpClient.make((request) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      available = Math.min(size, available + ((now - at) / 1000) * rate)
      at = now
      const body = JSON.parse(new TextDecoder().decode((request.body as { body: Uint8Array }).body)) as {
        query: string
        variables: Record<string, unknown>
        operationName: string
      }
      const cost = ShopifyCost.requestedCost(body.query, body.variables, body.operationName)
      const throttled = cost > available
      if (!throttled) available -= cost
      calls.push({ at: now, throttled })
      const extensions = {
        cost: {
          requestedQueryCost: cost,
          actualQueryCost: throttled ? null : cost,
          throttleStatus: { maximumAvailable: size, currentlyAvailable: Math.floor(available), restoreRate: rate }
        }
      }
      const payload = throttled
        ? { errors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }], extensions }
        : { data: { productVariants: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }, extensions }
      return HttpClientResponse.fromWeb(request, new Response(JSON.stringify(payload), { status: 200 }))
    })
  )
  return { client, calls }
}

const token = new AccessToken.TokenSet({ accessToken: Redacted.make("shpat_scripted") })

const withClient = <A, E>(
  http: HttpClient.HttpClient,
  f: (client: ShopifyClient.ShopifyClientShape) => Effect.Effect<A, E>,
  overrides: Partial<ShopifyConfig.ShopifyConfig> = {}
) =>
  Effect.flatMap(ShopifyClient.make({ ...config, ...overrides }), f).pipe(
    Effect.provide(
      Layer.mergeAll(
        Layer.succeed(HttpClient.HttpClient, http),
        Layer.succeed(AccessToken.AccessToken, AccessToken.fixed(token)),
        Layer.succeed(Connector.ConnectionContext, { connection: "pacing" })
      )
    )
  )

// 2 + 20 × 3 = 62 points per call in the documented model.
const page = { first: 20, after: null }

describe("ShopifyClient pacing", () => {
  it.effect("waits for the bucket to refill instead of getting throttled", () =>
    Effect.gen(function* () {
      const shopify = scriptedShopify(50, 100)
      const calls = withClient(shopify.client, (client) =>
        Effect.forEach(
          [1, 2, 3],
          () => client.run(ShopifyDocuments.CatalogVariants, page, ShopifySchema.CatalogVariantsData),
          { concurrency: "unbounded" }
        )
      )
      const fiber = yield* Effect.fork(calls)
      // First call: the bucket is unknown, so nothing to wait for; it leaves 38 points.
      yield* TestClock.adjust(Duration.millis(0))
      expect(shopify.calls.map((c) => c.at)).toEqual([0])
      // The second needs 62: (62 − 38) / 50 per s = 480 ms.
      yield* TestClock.adjust(Duration.millis(479))
      expect(shopify.calls).toHaveLength(1)
      yield* TestClock.adjust(Duration.millis(1))
      expect(shopify.calls.map((c) => c.at)).toEqual([0, 480])
      // The third waits a full 62 / 50 = 1,240 ms more.
      yield* TestClock.adjust(Duration.millis(1_240))
      yield* Fiber.join(fiber)
      expect(shopify.calls.map((c) => c.at)).toEqual([0, 480, 1_720])
      expect(shopify.calls.filter((c) => c.throttled)).toEqual([])
    })
  )

  it.effect("never budgets a call at zero: the first estimate is the documented cost model", () =>
    withClient(scriptedShopify(50, 100).client, (client) =>
      Effect.gen(function* () {
        const estimate = yield* client.estimate(ShopifyDocuments.CatalogVariants, page)
        expect(estimate).toBe(62)
        const mutation = yield* client.estimate(ShopifyDocuments.StockSet, { input: {}, key: "k" })
        expect(mutation).toBe(10)
      })
    )
  )

  it.effect("a wait longer than maxThrottleWaitMs fails RateLimited at once, without sending", () =>
    Effect.gen(function* () {
      const shopify = scriptedShopify(10, 70)
      const result = yield* withClient(
        shopify.client,
        (client) =>
          Effect.gen(function* () {
            yield* client.run(ShopifyDocuments.CatalogVariants, page, ShopifySchema.CatalogVariantsData)
            return yield* Effect.either(
              client.run(ShopifyDocuments.CatalogVariants, page, ShopifySchema.CatalogVariantsData)
            )
          }),
        { maxThrottleWaitMs: 1_000 }
      )
      expect(shopify.calls).toHaveLength(1)
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error._tag).toBe("RateLimited")
      // 62 needed, 8 left, 10 points/s → 5.4 s.
      if (error._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(5_400)
    })
  )
})

describe("ShopifyClient against the sandbox", () => {
  it.scopedLive("THROTTLED with HTTP 200 is RateLimited with the wait the bucket needs", () =>
    Effect.gen(function* () {
      // A clock that barely moves: the bucket stays where the test puts it.
      const clock = new (yield* Effect.promise(() => import("@tkbridge/connector-testkit"))).SandboxClock.SandboxClock({
        speed: 1e-9
      })
      const { sandbox, services } = yield* connect({
        sandbox: { clock, plan: "standard" },
        config: { maxThrottleWaitMs: 0 }
      })
      sandbox.drainBucket()
      const result = yield* Effect.either(services["catalog.pull"].list({ pageSize: 20 }))
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error._tag).toBe("RateLimited")
      expect(error.code).toBe("THROTTLED")
      expect(error.httpStatus).toBe(200)
      // 62 points at 100 points/s from an empty bucket.
      if (error._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(620)
      expect(sandbox.server.requestsTo(ShopifySandbox.routes.graphql)).toHaveLength(1)
    })
  )

  it.scopedLive("THROTTLED with HTTP 429 (no Retry-After) gets the same computed wait", () =>
    Effect.gen(function* () {
      const clock = new (yield* Effect.promise(() => import("@tkbridge/connector-testkit"))).SandboxClock.SandboxClock({
        speed: 1e-9
      })
      const { sandbox, services } = yield* connect({
        sandbox: { clock, plan: "advanced", throttleStatus: 429 },
        config: { maxThrottleWaitMs: 0 }
      })
      sandbox.drainBucket()
      const error = Either.getLeft(yield* Effect.either(services["catalog.pull"].list({ pageSize: 20 }))).pipe(
        Option.getOrThrow
      )
      expect(error._tag).toBe("RateLimited")
      expect(error.httpStatus).toBe(429)
      if (error._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(310)
    })
  )

  it.scopedLive("a REST-style 429 with a fractional Retry-After is honoured", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      sandbox.fault(ShopifySandbox.routes.graphql, { retryAfterSeconds: 2.5, times: 1 })
      const error = Either.getLeft(yield* Effect.either(services["locations.pull"].list)).pipe(Option.getOrThrow)
      expect(error._tag).toBe("RateLimited")
      if (error._tag === "RateLimited") expect(Duration.toMillis(error.retryAfter)).toBe(2_500)
    })
  )

  it.scopedLive("an expired access token is refreshed once and the call retried", () =>
    Effect.gen(function* () {
      const c = yield* connect()
      c.sandbox.seedSkus([{ sku: "REFRESH-1", quantity: 1 }])
      const before = Redacted.value(c.token().accessToken)
      c.sandbox.expireAccessTokens()
      const page = yield* c.services["catalog.pull"].list({})
      expect(page.items.map((l) => l.externalSku)).toContain("REFRESH-1")
      expect(c.sandbox.refreshes()).toBe(1)
      expect(c.refreshes()).toBe(1)
      expect(Redacted.value(c.token().accessToken)).not.toBe(before)
      // The old access token is expired on the platform; the new one works.
      const graphql = c.sandbox.server.requestsTo(ShopifySandbox.routes.graphql)
      expect(graphql.map((r) => r.status)).toEqual([401, 200])
    })
  )

  it.scopedLive("a missing scope is ScopeMissing naming the scope Shopify asks for", () =>
    Effect.gen(function* () {
      const { services } = yield* connect({ token: (s) => s.issueToken({ scopes: ["read_orders"] }) })
      const error = Either.getLeft(yield* Effect.either(services["catalog.pull"].list({}))).pipe(Option.getOrThrow)
      expect(error._tag).toBe("ScopeMissing")
      if (error._tag === "ScopeMissing") expect(error.scope).toBe("read_products")
      expect(error.code).toBe("ACCESS_DENIED")
    })
  )

  it.scopedLive("a query over the 1,000-point cap is Rejected MAX_COST_EXCEEDED", () =>
    Effect.gen(function* () {
      const { client } = yield* connect()
      const error = Either.getLeft(
        yield* Effect.either(
          client.run(
            ShopifyDocuments.StockLevels,
            { first: 250, levels: 250, after: null, query: null },
            ShopifySchema.StockLevelsData
          )
        )
      ).pipe(Option.getOrThrow)
      expect(error._tag).toBe("Rejected")
      expect(error.code).toBe("MAX_COST_EXCEEDED")
    })
  )

  it.scopedLive("a non-expiring token refused by Shopify is AuthRevoked (the app must be installed again)", () =>
    Effect.gen(function* () {
      const { services } = yield* connect({
        sandbox: { auth: { requireExpiringTokens: true } },
        token: (s) => s.issueToken({ expiring: false })
      })
      const error = Either.getLeft(yield* Effect.either(services["locations.pull"].list)).pipe(Option.getOrThrow)
      expect(error._tag).toBe("AuthRevoked")
      expect(error.httpStatus).toBe(403)
    })
  )

  it.scopedLive(
    "a pinned version Shopify no longer serves is answered by the oldest it does, and the client warns once",
    () =>
      Effect.gen(function* () {
        // 2026-04 has been retired: the shop serves 2026-07 and 2026-10 only.
        const { sandbox, services } = yield* connect({
          sandbox: { apiVersions: ["2026-07", "2026-10"] },
          config: { apiVersion: "2026-04" }
        })
        const logged: Array<string> = []
        const capture = Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ message }) => {
            logged.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
          })
        )
        const locations = yield* services["locations.pull"].list.pipe(Effect.provide(capture))
        expect(locations).toHaveLength(1)
        yield* services["locations.pull"].list.pipe(Effect.provide(capture))
        const requests = sandbox.server.requestsTo(ShopifySandbox.routes.graphql)
        expect(requests.map((r) => r.path)).toEqual([
          "/admin/api/2026-04/graphql.json",
          "/admin/api/2026-04/graphql.json"
        ])
        expect(logged.filter((m) => m.includes("answered with API version 2026-07 instead of 2026-04"))).toHaveLength(1)
      })
  )

  it.scopedLive("errors carry a redacted cURL line: no access token, no client secret", () =>
    Effect.gen(function* () {
      const c = yield* connect()
      c.sandbox.fault(ShopifySandbox.routes.graphql, { status: 500, body: { errors: "boom" }, times: 1 })
      const error = Either.getLeft(yield* Effect.either(c.services["locations.pull"].list)).pipe(Option.getOrThrow)
      expect(error._tag).toBe("Transient")
      const curl = error.exchange?.curl ?? ""
      expect(curl).toContain("x-shopify-access-token: ***")
      expect(curl).not.toContain(Redacted.value(c.token().accessToken))
      expect(JSON.stringify(error)).not.toContain(c.sandbox.clientSecret)
      expect(curl).toContain("/admin/api/2026-10/graphql.json")
    })
  )

  it.scopedLive(
    "concurrent calls count each other's reservations: an answer for one does not free points others hold",
    () =>
      Effect.gen(function* () {
        // A 200-point bucket refilling 100 points a second, and mutations that cost what they ask
        // (10). Half the requests wait 100 ms before Shopify charges them, so the answers of the
        // fast ones report a bucket that does not show the slow ones yet. Six waves of ten calls,
        // 100 ms apart: each wave starts while calls of the last one are still out. Taking each
        // report as the whole truth sent the next wave into points the slow calls were about to
        // use (THROTTLED answers in every run).
        const { sandbox, client } = yield* connect({
          sandbox: {
            restoreRate: 100,
            maximumAvailable: 200,
            throttleStatus: 429,
            random: SandboxServer.seededRandom(7)
          }
        })
        const [created] = sandbox.seedSkus([{ sku: "PACE", quantity: 0 }])
        const item = `gid://shopify/InventoryItem/${created!.variants[0]!.inventoryItemId}`
        const location = `gid://shopify/Location/${sandbox.defaultLocationId()}`
        sandbox.fault(ShopifySandbox.routes.graphql, { latencyMs: 100, probability: 0.5 })
        const write = (i: number) =>
          client.run(
            ShopifyDocuments.StockSet,
            {
              input: {
                name: "available",
                reason: "correction",
                quantities: [{ inventoryItemId: item, locationId: location, quantity: i, changeFromQuantity: null }]
              },
              key: `pace-${i}`
            },
            ShopifySchema.StockSetData
          )
        const results = yield* Effect.forEach(
          Array.from({ length: 60 }, (_, i) => i),
          (i) => Effect.either(write(i)).pipe(Effect.delay(Duration.millis(Math.floor(i / 10) * 100))),
          { concurrency: "unbounded" }
        )
        const statuses = sandbox.server.requestsTo(ShopifySandbox.routes.graphql).map((r) => r.status)
        expect(statuses).toHaveLength(60)
        // The client waited for the bucket instead of being throttled.
        expect({
          throttled: statuses.filter((s) => s === 429).length,
          failed: results.filter(Either.isLeft).length
        }).toEqual({ throttled: 0, failed: 0 })
      }),
    { timeout: 30_000 }
  )

  it.scopedLive("the bucket the client tracks follows Shopify's throttleStatus", () =>
    Effect.gen(function* () {
      const { client, services } = yield* connect({ sandbox: { plan: "plus" } })
      expect(Option.isNone(yield* client.bucket)).toBe(true)
      yield* services["locations.pull"].list
      const bucket = Option.getOrThrow(yield* client.bucket)
      expect(bucket.restoreRate).toBe(1000)
      expect(bucket.maximumAvailable).toBe(20_000)
    })
  )
})
