/**
 * The checked-in `tkbridge.schema.json` (what editors load through `yaml-language-server`) is what
 * the generator produces today — `tkbridge config schema`, the built binary with every first-party
 * connector's settings — compared as JSON, so formatting does not matter but every key does.
 * Regenerate it with `pnpm --filter tkbridge config:schema` (then `pnpm format`).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { tempDir, tkbridge } from "./support/Cli.ts"

const checkedIn = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../tkbridge.schema.json")

describe("tkbridge.schema.json", () => {
  it("equals what `tkbridge config schema` generates (run `pnpm --filter tkbridge config:schema` if not)", async () => {
    const dir = tempDir()
    const printed = await tkbridge(dir, ["config", "schema"])
    expect(printed.code, printed.stderr).toBe(0)
    const generated = JSON.parse(printed.stdout) as Record<string, unknown>
    expect(JSON.parse(Fs.readFileSync(checkedIn, "utf8"))).toEqual(generated)

    // Every first-party connector's settings are in it (a connector that failed to load would be missing).
    const out = Path.join(dir, "schema.json")
    const written = await tkbridge(dir, ["config", "schema", "--out", out])
    expect(written.code, written.stderr).toBe(0)
    expect(written.stderr).toContain("memory, tiktok-shop, shopify, 4px")
    expect(JSON.parse(Fs.readFileSync(out, "utf8"))).toEqual(generated)
  })
})
