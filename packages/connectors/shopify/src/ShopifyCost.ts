/**
 * ShopifyCost: the query cost model of the GraphQL Admin API, as far as Shopify documents it. The
 * client uses it to estimate a call's cost before it has seen Shopify's own figure for that
 * operation (never assuming 0), and the sandbox uses the same model to charge its leaky bucket.
 *
 * Rules: a scalar or enum field costs 0, an object field 1 plus its selection, a connection
 * (a field sized by `first`/`last` whose selection reads `nodes` or `edges`) 2 plus `first` × one
 * node (1 plus its selection: `products(first: 10) { nodes { title } }` costs 12, Shopify's own
 * example), a list sized by `first`/`last` or `ids` that many times one item, any other list one
 * item, and a mutation field 10. Shopify computes the requested cost before running a query and the actual
 * cost after (from what came back), charges the first and refunds the difference.
 *
 * The exact weights Shopify applies to each field are not published; these are the documented
 * defaults. The client always prefers the `requestedQueryCost` Shopify reported for an operation.
 *
 * @see https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * @since 0.1.0
 */
import type {
  DirectiveNode,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  SelectionSetNode,
  ValueNode
} from "graphql"
import { Kind, parse } from "graphql"

/** Cost of each mutation field. */
export const mutationCost = 10
/** Shopify rejects a single query whose requested cost exceeds this. */
export const singleQueryMaxCost = 1_000

type Variables = Readonly<Record<string, unknown>>

const argValue = (node: ValueNode, variables: Variables): unknown => {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value]
    case Kind.INT:
      return Number(node.value)
    case Kind.BOOLEAN:
      return node.value
    case Kind.LIST:
      return node.values.map((v) => argValue(v, variables))
    case Kind.NULL:
      return null
    default:
      return undefined
  }
}

const args = (field: FieldNode, variables: Variables): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const a of field.arguments ?? []) out[a.name.value] = argValue(a.value, variables)
  return out
}

const size = (field: FieldNode, variables: Variables): number | undefined => {
  const a = args(field, variables)
  const n = typeof a.first === "number" ? a.first : typeof a.last === "number" ? a.last : undefined
  if (n !== undefined) return Math.max(0, n)
  if (Array.isArray(a.ids)) return a.ids.length
  return undefined
}

interface Walk {
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>
  readonly variables: Variables
}

const skipped = (node: { readonly directives?: ReadonlyArray<DirectiveNode> | undefined }, w: Walk) => {
  for (const d of node.directives ?? []) {
    const condition = d.arguments?.find((a) => a.name.value === "if")
    if (condition === undefined) continue
    const value = argValue(condition.value, w.variables)
    if (d.name.value === "include" && value !== true) return true
    if (d.name.value === "skip" && value === true) return true
  }
  return false
}

/** The fields of a selection set, with fragments spread in and `@include`/`@skip` applied. */
const fieldsOf = (set: SelectionSetNode | undefined, w: Walk): ReadonlyArray<FieldNode> => {
  if (set === undefined) return []
  const out: Array<FieldNode> = []
  for (const s of set.selections) {
    if (skipped(s, w)) continue
    if (s.kind === Kind.FIELD) out.push(s)
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, w))
    else {
      const fragment = w.fragments.get(s.name.value)
      if (fragment !== undefined) out.push(...fieldsOf(fragment.selectionSet, w))
    }
  }
  return out
}

const isConnection = (field: FieldNode, w: Walk) =>
  fieldsOf(field.selectionSet, w).some((f) => f.name.value === "nodes" || f.name.value === "edges")

/** The cost of one node of a connection (an object: 1 plus its `nodes { … }` or `edges { node { … } }` selection). */
const nodeSelectionCost = (field: FieldNode, w: Walk): number => {
  let cost = 0
  for (const f of fieldsOf(field.selectionSet, w)) {
    if (f.name.value === "nodes") cost = Math.max(cost, selectionCost(f.selectionSet, w))
    else if (f.name.value === "edges") {
      for (const e of fieldsOf(f.selectionSet, w)) {
        if (e.name.value === "node") cost = Math.max(cost, selectionCost(e.selectionSet, w))
      }
    }
  }
  return 1 + cost
}

