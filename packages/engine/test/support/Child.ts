/**
 * A child process running one of the test fixtures with Node's type stripping, as the runner runs in
 * production: output collected line by line, waits for a line, and `kill -9` at any moment.
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { Effect } from "effect"

/** A running child. */
export interface Child {
  readonly pid: number
  readonly lines: Array<string>
  /** Resolves with the first line (already printed or to come) that matches. */
  readonly waitFor: (match: RegExp, timeoutMs?: number) => Promise<string>
  /** SIGKILL, then wait for the exit. */
  readonly kill9: () => Promise<void>
  /** SIGTERM (a graceful stop), then wait for the exit; the exit code. */
  readonly term: () => Promise<number | null>
  /** Waits for a normal exit; the exit code. */
  readonly exited: Promise<number | null>
}

/** Starts `test/fixtures/<name>` with the given arguments. */
export const spawn = (name: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Child => {
  const script = Path.join(import.meta.dirname, "..", "fixtures", name)
  const proc = ChildProcess.spawn(process.execPath, ["--conditions=@tkbridge/source", script, ...args], {
    cwd: Path.join(import.meta.dirname, "..", ".."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  const waiters = new Set<{ match: RegExp; resolve: (line: string) => void }>()
  let buffer = ""
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("utf8")
    let i = buffer.indexOf("\n")
    while (i >= 0) {
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      lines.push(line)
      for (const w of waiters) {
        if (w.match.test(line)) {
          waiters.delete(w)
          w.resolve(line)
        }
      }
      i = buffer.indexOf("\n")
    }
  }
  proc.stdout.on("data", onData)
  proc.stderr.on("data", (chunk: Buffer) => {
    if (process.env.TKB_TEST_CHILD_STDERR) process.stderr.write(chunk)
  })
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)))
  return {
    pid: proc.pid ?? -1,
    lines,
    waitFor: (match, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const found = lines.find((l) => match.test(l))
        if (found !== undefined) return resolve(found)
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(
            new Error(`no line matching ${match} within ${timeoutMs} ms; last lines:\n${lines.slice(-20).join("\n")}`)
          )
        }, timeoutMs)
        const waiter = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer)
            resolve(line)
          }
        }
        waiters.add(waiter)
        void exited.then(() => {
          if (waiters.delete(waiter)) {
            clearTimeout(timer)
            reject(new Error(`child exited before printing ${match}; last lines:\n${lines.slice(-20).join("\n")}`))
          }
        })
      }),
    kill9: async () => {
      proc.kill("SIGKILL")
      await exited
    },
    term: async () => {
      proc.kill("SIGTERM")
      return await exited
    },
    exited
  }
}

/** The child as a scoped resource: killed if still running when the scope closes. */
export const scoped = (name: string, args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn(name, args, env)),
    (child) => Effect.promise(() => child.kill9())
  )
