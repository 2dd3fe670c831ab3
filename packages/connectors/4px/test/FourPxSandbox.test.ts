/**
 * The sandbox on its own, driven with raw HTTP: the gateway's checks in 4PX's order (method, app_key,
 * JSON, signature, token, rate limit), envelopes, the status machine on `SandboxClock` time, label
 * delay, the create validations and `ref_no` rules, cancel/hold rules, order queries, per-method
 * faults at a seeded rate, and the control API the engine scenarios drive.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxSign } from "@tkbridge/connector-4px"
import { FourPxSandbox, FourPxSandboxApi } from "@tkbridge/connector-4px/sandbox"
import { Effect } from "effect"

type Sandbox = FourPxSandbox.FourPxSandbox
type Envelope = {
  readonly result: string
  readonly msg: string
  readonly errors: Array<Record<string, unknown>> | null
  readonly data: unknown
}

const versions: Record<string, string> = {
  "ds.xms.order.create": "1.0.0",
  "ds.xms.order.get": "1.1.0",
  "ds.xms.order.cancel": "1.0.0",
  "ds.xms.order.hold": "1.0.0",
  "ds.xms.label.get": "1.0.0",
  "ds.xms.logistics_product.getlist": "1.0.0",
  "tr.order.tracking.get": "1.0.0"
}

interface RawOptions {
  readonly appKey?: string
  readonly secret?: string
  readonly v?: string
  readonly timestamp?: string
  readonly language?: string
  readonly accessToken?: string
  /** Signs this text instead of the body sent. */
  readonly signedBody?: string
  readonly sign?: (sign: string) => string
  readonly omit?: ReadonlyArray<string>
}

/** One raw FOP call, signed with the connector's signature (checked against pinned vectors in FourPxSign.test). */
const raw = (sandbox: Sandbox, method: string, body: unknown, options: RawOptions = {}) =>
  Effect.promise(async () => {
    const text = typeof body === "string" ? body : JSON.stringify(body)
    const params: Record<string, string> = {
      method,
      app_key: options.appKey ?? sandbox.appKey,
      v: options.v ?? versions[method] ?? "1.0.0",
      timestamp: options.timestamp ?? String(Math.floor(sandbox.clock.now())),
      format: "json"
    }
    const sign = FourPxSign.sign({
      params,
      body: options.signedBody ?? text,
      appSecret: options.secret ?? sandbox.appSecret
    })
    const query = new URLSearchParams({ ...params, sign: options.sign ? options.sign(sign) : sign })
    if (options.language !== undefined) query.set("language", options.language)
    if (options.accessToken !== undefined) query.set("access_token", options.accessToken)
    for (const name of options.omit ?? []) query.delete(name)
    const response = await fetch(`${sandbox.url}/router/api/service?${query}`, {
      method: "POST",
      headers: { "content-type": "application/json;charset=UTF-8" },
      body: text
    })
    const bodyText = await response.text()
    let json: Envelope | undefined
    try {
      json = JSON.parse(bodyText) as Envelope
    } catch {
      json = undefined
    }
    return { status: response.status, text: bodyText, json: json! }
  })

const code = (e: Envelope) => String(e.errors?.[0]?.error_code ?? e.errors?.[0]?.errorCode ?? "")
const codes = (e: Envelope) => (e.errors ?? []).map((x) => String(x.error_code))

const address = (overrides: Record<string, unknown> = {}) => ({
  first_name: "Alice",
  last_name: "Walker",
  phone: "+44 20 7946 0018",
  country: "GB",
  state: "Greater London",
  city: "London",
  post_code: "NW1 6XE",
  street: "221B Baker Street",
  ...overrides
})

