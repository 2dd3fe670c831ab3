/**
 * ShopifySandboxGraphql: the sandbox's GraphQL Admin API endpoint
 * (`POST /admin/api/<version>/graphql.json`), executed with graphql-js against the sandbox schema.
 *
 * Validation. Every document is validated against the sandbox schema of the answering version,
 * which is generated from Shopify's published schema of that version and holds exactly the fields
 * the connector uses with all of their official arguments (`ShopifySandboxSchemaSdl`), so whatever
 * the sandbox accepts Shopify's schema accepts too. When the caller hands the sandbox Shopify's full
 * schema (`adminSchema`, the tests do), documents are validated against it as well. Invalid
 * documents get top-level `errors` and no `data`.
 *
 * Cost. The requested cost is computed before running (the documented cost model, shared with the
 * client) and refused over 1,000 points (`MAX_COST_EXCEEDED`); a leaky bucket per shop (restore
 * rate by plan, size 20 × restore rate unless configured) is charged the requested cost and refunded
 * the difference to the actual cost; a call the bucket cannot cover is refused with `THROTTLED`
 * (HTTP 200 by default, 429 when configured — reports disagree) and nothing runs. Every answer
 * carries `extensions.cost`.
 *
 * Versions. Each version the sandbox serves (2026-01 … 2026-10) has its own schema, generated from
 * that version's published schema, and its own run-time rules (`rulesFor`), as the Shopify
 * reference lists them for `inventorySetQuantities`:
 * - 2026-04+: `@idempotent(key:)` is required (`BAD_REQUEST`) and every quantity must carry
 *   `changeFromQuantity` (`INVALID_FIELD_ARGUMENTS`); `compareQuantity` and
 *   `ignoreCompareQuantity` are gone from the schema.
 * - 2026-01: both are optional. A quantity that carries `changeFromQuantity` (even `null`) is
 *   checked against it; one that does not is checked against `compareQuantity`
 *   (`COMPARE_QUANTITY_STALE`, or `COMPARE_QUANTITY_REQUIRED` when it is missing) unless the input
 *   says `ignoreCompareQuantity: true`.
 * - Up to 2026-07: an item can only be set where it is stocked (`ITEM_NOT_STOCKED_AT_LOCATION`);
 *   from 2026-10 any location can be set (the item is stocked there).
 *
 * On every version: a given `@idempotent` key must not be blank (`BAD_REQUEST`), compare-and-set
 * (`CHANGE_FROM_QUANTITY_STALE`, all-or-nothing), and the idempotency record of a call that
 * carries a key: same key and input → the original result without a second write; same key,
 * other input → `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`; still running →
 * `IDEMPOTENCY_CONCURRENT_REQUEST`; the original ended in user errors →
 * `IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED`.
 *
 * Access: every type and field carries Shopify's documented scopes (`@requiredAccess`); a call
 * without them gets `ACCESS_DENIED` on that field (a `write_*` scope grants its `read_*`).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { SandboxClock, SandboxServer } from "@tkbridge/connector-testkit"
import type {
  ConstDirectiveNode,
  DefinitionNode,
  DocumentNode,
  ExecutionResult,
  FieldNode,
  GraphQLFieldResolver,
  GraphQLSchema,
  OperationDefinitionNode
} from "graphql"
import {
  buildASTSchema,
  defaultFieldResolver,
  execute,
  GraphQLError,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  isSchema,
  Kind,
  parse,
  validate,
  visit
} from "graphql"
import { actualCost, requestedCost, singleQueryMaxCost } from "../ShopifyCost.ts"
import type { Fields, PageArgs } from "./ShopifySandboxQuery.ts"
import { matches, PagingError, pad, paginate, parse as parseSearch } from "./ShopifySandboxQuery.ts"
import { apiVersion as baseVersion, versions as deltas, sdl } from "./ShopifySandboxSchemaSdl.ts"
import type {
  FulfillmentOrderRecord,
  FulfillmentRecord,
  LevelRecord,
  LineRecord,
  LocationRecord,
  OrderRecord,
  ShopifySandboxState,
  VariantRecord
} from "./ShopifySandboxState.ts"
import { quantityNames } from "./ShopifySandboxState.ts"

/** Shopify plans and their restore rates (points per second). */
export const plans = { standard: 100, advanced: 200, plus: 1000, enterprise: 2000 } as const
/** A Shopify plan. */
export type Plan = keyof typeof plans

/** Reasons `inventorySetQuantities` accepts (Shopify documents a fixed list; this one is inferred). */
export const inventoryReasons: ReadonlyArray<string> = [
  "correction",
  "cycle_count_available",
  "damaged",
  "movement_created",
  "movement_updated",
  "movement_received",
  "movement_canceled",
  "other",
  "promotion",
  "quality_control",
  "received",
  "reservation_created",
  "reservation_deleted",
  "reservation_updated",
  "restock",
  "safety_stock",
  "shrinkage"
]

/** A sandbox schema and the scopes of its types and fields. */
export interface SchemaInfo {
  readonly schema: GraphQLSchema
  /** `Type` or `Type.field` → any-of scopes. */
  readonly access: ReadonlyMap<string, ReadonlyArray<string>>
}

