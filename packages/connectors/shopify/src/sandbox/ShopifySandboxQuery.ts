/**
 * ShopifySandboxQuery: the two list mechanics every Shopify connection shares — the search syntax of
 * the `query` argument (`sku:"A" OR sku:B`, `updated_at:>='2026-11-01T00:00:00Z' AND status:open`)
 * and cursor pagination (`first`/`after`, `last`/`before`, `reverse`) with opaque cursors.
 *
 * Unknown filter fields are ignored, as Shopify ignores them (it only warns in `extensions.search`).
 *
 * @see https://shopify.dev/docs/api/usage/search-syntax
 * @see https://shopify.dev/docs/api/usage/pagination-graphql
 * @since 0.1.0
 */

/** One `field:op value` term. */
export interface Term {
  readonly field: string
  readonly op: ":" | ">" | ">=" | "<" | "<="
  readonly value: string
  readonly negated: boolean
}

/** A parsed query: OR of ANDs of terms (AND binds tighter, as in Shopify's syntax). */
export type Query = ReadonlyArray<ReadonlyArray<Term>>

const tokenize = (input: string): Array<string> => {
  const tokens: Array<string> = []
  let i = 0
  while (i < input.length) {
    const c = input[i]!
    if (c === " " || c === "\t" || c === "\n") {
      i++
      continue
    }
    let token = ""
    while (i < input.length && input[i] !== " " && input[i] !== "\t" && input[i] !== "\n") {
      const ch = input[i]!
      if (ch === '"' || ch === "'") {
        const quote = ch
        token += ch
        i++
        while (i < input.length && input[i] !== quote) {
          if (input[i] === "\\" && i + 1 < input.length) {
            token += input[i]! + input[i + 1]!
            i += 2
            continue
          }
          token += input[i]
          i++
        }
        if (i < input.length) token += input[i++]
        continue
      }
      token += ch
      i++
    }
    tokens.push(token)
  }
  return tokens
}

const unquote = (value: string): string => {
  const q = value[0]
  if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1")
  }
  return value
}

/** Parses Shopify's search syntax (the subset the sandbox understands). */
export const parse = (input: string | null | undefined): Query => {
  if (input == null || input.trim() === "") return []
  const groups: Array<Array<Term>> = [[]]
  for (const token of tokenize(input)) {
    if (token === "OR") {
      groups.push([])
      continue
    }
    if (token === "AND") continue
    const negated = token.startsWith("-") || token.startsWith("NOT:")
    const body = token.replace(/^-/, "")
    const m = /^([a-z_]+):(>=|<=|>|<)?(.*)$/.exec(body)
    if (m === null) continue
    const op = (m[2] ?? ":") as Term["op"]
    groups[groups.length - 1]!.push({ field: m[1]!, op, value: unquote(m[3]!), negated })
  }
  return groups.filter((g) => g.length > 0)
}

/** How each filter field reads a record: a string, a number (timestamps) or undefined (not filterable). */
export type Fields<A> = Readonly<
  Record<string, (record: A) => string | number | ReadonlyArray<string> | null | undefined>
>

const compare = (actual: string | number, op: Term["op"], wanted: string): boolean => {
  if (typeof actual === "number") {
    const n = /^\d{4}-\d{2}-\d{2}/.test(wanted) ? Date.parse(wanted) : Number(wanted)
    if (Number.isNaN(n)) return false
    switch (op) {
      case ":":
        return actual === n
      case ">":
        return actual > n
      case ">=":
        return actual >= n
      case "<":
        return actual < n
      case "<=":
        return actual <= n
    }
  }
  if (op !== ":") return false
  // Shopify matches a trailing * as a prefix.
  return wanted.endsWith("*") ? actual.startsWith(wanted.slice(0, -1)) : actual === wanted
}

/** Whether a record matches a parsed query. */
export const matches = <A>(record: A, query: Query, fields: Fields<A>): boolean => {
  if (query.length === 0) return true
  return query.some((group) =>
    group.every((term) => {
      const read = fields[term.field]
      if (read === undefined) return true
      const value = read(record)
      const hit =
        value == null
          ? false
          : Array.isArray(value)
            ? (value as ReadonlyArray<string>).some((v) => compare(v, term.op, term.value))
            : compare(value as string | number, term.op, term.value)
      return term.negated ? !hit : hit
    })
  )
}

/** Connection arguments. */
export interface PageArgs {
  readonly first?: number | null | undefined
  readonly last?: number | null | undefined
  readonly after?: string | null | undefined
  readonly before?: string | null | undefined
  readonly reverse?: boolean | null | undefined
}

/** A page: the nodes and `pageInfo`. */
export interface Connection<A> {
  readonly nodes: ReadonlyArray<A>
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: A }>
  readonly pageInfo: {
    readonly hasNextPage: boolean
    readonly hasPreviousPage: boolean
    readonly startCursor: string | null
    readonly endCursor: string | null
  }
}

/** Invalid connection arguments (answered as a GraphQL error). */
export class PagingError extends Error {
  override readonly name = "PagingError"
}

/** A fixed-width sort key for numeric ids and timestamps. */
export const pad = (n: string | number): string => String(n).padStart(20, "0")

/** Largest page Shopify serves. */
export const maxPageSize = 250

const encodeCursor = (key: string) => Buffer.from(JSON.stringify({ k: key })).toString("base64url")
const decodeCursor = (cursor: string): string => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { k?: unknown }
    if (typeof parsed.k === "string") return parsed.k
  } catch {
    // fall through
  }
  throw new PagingError(`Invalid cursor: ${cursor}`)
}

/**
 * Pages `records` by `key`: a string whose order is the list's order (fixed-width, so records keep
 * their place when others change and a cursor stays meaningful after the record it names moved).
 */
export const paginate = <A>(records: ReadonlyArray<A>, key: (a: A) => string, args: PageArgs): Connection<A> => {
  const { first, last } = args
  if ((first === undefined || first === null) && (last === undefined || last === null)) {
    throw new PagingError("you must provide one of first or last")
  }
  for (const [name, n] of [
    ["first", first],
    ["last", last]
  ] as const) {
    if (n !== undefined && n !== null && (n < 0 || n > maxPageSize)) {
      throw new PagingError(`The ${name} argument must be between 0 and ${maxPageSize}.`)
    }
  }
  const ascending = [...records].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  const ordered = args.reverse ? ascending.reverse() : ascending
  const keys = ordered.map(key)
  // "Comes after k" in list order.
  const beyond = (candidate: string, k: string) => (args.reverse ? candidate < k : candidate > k)
  let start = 0
  let end = ordered.length
  if (args.after) {
    const k = decodeCursor(args.after)
    const at = keys.findIndex((c) => beyond(c, k))
    start = at >= 0 ? at : ordered.length
  }
  if (args.before) {
    const k = decodeCursor(args.before)
    const at = keys.findIndex((c) => c === k || beyond(c, k))
    end = at >= 0 ? at : ordered.length
  }
  let slice = ordered.slice(start, Math.max(start, end))
  let hasNextPage = Math.max(start, end) < ordered.length
  let hasPreviousPage = start > 0
  if (first !== undefined && first !== null && slice.length > first) {
    slice = slice.slice(0, first)
    hasNextPage = true
  }
  if (last !== undefined && last !== null && slice.length > last) {
    slice = slice.slice(slice.length - last)
    hasPreviousPage = true
  }
  const edges = slice.map((node) => ({ cursor: encodeCursor(key(node)), node }))
  return {
    nodes: slice,
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null
    }
  }
}
