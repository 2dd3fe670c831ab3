/**
 * ConfigLoader: reads `tkbridge.yaml`, fills `${ENV}` references, decodes it and reports every
 * problem at once with its key path and its line and column in the file, e.g.
 *
 *     tkbridge.yaml:14:7  connections.tiktok-uk.plan  Expected "basic" | "enterprise", actual "gold"
 *
 * Decoding runs in two passes. The first checks the runner's own keys (unknown keys are errors, so a
 * typo never silently falls back to a default). The second loads each connection's connector and
 * decodes the connection's `config` block with the connector's `manifest.config` schema, then checks
 * that every flow only asks a connector for what it can do.
 *
 * `${NAME}` is replaced by the environment variable NAME (`${NAME:-fallback}` when it may be unset;
 * `$${` writes a literal `${`). A missing variable is an error naming it. Values that came from the
 * environment never appear in error messages.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import type { Connector } from "@tkbridge/core"
import { Effect, ParseResult, Redacted, Schema } from "effect"
import type { Node } from "yaml"
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml"
import { RunnerConfig } from "./Config.ts"
import * as Connectors from "./Connectors.ts"
import * as FlowPlan from "./FlowPlan.ts"

/** One problem in the config file. `line`/`column` are 1-based; absent when the problem has no place in the file. */
export interface ConfigIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
  readonly line?: number | undefined
  readonly column?: number | undefined
}

/** The config file cannot be used. `issues` lists every problem found, in file order. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>("tkbridge/ConfigInvalid")("ConfigInvalid", {
  file: Schema.String,
  issues: Schema.Array(
    Schema.Struct({
      path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
      message: Schema.String,
      line: Schema.optional(Schema.Number),
      column: Schema.optional(Schema.Number)
    })
  )
}) {
  override get message(): string {
    return `${this.file} is not valid:\n${this.issues.map((i) => `  ${formatIssue(this.file, i)}`).join("\n")}`
  }
}

/** The config file does not exist or cannot be read. */
export class ConfigMissing extends Schema.TaggedError<ConfigMissing>("tkbridge/ConfigMissing")("ConfigMissing", {
  file: Schema.String,
  message: Schema.String
}) {}

/** A key path as a seller reads it: `flows.orders[0].from`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("")
    .replace(/^$/, "(top level)")

/** `file:line:column  path  message`. */
export const formatIssue = (file: string, issue: ConfigIssue): string =>
  `${Path.basename(file)}${issue.line !== undefined ? `:${issue.line}:${issue.column ?? 1}` : ""}  ${formatPath(issue.path)}  ${issue.message}`

/** Where a key path sits in the YAML source: the key's position, or the deepest existing parent's. */
export const locate = (
  doc: { readonly contents: unknown },
  lines: LineCounter,
  path: ReadonlyArray<PropertyKey>
): { readonly line: number; readonly column: number } | undefined => {
  let node = doc.contents as Node | null
  let at: number | undefined = (node as { range?: [number, number, number] } | null)?.range?.[0]
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment))
      if (pair === undefined) break
      at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? at
      node = pair.value as Node | null
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined
      if (item === undefined) break
      at = item.range?.[0] ?? at
      node = item
    } else break
  }
  if (at === undefined) return undefined
  const pos = lines.linePos(at)
  return { line: pos.line, column: pos.col }
}

/** A `${NAME}` reference and where it was used. */
export interface EnvReference {
  readonly name: string
  readonly path: ReadonlyArray<PropertyKey>
}

const envRef = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Replaces `${NAME}` references in every string of a parsed YAML value. */
export const interpolate = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>
): {
  readonly value: unknown
  readonly references: ReadonlyArray<EnvReference>
  readonly missing: ReadonlyArray<EnvReference>
  /** Substituted values, so messages can hide them. */
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly value: string }>
} => {
  const references: Array<EnvReference> = []
  const missing: Array<EnvReference> = []
  const secrets: Array<{ name: string; value: string }> = []
  const walk = (v: unknown, path: Array<PropertyKey>): unknown => {
    if (typeof v === "string") {
      return v.replace(envRef, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === "$${") return "${"
        references.push({ name: name!, path })
        const found = env[name!]
        if (found === undefined || found === "") {
          if (fallback !== undefined) return fallback
          missing.push({ name: name!, path })
          return ""
        }
        secrets.push({ name: name!, value: found })
        return found
      })
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]))
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]))
    }
    return v
  }
  return { value: walk(value, []), references, missing, secrets }
}