/** Reads the `@requiredAccess` scopes of a schema built from the sandbox SDL. */
export const schemaInfo = (schema: GraphQLSchema): SchemaInfo => {
  const access = new Map<string, ReadonlyArray<string>>()
  const read = (node: { readonly directives?: ReadonlyArray<ConstDirectiveNode> | undefined } | undefined | null) => {
    const d = node?.directives?.find((x) => x.name.value === "requiredAccess")
    const arg = d?.arguments?.find((a) => a.name.value === "anyOf")
    if (arg?.value.kind !== Kind.LIST) return undefined
    return arg.value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []))
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue
    const own = read(type.astNode)
    if (own) access.set(type.name, own)
    for (const field of Object.values(type.getFields())) {
      const scopes = read(field.astNode)
      if (scopes) access.set(`${type.name}.${field.name}`, scopes)
    }
  }
  return { schema, access }
}

/** The versions the sandbox has a schema for, oldest first (`unstable` is served with the newest). */
export const schemaVersions: ReadonlyArray<string> = [...Object.keys(deltas), baseVersion].sort()

/** How a definition of the generated SDL is named in `VersionDelta`: `schema`, `@directive` or the type's name. */
const keyOf = (d: DefinitionNode): string => {
  if (d.kind === Kind.SCHEMA_DEFINITION) return "schema"
  if (d.kind === Kind.DIRECTIVE_DEFINITION) return `@${d.name.value}`
  if ("name" in d && d.name !== undefined) return d.name.value
  throw new Error(`unexpected ${d.kind} in the sandbox SDL`)
}

const built = new Map<string, SchemaInfo>()

/**
 * The sandbox schema of a version (built once, on first use) and the scopes of its types and
 * fields: the base SDL, with the version's own definitions in place of those that differ.
 */
export const sandboxSchema = (version: string = baseVersion): SchemaInfo => {
  const key = version === "unstable" ? baseVersion : version
  const known = built.get(key)
  if (known !== undefined) return known
  const base = parse(sdl)
  let document: DocumentNode = base
  if (key !== baseVersion) {
    const delta = deltas[key]
    if (delta === undefined) throw new Error(`the sandbox has no schema for API version ${version}`)
    const own = delta.sdl.trim() === "" ? [] : parse(delta.sdl).definitions
    const replaced = new Set([...own.map(keyOf), ...delta.removed])
    document = {
      kind: Kind.DOCUMENT,
      definitions: [...base.definitions.filter((d) => !replaced.has(keyOf(d))), ...own]
    }
  }
  const info = schemaInfo(buildASTSchema(document))
  built.set(key, info)
  return info
}

/**
 * What changes with the API version in the behaviour the sandbox reproduces (the Shopify
 * reference's version table: `inventorySetQuantities`' compare-and-set and idempotency rules, and
 * where an item can be set).
 */
export interface VersionRules {
  /** `@idempotent(key:)` is required on `inventorySetQuantities` (2026-04+; optional in 2026-01). */
  readonly idempotencyRequired: boolean
  /** Every quantity must carry `changeFromQuantity`, `null` included (2026-04+; optional in 2026-01). */
  readonly changeFromQuantityRequired: boolean
  /** `compareQuantity` / `ignoreCompareQuantity` exist and are checked when `changeFromQuantity` is absent (≤ 2026-01). */
  readonly compareQuantity: boolean
  /** An item can only be set at a location where it is stocked (≤ 2026-07); from 2026-10 any location can be set. */
  readonly itemNotStockedAtLocation: boolean
}

/** The run-time rules of a version (`unstable` follows the newest). */
export const rulesFor = (version: string): VersionRules => {
  const v = version === "unstable" ? "9999-99" : version
  return {
    idempotencyRequired: v >= "2026-04",
    changeFromQuantityRequired: v >= "2026-04",
    compareQuantity: v < "2026-04",
    itemNotStockedAtLocation: v < "2026-10"
  }
}

/** The cost bucket of one shop and app. */
export class Bucket {
  maximumAvailable: number
  restoreRate: number
  private available: number
  private at: number
  private readonly clock: SandboxClock.SandboxClock

  constructor(
    options: { readonly restoreRate: number; readonly maximumAvailable?: number | undefined },
    clock: SandboxClock.SandboxClock
  ) {
    this.clock = clock
    this.restoreRate = options.restoreRate
    this.maximumAvailable = options.maximumAvailable ?? options.restoreRate * 20
    this.available = this.maximumAvailable
    this.at = clock.now()
  }

  /** Points available now. */
  current(): number {
    const now = this.clock.now()
    this.available = Math.min(this.maximumAvailable, this.available + ((now - this.at) / 1000) * this.restoreRate)
    this.at = now
    return this.available
  }

  /** Takes `points` if the bucket holds them. */
  take(points: number): boolean {
    if (this.current() < points) return false
    this.available -= points
    return true
  }

  /** Gives back `points` (the difference between requested and actual cost). */
  refund(points: number): void {
    this.available = Math.min(this.maximumAvailable, this.current() + points)
  }

  /** Empties the bucket (a burst from another app of the same shop, in tests). */
  drain(points = Number.POSITIVE_INFINITY): void {
    this.available = Math.max(0, this.current() - points)
  }

  /** `throttleStatus` as Shopify reports it. */
  status(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.current()),
      restoreRate: this.restoreRate
    }
  }
}

interface IdempotencyRecord {
  readonly hash: string
  readonly at: number
  status: "running" | "succeeded" | "failed"
  result: unknown
}

