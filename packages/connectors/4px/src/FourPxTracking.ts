/**
 * FourPxTracking: 4PX tracking scans (`tr.order.tracking.get`) as core `TrackingEvent`s, through a
 * code table the connection config can extend.
 *
 * The official code dictionary is not public. The built-in table holds the codes seen in live data
 * and community tests, and falls back to the code's category letter (`FPX_<letter>_…`): `L` origin
 * pickup, `C` warehouse, `M` line haul, `I` import clearance, `D` destination delivery, `S` signed.
 * A code no table knows keeps its raw code and text and gets a safe status (`in_transit` unless
 * configured), so nothing a carrier reports is lost.
 *
 * `occurDatetime` is local time at the scan (`YYYY-MM-DD HH:mm:ss`) with the offset in `timeZone`
 * (`UTC+08:00`); scans without an offset are read in the configured default (Beijing time). Events
 * come back oldest first, whatever order 4PX lists them in.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { ConnectorError, TrackingEvent } from "@tkbridge/core"
import { Effect } from "effect"
import type { FourPxClientShape } from "./FourPxClient.ts"
import type { TrackingItem } from "./FourPxSchema.ts"
import { TrackingData } from "./FourPxSchema.ts"

type Status = TrackingEvent.TrackingStatus

/** Exact codes with a status of their own. */
export const builtinCodes: Readonly<Record<string, Status>> = {
  FPX_L_RPIF: "info_received",
  FPX_C_SPLS: "picked_up",
  FPX_C_DT: "exception",
  FPX_D_SD: "out_for_delivery",
  FPX_D_OFD: "out_for_delivery",
  FPX_D_FD: "exception",
  FPX_D_UNDG: "exception",
  FPX_S_OK: "delivered"
}

/** Category prefixes, for codes not listed exactly. */
export const builtinPrefixes: ReadonlyArray<readonly [string, Status]> = [
  ["FPX_L_", "info_received"],
  ["FPX_C_", "in_transit"],
  ["FPX_M_", "in_transit"],
  ["FPX_I_", "customs"],
  ["FPX_D_", "in_transit"],
  ["FPX_S_", "delivered"],
  ["FPX_O_", "in_transit"],
  ["FPX_F_", "in_transit"]
]

/** A resolved code table: config overrides first, then the built-in table, then the default. */
export interface CodeTable {
  readonly status: (code: string) => { readonly status: Status; readonly mapped: boolean }
}

/** Builds the code table from config overrides (`CODE` or `PREFIX*` keys) and a default status. */
export const codeTable = (overrides: Readonly<Record<string, Status>>, fallback: Status): CodeTable => {
  const exact = new Map<string, Status>()
  const prefixes: Array<readonly [string, Status]> = []
  for (const [key, status] of Object.entries(overrides)) {
    const k = key.trim().toUpperCase()
    if (k.endsWith("*")) prefixes.push([k.slice(0, -1), status])
    else exact.set(k, status)
  }
  prefixes.sort((a, b) => b[0].length - a[0].length)
  return {
    status: (raw) => {
      const code = raw.trim().toUpperCase()
      const fromConfig = exact.get(code) ?? prefixes.find(([p]) => code.startsWith(p))?.[1]
      if (fromConfig !== undefined) return { status: fromConfig, mapped: true }
      const builtin = builtinCodes[code] ?? builtinPrefixes.find(([p]) => code.startsWith(p))?.[1]
      if (builtin !== undefined) return { status: builtin, mapped: true }
      return { status: fallback, mapped: false }
    }
  }
}

const offsetPattern = /([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$/
const localPattern = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.(\d{1,3}))?$/

/** Minutes east of UTC in `UTC+08:00`, `GMT+8`, `+0530`; `undefined` when there is no offset. */
export const offsetMinutes = (zone: string | null | undefined): number | undefined => {
  if (zone === undefined || zone === null) return undefined
  const trimmed = zone.trim()
  if (trimmed === "") return undefined
  if (/^(utc|gmt|z)$/i.test(trimmed)) return 0
  const m = offsetPattern.exec(trimmed)
  if (m === null) return undefined
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? "0")
  return m[1] === "-" ? -minutes : minutes
}

/**
 * The instant of a scan: local `YYYY-MM-DD HH:mm:ss` at `zone` (or `fallbackZone`), or epoch
 * milliseconds when 4PX sends a number. `undefined` when the text cannot be read.
 */
