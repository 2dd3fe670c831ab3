/**
 * Progress: a progress bar for long work (initial catalog pull and pairing, full reconciliation,
 * bulk replay). On a terminal it redraws one line on stderr; elsewhere it prints a line at each
 * tenth of the way, so logs of unattended runs still show movement; in `--json` mode it is silent
 * on stdout (stdout carries only the JSON document).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { OutputShape } from "./Output.ts"
import { Output } from "./Output.ts"

/** A running progress bar. */
export interface Bar {
  /** Moves the bar to `done` of `total` (the total may grow as pages arrive). */
  readonly update: (done: number, total?: number | undefined) => void
  /** Completes the bar with a closing note. */
  readonly finish: (note?: string | undefined) => void
}

const render = (label: string, done: number, total: number | undefined, cells: number) => {
  if (total === undefined || total <= 0) return `${label}  ${done}`
  const ratio = Math.min(1, done / total)
  const filled = Math.round(ratio * cells)
  return `${label}  [${"█".repeat(filled)}${"░".repeat(cells - filled)}] ${done}/${total} ${Math.floor(ratio * 100)}%`
}

/** Makes a bar on the given output. */
export const make = (out: OutputShape, label: string, initialTotal?: number | undefined): Bar => {
  let total = initialTotal
  let lastTenth = -1
  let closed = false
  const tty = out.isTty && !out.json && process.stderr.isTTY === true
  const cells = Math.max(10, Math.min(40, out.columns - label.length - 30))
  return {
    update: (done, newTotal) => {
      if (closed) return
      if (newTotal !== undefined) total = newTotal
      if (tty) {
        process.stderr.write(`\r\u001b[2K${render(label, done, total, cells)}`)
        return
      }
      if (out.json || total === undefined || total <= 0) return
      const tenth = Math.floor((Math.min(done, total) / total) * 10)
      if (tenth > lastTenth) {
        lastTenth = tenth
        out.writeErr(`${render(label, done, total, 20)}\n`)
      }
    },
    finish: (note) => {
      if (closed) return
      closed = true
      if (tty) process.stderr.write(`\r\u001b[2K${label}  done${note ? ` — ${note}` : ""}\n`)
      else if (!out.json && note) out.writeErr(`${label}  done — ${note}\n`)
    }
  }
}

/** Runs `work` with a bar that is finished (or cleared) whatever happens. */
export const withBar = <A, E, R>(
  label: string,
  total: number | undefined,
  work: (bar: Bar) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Output> =>
  Effect.flatMap(Output, (out) =>
    Effect.acquireUseRelease(
      Effect.sync(() => make(out, label, total)),
      work,
      (bar) => Effect.sync(() => bar.finish())
    )
  )
