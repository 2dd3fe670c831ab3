/**
 * MemorySandboxApi: the Memory platform's HTTP API over a `MemoryWorld` — the routes a
 * `SandboxServer` serves. This is the protocol the Memory connector speaks:
 *
 * - OAuth 2: `GET /oauth/authorize` (consent granted at once, redirect with `code` and `state`),
 *   `POST /oauth/token` (form-encoded, `client_secret_post`; `authorization_code` and
 *   `refresh_token` grants; refresh tokens rotate). Token errors follow RFC 6749:
 *   `400 {"error":"invalid_grant"}`, `401 {"error":"invalid_client"}`.
 * - The API under `/v1`, with `Authorization: Bearer <token>`. Errors are
 *   `{"error":{"code","message",…}}`: 401 `invalid_token` / `token_expired` / `token_revoked`,
 *   403 `insufficient_scope` (with `scope`), 404 `not_found`, 409 conflicts, 422 business rules,
 *   429 `rate_limited` with `Retry-After` (a token bucket per access token).
 * - Lists page with `limit` (1–100, default 50) and an opaque `cursor` that carries the filters;
 *   `next_cursor` is `null` on the last page. Orders and after-sales are ordered by
 *   (`updated_at`, `id`), so paging is stable while new records arrive.
 *
 * @since 0.1.0
 */
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import { Either, ParseResult, Schema } from "effect"
import type {
  AfterSaleRecord,
  FulfillmentRecord,
  GrantRecord,
  MemoryWorld,
  OrderRecord,
  ParcelRecord
} from "./MemorySandboxState.ts"
import { MemoryApiError, services, stockBatchLimit } from "./MemorySandboxState.ts"

/** The platform's scopes. */
export const scopes = {
  locations: "locations:read",
  catalog: "catalog:read",
  inventoryRead: "inventory:read",
  inventoryWrite: "inventory:write",
  orders: "orders:read",
  fulfillments: "fulfillments:write",
  shipping: "shipping:write",
  tracking: "shipping:read",
  aftersales: "aftersales:read"
} as const

/** Every scope, what a grant holds unless the sandbox is told otherwise. */
export const allScopes: ReadonlyArray<string> = Object.values(scopes)

/** What the API needs besides the world. */
export interface ApiOptions {
  readonly clientId: string
  readonly clientSecret: string
  readonly scopes: ReadonlyArray<string>
  readonly accessTokenTtlMs: number
  readonly refreshTokenTtlMs: number
  /** Requests per second per access token, and the burst allowed; `false` turns limiting off. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | false
  /** Called after a change the platform sends a webhook for. */
  readonly notify: (topic: string, data: Record<string, unknown>) => void
}

// --- wire rendering ---------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString()

/** An order as the API renders it. */
export const renderOrder = (o: OrderRecord): Record<string, unknown> => ({
  id: o.id,
  status: o.status,
  currency: o.currency,
  created_at: iso(o.createdAt),
  updated_at: iso(o.updatedAt),
  line_items: o.lines.map((l) => ({
    id: l.id,
    sku: l.sku,
    quantity: l.quantity,
    title: l.title,
    unit_price: l.unitPrice
  })),
  shipping_address: o.shipTo ?? null,
  fulfillments: o.fulfillments.map(renderFulfillment)
})

const renderFulfillment = (f: FulfillmentRecord) => ({
  id: f.id,
  order_id: f.orderId,
  carrier: f.carrier,
  tracking_number: f.trackingNumber,
  line_items: f.lines.map((l) => ({ line_id: l.lineId, quantity: l.quantity })),
  created_at: iso(f.createdAt)
})

/** An after-sale as the API renders it. */
export const renderAfterSale = (a: AfterSaleRecord): Record<string, unknown> => ({
  id: a.id,
  order_id: a.orderId,
  kind: a.kind,
  status: a.status,
  reason: a.reason,
  line_items: a.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
  created_at: iso(a.createdAt),
  updated_at: iso(a.updatedAt)
})

const renderParcel = (p: ParcelRecord) => ({
  id: p.id,
  reference: p.reference,
  order_id: p.orderId,
  service: p.service,
  carrier: p.carrier,
  tracking_number: p.trackingNumber,
  status: p.status,
  created_at: iso(p.createdAt)
})

// --- request parsing --------------------------------------------------------------------------------

