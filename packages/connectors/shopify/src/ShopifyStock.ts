/**
 * ShopifyStock: `stock.push` and `stock.pull`.
 *
 * `stock.push` sets the `available` quantity with `inventorySetQuantities` (2026-10 shape), up to
 * 250 items per call. Every item carries `changeFromQuantity`: the update's `expected` (the last
 * quantity tkbridge knows the shop holds), or an explicit `null` — Shopify's "skip the check" — when
 * tkbridge has never pushed the listing. Every call carries `@idempotent(key:)`, derived from the
 * updates' idempotency keys and the exact variables, so a replayed push is answered from Shopify's
 * record instead of being applied twice, and a changed push never reuses a key (which Shopify would
 * refuse with `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`).
 *
 * When Shopify answers `CHANGE_FROM_QUANTITY_STALE` nothing of that call was written (the sandbox
 * treats the batch as all-or-nothing; Shopify does not document it, so the connector does not rely
 * on it). The connector re-reads the items' quantities and decides per item: the shop changed
 * underneath → `Stale` with the actual quantity, even when that is the target (the engine settles
 * the change against the pool with core's `StockDecision.afterStale` and writes again only if it
 * must); the shop shows the target it was expected to move from → `Applied`; unchanged → sent again
 * in the next call with a new key. It never overwrites blindly.
 *
 * `stock.pull` reads inventory levels per location (`inventoryItems` → `inventoryLevels`).
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/inventorySetQuantities
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { Connector } from "@tkbridge/core"
import { ConnectorError as Errors } from "@tkbridge/core"
import { Clock, Effect, Either } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import * as Documents from "./ShopifyDocuments.ts"
import * as ShopifyError from "./ShopifyError.ts"
import { legacyId, toGid } from "./ShopifyGid.ts"
import * as Wire from "./ShopifySchema.ts"

/** Shopify's limit on items per input array. */
export const maxBatch = 250
/** Largest quantity `inventorySetQuantities` accepts. */
export const maxQuantity = 1_000_000_000

/** The `externalIds` keys a push reads (as `catalog.pull` writes them). */
export const ids = { inventoryItem: "inventoryItemId", variant: "variantId", product: "productId" } as const

/** Errors that concern the whole connection: the push stops and fails with them. */
const connectionLevel = new Set(["AuthExpired", "AuthRevoked", "RateLimited", "Suspended", "ScopeMissing"])

interface Entry {
  readonly indices: Array<number>
  readonly keys: Array<string>
  readonly item: string
  readonly location: string
  quantity: number
  expected: number | null
}

const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

/**
 * The `@idempotent` key of one call: a hash of the updates' idempotency keys and the exact input,
 * so the same write always has the same key and a different write never shares one.
 */
