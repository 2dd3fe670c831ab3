/**
 * The sandbox's own rules, exercised with raw GraphQL over HTTP: Shopify's run-time rules for
 * inventory mutations (idempotency directive, changeFromQuantity, idempotency records, user error
 * codes), the cost bucket, access scopes, what differs between API versions (and how a retired one
 * is answered), and its search and paging mechanics.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { ShopifyDocuments } from "../src/index.ts"
import { ShopifySandbox, ShopifySandboxQuery } from "../src/sandbox/index.ts"
import { postGraphql } from "./support.ts"

const setQuantities = `
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}`

/** The same mutation without `@idempotent` (optional before 2026-04). */
const withoutKey = `
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}`

const seeded = (sandbox: ShopifySandbox.ShopifySandbox, sku: string, quantity: number) => {
  const [created] = sandbox.seedSkus([{ sku, quantity }])
  return {
    item: `gid://shopify/InventoryItem/${created!.variants[0]!.inventoryItemId}`,
    location: `gid://shopify/Location/${sandbox.defaultLocationId()}`
  }
}

const input = (quantities: ReadonlyArray<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({
  name: "available",
  reason: "correction",
  quantities,
  ...extra
})

const run = (sandbox: ShopifySandbox.ShopifySandbox, variables: Record<string, unknown>, query = setQuantities) =>
  Effect.promise(() => postGraphql(sandbox, { query, variables }))

const payload = (json: Record<string, unknown>) =>
  (
    json.data as {
      inventorySetQuantities: {
        inventoryAdjustmentGroup: unknown
        userErrors: Array<{ code: string; field: string[] }>
      }
    }
  ).inventorySetQuantities

describe("sandbox: inventorySetQuantities rules (2026-04+)", () => {
  it.scopedLive("the @idempotent directive is required, with a non-blank key, and only on inventory mutations", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "IDEM-1", 3)
      const q = [{ inventoryItemId: item, locationId: location, quantity: 5, changeFromQuantity: 3 }]
      const missing = yield* run(
        sandbox,
        { input: input(q) },
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }"
      )
      expect(missing.json.errors).toEqual([
        {
          message: "The @idempotent directive is required for this mutation but was not provided.",
          extensions: { code: "BAD_REQUEST" }
        }
      ])
      expect(missing.json.data).toBeUndefined()
      const blank = yield* run(sandbox, { input: input(q), key: "  " })
      expect(JSON.stringify(blank.json.errors)).toContain("BAD_REQUEST")
      const onQuery = yield* Effect.promise(() =>
        postGraphql(sandbox, { query: '{ locations(first: 1) @idempotent(key: "k") { nodes { id } } }' })
      )
      expect(JSON.stringify(onQuery.json.errors)).toContain("BAD_REQUEST")
      expect(sandbox.available("IDEM-1")).toBe(3)
    })
  )

  it.scopedLive("every quantity must say changeFromQuantity (null opts out of the check)", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "CFQ-1", 3)
      const omitted = yield* run(sandbox, {
        input: input([{ inventoryItemId: item, locationId: location, quantity: 5 }]),
        key: "k1"
      })
      expect(omitted.json.errors).toEqual([
        {
          message: "InventoryQuantityInput must include the following argument: changeFromQuantity.",
          extensions: { code: "INVALID_FIELD_ARGUMENTS" }
        }
      ])
      expect(sandbox.available("CFQ-1")).toBe(3)
      const optOut = yield* run(sandbox, {
        input: input([{ inventoryItemId: item, locationId: location, quantity: 5, changeFromQuantity: null }]),
        key: "k2"
      })
      expect(payload(optOut.json).userErrors).toEqual([])
      expect(sandbox.available("CFQ-1")).toBe(5)
    })
  )

  it.scopedLive("a stale changeFromQuantity fails the whole call and names the item; nothing is written", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const a = seeded(sandbox, "CAS-A", 3)
      const b = seeded(sandbox, "CAS-B", 3)
      const result = yield* run(sandbox, {
        input: input([
          { inventoryItemId: a.item, locationId: a.location, quantity: 9, changeFromQuantity: 3 },
          { inventoryItemId: b.item, locationId: b.location, quantity: 9, changeFromQuantity: 4 }
        ]),
        key: "cas"
      })
      const p = payload(result.json)
      expect(p.inventoryAdjustmentGroup).toBeNull()
      expect(p.userErrors).toEqual([
        expect.objectContaining({
          code: "CHANGE_FROM_QUANTITY_STALE",
          field: ["input", "quantities", "1", "changeFromQuantity"]
        })
      ])
      expect([sandbox.available("CAS-A"), sandbox.available("CAS-B")]).toEqual([3, 3])
    })
  )

  it.scopedLive("idempotency records: replay, parameter mismatch, previous attempt failed", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "REC-1", 3)
      const ok = {
        input: input([{ inventoryItemId: item, locationId: location, quantity: 4, changeFromQuantity: 3 }]),
        key: "rec-1"
      }
      const first = yield* run(sandbox, ok)
      const replay = yield* run(sandbox, ok)
      expect(payload(replay.json)).toEqual(payload(first.json))
      expect(sandbox.appliedWrites("REC-1")).toBe(1)
      const mismatch = yield* run(sandbox, {
        ...ok,
        input: input([{ inventoryItemId: item, locationId: location, quantity: 6, changeFromQuantity: 4 }])
      })
      expect(payload(mismatch.json).userErrors.map((e) => e.code)).toEqual(["IDEMPOTENCY_KEY_PARAMETER_MISMATCH"])
      const stale = {
        input: input([{ inventoryItemId: item, locationId: location, quantity: 8, changeFromQuantity: 1 }]),
        key: "rec-2"
      }
      expect(payload((yield* run(sandbox, stale)).json).userErrors.map((e) => e.code)).toEqual([
        "CHANGE_FROM_QUANTITY_STALE"
      ])
      expect(payload((yield* run(sandbox, stale)).json).userErrors.map((e) => e.code)).toEqual([
        "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
      ])
      expect(sandbox.available("REC-1")).toBe(4)
    })
  )

  it.scopedLive("Shopify's user error codes for bad input", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "BAD-1", 3)
      const codes = (variables: Record<string, unknown>) =>
        Effect.map(run(sandbox, variables), (r) => payload(r.json).userErrors.map((e) => e.code))
      const q = (extra: Record<string, unknown>) => ({
        inventoryItemId: item,
        locationId: location,
        quantity: 1,
        changeFromQuantity: null,
        ...extra
      })
      expect(yield* codes({ input: input([q({})], { reason: "because" }), key: "b1" })).toEqual(["INVALID_REASON"])
      expect(yield* codes({ input: input([q({})], { name: "committed" }), key: "b2" })).toEqual(["INVALID_NAME"])
      expect(yield* codes({ input: input([q({ quantity: -1 })]), key: "b3" })).toEqual(["INVALID_QUANTITY_NEGATIVE"])
      expect(yield* codes({ input: input([q({ quantity: 1_000_000_001 })]), key: "b4" })).toEqual([
        "INVALID_QUANTITY_TOO_HIGH"
      ])
      expect(yield* codes({ input: input([q({}), q({})]), key: "b5" })).toEqual([
        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
      ])
      expect(yield* codes({ input: input([q({ locationId: "gid://shopify/Location/1" })]), key: "b6" })).toEqual([
        "INVALID_LOCATION"
      ])
      expect(
        yield* codes({ input: input([q({ inventoryItemId: "gid://shopify/InventoryItem/1" })]), key: "b7" })
      ).toEqual(["INVALID_INVENTORY_ITEM"])
      expect(yield* codes({ input: input([q({})], { referenceDocumentUri: "not a uri" }), key: "b8" })).toEqual([
        "INVALID_REFERENCE_DOCUMENT"
      ])
      const tooMany = yield* run(sandbox, { input: input(Array.from({ length: 251 }, () => q({}))), key: "b9" })
      expect(JSON.stringify(tooMany.json.errors)).toContain("MAX_INPUT_SIZE_EXCEEDED")
      expect(sandbox.available("BAD-1")).toBe(3)
    })
  )
})