const fieldCost = (field: FieldNode, w: Walk): number => {
  if (field.selectionSet === undefined) return 0
  const n = size(field, w.variables)
  if (n !== undefined && isConnection(field, w)) return 2 + n * nodeSelectionCost(field, w)
  const one = 1 + selectionCost(field.selectionSet, w)
  return n !== undefined ? n * one : one
}

const selectionCost = (set: SelectionSetNode | undefined, w: Walk): number =>
  fieldsOf(set, w).reduce((sum, f) => sum + (f.name.value.startsWith("__") ? 0 : fieldCost(f, w)), 0)

const prepare = (document: DocumentNode | string, operationName: string | undefined) => {
  const ast = typeof document === "string" ? parse(document) : document
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of ast.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const operation = ast.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName)
  )
  return { fragments, operation: operation?.kind === Kind.OPERATION_DEFINITION ? operation : undefined }
}

/** The requested (worst-case) cost of an operation with these variables. */
export const requestedCost = (
  document: DocumentNode | string,
  variables: Variables = {},
  operationName?: string
): number => {
  const { fragments, operation } = prepare(document, operationName)
  if (operation === undefined) return 0
  const w: Walk = { fragments, variables }
  if (operation.operation === "mutation") return fieldsOf(operation.selectionSet, w).length * mutationCost
  return selectionCost(operation.selectionSet, w)
}

const actualSelection = (set: SelectionSetNode | undefined, value: unknown, w: Walk): number => {
  if (value === null || typeof value !== "object") return 0
  const record = value as Record<string, unknown>
  let cost = 0
  for (const f of fieldsOf(set, w)) {
    if (f.selectionSet === undefined || f.name.value.startsWith("__")) continue
    const key = f.alias?.value ?? f.name.value
    cost += actualField(f, record[key], w)
  }
  return cost
}

const actualField = (field: FieldNode, value: unknown, w: Walk): number => {
  if (value === undefined) return 0
  if (isConnection(field, w) && size(field, w.variables) !== undefined) {
    if (value === null || typeof value !== "object") return 2
    const record = value as Record<string, unknown>
    let cost = 2
    for (const f of fieldsOf(field.selectionSet, w)) {
      const key = f.alias?.value ?? f.name.value
      const list = record[key]
      if (!Array.isArray(list)) continue
      if (f.name.value === "nodes") {
        cost = Math.max(
          cost,
          2 + list.reduce<number>((s, n) => s + (n === null ? 0 : 1 + actualSelection(f.selectionSet, n, w)), 0)
        )
      } else if (f.name.value === "edges") {
        const node = fieldsOf(f.selectionSet, w).find((e) => e.name.value === "node")
        if (node === undefined) continue
        const nodeKey = node.alias?.value ?? "node"
        cost = Math.max(
          cost,
          2 +
            list.reduce<number>((s, e) => {
              const n = (e as Record<string, unknown> | null)?.[nodeKey]
              return s + (n == null ? 0 : 1 + actualSelection(node.selectionSet, n, w))
            }, 0)
        )
      }
    }
    return cost
  }
  if (Array.isArray(value)) {
    return value.reduce<number>(
      (s, item) => s + (item === null ? 0 : 1 + actualSelection(field.selectionSet, item, w)),
      0
    )
  }
  return 1 + actualSelection(field.selectionSet, value, w)
}

/** The actual cost of an operation, from the data that came back. */
export const actualCost = (
  document: DocumentNode | string,
  variables: Variables,
  data: unknown,
  operationName?: string
): number => {
  const { fragments, operation } = prepare(document, operationName)
  if (operation === undefined) return 0
  const w: Walk = { fragments, variables }
  if (operation.operation === "mutation") return fieldsOf(operation.selectionSet, w).length * mutationCost
  return actualSelection(operation.selectionSet, data, w)
}