export const idempotencyKey = (keys: ReadonlyArray<string>, input: unknown, attempt = 0): string =>
  `tkbridge-${createHash("sha256")
    .update(keys.join("\n"))
    .update("\n")
    .update(stableJson(input))
    .update(attempt === 0 ? "" : `\n#${attempt}`)
    .digest("hex")
    .slice(0, 48)}`

/** Builds `stock.push` on a client. */
export const makePush = (client: ShopifyClientShape, connection: string): Connector.StockPush => {
  const { config } = client
  const reference = config.referenceDocumentUri ?? `gid://tkbridge/Connection/${encodeURIComponent(connection)}`
  // The shop's only active location, once found (failures are not remembered: they may be fixed).
  let cachedLocation: string | undefined

  const defaultLocation: Effect.Effect<string, Errors.ConnectorError> = Effect.gen(function* () {
    if (config.locationId !== undefined) return toGid("Location", config.locationId)
    if (cachedLocation !== undefined) return cachedLocation
    const data = yield* client.run(Documents.DefaultLocation, {}, Wire.DefaultLocationData)
    const nodes = data.locations.nodes
    if (nodes.length !== 1 || nodes[0] === undefined) {
      return yield* new Errors.Rejected({
        connection,
        code: "location_required",
        message:
          nodes.length === 0
            ? "the shop has no active location to push stock to"
            : "the shop has several active locations: set locationId in the connection config or name the location on each update"
      })
    }
    cachedLocation = nodes[0].id
    return cachedLocation
  })

  /** The `available` quantity of items at one location; undefined for items Shopify does not know. */
  const reread = (
    items: ReadonlyArray<string>,
    location: string
  ): Effect.Effect<ReadonlyMap<string, number | undefined>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const out = new Map<string, number | undefined>()
      for (let at = 0; at < items.length; at += 100) {
        const chunk = items.slice(at, at + 100)
        const data = yield* client.run(
          Documents.StockAvailable,
          { ids: chunk, locationId: location },
          Wire.StockAvailableData
        )
        for (const [i, node] of data.nodes.entries()) {
          const item = chunk[i]!
          if (node === null || node.id === undefined) {
            out.set(item, undefined)
            continue
          }
          // No level at the location means nothing is stocked there: Shopify counts it as 0.
          const available = node.inventoryLevel?.quantities.find((q) => q.name === "available")?.quantity ?? 0
          out.set(item, available)
        }
      }
      return out
    })

  const push = (
    updates: ReadonlyArray<Connector.StockUpdate>
  ): Effect.Effect<ReadonlyArray<Connector.StockPushResult>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const results = new Array<Connector.StockPushResult | undefined>(updates.length)
      const settle = (entry: Entry, result: (u: Connector.StockUpdate) => Connector.StockPushResult) => {
        for (const i of entry.indices) results[i] = result(updates[i]!)
      }
      const failEntry = (entry: Entry, error: Errors.ConnectorError) =>
        settle(entry, (u) => ({ _tag: "Failed", externalSku: u.externalSku, location: u.location, error }))
      const reject = (i: number, code: string, message: string) => {
        const u = updates[i]!
        results[i] = {
          _tag: "Failed",
          externalSku: u.externalSku,
          location: u.location,
          error: new Errors.Rejected({ code, connection, message })
        }
      }

      let fallback: Either.Either<string, Errors.ConnectorError> | undefined
      const entries = new Map<string, Entry>()
      for (const [i, u] of updates.entries()) {
        const item = u.externalIds[ids.inventoryItem] ?? u.externalIds.inventory_item_id
        if (item === undefined || item.trim() === "") {
          reject(
            i,
            "missing_ids",
            `${u.externalSku}: the listing has no ${ids.inventoryItem}; pull the catalog to pair it`
          )
          continue
        }
        if (!Number.isInteger(u.quantity) || u.quantity < 0 || u.quantity > maxQuantity) {
          reject(i, "INVALID_QUANTITY", `${u.externalSku}: quantity ${u.quantity} is outside 0–${maxQuantity}`)
          continue
        }
        if (u.expected !== undefined && !Number.isInteger(u.expected)) {
          reject(i, "INVALID_EXPECTED", `${u.externalSku}: expected quantity ${u.expected} is not a whole number`)
          continue
        }
        let location: string
        if (u.location !== undefined && u.location.trim() !== "") location = toGid("Location", u.location)
        else {
          fallback ??= yield* Effect.either(defaultLocation)
          if (Either.isLeft(fallback)) {
            if (connectionLevel.has(fallback.left._tag)) return yield* Effect.fail(fallback.left)
            const error = fallback.left
            const v = updates[i]!
            results[i] = { _tag: "Failed", externalSku: v.externalSku, location: v.location, error }
            continue
          }
          location = fallback.right
        }
        const gid = toGid("InventoryItem", item)
        const key = `${gid}@${location}`
        const existing = entries.get(key)
        // The same item and location twice in one batch: the later update is the one to write
        // (Shopify refuses duplicates in one call), and both report its outcome.
        if (existing) {
          existing.indices.push(i)
          existing.keys.push(u.idempotencyKey)
          existing.quantity = u.quantity
          if (u.expected !== undefined && existing.expected === null) existing.expected = u.expected
        } else {
          entries.set(key, {
            indices: [i],
            keys: [u.idempotencyKey],
            item: gid,
            location,
            quantity: u.quantity,
            expected: u.expected ?? null
          })
        }
      }

      const all = [...entries.values()]
      for (let at = 0; at < all.length; at += maxBatch) {
        const outcome = yield* Effect.either(writeChunk(all.slice(at, at + maxBatch), settle, failEntry))
        if (Either.isLeft(outcome)) return yield* Effect.fail(outcome.left)
      }
      return results.map(
        (r, i) =>
          r ?? {
            _tag: "Failed" as const,
            externalSku: updates[i]!.externalSku,
            location: updates[i]!.location,
            error: new Errors.Transient({ connection, message: "the update was not sent" })
          }
      )
    })

  const writeChunk = (
    chunk: ReadonlyArray<Entry>,
    settle: (entry: Entry, result: (u: Connector.StockUpdate) => Connector.StockPushResult) => void,
    failEntry: (entry: Entry, error: Errors.ConnectorError) => void
  ): Effect.Effect<void, Errors.ConnectorError> =>
    Effect.gen(function* () {
      const applied = (e: Entry) =>
        settle(e, (u) => ({ _tag: "Applied", externalSku: u.externalSku, location: u.location }))
      let pending = [...chunk]
      let attempt = 0
      // Each round either finishes or takes at least one item out, so this ends.
      for (let round = 0; pending.length > 0 && round <= chunk.length + 2; round++) {
        const input = {
          name: "available",
          reason: config.inventoryReason,
          referenceDocumentUri: reference,
          quantities: pending.map((e) => ({
            inventoryItemId: e.item,
            locationId: e.location,
            quantity: e.quantity,
            changeFromQuantity: e.expected
          }))
        }
        const key = idempotencyKey(
          pending.flatMap((e) => e.keys),
          input,
          attempt
        )
        const outcome = yield* Effect.either(client.run(Documents.StockSet, { input, key }, Wire.StockSetData))
        if (Either.isLeft(outcome)) {
          if (connectionLevel.has(outcome.left._tag)) return yield* Effect.fail(outcome.left)
          for (const e of pending) failEntry(e, outcome.left)
          return
        }
        const payload = outcome.right.inventorySetQuantities
        const now = yield* Clock.currentTimeMillis
        const ctx: ShopifyError.Context = { connection, now, backoffMs: config.rateLimitBackoffMs }
        if (payload === null) {
          for (const e of pending)
            failEntry(e, new Errors.Transient({ connection, message: "inventorySetQuantities returned nothing" }))
          return
        }
        if (payload.userErrors.length === 0) {
          for (const e of pending) applied(e)
          return
        }
        const stale = new Set<Entry>()
        const failed = new Map<Entry, Errors.ConnectorError>()
        let rereadAll = false
        let global: Errors.ConnectorError | undefined
        for (const ue of payload.userErrors) {
          const index = ShopifyError.quantityIndex(ue)
          const entry = index === undefined ? undefined : pending[index]
          if (ue.code === "CHANGE_FROM_QUANTITY_STALE" || ue.code === "COMPARE_QUANTITY_STALE") {
            if (entry) stale.add(entry)
            else rereadAll = true
          } else if (ue.code === "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED") {
            // An earlier call with these exact variables failed: find out what the shop holds now.
            rereadAll = true
          } else if (entry) failed.set(entry, ShopifyError.fromUserError(ue, ctx))
          else global ??= ShopifyError.fromUserError(ue, ctx)
        }
        if (global !== undefined) {
          for (const e of pending) failEntry(e, global)
          return
        }
        for (const [e, error] of failed) failEntry(e, error)
        const check = rereadAll ? pending.filter((e) => !failed.has(e)) : [...stale]
        const decided = new Set<Entry>(failed.keys())
        const byLocation = new Map<string, Array<Entry>>()
        for (const e of check) byLocation.set(e.location, [...(byLocation.get(e.location) ?? []), e])
        for (const [location, group] of byLocation) {
          const actual = yield* reread(
            group.map((e) => e.item),
            location
          )
          for (const e of group) {
            const current = actual.get(e.item)
            if (current === undefined) {
              failEntry(
                e,
                new Errors.NotFound({
                  connection,
                  code: "INVALID_INVENTORY_ITEM",
                  message: `inventory item ${legacyId(e.item)} does not exist in the shop; pull the catalog again`
                })
              )
              decided.add(e)
            } else if (e.expected !== null && current !== e.expected) {
              // Even when the shop already shows the target: the engine settles the sale that moved
              // the count against the pool's balance, which an `Applied` would leave open.
              settle(e, (u) => ({ _tag: "Stale", externalSku: u.externalSku, location: u.location, actual: current }))
              decided.add(e)
            } else if (current === e.quantity) {
              applied(e)
              decided.add(e)
            }
          }
        }
        const remaining = pending.filter((e) => !decided.has(e))
        // Same variables again (nothing was taken out): only a new key gets a fresh attempt.
        if (remaining.length === pending.length) attempt++
        pending = remaining
      }
      for (const e of pending) {
        failEntry(e, new Errors.Transient({ connection, message: "the shop kept refusing the write; try again" }))
      }
    })

  return { push }
}

