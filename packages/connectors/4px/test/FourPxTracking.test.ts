/**
 * `tracking.pull`: scans appear as the sandbox clock moves the parcel along, come back oldest first
 * with the instants the sandbox recorded (local time + `timeZone`), map through the code table to
 * core statuses, and a code nobody knows keeps its raw code and text with a safe status.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxTracking } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Effect } from "effect"
import { connect, parcelRequest } from "./support.ts"

const hour = 3_600_000
const second = (ms: number) => Math.floor(ms / 1000) * 1000

describe("FourPxTracking code table", () => {
  it("maps known codes, categories, config overrides and unknown codes", () => {
    const table = FourPxTracking.codeTable(
      { FPX_D_HQ: "exception", "FPX_M_*": "picked_up", FPX_Q_NEW: "returned" },
      "in_transit"
    )
    const status = (code: string) => table.status(code)
    assert.deepStrictEqual(status("FPX_L_RPIF"), { status: "info_received", mapped: true })
    assert.deepStrictEqual(status("FPX_C_SPLS"), { status: "picked_up", mapped: true })
    assert.deepStrictEqual(status("FPX_C_AAF"), { status: "in_transit", mapped: true })
    assert.deepStrictEqual(status("FPX_I_CC"), { status: "customs", mapped: true })
    assert.deepStrictEqual(status("FPX_D_SD"), { status: "out_for_delivery", mapped: true })
    assert.deepStrictEqual(status("FPX_D_FD"), { status: "exception", mapped: true })
    assert.deepStrictEqual(status("FPX_D_UNDG"), { status: "exception", mapped: true })
    // Not every D code is a delivery (one community mapper got this wrong).
    assert.deepStrictEqual(status("FPX_D_AAD"), { status: "in_transit", mapped: true })
    assert.deepStrictEqual(status("FPX_S_OKGP"), { status: "delivered", mapped: true })
    assert.deepStrictEqual(status("FPX_C_DT"), { status: "exception", mapped: true })
    // Overrides win, exact and by prefix.
    assert.deepStrictEqual(status("FPX_D_HQ"), { status: "exception", mapped: true })
    assert.deepStrictEqual(status("FPX_M_DFOA"), { status: "picked_up", mapped: true })
    assert.deepStrictEqual(status("fpx_q_new"), { status: "returned", mapped: true })
    assert.deepStrictEqual(status("UPS_XYZ"), { status: "in_transit", mapped: false })
    assert.deepStrictEqual(FourPxTracking.codeTable({}, "exception").status("WHATEVER"), {
      status: "exception",
      mapped: false
    })
  })

  it("reads local times with their offsets", () => {
    assert.strictEqual(FourPxTracking.offsetMinutes("UTC+08:00"), 480)
    assert.strictEqual(FourPxTracking.offsetMinutes("GMT-5"), -300)
    assert.strictEqual(FourPxTracking.offsetMinutes("+0530"), 330)
    assert.strictEqual(FourPxTracking.offsetMinutes("UTC"), 0)
    assert.isUndefined(FourPxTracking.offsetMinutes(""))
    assert.isUndefined(FourPxTracking.offsetMinutes(null))
    assert.strictEqual(
      FourPxTracking.instantOf("2026-11-20 08:30:00", "UTC+08:00", "+00:00")!.toISOString(),
      "2026-11-20T00:30:00.000Z"
    )
    assert.strictEqual(
      FourPxTracking.instantOf("2026-11-20 08:30:00", undefined, "+08:00")!.toISOString(),
      "2026-11-20T00:30:00.000Z"
    )
    assert.strictEqual(
      FourPxTracking.instantOf("2026-11-19 19:30:00", "UTC-05:00", "+08:00")!.toISOString(),
      "2026-11-20T00:30:00.000Z"
    )
    assert.strictEqual(FourPxTracking.instantOf("1763598600000", undefined, "+08:00")!.getTime(), 1_763_598_600_000)
    assert.isUndefined(FourPxTracking.instantOf("yesterday", "UTC", "+08:00"))
  })

  it("sorts newest-first lists oldest first and keeps unreadable scans aside", () => {
    const mapped = FourPxTracking.toEvents({
      trackingNumber: "4PX1",
      carrier: "4PX",
      table: FourPxTracking.codeTable({}, "in_transit"),
      fallbackZone: "+08:00",
      items: [
        {
          businessLinkCode: "FPX_S_OK",
          occurDatetime: "2026-11-25 10:00:00",
          timeZone: "UTC+00:00",
          trackingContent: "Delivered",
          city: "London",
          country: "GB"
        },
        { businessLinkCode: "FPX_X_??", occurDatetime: "soon" },
        {
          businessLinkCode: "FPX_L_RPIF",
          occurDatetime: "2026-11-20 09:00:00",
          timeZone: "UTC+08:00",
          occurLocation: "Shenzhen, CN"
        }
      ]
    })
    assert.deepStrictEqual(
      mapped.events.map((e) => [e.rawCode, e.status, e.occurredAt.toISOString(), e.location, e.description]),
      [
        ["FPX_L_RPIF", "info_received", "2026-11-20T01:00:00.000Z", "Shenzhen, CN", "FPX_L_RPIF"],
        ["FPX_S_OK", "delivered", "2026-11-25T10:00:00.000Z", "London, GB", "Delivered"]
      ]
    )
    assert.deepStrictEqual(
      mapped.unreadable.map((i) => i.businessLinkCode),
      ["FPX_X_??"]
    )
  })
})

describe("tracking.pull", () => {
  it.scopedLive("scans appear over sandbox time, oldest first, at the instants 4PX recorded them", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      const created = yield* services["shipment.create"].create(parcelRequest("TT-TRACK-1"))
      const tn = created.trackingNumber!
      const first = yield* services["tracking.pull"].track([tn])
      assert.deepStrictEqual(
        first.map((e) => [e.rawCode, e.status]),
        [["FPX_L_RPIF", "info_received"]]
      )

      sandbox.clock.advance(30 * hour)
      assert.strictEqual(sandbox.parcel("TT-TRACK-1")!.status, "C")
      const moving = yield* services["tracking.pull"].track([tn])
      assert.deepStrictEqual(
        moving.map((e) => [e.rawCode, e.status]),
        [
          ["FPX_L_RPIF", "info_received"],
          ["FPX_C_SPLS", "picked_up"],
          ["FPX_C_AAF", "in_transit"],
          ["FPX_C_ADFF", "in_transit"],
          ["FPX_M_HA", "in_transit"]
        ]
      )
      // Each event's instant is what the sandbox recorded, read back from local time + offset.
      const held = sandbox.tracking(tn)
      assert.deepStrictEqual(
        moving.map((e) => e.occurredAt.getTime()),
        held.map((s) => second(s.at))
      )
      for (const e of moving) {
        assert.strictEqual(e.trackingNumber, tn)
        assert.strictEqual(e.carrier, "4PX")
        assert.strictEqual(e.location, "Shenzhen, CN")
      }

      sandbox.clock.advance(7 * 24 * hour)
      const done = yield* services["tracking.pull"].track([tn])
      assert.deepStrictEqual(
        done.slice(-4).map((e) => [e.rawCode, e.status]),
        [
          ["FPX_M_ATA", "in_transit"],
          ["FPX_I_RCUK", "customs"],
          ["FPX_D_SD", "out_for_delivery"],
          ["FPX_S_OK", "delivered"]
        ]
      )
      // London is on UTC; the sandbox said so in timeZone and the instants still line up.
      const delivered = done[done.length - 1]!
      assert.strictEqual(delivered.location, "London, GB")
      assert.strictEqual(delivered.occurredAt.getTime(), second(sandbox.tracking(tn).at(-1)!.at))
      assert.strictEqual(sandbox.parcel("TT-TRACK-1")!.status, "F")
    })
  )

  it.scopedLive("unknown codes keep their raw code and text; config overrides apply; several numbers in one call", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ autoAdvance: false })
      const { services } = yield* connect(sandbox, {
        config: { trackingCodes: { FPX_D_HQ: "exception" }, trackingDefaultStatus: "in_transit" }
      })
      const a = yield* services["shipment.create"].create(parcelRequest("TT-TRACK-A"))
      const b = yield* services["shipment.create"].create(parcelRequest("TT-TRACK-B"))
      sandbox.clock.advance(1_000)
      sandbox.scan("TT-TRACK-A", { code: "FPX_Z_NEWCODE", content: "Colis en attente au point relais" })
      sandbox.clock.advance(1_000)
      sandbox.scan("TT-TRACK-A", { code: "FPX_D_HQ", content: "Held at depot" })
      const events = yield* services["tracking.pull"].track([
        a.trackingNumber!,
        b.trackingNumber!,
        a.trackingNumber!,
        "4PX9999999999999CN"
      ])
      const ofA = events.filter((e) => e.trackingNumber === a.trackingNumber)
      assert.deepStrictEqual(
        ofA.map((e) => [e.rawCode, e.status, e.description]),
        [
          ["FPX_L_RPIF", "info_received", "Parcel information received"],
          ["FPX_Z_NEWCODE", "in_transit", "Colis en attente au point relais"],
          ["FPX_D_HQ", "exception", "Held at depot"]
        ]
      )
      assert.strictEqual(events.filter((e) => e.trackingNumber === b.trackingNumber).length, 1)
      // One query per distinct number; the unknown number simply has no events.
      const queried = sandbox.requests("tr.order.tracking.get").map((r) => JSON.parse(r.text).deliveryOrderNo)
      assert.deepStrictEqual(queried, [a.trackingNumber, b.trackingNumber, "4PX9999999999999CN"])
    })
  )

  it.scopedLive("tracks by the last-mile number too, and refuses numbers longer than 4PX accepts", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox, { config: { trackingNumber: "lastMile" } })
      const created = yield* services["shipment.create"].create(parcelRequest("TT-TRACK-LM"))
      assert.strictEqual(created.trackingNumber, sandbox.parcel("TT-TRACK-LM")!.lastMileNumber)
      const events = yield* services["tracking.pull"].track([created.trackingNumber!])
      assert.strictEqual(events[0]!.rawCode, "FPX_L_RPIF")
      const long = yield* Effect.flip(services["tracking.pull"].track(["X".repeat(51)]))
      assert.strictEqual(long._tag, "Rejected")
      assert.strictEqual(sandbox.requests("tr.order.tracking.get").length, 1)
    })
  )
})
