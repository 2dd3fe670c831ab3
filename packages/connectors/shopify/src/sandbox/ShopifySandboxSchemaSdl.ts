/**
 * ShopifySandboxSchemaSdl: the sandbox's GraphQL schema — the part of Shopify's Admin API the
 * connector uses — for 2026-10 and, as the definitions that differ from it, for
 * 2026-01, 2026-04, 2026-07. Generated from Shopify's published schemas (@shopify/dev-mcp@1.16.0,
 * `dist/data/admin_<version>.json.gz`) by `scripts/sandbox-schema.ts`. Do not edit by hand:
 * change the connector's documents, then run `node scripts/sandbox-schema.ts`.
 *
 * The schema text below is derived from @shopify/dev-mcp@1.16.0, distributed under the ISC License
 * (see also this package's NOTICE):
 *
 * ISC License
 *
 * Copyright 2025-present, Shopify Inc.
 *
 * Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is
 * hereby granted, provided that the above copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE
 * INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE,
 * DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN
 * CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 *
 * @license ISC
 * @since 0.1.0
 */

/** The Admin API version `sdl` was generated from. */
export const apiVersion = "2026-10"

/** The sandbox schema in SDL, with `@requiredAccess` scopes from Shopify's schema. */
export const sdl = `schema {
  query: QueryRoot
  mutation: Mutation
}

"""The scopes Shopify documents for a type or field; any one of them grants access."""
directive @requiredAccess(anyOf: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION

directive @idempotent(key: String!) on FIELD

enum CountryCode {
  AC
  AD
  AE
  AF
  AG
  AI
  AL
  AM
  AN
  AO
  AR
  AT
  AU
  AW
  AX
  AZ
  BA
  BB
  BD
  BE
  BF
  BG
  BH
  BI
  BJ
  BL
  BM
  BN
  BO
  BQ
  BR
  BS
  BT
  BV
  BW
  BY
  BZ
  CA
  CC
  CD
  CF
  CG
  CH
  CI
  CK
  CL
  CM
  CN
  CO
  CR
  CU
  CV
  CW
  CX
  CY
  CZ
  DE
  DJ
  DK
  DM
  DO
  DZ
  EC
  EE
  EG
  EH
  ER
  ES
  ET
  FI
  FJ
  FK
  FO
  FR
  GA
  GB
  GD
  GE
  GF
  GG
  GH
  GI
  GL
  GM
  GN
  GP
  GQ
  GR
  GS
  GT
  GW
  GY
  HK
  HM
  HN
  HR
  HT
  HU
  ID
  IE
  IL
  IM
  IN
  IO
  IQ
  IR
  IS
  IT
  JE
  JM
  JO
  JP
  KE
  KG
  KH
  KI
  KM
  KN
  KP
  KR
  KW
  KY
  KZ
  LA
  LB
  LC
  LI
  LK
  LR
  LS
  LT
  LU
  LV
  LY
  MA
  MC
  MD
  ME
  MF
  MG
  MK
  ML
  MM
  MN
  MO
  MQ
  MR
  MS
  MT
  MU
  MV
  MW
  MX
  MY
  MZ
  NA
  NC
  NE
  NF
  NG
  NI
  NL
  NO
  NP
  NR
  NU
  NZ
  OM
  PA
  PE
  PF
  PG
  PH
  PK
  PL
  PM
  PN
  PS
  PT
  PY
  QA
  RE
  RO
  RS
  RU
  RW
  SA
  SB
  SC
  SD
  SE
  SG
  SH
  SI
  SJ
  SK
  SL
  SM
  SN
  SO
  SR
  SS
  ST
  SV
  SX
  SY
  SZ
  TA
  TC
  TD
  TF
  TG
  TH
  TJ
  TK
  TL
  TM
  TN
  TO
  TR
  TT
  TV
  TW
  TZ
  UA
  UG
  UM
  US
  UY
  UZ
  VA
  VC
  VE
  VG
  VN
  VU
  WF
  WS
  XK
  YE
  YT
  ZA
  ZM
  ZW
  ZZ
}

enum CurrencyCode {
  AED
  AFN
  ALL
  AMD
  ANG
  AOA
  ARS
  AUD
  AWG
  AZN
  BAM
  BBD
  BDT
  BGN
  BHD
  BIF
  BMD
  BND
  BOB
  BRL
  BSD
  BTN
  BWP
  BYN
  BYR
  BZD
  CAD
  CDF
  CHF
  CLP
  CNY
  COP
  CRC
  CVE
  CZK
  DJF
  DKK
  DOP
  DZD
  EGP
  ERN
  ETB
  EUR
  FJD
  FKP
  GBP
  GEL
  GHS
  GIP
  GMD
  GNF
  GTQ
  GYD
  HKD
  HNL
  HRK
  HTG
  HUF
  IDR
  ILS
  INR
  IQD
  IRR
  ISK
  JEP
  JMD
  JOD
  JPY
  KES
  KGS
  KHR
  KID
  KMF
  KRW
  KWD
  KYD
  KZT
  LAK
  LBP
  LKR
  LRD
  LSL
  LTL
  LVL
  LYD
  MAD
  MDL
  MGA
  MKD
  MMK
  MNT
  MOP
  MRU
  MUR
  MVR
  MWK
  MXN
  MYR
  MZN
  NAD
  NGN
  NIO
  NOK
  NPR
  NZD
  OMR
  PAB
  PEN
  PGK
  PHP
  PKR
  PLN
  PYG
  QAR
  RON
  RSD
  RUB
  RWF
  SAR
  SBD
  SCR
  SDG
  SEK
  SGD
  SHP
  SLL
  SOS
  SRD
  SSP
  STD
  STN
  SYP
  SZL
  THB
  TJS
  TMT
  TND
  TOP
  TRY
  TTD
  TWD
  TZS
  UAH
  UGX
  USD
  USDC
  UYU
  UZS
  VED
  VEF
  VES
  VND
  VUV
  WST
  XAF
  XCD
  XOF
  XPF
  XXX
  YER
  ZAR
  ZMW
}

scalar DateTime

scalar Decimal

type Fulfillment implements Node @requiredAccess(anyOf: ["read_orders", "read_marketplace_orders", "read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"]) {
  id: ID!
  status: FulfillmentStatus!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
}

type FulfillmentCreatePayload {
  fulfillment: Fulfillment
  userErrors: [UserError!]!
}

input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  notifyCustomer: Boolean = false
  originAddress: FulfillmentOriginAddressInput
  trackingInfo: FulfillmentTrackingInput
}

type FulfillmentOrder implements Node @requiredAccess(anyOf: ["read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"]) {
  id: ID!
  lineItems(after: String, before: String, first: Int, last: Int, reverse: Boolean = false): FulfillmentOrderLineItemConnection!
  status: FulfillmentOrderStatus!
  supportedActions: [FulfillmentOrderSupportedAction!]!
}

enum FulfillmentOrderAction {
  CANCEL_FULFILLMENT_ORDER
  CREATE_FULFILLMENT
  EXTERNAL
  HOLD
  MARK_AS_OPEN
  MERGE
  MOVE
  RELEASE_HOLD
  REPORT_PROGRESS
  REQUEST_CANCELLATION
  REQUEST_FULFILLMENT
  SPLIT
}

type FulfillmentOrderConnection {
  nodes: [FulfillmentOrder!]!
  pageInfo: PageInfo!
}

type FulfillmentOrderLineItem implements Node @requiredAccess(anyOf: ["read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders"]) {
  id: ID!
  lineItem: LineItem!
  remainingQuantity: Int!
  totalQuantity: Int!
}

type FulfillmentOrderLineItemConnection {
  nodes: [FulfillmentOrderLineItem!]!
  pageInfo: PageInfo!
}

input FulfillmentOrderLineItemInput {
  id: ID!
  quantity: Int!
}

input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID!
  fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}

enum FulfillmentOrderStatus {
  CANCELLED
  CLOSED
  INCOMPLETE
  IN_PROGRESS
  ON_HOLD
  OPEN
  SCHEDULED
}

type FulfillmentOrderSupportedAction @requiredAccess(anyOf: ["read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders"]) {
  action: FulfillmentOrderAction!
}

input FulfillmentOriginAddressInput {
  address1: String
  address2: String
  city: String
  countryCode: String!
  provinceCode: String
  zip: String
}

enum FulfillmentStatus {
  CANCELLED
  ERROR
  FAILURE
  OPEN
  PENDING
  SUCCESS
}

type FulfillmentTrackingInfo @requiredAccess(anyOf: ["read_orders", "read_marketplace_orders", "read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"]) {
  company: String
  number: String
  url: URL
}

input FulfillmentTrackingInput {
  company: String
  number: String
  numbers: [String!]
  url: URL
  urls: [URL!]
}

type InventoryAdjustmentGroup implements Node @requiredAccess(anyOf: ["read_inventory"]) {
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
  createdAt: DateTime!
  id: ID!
  reason: String!
  referenceDocumentUri: String
}

type InventoryChange @requiredAccess(anyOf: ["read_inventory"]) {
  delta: Int!
  item: InventoryItem
  location: Location
  name: String!
  quantityAfterChange: Int
}

type InventoryItem implements Node @requiredAccess(anyOf: ["read_inventory", "read_products"]) {
  id: ID!
  inventoryLevel(includeInactive: Boolean = false, locationId: ID!): InventoryLevel @requiredAccess(anyOf: ["read_inventory"])
  inventoryLevels(after: String, before: String, first: Int, includeInactive: Boolean = false, last: Int, query: String, reverse: Boolean = false): InventoryLevelConnection! @requiredAccess(anyOf: ["read_inventory"])
  sku: String
  tracked: Boolean!
}

type InventoryItemConnection {
  nodes: [InventoryItem!]!
  pageInfo: PageInfo!
}

type InventoryLevel implements Node @requiredAccess(anyOf: ["read_inventory"]) {
  id: ID!
  location: Location!
  quantities(names: [String!]!): [InventoryQuantity!]!
}

type InventoryLevelConnection {
  nodes: [InventoryLevel!]!
  pageInfo: PageInfo!
}

type InventoryQuantity implements Node @requiredAccess(anyOf: ["read_inventory"]) {
  id: ID!
  name: String!
  quantity: Int!
}

input InventoryQuantityInput {
  changeFromQuantity: Int
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
}

input InventorySetQuantitiesInput {
  name: String!
  quantities: [InventoryQuantityInput!]!
  reason: String!
  referenceDocumentUri: String
}

type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}

type InventorySetQuantitiesUserError {
  code: InventorySetQuantitiesUserErrorCode
  field: [String!]
  message: String!
}

enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  NON_MUTABLE_INVENTORY_ITEM
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}

type LineItem implements Node @requiredAccess(anyOf: ["read_orders", "read_marketplace_orders"]) {
  currentQuantity: Int!
  id: ID!
  name: String!
  originalUnitPriceSet: MoneyBag!
  quantity: Int!
  requiresShipping: Boolean!
  sku: String
  title: String!
  variant: ProductVariant
}

type LineItemConnection {
  nodes: [LineItem!]!
  pageInfo: PageInfo!
}

type Location implements Node @requiredAccess(anyOf: ["read_locations", "read_inventory", "read_markets_home"]) {
  address: LocationAddress! @requiredAccess(anyOf: ["read_locations"])
  fulfillsOnlineOrders: Boolean! @requiredAccess(anyOf: ["read_locations"])
  id: ID! @requiredAccess(anyOf: ["read_locations", "read_inventory", "read_markets_home"])
  isActive: Boolean! @requiredAccess(anyOf: ["read_locations"])
  name: String! @requiredAccess(anyOf: ["read_locations", "read_markets_home"])
  shipsInventory: Boolean! @requiredAccess(anyOf: ["read_locations"])
}

type LocationAddress {
  countryCode: String
}

type LocationConnection {
  nodes: [Location!]!
  pageInfo: PageInfo!
}

enum LocationSortKeys {
  ID
  NAME
  RELEVANCE
}

type MailingAddress implements Node {
  address1: String
  address2: String
  city: String
  company: String
  countryCodeV2: CountryCode
  firstName: String
  id: ID!
  lastName: String
  name: String
  phone: String
  provinceCode: String
  zip: String
}

type MoneyBag {
  shopMoney: MoneyV2!
}

type MoneyV2 {
  amount: Decimal!
  currencyCode: CurrencyCode!
}

type Mutation {
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload @requiredAccess(anyOf: ["write_assigned_fulfillment_orders", "write_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders"])
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload @requiredAccess(anyOf: ["write_inventory"])
}

interface Node {
  id: ID!
}

type Order implements Node @requiredAccess(anyOf: ["read_orders", "read_marketplace_orders", "read_quick_sale"]) {
  cancelReason: OrderCancelReason
  cancelledAt: DateTime
  closed: Boolean!
  closedAt: DateTime
  createdAt: DateTime!
  currencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  fulfillmentOrders(after: String, before: String, displayable: Boolean = false, first: Int, last: Int, query: String, reverse: Boolean = false): FulfillmentOrderConnection!
  fulfillments(first: Int, query: String): [Fulfillment!]!
  id: ID!
  lineItems(after: String, before: String, first: Int, last: Int, reverse: Boolean = false): LineItemConnection!
  name: String!
  processedAt: DateTime!
  shippingAddress: MailingAddress
  test: Boolean!
  updatedAt: DateTime!
}

enum OrderCancelReason {
  CUSTOMER
  DECLINED
  FRAUD
  INVENTORY
  OTHER
  STAFF
}

type OrderConnection {
  nodes: [Order!]!
  pageInfo: PageInfo!
}

enum OrderDisplayFinancialStatus {
  AUTHORIZED
  EXPIRED
  PAID
  PARTIALLY_PAID
  PARTIALLY_REFUNDED
  PENDING
  REFUNDED
  VOIDED
}

enum OrderDisplayFulfillmentStatus {
  FULFILLED
  FULFILLMENT_NOT_REQUIRED
  IN_PROGRESS
  ON_HOLD
  OPEN
  PARTIALLY_FULFILLED
  PENDING_FULFILLMENT
  REQUEST_DECLINED
  RESTOCKED
  SCHEDULED
  UNFULFILLED
}

enum OrderSortKeys {
  CREATED_AT
  CURRENT_TOTAL_PRICE
  CUSTOMER_NAME
  DESTINATION
  FINANCIAL_STATUS
  FULFILLMENT_STATUS
  ID
  ORDER_NUMBER
  PO_NUMBER
  PROCESSED_AT
  RELEVANCE
  TOTAL_ITEMS_QUANTITY
  TOTAL_PRICE
  UPDATED_AT
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
}

type Product implements Node @requiredAccess(anyOf: ["read_products"]) {
  id: ID!
  title: String!
}

type ProductVariant implements Node @requiredAccess(anyOf: ["read_products"]) {
  displayName: String!
  id: ID!
  inventoryItem: InventoryItem!
  inventoryQuantity: Int
  product: Product!
  sku: String
  title: String!
}

type ProductVariantConnection {
  nodes: [ProductVariant!]!
  pageInfo: PageInfo!
}

enum ProductVariantSortKeys {
  FULL_TITLE
  ID
  INVENTORY_LEVELS_AVAILABLE
  INVENTORY_MANAGEMENT
  INVENTORY_POLICY
  INVENTORY_QUANTITY
  NAME
  POPULAR
  POSITION
  RELEVANCE
  SKU
  TITLE
}

type QueryRoot {
  fulfillmentOrder(id: ID!): FulfillmentOrder
  inventoryItem(id: ID!): InventoryItem
  inventoryItems(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false): InventoryItemConnection!
  locations(after: String, before: String, first: Int, includeInactive: Boolean = false, includeLegacy: Boolean = false, last: Int, query: String, reverse: Boolean = false, sortKey: LocationSortKeys = NAME): LocationConnection!
  nodes(ids: [ID!]!): [Node]!
  order(id: ID!): Order
  orders(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false, savedSearchId: ID, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
  productVariants(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false, savedSearchId: ID, sortKey: ProductVariantSortKeys = ID): ProductVariantConnection!
}

scalar URL

type UserError {
  field: [String!]
  message: String!
}
`