/** GraphQL options of a sandbox. */
export interface GraphqlOptions {
  /**
   * Shopify's full Admin schema: documents are validated against it too. One schema is the base
   * version's (2026-10, also used for `unstable`); a record gives one per version.
   */
  readonly adminSchema?: GraphQLSchema | Readonly<Record<string, GraphQLSchema>> | undefined
  /** HTTP status of a throttled answer: 200 (default) or 429. */
  readonly throttleStatus?: 200 | 429 | undefined
  /** How long an idempotency record is kept (default 24 h; Shopify's window is undocumented). */
  readonly idempotencyRetentionMs?: number | undefined
}

interface Context {
  readonly state: ShopifySandboxState
  readonly scopes: ReadonlySet<string>
}

const gid = (type: string, id: string) => `gid://shopify/${type}/${id}`

const parseGid = (value: unknown, type?: string): { readonly type: string; readonly id: string } => {
  const m = typeof value === "string" ? /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(\?.*)?$/.exec(value) : null
  if (m === null || (type !== undefined && m[1] !== type)) {
    throw new GraphQLError(`Invalid global id '${String(value)}'`, { extensions: { code: "INVALID_GLOBAL_ID" } })
  }
  return { type: m[1]!, id: m[2]! }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

const paged = <A, B>(records: ReadonlyArray<A>, key: (a: A) => string, args: PageArgs, view: (a: A) => B) => {
  try {
    const page = paginate(records, key, args)
    return {
      nodes: page.nodes.map(view),
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: view(e.node) })),
      pageInfo: page.pageInfo
    }
  } catch (error) {
    if (error instanceof PagingError) throw new GraphQLError(error.message, { extensions: { code: "BAD_REQUEST" } })
    throw error
  }
}

const withImplied = (scopes: ReadonlyArray<string>): ReadonlySet<string> => {
  const out = new Set(scopes)
  for (const s of scopes) if (s.startsWith("write_")) out.add(`read_${s.slice("write_".length)}`)
  return out
}

/** The GraphQL endpoint of one sandbox shop. */
export class ShopifySandboxGraphql {
  readonly bucket: Bucket
  private readonly idempotency = new Map<string, IdempotencyRecord>()
  private readonly state: ShopifySandboxState
  private readonly options: GraphqlOptions
  private readonly clock: SandboxClock.SandboxClock
  /** Holds `inventorySetQuantities` this long (sandbox ms) before it commits, to expose in-flight keys. */
  inventoryWriteDelayMs = 0

  constructor(state: ShopifySandboxState, bucket: Bucket, options: GraphqlOptions, clock: SandboxClock.SandboxClock) {
    this.state = state
    this.bucket = bucket
    this.options = options
    this.clock = clock
  }

  /** Shopify's full schema for a version, when the caller gave one. */
  private adminSchemaOf(version: string): GraphQLSchema | undefined {
    const given = this.options.adminSchema
    if (given === undefined) return undefined
    if (isSchema(given)) return version === baseVersion || version === "unstable" ? given : undefined
    return given[version]
  }

  /** Answers one GraphQL request, for API `version`, made with a valid token holding `scopes`. */
  async handle(
    request: SandboxServer.SandboxRequest,
    scopes: ReadonlyArray<string>,
    version: string = baseVersion
  ): Promise<SandboxServer.SandboxResponse> {
    const json = (status: number, body: unknown): SandboxServer.SandboxResponse => ({
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(body)
    })
    let body: { query?: unknown; variables?: unknown; operationName?: unknown }
    try {
      body = JSON.parse(request.text) as typeof body
    } catch {
      return json(400, { errors: { query: "Required parameter missing or invalid" } })
    }
    if (typeof body !== "object" || body === null || typeof body.query !== "string") {
      return json(400, { errors: { query: "Required parameter missing or invalid" } })
    }
    const variables =
      body.variables !== null && typeof body.variables === "object" && !Array.isArray(body.variables)
        ? (body.variables as Record<string, unknown>)
        : {}
    const operationName = typeof body.operationName === "string" ? body.operationName : undefined
    const cost = (requested: number, actual: number | null) => ({
      cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: this.bucket.status() }
    })