const parse = <A, I>(schema: Schema.Schema<A, I>, text: string): A => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new MemoryApiError(400, "invalid_json", "the body is not JSON")
  }
  return Either.getOrThrowWith(Schema.decodeUnknownEither(schema)(json), (e) => {
    return new MemoryApiError(400, "invalid_request", ParseResult.TreeFormatter.formatErrorSync(e))
  })
}

const NonEmpty = Schema.String.pipe(Schema.minLength(1))
const Quantity = Schema.Int.pipe(Schema.nonNegative())

const InventorySetBody = Schema.Struct({
  updates: Schema.Array(
    Schema.Struct({
      sku: NonEmpty,
      location_id: Schema.optional(NonEmpty),
      quantity: Quantity,
      expected_quantity: Schema.optional(Quantity),
      idempotency_key: NonEmpty
    })
  )
})

const FulfillmentBody = Schema.Struct({
  carrier: NonEmpty,
  tracking_number: NonEmpty,
  line_items: Schema.optional(Schema.Array(Schema.Struct({ line_id: NonEmpty, quantity: Quantity }))),
  idempotency_key: NonEmpty
})

const Address = Schema.Struct({
  name: NonEmpty,
  phone: Schema.optional(Schema.String),
  line1: NonEmpty,
  line2: Schema.optional(Schema.String),
  city: NonEmpty,
  province: Schema.optional(Schema.String),
  postal_code: Schema.optional(Schema.String),
  country_code: Schema.String.pipe(Schema.pattern(/^[A-Z]{2}$/))
})

const ParcelBody = Schema.Struct({
  reference: NonEmpty,
  order_id: NonEmpty,
  service: Schema.optional(NonEmpty),
  ship_to: Address,
  weight_grams: Schema.Int.pipe(Schema.positive()),
  declarations: Schema.Array(
    Schema.Struct({
      sku: NonEmpty,
      description: NonEmpty,
      quantity: Schema.Int.pipe(Schema.positive()),
      unit_value: Schema.Int.pipe(Schema.nonNegative()),
      currency: Schema.String.pipe(Schema.length(3))
    })
  ).pipe(Schema.minItems(1))
})

// --- paging -----------------------------------------------------------------------------------------

interface Cursor {
  /** The last key of the previous page. */
  readonly after: ReadonlyArray<string | number>
  /** The filters of the first request, kept so every page answers the same question. */
  readonly filter: Readonly<Record<string, string>>
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url")

const decodeCursor = (text: string): Cursor => {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor
    if (Array.isArray(c.after) && typeof c.filter === "object") return c
  } catch {
    // fall through
  }
  throw new MemoryApiError(400, "invalid_cursor", "the cursor is not one this API issued")
}

const limitOf = (query: URLSearchParams) => {
  const raw = query.get("limit")
  if (raw === null) return 50
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new MemoryApiError(400, "invalid_limit", "limit must be 1–100")
  return n
}

const compareKeys = (a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x === undefined) return -1
    if (y === undefined) return 1
    return x < y ? -1 : 1
  }
  return 0
}

/** One page of `rows` sorted by `key`, after the cursor, filtered. */
const page = <A>(
  query: URLSearchParams,
  filterKeys: ReadonlyArray<string>,
  rows: (filter: Readonly<Record<string, string>>) => ReadonlyArray<A>,
  key: (a: A) => ReadonlyArray<string | number>
): { readonly items: ReadonlyArray<A>; readonly next: string | null } => {
  const raw = query.get("cursor")
  const cursor = raw === null || raw === "" ? undefined : decodeCursor(raw)
  const filter: Record<string, string> = { ...(cursor?.filter ?? {}) }
  if (cursor === undefined) {
    for (const k of filterKeys) {
      const v = query.get(k)
      if (v !== null && v !== "") filter[k] = v
    }
  }
  const limit = limitOf(query)
  const sorted = [...rows(filter)].sort((a, b) => compareKeys(key(a), key(b)))
  const after = cursor === undefined ? sorted : sorted.filter((r) => compareKeys(key(r), cursor.after) > 0)
  const items = after.slice(0, limit)
  const last = items[items.length - 1]
  const next = after.length > limit && last !== undefined ? encodeCursor({ after: key(last), filter }) : null
  return { items, next }
}

