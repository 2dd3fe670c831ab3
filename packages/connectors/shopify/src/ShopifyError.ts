/**
 * ShopifyError: Shopify's failures mapped onto the core error taxonomy.
 *
 * Three layers, read in this order:
 * 1. HTTP status — 401 `AuthExpired` (refresh once), 402 (shop frozen) and 423 (shop locked)
 *    `Suspended`, 403 `ScopeMissing` (or `AuthRevoked` when Shopify refuses a non-expiring token),
 *    404 `NotFound`, 429 `RateLimited` (with `Retry-After`, or the wait computed from the cost
 *    bucket when the body carries one), 5xx `Transient`.
 * 2. Top-level GraphQL `errors` (HTTP 200): `THROTTLED` `RateLimited` with the wait computed from
 *    `throttleStatus`; `ACCESS_DENIED` `ScopeMissing`; `INTERNAL_SERVER_ERROR` `Transient`; the
 *    rest (`MAX_COST_EXCEEDED`, `BAD_REQUEST`, `INVALID_FIELD_ARGUMENTS`, validation) `Rejected`.
 * 3. Mutation `userErrors`: per code (`InventorySetQuantitiesUserErrorCode`), or `Rejected` for the
 *    code-less `UserError` of `fulfillmentCreate`.
 *
 * @see https://shopify.dev/docs/api/usage/response-codes
 * @see https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * @since 0.1.0
 */
import type { HttpExchange } from "@tkbridge/core"
import { ConnectorHttp, ConnectorError as Errors } from "@tkbridge/core"
import { Duration } from "effect"
import type { Cost, GraphqlError, UserError } from "./ShopifySchema.ts"

/** What the caller knows about the failing call. */
export interface Context {
  readonly connection?: string | undefined
  readonly httpStatus?: number | undefined
  readonly exchange?: HttpExchange.HttpExchange | undefined
  /** Now, in epoch milliseconds. */
  readonly now: number
  /** Wait when Shopify gives no hint at all. */
  readonly backoffMs: number
}

/** How long a shop answering 402 (frozen) or 423 (locked) is left alone before the next try. */
export const suspensionMs = 60 * 60 * 1000

/**
 * The wait a throttled call needs: the points it asked for minus what the bucket holds, at the
 * bucket's restore rate. Shopify's own advice, since it sends no `Retry-After` on a GraphQL throttle.
 */
export const throttleWait = (cost: Cost | undefined, fallbackMs: number): Duration.Duration => {
  if (cost === undefined || !(cost.throttleStatus.restoreRate > 0)) return Duration.millis(fallbackMs)
  const deficit = Math.max(1, cost.requestedQueryCost - cost.throttleStatus.currentlyAvailable)
  return Duration.millis(Math.ceil((deficit / cost.throttleStatus.restoreRate) * 1000))
}

const base = (ctx: Context, code: string, message: string) => ({
  connection: ctx.connection,
  httpStatus: ctx.httpStatus,
  exchange: ctx.exchange,
  code,
  message
})

/** Shopify's answer to a non-expiring token on an app that must use expiring ones. */
const nonExpiring = /non-expiring access tokens are no longer accepted/i

/**
 * Reads a non-2xx HTTP status. `cost` is the cost extension when the body carried one (a throttled
 * GraphQL call answered 429). Returns `undefined` for 2xx.
 */
export const fromStatus = (
  result: ConnectorHttp.HttpResult,
  ctx: Context,
  cost?: Cost | undefined
): Errors.ConnectorError | undefined => {
  const status = result.status
  if (status >= 200 && status < 300) return undefined
  const full = { ...ctx, httpStatus: status, exchange: result.exchange }
  const text = (result.exchange.responseBody ?? "").slice(0, 300)
  if (status === 429) {
    const header = result.headers["retry-after"]
    const retryAfter =
      header !== undefined && header.trim() !== ""
        ? ConnectorHttp.parseRetryAfter(header, ctx.now, Duration.millis(ctx.backoffMs))
        : throttleWait(cost, ctx.backoffMs)
    return new Errors.RateLimited({
      ...base(full, "429", `throttled (HTTP 429)${text ? `: ${text}` : ""}`),
      retryAfter
    })
  }
  if (status === 402 || status === 423) {
    return new Errors.Suspended({
      ...base(
        full,
        String(status),
        status === 402 ? "the shop is frozen (payment required)" : "the shop is locked by Shopify"
      ),
      until: new Date(ctx.now + suspensionMs)
    })
  }
  if (status === 403 && nonExpiring.test(result.text)) {
    return new Errors.AuthRevoked(
      base(
        full,
        "403",
        "Shopify no longer accepts this non-expiring token: install the app again to get an expiring one"
      )
    )
  }
  return ConnectorHttp.classifyStatus(result, ctx.now, ctx.connection)
}

