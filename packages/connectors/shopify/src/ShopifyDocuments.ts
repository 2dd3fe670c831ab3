/**
 * ShopifyDocuments: every GraphQL document the connector sends, in one place. A test validates each
 * of them against Shopify's own Admin schema for the pinned version (2026-10), and the sandbox's
 * schema is generated from the fields they use, so a typo or a field Shopify removed fails in CI,
 * not in a seller's shop.
 *
 * Page sizes are chosen so that no document's requested cost comes near Shopify's single-query cap
 * of 1,000 points (a connection costs about 2 + `first` × the cost of one node).
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10
 * @since 0.1.0
 */

/** A named GraphQL operation. `operationName` is sent with it and keys the client's cost memory. */
export interface Document {
  readonly operationName: string
  readonly query: string
}

const doc = (operationName: string, query: string): Document => ({ operationName, query: query.trim() })

const pageInfo = "pageInfo { hasNextPage endCursor }"

const lineFields = `
fragment LineFields on LineItem {
  id
  sku
  name
  title
  quantity
  currentQuantity
  requiresShipping
  variant { id }
  originalUnitPriceSet { shopMoney { amount currencyCode } }
}`

const orderFields = `
fragment OrderFields on Order {
  id
  name
  createdAt
  updatedAt
  processedAt
  cancelledAt
  cancelReason
  closed
  closedAt
  test
  displayFinancialStatus
  displayFulfillmentStatus
  currencyCode
  shippingAddress @include(if: $withAddress) {
    name
    firstName
    lastName
    phone
    company
    address1
    address2
    city
    provinceCode
    zip
    countryCodeV2
  }
  lineItems(first: $lines) {
    nodes { ...LineFields }
    ${pageInfo}
  }
}
${lineFields}`

/** `catalog.pull`: variants with their SKU and inventory item, paged by id. */
export const CatalogVariants = doc(
  "CatalogVariants",
  `
query CatalogVariants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    nodes {
      id
      sku
      title
      displayName
      inventoryQuantity
      product { id title }
      inventoryItem { id tracked }
    }
    ${pageInfo}
  }
}`
)

const levelFields = `
nodes {
  location { id }
  quantities(names: ["available", "on_hand"]) { name quantity }
}
${pageInfo}`

/** `stock.pull`: inventory items with their levels per location. */
export const StockLevels = doc(
  "StockLevels",
  `
query StockLevels($first: Int!, $after: String, $query: String, $levels: Int!) {
  inventoryItems(first: $first, after: $after, query: $query) {
    nodes {
      id
      sku
      tracked
      inventoryLevels(first: $levels) { ${levelFields} }
    }
    ${pageInfo}
  }
}`
)

/** `stock.pull`: the remaining levels of an item stocked at more locations than one page holds. */
export const ItemLevels = doc(
  "ItemLevels",
  `
query ItemLevels($id: ID!, $first: Int!, $after: String) {
  inventoryItem(id: $id) {
    id
    sku
    inventoryLevels(first: $first, after: $after) { ${levelFields} }
  }
}`
)

/** `stock.push`: the `available` quantity of items at one location (the re-read after a stale write). */
export const StockAvailable = doc(
  "StockAvailable",
  `
query StockAvailable($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      sku
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available"]) { name quantity }
      }
    }
  }
}`
)

/**
 * `stock.push`: absolute set with compare-and-set (`changeFromQuantity` on every item) and the
 * idempotency key Shopify requires on inventory mutations since 2026-04.
 */
export const StockSet = doc(
  "StockSet",
  `
mutation StockSet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange item { id sku } location { id } }
    }
    userErrors { code field message }
  }
}`
)

/** `locations.pull` (and the default location of `stock.push`): active locations. */
export const Locations = doc(
  "Locations",
  `
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: false, sortKey: ID) {
    nodes {
      id
      name
      isActive
      fulfillsOnlineOrders
      shipsInventory
      address { countryCode }
    }
    ${pageInfo}
  }
}`
)

