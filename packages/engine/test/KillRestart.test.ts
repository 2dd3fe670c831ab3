/**
 * The mechanics the engine's crash safety rests on, in a real child process on a real SQLite file:
 * `kill -9` in the middle of an activity runs the activity again after restart (at-least-once, with
 * the same idempotency key), and `kill -9` during a durable sleep resumes the sleep without running
 * the finished activity again.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Child from "./support/Child.ts"
import { tempDir } from "./support/Roots.ts"

const journalOf = (file: string) => (Fs.existsSync(file) ? Fs.readFileSync(file, "utf8").trim().split("\n") : [])

describe("kill -9 and restart (embedded)", () => {
  it.live(
    "re-runs an interrupted activity with the same key and resumes a durable sleep",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const db = Path.join(dir, "engine.db")
        const journal = Path.join(dir, "journal.txt")

        // Killed mid-activity: "push" started but never finished.
        const first = Child.spawn("durable-workflow.ts", [db, journal])
        yield* Effect.promise(() => first.waitFor(/push-started/))
        yield* Effect.promise(() => first.kill9())
        expect(journalOf(journal).filter((l) => l.startsWith("push-done"))).toEqual([])

        // Restarted, killed again while sleeping durably after the activity completed.
        const second = Child.spawn("durable-workflow.ts", [db, journal])
        yield* Effect.promise(() => second.waitFor(/sleeping/))
        yield* Effect.promise(() => second.kill9())

        // Restarted: resumes the sleep and finishes once.
        const third = Child.spawn("durable-workflow.ts", [db, journal])
        yield* Effect.promise(() => third.waitFor(/complete/, 90_000))
        expect(yield* Effect.promise(() => third.exited)).toBe(0)

        const lines = journalOf(journal)
        const starts = lines.filter((l) => l.startsWith("push-start"))
        const dones = lines.filter((l) => l.startsWith("push-done"))
        expect(starts.length).toBe(2)
        expect(new Set(starts.map((l) => l.split(" ")[1])).size).toBe(1)
        expect(dones.length).toBe(1)
        expect(dones[0]!.split(" ")[1]).toBe(starts[0]!.split(" ")[1])
        expect(lines.filter((l) => l.startsWith("finish"))).toEqual(["finish order-1"])
      }).pipe(Effect.scoped),
    180_000
  )
})
