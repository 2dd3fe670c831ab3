/**
 * sandbox-schema: generates the sandbox's GraphQL schema from Shopify's own Admin schema. The
 * sandbox serves exactly the part of the Admin API the connector uses: every type and field the
 * connector's documents (`src/ShopifyDocuments.ts`) touch, each field with **all** of its official
 * arguments, and every input object, enum and scalar those arguments reach, copied in full. So a
 * document the sandbox accepts is one Shopify's schema accepts too, and the sandbox refuses the rest.
 *
 * Each type and field carries the scopes Shopify documents for it (`requiredAccess` in the
 * published schema) as a `@requiredAccess(anyOf: [...])` directive, which the sandbox enforces.
 *
 * Usage: `node scripts/sandbox-schema.ts` rewrites `src/sandbox/ShopifySandboxSchemaSdl.ts`. A test
 * regenerates the SDL and fails when the committed file differs.
 *
 * @since 0.1.0
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
import type {
  GraphQLArgument,
  GraphQLField,
  GraphQLInputField,
  GraphQLNamedType,
  GraphQLSchema,
  IntrospectionQuery
} from "graphql"
import {
  astFromValue,
  buildClientSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  parse,
  print,
  specifiedDirectives,
  TypeInfo,
  visit,
  visitWithTypeInfo
} from "graphql"
import { all as documents } from "../src/ShopifyDocuments.ts"
import { loadAdminIntrospection, sourcePackage } from "./admin-schema.ts"

/** The Admin API version the sandbox schema is generated from (the base). */
export const version = "2026-10"

/**
 * The other versions the sandbox serves, each generated from its own published schema and kept as
 * the definitions that differ from the base's.
 */
export const otherVersions: ReadonlyArray<string> = ["2026-01", "2026-04", "2026-07"]

type Raw = {
  readonly types: ReadonlyArray<{
    readonly name: string
    readonly requiredAccess?: string | null
    readonly fields?: ReadonlyArray<{ readonly name: string; readonly requiredAccess?: string | null }> | null
  }>
}

/** The scopes named in a `requiredAccess` text (any one of them suffices). */
export const scopesIn = (text: string | null | undefined): ReadonlyArray<string> =>
  text ? [...text.matchAll(/`([a-z_]+)` access scope/g)].map((m) => m[1]!) : []

const quote = (s: string) => JSON.stringify(s)

/** The fields each output type needs: those the documents select, plus interface fields. */
const usedFields = (schema: GraphQLSchema): Map<string, Set<string>> => {
  const used = new Map<string, Set<string>>()
  const add = (type: string, field?: string) => {
    const set = used.get(type) ?? new Set<string>()
    used.set(type, set)
    if (field !== undefined) set.add(field)
  }
  for (const document of documents) {
    const info = new TypeInfo(schema)
    visit(
      parse(document.query),
      visitWithTypeInfo(info, {
        Field(node) {
          const parent = info.getParentType()
          if (parent != null && !node.name.value.startsWith("__")) add(parent.name, node.name.value)
        },
        InlineFragment(node) {
          if (node.typeCondition) add(node.typeCondition.name.value)
        },
        OperationDefinition(node) {
          const root = node.operation === "mutation" ? schema.getMutationType() : schema.getQueryType()
          if (root) add(root.name)
        }
      })
    )
  }
  return used
}

/** One top-level definition of the generated SDL: `schema`, `@directive` or a type name, and its text. */
export interface Definition {
  readonly key: string
  readonly text: string
}

/** Generates the sandbox SDL from the official introspection result. */
export const generateSdl = (introspection: IntrospectionQuery): string =>
  `${generateDefinitions(introspection)
    .map((d) => d.text)
    .join("\n\n")}\n`

