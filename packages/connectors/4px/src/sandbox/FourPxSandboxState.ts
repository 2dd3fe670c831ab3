/**
 * FourPxSandboxState: the sandbox's world — consignments (parcels) moving through 4PX's status
 * machine on `SandboxClock` time, their tracking scans, labels and last-mile numbers.
 *
 * Status machine (`consignment_status`): `P` forecast → `V` handed over → `H` received in the
 * warehouse → `C` shipped out → `F` completed (delivered), with the side exits `X` closed
 * (cancelled, only from `P`) and `R` returned. Each step is scheduled at creation (offsets from the
 * lifecycle options, compressed by `lifecycleSpeed`) and happens when sandbox time reaches it, or at
 * once through `advance`. A step's scans are scheduled with it and never come before it, so the
 * visible history only ever grows.
 *
 * @since 0.1.0
 */
import type { SandboxClock } from "@tkbridge/connector-testkit"

/** `consignment_status` letters. */
export type Status = "P" | "V" | "H" | "C" | "F" | "R" | "X"

/** The forward path of a consignment. */
export const forward: ReadonlyArray<Status> = ["P", "V", "H", "C", "F"]

/** When each step happens after creation, in sandbox milliseconds (before `lifecycleSpeed`). */
export interface Lifecycle {
  readonly handedOverMs: number
  readonly receivedMs: number
  readonly shippedMs: number
  readonly deliveredMs: number
}

const hour = 3_600_000

/** 2 h to pickup, 6 h to the warehouse, 1 day to departure, 7 days to delivery. */
export const defaultLifecycle: Lifecycle = {
  handedOverMs: 2 * hour,
  receivedMs: 6 * hour,
  shippedMs: 24 * hour,
  deliveredMs: 168 * hour
}

/** A tracking scan as the sandbox schedules it. */
export interface Scan {
  readonly code: string
  readonly content: string
  readonly city: string
  readonly country: string
  /** Minutes east of UTC at the scan's place. */
  readonly zoneMinutes: number
  /** The step the scan belongs to (its time never precedes that step, nor passes the next one). */
  readonly step: number
  /** Offset after the step, sandbox ms. */
  readonly offsetMs: number
  /** Insertion order, to keep scans at the same instant in order. */
  readonly seq: number
}

/** A scan with its resolved time. */
export interface TimedScan extends Scan {
  readonly at: number
}

/** A logistics product of the sandbox account. */
export interface Product {
  readonly code: string
  readonly nameCn: string
  readonly nameEn: string
  /** `2` express, `3` small parcel, `4` dedicated line, `5` LianYouTong, `6` other. */
  readonly transportMode: string
  readonly withBattery: "Y" | "N"
}

/** Default products (codes seen in public sources; per-account in reality). */
export const defaultProducts: ReadonlyArray<Product> = [
  { code: "A2", nameCn: "4PX标准专线", nameEn: "4PX Express", transportMode: "4", withBattery: "N" },
  { code: "A6", nameCn: "4PX联邮通挂号", nameEn: "LYT GH", transportMode: "5", withBattery: "Y" },
  { code: "F3", nameCn: "4PX经济小包", nameEn: "4PX Economy Parcel", transportMode: "3", withBattery: "N" },
  { code: "API-TEST", nameCn: "API测试产品", nameEn: "API Test Product", transportMode: "6", withBattery: "Y" }
]

/** A consignment as the sandbox holds it. */
export interface Consignment {
  readonly dsNo: string
  readonly trackingNo: string
  readonly refNo: string
  readonly product: Product
  readonly createdAt: number
  /** The create body as received (parsed). */
  readonly body: Record<string, unknown>
  readonly destination: string
  readonly destinationCity: string
  readonly weightGrams: number
  /** Last-mile number and when it is allocated. */
  readonly lastMileNo: string
  lastMileAt: number
  readonly lastMileCarrier: string
  /** Step times (index = position in `forward`); `Infinity` when not scheduled. */
  readonly steps: Array<number>
  readonly scans: Array<Scan>
  labelReadyAt: number
  cancelledAt: number | undefined
  returnedAt: number | undefined
  /** `N` none, `Y` interception applied, `S` intercepted. */
  holdSign: "N" | "Y" | "S"
  cancelReason: string | undefined
}

