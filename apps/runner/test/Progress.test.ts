import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import type { OutputShape } from "../src/Output.ts"
import { Output } from "../src/Output.ts"
import * as Progress from "../src/Progress.ts"

/** An output that keeps what was written to stdout and stderr. */
const capture = (json = false) => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const out: OutputShape = {
    json,
    color: false,
    isTty: false,
    write: (t) => void stdout.push(t),
    writeErr: (t) => void stderr.push(t),
    columns: 100
  }
  return { out, stdout, stderr }
}

describe("Progress outside a terminal", () => {
  it("prints a line as it starts and at each tenth of a known total, not at every step, then the closing note", () => {
    const { out, stdout, stderr } = capture()
    const bar = Progress.make(out, "replaying dead letters", 200, { tty: false })
    for (let done = 1; done <= 200; done++) bar.update(done)
    bar.finish("200 replayed")
    expect(stdout).toEqual([])
    expect(stderr).toHaveLength(12)
    expect(stderr[0]).toBe("replaying dead letters  [░░░░░░░░░░░░░░░░░░░░] 1/200 0%\n")
    expect(stderr[1]).toBe("replaying dead letters  [██░░░░░░░░░░░░░░░░░░] 20/200 10%\n")
    expect(stderr[10]).toBe("replaying dead letters  [████████████████████] 200/200 100%\n")
    expect(stderr[11]).toBe("replaying dead letters  done — 200 replayed\n")
  })

  it("follows a total that grows as pages arrive", () => {
    const { out, stderr } = capture()
    const bar = Progress.make(out, "importing", 10, { tty: false })
    bar.update(10)
    bar.update(12, 40)
    bar.update(40)
    expect(stderr).toEqual([
      "importing  [████████████████████] 10/10 100%\n",
      "importing  [██████░░░░░░░░░░░░░░] 12/40 30%\n",
      "importing  [████████████████████] 40/40 100%\n"
    ])
  })

  it("without a total, prints how far it got every few seconds, so a long import shows movement", () => {
    const { out, stderr } = capture()
    let now = 0
    const bar = Progress.make(out, "importing the shop catalogue", undefined, {
      tty: false,
      everyMs: 5_000,
      now: () => now
    })
    bar.update(50)
    now = 4_999
    bar.update(100)
    expect(stderr).toEqual([])
    now = 5_000
    bar.update(150)
    now = 7_000
    bar.update(200)
    now = 10_001
    bar.update(250)
    bar.finish("250 SKUs")
    expect(stderr).toEqual([
      "importing the shop catalogue  150\n",
      "importing the shop catalogue  250\n",
      "importing the shop catalogue  done — 250 SKUs\n"
    ])
  })

  it("prints every five seconds by default", () => {
    const { out, stderr } = capture()
    let now = 1_000_000
    const bar = Progress.make(out, "reading", undefined, { tty: false, now: () => now })
    now += Progress.EVERY_MS - 1
    bar.update(1)
    now += 1
    bar.update(2)
    expect(stderr).toEqual(["reading  2\n"])
  })

  it("prints nothing after it finished, and finishes once", () => {
    const { out, stderr } = capture()
    const bar = Progress.make(out, "x", 2, { tty: false })
    bar.finish("first")
    bar.finish("second")
    bar.update(2)
    expect(stderr).toEqual(["x  done — first\n"])
  })
})

describe("Progress on a terminal", () => {
  it("redraws one line in place and ends it with the note", () => {
    const { out, stderr } = capture()
    const bar = Progress.make(out, "reconciling", 4, { tty: true })
    bar.update(1)
    bar.update(2)
    bar.finish("2 stock readings")
    // 40 cells on a 100-column terminal.
    expect(stderr[0]).toBe(`\r\u001b[2Kreconciling  [${"█".repeat(10)}${"░".repeat(30)}] 1/4 25%`)
    expect(stderr[1]).toBe(`\r\u001b[2Kreconciling  [${"█".repeat(20)}${"░".repeat(20)}] 2/4 50%`)
    expect(stderr[2]).toBe("\r\u001b[2Kreconciling  done — 2 stock readings\n")
  })

  it("shows the count alone when there is no total", () => {
    const { out, stderr } = capture()
    const bar = Progress.make(out, "importing", undefined, { tty: true })
    bar.update(7)
    expect(stderr).toEqual(["\r\u001b[2Kimporting  7"])
  })
})

describe("Progress with --json", () => {
  it("prints nothing, on stdout or stderr, even on a terminal", () => {
    const { out, stdout, stderr } = capture(true)
    for (const tty of [true, false]) {
      const bar = Progress.make(out, "replaying", 3, { tty })
      bar.update(1)
      bar.update(3)
      bar.finish("3 replayed")
    }
    expect(stdout).toEqual([])
    expect(stderr).toEqual([])
  })
})

describe("Progress.withBar", () => {
  it.effect("finishes the bar when the work fails, and passes the failure on", () =>
    Effect.gen(function* () {
      const { out, stderr } = capture()
      const exit = yield* Progress.withBar(
        "reconciling",
        2,
        (bar) =>
          Effect.gen(function* () {
            bar.update(1)
            return yield* Effect.fail("partner down")
          }),
        { tty: true }
      ).pipe(Effect.provide(Layer.succeed(Output, out)), Effect.exit)
      expect(exit).toEqual(Exit.fail("partner down"))
      expect(stderr.at(-1)).toBe("\r\u001b[2Kreconciling  done\n")
    })
  )
})
