/**
 * Progress: a progress bar for long work (initial catalog pull and pairing, full reconciliation,
 * bulk replay). On a terminal it redraws one line on stderr. Elsewhere (a service's log, a pipe) it
 * prints lines on stderr so unattended runs still show movement: at each tenth of the way when the
 * total is known, and at most every few seconds when it is not (a catalogue read page by page). In
 * `--json` mode it prints nothing (stdout carries only the JSON document).
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

/** How a bar draws; the defaults suit the process's own stderr. */
export interface BarOptions {
  /** Redraw one line in place (default: stderr is a terminal and the output is not JSON). */
  readonly tty?: boolean | undefined
  /** Without a total and outside a terminal: at most one line per this many ms (default 5 s). */
  readonly everyMs?: number | undefined
  /** The clock for `everyMs` (default `Date.now`). */
  readonly now?: (() => number) | undefined
}

/** The default spacing of progress lines of work whose total is unknown, outside a terminal. */
export const EVERY_MS = 5_000

const render = (label: string, done: number, total: number | undefined, cells: number) => {
  if (total === undefined || total <= 0) return `${label}  ${done}`
  const ratio = Math.min(1, done / total)
  const filled = Math.round(ratio * cells)
  return `${label}  [${"█".repeat(filled)}${"░".repeat(cells - filled)}] ${done}/${total} ${Math.floor(ratio * 100)}%`
}

/** Makes a bar on the given output. */
export const make = (
  out: OutputShape,
  label: string,
  initialTotal?: number | undefined,
  options: BarOptions = {}
): Bar => {
  let total = initialTotal
  let lastTenth = -1
  let closed = false
  const now = options.now ?? Date.now
  const everyMs = options.everyMs ?? EVERY_MS
  let lastLineAt = now()
  const tty = !out.json && (options.tty ?? (out.isTty && process.stderr.isTTY === true))
  const cells = Math.max(10, Math.min(40, out.columns - label.length - 30))
  return {
    update: (done, newTotal) => {
      if (closed || out.json) return
      if (newTotal !== undefined && newTotal !== total) {
        // Tenths of a new total: count them again.
        total = newTotal
        lastTenth = -1
      }
      if (tty) {
        out.writeErr(`\r\u001b[2K${render(label, done, total, cells)}`)
        return
      }
      if (total === undefined || total <= 0) {
        // No total to take tenths of: a line now and then says how far it got.
        const at = now()
        if (at - lastLineAt >= everyMs) {
          lastLineAt = at
          out.writeErr(`${render(label, done, undefined, 20)}\n`)
        }
        return
      }
      const tenth = Math.floor((Math.min(done, total) / total) * 10)
      if (tenth > lastTenth) {
        lastTenth = tenth
        out.writeErr(`${render(label, done, total, 20)}\n`)
      }
    },
    finish: (note) => {
      if (closed) return
      closed = true
      if (out.json) return
      if (tty) out.writeErr(`\r\u001b[2K${label}  done${note ? ` — ${note}` : ""}\n`)
      else if (note) out.writeErr(`${label}  done — ${note}\n`)
    }
  }
}

/** Runs `work` with a bar that is finished (or cleared) whatever happens. */
export const withBar = <A, E, R>(
  label: string,
  total: number | undefined,
  work: (bar: Bar) => Effect.Effect<A, E, R>,
  options?: BarOptions
): Effect.Effect<A, E, R | Output> =>
  Effect.flatMap(Output, (out) =>
    Effect.acquireUseRelease(
      Effect.sync(() => make(out, label, total, options)),
      work,
      (bar) => Effect.sync(() => bar.finish())
    )
  )