/** Minutes east of UTC of a country's main time zone (the sandbox's destinations). */
export const zoneOf = (country: string): number => {
  const zones: Record<string, number> = {
    CN: 480,
    HK: 480,
    TW: 480,
    SG: 480,
    MY: 480,
    PH: 480,
    GB: 0,
    IE: 0,
    PT: 0,
    US: -300,
    CA: -300,
    MX: -360,
    BR: -180,
    DE: 60,
    FR: 60,
    ES: 60,
    IT: 60,
    NL: 60,
    BE: 60,
    AT: 60,
    PL: 60,
    SE: 60,
    DK: 60,
    CZ: 60,
    CH: 60,
    TH: 420,
    VN: 420,
    ID: 420,
    JP: 540,
    KR: 540,
    AU: 600,
    NZ: 720,
    SA: 180,
    AE: 240
  }
  return zones[country] ?? 0
}

const lastMileCarriers: Readonly<Record<string, string>> = {
  GB: "Royal Mail",
  US: "USPS",
  DE: "DHL Paket",
  FR: "La Poste",
  ES: "Correos",
  IT: "Poste Italiane",
  JP: "Japan Post",
  AU: "Australia Post",
  CA: "Canada Post"
}

/** Formats `UTC+08:00` for an offset in minutes. */
export const zoneText = (minutes: number): string => {
  const sign = minutes < 0 ? "-" : "+"
  const abs = Math.abs(minutes)
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`
}

/** Local `YYYY-MM-DD HH:mm:ss` of an instant at an offset. */
export const localText = (at: number, minutes: number): string =>
  new Date(at + minutes * 60_000).toISOString().slice(0, 19).replace("T", " ")

const origin = { city: "Shenzhen", country: "CN", zoneMinutes: 480 }

interface ScanTemplate {
  readonly step: number
  readonly offsetMs: number
  readonly code: string
  readonly content: string
  readonly where: "origin" | "destination"
}

/** The scans of a parcel's journey, by step (codes from live 4PX data). */
export const journey: ReadonlyArray<ScanTemplate> = [
  { step: 0, offsetMs: 0, code: "FPX_L_RPIF", content: "Parcel information received", where: "origin" },
  { step: 1, offsetMs: 0, code: "FPX_C_SPLS", content: "4PX picked up shipment", where: "origin" },
  { step: 2, offsetMs: 0, code: "FPX_C_AAF", content: "Arrived at facility and measured", where: "origin" },
  { step: 3, offsetMs: 0, code: "FPX_C_ADFF", content: "Departed facility to service provider", where: "origin" },
  { step: 3, offsetMs: 4 * hour, code: "FPX_M_HA", content: "Handed over to airline", where: "origin" },
  { step: 3, offsetMs: 10 * hour, code: "FPX_M_DFOA", content: "Departed from origin airport", where: "origin" },
  { step: 3, offsetMs: 30 * hour, code: "FPX_M_ATA", content: "Arrived at destination airport", where: "destination" },
  { step: 3, offsetMs: 40 * hour, code: "FPX_I_RCUK", content: "Released from customs", where: "destination" },
  { step: 3, offsetMs: 60 * hour, code: "FPX_D_SD", content: "Out for delivery", where: "destination" },
  { step: 4, offsetMs: 0, code: "FPX_S_OK", content: "Delivered", where: "destination" }
]

/** Where a consignment is at an instant. */
export const statusAt = (c: Consignment, now: number): Status => {
  if (c.cancelledAt !== undefined && c.cancelledAt <= now) return "X"
  if (c.returnedAt !== undefined && c.returnedAt <= now) return "R"
  let status: Status = "P"
  for (let i = 0; i < forward.length; i++) if (c.steps[i]! <= now) status = forward[i]!
  return status
}

/** The time of a scan: free scans (`step` −1) are absolute; scheduled ones follow their step, never passing the next. */
export const scanTime = (c: Consignment, scan: Scan): number => {
  if (scan.step < 0) return scan.offsetMs
  const start = c.steps[scan.step]!
  const next = c.steps[scan.step + 1] ?? Number.POSITIVE_INFINITY
  return Math.min(start + scan.offsetMs, next)
}

/** The scans visible at `now`, oldest first. A cancelled or returned parcel shows no scheduled scan after that. */
export const scansAt = (c: Consignment, now: number): ReadonlyArray<TimedScan> => {
  const cut = Math.min(c.cancelledAt ?? Number.POSITIVE_INFINITY, c.returnedAt ?? Number.POSITIVE_INFINITY)
  return c.scans
    .map((s) => ({ ...s, at: scanTime(c, s) }))
    .filter((s) => s.at <= now && (s.step < 0 || s.at <= cut))
    .sort((a, b) => a.at - b.at || a.seq - b.seq)
}

/** Options the world is built with. */
export interface WorldOptions {
  readonly lifecycle: Lifecycle
  /** Divides every lifecycle offset (e.g. 3600: an hour of the journey per sandbox second). */
  readonly lifecycleSpeed: number
  /** When false, parcels move only through `advance`. */
  readonly autoAdvance: boolean
  /** Sandbox ms from creation until the label renders. */
  readonly labelDelayMs: number
  /** Sandbox ms from creation until the last-mile number is allocated. */
  readonly lastMileDelayMs: number
}

/** The sandbox's consignments. */
export class World {
  readonly consignments = new Map<string, Consignment>()
  private readonly byRef = new Map<string, Consignment>()
  private readonly byNumber = new Map<string, Consignment>()
  private seq = 0
  private scanSeq = 0
  readonly clock: SandboxClock.SandboxClock
  readonly options: WorldOptions

  constructor(clock: SandboxClock.SandboxClock, options: WorldOptions) {
    this.clock = clock
    this.options = options
  }

  /** Creates a consignment and schedules its journey. */
  create(input: {
    readonly refNo: string
    readonly product: Product
    readonly body: Record<string, unknown>
    readonly destination: string
    readonly destinationCity: string
    readonly weightGrams: number
  }): Consignment {
    const now = this.clock.now()
    const n = ++this.seq
    const o = this.options
    const offsets = [
      0,
      o.lifecycle.handedOverMs,
      o.lifecycle.receivedMs,
      o.lifecycle.shippedMs,
      o.lifecycle.deliveredMs
    ].map((ms, i) => (i === 0 ? now : o.autoAdvance ? now + ms / o.lifecycleSpeed : Number.POSITIVE_INFINITY))
    const c: Consignment = {
      dsNo: `DS${String(800_900_000_000 + n).padStart(12, "0")}`,
      trackingNo: `4PX${String(3_001_291_000_000 + n * 7).padStart(13, "0")}CN`,
      refNo: input.refNo,
      product: input.product,
      createdAt: now,
      body: input.body,
      destination: input.destination,
      destinationCity: input.destinationCity,
      weightGrams: input.weightGrams,
      lastMileNo: `LM${String(5_100_000_000 + n).padStart(10, "0")}${input.destination}`,
      lastMileAt: now + o.lastMileDelayMs,
      lastMileCarrier: lastMileCarriers[input.destination] ?? "Local Post",
      steps: offsets,
      scans: [],
      labelReadyAt: now + o.labelDelayMs,
      cancelledAt: undefined,
      returnedAt: undefined,
      holdSign: "N",
      cancelReason: undefined
    }
    for (const t of journey) {
      const place =
        t.where === "origin"
          ? origin
          : { city: input.destinationCity, country: input.destination, zoneMinutes: zoneOf(input.destination) }
      c.scans.push({
        code: t.code,
        content: t.content,
        ...place,
        step: t.step,
        offsetMs: t.offsetMs / o.lifecycleSpeed,
        seq: ++this.scanSeq
      })
    }
    this.consignments.set(c.dsNo, c)
    this.byRef.set(c.refNo, c)
    for (const key of [c.dsNo, c.trackingNo, c.lastMileNo]) this.byNumber.set(key, c)
    return c
  }

  /** The consignment with this `ref_no`. */
  byRefNo(refNo: string): Consignment | undefined {
    return this.byRef.get(refNo)
  }

  /** The consignment a `request_no` names: ref_no, DS number, 4PX tracking number or last-mile number. */
  find(requestNo: string): Consignment | undefined {
    return this.byRef.get(requestNo) ?? this.byNumber.get(requestNo)
  }

  /** The consignment a tracking query names (4PX, DS or allocated last-mile number). */
  findByTrackingNumber(number: string): Consignment | undefined {
    const c = this.byNumber.get(number)
    if (c === undefined) return undefined
    if (number === c.lastMileNo && c.lastMileAt > this.clock.now()) return undefined
    return c
  }

  /** Current status. */
  status(c: Consignment): Status {
    return statusAt(c, this.clock.now())
  }

  /**
   * Brings the next step forward to now (or every step up to `to`). Scans scheduled before that
   * step happen now; later ones move earlier by the same amount.
   */
  advance(c: Consignment, to?: Status): Status {
    const target = to === undefined ? undefined : forward.indexOf(to)
    if (to !== undefined && target === -1) throw new Error(`cannot advance to ${to}: only ${forward.join(" → ")}`)
    for (;;) {
      const now = this.clock.now()
      const current = statusAt(c, now)
      if (current === "X" || current === "R" || current === "F") return current
      const index = forward.indexOf(current)
      if (target !== undefined && index >= target) return current
      if (c.holdSign === "S") throw new Error(`parcel ${c.refNo} is intercepted (hold); release it first`)
      const next = index + 1
      const at = c.steps[next]!
      if (at === Number.POSITIVE_INFINITY) {
        c.steps[next] = now
      } else {
        const shift = at - now
        for (let i = next; i < c.steps.length; i++) {
          if (c.steps[i] !== Number.POSITIVE_INFINITY) c.steps[i] = Math.max(now, c.steps[i]! - shift)
        }
      }
      if (to === undefined) return statusAt(c, now)
    }
  }

  /** Cancels a consignment now (the API checks that it is in forecast status). */
  cancel(c: Consignment, reason: string): void {
    c.cancelledAt = this.clock.now()
    c.cancelReason = reason
  }

  /** Sends a consignment back (side exit `R`). */
  markReturned(c: Consignment): void {
    c.returnedAt = this.clock.now()
  }

  /** Applies (`Y`) or releases (`N`) an interception; a held parcel stops moving. */
  hold(c: Consignment, on: boolean): void {
    const now = this.clock.now()
    if (on) {
      c.holdSign = "S"
      for (let i = 0; i < c.steps.length; i++) if (c.steps[i]! > now) c.steps[i] = Number.POSITIVE_INFINITY
      return
    }
    c.holdSign = "N"
    if (!this.options.autoAdvance) return
    const o = this.options
    const offsets = [
      0,
      o.lifecycle.handedOverMs,
      o.lifecycle.receivedMs,
      o.lifecycle.shippedMs,
      o.lifecycle.deliveredMs
    ]
    const current = forward.indexOf(statusAt(c, now))
    for (let i = current + 1; i < c.steps.length; i++) {
      c.steps[i] = now + (offsets[i]! - offsets[current]!) / o.lifecycleSpeed
    }
  }

  /** Adds a scan now (an exception, a code the built-in journey lacks). */
  addScan(
    c: Consignment,
    scan: { readonly code: string; readonly content: string; readonly city?: string; readonly country?: string }
  ): void {
    const now = this.clock.now()
    const country = scan.country ?? c.destination
    c.scans.push({
      code: scan.code,
      content: scan.content,
      city: scan.city ?? (country === c.destination ? c.destinationCity : origin.city),
      country,
      zoneMinutes: zoneOf(country),
      // A free scan belongs to no step: it sits exactly where it was added.
      step: -1,
      offsetMs: now,
      seq: ++this.scanSeq
    })
  }

  /** All consignments, oldest first. */
  all(): ReadonlyArray<Consignment> {
    return [...this.consignments.values()]
  }
}