const createBody = (ref: string, overrides: Record<string, unknown> = {}) => ({
  ref_no: ref,
  business_type: "BDS",
  duty_type: "U",
  is_insure: "N",
  logistics_service_info: { logistics_product_code: "A2" },
  return_info: { is_return_on_domestic: "N", is_return_on_oversea: "N" },
  parcel_list: [
    {
      weight: 500,
      parcel_value: 12.99,
      currency: "GBP",
      include_battery: "N",
      declare_product_info: [
        {
          declare_product_name_en: "Ceramic mug",
          declare_product_code_qty: 1,
          declare_unit_price_export: 12.99,
          currency_export: "GBP",
          brand_export: "none",
          brand_import: "none"
        }
      ]
    }
  ],
  sender: {
    first_name: "Wei",
    phone: "13800138000",
    country: "CN",
    city: "Shenzhen",
    post_code: "518057",
    street: "1 Keji South Road, Nanshan"
  },
  recipient_info: address(),
  deliver_type_info: { deliver_type: "1" },
  ...overrides
})

const hour = 3_600_000

describe("gateway", () => {
  it.scopedLive("checks method, app_key, JSON and signature in that order and answers envelopes", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const ok = yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(ok.json.result, "1")
      assert.strictEqual(ok.json.msg, "系统处理成功")
      assert.isNull(ok.json.errors)
      assert.isArray(ok.json.data)

      // Everything wrong at once: the first check decides.
      const everything = yield* raw(sandbox, "ds.xms.nope", "{bad", { appKey: "other", sign: () => "0".repeat(32) })
      assert.strictEqual(code(everything.json), "000011")
      assert.strictEqual(everything.json.result, "0")
      const keyFirst = yield* raw(sandbox, "ds.xms.order.get", "{bad", { appKey: "other", sign: () => "0".repeat(32) })
      assert.strictEqual(code(keyFirst.json), "000013")
      const jsonFirst = yield* raw(sandbox, "ds.xms.order.get", "{bad", { sign: () => "0".repeat(32) })
      assert.strictEqual(code(jsonFirst.json), "000004")
      const badSign = yield* raw(sandbox, "ds.xms.order.get", { request_no: "X" }, { sign: () => "0".repeat(32) })
      assert.strictEqual(code(badSign.json), "000012")
      assert.strictEqual(badSign.status, 200)
      assert.deepStrictEqual(Object.keys(badSign.json.errors![0]!), [
        "error_code",
        "error_msg",
        "error_data",
        "reference_code"
      ])
      assert.isNull(badSign.json.data)
    })
  )

  it.scopedLive(
    'never accepts a wrong signature: other secret, tampered body, signed {} vs "", or a missing sign',
    () =>
      Effect.gen(function* () {
        const sandbox = yield* FourPxSandbox.scoped()
        const body = { transport_mode: "1" }
        assert.strictEqual(
          code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, { secret: "wrong" })).json),
          "000012"
        )
        assert.strictEqual(
          code(
            (yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, { signedBody: '{"transport_mode":"2"}' }))
              .json
          ),
          "000012"
        )
        // One published client signs "" but sends {}: that cannot verify.
        assert.strictEqual(
          code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", "{}", { signedBody: "" })).json),
          "000012"
        )
        assert.strictEqual(
          code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, { omit: ["sign"] })).json),
          "000014"
        )
        assert.strictEqual(
          code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, { sign: (s) => s.slice(0, 31) })).json),
          "000012"
        )
        // Upper case is the same signature (a production client sends it so).
        const upper = yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, { sign: (s) => s.toUpperCase() })
        assert.strictEqual(upper.json.result, "1")
        // access_token and language ride along unsigned: adding them to a signed request keeps it valid.
        const extra = yield* raw(sandbox, "ds.xms.logistics_product.getlist", body, {
          language: "en",
          accessToken: sandbox.issueToken().accessToken
        })
        assert.strictEqual(extra.json.result, "1")
        assert.strictEqual(extra.json.msg, "System processing succeeded")
        const sent = new URLSearchParams(sandbox.requests("ds.xms.logistics_product.getlist").at(-1)!.query)
        assert.isNotNull(sent.get("access_token"))
        assert.strictEqual(sent.get("language"), "en")
      })
  )

  it.scopedLive("rejects missing parameters, format and version, stale timestamps when a tolerance is set", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ timestampToleranceMs: 600_000 })
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.order.get", {}, { omit: ["timestamp"] })).json), "000014")
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.order.get", {}, { v: "3.0.0" })).json), "000011")
      const stale = yield* raw(
        sandbox,
        "ds.xms.logistics_product.getlist",
        {},
        { timestamp: String(sandbox.clock.now() - 3_600_000) }
      )
      assert.strictEqual(code(stale.json), "000014")
      const fresh = yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})
      assert.strictEqual(fresh.json.result, "1")
    })
  )

  it.scopedLive("refuses a timestamp in seconds with 000014: FOP timestamps are epoch milliseconds", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const now = Math.floor(sandbox.clock.now())
      // Correctly signed, so only the timestamp itself can be what is refused.
      const seconds = yield* raw(
        sandbox,
        "ds.xms.logistics_product.getlist",
        {},
        { timestamp: String(Math.floor(now / 1000)), language: "en" }
      )
      assert.strictEqual(code(seconds.json), "000014")
      assert.include(String(seconds.json.errors![0]!.error_msg), "epoch milliseconds")
      for (const timestamp of ["1764201600.123", `${now}0`, "abc"]) {
        assert.strictEqual(
          code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {}, { timestamp })).json),
          "000014",
          timestamp
        )
      }
      // Seconds padded to milliseconds (one 2019 SDK sends time() . "000") are milliseconds.
      const padded = yield* raw(
        sandbox,
        "ds.xms.logistics_product.getlist",
        {},
        { timestamp: `${Math.floor(now / 1000)}000` }
      )
      assert.strictEqual(padded.json.result, "1")
      assert.strictEqual((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json.result, "1")
    })
  )

  it.scopedLive("an unknown method can be answered like the live gateway: HTTP 500 with an ApiException text", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ unknownMethod: "http500" })
      const answer = yield* raw(sandbox, "ds.xms.order.nope", {})
      assert.strictEqual(answer.status, 500)
      assert.include(answer.text, "ApiException")
    })
  )

  it.scopedLive("limits requests per minute per app with 000017, and the next minute is open again", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ rateLimitPerMinute: 3, clock: undefined })
      sandbox.clock.set(Math.floor(sandbox.clock.now() / 60_000) * 60_000 + 1_000)
      const answers: Array<string> = []
      for (let i = 0; i < 5; i++)
        answers.push((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json.result)
      assert.deepStrictEqual(answers, ["1", "1", "1", "0", "0"])
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json), "000017")
      sandbox.clock.advance(60_000)
      assert.strictEqual((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json.result, "1")
    })
  )

  it.scopedLive("vendor apps need a valid access_token; expired and unknown tokens get 000014", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ vendorApp: true })
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json), "000014")
      const token = sandbox.issueToken()
      assert.strictEqual(
        (yield* raw(sandbox, "ds.xms.logistics_product.getlist", {}, { accessToken: token.accessToken })).json.result,
        "1"
      )
      assert.strictEqual(
        code((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {}, { accessToken: "at-forged" })).json),
        "000014"
      )
      sandbox.clock.advance(7 * 24 * hour)
      const expired = yield* raw(
        sandbox,
        "ds.xms.logistics_product.getlist",
        {},
        { accessToken: token.accessToken, language: "en" }
      )
      assert.strictEqual(code(expired.json), "000014")
      assert.include(String(expired.json.errors![0]!.error_msg), "expired")
    })
  )

  it.scopedLive("per-method faults hit only that method, at a seeded rate that repeats run to run", () =>
    Effect.gen(function* () {
      const pattern = (sandbox: Sandbox) =>
        Effect.gen(function* () {
          sandbox.fault("ds.xms.logistics_product.getlist", sandbox.fourPxError("000020", { probability: 0.3 }))
          const out: Array<string> = []
          for (let i = 0; i < 30; i++)
            out.push((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).json.result)
          return out.join("")
        })
      const a = yield* pattern(yield* FourPxSandbox.scoped({ seed: 42 }))
      const b = yield* pattern(yield* FourPxSandbox.scoped({ seed: 42 }))
      assert.strictEqual(a, b)
      const failures = [...a].filter((r) => r === "0").length
      assert.isAbove(failures, 2)
      assert.isBelow(failures, 20)
      const sandbox = yield* FourPxSandbox.scoped({ seed: 42 })
      sandbox.fault("ds.xms.logistics_product.getlist", { status: 503, body: "busy" })
      assert.strictEqual((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).status, 503)
      assert.strictEqual((yield* raw(sandbox, "ds.xms.order.get", { request_no: "X" })).status, 200)
      sandbox.clearFaults("ds.xms.logistics_product.getlist")
      assert.strictEqual((yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})).status, 200)
      sandbox.fault("gateway", { status: 502, times: 1 })
      assert.strictEqual((yield* raw(sandbox, "ds.xms.order.get", { request_no: "X" })).status, 502)
      assert.throws(() => sandbox.fault("ds.xms.order.get", { drop: true }))
    })
  )

  it.scopedLive("sends data as a JSON string for the methods configured so", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ dataAsString: ["ds.xms.logistics_product.getlist"] })
      const list = yield* raw(sandbox, "ds.xms.logistics_product.getlist", {})
      assert.isString(list.json.data)
      assert.isArray(JSON.parse(list.json.data as string))
      const track = yield* raw(sandbox, "tr.order.tracking.get", { deliveryOrderNo: "4PX0" })
      assert.isObject(track.json.data)
    })
  )
})

