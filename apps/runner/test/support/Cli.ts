/**
 * Spawns the built `tkbridge` binary the way a seller runs it, in a temporary working directory,
 * and helpers for the fixture partner connector and free ports.
 */
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** The built executable. */
export const BIN = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../dist/bin.js")

const runnerModules = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../node_modules")

/**
 * The environment a seller's shell would give the binary: ours without vitest's own variables (the
 * connector test kit loads vitest when it sees them, which only works inside a vitest worker).
 */
const baseEnv = (): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "TEST"))

/** What a finished command left behind. */
export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `tkbridge <args>` in `cwd` and waits for it to exit. */
export const tkbridge = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = {}
): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...baseEnv(), NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Starts a long-running `tkbridge <args>` (e.g. `run`); stop it with `stop`. */
export const start = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = {}
): { readonly child: ChildProcess; readonly output: () => string; readonly stop: () => Promise<number | null> } => {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...baseEnv(), NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (d) => (output += d))
  child.stderr?.on("data", (d) => (output += d))
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once("close", (code) => resolve(code))
        child.kill("SIGTERM")
      })
  }
}

/** A fresh temporary directory. */
export const tempDir = (prefix = "tkbridge-cli-"): string => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))

/** A port nobody listens on right now (the demo's own helper). */
export { freePort } from "../../src/DemoWorld.ts"

/** Waits until something accepts TCP connections on `port` (the server is up). */
export const waitForPort = async (port: number, attempts = 150): Promise<void> => {
  for (let i = 0; i < attempts; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = Net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing listens on port ${port}`)
}

/**
 * Installs a partner connector package (`tkbridge-connector-fixture`) beside the config, the way a
 * seller runs `npm install <partner>`: an API-key connector claiming the capabilities of a shop and
 * a stock source, whose config needs `apiKey` (secret) and optionally `region`.
 */
export const installFixtureConnector = (dir: string): void => {
  const pkg = Path.join(dir, "node_modules", "tkbridge-connector-fixture")
  Fs.mkdirSync(pkg, { recursive: true })
  const effectLink = Path.join(dir, "node_modules", "effect")
  if (!Fs.existsSync(effectLink)) Fs.symlinkSync(Fs.realpathSync(Path.join(runnerModules, "effect")), effectLink)
  Fs.writeFileSync(
    Path.join(pkg, "package.json"),
    JSON.stringify({ name: "tkbridge-connector-fixture", version: "1.0.0", type: "module", exports: "./index.js" })
  )
  Fs.writeFileSync(
    Path.join(pkg, "index.js"),
    `import { Effect, Schema } from "effect"
const config = Schema.Struct({ apiKey: Schema.Redacted(Schema.String), region: Schema.optional(Schema.Literal("eu", "us")) })
export const connector = {
  manifest: {
    id: "fixture",
    displayName: "Fixture Shop",
    apiVersion: "1",
    capabilities: ["orders.webhook", "orders.pull", "stock.push", "stock.pull", "catalog.pull", "fulfillment.push"],
    auth: { kind: "apiKey" },
    scopes: {},
    limits: { webhookAckMs: 3000, dailyQuota: 50000 },
    stock: { idempotencyKeys: true, compareAndSet: false, multiLocation: false },
    config
  },
  // A shop with an empty catalogue and no orders: enough for \`tkbridge run\` to start its engine on it.
  make: () =>
    Effect.succeed({
      "orders.webhook": {
        verify: () => Effect.void,
        decode: () => Effect.fail({ _tag: "WebhookMalformed", message: "the fixture decodes nothing" })
      },
      "orders.pull": { list: () => Effect.succeed({ items: [] }), get: () => Effect.die("no orders") },
      "stock.push": {
        push: (updates) => Effect.succeed(updates.map((u) => ({ _tag: "Applied", externalSku: u.externalSku })))
      },
      "stock.pull": { list: () => Effect.succeed({ items: [] }) },
      "catalog.pull": { list: () => Effect.succeed({ items: [] }) },
      "fulfillment.push": { ship: () => Effect.succeed({ alreadyShipped: false }) }
    })
}
`
  )
}
