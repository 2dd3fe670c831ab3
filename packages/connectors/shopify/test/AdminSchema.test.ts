/**
 * The connector's GraphQL against Shopify's own Admin schemas (2026-10, and the other versions the
 * connector may name or the sandbox serves, as published in `@shopify/dev-mcp@1.16.0`): every
 * document validates, the sandbox's schema of each version is exactly what the generator derives
 * from Shopify's schema of that version and the documents, each capability asks for exactly the
 * scopes Shopify documents for what it reads and writes, and the sandbox refuses what Shopify's
 * schema refuses.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { GraphQLEnumType, GraphQLInputObjectType, GraphQLSchema, IntrospectionQuery } from "graphql"
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  lexicographicSortSchema,
  parse,
  printSchema,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo
} from "graphql"
import { sourcePackage } from "../scripts/admin-schema.ts"
import {
  generateModule,
  generateSdl,
  otherVersions,
  scopesIn,
  sourceLicense,
  target
} from "../scripts/sandbox-schema.ts"
import { ShopifyAuth, ShopifyConfig, ShopifyDocuments } from "../src/index.ts"
import { ShopifySandbox, ShopifySandboxGraphql, ShopifySandboxSchemaSdl } from "../src/sandbox/index.ts"
import { officialIntrospection, officialSchema, postGraphql } from "./support.ts"

/** The any-of scope requirements of every type and field a document touches, per Shopify's schema. */
const requirements = (schema: GraphQLSchema, introspection: IntrospectionQuery, query: string) => {
  const raw = (
    introspection as unknown as {
      __schema: {
        types: ReadonlyArray<{
          name: string
          requiredAccess?: string | null
          fields?: ReadonlyArray<{ name: string; requiredAccess?: string | null }> | null
        }>
      }
    }
  ).__schema.types
  const byType = new Map(raw.map((t) => [t.name, t]))
  const out: Array<{ readonly where: string; readonly anyOf: ReadonlyArray<string> }> = []
  const info = new TypeInfo(schema)
  visit(
    parse(query),
    visitWithTypeInfo(info, {
      Field(node) {
        const parent = info.getParentType()
        if (parent == null || node.name.value.startsWith("__")) return
        const field = byType.get(parent.name)?.fields?.find((f) => f.name === node.name.value)
        const own = scopesIn(field?.requiredAccess)
        if (own.length > 0) out.push({ where: `${parent.name}.${node.name.value}`, anyOf: own })
        const returned = info.getType()
        const named = returned === null ? undefined : getNamedType(returned)
        if (named !== undefined && (isObjectType(named) || isInterfaceType(named))) {
          const scopes = scopesIn(byType.get(named.name)?.requiredAccess)
          if (scopes.length > 0) out.push({ where: named.name, anyOf: scopes })
        }
      }
    })
  )
  return out
}

const implied = (scopes: ReadonlyArray<string>) =>
  new Set(scopes.flatMap((s) => (s.startsWith("write_") ? [s, `read_${s.slice(6)}`] : [s])))

