/**
 * Log: structured JSON logs, one object per line, with personal data masked. Buyer names, phone
 * numbers, e-mail and street addresses must never reach a log; masking happens on the way out, by
 * key name and by pattern, so a careless annotation cannot leak them.
 *
 * @since 0.1.0
 */
import type { Layer } from "effect"
import { Cause, HashMap, List, Logger, Redacted } from "effect"

const piiKey =
  /^(name|first_?name|last_?name|full_?name|buyer_?name|recipient(_?name)?|phone(_?number)?|mobile|tel|email|e_?mail|address(_?line\d*)?|address_?detail|full_?address|street\d*|line\d|postal_?code|zip(_?code)?|post_?town|house_?number|buyer_?message|tax_?id|id_?number)$/i

const email = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi
// Only international-looking numbers (+44 …): bare digit runs are platform ids (TikTok order ids are 18 digits).
const phone = /\(?\+\d{1,3}\)?[\d\s-]{6,}\d/g

/** Masks one string: keeps the first character and the length's shape (`J***`). */
export const maskText = (value: string): string =>
  value.length <= 1 ? "*" : `${value[0]}${"*".repeat(Math.min(8, value.length - 1))}`

/** Masks personal data inside any value: PII keys are masked whole, e-mail and phone patterns anywhere. */
export const mask = (value: unknown, depth = 0): unknown => {
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (typeof value === "string") return value.replace(email, "<email>").replace(phone, "<phone>")
  if (depth > 8 || value === null || typeof value !== "object") return value
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map((v) => mask(v, depth + 1))
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      piiKey.test(k) && (typeof v === "string" || typeof v === "number") ? maskText(String(v)) : mask(v, depth + 1)
    ])
  )
}

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