const quoteSearch = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`

/** The search query that selects inventory items by SKU (`sku:"A" OR sku:"B"`). */
export const skuQuery = (skus: ReadonlyArray<string>): string => skus.map((s) => `sku:${quoteSearch(s)}`).join(" OR ")

/** Items per `StockLevels` page and levels per item (keeps the query well under 1,000 points). */
export const pullPage = { items: 25, levels: 10, moreLevels: 50 } as const

/** Builds `stock.pull` on a client. */
export const makePull = (client: ShopifyClientShape): Connector.StockPull => {
  const { config } = client
  const quantityName = config.stockPullQuantity

  const readings = (sku: string, levels: ReadonlyArray<Wire.Level>): Array<Connector.StockReading> =>
    levels.map((l) => ({
      externalSku: sku,
      location: legacyId(l.location.id),
      onHand: l.quantities.find((q) => q.name === quantityName)?.quantity ?? 0
    }))

  const list = (query: {
    readonly cursor?: string | undefined
    readonly skus?: ReadonlyArray<string> | undefined
  }): Effect.Effect<Connector.Page<Connector.StockReading>, Errors.ConnectorError> =>
    Effect.gen(function* () {
      if (query.skus !== undefined && query.skus.length === 0) return { items: [] }
      const data = yield* client.run(
        Documents.StockLevels,
        {
          first: pullPage.items,
          after: query.cursor ?? null,
          query: query.skus === undefined ? null : skuQuery(query.skus),
          levels: pullPage.levels
        },
        Wire.StockLevelsData
      )
      const wanted = query.skus === undefined ? undefined : new Set(query.skus)
      const items: Array<Connector.StockReading> = []
      for (const item of data.inventoryItems.nodes) {
        const sku = item.sku?.trim() ?? ""
        if (sku === "" || (wanted !== undefined && !wanted.has(sku))) continue
        items.push(...readings(sku, item.inventoryLevels.nodes))
        let page = item.inventoryLevels.pageInfo
        while (page.hasNextPage && page.endCursor) {
          const more = yield* client.run(
            Documents.ItemLevels,
            { id: item.id, first: pullPage.moreLevels, after: page.endCursor },
            Wire.ItemLevelsData
          )
          if (more.inventoryItem === null) break
          items.push(...readings(sku, more.inventoryItem.inventoryLevels.nodes))
          page = more.inventoryItem.inventoryLevels.pageInfo
        }
      }
      const info = data.inventoryItems.pageInfo
      return { items, next: info.hasNextPage && info.endCursor ? info.endCursor : undefined }
    })

  return { list }
}