const timeFilter = (filter: Readonly<Record<string, string>>, name: string): number | undefined => {
  const v = filter[name]
  if (v === undefined) return undefined
  const ms = Date.parse(v)
  if (Number.isNaN(ms)) throw new MemoryApiError(400, "invalid_time", `${name} must be an ISO 8601 time`)
  return ms
}

const inWindow = (filter: Readonly<Record<string, string>>, updatedAt: number) => {
  const min = timeFilter(filter, "updated_at_min")
  const max = timeFilter(filter, "updated_at_max")
  return (min === undefined || updatedAt >= min) && (max === undefined || updatedAt < max)
}

// --- the API ----------------------------------------------------------------------------------------

const errorBody = (e: MemoryApiError) => ({ error: { code: e.code, message: e.message, ...e.extra } })

/** A small token bucket per access token, in sandbox time. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly clock: SandboxClock.SandboxClock
  private readonly limit: { readonly perSecond: number; readonly burst: number }
  constructor(clock: SandboxClock.SandboxClock, limit: { readonly perSecond: number; readonly burst: number }) {
    this.clock = clock
    this.limit = limit
  }

  /** Takes one token; returns how many seconds to wait when there is none. */
  take(key: string): number | undefined {
    const now = this.clock.now()
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond)
    b.at = now
    this.buckets.set(key, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return undefined
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond))
  }
}

