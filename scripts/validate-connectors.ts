/**
 * validate-connectors: the meta-check every connector package passes (CONTRIBUTING.md, "Adding a
 * connector"). For each folder under `packages/connectors/` it checks that
 *
 * - the folder name is the connector id, and the package is named `@tkbridge/connector-<id>`;
 * - `exports`, `peerDependencies` and `publishConfig` match the template (`packages/connectors/memory`);
 * - `test/conformance.test.ts` exists and runs `ConnectorTestkit.suite`;
 * - the README has the required sections: install, config keys, capabilities, pinned API version,
 *   webhook topics, rate limits, known gaps;
 * - the package is listed in the root `tsconfig.json` references.
 *
 * Run with Node 24 (types are stripped natively): `node scripts/validate-connectors.ts [repo root]`.
 * Exits non-zero and lists every problem when any connector fails.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, resolve } from "node:path"

const root = resolve(process.argv[2] ?? join(import.meta.dirname, ".."))
const connectorsDir = join(root, "packages", "connectors")

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"))

const entry = (path: string) => ({
  "@tkbridge/source": `./src/${path}.ts`,
  types: `./dist/${path}.d.ts`,
  default: `./dist/${path}.js`
})

/** The template's exports map: the entry, the sandbox, closed internals, package.json. */
const templateExports = {
  ".": entry("index"),
  "./sandbox": entry("sandbox/index"),
  "./internal/*": null,
  "./package.json": "./package.json"
}

const templatePublishConfig = { access: "public", provenance: true }

/** Peers every connector has, and peers it may have (the test kit only as an optional peer, for the sandbox). */
const requiredPeers: Readonly<Record<string, string>> = { "@tkbridge/core": "workspace:^", effect: "catalog:" }
const allowedPeers: Readonly<Record<string, string>> = {
  ...requiredPeers,
  "@effect/platform": "catalog:",
  "@tkbridge/connector-testkit": "workspace:^"
}
const optionalPeers = new Set(["@tkbridge/connector-testkit"])

/** README sections (headings) and the words that name them. */
const readmeSections: ReadonlyArray<{ readonly name: string; readonly pattern: RegExp }> = [
  { name: "Install", pattern: /\binstall(ation|ing)?\b/i },
  { name: "Config keys (which are secrets)", pattern: /\bconfig(uration)?\b/i },
  { name: "Capabilities", pattern: /\bcapabilit(y|ies)\b/i },
  { name: "Pinned API version", pattern: /\bapi versions?\b/i },
  { name: "Webhook topics", pattern: /\bwebhooks?\b/i },
  { name: "Rate limits", pattern: /\blimits?\b/i },
  { name: "Known gaps", pattern: /\bknown gaps\b/i }
]

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

const rootReferences = (): ReadonlySet<string> => {
  const tsconfig = readJson(join(root, "tsconfig.json")) as { references?: ReadonlyArray<{ path: string }> }
  return new Set((tsconfig.references ?? []).map((r) => r.path.replace(/^\.\//, "").replace(/\/$/, "")))
}

/** The problems of one connector folder (empty when it passes). */
const validate = (id: string, references: ReadonlySet<string>): ReadonlyArray<string> => {
  const dir = join(connectorsDir, id)
  const problems: Array<string> = []
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id)) problems.push(`the folder name "${id}" is not a kebab-case connector id`)

  const pkgPath = join(dir, "package.json")
  if (!existsSync(pkgPath)) return [...problems, "no package.json"]
  const pkg = readJson(pkgPath)
  if (pkg.name !== `@tkbridge/connector-${id}`) {
    problems.push(`package name is ${JSON.stringify(pkg.name)}; the folder says it must be "@tkbridge/connector-${id}"`)
  }
  if (pkg.type !== "module") problems.push(`"type" must be "module" (ESM only)`)
  if (pkg.sideEffects !== false) problems.push(`"sideEffects" must be false`)
  if (!same(pkg.exports, templateExports)) {
    problems.push(`"exports" differs from the template; expected ${JSON.stringify(templateExports)}`)
  }
  if (!same(pkg.publishConfig, templatePublishConfig)) {
    problems.push(`"publishConfig" must be ${JSON.stringify(templatePublishConfig)}`)
  }
  const peers = (pkg.peerDependencies ?? {}) as Record<string, string>
  const peerMeta = (pkg.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>
  for (const [name, spec] of Object.entries(requiredPeers)) {
    if (!(name in peers)) problems.push(`peerDependencies must have "${name}": "${spec}"`)
  }
  for (const [name, spec] of Object.entries(peers)) {
    if (!(name in allowedPeers)) problems.push(`peer "${name}" is not a template peer (make it a dependency)`)
    else if (allowedPeers[name] !== spec) problems.push(`peer "${name}" must be "${allowedPeers[name]}", not "${spec}"`)
    if (optionalPeers.has(name) && peerMeta[name]?.optional !== true) {
      problems.push(`peer "${name}" must be optional (peerDependenciesMeta)`)
    }
  }
  for (const name of Object.keys(requiredPeers)) {
    const deps = (pkg.dependencies ?? {}) as Record<string, string>
    if (name in deps) problems.push(`"${name}" must be a peer, not a dependency`)
  }

  const conformance = join(dir, "test", "conformance.test.ts")
  if (!existsSync(conformance)) problems.push("no test/conformance.test.ts")
  else if (!readFileSync(conformance, "utf8").includes("ConnectorTestkit.suite(")) {
    problems.push("test/conformance.test.ts does not run ConnectorTestkit.suite")
  }

  const readmePath = join(dir, "README.md")
  if (!existsSync(readmePath)) problems.push("no README.md")
  else {
    const headings = readFileSync(readmePath, "utf8")
      .split("\n")
      .filter((line) => /^#{2,4}\s/.test(line))
    const missing = readmeSections.filter((s) => !headings.some((h) => s.pattern.test(h))).map((s) => s.name)
    if (missing.length > 0) problems.push(`README.md lacks sections: ${missing.join(", ")}`)
  }

  if (!references.has(`packages/connectors/${id}`)) {
    problems.push(`the root tsconfig.json does not reference ./packages/connectors/${id}`)
  }
  return problems
}

const main = (): number => {
  const references = rootReferences()
  const ids = readdirSync(connectorsDir)
    .filter((name) => statSync(join(connectorsDir, name)).isDirectory())
    .sort()
  let failed = 0
  for (const id of ids) {
    const problems = validate(id, references)
    if (problems.length === 0) {
      process.stdout.write(`✓ ${id}\n`)
      continue
    }
    failed += 1
    console.error(`✗ ${id}`)
    for (const p of problems) console.error(`    ${p}`)
  }
  if (failed > 0) console.error(`\n${failed} of ${ids.length} connectors fail the checks in CONTRIBUTING.md.`)
  return failed === 0 ? 0 : 1
}

process.exitCode = main()
