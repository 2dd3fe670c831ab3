import * as Child from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { SqlStore, StoreLock } from "@tkbridge/store-sql"
import { Effect, Exit, Layer } from "effect"

const freshDir = () => Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-lock-"))

const holderScript = fileURLToPath(new URL("./fixtures/hold-lock.ts", import.meta.url))

/** Starts a separate process that opens the store and holds it until killed; resolves once it holds it. */
const spawnHolder = (filename: string) =>
  Effect.acquireRelease(
    Effect.async<Child.ChildProcess, Error>((resume) => {
      const child = Child.spawn(process.execPath, ["--conditions=@tkbridge/source", holderScript, filename], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d) => {
        stderr += String(d)
      })
      child.stdout.on("data", (d) => {
        if (String(d).includes("holding")) resume(Effect.succeed(child))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`holder exited with ${code}: ${stderr}`))))
    }),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.on("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  )

describe("StoreLock", () => {
  it.scoped("a second opener in the same process is refused, and the lock is free again after release", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      const filename = Path.join(dir, "tkbridge.db")
      const first = yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            yield* StoreLock.acquire(filename)
            const owner = JSON.parse(Fs.readFileSync(StoreLock.ownerFile(filename), "utf8"))
            expect(owner.pid).toBe(process.pid)
            const second = yield* Effect.flip(Effect.scoped(StoreLock.acquire(filename)))
            expect(second._tag).toBe("StoreLocked")
            expect(second.pid).toBe(process.pid)
            expect(second.message).toContain(`process ${process.pid}`)
          })
        )
      )
      expect(Exit.isSuccess(first)).toBe(true)
      expect(Fs.existsSync(StoreLock.ownerFile(filename))).toBe(false)
      yield* Effect.scoped(StoreLock.acquire(filename))
      Fs.rmSync(dir, { recursive: true, force: true })
    })
  )

  it.live(
    "a second process gets a clear error naming the holder's pid; a killed holder leaves no stale lock",
    () =>
      Effect.gen(function* () {
        const dir = freshDir()
        const filename = Path.join(dir, "tkbridge.db")
        const refused = yield* Effect.scoped(
          Effect.gen(function* () {
            const holder = yield* spawnHolder(filename)
            const error = yield* Effect.flip(Effect.scoped(Layer.build(SqlStore.layerSqlite({ filename }))))
            return { error, pid: holder.pid }
          })
        )
        expect(refused.error._tag).toBe("StoreLocked")
        const locked = refused.error as StoreLock.StoreLocked
        expect(locked.pid).toBe(refused.pid)
        expect(locked.message).toBe(
          `the store ${filename} is in use by process ${refused.pid} (since ${
            JSON.parse(Fs.readFileSync(StoreLock.ownerFile(filename), "utf8")).since
          }): stop it first, or give this process its own store`
        )
        // the holder was killed with SIGKILL when the scope closed: the kernel released its lock
        yield* Effect.scoped(Layer.build(SqlStore.layerSqlite({ filename })))
        Fs.rmSync(dir, { recursive: true, force: true })
      }),
    60_000
  )
})