describe("sandbox: cost, access and versions", () => {
  it.scopedLive("charges the requested cost, refunds to the actual one and throttles when the bucket is short", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped({
        clock: new (yield* Effect.promise(() => import("@tkbridge/connector-testkit"))).SandboxClock.SandboxClock({
          speed: 1e-9
        })
      })
      seeded(sandbox, "COST-1", 1)
      const first = yield* Effect.promise(() =>
        postGraphql(sandbox, {
          query: ShopifyDocuments.CatalogVariants.query,
          variables: { first: 50 },
          operationName: "CatalogVariants"
        })
      )
      const cost = (first.json.extensions as { cost: Record<string, unknown> }).cost
      expect(cost).toEqual({
        requestedQueryCost: 152,
        actualQueryCost: 5,
        throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1995, restoreRate: 100 }
      })
      sandbox.drainBucket(1_900)
      const throttled = yield* Effect.promise(() =>
        postGraphql(sandbox, {
          query: ShopifyDocuments.CatalogVariants.query,
          variables: { first: 50 },
          operationName: "CatalogVariants"
        })
      )
      expect(throttled.status).toBe(200)
      expect(throttled.json).toEqual({
        errors: [
          {
            message: "Throttled",
            extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" }
          }
        ],
        extensions: {
          cost: {
            requestedQueryCost: 152,
            actualQueryCost: null,
            throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 95, restoreRate: 100 }
          }
        }
      })
      sandbox.setPlan("plus")
      expect(sandbox.bucketStatus()).toMatchObject({ maximumAvailable: 20_000, restoreRate: 1_000 })
    })
  )

  it.scopedLive("a token without the scope a field needs gets ACCESS_DENIED on that field; no token gets 401", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "ACL-1", 3)
      const readOnly = Redacted.value(sandbox.issueToken({ scopes: ["read_inventory"] }).accessToken)
      const denied = yield* Effect.promise(() =>
        postGraphql(
          sandbox,
          {
            query: setQuantities,
            variables: {
              input: input([{ inventoryItemId: item, locationId: location, quantity: 5, changeFromQuantity: 3 }]),
              key: "acl"
            }
          },
          { token: readOnly }
        )
      )
      expect((denied.json.errors as Array<{ extensions: { code: string } }>)[0]?.extensions.code).toBe("ACCESS_DENIED")
      expect(sandbox.available("ACL-1")).toBe(3)
      const anonymous = yield* Effect.promise(() =>
        fetch(sandbox.graphqlUrl(), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"query":"{ locations(first:1) { nodes { id } } }"}'
        })
      )
      expect(anonymous.status).toBe(401)
    })
  )

  it.scopedLive(
    "2026-01: @idempotent and changeFromQuantity are optional; without changeFromQuantity, compareQuantity decides",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* ShopifySandbox.scoped()
        const { item, location } = seeded(sandbox, "V2601", 3)
        const at = (quantity: number, extra: Record<string, unknown> = {}) => ({
          inventoryItemId: item,
          locationId: location,
          quantity,
          ...extra
        })
        const call = (variables: Record<string, unknown>, query = withoutKey) =>
          Effect.promise(() => postGraphql(sandbox, { query, variables }, { version: "2026-01" }))
        const codes = (r: { json: Record<string, unknown> }) => payload(r.json).userErrors.map((e) => e.code)
        // No key, no changeFromQuantity: the compareQuantity check of older versions.
        const matching = yield* call({ input: input([at(5, { compareQuantity: 3 })]) })
        expect(matching.headers.get("x-shopify-api-version")).toBe("2026-01")
        expect(codes(matching)).toEqual([])
        expect(sandbox.available("V2601")).toBe(5)
        const stale = yield* call({ input: input([at(6, { compareQuantity: 3 })]) })
        expect(payload(stale.json).userErrors).toEqual([
          expect.objectContaining({
            code: "COMPARE_QUANTITY_STALE",
            field: ["input", "quantities", "0", "compareQuantity"]
          })
        ])
        expect(codes(yield* call({ input: input([at(6)]) }))).toEqual(["COMPARE_QUANTITY_REQUIRED"])
        expect(sandbox.available("V2601")).toBe(5)
        expect(codes(yield* call({ input: input([at(6)], { ignoreCompareQuantity: true }) }))).toEqual([])
        expect(sandbox.available("V2601")).toBe(6)
        // changeFromQuantity, when present (even null), overrides compareQuantity.
        expect(
          codes(yield* call({ input: input([at(7, { compareQuantity: 99, changeFromQuantity: null })]) }))
        ).toEqual([])
        expect(codes(yield* call({ input: input([at(8, { compareQuantity: 7, changeFromQuantity: 1 })]) }))).toEqual([
          "CHANGE_FROM_QUANTITY_STALE"
        ])
        expect(sandbox.available("V2601")).toBe(7)
        // A key, when given, is honoured: a replay is answered from the record.
        const keyed = { input: input([at(9, { changeFromQuantity: 7 })]), key: "v2601" }
        const first = yield* call(keyed, setQuantities)
        expect(payload((yield* call(keyed, setQuantities)).json)).toEqual(payload(first.json))
        expect(sandbox.available("V2601")).toBe(9)
        // Four writes went through (5, 6, 7, 9); the replay was not a fifth.
        expect(sandbox.appliedWrites("V2601")).toBe(4)
      })
  )

  it.scopedLive("2026-04 and 2026-07 require @idempotent and changeFromQuantity, and have no compareQuantity", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped()
      const { item, location } = seeded(sandbox, "V2604", 3)
      for (const version of ["2026-04", "2026-07"]) {
        const call = (variables: Record<string, unknown>, query = setQuantities) =>
          Effect.promise(() => postGraphql(sandbox, { query, variables }, { version }))
        const q = { inventoryItemId: item, locationId: location, quantity: 5 }
        const noKey = yield* call({ input: input([{ ...q, changeFromQuantity: 3 }]) }, withoutKey)
        expect(noKey.headers.get("x-shopify-api-version")).toBe(version)
        expect(noKey.json.errors).toEqual([
          {
            message: "The @idempotent directive is required for this mutation but was not provided.",
            extensions: { code: "BAD_REQUEST" }
          }
        ])
        const noChangeFrom = yield* call({ input: input([q]), key: `${version}-a` })
        expect(JSON.stringify(noChangeFrom.json.errors)).toContain("INVALID_FIELD_ARGUMENTS")
        const compare = yield* call({ input: input([{ ...q, compareQuantity: 3 }]), key: `${version}-b` })
        expect(compare.json.data ?? null).toBeNull()
        expect(JSON.stringify(compare.json.errors)).toMatch(/compareQuantity/)
        expect(sandbox.available("V2604")).toBe(3)
      }
    })
  )

  it.scopedLive("ITEM_NOT_STOCKED_AT_LOCATION up to 2026-07; from 2026-10 an item can be set at any location", () =>
    Effect.gen(function* () {
      const sandbox = yield* ShopifySandbox.scoped({ locations: ["East", "West"] })
      const { item } = seeded(sandbox, "V-LOC", 3)
      const west = sandbox.locationIds()[1]!
      const q = { inventoryItemId: item, locationId: `gid://shopify/Location/${west}`, quantity: 4 }
      for (const version of ["2026-01", "2026-04", "2026-07"]) {
        const r = yield* Effect.promise(() =>
          postGraphql(
            sandbox,
            { query: setQuantities, variables: { input: input([{ ...q, changeFromQuantity: null }]), key: version } },
            { version }
          )
        )
        expect({ version, errors: payload(r.json).userErrors }).toEqual({
          version,
          errors: [
            {
              code: "ITEM_NOT_STOCKED_AT_LOCATION",
              field: ["input", "quantities", "0", "locationId"],
              message: "The specified inventory item is not stocked at the location."
            }
          ]
        })
      }
      expect(sandbox.levels("V-LOC")).toHaveLength(1)
      const now = yield* run(sandbox, { input: input([{ ...q, changeFromQuantity: null }]), key: "2026-10" })
      expect(payload(now.json).userErrors).toEqual([])
      expect(sandbox.available("V-LOC", west)).toBe(4)
      expect(sandbox.levels("V-LOC")).toHaveLength(2)
    })
  )

  it.scopedLive(
    "a retired version falls forward to the oldest supported one, which answers with its own rules; an unknown one is 404",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* ShopifySandbox.scoped()
        const { item, location } = seeded(sandbox, "RETIRED", 3)
        const unkeyed = {
          input: input([{ inventoryItemId: item, locationId: location, quantity: 4 }], { ignoreCompareQuantity: true })
        }
        // 2025-07 is no longer served: 2026-01 answers, where neither a key nor changeFromQuantity is needed.
        const retired = yield* Effect.promise(() =>
          postGraphql(sandbox, { query: withoutKey, variables: unkeyed }, { version: "2025-07" })
        )
        expect(retired.headers.get("x-shopify-api-version")).toBe("2026-01")
        expect(payload(retired.json).userErrors).toEqual([])
        expect(sandbox.available("RETIRED")).toBe(4)
        const unknown = yield* Effect.promise(() =>
          postGraphql(sandbox, { query: "{ locations(first: 1) { nodes { id } } }" }, { version: "2099-01" })
        )
        expect(unknown.status).toBe(404)
        // Once 2026-01 is retired too, the oldest left (2026-07 here) answers, with its rules.
        const later = yield* ShopifySandbox.scoped({ apiVersions: ["2026-07", "2026-10"] })
        const moved = seeded(later, "RETIRED", 3)
        const refused = yield* Effect.promise(() =>
          postGraphql(
            later,
            {
              query: withoutKey,
              variables: {
                input: input([
                  { inventoryItemId: moved.item, locationId: moved.location, quantity: 4, changeFromQuantity: 3 }
                ])
              }
            },
            { version: "2026-01" }
          )
        )
        expect(refused.headers.get("x-shopify-api-version")).toBe("2026-07")
        expect(JSON.stringify(refused.json.errors)).toContain("BAD_REQUEST")
        expect(later.available("RETIRED")).toBe(3)
      })
  )

  it("serves only the versions it has Shopify's schema for", async () => {
    expect(ShopifySandbox.supportedVersions).toEqual(["2026-01", "2026-04", "2026-07", "2026-10"])
    await expect(ShopifySandbox.start({ apiVersions: ["2025-10", "2026-10"] })).rejects.toThrow(/cannot serve 2025-10/)
  })
})