describe("parcels", () => {
  it.scopedLive("move forecast → handed over → received → shipped → delivered on sandbox time", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const created = yield* raw(sandbox, "ds.xms.order.create", createBody("LIFE-1"))
      assert.strictEqual(created.json.result, "1")
      const data = created.json.data as Record<string, string>
      assert.match(data.ds_consignment_no!, /^DS\d{12}$/)
      assert.match(data["4px_tracking_no"]!, /^4PX\d{13}CN$/)
      const status = () => sandbox.parcel("LIFE-1")!.status
      const seen = [status()]
      for (const step of [2, 4, 18, 144]) {
        sandbox.clock.advance(step * hour)
        seen.push(status())
      }
      assert.deepStrictEqual(seen, ["P", "V", "H", "C", "F"])
      const got = yield* raw(sandbox, "ds.xms.order.get", { request_no: "LIFE-1" })
      const info = (got.json.data as Array<Record<string, Record<string, unknown>>>)[0]!
      assert.strictEqual(info.consignment_info!.consignment_status, "F")
      assert.isNumber(info.consignment_info!["4px_inbound_date"])
      assert.isNumber(info.consignment_info!["4px_outbound_date"])
      assert.strictEqual(info.parcel_confirm_info!.confirm_parcel_qty, 1)
      const codesSeen = sandbox.tracking(data["4px_tracking_no"]!).map((s) => s.code)
      assert.deepStrictEqual(codesSeen, [
        "FPX_L_RPIF",
        "FPX_C_SPLS",
        "FPX_C_AAF",
        "FPX_C_ADFF",
        "FPX_M_HA",
        "FPX_M_DFOA",
        "FPX_M_ATA",
        "FPX_I_RCUK",
        "FPX_D_SD",
        "FPX_S_OK"
      ])
      // The API lists them newest first.
      const tracked = yield* raw(sandbox, "tr.order.tracking.get", { deliveryOrderNo: data["4px_tracking_no"] })
      const list = (tracked.json.data as { trackingList: Array<{ businessLinkCode: string; timeZone: string }> })
        .trackingList
      assert.strictEqual(list[0]!.businessLinkCode, "FPX_S_OK")
      assert.strictEqual(list[0]!.timeZone, "UTC+00:00")
      assert.strictEqual(list.at(-1)!.timeZone, "UTC+08:00")
    })
  )

  it.scopedLive("a sped-up lifecycle, manual advancing, holds, returns and the label delay", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ lifecycleSpeed: 3600, labelDelayMs: 5_000 })
      yield* raw(sandbox, "ds.xms.order.create", createBody("FAST-1"))
      yield* raw(
        sandbox,
        "ds.xms.order.create",
        createBody("HOLD-1", { recipient_info: address({ first_name: "Bob", last_name: "Stone" }) })
      )
      // Hold only in forecast; a held parcel stops moving.
      const held = yield* raw(sandbox, "ds.xms.order.hold", {
        request_no: "HOLD-1",
        is_hold: "Y",
        hold_reason: "address check"
      })
      assert.strictEqual(held.json.result, "1")
      assert.strictEqual(sandbox.parcel("HOLD-1")!.holdSign, "S")
      const label = () => raw(sandbox, "ds.xms.label.get", { request_no: "FAST-1" })
      assert.strictEqual(code((yield* label()).json), "DS000046")
      sandbox.clock.advance(5_000)
      const ready = (yield* label()).json.data as { label_url_info: { logistics_label: string } }
      assert.match(ready.label_url_info.logistics_label, /\/labels\/DS\d+-label_80x90\.pdf$/)
      sandbox.clock.advance(200_000)
      assert.strictEqual(sandbox.parcel("FAST-1")!.status, "F")
      assert.strictEqual(sandbox.parcel("HOLD-1")!.status, "P")
      yield* raw(sandbox, "ds.xms.order.hold", { request_no: "HOLD-1", is_hold: "N" })
      // Released: the journey resumes from the current step (2 h to pickup, at 3600× speed).
      sandbox.clock.advance(2_500)
      assert.strictEqual(sandbox.parcel("HOLD-1")!.status, "V")
      assert.strictEqual(
        code(
          (yield* raw(sandbox, "ds.xms.order.hold", { request_no: "HOLD-1", is_hold: "Y", hold_reason: "late" })).json
        ),
        "DS000032"
      )
      sandbox.advance("HOLD-1", "F")
      sandbox.markReturned("HOLD-1")
      assert.strictEqual(sandbox.parcel("HOLD-1")!.status, "R")
    })
  )

  it.scopedLive("parcels move only through the control API when auto-advance is off", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ autoAdvance: false })
      yield* raw(sandbox, "ds.xms.order.create", createBody("MANUAL-1"))
      yield* raw(
        sandbox,
        "ds.xms.order.create",
        createBody("MANUAL-2", { recipient_info: address({ first_name: "Carol", last_name: "King" }) })
      )
      sandbox.clock.advance(30 * 24 * hour)
      assert.strictEqual(sandbox.parcel("MANUAL-1")!.status, "P")
      assert.strictEqual(sandbox.advance("MANUAL-1"), "V")
      assert.strictEqual(sandbox.advance("MANUAL-1", "C"), "C")
      sandbox.advanceAll()
      assert.deepStrictEqual(
        sandbox.parcels().map((p) => p.status),
        ["F", "F"]
      )
      assert.throws(() => sandbox.advance("NOPE"))
    })
  )

  it.scopedLive("validates create bodies like 4PX, reporting every problem at once", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const create = (ref: string, overrides: Record<string, unknown>) =>
        Effect.map(raw(sandbox, "ds.xms.order.create", createBody(ref, overrides), { language: "en" }), (r) => r.json)
      assert.deepStrictEqual(codes(yield* create("V-1", { business_type: "XYZ" })), ["DS000044"])
      assert.deepStrictEqual(codes(yield* create("V-2", { business_type: undefined })), ["DS000009"])
      assert.deepStrictEqual(codes(yield* create("V-3", { deliver_type_info: { deliver_type: "9" } })), ["DS000042"])
      assert.deepStrictEqual(codes(yield* create("V-4", { ref_no: undefined })), ["DS000005"])
      const sender = createBody("x").sender
      assert.deepStrictEqual(codes(yield* create("V-5", { sender: { ...sender, post_code: undefined } })), ["DS000000"])
      assert.deepStrictEqual(codes(yield* create("V-6", { sender: { ...sender, street: "Short st" } })), ["DS000004"])
      assert.deepStrictEqual(codes(yield* create("V-7", { recipient_info: address({ state: undefined }) })), [
        "010104001"
      ])
      for (const name of [
        ["Jo", undefined],
        ["Li", "N"],
        ["Anna", "anna"],
        ["王", "小明"],
        ["A".repeat(20), "B".repeat(12)],
        ["Sean", "O'Brien"],
        ["Mary-Jane", "Smith"]
      ] as const) {
        const answer = yield* create(`V-N-${name[0]}`, {
          recipient_info: address({ first_name: name[0], last_name: name[1] })
        })
        assert.deepStrictEqual(codes(answer), ["010101005"], name.join(" "))
      }
      assert.deepStrictEqual(
        codes(yield* create("V-8", { logistics_service_info: { logistics_product_code: "ZZ" } })),
        ["DS000004"]
      )
      const battery = createBody("V-9").parcel_list[0]!
      assert.deepStrictEqual(codes(yield* create("V-9", { parcel_list: [{ ...battery, include_battery: "Y" }] })), [
        "DS000004"
      ])
      const many = yield* create("V-10", {
        duty_type: "X",
        is_insure: undefined,
        recipient_info: address({ phone: undefined, city: undefined })
      })
      assert.deepStrictEqual(codes(many), ["DS000004", "DS000004", "DS000004", "DS000004"])
      assert.deepStrictEqual(
        many.errors!.map((e) => e.error_data),
        ["duty_type", "is_insure", "recipient_info.phone", "recipient_info.city"]
      )
      assert.strictEqual(sandbox.parcels().length, 0)
      // A non-GB address needs no state; a product that accepts batteries takes them.
      const us = yield* create("V-OK", {
        recipient_info: address({ country: "US", state: undefined }),
        logistics_service_info: { logistics_product_code: "A6" },
        parcel_list: [{ ...battery, include_battery: "Y", battery_type: "966" }]
      })
      assert.strictEqual(us.result, "1")
    })
  )

  it("consignee names: letters and spaces only, given name and surname of 2+ letters each, no repeat, 4-30", () => {
    const problem = FourPxSandboxApi.consigneeNameProblem
    // Accepted: the rule counts letters per part, not per word; the surname may sit in first_name.
    for (const [first, last] of [
      ["Alice", "Walker"],
      ["Mary Ann", "Smith"],
      ["Jo A", "Smith"],
      ["Al", "Li"],
      ["Alice Walker", undefined],
      ["  Alice   Walker ", undefined],
      ["A".repeat(15), "B".repeat(14)]
    ] as const) {
      assert.isUndefined(problem(first, last), `${first} ${last ?? ""}`)
    }
    // Refused: punctuation, digits and other scripts are not letters; parts of one letter; repeats; length.
    const refused: ReadonlyArray<readonly [string, string | undefined, string]> = [
      ["Sean", "O'Brien", "must be letters"],
      ["Mary-Jane", "Smith", "must be letters"],
      ["J. R.", "Smith", "must be letters"],
      ["Alice", "Walker2", "must be letters"],
      ["Zoë", "Walker", "must be letters"],
      ["王", "小明", "must be letters"],
      ["Li", "N", "surname and given name need at least 2 letters each"],
      ["A Walker", undefined, "surname and given name need at least 2 letters each"],
      ["Madonna", undefined, "surname and given name are both required"],
      ["Anna", "anna", "words must not repeat"],
      ["Jo", undefined, "length must be 4-30"],
      ["A".repeat(15), "B".repeat(15), "length must be 4-30"]
    ]
    for (const [first, last, why] of refused) assert.strictEqual(problem(first, last), why, `${first} ${last ?? ""}`)
  })

  it.scopedLive("keeps one order per ref_no and blacklists a phone shared by too many consignees", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ phoneReuseLimit: 2 })
      assert.strictEqual((yield* raw(sandbox, "ds.xms.order.create", createBody("DUP-1"))).json.result, "1")
      const again = yield* raw(sandbox, "ds.xms.order.create", createBody("DUP-1"), { language: "en" })
      assert.strictEqual(code(again.json), "DS000000")
      assert.include(String(again.json.errors![0]!.error_msg), "DUP-1")
      sandbox.setProcessing("DUP-2", true)
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.order.create", createBody("DUP-2"))).json), "DS000007")
      sandbox.setProcessing("DUP-2", false)
      const names = [
        ["Bob", "Stone"],
        ["Carol", "King"],
        ["Dave", "Gray"]
      ]
      const results: Array<string> = []
      for (const [i, [first, last]] of names.entries()) {
        const r = yield* raw(
          sandbox,
          "ds.xms.order.create",
          createBody(`PH-${i}`, { recipient_info: address({ first_name: first, last_name: last }) })
        )
        results.push(r.json.result === "1" ? "ok" : code(r.json))
      }
      // Alice and Bob used the phone: Carol is the third consignee and over the limit of two.
      assert.deepStrictEqual(results, ["ok", "DS000000", "DS000000"])
      assert.strictEqual(sandbox.count("DUP-1"), 1)
    })
  )

  it.scopedLive("cancels only in forecast status; queries by window of at most seven days", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ autoAdvance: false })
      yield* raw(sandbox, "ds.xms.order.create", createBody("C-1"))
      yield* raw(
        sandbox,
        "ds.xms.order.create",
        createBody("C-2", { recipient_info: address({ first_name: "Erin", last_name: "Moss" }) })
      )
      sandbox.advance("C-2", "H")
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.order.cancel", { request_no: "C-1" })).json), "DS000016")
      assert.strictEqual(code((yield* raw(sandbox, "ds.xms.order.cancel", { cancel_reason: "x" })).json), "DS000015")
      assert.strictEqual(
        code((yield* raw(sandbox, "ds.xms.order.cancel", { request_no: "C-9", cancel_reason: "x" })).json),
        "0"
      )
      assert.strictEqual(
        code((yield* raw(sandbox, "ds.xms.order.cancel", { request_no: "C-2", cancel_reason: "x" })).json),
        "DS000014"
      )
      const cancelled = yield* raw(sandbox, "ds.xms.order.cancel", { request_no: "C-1", cancel_reason: "buyer" })
      assert.deepStrictEqual(cancelled.json, { result: "1", msg: "系统处理成功", errors: null, data: null })
      assert.strictEqual(sandbox.parcel("C-1")!.status, "X")
      const now = sandbox.clock.now()
      const window = (start: number, end: number, status?: string) =>
        raw(sandbox, "ds.xms.order.get", {
          start_time_of_create_consignment: start,
          end_time_of_create_consignment: end,
          ...(status ? { consignment_status: status } : {})
        })
      assert.strictEqual(code((yield* window(now - 8 * 24 * hour, now)).json), "DS000023")
      const all = (yield* window(now - hour, now + hour)).json.data as Array<unknown>
      assert.strictEqual(all.length, 2)
      const closed = (yield* window(now - hour, now + hour, "X")).json.data as Array<{
        consignment_info: { ref_no: string }
      }>
      assert.deepStrictEqual(
        closed.map((c) => c.consignment_info.ref_no),
        ["C-1"]
      )
    })
  )
})
