/**
 * Connectors: finds the connector a connection names. First-party ids map to their packages through
 * the table below; anything else is taken as the npm package name of a partner connector. Packages
 * are loaded with a dynamic `import()` only when a config names them — importing this module loads
 * nothing — and a connector registers nothing by being imported: the runner wires it from config.
 *
 * A partner package is resolved from the directory of the config file first (where the seller ran
 * `npm install <partner>`), then from the runner's own installation.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import type { Connector } from "@tkbridge/core"
import { Effect, Schema } from "effect"

/** First-party connector ids and their packages. Keep in step with `packages/connectors/*`. */
export const firstParty: Readonly<Record<string, string>> = {
  memory: "@tkbridge/connector-memory",
  "tiktok-shop": "@tkbridge/connector-tiktok-shop",
  shopify: "@tkbridge/connector-shopify",
  "4px": "@tkbridge/connector-4px"
}

/** The package a connector reference loads from. */
export const packageOf = (ref: string): string => firstParty[ref] ?? ref

/** A connector could not be loaded: the package is missing, or it exports no connector. */
export class ConnectorLoadError extends Schema.TaggedError<ConnectorLoadError>("tkbridge/ConnectorLoadError")(
  "ConnectorLoadError",
  { ref: Schema.String, packageName: Schema.String, message: Schema.String }
) {}

/** A loaded connector and where it came from. */
export interface LoadedConnector {
  readonly ref: string
  readonly packageName: string
  readonly connector: Connector.Connector
}

const isConnector = (u: unknown): u is Connector.Connector =>
  typeof u === "object" &&
  u !== null &&
  "manifest" in u &&
  "make" in u &&
  typeof (u as { make: unknown }).make === "function" &&
  typeof (u as { manifest: { id?: unknown } }).manifest?.id === "string" &&
  Array.isArray((u as { manifest: { capabilities?: unknown } }).manifest.capabilities)

/**
 * Finds the connector value a package exports: a `connector` or default export, or one found in the
 * package's namespace exports (`export * as FooConnector from …`, whose module exports `connector`,
 * or `manifest` + `make` side by side).
 */
export const findConnector = (
  module: Record<string, unknown>,
  expectedId?: string
): ReadonlyArray<Connector.Connector> => {
  const found = new Set<Connector.Connector>()
  const consider = (value: unknown) => {
    // A namespace that exports `connector` beside `manifest` and `make` means its `connector`.
    const inner =
      typeof value === "object" && value !== null ? (value as Record<string, unknown>)["connector"] : undefined
    if (isConnector(inner)) found.add(inner)
    else if (isConnector(value)) found.add(value)
  }
  consider(module["connector"])
  consider(module["default"])
  if (found.size === 0) for (const value of Object.values(module)) consider(value)
  const all = [...found]
  if (expectedId === undefined || all.length <= 1) return all
  const exact = all.filter((c) => c.manifest.id === expectedId)
  return exact.length > 0 ? exact : all
}

const resolveFrom = (packageName: string, baseDir: string | undefined): string => {
  if (baseDir !== undefined) {
    try {
      return pathToFileURL(createRequire(Path.join(Path.resolve(baseDir), "noop.js")).resolve(packageName)).href
    } catch {
      // not installed beside the config: fall back to the runner's own dependencies
    }
  }
  return packageName
}

/** Imports the connector a reference names. `baseDir` is where partner packages are looked up first. */
export const load = (ref: string, options: { readonly baseDir?: string | undefined } = {}) =>
  Effect.gen(function* () {
    const packageName = packageOf(ref)
    const isFirstParty = ref in firstParty
    const specifier = isFirstParty ? packageName : resolveFrom(packageName, options.baseDir)
    const module = yield* Effect.tryPromise({
      try: () => import(specifier) as Promise<Record<string, unknown>>,
      catch: (cause) =>
        new ConnectorLoadError({
          ref,
          packageName,
          message:
            (cause as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && !isFirstParty
              ? `package ${packageName} is not installed (npm install ${packageName})`
              : `cannot load ${packageName}: ${cause instanceof Error ? cause.message : String(cause)}`
        })
    })
    const found = findConnector(module, isFirstParty ? ref : undefined)
    if (found.length !== 1) {
      return yield* new ConnectorLoadError({
        ref,
        packageName,
        message:
          found.length === 0
            ? `${packageName} exports no connector (expected an export with a manifest and make)`
            : `${packageName} exports several connectors (${found.map((c) => c.manifest.id).join(", ")}); export one`
      })
    }
    return { ref, packageName, connector: found[0]! } satisfies LoadedConnector
  })