describe("sandbox: search syntax and paging", () => {
  it("parses Shopify's search syntax: OR of ANDs, quotes, comparisons, negation", () => {
    const q = ShopifySandboxQuery.parse(`sku:"A B" OR sku:'C' AND updated_at:>='2026-11-01T00:00:00Z' -status:closed`)
    expect(q).toEqual([
      [{ field: "sku", op: ":", value: "A B", negated: false }],
      [
        { field: "sku", op: ":", value: "C", negated: false },
        { field: "updated_at", op: ">=", value: "2026-11-01T00:00:00Z", negated: false },
        { field: "status", op: ":", value: "closed", negated: true }
      ]
    ])
    const rec = { sku: "C", updated: Date.parse("2026-11-02T00:00:00Z"), status: "open" }
    const fields = {
      sku: (r: typeof rec) => r.sku,
      updated_at: (r: typeof rec) => r.updated,
      status: (r: typeof rec) => r.status
    }
    expect(ShopifySandboxQuery.matches(rec, q, fields)).toBe(true)
    expect(ShopifySandboxQuery.matches({ ...rec, status: "closed" }, q, fields)).toBe(false)
  })

  it("pages forwards and backwards with stable cursors, and refuses pages over 250", () => {
    const records = Array.from({ length: 7 }, (_, i) => ({ id: String(i + 1) }))
    const key = (r: { id: string }) => ShopifySandboxQuery.pad(r.id)
    const first = ShopifySandboxQuery.paginate(records, key, { first: 3 })
    expect(first.nodes.map((r) => r.id)).toEqual(["1", "2", "3"])
    expect(first.pageInfo.hasNextPage).toBe(true)
    const second = ShopifySandboxQuery.paginate(records, key, { first: 3, after: first.pageInfo.endCursor })
    expect(second.nodes.map((r) => r.id)).toEqual(["4", "5", "6"])
    // A cursor stays meaningful when the record it names is gone.
    const shrunk = records.filter((r) => r.id !== "6")
    expect(
      ShopifySandboxQuery.paginate(shrunk, key, { first: 3, after: second.pageInfo.endCursor }).nodes.map((r) => r.id)
    ).toEqual(["7"])
    const last = ShopifySandboxQuery.paginate(records, key, { last: 2, before: second.pageInfo.endCursor })
    expect(last.nodes.map((r) => r.id)).toEqual(["4", "5"])
    expect(ShopifySandboxQuery.paginate(records, key, { first: 2, reverse: true }).nodes.map((r) => r.id)).toEqual([
      "7",
      "6"
    ])
    expect(() => ShopifySandboxQuery.paginate(records, key, { first: 251 })).toThrow(/250/)
    expect(() => ShopifySandboxQuery.paginate(records, key, {})).toThrow(/first or last/)
  })
})
