/**
 * `stock.push` and `stock.pull` against the sandbox: what the shop holds after each push (never the
 * connector's own report), compare-and-set, idempotency keys, batching, locations. (What to write
 * after a stale answer is core's `StockDecision`, exercised against the sandbox in StaleRace.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import type { ShopifySandbox } from "../src/sandbox/index.ts"
import { ShopifySandbox as Sandbox } from "../src/sandbox/index.ts"
import { connect } from "./support.ts"

let serial = 0
const key = () => `idem-${++serial}`

const listing = (
  sandbox: ShopifySandbox.ShopifySandbox,
  sku: string,
  quantity: number,
  locationStock?: Record<string, number>
) => {
  const [created] = sandbox.seedSkus([{ sku, quantity }])
  if (locationStock !== undefined)
    for (const [location, q] of Object.entries(locationStock)) sandbox.setStock(sku, q, location)
  return { externalSku: sku, externalIds: { inventoryItemId: created!.variants[0]!.inventoryItemId } }
}

const update = (
  l: { externalSku: string; externalIds: Record<string, string> },
  quantity: number,
  extra: Partial<Connector.StockUpdate> = {}
): Connector.StockUpdate => ({ ...l, quantity, idempotencyKey: key(), ...extra })

const stockSetCalls = (sandbox: ShopifySandbox.ShopifySandbox) =>
  sandbox.server
    .requestsTo(Sandbox.routes.graphql)
    .map((r) => JSON.parse(r.text) as { operationName: string; variables: Record<string, unknown> })
    .filter((b) => b.operationName === "StockSet")

describe("stock.push", () => {
  it.scopedLive("sets `available` with changeFromQuantity on every item and an idempotency key on every call", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "PUSH-A", 5)
      const b = listing(sandbox, "PUSH-B", 9)
      const results = yield* services["stock.push"].push([update(a, 12, { expected: 5 }), update(b, 0)])
      expect(results.map((r) => r._tag)).toEqual(["Applied", "Applied"])
      expect(sandbox.available("PUSH-A")).toBe(12)
      expect(sandbox.available("PUSH-B")).toBe(0)
      expect(sandbox.appliedWrites("PUSH-A")).toBe(1)
      const [call] = stockSetCalls(sandbox)
      const input = call!.variables.input as {
        name: string
        reason: string
        referenceDocumentUri: string
        quantities: Array<Record<string, unknown>>
      }
      expect(input.name).toBe("available")
      expect(input.reason).toBe("correction")
      expect(input.referenceDocumentUri).toBe("gid://tkbridge/Connection/shopify-test")
      expect(input.quantities).toEqual([
        expect.objectContaining({ quantity: 12, changeFromQuantity: 5 }),
        // Never pushed before: an explicit null, Shopify's "skip the check".
        expect.objectContaining({ quantity: 0, changeFromQuantity: null })
      ])
      expect(call!.variables.key).toMatch(/^tkbridge-[0-9a-f]{48}$/)
    })
  )

  it.scopedLive(
    "a stale expected comes back Stale with the shop's quantity; the rest of the batch is still written",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect()
        const a = listing(sandbox, "RACE-A", 10)
        const b = listing(sandbox, "RACE-B", 10)
        const c = listing(sandbox, "RACE-C", 10)
        sandbox.setStock("RACE-B", 7) // three sold in the shop's POS
        const results = yield* services["stock.push"].push([
          update(a, 8, { expected: 10 }),
          update(b, 8, { expected: 10 }),
          update(c, 4, { expected: 10 })
        ])
        expect(results).toEqual([
          { _tag: "Applied", externalSku: "RACE-A", location: undefined },
          { _tag: "Stale", externalSku: "RACE-B", location: undefined, actual: 7 },
          { _tag: "Applied", externalSku: "RACE-C", location: undefined }
        ])
        expect(sandbox.available("RACE-A")).toBe(8)
        expect(sandbox.available("RACE-B")).toBe(7)
        expect(sandbox.available("RACE-C")).toBe(4)
        expect(sandbox.appliedWrites("RACE-B")).toBe(0)
        // The retry without the stale item used a new key: Shopify refuses a key with other variables.
        const keys = stockSetCalls(sandbox).map((c) => c.variables.key)
        expect(new Set(keys).size).toBe(keys.length)
      })
  )

  it.scopedLive("a replayed push is answered from Shopify's idempotency record, not applied again", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "REPLAY-A", 4)
      const once = update(a, 9, { expected: 4 })
      expect((yield* services["stock.push"].push([once])).map((r) => r._tag)).toEqual(["Applied"])
      sandbox.setStock("REPLAY-A", 7) // a later sale
      expect((yield* services["stock.push"].push([once])).map((r) => r._tag)).toEqual(["Applied"])
      expect(sandbox.appliedWrites("REPLAY-A")).toBe(1)
      expect(sandbox.available("REPLAY-A")).toBe(7)
    })
  )

  it.scopedLive("replaying a push that went stale re-reads the shop instead of being stuck on the failed key", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "STUCK-A", 10)
      sandbox.setStock("STUCK-A", 6)
      const stale = update(a, 9, { expected: 10 })
      const first = yield* services["stock.push"].push([stale])
      expect(first[0]).toMatchObject({ _tag: "Stale", actual: 6 })
      // Same update again: Shopify answers IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED for the old key.
      const again = yield* services["stock.push"].push([stale])
      expect(again[0]).toMatchObject({ _tag: "Stale", actual: 6 })
      expect(sandbox.available("STUCK-A")).toBe(6)
      // The shop already showing the target is still news to the engine (something moved the count),
      // so it comes back Stale with that count for the engine to settle, and nothing is written.
      sandbox.setStock("STUCK-A", 9)
      const settled = yield* services["stock.push"].push([stale])
      expect(settled[0]).toMatchObject({ _tag: "Stale", actual: 9 })
      expect(sandbox.appliedWrites("STUCK-A")).toBe(0)
    })
  )

  it.scopedLive("batches above 250 items go out in calls of at most 250", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ sandbox: { plan: "plus" } })
      const listings = Array.from({ length: 301 }, (_, i) => listing(sandbox, `BULK-${i}`, 1))
      const results = yield* services["stock.push"].push(listings.map((l, i) => update(l, i, { expected: 1 })))
      expect(results.filter((r) => r._tag === "Applied")).toHaveLength(301)
      expect(
        stockSetCalls(sandbox).map((c) => (c.variables.input as { quantities: unknown[] }).quantities.length)
      ).toEqual([250, 51])
      expect(sandbox.available("BULK-0")).toBe(0)
      expect(sandbox.available("BULK-300")).toBe(300)
    })
  )

  it.scopedLive("the same item twice in a batch is written once, with the later quantity", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "DUP-A", 3)
      const results = yield* services["stock.push"].push([update(a, 5, { expected: 3 }), update(a, 6, { expected: 3 })])
      expect(results.map((r) => r._tag)).toEqual(["Applied", "Applied"])
      expect(sandbox.available("DUP-A")).toBe(6)
      expect(sandbox.appliedWrites("DUP-A")).toBe(1)
    })
  )

  it.scopedLive("per-item failures: unpaired listings are Rejected, unknown items NotFound, the rest applied", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "OK-A", 3)
      const results = yield* services["stock.push"].push([
        update(a, 2, { expected: 3 }),
        { externalSku: "UNPAIRED", externalIds: {}, quantity: 1, idempotencyKey: key() },
        { externalSku: "GONE", externalIds: { inventoryItemId: "999999999" }, quantity: 1, idempotencyKey: key() },
        update(a, -1)
      ])
      expect(results[0]?._tag).toBe("Applied")
      expect(results[1]).toMatchObject({ _tag: "Failed", error: { _tag: "Rejected", code: "missing_ids" } })
      expect(results[2]).toMatchObject({ _tag: "Failed", error: { _tag: "NotFound", code: "INVALID_INVENTORY_ITEM" } })
      expect(results[3]).toMatchObject({ _tag: "Failed", error: { _tag: "Rejected" } })
      expect(sandbox.available("OK-A")).toBe(2)
    })
  )

  it.scopedLive(
    "multi-location: each update goes to its location; without one, a shop with several needs locationId",
    () =>
      Effect.gen(function* () {
        const { sandbox, services } = yield* connect({ sandbox: { locations: ["East", "West"] } })
        const [east, west] = sandbox.locationIds()
        const a = listing(sandbox, "LOC-A", 0, { [west!]: 4 })
        const results = yield* services["stock.push"].push([
          update(a, 3, { location: east, expected: 0 }),
          update(a, 8, { location: `gid://shopify/Location/${west}`, expected: 4 }),
          update(a, 1)
        ])
        expect(results[0]?._tag).toBe("Applied")
        expect(results[1]?._tag).toBe("Applied")
        expect(results[2]).toMatchObject({ _tag: "Failed", error: { code: "location_required" } })
        expect(sandbox.available("LOC-A", east)).toBe(3)
        expect(sandbox.available("LOC-A", west)).toBe(8)
      })
  )

  it.scopedLive(
    "2026-04 and 2026-07: an item not stocked at the location is NotFound and the rest is written; 2026-10 stocks it there",
    () =>
      Effect.gen(function* () {
        for (const apiVersion of ["2026-04", "2026-07", "2026-10"] as const) {
          const { sandbox, services } = yield* connect({
            sandbox: { locations: ["East", "West"] },
            config: { apiVersion }
          })
          const [east, west] = sandbox.locationIds()
          // Both stocked at East only.
          const a = listing(sandbox, "NS-A", 1)
          const b = listing(sandbox, "NS-B", 1)
          const results = yield* services["stock.push"].push([
            update(a, 5, { location: west, expected: 0 }),
            update(b, 6, { location: east, expected: 1 })
          ])
          expect(results[1]?._tag).toBe("Applied")
          expect(sandbox.available("NS-B", east)).toBe(6)
          if (apiVersion === "2026-10") {
            expect(results[0]?._tag).toBe("Applied")
            expect(sandbox.available("NS-A", west)).toBe(5)
          } else {
            expect({ apiVersion, result: results[0] }).toMatchObject({
              apiVersion,
              result: { _tag: "Failed", error: { _tag: "NotFound", code: "ITEM_NOT_STOCKED_AT_LOCATION" } }
            })
            expect(sandbox.available("NS-A", west)).toBeUndefined()
          }
        }
      })
  )

  it.scopedLive("a shop with one location needs no location on the update", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "ONE-A", 2)
      expect((yield* services["stock.push"].push([update(a, 5)])).map((r) => r._tag)).toEqual(["Applied"])
      expect(sandbox.available("ONE-A")).toBe(5)
    })
  )

  it.scopedLive("a write still running under the same key is a Transient failure (retry later, same key)", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect()
      const a = listing(sandbox, "SLOW-A", 2)
      sandbox.graphql.inventoryWriteDelayMs = 300
      const same = update(a, 5, { expected: 2 })
      const [first, second] = yield* Effect.all(
        [services["stock.push"].push([same]), Effect.delay(services["stock.push"].push([same]), "50 millis")],
        { concurrency: "unbounded" }
      )
      expect(first?.[0]?._tag).toBe("Applied")
      expect(second?.[0]).toMatchObject({
        _tag: "Failed",
        error: { _tag: "Transient", code: "IDEMPOTENCY_CONCURRENT_REQUEST" }
      })
      expect(sandbox.appliedWrites("SLOW-A")).toBe(1)
    })
  )
})

describe("stock.pull", () => {
  it.scopedLive("reads on-hand quantities per location, every page, and levels beyond the first page of an item", () =>
    Effect.gen(function* () {
      const names = Array.from({ length: 12 }, (_, i) => `L${i}`)
      const { sandbox, services } = yield* connect({ sandbox: { locations: names } })
      const locations = sandbox.locationIds()
      for (let i = 0; i < 30; i++) listing(sandbox, `PULL-${i}`, i)
      // One item stocked at all 12 locations (more than the 10 read with the item).
      const spread = listing(sandbox, "SPREAD", 0, Object.fromEntries(locations.map((l, i) => [l, i + 1])))
      sandbox.placeOrder({ lines: [{ sku: "PULL-5", quantity: 2 }] })
      const readings: Array<Connector.StockReading> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = yield* services["stock.pull"].list({ cursor })
        readings.push(...page.items)
        cursor = page.next
        pages++
      } while (cursor !== undefined)
      expect(pages).toBe(2)
      expect(readings.filter((r) => r.externalSku.startsWith("PULL-"))).toHaveLength(30)
      // on_hand counts units committed to open orders: 5 on hand, 3 available.
      expect(readings.find((r) => r.externalSku === "PULL-5")?.onHand).toBe(5)
      expect(sandbox.available("PULL-5")).toBe(3)
      const spreadReadings = readings.filter((r) => r.externalSku === spread.externalSku)
      expect(spreadReadings).toHaveLength(12)
      expect(spreadReadings.reduce((n, r) => n + r.onHand, 0)).toBe(78)
      expect(new Set(spreadReadings.map((r) => r.location))).toEqual(new Set(locations))
    })
  )

  it.scopedLive("filters by SKU, including SKUs with quotes and spaces", () =>
    Effect.gen(function* () {
      const { sandbox, services } = yield* connect({ config: { stockPullQuantity: "available" } })
      listing(sandbox, 'ODD "SKU" 1', 4)
      listing(sandbox, "PLAIN-2", 6)
      listing(sandbox, "OTHER-3", 8)
      sandbox.placeOrder({ lines: [{ sku: "PLAIN-2", quantity: 1 }] })
      const page = yield* services["stock.pull"].list({ skus: ['ODD "SKU" 1', "PLAIN-2"] })
      expect(page.items.map((r) => [r.externalSku, r.onHand]).sort()).toEqual([
        ['ODD "SKU" 1', 4],
        ["PLAIN-2", 5]
      ])
    })
  )
})
