/**
 * The query cost model: Shopify's documented example, actual costs from what came back, and every
 * document the connector sends staying under Shopify's 1,000-point cap at the page sizes it uses.
 */
import { describe, expect, it } from "@effect/vitest"
import { ShopifyCost, ShopifyDocuments, ShopifyOrders, ShopifyStock } from "../src/index.ts"

describe("ShopifyCost", () => {
  it("matches Shopify's documented example: products(first: 10) { edges { node { title } } } costs 12", () => {
    expect(ShopifyCost.requestedCost("{ products(first: 10) { edges { node { title } } } }")).toBe(12)
    expect(ShopifyCost.requestedCost("{ products(first: 10) { nodes { title } } }")).toBe(12)
  })

  it("charges a mutation 10 per mutation field and follows variables, fragments and @include", () => {
    expect(ShopifyCost.requestedCost(ShopifyDocuments.StockSet.query, { input: {}, key: "k" })).toBe(10)
    const withAddress = ShopifyCost.requestedCost(ShopifyDocuments.OrderGet.query, {
      id: "x",
      lines: 20,
      withAddress: true
    })
    const without = ShopifyCost.requestedCost(ShopifyDocuments.OrderGet.query, {
      id: "x",
      lines: 20,
      withAddress: false
    })
    expect(withAddress - without).toBe(1)
    expect(
      ShopifyCost.requestedCost(ShopifyDocuments.OrderGet.query, { id: "x", lines: 5, withAddress: false })
    ).toBeLessThan(without)
  })

  it("the actual cost counts what came back, never more than requested", () => {
    const query = "{ products(first: 10) { nodes { title } } }"
    expect(ShopifyCost.actualCost(query, {}, { products: { nodes: [{ title: "a" }, { title: "b" }] } })).toBe(4)
    expect(ShopifyCost.actualCost(query, {}, { products: { nodes: [] } })).toBe(2)
  })

  it("every document at the page sizes the connector uses stays under the 1,000-point cap", () => {
    const largest: ReadonlyArray<[ShopifyDocuments.Document, Record<string, unknown>]> = [
      [ShopifyDocuments.CatalogVariants, { first: 250 }],
      [ShopifyDocuments.StockLevels, { first: ShopifyStock.pullPage.items, levels: ShopifyStock.pullPage.levels }],
      [ShopifyDocuments.ItemLevels, { id: "x", first: ShopifyStock.pullPage.moreLevels }],
      [
        ShopifyDocuments.StockAvailable,
        { ids: Array.from({ length: 100 }, (_, i) => `gid://shopify/InventoryItem/${i}`), locationId: "l" }
      ],
      [ShopifyDocuments.StockSet, { input: {}, key: "k" }],
      [ShopifyDocuments.DefaultLocation, {}],
      [ShopifyDocuments.Locations, { first: 250 }],
      [
        ShopifyDocuments.OrdersPage,
        { first: ShopifyOrders.maxOrdersPerPage, lines: ShopifyOrders.linesPerPage.first, withAddress: true }
      ],
      [ShopifyDocuments.OrderGet, { id: "x", lines: ShopifyOrders.linesPerPage.first, withAddress: true }],
      [ShopifyDocuments.OrderLines, { id: "x", first: ShopifyOrders.linesPerPage.more }],
      [ShopifyDocuments.FulfillmentState, { id: "x" }],
      [ShopifyDocuments.FulfillmentOrdersPage, { id: "x" }],
      [ShopifyDocuments.FulfillmentOrderLines, { id: "x" }],
      [ShopifyDocuments.FulfillmentCreate, { fulfillment: {} }]
    ]
    expect(largest.map(([d]) => d.operationName).sort()).toEqual(
      ShopifyDocuments.all.map((d) => d.operationName).sort()
    )
    for (const [document, variables] of largest) {
      const cost = ShopifyCost.requestedCost(document.query, variables, document.operationName)
      expect({
        operation: document.operationName,
        withinCap: cost > 0 && cost <= ShopifyCost.singleQueryMaxCost,
        cost
      }).toMatchObject({
        operation: document.operationName,
        withinCap: true
      })
    }
  })
})