const codeOf = (e: GraphqlError): string | undefined => e.extensions?.code

/** Maps top-level GraphQL errors (the first that decides wins: throttling, then outages, then access). */
export const fromGraphqlErrors = (
  errors: ReadonlyArray<GraphqlError>,
  ctx: Context,
  cost?: Cost | undefined
): Errors.ConnectorError => {
  const codes = errors.map(codeOf)
  const message = errors
    .map((e) => e.message)
    .join("; ")
    .slice(0, 1000)
  if (codes.includes("THROTTLED")) {
    return new Errors.RateLimited({ ...base(ctx, "THROTTLED", message), retryAfter: throttleWait(cost, ctx.backoffMs) })
  }
  if (codes.includes("INTERNAL_SERVER_ERROR") || codes.includes("SERVICE_UNAVAILABLE")) {
    return new Errors.Transient(
      base(ctx, codes.includes("INTERNAL_SERVER_ERROR") ? "INTERNAL_SERVER_ERROR" : "SERVICE_UNAVAILABLE", message)
    )
  }
  const denied = errors.find((e) => codeOf(e) === "ACCESS_DENIED")
  if (denied !== undefined) {
    const scope = /`([a-z_]+)`/.exec(denied.extensions?.requiredAccess ?? denied.message)?.[1]
    return new Errors.ScopeMissing({ ...base(ctx, "ACCESS_DENIED", message), scope })
  }
  if (codes.includes("SHOP_INACTIVE")) {
    return new Errors.Suspended({ ...base(ctx, "SHOP_INACTIVE", message), until: new Date(ctx.now + suspensionMs) })
  }
  const code = codes.find((c) => c !== undefined) ?? "GRAPHQL_ERROR"
  return new Errors.Rejected(base(ctx, code, message))
}

/** How each `InventorySetQuantitiesUserErrorCode` is classified (stale writes are handled by the caller). */
export const inventoryCodes: Readonly<Record<string, Errors.ConnectorError["_tag"]>> = {
  CHANGE_FROM_QUANTITY_STALE: "Rejected",
  COMPARE_QUANTITY_REQUIRED: "Rejected",
  COMPARE_QUANTITY_STALE: "Rejected",
  IDEMPOTENCY_CONCURRENT_REQUEST: "Transient",
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH: "Rejected",
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED: "Rejected",
  INVALID_INVENTORY_ITEM: "NotFound",
  INVALID_LOCATION: "NotFound",
  INVALID_NAME: "Rejected",
  INVALID_QUANTITY_NEGATIVE: "Rejected",
  INVALID_QUANTITY_TOO_HIGH: "Rejected",
  INVALID_QUANTITY_TOO_LOW: "Rejected",
  INVALID_REASON: "Rejected",
  INVALID_REFERENCE_DOCUMENT: "Rejected",
  ITEM_NOT_STOCKED_AT_LOCATION: "NotFound",
  NON_MUTABLE_INVENTORY_ITEM: "Rejected",
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR: "Rejected"
}

/** One user error as a taxonomy error. Code-less user errors (`UserError`) are `Rejected`. */
export const fromUserError = (error: UserError, ctx: Context, prefix = ""): Errors.ConnectorError => {
  const code = error.code ?? "USER_ERROR"
  const field = error.field && error.field.length > 0 ? ` (${error.field.join(".")})` : ""
  const message = `${prefix}${error.message}${field}`
  switch (inventoryCodes[code] ?? "Rejected") {
    case "NotFound":
      return new Errors.NotFound(base(ctx, code, message))
    case "Transient":
      return new Errors.Transient(base(ctx, code, message))
    default:
      return new Errors.Rejected(base(ctx, code, message))
  }
}

/** The index into `input.quantities` a user error points at (`["input","quantities","3",…]`), if any. */
export const quantityIndex = (error: UserError): number | undefined => {
  const field = error.field ?? []
  const at = field.indexOf("quantities")
  if (at < 0) return undefined
  const n = Number(field[at + 1])
  return Number.isInteger(n) && n >= 0 ? n : undefined
}