export const instantOf = (occur: string, zone: string | null | undefined, fallbackZone: string): Date | undefined => {
  const text = occur.trim()
  if (/^\d{12,13}$/.test(text)) return new Date(Number(text))
  const m = localPattern.exec(text)
  if (m === null) return undefined
  const offset = offsetMinutes(zone) ?? offsetMinutes(fallbackZone) ?? 0
  const utc = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? "0"),
    Number((m[7] ?? "0").padEnd(3, "0"))
  )
  return Number.isNaN(utc) ? undefined : new Date(utc - offset * 60_000)
}

/** The result of mapping one tracking answer: events, and scans whose time could not be read. */
export interface Mapped {
  readonly events: ReadonlyArray<TrackingEvent.TrackingEvent>
  readonly unreadable: ReadonlyArray<TrackingItem>
}

/** Maps the scans of one tracking number to events, oldest first. */
export const toEvents = (input: {
  readonly trackingNumber: string
  readonly carrier: string
  readonly items: ReadonlyArray<TrackingItem>
  readonly table: CodeTable
  readonly fallbackZone: string
}): Mapped => {
  const events: Array<TrackingEvent.TrackingEvent> = []
  const unreadable: Array<TrackingItem> = []
  for (const item of input.items) {
    const occurredAt = instantOf(item.occurDatetime, item.timeZone, input.fallbackZone)
    if (occurredAt === undefined) {
      unreadable.push(item)
      continue
    }
    const place = item.occurLocation?.trim() || [item.city, item.country].filter((s) => s?.trim()).join(", ")
    events.push(
      new TrackingEvent.TrackingEvent({
        trackingNumber: input.trackingNumber,
        carrier: input.carrier,
        status: input.table.status(item.businessLinkCode).status,
        rawCode: item.businessLinkCode,
        description: item.trackingContent?.trim() || item.businessLinkCode,
        occurredAt,
        ...(place ? { location: place } : {})
      })
    )
  }
  // Stable: scans at the same second keep 4PX's relative order reversed back to oldest first.
  const indexed = events.map((e, i) => [e, i] as const)
  const newestFirst =
    events.length > 1 && events[0]!.occurredAt.getTime() > events[events.length - 1]!.occurredAt.getTime()
  indexed.sort(
    (a, b) => a[0].occurredAt.getTime() - b[0].occurredAt.getTime() || (newestFirst ? b[1] - a[1] : a[1] - b[1])
  )
  return { events: indexed.map(([e]) => e), unreadable }
}

/** The longest number `tr.order.tracking.get` accepts. */
export const maxTrackingNumber = 50

/**
 * Builds the `tracking.pull` service on a client: one `tr.order.tracking.get` per distinct number,
 * one after another. A number 4PX does not know yields no events rather than failing the batch.
 */
export const make = (client: FourPxClientShape): Connector.TrackingPull => {
  const { config } = client
  const table = codeTable(config.trackingCodes, config.trackingDefaultStatus)

  const one = (
    trackingNumber: string
  ): Effect.Effect<ReadonlyArray<TrackingEvent.TrackingEvent>, ConnectorError.ConnectorError> =>
    client
      .call({ method: "tr.order.tracking.get", body: { deliveryOrderNo: trackingNumber }, data: TrackingData })
      .pipe(
        Effect.flatMap((data) => {
          const mapped = toEvents({
            trackingNumber,
            carrier: config.carrier,
            items: data?.trackingList ?? [],
            table,
            fallbackZone: config.trackingDefaultUtcOffset
          })
          const warn =
            mapped.unreadable.length === 0
              ? Effect.void
              : Effect.logWarning(
                  `4PX tracking ${trackingNumber}: ${mapped.unreadable.length} scan(s) with an unreadable time were skipped`
                ).pipe(
                  Effect.annotateLogs({
                    codes: mapped.unreadable.map((i) => i.businessLinkCode).join(","),
                    times: mapped.unreadable.map((i) => i.occurDatetime).join(",")
                  })
                )
          return Effect.as(warn, mapped.events)
        }),
        Effect.catchTag("NotFound", () => Effect.succeed([]))
      )

  const track = (
    trackingNumbers: ReadonlyArray<string>
  ): Effect.Effect<ReadonlyArray<TrackingEvent.TrackingEvent>, ConnectorError.ConnectorError> => {
    const distinct = [...new Set(trackingNumbers.map((n) => n.trim()).filter((n) => n !== ""))]
    const tooLong = distinct.find((n) => n.length > maxTrackingNumber)
    if (tooLong !== undefined) {
      return Effect.fail(
        new ConnectorError.Rejected({
          code: "deliveryOrderNo",
          connection: client.connection,
          message: `4PX tracking numbers are at most ${maxTrackingNumber} characters; got "${tooLong.slice(0, 60)}"`
        })
      )
    }
    return Effect.map(Effect.forEach(distinct, one), (lists) => lists.flat())
  }

  return { track }
}