/** The definitions of the sandbox SDL, in order. */
export const generateDefinitions = (introspection: IntrospectionQuery): ReadonlyArray<Definition> => {
  const schema = buildClientSchema(introspection)
  const raw = (introspection as unknown as { __schema: Raw }).__schema
  const access = new Map<string, ReadonlyArray<string>>()
  for (const t of raw.types) {
    const own = scopesIn(t.requiredAccess)
    if (own.length > 0) access.set(t.name, own)
    for (const f of t.fields ?? []) {
      const scopes = scopesIn(f.requiredAccess)
      if (scopes.length > 0) access.set(`${t.name}.${f.name}`, scopes)
    }
  }

  const outputs = usedFields(schema)
  const others = new Set<string>()
  // Close over return types (an object reached without selected fields keeps none but must exist)
  // and over argument types (inputs, enums and scalars are copied whole).
  const queue = [...outputs.keys()]
  const reachInput = (t: GraphQLNamedType) => {
    if (others.has(t.name) || isSpecifiedScalarType(t)) return
    others.add(t.name)
    if (isInputObjectType(t)) for (const f of Object.values(t.getFields())) reachInput(getNamedType(f.type))
  }
  while (queue.length > 0) {
    const name = queue.shift()!
    const type = schema.getType(name)
    if (type === undefined || type === null) throw new Error(`the official schema has no type ${name}`)
    if (isInterfaceType(type) && (outputs.get(name)?.size ?? 0) === 0) outputs.get(name)?.add("id")
    if (!isObjectType(type) && !isInterfaceType(type)) continue
    for (const fieldName of outputs.get(name) ?? []) {
      const field = type.getFields()[fieldName]
      if (field === undefined) throw new Error(`the official schema has no field ${name}.${fieldName}`)
      for (const arg of field.args) reachInput(getNamedType(arg.type))
      const result = getNamedType(field.type)
      if (isObjectType(result) || isInterfaceType(result)) {
        if (!outputs.has(result.name)) {
          outputs.set(result.name, new Set())
          queue.push(result.name)
        }
      } else if (isUnionType(result)) {
        throw new Error(`${name}.${fieldName} returns a union; the generator does not handle unions`)
      } else reachInput(result)
    }
  }
  // Objects implementing an included interface carry the interface's fields.
  for (const [name, fields] of outputs) {
    const type = schema.getType(name)
    if (!isObjectType(type)) continue
    for (const i of type.getInterfaces()) {
      if (!outputs.has(i.name)) continue
      for (const f of outputs.get(i.name) ?? []) fields.add(f)
    }
  }

  const directive = (key: string) => {
    const scopes = access.get(key)
    return scopes === undefined || scopes.length === 0
      ? ""
      : ` @requiredAccess(anyOf: [${scopes.map(quote).join(", ")}])`
  }
  const defaultOf = (a: GraphQLArgument | GraphQLInputField) => {
    if (a.defaultValue === undefined) return ""
    const ast = astFromValue(a.defaultValue, a.type)
    return ast ? ` = ${print(ast)}` : ""
  }
  const args = (field: GraphQLField<unknown, unknown>) =>
    field.args.length === 0
      ? ""
      : `(${field.args.map((a) => `${a.name}: ${String(a.type)}${defaultOf(a)}`).join(", ")})`

  const blocks: Array<Definition> = []
  blocks.push(
    {
      key: "schema",
      text: `schema {\n  query: ${schema.getQueryType()!.name}\n  mutation: ${schema.getMutationType()!.name}\n}`
    },
    {
      key: "@requiredAccess",
      text: `"""The scopes Shopify documents for a type or field; any one of them grants access."""\ndirective @requiredAccess(anyOf: [String!]!) on OBJECT | INTERFACE | FIELD_DEFINITION`
    }
  )
  const builtIn = new Set(specifiedDirectives.map((d) => d.name))
  for (const d of schema.getDirectives()) {
    if (builtIn.has(d.name)) continue
    const dargs =
      d.args.length === 0 ? "" : `(${d.args.map((a) => `${a.name}: ${String(a.type)}${defaultOf(a)}`).join(", ")})`
    blocks.push({
      key: `@${d.name}`,
      text: `directive @${d.name}${dargs}${d.isRepeatable ? " repeatable" : ""} on ${d.locations.join(" | ")}`
    })
  }
  const names = [...new Set([...outputs.keys(), ...others])].sort()
  for (const name of names) {
    const type = schema.getType(name)!
    if (isScalarType(type)) blocks.push({ key: name, text: `scalar ${name}` })
    else if (isEnumType(type))
      blocks.push({
        key: name,
        text: `enum ${name} {\n${type
          .getValues()
          .map((v) => `  ${v.name}`)
          .join("\n")}\n}`
      })
    else if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields()).map((f) => `  ${f.name}: ${String(f.type)}${defaultOf(f)}`)
      blocks.push({ key: name, text: `input ${name}${type.isOneOf ? " @oneOf" : ""} {\n${fields.join("\n")}\n}` })
    } else if (isObjectType(type) || isInterfaceType(type)) {
      const wanted = outputs.get(name)!
      const interfaces = type.getInterfaces().filter((i) => outputs.has(i.name))
      const implementsPart = interfaces.length === 0 ? "" : ` implements ${interfaces.map((i) => i.name).join(" & ")}`
      const fields = Object.values(type.getFields())
        .filter((f) => wanted.has(f.name))
        .map((f) => `  ${f.name}${args(f)}: ${String(f.type)}${directive(`${name}.${f.name}`)}`)
      if (fields.length === 0) throw new Error(`${name} would have no fields`)
      blocks.push({
        key: name,
        text: `${isObjectType(type) ? "type" : "interface"} ${name}${implementsPart}${directive(name)} {\n${fields.join("\n")}\n}`
      })
    }
  }
  return blocks
}

