/**
 * Builds the runner (and the workspace packages it references) once before the tests, so the CLI
 * tests can spawn `dist/bin.js` exactly as an installed `tkbridge` runs.
 */
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export default function setup(): void {
  const dir = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
  const tsc = createRequire(Path.join(dir, "../../package.json")).resolve("typescript/bin/tsc")
  // The memory connector is loaded by the binary from its built entry, like any installed package.
  execFileSync(
    process.execPath,
    [tsc, "-b", "tsconfig.src.json", "../../packages/connectors/memory/tsconfig.src.json"],
    {
      cwd: dir,
      stdio: "inherit"
    }
  )
}
