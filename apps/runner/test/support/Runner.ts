/**
 * `tkbridge run` over the demo's sandboxes (TikTok Shop, Shopify, 4PX and a Memory platform as the
 * ERP), started the way a seller starts it: a `tkbridge.yaml` in a temporary folder, the grants
 * `tkbridge auth` would have stored, and the built binary spawned on a free port.
 */
import { Effect } from "effect"
import * as ConfigLoader from "../../src/ConfigLoader.ts"
import * as DemoWorld from "../../src/DemoWorld.ts"
import { start, tempDir } from "./Cli.ts"

/** Polls `check` every 100 ms until it holds, or fails naming `what`. */
export const eventually = async (
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting until ${what}`)
}

/** How to set the runner up over the platforms. */
export interface LaunchOptions extends Omit<DemoWorld.ConfigOptions, "port"> {
  /** Edits the written config before the runner reads it (the seller's edits). */
  readonly edit?: ((yaml: string, port: number) => string) | undefined
  /** More environment for the runner and the commands beside it. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** More arguments for `tkbridge run` (e.g. `--log-level debug`). */
  readonly args?: ReadonlyArray<string> | undefined
}

/** A started runner and what the test needs to talk to it. */
export interface Launched {
  readonly dir: string
  readonly port: number
  readonly written: { readonly yaml: string; readonly env: Readonly<Record<string, string>> }
  /** The environment of the runner (the config's secrets); pass it to commands run beside it. */
  readonly env: Readonly<Record<string, string>>
  readonly runner: ReturnType<typeof start>
}

/**
 * Starts `tkbridge run` on a free port and waits until it says it listens there. A port found free
 * can be taken by another process before the runner binds it (tests run in parallel); then the
 * runner exits and is started again on another port, rather than the test talking to a stranger.
 */
export const launch = async (platforms: DemoWorld.Platforms, options: LaunchOptions = {}): Promise<Launched> => {
  const { edit, env: extraEnv, args = [], ...configOptions } = options
  for (let attempt = 1; ; attempt++) {
    const dir = tempDir("tkbridge-run-")
    const port = await DemoWorld.freePort()
    const written = DemoWorld.config(platforms, { port, ...configOptions })
    const file = DemoWorld.writeConfig(dir, edit === undefined ? written.yaml : edit(written.yaml, port))
    const env = { ...written.env, NODE_EXTRA_CA_CERTS: "", ...extraEnv }
    const loaded = await Effect.runPromise(ConfigLoader.load(file, { env: { ...process.env, ...env } }))
    await Effect.runPromise(DemoWorld.saveGrants(loaded, platforms))
    const runner = start(dir, ["run", ...args], env)
    const listening = new RegExp(`Listening on https?://127\\.0\\.0\\.1:${port}`)
    await eventually(
      `the runner listens on ${port} or exits`,
      () => listening.test(runner.output()) || runner.child.exitCode !== null
    )
    if (listening.test(runner.output())) return { dir, port, written, env, runner }
    if (attempt === 3) throw new Error(`tkbridge run did not start:\n${runner.output()}`)
  }
}
