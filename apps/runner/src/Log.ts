/**
 * Log: structured JSON logs, one object per line, with personal data masked. Buyer names, phone
 * numbers, e-mail and street addresses must never reach a log; masking happens on the way out, by
 * key name and by pattern (core `Pii`), so a careless annotation cannot leak them.
 *
 * @since 0.1.0
 */
import { Pii } from "@tkbridge/core"
import type { Layer } from "effect"
import { Cause, HashMap, List, Logger } from "effect"

/**
 * Masks personal data inside any value, with core's `Pii` rules (the same the audit trail uses):
 * PII keys are masked whole, e-mail addresses and international phone numbers anywhere, `Redacted`
 * values become `<redacted>`; bare digit runs (platform ids) are kept.
 */
export const mask = (value: unknown): unknown => Pii.mask(value)

/** A logger writing one JSON object per line with `time`, `level`, `message`, annotations and spans, PII masked. */
export const jsonLogger = (write: (line: string) => void, masker: (value: unknown) => unknown = mask) =>
  Logger.make(({ annotations, cause, date, logLevel, message, spans }) => {
    const messages = Array.isArray(message) ? message : [message]
    const entry: Record<string, unknown> = {
      time: date.toISOString(),
      level: logLevel.label.toLowerCase(),
      message: messages.length === 1 ? messages[0] : messages
    }
    for (const [k, v] of HashMap.toEntries(annotations)) entry[k] = v
    const now = date.getTime()
    for (const span of List.toArray(spans)) entry[`span.${span.label}_ms`] = now - span.startTime
    if (!Cause.isEmpty(cause)) entry["cause"] = Cause.pretty(cause, { renderErrorCause: true })
    write(JSON.stringify(masker(entry)))
  })

/** Replaces the default logger with JSON lines on stdout. */
export const layerJson = (write: (line: string) => void = (l) => void process.stdout.write(`${l}\n`)) =>
  Logger.replace(Logger.defaultLogger, jsonLogger(write)) satisfies Layer.Layer<never>

/** Replaces the default logger with JSON lines appended to a stream (the demo's log file). */
export const layerFile = (stream: { readonly write: (chunk: string) => unknown }) =>
  Logger.replace(
    Logger.defaultLogger,
    jsonLogger((line) => void stream.write(`${line}\n`))
  ) satisfies Layer.Layer<never>
