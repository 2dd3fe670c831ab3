/**
 * Output: how commands talk to people and to scripts. Human output is aligned tables and short
 * status lines, coloured only when stdout is a terminal (and `NO_COLOR` is unset); `--json` prints
 * one JSON document on stdout and nothing else there. Column widths count East Asian wide characters
 * as two cells, so tables of Chinese product titles stay aligned.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Redacted } from "effect"

/** Where and how a command prints. */
export interface OutputShape {
  readonly json: boolean
  readonly color: boolean
  readonly isTty: boolean
  readonly write: (text: string) => void
  readonly writeErr: (text: string) => void
  readonly columns: number
}

/** The output settings of the running command. */
export class Output extends Context.Tag("tkbridge/Output")<Output, OutputShape>() {}

/** Output on the process's stdout/stderr. */
export const layerProcess = (options: { readonly json: boolean }): Layer.Layer<Output> =>
  Layer.sync(Output, () => {
    const isTty = process.stdout.isTTY === true
    const env = process.env
    const color = !options.json && env["NO_COLOR"] === undefined && (isTty || (env["FORCE_COLOR"] ?? "0") !== "0")
    return {
      json: options.json,
      color,
      isTty,
      write: (text) => void process.stdout.write(text),
      writeErr: (text) => void process.stderr.write(text),
      columns: process.stdout.columns ?? 100
    }
  })

const codes = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const

/** A colour or weight. */
export type Style = keyof typeof codes

/** Wraps `text` in ANSI codes when colour is on. */
export const paint = (out: OutputShape, style: Style, text: string): string =>
  out.color ? `\u001b[${codes[style]}m${text}\u001b[${style === "bold" || style === "dim" ? 22 : 39}m` : text

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")

const wide = (cp: number) =>
  (cp >= 0x1100 && cp <= 0x115f) ||
  (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
  (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0xfe30 && cp <= 0xfe4f) ||
  (cp >= 0xff00 && cp <= 0xff60) ||
  (cp >= 0xffe0 && cp <= 0xffe6) ||
  (cp >= 0x1f300 && cp <= 0x1faff) ||
  (cp >= 0x20000 && cp <= 0x3fffd)

/** Terminal cells `text` occupies (ANSI codes take none; wide characters take two). */
export const width = (text: string): number => {
  let n = 0
  for (const ch of text.replace(ansi, "")) n += wide(ch.codePointAt(0)!) ? 2 : 1
  return n
}

const pad = (text: string, cells: number, align: "left" | "right") => {
  const fill = " ".repeat(Math.max(0, cells - width(text)))
  return align === "right" ? fill + text : text + fill
}

/** A table column: header and alignment (numbers right-aligned). */
export interface Column {
  readonly header: string
  readonly align?: "left" | "right" | undefined
}

/** Renders rows as an aligned table with a header line. */
export const table = (
  out: OutputShape,
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): string => {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ""))))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => pad(cell, widths[i]!, columns[i]?.align ?? "left"))
      .join("  ")
      .trimEnd()
  const header = paint(out, "bold", line(columns.map((c) => c.header)))
  return [header, ...rows.map(line)].join("\n") + "\n"
}

/** Replaces `Redacted` values and `Date`s so a value can be printed as JSON without leaking a secret. */
export const toJsonSafe = (value: unknown): unknown => {
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonSafe(v)]))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toJsonSafe(v)])
    )
  }
  return value
}

/** Prints a JSON document (json mode) or the human text. */
export const emit = (human: (out: OutputShape) => string, json: () => unknown) =>
  Effect.flatMap(Output, (out) =>
    Effect.sync(() => {
      if (out.json) out.write(`${JSON.stringify(toJsonSafe(json()), null, 2)}\n`)
      else out.write(human(out))
    })
  )

/** Prints a line for people (nothing in json mode, so stdout stays one JSON document). */
export const info = (text: string) =>
  Effect.flatMap(Output, (out) => Effect.sync(() => (out.json ? out.writeErr(`${text}\n`) : out.write(`${text}\n`))))

/** A status mark: ✓ pass, ! warn, ✗ fail, - skip. */
export const mark = (out: OutputShape, status: "pass" | "warn" | "fail" | "skip"): string =>
  status === "pass"
    ? paint(out, "green", "✓")
    : status === "warn"
      ? paint(out, "yellow", "!")
      : status === "fail"
        ? paint(out, "red", "✗")
        : paint(out, "gray", "-")