/** A decoded connection: its connector and its connector-checked config. */
export interface ResolvedConnection {
  readonly name: string
  readonly loaded: Connectors.LoadedConnector
  readonly config: unknown
  /** The capabilities the configured flows use on this connection. */
  readonly capabilities: ReadonlyArray<Connector.Capability>
  /** The scopes those capabilities need. */
  readonly neededScopes: ReadonlyArray<string>
}

/** A config file read, decoded and checked against its connectors. */
export interface LoadedConfig {
  readonly file: string
  readonly dir: string
  readonly source: string
  readonly config: RunnerConfig
  readonly connections: ReadonlyMap<string, ResolvedConnection>
  readonly envReferences: ReadonlyArray<EnvReference>
  /** Secrets written literally in the file instead of `${ENV}` (key paths). */
  readonly literalSecrets: ReadonlyArray<ReadonlyArray<PropertyKey>>
}

/** Where `tkbridge.yaml` is looked for when no `--config` is given. */
export const defaultFile = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  env["TKBRIDGE_CONFIG"] ?? "tkbridge.yaml"

interface Parsed {
  readonly file: string
  readonly source: string
  readonly doc: ReturnType<typeof parseDocument>
  readonly lines: LineCounter
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly references: ReadonlyArray<EnvReference>
  readonly value: unknown
}

const hide = (message: string, secrets: Parsed["secrets"]): string => {
  let out = message
  for (const s of secrets) if (s.value.length >= 3) out = out.split(s.value).join(`<\${${s.name}}>`)
  return out
}

const isPrefix = (a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>) =>
  a.length <= b.length && a.every((x, i) => String(x) === String(b[i]))

const expected = /^Expected (.+), actual (.+)$/s

/**
 * Schema reports one issue per union member ("Expected "basic"", "Expected "enterprise"", and
 * "Expected undefined" for an optional key). A seller wants one line per key: the alternatives are
 * merged, and "Expected undefined" is dropped wherever a more precise issue explains the key.
 */
export const tidy = (
  issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>
) => {
  const undefinedOnly = (m: string) => m.startsWith("Expected undefined, actual")
  const kept = issues.filter(
    (i) =>
      !undefinedOnly(i.message) || !issues.some((o) => o !== i && !undefinedOnly(o.message) && isPrefix(i.path, o.path))
  )
  const byPath = new Map<string, { path: ReadonlyArray<PropertyKey>; messages: Array<string> }>()
  for (const i of kept) {
    const key = JSON.stringify(i.path.map(String))
    const entry = byPath.get(key) ?? { path: i.path, messages: [] }
    if (!entry.messages.includes(i.message)) entry.messages.push(i.message)
    byPath.set(key, entry)
  }
  return [...byPath.values()].flatMap(({ path, messages }) => {
    const alternatives = messages.map((m) => expected.exec(m))
    if (messages.length > 1 && alternatives.every((m) => m !== null && m[2] === alternatives[0]![2])) {
      const names = alternatives.map((m) => m![1]!).filter((n) => n !== "undefined")
      return [{ path, message: `Expected ${names.join(" | ")}, actual ${alternatives[0]![2]}` }]
    }
    return messages.map((message) => ({ path, message }))
  })
}

const toIssues = (parsed: Parsed, error: ParseResult.ParseError, prefix: ReadonlyArray<PropertyKey> = []) =>
  tidy(ParseResult.ArrayFormatter.formatErrorSync(error)).map((i): ConfigIssue => {
    const path = [...prefix, ...i.path]
    return { path, message: hide(i.message, parsed.secrets), ...locate(parsed.doc, parsed.lines, path) }
  })

const sorted = (issues: ReadonlyArray<ConfigIssue>) =>
  [...issues].sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER))

const invalid = (file: string, issues: ReadonlyArray<ConfigIssue>) =>
  new ConfigInvalid({
    file,
    issues: sorted(issues).map((i) => ({
      path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
      message: i.message,
      ...(i.line !== undefined ? { line: i.line, column: i.column ?? 1 } : {})
    }))
  })