    let document: DocumentNode
    try {
      document = parse(body.query)
    } catch (error) {
      const e = error as GraphQLError
      return json(200, { errors: [{ message: e.message, locations: e.locations }], extensions: cost(0, 0) })
    }
    const { schema, access } = sandboxSchema(version)
    const rules = rulesFor(version)
    const admin = this.adminSchemaOf(version)
    const invalid = [...validate(schema, document), ...(admin ? validate(admin, document) : [])]
    if (invalid.length > 0) {
      // The same mistake reported by both schemas is one error.
      const messages = [...new Set(invalid.map((e) => e.message))]
      const errors = messages.map((message) => {
        const e = invalid.find((x) => x.message === message)!
        return { message, locations: e.locations, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }
      })
      return json(200, { errors, extensions: cost(0, 0) })
    }
    const operation = getOperationAST(document, operationName)
    if (operation === null || operation === undefined) {
      return json(200, {
        errors: [{ message: "An operation name is required when the document holds several operations" }]
      })
    }
    const requested = requestedCost(document, variables, operation.name?.value)
    if (requested > singleQueryMaxCost) {
      return json(200, {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${singleQueryMaxCost}).`,
            extensions: {
              code: "MAX_COST_EXCEEDED",
              cost: requested,
              maxCost: singleQueryMaxCost,
              documentation: "https://shopify.dev/api/usage/rate-limits"
            }
          }
        ],
        extensions: cost(requested, null)
      })
    }
    if (!this.bucket.take(requested)) {
      return json(this.options.throttleStatus ?? 200, {
        errors: [
          {
            message: "Throttled",
            extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" }
          }
        ],
        extensions: cost(requested, null)
      })
    }
    const rule = this.runtimeRules(schema, document, operation, variables, rules)
    if (rule !== undefined) {
      this.bucket.refund(requested)
      return json(200, { errors: [rule], extensions: cost(requested, 0) })
    }
    const context: Context = { state: this.state, scopes: withImplied(scopes) }
    const result = (await execute({
      schema,
      document,
      rootValue: operation.operation === "mutation" ? this.mutationRoot(rules) : this.queryRoot(),
      contextValue: context,
      variableValues: variables,
      operationName: operation.name?.value,
      fieldResolver: this.resolver(access)
    })) as ExecutionResult
    const actual = Math.min(requested, actualCost(document, variables, result.data ?? null, operation.name?.value))
    this.bucket.refund(requested - actual)
    const out: Record<string, unknown> = {}
    if (result.errors !== undefined && result.errors.length > 0) out.errors = result.errors.map((e) => e.toJSON())
    out.data = result.data ?? null
    out.extensions = cost(requested, actual)
    return json(200, out)
  }

  /** Checks Shopify's run-time rules that the schema cannot express; returns the error, if any. */
  private runtimeRules(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    rules: VersionRules
  ): object | undefined {
    const idempotent = schema.getDirective("idempotent")!
    const fields: Array<FieldNode> = []
    visit(document, {
      Field(node) {
        fields.push(node)
      }
    })
    const mutationType = schema.getMutationType()!
    const badRequest = (message: string) => ({ message, extensions: { code: "BAD_REQUEST" } })
    for (const node of fields) {
      const usesKey = node.directives?.some((d) => d.name.value === "idempotent") ?? false
      const isRootMutation = operation.operation === "mutation" && operation.selectionSet.selections.includes(node)
      if (usesKey && !(isRootMutation && node.name.value === "inventorySetQuantities")) {
        return badRequest(`The @idempotent directive is not supported on the ${node.name.value} field.`)
      }
    }
    if (operation.operation !== "mutation") return undefined
    let coerced: Record<string, unknown>
    try {
      const values = getVariableValues(schema, operation.variableDefinitions ?? [], variables)
      if (values.errors !== undefined) return undefined // execute reports these itself
      coerced = values.coerced
    } catch {
      return undefined
    }
    for (const selection of operation.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || selection.name.value !== "inventorySetQuantities") continue
      const key = getDirectiveValues(idempotent, selection, coerced)?.key
      if (key === undefined && rules.idempotencyRequired)
        return badRequest("The @idempotent directive is required for this mutation but was not provided.")
      if (key !== undefined && (typeof key !== "string" || key.trim() === ""))
        return badRequest("The @idempotent directive key must not be blank.")
      const field = mutationType.getFields().inventorySetQuantities!
      let args: Record<string, unknown>
      try {
        args = getArgumentValues(field, selection, coerced)
      } catch {
        return undefined
      }
      const quantities = ((args.input as { quantities?: unknown } | undefined)?.quantities ?? []) as ReadonlyArray<
        Record<string, unknown>
      >
      if (quantities.length > 250) {
        return {
          message: `The input array size of ${quantities.length} is greater than the maximum allowed of 250.`,
          extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" }
        }
      }
      if (rules.changeFromQuantityRequired && quantities.some((q) => !("changeFromQuantity" in q))) {
        return {
          message: "InventoryQuantityInput must include the following argument: changeFromQuantity.",
          extensions: { code: "INVALID_FIELD_ARGUMENTS" }
        }
      }
    }
    return undefined
  }

  private resolver(access: SchemaInfo["access"]): GraphQLFieldResolver<unknown, Context> {
    return (source, args, context, info) => {
      const check = (key: string, label: string) => {
        const anyOf = access.get(key)
        if (anyOf === undefined || anyOf.some((s) => context.scopes.has(s))) return
        const required = anyOf.map((s) => `\`${s}\` access scope`).join(" or ")
        throw new GraphQLError(`Access denied for ${label} field. Required access: ${required}.`, {
          extensions: {
            code: "ACCESS_DENIED",
            documentation: "https://shopify.dev/api/usage/access-scopes",
            requiredAccess: `${required}.`
          }
        })
      }
      check(`${info.parentType.name}.${info.fieldName}`, info.fieldName)
      const returned = getNamedType(info.returnType)
      if (isObjectType(returned) || isInterfaceType(returned)) check(returned.name, info.fieldName)
      return defaultFieldResolver(source, args, context, info)
    }
  }

  // -------------------------------------------------------------------------------------------
  // Views: records shaped as GraphQL objects (fields with arguments are functions).

  private variantView = (v: VariantRecord) => {
    const s = this.state
    const product = s.products.get(v.productId)!
    return {
      __typename: "ProductVariant",
      id: gid("ProductVariant", v.id),
      legacyResourceId: v.id,
      sku: v.sku,
      title: v.title,
      displayName: `${product.title} - ${v.title}`,
      inventoryQuantity: v.tracked ? s.levelsOf(v.inventoryItemId).reduce((n, l) => n + l.available, 0) : null,
      product: () => ({ __typename: "Product", id: gid("Product", product.id), title: product.title }),
      inventoryItem: () => this.itemView(v)
    }
  }

  private itemView = (v: VariantRecord) => ({
    __typename: "InventoryItem",
    id: gid("InventoryItem", v.inventoryItemId),
    legacyResourceId: v.inventoryItemId,
    sku: v.sku,
    tracked: v.tracked,
    inventoryLevel: (args: { locationId: string; includeInactive?: boolean }) => {
      const location = parseGid(args.locationId, "Location")
      const level = this.state.findLevel(v.inventoryItemId, location.id)
      const l = this.state.locations.get(location.id)
      if (level === undefined || l === undefined || (!l.active && args.includeInactive !== true)) return null
      return this.levelView(level)
    },
    inventoryLevels: (args: PageArgs & { includeInactive?: boolean }) =>
      paged(
        this.state
          .levelsOf(v.inventoryItemId)
          .filter((l) => args.includeInactive === true || this.state.locations.get(l.locationId)?.active === true),
        (l) => pad(l.id),
        args,
        this.levelView
      )
  })

  private levelView = (level: LevelRecord) => ({
    __typename: "InventoryLevel",
    id: `gid://shopify/InventoryLevel/${level.id}?inventory_item_id=${level.itemId}`,
    location: () => this.locationView(this.state.locations.get(level.locationId)!),
    quantities: (args: { names: ReadonlyArray<string> }) =>
      args.names.map((name) => {
        if (!(quantityNames as ReadonlyArray<string>).includes(name)) {
          throw new GraphQLError(`Invalid quantity name: ${name}`, { extensions: { code: "BAD_REQUEST" } })
        }
        return {
          __typename: "InventoryQuantity",
          id: `gid://shopify/InventoryQuantity/${level.id}?name=${name}`,
          name,
          quantity: this.state.quantity(level, name),
          updatedAt: iso(level.updatedAt)
        }
      })
  })

  private locationView = (l: LocationRecord) => ({
    __typename: "Location",
    id: gid("Location", l.id),
    legacyResourceId: l.id,
    name: l.name,
    isActive: l.active,
    fulfillsOnlineOrders: l.fulfillsOnlineOrders,
    shipsInventory: l.shipsInventory,
    address: { countryCode: l.country }
  })

  private lineView = (order: OrderRecord, l: LineRecord) => ({
    __typename: "LineItem",
    id: gid("LineItem", l.id),
    sku: l.sku,
    title: l.title,
    name: l.variantTitle ? `${l.title} - ${l.variantTitle}` : l.title,
    quantity: l.quantity,
    currentQuantity: l.quantity - l.refunded,
    requiresShipping: l.requiresShipping,
    variant: () => {
      const v = l.variantId === null ? undefined : this.state.variants.get(l.variantId)
      return v === undefined ? null : this.variantView(v)
    },
    originalUnitPriceSet: { shopMoney: { amount: l.price, currencyCode: order.currency } }
  })

  private fulfillmentOrderView = (fo: FulfillmentOrderRecord) => {
    const order = this.state.orders.get(fo.orderId)!
    const actions =
      fo.status === "OPEN"
        ? ["CREATE_FULFILLMENT", "HOLD", "MOVE", "SPLIT"]
        : fo.status === "IN_PROGRESS"
          ? ["CREATE_FULFILLMENT", "HOLD", "SPLIT"]
          : fo.status === "ON_HOLD"
            ? ["RELEASE_HOLD"]
            : []
    return {
      __typename: "FulfillmentOrder",
      id: gid("FulfillmentOrder", fo.id),
      status: fo.status,
      supportedActions: actions.map((action) => ({ action })),
      assignedLocation: { location: () => this.locationView(this.state.locations.get(fo.locationId)!) },
      lineItems: (args: PageArgs) =>
        paged(
          fo.lines,
          (l) => pad(l.id),
          args,
          (l) => ({
            __typename: "FulfillmentOrderLineItem",
            id: gid("FulfillmentOrderLineItem", l.id),
            remainingQuantity: l.remainingQuantity,
            totalQuantity: l.totalQuantity,
            lineItem: () => this.lineView(order, order.lines.find((x) => x.id === l.lineItemId)!)
          })
        )
    }
  }

  private fulfillmentView = (f: FulfillmentRecord) => ({
    __typename: "Fulfillment",
    id: gid("Fulfillment", f.id),
    status: f.status,
    trackingInfo: (args: { first?: number | null }) =>
      f.tracking
        .slice(0, args.first ?? f.tracking.length)
        .map((t) => ({ company: t.company, number: t.number, url: t.url }))
  })

  private orderView = (o: OrderRecord) => {
    const a = o.shippingAddress
    return {
      __typename: "Order",
      id: gid("Order", o.id),
      legacyResourceId: o.id,
      name: o.name,
      createdAt: iso(o.createdAt),
      updatedAt: iso(o.updatedAt),
      processedAt: iso(o.processedAt),
      cancelledAt: o.cancelledAt === null ? null : iso(o.cancelledAt),
      cancelReason: o.cancelReason,
      closed: o.closedAt !== null,
      closedAt: o.closedAt === null ? null : iso(o.closedAt),
      test: o.test,
      displayFinancialStatus: o.financialStatus,
      displayFulfillmentStatus: this.state.fulfillmentStatus(o),
      currencyCode: o.currency,
      shippingAddress:
        a === null
          ? null
          : {
              __typename: "MailingAddress",
              id: `gid://shopify/MailingAddress/${o.id}?model_name=Address`,
              name: [a.firstName, a.lastName].filter(Boolean).join(" ") || null,
              firstName: a.firstName ?? null,
              lastName: a.lastName ?? null,
              phone: a.phone ?? null,
              company: a.company ?? null,
              address1: a.address1,
              address2: a.address2 ?? null,
              city: a.city,
              provinceCode: a.provinceCode ?? null,
              zip: a.zip ?? null,
              countryCodeV2: a.countryCode
            },
      lineItems: (args: PageArgs) =>
        paged(
          o.lines,
          (l) => pad(l.id),
          args,
          (l) => this.lineView(o, l)
        ),
      fulfillmentOrders: (args: PageArgs) =>
        paged(
          o.fulfillmentOrders.map((id) => this.state.fulfillmentOrders.get(id)!),
          (fo) => pad(fo.id),
          args,
          this.fulfillmentOrderView
        ),
      fulfillments: (args: { first?: number | null }) =>
        o.fulfillments
          .map((id) => this.state.fulfillments.get(id)!)
          .slice(0, args.first ?? o.fulfillments.length)
          .map(this.fulfillmentView)
    }
  }

  private node = (id: string) => {
    const s = this.state
    let parsed: { type: string; id: string }
    try {
      parsed = parseGid(id)
    } catch {
      return null
    }
    switch (parsed.type) {
      case "InventoryItem": {
        const v = s.variantOfItem(parsed.id)
        return v === undefined ? null : this.itemView(v)
      }
      case "ProductVariant": {
        const v = s.variants.get(parsed.id)
        return v === undefined ? null : this.variantView(v)
      }
      case "Location": {
        const l = s.locations.get(parsed.id)
        return l === undefined ? null : this.locationView(l)
      }
      case "Order": {
        const o = s.orders.get(parsed.id)
        return o === undefined ? null : this.orderView(o)
      }
      case "FulfillmentOrder": {
        const fo = s.fulfillmentOrders.get(parsed.id)
        return fo === undefined ? null : this.fulfillmentOrderView(fo)
      }
      default:
        return null
    }
  }

  private queryRoot() {
    const s = this.state
    const variantFields: Fields<VariantRecord> = {
      sku: (v) => v.sku,
      id: (v) => v.id,
      product_id: (v) => v.productId
    }
    const orderFields: Fields<OrderRecord> = {
      id: (o) => o.id,
      name: (o) => o.name,
      updated_at: (o) => o.updatedAt,
      created_at: (o) => o.createdAt,
      processed_at: (o) => o.processedAt,
      financial_status: (o) => o.financialStatus.toLowerCase(),
      status: (o) =>
        o.cancelledAt !== null ? ["cancelled", "closed"] : o.closedAt !== null ? ["closed"] : ["open", "not_closed"],
      sku: (o) => o.lines.flatMap((l) => (l.sku === null ? [] : [l.sku])),
      test: (o) => String(o.test)
    }
    return {
      productVariants: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
        const q = parseSearch(args.query)
        const list = [...s.variants.values()].filter((v) => matches(v, q, variantFields))
        const key =
          args.sortKey === "SKU"
            ? (v: VariantRecord) => `${v.sku ?? ""}\u0000${pad(v.id)}`
            : (v: VariantRecord) => pad(v.id)
        return paged(list, key, args, this.variantView)
      },
      inventoryItems: (args: PageArgs & { query?: string | null }) => {
        const q = parseSearch(args.query)
        const list = [...s.variants.values()].filter((v) =>
          matches(v, q, { sku: (x) => x.sku, id: (x) => x.inventoryItemId })
        )
        return paged(list, (v) => pad(v.inventoryItemId), args, this.itemView)
      },
      inventoryItem: (args: { id: string }) => {
        const v = s.variantOfItem(parseGid(args.id, "InventoryItem").id)
        return v === undefined ? null : this.itemView(v)
      },
      locations: (args: PageArgs & { includeInactive?: boolean; query?: string | null; sortKey?: string }) => {
        const q = parseSearch(args.query)
        const list = [...s.locations.values()].filter(
          (l) => (args.includeInactive === true || l.active) && matches(l, q, { name: (x) => x.name, id: (x) => x.id })
        )
        const key =
          args.sortKey === "ID"
            ? (l: LocationRecord) => pad(l.id)
            : (l: LocationRecord) => `${l.name}\u0000${pad(l.id)}`
        return paged(list, key, args, this.locationView)
      },
      nodes: (args: { ids: ReadonlyArray<string> }) => {
        if (args.ids.length > 250) {
          throw new GraphQLError(
            `The input array size of ${args.ids.length} is greater than the maximum allowed of 250.`,
            {
              extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" }
            }
          )
        }
        return args.ids.map(this.node)
      },
      orders: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
        const q = parseSearch(args.query)
        const list = [...s.orders.values()].filter((o) => matches(o, q, orderFields))
        const key = (o: OrderRecord) => {
          switch (args.sortKey ?? "PROCESSED_AT") {
            case "UPDATED_AT":
              return `${pad(o.updatedAt)}:${pad(o.id)}`
            case "CREATED_AT":
              return `${pad(o.createdAt)}:${pad(o.id)}`
            case "ORDER_NUMBER":
              return `${pad(o.number)}:${pad(o.id)}`
            case "ID":
              return pad(o.id)
            default:
              return `${pad(o.processedAt)}:${pad(o.id)}`
          }
        }
        return paged(list, key, args, this.orderView)
      },
      order: (args: { id: string }) => {
        const o = s.orders.get(parseGid(args.id, "Order").id)
        return o === undefined ? null : this.orderView(o)
      },
      fulfillmentOrder: (args: { id: string }) => {
        const fo = s.fulfillmentOrders.get(parseGid(args.id, "FulfillmentOrder").id)
        return fo === undefined ? null : this.fulfillmentOrderView(fo)
      }
    }
  }

  private mutationRoot(rules: VersionRules) {
    return {
      inventorySetQuantities: async (
        args: { input: Record<string, unknown> },
        _context: Context,
        info: { fieldNodes: ReadonlyArray<FieldNode>; variableValues: Record<string, unknown>; schema: GraphQLSchema }
      ) => {
        const given = getDirectiveValues(
          info.schema.getDirective("idempotent")!,
          info.fieldNodes[0]!,
          info.variableValues
        )?.key
        // Without a key (optional before 2026-04) there is no idempotency record: the call just runs.
        if (given === undefined) return this.setQuantities(args.input, rules)
        const key = String(given)
        const hash = createHash("sha256").update(stableJson(args.input)).digest("hex")
        const now = this.clock.now()
        const retention = this.options.idempotencyRetentionMs ?? 24 * 3600 * 1000
        for (const [k, r] of this.idempotency) if (now - r.at > retention) this.idempotency.delete(k)
        const recordKey = `inventorySetQuantities:${key}`
        const record = this.idempotency.get(recordKey)
        const userError = (code: string, message: string) => ({
          inventoryAdjustmentGroup: null,
          userErrors: [{ code, field: null, message }]
        })
        if (record !== undefined) {
          if (record.hash !== hash) {
            return userError(
              "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
              "The idempotency key was already used with different parameters."
            )
          }
          if (record.status === "running") {
            return userError(
              "IDEMPOTENCY_CONCURRENT_REQUEST",
              "A request with this idempotency key is still being processed."
            )
          }
          if (record.status === "failed") {
            return userError(
              "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
              "The previous attempt with this idempotency key failed; use a new key."
            )
          }
          return record.result
        }
        const fresh: IdempotencyRecord = { hash, at: now, status: "running", result: undefined }
        this.idempotency.set(recordKey, fresh)
        if (this.inventoryWriteDelayMs > 0) await this.clock.sleep(this.inventoryWriteDelayMs)
        const result = this.setQuantities(args.input, rules)
        fresh.status = result.userErrors.length > 0 ? "failed" : "succeeded"
        fresh.result = result
        return result
      },
      fulfillmentCreate: (args: { fulfillment: Record<string, unknown>; message?: string | null }) => {
        const input = args.fulfillment as {
          lineItemsByFulfillmentOrder: ReadonlyArray<{
            fulfillmentOrderId: string
            fulfillmentOrderLineItems?: ReadonlyArray<{ id: string; quantity: number }> | null
          }>
          trackingInfo?: {
            company?: string | null
            number?: string | null
            numbers?: ReadonlyArray<string> | null
            url?: string | null
            urls?: ReadonlyArray<string> | null
          } | null
        }
        const fail = (message: string, field: ReadonlyArray<string>) => ({
          fulfillment: null,
          userErrors: [{ field, message }]
        })
        const ids: Array<string> = []
        const lines = new Map<string, ReadonlyArray<{ id: string; quantity: number }>>()
        for (const [i, group] of input.lineItemsByFulfillmentOrder.entries()) {
          let foId: string
          try {
            foId = parseGid(group.fulfillmentOrderId, "FulfillmentOrder").id
          } catch {
            return fail("Fulfillment order does not exist.", [
              "fulfillment",
              "lineItemsByFulfillmentOrder",
              String(i),
              "fulfillmentOrderId"
            ])
          }
          ids.push(foId)
          if (group.fulfillmentOrderLineItems != null) {
            const wanted: Array<{ id: string; quantity: number }> = []
            for (const [j, l] of group.fulfillmentOrderLineItems.entries()) {
              try {
                wanted.push({ id: parseGid(l.id, "FulfillmentOrderLineItem").id, quantity: l.quantity })
              } catch {
                return fail("Fulfillment order line item does not exist.", [
                  "fulfillment",
                  "lineItemsByFulfillmentOrder",
                  String(i),
                  "fulfillmentOrderLineItems",
                  String(j)
                ])
              }
            }
            lines.set(foId, wanted)
          }
        }
        const t = input.trackingInfo ?? undefined
        const numbers = [...(t?.number ? [t.number] : []), ...(t?.numbers ?? [])]
        const urls = [...(t?.url ? [t.url] : []), ...(t?.urls ?? [])]
        const tracking =
          numbers.length === 0 && t?.company
            ? [{ company: t.company, number: null, url: urls[0] ?? null }]
            : numbers.map((number, i) => ({ company: t?.company ?? null, number, url: urls[i] ?? null }))
        const outcome = this.state.fulfill({ fulfillmentOrderIds: ids, lines, tracking })
        if (!outcome.ok) return fail(outcome.message, outcome.field)
        return { fulfillment: this.fulfillmentView(outcome.fulfillment), userErrors: [] }
      }
    }
  }

  private setQuantities(input: Record<string, unknown>, rules: VersionRules) {
    const s = this.state
    const name = String(input.name)
    const reason = String(input.reason)
    const reference = input.referenceDocumentUri as string | null | undefined
    const quantities = input.quantities as ReadonlyArray<{
      inventoryItemId: string
      locationId: string
      quantity: number
      changeFromQuantity?: number | null
      compareQuantity?: number | null
    }>
    const ignoreCompare = input.ignoreCompareQuantity === true
    const errors: Array<{ code: string; field: ReadonlyArray<string>; message: string }> = []
    const err = (code: string, field: ReadonlyArray<string>, message: string) => errors.push({ code, field, message })
    if (name !== "available" && name !== "on_hand") {
      err("INVALID_NAME", ["input", "name"], `The quantity name must be available or on_hand, not ${name}.`)
    }
    if (!inventoryReasons.includes(reason))
      err("INVALID_REASON", ["input", "reason"], `The reason ${reason} is not valid.`)
    if (reference != null && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(reference)) {
      err(
        "INVALID_REFERENCE_DOCUMENT",
        ["input", "referenceDocumentUri"],
        "The reference document URI is not a valid URI."
      )
    }
    const seen = new Set<string>()
    const targets: Array<{ level: LevelRecord | undefined; itemId: string; locationId: string; quantity: number }> = []
    for (const [i, q] of quantities.entries()) {
      const field = (f: string) => ["input", "quantities", String(i), f]
      let itemId: string | undefined
      let locationId: string | undefined
      try {
        itemId = parseGid(q.inventoryItemId, "InventoryItem").id
      } catch {
        itemId = undefined
      }
      try {
        locationId = parseGid(q.locationId, "Location").id
      } catch {
        locationId = undefined
      }
      if (itemId === undefined || s.variantOfItem(itemId) === undefined) {
        err("INVALID_INVENTORY_ITEM", field("inventoryItemId"), "The specified inventory item could not be found.")
        continue
      }
      if (locationId === undefined || s.locations.get(locationId)?.active !== true) {
        err("INVALID_LOCATION", field("locationId"), "The specified location could not be found.")
        continue
      }
      const pair = `${itemId}@${locationId}`
      if (seen.has(pair)) {
        err(
          "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
          field("inventoryItemId"),
          "The combination of inventoryItemId and locationId must be unique."
        )
        continue
      }
      seen.add(pair)
      if (q.quantity < 0) err("INVALID_QUANTITY_NEGATIVE", field("quantity"), "The quantity can't be negative.")
      else if (q.quantity > 1_000_000_000)
        err("INVALID_QUANTITY_TOO_HIGH", field("quantity"), "The quantity can't be higher than 1,000,000,000.")
      const level = s.findLevel(itemId, locationId)
      if (level === undefined && rules.itemNotStockedAtLocation) {
        err(
          "ITEM_NOT_STOCKED_AT_LOCATION",
          field("locationId"),
          "The specified inventory item is not stocked at the location."
        )
        continue
      }
      const current = level === undefined ? 0 : s.quantity(level, name)
      if ("changeFromQuantity" in q) {
        // Present, even as null, it decides (and in 2026-01 overrides compareQuantity).
        if (q.changeFromQuantity !== null && q.changeFromQuantity !== undefined && q.changeFromQuantity !== current) {
          err(
            "CHANGE_FROM_QUANTITY_STALE",
            field("changeFromQuantity"),
            `The ${name} quantity is ${current}, not the changeFromQuantity ${q.changeFromQuantity}: it changed since it was read.`
          )
        }
      } else if (rules.compareQuantity && !ignoreCompare) {
        if (q.compareQuantity === null || q.compareQuantity === undefined) {
          err(
            "COMPARE_QUANTITY_REQUIRED",
            field("compareQuantity"),
            "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity."
          )
        } else if (q.compareQuantity !== current) {
          err(
            "COMPARE_QUANTITY_STALE",
            field("compareQuantity"),
            `The ${name} quantity is ${current}, not the compareQuantity ${q.compareQuantity}: it changed since it was read.`
          )
        }
      }
      targets.push({ level, itemId, locationId, quantity: q.quantity })
    }
    if (errors.length > 0) return { inventoryAdjustmentGroup: null, userErrors: errors }
    const changes: Array<Record<string, unknown>> = []
    for (const t of targets) {
      const level = t.level ?? s.level(t.itemId, t.locationId)
      const delta = s.setQuantity(level, name as "available" | "on_hand", t.quantity)
      s.countWrite(t.itemId)
      const v = s.variantOfItem(t.itemId)!
      const other = name === "available" ? "on_hand" : "available"
      for (const n of [name, other]) {
        changes.push({
          name: n,
          delta,
          quantityAfterChange: s.quantity(level, n),
          ledgerDocumentUri: null,
          item: () => this.itemView(v),
          location: () => this.locationView(s.locations.get(t.locationId)!),
          itemId: t.itemId,
          locationId: t.locationId
        })
      }
    }
    const now = this.clock.now()
    return {
      inventoryAdjustmentGroup: {
        __typename: "InventoryAdjustmentGroup",
        id: gid("InventoryAdjustmentGroup", s.id()),
        createdAt: iso(now),
        reason,
        referenceDocumentUri: reference ?? null,
        changes: (args: {
          inventoryItemIds?: ReadonlyArray<string> | null
          locationIds?: ReadonlyArray<string> | null
          quantityNames?: ReadonlyArray<string> | null
        }) =>
          changes.filter(
            (c) =>
              (args.inventoryItemIds == null ||
                args.inventoryItemIds.includes(gid("InventoryItem", String(c.itemId)))) &&
              (args.locationIds == null || args.locationIds.includes(gid("Location", String(c.locationId)))) &&
              (args.quantityNames == null || args.quantityNames.includes(String(c.name)))
          )
      },
      userErrors: []
    }
  }
}
