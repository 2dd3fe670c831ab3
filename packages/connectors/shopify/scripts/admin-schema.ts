/**
 * admin-schema: fetches Shopify's own Admin GraphQL schemas for the API versions the sandbox serves
 * (2026-01 … 2026-10), as Shopify publishes them inside the npm package `@shopify/dev-mcp`
 * (`dist/data/admin_<version>.json.gz`, introspection results). The package is fetched with
 * `npm pack` — never installed: it depends on the Shopify CLI and much more — and only those files
 * are kept (one pack fills in every pinned version missing), in a cache outside the repository
 * (`$XDG_CACHE_HOME/tkbridge/shopify` or `~/.cache/tkbridge/shopify`). Each file's SHA-256 is pinned,
 * so a changed or tampered download fails loudly instead of silently validating against something else.
 *
 * Run it directly (`node scripts/admin-schema.ts`, or with one version) to warm the cache; the tests
 * call `ensureAdminSchema` themselves when a file is missing.
 *
 * @since 0.1.0
 */
import { execFile } from "node:child_process"
import { createHash, randomUUID } from "node:crypto"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { gunzipSync } from "node:zlib"

/** The npm package that ships Shopify's Admin schemas, and its pinned version. */
export const sourcePackage = "@shopify/dev-mcp@1.16.0"

/** SHA-256 of each schema file as published in `sourcePackage` (the versions the sandbox serves). */
export const pinnedSha256: Readonly<Record<string, string>> = {
  "2026-01": "28804b33e23becb5296f168545781daa8747a4574ac2089515f3c572d82670b1",
  "2026-04": "f14a1d924a2ce4a5824dcaa832a90a9fe8d20d0ad16f71240b854401c08b5769",
  "2026-07": "5bcde995c89c59acdb2ee494378d96f45ce7378a16ec829a74b71d696a08ef19",
  "2026-10": "f3b522f264556925eada700e795e4a002a9cba83444ebcc6c0d724254a0c6593"
}

/** Where cached schemas live (outside git). */
export const cacheDir = (): string => {
  const base =
    process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME !== ""
      ? process.env.XDG_CACHE_HOME
      : join(homedir(), ".cache")
  return join(base, "tkbridge", "shopify")
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const run = (command: string, args: ReadonlyArray<string>, cwd: string): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      // npm retries an unreachable registry for minutes; a bounded wait fails with a clear message.
      { cwd, maxBuffer: 16 * 1024 * 1024, shell: process.platform === "win32", timeout: 90_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(
              `${command} ${args.join(" ")} failed: ${error.message}\n${stderr}\n` +
                "Is the npm registry reachable? Behind a proxy, HTTPS_PROXY and NODE_EXTRA_CA_CERTS must reach this process."
            )
          )
        else resolve(stdout)
      }
    )
  })

/** Reads one file out of a gzipped tar (npm tarballs are plain ustar). */
export const extractFromTgz = (tgz: Uint8Array, wanted: string): Uint8Array | undefined => {
  const tar = gunzipSync(tgz)
  let offset = 0
  let longName: string | undefined
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((b) => b === 0)) break
    const field = (start: number, length: number) =>
      new TextDecoder().decode(header.subarray(start, start + length)).replace(/\0.*$/s, "")
    const size = Number.parseInt(field(124, 12).trim() || "0", 8)
    const type = field(156, 1)
    const prefix = field(345, 155)
    const name = longName ?? (prefix !== "" ? `${prefix}/${field(0, 100)}` : field(0, 100))
    longName = undefined
    const body = tar.subarray(offset + 512, offset + 512 + size)
    offset += 512 + Math.ceil(size / 512) * 512
    if (type === "L") {
      longName = new TextDecoder().decode(body).replace(/\0.*$/s, "")
      continue
    }
    if (type === "x") {
      const path = /\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(body))
      if (path?.[1] !== undefined) longName = path[1]
      continue
    }
    if ((type === "0" || type === "") && name === wanted) return new Uint8Array(body)
  }
  return undefined
}

const cachedFile = (version: string): string => join(cacheDir(), `admin_${version}.json.gz`)

/** True when the cache holds the version's file with its pinned hash (any file when none is pinned). */
const cached = (version: string): boolean => {
  const file = cachedFile(version)
  if (!existsSync(file)) return false
  const expected = pinnedSha256[version]
  if (expected === undefined || sha256(readFileSync(file)) === expected) return true
  rmSync(file, { force: true })
  return false
}

/**
 * Returns the path of the cached `admin_<version>.json.gz`, fetching it with `npm pack` first when
 * it is missing (and keeping every other pinned version the cache lacks from the same tarball).
 * Safe to call from several test files at once: each file is written under a unique name and
 * renamed into place.
 */
export const ensureAdminSchema = async (version = "2026-10"): Promise<string> => {
  if (cached(version)) return cachedFile(version)
  const dir = cacheDir()
  mkdirSync(dir, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), "tkbridge-shopify-schema-"))
  try {
    await run("npm", ["pack", sourcePackage, "--silent", "--pack-destination", work], work)
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))
    if (tarball === undefined) throw new Error(`npm pack ${sourcePackage} produced no tarball`)
    const tgz = readFileSync(join(work, tarball))
    const wanted = [version, ...Object.keys(pinnedSha256).filter((v) => v !== version && !cached(v))]
    for (const v of wanted) {
      const gz = extractFromTgz(tgz, `package/dist/data/admin_${v}.json.gz`)
      if (gz === undefined) throw new Error(`${sourcePackage} does not ship dist/data/admin_${v}.json.gz`)
      const expected = pinnedSha256[v]
      const actual = sha256(gz)
      if (expected !== undefined && actual !== expected) {
        throw new Error(`admin_${v}.json.gz from ${sourcePackage} has sha256 ${actual}, expected ${expected}`)
      }
      const partial = join(dir, `.admin_${v}.${randomUUID()}.tmp`)
      writeFileSync(partial, gz)
      renameSync(partial, cachedFile(v))
    }
    return cachedFile(version)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Loads the cached introspection result (`{ data: { __schema } }`), fetching it when needed. */
export const loadAdminIntrospection = async (version = "2026-10"): Promise<{ readonly __schema: unknown }> => {
  const file = await ensureAdminSchema(version)
  const json = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as { data: { __schema: unknown } }
  return json.data
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const versions = process.argv[2] !== undefined ? [process.argv[2]] : Object.keys(pinnedSha256)
  const warm = async () => {
    for (const version of versions) console.warn(`Shopify Admin schema ${version}: ${await ensureAdminSchema(version)}`)
  }
  warm().catch((error: unknown) => {
    console.error(String(error))
    process.exitCode = 1
  })
}