/** A version's definitions that differ from the base's, and the base's keys the version lacks. */
export interface VersionDelta {
  readonly sdl: string
  readonly removed: ReadonlyArray<string>
}

/**
 * How another version's sandbox SDL differs from the base's: its definitions whose text differs or
 * that the base lacks (whole, as generated from that version's published schema), and the keys of
 * base definitions it does not have.
 */
export const versionDelta = (base: ReadonlyArray<Definition>, other: ReadonlyArray<Definition>): VersionDelta => {
  const byKey = new Map(base.map((d) => [d.key, d.text]))
  const keys = new Set(other.map((d) => d.key))
  return {
    sdl: other
      .filter((d) => byKey.get(d.key) !== d.text)
      .map((d) => d.text)
      .join("\n\n"),
    removed: base.filter((d) => !keys.has(d.key)).map((d) => d.key)
  }
}

const escapeTemplate = (s: string) => s.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${")

/**
 * The licence of the material the SDL is derived from: `sourcePackage`'s ISC License, verbatim (its
 * `LICENSE` file). ISC asks for the notice in all copies, so the generated module carries it and the
 * package's `NOTICE` repeats it.
 */
export const sourceLicense: ReadonlyArray<string> = [
  "ISC License",
  "",
  "Copyright 2025-present, Shopify Inc.",
  "",
  "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is",
  "hereby granted, provided that the above copyright notice and this permission notice appear in all copies.",
  "",
  'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE',
  "INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR",
  "ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE,",
  "DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN",
  "CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE."
]

/** The TypeScript module holding the generated SDL of the base version and the other versions' deltas. */
export const moduleText = (sdl: string, deltas: Readonly<Record<string, VersionDelta>>): string => `/**
 * ShopifySandboxSchemaSdl: the sandbox's GraphQL schema — the part of Shopify's Admin API the
 * connector uses — for ${version} and, as the definitions that differ from it, for
 * ${Object.keys(deltas).join(", ")}. Generated from Shopify's published schemas (${sourcePackage},
 * \`dist/data/admin_<version>.json.gz\`) by \`scripts/sandbox-schema.ts\`. Do not edit by hand:
 * change the connector's documents, then run \`node scripts/sandbox-schema.ts\`.
 *
 * The schema text below is derived from ${sourcePackage}, distributed under the ISC License
 * (see also this package's NOTICE):
 *
${sourceLicense.map((line) => (line === "" ? " *" : ` * ${line}`)).join("\n")}
 *
 * @license ISC
 * @since 0.1.0
 */

/** The Admin API version \`sdl\` was generated from. */
export const apiVersion = "${version}"

/** The sandbox schema in SDL, with \`@requiredAccess\` scopes from Shopify's schema. */
export const sdl = \`${escapeTemplate(sdl)}\`

/** How another version's schema differs from \`sdl\`: whole definitions to use instead, and definitions it lacks. */
export interface VersionDelta {
  readonly sdl: string
  readonly removed: ReadonlyArray<string>
}

/** The other versions the sandbox serves, as deltas from \`sdl\` (each generated from that version's schema). */
export const versions: Readonly<Record<string, VersionDelta>> = {
${Object.entries(deltas)
  .map(
    ([v, d]) =>
      `  "${v}": {\n    sdl: \`${escapeTemplate(d.sdl)}\`,\n    removed: [${d.removed.map((k) => JSON.stringify(k)).join(", ")}]\n  }`
  )
  .join(",\n")}
}
`

/** Where the generated module lives. */
export const target = fileURLToPath(new URL("../src/sandbox/ShopifySandboxSchemaSdl.ts", import.meta.url))

/** Generates the module text from the published schemas (fetched into the cache when missing). */
export const generateModule = async (): Promise<string> => {
  const load = async (v: string) => (await loadAdminIntrospection(v)) as unknown as IntrospectionQuery
  const base = generateDefinitions(await load(version))
  const deltas: Record<string, VersionDelta> = {}
  for (const v of otherVersions) deltas[v] = versionDelta(base, generateDefinitions(await load(v)))
  return moduleText(`${base.map((d) => d.text).join("\n\n")}\n`, deltas)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  generateModule().then(
    (text) => {
      writeFileSync(target, text)
      console.warn(`wrote ${target}`)
    },
    (error: unknown) => {
      console.error(String(error))
      process.exitCode = 1
    }
  )
}