/** `stock.push`: the shop's active locations, to find the one to push to when an update names none. */
export const DefaultLocation = doc(
  "DefaultLocation",
  `
query DefaultLocation {
  locations(first: 2, includeInactive: false) {
    nodes { id }
  }
}`
)

/** `orders.pull`: orders changed in a window, oldest change first. */
export const OrdersPage = doc(
  "OrdersPage",
  `
query OrdersPage($first: Int!, $after: String, $query: String, $lines: Int!, $withAddress: Boolean!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...OrderFields }
    ${pageInfo}
  }
}
${orderFields}`
)

/** `orders.pull` `get`: one order. */
export const OrderGet = doc(
  "OrderGet",
  `
query OrderGet($id: ID!, $lines: Int!, $withAddress: Boolean!) {
  order(id: $id) { ...OrderFields }
}
${orderFields}`
)

/** `orders.pull`: the remaining lines of an order with more lines than one page holds. */
export const OrderLines = doc(
  "OrderLines",
  `
query OrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      nodes { ...LineFields }
      ${pageInfo}
    }
  }
}
${lineFields}`
)

const fulfillmentOrderFields = `
nodes {
  id
  status
  supportedActions { action }
  lineItems(first: 50) {
    nodes { id remainingQuantity totalQuantity lineItem { id sku } }
    ${pageInfo}
  }
}
${pageInfo}`

/** `fulfillment.push`: the order's fulfillments (for the replay check) and its fulfillment orders. */
export const FulfillmentState = doc(
  "FulfillmentState",
  `
query FulfillmentState($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    displayFulfillmentStatus
    fulfillments(first: 20) {
      id
      status
      trackingInfo(first: 5) { company number url }
    }
    fulfillmentOrders(first: 5) { ${fulfillmentOrderFields} }
  }
}`
)

/** `fulfillment.push`: further fulfillment orders of an order with many. */
export const FulfillmentOrdersPage = doc(
  "FulfillmentOrdersPage",
  `
query FulfillmentOrdersPage($id: ID!, $after: String) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5, after: $after) { ${fulfillmentOrderFields} }
  }
}`
)

/** `fulfillment.push`: further line items of one fulfillment order. */
export const FulfillmentOrderLines = doc(
  "FulfillmentOrderLines",
  `
query FulfillmentOrderLines($id: ID!, $after: String) {
  fulfillmentOrder(id: $id) {
    id
    lineItems(first: 100, after: $after) {
      nodes { id remainingQuantity totalQuantity lineItem { id sku } }
      ${pageInfo}
    }
  }
}`
)

/** `fulfillment.push`: creates a fulfillment with tracking for fulfillment orders of one location. */
export const FulfillmentCreate = doc(
  "FulfillmentCreate",
  `
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment {
      id
      status
      trackingInfo(first: 5) { company number url }
    }
    userErrors { field message }
  }
}`
)

/** Every document the connector sends. */
export const all: ReadonlyArray<Document> = [
  CatalogVariants,
  StockLevels,
  ItemLevels,
  StockAvailable,
  StockSet,
  DefaultLocation,
  Locations,
  OrdersPage,
  OrderGet,
  OrderLines,
  FulfillmentState,
  FulfillmentOrdersPage,
  FulfillmentOrderLines,
  FulfillmentCreate
]

/** The documents each capability sends (a test derives each capability's minimal scopes from them). */
export const byCapability: Readonly<Record<string, ReadonlyArray<Document>>> = {
  "catalog.pull": [CatalogVariants],
  "stock.push": [StockSet, StockAvailable, DefaultLocation],
  "stock.pull": [StockLevels, ItemLevels],
  "orders.pull": [OrdersPage, OrderGet, OrderLines],
  "fulfillment.push": [FulfillmentState, FulfillmentOrdersPage, FulfillmentOrderLines, FulfillmentCreate],
  "locations.pull": [Locations]
}