/** How another version's schema differs from `sdl`: whole definitions to use instead, and definitions it lacks. */
export interface VersionDelta {
  readonly sdl: string
  readonly removed: ReadonlyArray<string>
}

/** The other versions the sandbox serves, as deltas from `sdl` (each generated from that version's schema). */
export const versions: Readonly<Record<string, VersionDelta>> = {
  "2026-01": {
    sdl: `enum FulfillmentOrderAction {
  CANCEL_FULFILLMENT_ORDER
  CREATE_FULFILLMENT
  EXTERNAL
  HOLD
  MARK_AS_OPEN
  MERGE
  MOVE
  RELEASE_HOLD
  REQUEST_CANCELLATION
  REQUEST_FULFILLMENT
  SPLIT
}

type InventoryItem implements Node @requiredAccess(anyOf: ["read_inventory", "read_products"]) {
  id: ID!
  inventoryLevel(locationId: ID!): InventoryLevel @requiredAccess(anyOf: ["read_inventory"])
  inventoryLevels(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false): InventoryLevelConnection! @requiredAccess(anyOf: ["read_inventory"])
  sku: String
  tracked: Boolean!
}

input InventoryQuantityInput {
  changeFromQuantity: Int
  compareQuantity: Int
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
}

input InventorySetQuantitiesInput {
  ignoreCompareQuantity: Boolean = false
  name: String!
  quantities: [InventoryQuantityInput!]!
  reason: String!
  referenceDocumentUri: String
}

enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION
  NON_MUTABLE_INVENTORY_ITEM
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}

enum OrderDisplayFulfillmentStatus {
  FULFILLED
  IN_PROGRESS
  ON_HOLD
  OPEN
  PARTIALLY_FULFILLED
  PENDING_FULFILLMENT
  REQUEST_DECLINED
  RESTOCKED
  SCHEDULED
  UNFULFILLED
}`,
    removed: []
  },
  "2026-04": {
    sdl: `enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION
  NON_MUTABLE_INVENTORY_ITEM
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}

enum OrderDisplayFulfillmentStatus {
  FULFILLED
  IN_PROGRESS
  ON_HOLD
  OPEN
  PARTIALLY_FULFILLED
  PENDING_FULFILLMENT
  REQUEST_DECLINED
  RESTOCKED
  SCHEDULED
  UNFULFILLED
}`,
    removed: []
  },
  "2026-07": {
    sdl: `enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION
  NON_MUTABLE_INVENTORY_ITEM
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}

enum OrderDisplayFulfillmentStatus {
  FULFILLED
  IN_PROGRESS
  ON_HOLD
  OPEN
  PARTIALLY_FULFILLED
  PENDING_FULFILLMENT
  REQUEST_DECLINED
  RESTOCKED
  SCHEDULED
  UNFULFILLED
}`,
    removed: []
  }
}