describe("Shopify Admin schema 2026-10", () => {
  it.effect(
    "every document the connector sends validates against Shopify's schema of every version it may name",
    () =>
      Effect.gen(function* () {
        expect(ShopifyDocuments.all.length).toBeGreaterThanOrEqual(13)
        for (const version of ShopifyConfig.supportedApiVersions) {
          const official = yield* Effect.promise(() => officialSchema(version))
          for (const document of ShopifyDocuments.all) {
            const errors = validate(official, parse(document.query)).map((e) => e.message)
            expect({ version, operation: document.operationName, errors }).toEqual({
              version,
              operation: document.operationName,
              errors: []
            })
          }
        }
        const schema = yield* Effect.promise(() => officialSchema())
        // The same check catches a misspelled field, so it is not vacuous.
        const broken = ShopifyDocuments.OrdersPage.query.replace("displayFulfillmentStatus", "displayFulfilmentStatus")
        expect(
          validate(schema, parse(broken))
            .map((e) => e.message)
            .join(" ")
        ).toMatch(/displayFulfilmentStatus/)
      }),
    { timeout: 120_000 }
  )

  it.effect(
    "the sandbox schema of every version it serves is exactly what the generator derives from Shopify's schema",
    () =>
      Effect.gen(function* () {
        const introspection = yield* Effect.promise(() => officialIntrospection())
        expect(ShopifySandboxSchemaSdl.apiVersion).toBe("2026-10")
        expect(generateSdl(introspection)).toBe(ShopifySandboxSchemaSdl.sdl)
        // The committed module byte for byte: header (and its licence notice) and every version's delta.
        expect(readFileSync(target, "utf8")).toBe(yield* Effect.promise(generateModule))
        expect(Object.keys(ShopifySandboxSchemaSdl.versions)).toEqual([...otherVersions])
        expect(ShopifySandboxGraphql.schemaVersions).toEqual(ShopifySandbox.supportedVersions)
        // Each version's schema, as the sandbox assembles it from the base and the delta, is the
        // one generated from that version's own published schema: same types, same scopes.
        const normal = (schema: GraphQLSchema) => printSchema(lexicographicSortSchema(schema))
        for (const version of ShopifySandbox.supportedVersions) {
          const generated = ShopifySandboxGraphql.schemaInfo(
            buildSchema(generateSdl(yield* Effect.promise(() => officialIntrospection(version))))
          )
          const served = ShopifySandboxGraphql.sandboxSchema(version)
          expect({ version, schema: normal(served.schema) }).toEqual({ version, schema: normal(generated.schema) })
          expect([...served.access].sort()).toEqual([...generated.access].sort())
        }
        // The versions differ where the reference says they do.
        const input = (version: string) =>
          Object.keys(
            (
              ShopifySandboxGraphql.sandboxSchema(version).schema.getType(
                "InventoryQuantityInput"
              ) as GraphQLInputObjectType
            ).getFields()
          ).sort()
        expect(input("2026-01")).toEqual([
          "changeFromQuantity",
          "compareQuantity",
          "inventoryItemId",
          "locationId",
          "quantity"
        ])
        expect(input("2026-04")).toEqual(["changeFromQuantity", "inventoryItemId", "locationId", "quantity"])
        const codes = (version: string) =>
          (
            ShopifySandboxGraphql.sandboxSchema(version).schema.getType(
              "InventorySetQuantitiesUserErrorCode"
            ) as GraphQLEnumType
          )
            .getValues()
            .map((v) => v.name)
        for (const version of ["2026-01", "2026-04", "2026-07"])
          expect(codes(version)).toContain("ITEM_NOT_STOCKED_AT_LOCATION")
        expect(codes("2026-10")).not.toContain("ITEM_NOT_STOCKED_AT_LOCATION")
      }),
    { timeout: 120_000 }
  )

  it("the published schema text carries the ISC notice of @shopify/dev-mcp, in its header and in NOTICE", () => {
    const license = sourceLicense.join("\n")
    const header = readFileSync(target, "utf8")
      .split("*/")[0]!
      .replace(/^ \* ?/gm, "")
    expect(header).toContain(`derived from ${sourcePackage}, distributed under the ISC License`)
    expect(header).toContain(license)
    const packageDir = new URL("../", import.meta.url)
    const notice = readFileSync(new URL("NOTICE", packageDir), "utf8")
    expect(notice).toContain(sourcePackage)
    expect(notice).toContain("src/sandbox/ShopifySandboxSchemaSdl.ts")
    expect(notice).toContain(license)
    const manifest = JSON.parse(readFileSync(new URL("package.json", packageDir), "utf8")) as { files: Array<string> }
    // `src` and `dist` carry the derived file; NOTICE is not one of the files npm always packs.
    expect(manifest.files).toEqual(expect.arrayContaining(["dist", "src", "NOTICE"]))
  })

  it.effect(
    "each capability asks for exactly the scopes Shopify requires for what it sends",
    () =>
      Effect.gen(function* () {
        const introspection = yield* Effect.promise(() => officialIntrospection())
        const schema = yield* Effect.promise(() => officialSchema())
        for (const [capability, documents] of Object.entries(ShopifyDocuments.byCapability)) {
          const declared = ShopifyAuth.capabilityScopes[capability as keyof typeof ShopifyAuth.capabilityScopes]
          const needs = documents.flatMap((d) => requirements(schema, introspection, d.query))
          expect(needs.length).toBeGreaterThan(0)
          const unmet = (scopes: ReadonlyArray<string>) => {
            const granted = implied(scopes)
            return needs.filter((n) => !n.anyOf.some((s) => granted.has(s))).map((n) => n.where)
          }
          expect({ capability, unmet: unmet(declared) }).toEqual({ capability, unmet: [] })
          // Minimal: without any one of its scopes the capability would be refused somewhere.
          for (const scope of declared) {
            expect({
              capability,
              without: scope,
              unmet: unmet(declared.filter((s) => s !== scope)).length > 0
            }).toEqual({
              capability,
              without: scope,
              unmet: true
            })
          }
        }
        // Every capability that talks GraphQL is covered by the check above.
        expect(Object.keys(ShopifyDocuments.byCapability).sort()).toEqual(
          Object.keys(ShopifyAuth.capabilityScopes)
            .filter((c) => c !== "orders.webhook")
            .sort()
        )
      }),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "the sandbox refuses documents Shopify's schema refuses, and serves the connector's",
    () =>
      Effect.gen(function* () {
        const adminSchema = yield* Effect.promise(() => officialSchema())
        const sandbox = yield* ShopifySandbox.scoped({ adminSchema })
        const misspelled = yield* Effect.promise(() =>
          postGraphql(sandbox, { query: "{ orders(first: 1) { nodes { id displayFulfilmentStatus } } }" })
        )
        expect(misspelled.status).toBe(200)
        expect(misspelled.json.data).toBeUndefined()
        expect(JSON.stringify(misspelled.json.errors)).toMatch(/displayFulfilmentStatus/)
        // A connection without a required argument type, a wrong argument type: both refused.
        const wrongType = yield* Effect.promise(() =>
          postGraphql(sandbox, { query: '{ productVariants(first: "ten") { nodes { id } } }' })
        )
        expect(JSON.stringify(wrongType.json.errors)).toMatch(/Int/)
        // Fields Shopify has but the connector never uses are outside the sandbox (documented subset).
        const outside = yield* Effect.promise(() => postGraphql(sandbox, { query: "{ shop { name } }" }))
        expect(JSON.stringify(outside.json.errors)).toMatch(/shop/)
        sandbox.seedSkus([{ sku: "SCHEMA-1", quantity: 2 }])
        const served = yield* Effect.promise(() =>
          postGraphql(sandbox, {
            query: ShopifyDocuments.CatalogVariants.query,
            variables: { first: 5 },
            operationName: "CatalogVariants"
          })
        )
        expect(served.json.errors).toBeUndefined()
        expect(JSON.stringify(served.json.data)).toContain("SCHEMA-1")
      }),
    { timeout: 120_000 }
  )
})