/** Builds the routes of the Memory platform over a world. */
export const routes = (
  world: MemoryWorld,
  clock: SandboxClock.SandboxClock,
  options: ApiOptions
): ReadonlyArray<SandboxServer.Route> => {
  const limit = options.rateLimit === false ? undefined : options.rateLimit
  const limiter = limit === undefined ? undefined : new RateLimiter(clock, limit)
  const ttl = { accessMs: options.accessTokenTtlMs, refreshMs: options.refreshTokenTtlMs }

  const json = (
    status: number,
    body: unknown,
    headers: Record<string, string> = {}
  ): SandboxServer.SandboxResponse => ({
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body)
  })

  /** An authenticated API route: bearer token, scope, rate limit, then the handler. */
  const api = (
    name: string,
    method: string,
    path: string | RegExp,
    scope: string,
    handler: (request: SandboxServer.SandboxRequest) => SandboxServer.SandboxResponse
  ): SandboxServer.Route => ({
    name,
    method,
    path,
    handler: (request) => {
      try {
        const header = request.headers.authorization ?? ""
        const token = /^Bearer (\S+)$/i.exec(header)?.[1]
        if (token === undefined) throw new MemoryApiError(401, "invalid_token", "send Authorization: Bearer <token>")
        const grant: GrantRecord = world.grantOf(token)
        if (!grant.scopes.includes(scope)) {
          throw new MemoryApiError(403, "insufficient_scope", `this call needs the ${scope} scope`, { scope })
        }
        const wait = limiter?.take(token)
        if (wait !== undefined) {
          return json(
            429,
            {
              error: {
                code: "rate_limited",
                message: `more than ${limit?.perSecond} requests per second`
              }
            },
            { "retry-after": String(wait) }
          )
        }
        return handler(request)
      } catch (e) {
        if (e instanceof MemoryApiError) return json(e.status, errorBody(e))
        throw e
      }
    }
  })

  const oauthError = (status: number, error: string, description: string) =>
    json(status, { error, error_description: description })

  const tokenResponse = (grant: GrantRecord) =>
    json(200, {
      access_token: grant.accessToken,
      token_type: "Bearer",
      expires_in: Math.round((grant.expiresAt - grant.issuedAt) / 1000),
      refresh_token: grant.refreshToken,
      refresh_token_expires_in: Math.round((grant.refreshExpiresAt - grant.issuedAt) / 1000),
      scope: grant.scopes.join(" ")
    })

  return [
    {
      name: "oauth.authorize",
      method: "GET",
      path: "/oauth/authorize",
      handler: (request) => {
        const q = request.query
        const redirect = q.get("redirect_uri")
        if (q.get("client_id") !== options.clientId) return oauthError(400, "invalid_client", "unknown client_id")
        if (redirect === null || !/^https?:\/\//.test(redirect)) {
          return oauthError(400, "invalid_request", "redirect_uri must be an http(s) URL")
        }
        const requested = (q.get("scope") ?? "").split(" ").filter((s) => s !== "")
        const granted = requested.length === 0 ? options.scopes : requested.filter((s) => options.scopes.includes(s))
        const code = world.token("mac")
        world.codes.set(code, { redirectUri: redirect, scopes: granted, expiresAt: clock.now() + 10 * 60_000 })
        const target = new URL(redirect)
        target.searchParams.set("code", code)
        const state = q.get("state")
        if (state !== null) target.searchParams.set("state", state)
        return { status: 302, headers: { location: target.toString() }, body: "" }
      }
    },
    {
      name: "oauth.token",
      method: "POST",
      path: "/oauth/token",
      handler: (request) => {
        if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
          return oauthError(400, "invalid_request", "send the token request form-encoded")
        }
        const form = new URLSearchParams(request.text)
        if (form.get("client_id") !== options.clientId || form.get("client_secret") !== options.clientSecret) {
          return oauthError(401, "invalid_client", "client authentication failed")
        }
        try {
          switch (form.get("grant_type")) {
            case "authorization_code": {
              const code = form.get("code") ?? ""
              const entry = world.codes.get(code)
              world.codes.delete(code)
              if (entry === undefined || entry.expiresAt <= clock.now()) {
                return oauthError(400, "invalid_grant", "the code is unknown, used or expired")
              }
              if (form.get("redirect_uri") !== entry.redirectUri) {
                return oauthError(400, "invalid_grant", "redirect_uri differs from the authorization request")
              }
              return tokenResponse(world.issueGrant(entry.scopes, ttl))
            }
            case "refresh_token":
              return tokenResponse(world.refreshGrant(form.get("refresh_token") ?? "", ttl))
            default:
              return oauthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
          }
        } catch (e) {
          if (e instanceof MemoryApiError) return oauthError(e.status, e.code, e.message)
          throw e
        }
      }
    },
    api("locations.list", "GET", "/v1/locations", scopes.locations, () =>
      json(200, { locations: world.locations.map((l) => ({ id: l.id, name: l.name, kind: "warehouse" })) })
    ),
    api("skus.list", "GET", "/v1/skus", scopes.catalog, (request) => {
      const result = page(
        request.query,
        [],
        () => [...world.skus.values()],
        (s) => [s.sku]
      )
      return json(200, {
        skus: result.items.map((s) => ({
          sku: s.sku,
          product_id: s.productId,
          variant_id: s.variantId,
          title: s.title,
          inventory: [...s.stock].map(([location_id, level]) => ({ location_id, quantity: level.quantity }))
        })),
        next_cursor: result.next
      })
    }),
    api("inventory.set", "POST", "/v1/inventory/set", scopes.inventoryWrite, (request) => {
      const body = parse(InventorySetBody, request.text)
      if (body.updates.length > stockBatchLimit) {
        throw new MemoryApiError(400, "batch_too_large", `at most ${stockBatchLimit} updates per request`)
      }
      const results = body.updates.map((u) =>
        world.writeStock({
          sku: u.sku,
          location: u.location_id ?? world.defaultLocation.id,
          quantity: u.quantity,
          expected: u.expected_quantity,
          idempotencyKey: u.idempotency_key
        })
      )
      return json(200, {
        results: results.map((r) => {
          const base = { sku: r.sku, location_id: r.location }
          if (r.status === "applied") return { ...base, status: "applied", quantity: r.quantity, replayed: r.replayed }
          if (r.status === "stale") return { ...base, status: "stale", actual_quantity: r.actual }
          return { ...base, status: "error", error: r.error }
        })
      })
    }),
    api("inventory.list", "GET", "/v1/inventory", scopes.inventoryRead, (request) => {
      const result = page(
        request.query,
        ["sku"],
        (filter) => {
          const wanted = filter.sku === undefined ? undefined : new Set(filter.sku.split(","))
          return [...world.skus.values()]
            .filter((s) => wanted === undefined || wanted.has(s.sku))
            .flatMap((s) => [...s.stock].map(([location, level]) => ({ sku: s.sku, location, ...level })))
        },
        (r) => [r.sku, r.location]
      )
      return json(200, {
        levels: result.items.map((r) => ({
          sku: r.sku,
          location_id: r.location,
          on_hand: r.quantity,
          version: r.version
        })),
        next_cursor: result.next
      })
    }),
    api("orders.list", "GET", "/v1/orders", scopes.orders, (request) => {
      const result = page(
        request.query,
        ["updated_at_min", "updated_at_max"],
        (filter) => [...world.orders.values()].filter((o) => inWindow(filter, o.updatedAt)),
        (o) => [o.updatedAt, o.id]
      )
      return json(200, { orders: result.items.map(renderOrder), next_cursor: result.next })
    }),
    api("orders.get", "GET", /^\/v1\/orders\/(?<id>[^/]+)$/, scopes.orders, (request) =>
      json(200, { order: renderOrder(world.order(request.params.id!)) })
    ),
    api("fulfillments.create", "POST", /^\/v1\/orders\/(?<id>[^/]+)\/fulfillments$/, scopes.fulfillments, (request) => {
      const body = parse(FulfillmentBody, request.text)
      const { fulfillment, replayed } = world.fulfill({
        orderId: request.params.id!,
        carrier: body.carrier,
        trackingNumber: body.tracking_number,
        lines: body.line_items?.map((l) => ({ lineId: l.line_id, quantity: l.quantity })),
        idempotencyKey: body.idempotency_key
      })
      if (!replayed) options.notify("orders/updated", { order: renderOrder(world.order(fulfillment.orderId)) })
      return json(replayed ? 200 : 201, { fulfillment: renderFulfillment(fulfillment), replayed })
    }),
    api("aftersales.list", "GET", "/v1/aftersales", scopes.aftersales, (request) => {
      const result = page(
        request.query,
        ["updated_at_min", "updated_at_max"],
        (filter) => [...world.afterSales.values()].filter((a) => inWindow(filter, a.updatedAt)),
        (a) => [a.updatedAt, a.id]
      )
      return json(200, { aftersales: result.items.map(renderAfterSale), next_cursor: result.next })
    }),
    api("aftersales.get", "GET", /^\/v1\/aftersales\/(?<id>[^/]+)$/, scopes.aftersales, (request) =>
      json(200, { aftersale: renderAfterSale(world.afterSale(request.params.id!)) })
    ),
    api("services.list", "GET", "/v1/services", scopes.shipping, () =>
      json(200, { services: services.map((s) => ({ code: s.code, name: s.name, carrier: s.carrier })) })
    ),
    api("parcels.create", "POST", "/v1/parcels", scopes.shipping, (request) => {
      const body = parse(ParcelBody, request.text)
      const { parcel, created } = world.createParcel({
        reference: body.reference,
        orderId: body.order_id,
        service: body.service
      })
      return json(created ? 201 : 200, { parcel: renderParcel(parcel) })
    }),
    api("parcels.label", "GET", /^\/v1\/parcels\/(?<ref>[^/]+)\/label$/, scopes.shipping, (request) => {
      const parcel = world.parcel(decodeURIComponent(request.params.ref!))
      if (parcel.status === "created") throw new MemoryApiError(409, "label_not_ready", "the label is being rendered")
      if (parcel.status === "cancelled") throw new MemoryApiError(409, "parcel_cancelled", "the parcel was cancelled")
      const pdf = `%PDF-1.4\n% Memory Post label ${parcel.trackingNumber} for ${parcel.reference}\n%%EOF\n`
      return json(200, { label: { format: "pdf", content_base64: Buffer.from(pdf).toString("base64") } })
    }),
    api("parcels.cancel", "POST", /^\/v1\/parcels\/(?<ref>[^/]+)\/cancel$/, scopes.shipping, (request) =>
      json(200, { parcel: renderParcel(world.cancelParcel(decodeURIComponent(request.params.ref!))) })
    ),
    api("parcels.get", "GET", /^\/v1\/parcels\/(?<ref>[^/]+)$/, scopes.shipping, (request) =>
      json(200, { parcel: renderParcel(world.parcel(decodeURIComponent(request.params.ref!))) })
    ),
    api("tracking.list", "GET", "/v1/tracking", scopes.tracking, (request) => {
      const numbers = (request.query.get("numbers") ?? "").split(",").filter((n) => n !== "")
      if (numbers.length === 0 || numbers.length > 100) {
        throw new MemoryApiError(400, "invalid_numbers", "numbers must list 1–100 tracking numbers")
      }
      const events = numbers.flatMap((n) => {
        const parcel = world.byTrackingNumber(n)
        return (parcel?.events ?? []).map((e) => ({
          tracking_number: n,
          carrier: parcel!.carrier,
          code: e.code,
          description: e.description,
          occurred_at: iso(e.occurredAt),
          location: e.location
        }))
      })
      return json(200, { events })
    })
  ]
}