const parse = (file: string, source: string, env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function* () {
    const lines = new LineCounter()
    const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
    if (doc.errors.length > 0) {
      return yield* invalid(
        file,
        doc.errors.map((e) => {
          const pos = lines.linePos(e.pos[0])
          return { path: [], message: `YAML: ${e.message.split("\n")[0]}`, line: pos.line, column: pos.col }
        })
      )
    }
    const raw = doc.toJS({ maxAliasCount: 100 }) ?? {}
    const { value, references, missing, secrets } = interpolate(raw, env)
    const parsed: Parsed = { file, source, doc, lines, secrets, references, value }
    if (missing.length > 0) {
      return yield* invalid(
        file,
        missing.map((m) => ({
          path: m.path,
          message: `environment variable ${m.name} is not set (write \${${m.name}:-default} to allow a default)`,
          ...locate(doc, lines, m.path)
        }))
      )
    }
    return parsed
  })

const redactedPaths = (value: unknown, path: Array<PropertyKey> = []): Array<Array<PropertyKey>> => {
  if (Redacted.isRedacted(value)) return [path]
  if (Array.isArray(value)) return value.flatMap((v, i) => redactedPaths(v, [...path, i]))
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    return Object.entries(value).flatMap(([k, v]) => redactedPaths(v, [...path, k]))
  }
  return []
}

const samePath = (a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>) =>
  a.length === b.length && a.every((x, i) => String(x) === String(b[i]))

/** Decodes config text (first pass only: the runner's keys, no connector loaded). */
export const decodeText = (
  file: string,
  source: string,
  env: Readonly<Record<string, string | undefined>> = process.env
) =>
  Effect.gen(function* () {
    const parsed = yield* parse(file, source, env)
    const config = yield* Schema.decodeUnknown(RunnerConfig, { errors: "all", onExcessProperty: "error" })(
      parsed.value
    ).pipe(Effect.mapError((e) => invalid(file, toIssues(parsed, e))))
    return { parsed, config }
  })

/** Reads, decodes and checks a config file against its connectors (both passes). */
export const load = (
  file: string,
  options: {
    readonly env?: Readonly<Record<string, string | undefined>> | undefined
    /** Stop after the first pass (no connector is loaded). */
    readonly shallow?: boolean | undefined
  } = {}
) =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    const source = yield* Effect.tryPromise({
      try: () => Fs.readFile(file, "utf8"),
      catch: (cause) =>
        new ConfigMissing({
          file,
          message:
            (cause as { code?: string }).code === "ENOENT"
              ? `no config file at ${file} — run \`tkbridge init\` to write one, or pass --config <file>`
              : `cannot read ${file}: ${String(cause)}`
        })
    })
    const { parsed, config } = yield* decodeText(file, source, env)
    const dir = Path.dirname(Path.resolve(file))
    const resolved = new Map<string, ResolvedConnection>()
    const issues: Array<ConfigIssue> = []
    const literalSecrets: Array<ReadonlyArray<PropertyKey>> = []
    if (!options.shallow) {
      const roles = FlowPlan.roles(config)
      for (const [name, connection] of Object.entries(config.connections)) {
        const connPath = ["connections", name]
        const loaded = yield* Connectors.load(connection.connector, { baseDir: dir }).pipe(Effect.either)
        if (loaded._tag === "Left") {
          issues.push({
            path: [...connPath, "connector"],
            message: loaded.left.message,
            ...locate(parsed.doc, parsed.lines, [...connPath, "connector"])
          })
          continue
        }
        const { manifest } = loaded.right.connector
        const decoded = yield* Schema.decodeUnknown(manifest.config, { errors: "all", onExcessProperty: "error" })(
          connection.config
        ).pipe(Effect.either)
        if (decoded._tag === "Left") {
          issues.push(...toIssues(parsed, decoded.left, [...connPath, "config"]))
          continue
        }
        for (const p of redactedPaths(decoded.right, [...connPath, "config"])) {
          if (!parsed.references.some((r) => samePath(r.path, p))) literalSecrets.push(p)
        }
        const { capabilities, gaps } = FlowPlan.plan(manifest, roles.get(name) ?? [])
        for (const gap of gaps) {
          issues.push({ path: gap.role.path, message: gap.message, ...locate(parsed.doc, parsed.lines, gap.role.path) })
        }
        resolved.set(name, {
          name,
          loaded: loaded.right,
          config: decoded.right,
          capabilities,
          neededScopes: FlowPlan.neededScopes(manifest, capabilities)
        })
      }
    }
    if (issues.length > 0) return yield* invalid(file, issues)
    return {
      file,
      dir,
      source,
      config,
      connections: resolved,
      envReferences: parsed.references,
      literalSecrets
    } satisfies LoadedConfig
  })
