/**
 * `shipment.create` against the sandbox over real HTTP: the create body built from a domain order
 * (recipient, piece, customs lines in major units, sender, product), idempotency on the reference,
 * `DS000007` in flight, 4PX's field validations surfacing as `Rejected` with the field message,
 * labels awaited until rendered (on the real clock with short waits, and on TestClock with the
 * default 2 s / 2 min), cancellation only in forecast status, the product list. Every assertion
 * reads what the sandbox holds.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxConfig, FourPxShipment } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { Chunk, Clock, Duration, Effect, Either, Fiber, Option, Schema, TestClock } from "effect"
import { connect, gbAddress, parcelRequest } from "./support.ts"

type Obj = Record<string, unknown>
const at = (o: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k as string], o)

/** A real-time pause: the sandbox answers over real sockets whatever clock the test runs on. */
const realPause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))

/** Waits in real time (up to 10 s) until `ok()` holds. */
const eventually = (ok: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 5_000 && !ok(); i++) yield* realPause
    assert.isTrue(ok(), "the condition never held")
  })

/**
 * Under TestClock: once `fiber` sleeps between two looks (a sleep at most `every` ahead — an HTTP
 * request in flight has its 30 s timeout pending instead), moves TestClock and the sandbox clock
 * together to its wake-up. False once the fiber has finished.
 */
const nextLook = <A, E>(sandbox: FourPxSandbox.FourPxSandbox, fiber: Fiber.Fiber<A, E>, every: number) =>
  Effect.gen(function* () {
    for (;;) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return false
      const now = yield* Clock.currentTimeMillis
      const due = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t - now <= every)
      if (due.length > 0) {
        const step = Math.min(...due) - now
        sandbox.clock.advance(step)
        yield* TestClock.adjust(step)
        return true
      }
      yield* realPause
    }
  })

describe("shipment.create", () => {
  it.scopedLive("creates a 4PX parcel from the order: recipient, piece, customs lines, sender and product", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox, { config: { salesPlatform: "TIKTOK", iossNo: "IM1234567890" } })
      const created = yield* services["shipment.create"].create(parcelRequest("TT-576461413038785752-1"))
      const held = sandbox.parcel("TT-576461413038785752-1")!
      assert.deepStrictEqual(created, {
        externalId: held.dsNo,
        reference: "TT-576461413038785752-1",
        trackingNumber: held.trackingNumber,
        carrier: "4PX",
        pending: false
      })
      assert.strictEqual(held.status, "P")
      assert.strictEqual(held.product, "A2")
      const body = held.body
      assert.strictEqual(body.business_type, "BDS")
      assert.strictEqual(body.duty_type, "U")
      assert.strictEqual(body.is_insure, "N")
      assert.strictEqual(body.sales_platform, "TIKTOK")
      assert.strictEqual(body.ioss_no, "IM1234567890")
      assert.strictEqual(body.trade_id, "576461413038785752")
      assert.deepStrictEqual(at(body, "recipient_info"), {
        first_name: "Alice",
        last_name: "Walker",
        phone: "+44 20 7946 0018",
        email: "alice@example.co.uk",
        post_code: "NW1 6XE",
        country: "GB",
        state: "Greater London",
        city: "London",
        street: "221B Baker Street, Flat 2"
      })
      assert.strictEqual(at(body, "sender", "post_code"), "518057")
      assert.strictEqual(at(body, "deliver_type_info", "deliver_type"), "1")
      assert.strictEqual(at(body, "deliver_type_info", "pick_up_info", "pick_up_address_info", "city"), "Shenzhen")
      const parcel = at(body, "parcel_list", 0) as Obj
      assert.strictEqual(parcel.weight, 640)
      assert.strictEqual(parcel.length, 20)
      // 2 × £12.99 + 1 × £8.50, in pounds.
      assert.strictEqual(parcel.parcel_value, 34.48)
      assert.strictEqual(parcel.currency, "GBP")
      assert.strictEqual(parcel.include_battery, "N")
      const [mug, tea] = parcel.declare_product_info as Array<Obj>
      assert.deepInclude(mug, {
        declare_product_name_cn: "陶瓷杯",
        declare_product_name_en: "Ceramic mug",
        declare_product_code_qty: 2,
        declare_unit_price_export: 12.99,
        currency_export: "GBP",
        hscode_export: "691200",
        origin_country: "CN",
        unit_net_weight: 250,
        brand_export: "none",
        brand_import: "none",
        package_remarks: "MUG-RED"
      })
      assert.strictEqual(tea!.declare_unit_price_import, 8.5)
      assert.notProperty(tea, "declare_product_name_cn")
    })
  )

  it.scopedLive("a repeated reference returns the parcel 4PX already holds, never a second one", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      const first = yield* create.create(parcelRequest("TT-REPEAT-1"))
      const second = yield* create.create(parcelRequest("TT-REPEAT-1"))
      assert.deepStrictEqual(second, first)
      assert.strictEqual(sandbox.count("TT-REPEAT-1"), 1)
      // 4PX refused the second create; the connector found the first one by reference.
      const creates = sandbox.requests("ds.xms.order.create")
      assert.strictEqual(creates.length, 2)
      assert.include(creates[1]!.text, "TT-REPEAT-1")
      assert.strictEqual(sandbox.requests("ds.xms.order.get").length, 1)

      // With a gateway that answers duplicates with the existing order, the answer is the same.
      const returning = yield* FourPxSandbox.scoped({ duplicateRefNo: "return" })
      const other = yield* connect(returning)
      const a = yield* other.services["shipment.create"].create(parcelRequest("TT-REPEAT-2"))
      const b = yield* other.services["shipment.create"].create(parcelRequest("TT-REPEAT-2"))
      assert.deepStrictEqual(b, a)
      assert.strictEqual(returning.count("TT-REPEAT-2"), 1)
    })
  )

  it.scopedLive("a create still in flight at 4PX (DS000007) is reported pending, then resolves", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      sandbox.setProcessing("TT-FLIGHT-1", true)
      const pending = yield* create.create(parcelRequest("TT-FLIGHT-1"))
      assert.deepStrictEqual(pending, {
        externalId: "TT-FLIGHT-1",
        reference: "TT-FLIGHT-1",
        carrier: "4PX",
        pending: true
      })
      assert.strictEqual(sandbox.count("TT-FLIGHT-1"), 0)
      // Polling the pending parcel while 4PX still has no order: retry later, not a dead end.
      const polled = yield* Effect.flip(create.get("TT-FLIGHT-1"))
      assert.strictEqual(polled._tag, "Transient")
      assert.include(polled.message, "still processing?")
      // The in-flight create failed inside 4PX: creating the reference again makes the parcel.
      sandbox.setProcessing("TT-FLIGHT-1", false)
      const done = yield* create.create(parcelRequest("TT-FLIGHT-1"))
      assert.isFalse(done.pending)
      assert.strictEqual(done.externalId, sandbox.parcel("TT-FLIGHT-1")!.dsNo)
      assert.deepStrictEqual(yield* create.get("TT-FLIGHT-1"), done)
    })
  )

  it.scopedLive("two concurrent creates of one reference: one parcel, one answer with it, one pending", () =>
    Effect.gen(function* () {
      // Both creates are sent at once; the second reaches 4PX while the first is inside its 500 ms.
      const sandbox = yield* FourPxSandbox.scoped({ createLatencyMs: 500 })
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      const results = yield* Effect.all(
        [create.create(parcelRequest("TT-RACE-1")), create.create(parcelRequest("TT-RACE-1"))],
        { concurrency: 2 }
      )
      assert.strictEqual(sandbox.count("TT-RACE-1"), 1)
      const held = sandbox.parcel("TT-RACE-1")!
      const settled = {
        externalId: held.dsNo,
        reference: "TT-RACE-1",
        trackingNumber: held.trackingNumber,
        carrier: "4PX",
        pending: false
      }
      const inFlight = { externalId: "TT-RACE-1", reference: "TT-RACE-1", carrier: "4PX", pending: true }
      // Whichever came first made the parcel; the other got DS000007, looked it up (not there yet)
      // and answered pending — never a second parcel, never an error.
      assert.sameDeepMembers([...results], [settled, inFlight])
      assert.strictEqual(sandbox.requests("ds.xms.order.create").length, 2)
      assert.strictEqual(sandbox.requests("ds.xms.order.get").length, 1)
      // Polling the pending one finds the parcel the first create made.
      assert.deepStrictEqual(yield* create.get("TT-RACE-1"), settled)
    })
  )

  it.scopedLive("4PX's field validations come back Rejected with the field message, and nothing is created", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      const badName = yield* Effect.flip(
        create.create(parcelRequest("TT-NAME-1", { shipTo: gbAddress({ name: "Jo" }) }))
      )
      assert.strictEqual(badName._tag, "Rejected")
      assert.strictEqual(badName.code, "010101005")
      assert.include(badName.message, "Consignee name")
      assert.include(badName.message, "recipient_info.first_name")
      const repeated = yield* Effect.flip(
        create.create(parcelRequest("TT-NAME-2", { shipTo: gbAddress({ name: "Anna Anna" }) }))
      )
      assert.strictEqual(repeated.code, "010101005")
      const noPhone = yield* Effect.flip(
        create.create(parcelRequest("TT-PHONE-1", { shipTo: gbAddress({ phone: undefined }) }))
      )
      assert.strictEqual(noPhone.code, "DS000004")
      assert.include(noPhone.message, "recipient_info.phone")
      assert.strictEqual(sandbox.parcels().length, 0)
    })
  )

  it.scopedLive("names with accents, apostrophes and hyphens are mended to 4PX's letters-only rule, not refused", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      for (const [reference, name] of [
        ["TT-NAME-3", "Seán O'Brien"],
        ["TT-NAME-4", "Mary-Jane St. John"]
      ] as const) {
        const parcel = yield* create.create(parcelRequest(reference, { shipTo: gbAddress({ name }) }))
        assert.isFalse(parcel.pending, name)
      }
      assert.strictEqual(sandbox.parcels().length, 2)
    })
  )

  it.scopedLive("a GB address without a state gets the city as its state, unless that fallback is off", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const { services } = yield* connect(sandbox)
      yield* services["shipment.create"].create(
        parcelRequest("TT-STATE-1", { shipTo: gbAddress({ state: undefined }) })
      )
      assert.strictEqual(at(sandbox.parcel("TT-STATE-1")!.body, "recipient_info", "state"), "London")
      const strict = yield* connect(sandbox, { config: { stateFallback: "none" } })
      const error = yield* Effect.flip(
        strict.services["shipment.create"].create(
          parcelRequest("TT-STATE-2", { shipTo: gbAddress({ state: undefined }) })
        )
      )
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error.code, "010104001")
      assert.isUndefined(sandbox.parcel("TT-STATE-2"))
    })
  )

  it("refuses requests that cannot make a valid parcel before calling 4PX", () => {
    const sandboxConfig = {
      appKey: "k",
      appSecret: "s",
      sender: {
        firstName: "Wei",
        phone: "13800138000",
        postCode: "518057",
        country: "CN",
        city: "Shenzhen",
        street: "1 Keji South Road"
      }
    }
    const config = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)(sandboxConfig)
    const problem = (request: ReturnType<typeof parcelRequest>) => {
      const result = FourPxShipment.createBody(config, request)
      return Either.isLeft(result) ? result.left.code : "ok"
    }
    assert.strictEqual(problem(parcelRequest("R-1")), "product_missing")
    assert.strictEqual(problem(parcelRequest("R-1", { service: "A2", declarations: [] })), "declarations")
    assert.strictEqual(problem(parcelRequest("x".repeat(65), { service: "A2" })), "ref_no")
    assert.strictEqual(problem(parcelRequest("R-1", { service: "A2", weightGrams: 0 })), "weight")
    const mixed = parcelRequest("R-1", { service: "A2" })
    assert.strictEqual(
      problem({ ...mixed, declarations: [mixed.declarations[0]!, { ...mixed.declarations[1]!, currency: "EUR" }] }),
      "currency"
    )
    assert.strictEqual(problem(parcelRequest("R-1", { service: "A2" })), "ok")
    // Minor units follow each currency's digits: yen has none.
    const yen = FourPxShipment.createBody(config, {
      ...mixed,
      declarations: [{ ...mixed.declarations[0]!, currency: "JPY", unitValue: 1500, qty: 1 }]
    })
    assert.isTrue(Either.isRight(yen))
    if (Either.isRight(yen)) assert.strictEqual(yen.right.parcel_list[0]!.parcel_value, 1500)
    assert.deepStrictEqual(FourPxShipment.splitName("Mary Ann Smith"), { first: "Mary Ann", last: "Smith" })
    assert.deepStrictEqual(FourPxShipment.splitName("  Madonna "), { first: "Madonna" })
    // 4PX takes letters and spaces only: punctuation and accents are mended, not refused.
    assert.deepStrictEqual(FourPxShipment.splitName("Seán O'Brien"), { first: "Sean", last: "OBrien" })
    assert.deepStrictEqual(FourPxShipment.splitName("Mary-Jane St. John"), { first: "Mary Jane St", last: "John" })
    assert.deepStrictEqual(FourPxShipment.splitName("Zoë  Smith-Jones"), { first: "Zoe Smith", last: "Jones" })
    assert.deepStrictEqual(FourPxShipment.splitName("王 小明"), { first: "王", last: "小明" })
    assert.strictEqual(FourPxShipment.consigneeName("J.R.R. Tolkien (gift)"), "JRR Tolkien gift")
  })

  it.scopedLive("get reads the parcel by reference; a reference 4PX does not hold is Transient, not NotFound", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ lastMileDelayMs: 3_600_000 })
      const { services } = yield* connect(sandbox, { config: { trackingNumber: "lastMile" } })
      const create = services["shipment.create"]
      const created = yield* create.create(parcelRequest("TT-GET-1"))
      // The last-mile number is not allocated yet: pending until 4PX has it.
      assert.isTrue(created.pending)
      assert.isUndefined(created.trackingNumber)
      sandbox.allocateLastMile("TT-GET-1")
      const got = yield* create.get("TT-GET-1")
      assert.isFalse(got.pending)
      assert.strictEqual(got.trackingNumber, sandbox.parcel("TT-GET-1")!.lastMileNumber)
      // 4PX cannot tell an unknown reference from one still processing: not there yet is Transient.
      const missing = yield* Effect.flip(create.get("TT-NOPE"))
      assert.strictEqual(missing._tag, "Transient")
      assert.strictEqual(missing.code, "DS000017")
      assert.include(missing.message, "4PX has no order TT-NOPE yet (still processing?)")
    })
  )

  it.scopedLive("label waits while 4PX renders the label, then links a printable PDF", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ labelDelayMs: 60_000 })
      const { services } = yield* connect(sandbox, {
        config: { labelSize: "label_100x150", labelWait: { every: 20, timeout: "30 seconds" } }
      })
      const create = services["shipment.create"]
      yield* create.create(parcelRequest("TT-LABEL-1"))
      const waiting = yield* Effect.fork(create.label("TT-LABEL-1"))
      // 4PX answers "no label" a few times; label keeps asking instead of failing.
      yield* eventually(() => sandbox.requests("ds.xms.label.get").length >= 3)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      sandbox.clock.advance(60_000)
      const label = yield* Fiber.join(waiting)
      assert.strictEqual(label.format, "pdf")
      assert.include(label.url!, `${sandbox.parcel("TT-LABEL-1")!.dsNo}-label_100x150.pdf`)
      // The parcel was looked up once, not on every look.
      assert.strictEqual(sandbox.requests("ds.xms.order.get").length, 1)
      const file = yield* Effect.promise(() =>
        fetch(label.url!).then(async (r) => ({
          status: r.status,
          type: r.headers.get("content-type"),
          text: await r.text()
        }))
      )
      assert.strictEqual(file.status, 200)
      assert.strictEqual(file.type, "application/pdf")
      assert.match(file.text, /^%PDF-1\.4/)
      assert.include(file.text, sandbox.parcel("TT-LABEL-1")!.trackingNumber)
      const [call] = sandbox.requests("ds.xms.label.get")
      assert.deepStrictEqual(JSON.parse(call!.text), {
        request_no: "TT-LABEL-1",
        response_label_format: "PDF",
        label_size: "label_100x150"
      })
      // No label for a reference 4PX does not hold: NotFound after one look, not a wait.
      const before = sandbox.requests("ds.xms.label.get").length
      assert.strictEqual((yield* Effect.flip(create.label("TT-NOPE")))._tag, "NotFound")
      assert.strictEqual(sandbox.requests("ds.xms.label.get").length, before + 1)
    })
  )

  it.scoped("by default label looks every 2 s and answers as soon as the label is rendered (TestClock)", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ labelDelayMs: 10_000 })
      yield* TestClock.setTime(sandbox.clock.now())
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      yield* create.create(parcelRequest("TT-LABEL-2"))
      const start = yield* Clock.currentTimeMillis
      const waiting = yield* Effect.fork(create.label("TT-LABEL-2"))
      while (yield* nextLook(sandbox, waiting, 2_000)) {}
      const label = yield* Fiber.join(waiting)
      assert.include(label.url!, sandbox.parcel("TT-LABEL-2")!.dsNo)
      // Looks at 0, 2, 4, 6, 8 and 10 s: the sixth finds the label.
      assert.strictEqual(sandbox.requests("ds.xms.label.get").length, 6)
      assert.strictEqual((yield* Clock.currentTimeMillis) - start, 10_000)
    })
  )

  it.scoped("a label never rendered fails Transient only once the 2-minute wait has passed (TestClock)", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ labelDelayMs: 3_600_000 })
      yield* TestClock.setTime(sandbox.clock.now())
      const { services } = yield* connect(sandbox)
      const create = services["shipment.create"]
      yield* create.create(parcelRequest("TT-LABEL-3"))
      const start = yield* Clock.currentTimeMillis
      const waiting = yield* Effect.fork(create.label("TT-LABEL-3"))
      // TestClock moves only while the fiber sleeps between looks, so the time it stopped at is
      // the time it failed: not one look before the deadline.
      while (yield* nextLook(sandbox, waiting, 2_000)) {}
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "label for TT-LABEL-3")
      assert.include(error.message, "after waiting 2m")
      assert.include(error.message, "not rendered")
      assert.strictEqual(error.code, "DS000046")
      assert.strictEqual((yield* Clock.currentTimeMillis) - start, 120_000)
      // A look every 2 s from 0 to 120 s inclusive, the last on the deadline.
      assert.strictEqual(sandbox.requests("ds.xms.label.get").length, 61)
      assert.include(error.message, "61 looks")
    })
  )

  it.scopedLive("rate limiting and gateway failures inside the wait are waited out; a refusal answers at once", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ labelDelayMs: 0 })
      const { services } = yield* connect(sandbox, {
        config: { rateLimitBackoffMs: 300, labelWait: { every: 10, timeout: "30 seconds" } }
      })
      const create = services["shipment.create"]
      yield* create.create(parcelRequest("TT-LABEL-4"))
      sandbox.fault("ds.xms.label.get", sandbox.fourPxError("000020", { times: 2 }))
      sandbox.fault("ds.xms.label.get", sandbox.fourPxError("000017", { times: 1 }))
      const label = yield* create.label("TT-LABEL-4")
      assert.include(label.url!, sandbox.parcel("TT-LABEL-4")!.dsNo)
      const looks = sandbox.requests("ds.xms.label.get")
      assert.strictEqual(looks.length, 4)
      // After 000017 the gateway's wait (rateLimitBackoffMs) applies, not the 10 ms cadence.
      assert.isAtLeast(looks[3]!.at - looks[2]!.at, 250)
      sandbox.clearFaults("ds.xms.label.get")
      sandbox.fault("ds.xms.label.get", sandbox.fourPxError("000016", { times: 1 }))
      const refused = yield* Effect.flip(create.label("TT-LABEL-4"))
      assert.strictEqual(refused._tag, "ScopeMissing")
      assert.strictEqual(sandbox.requests("ds.xms.label.get").length, 5)
      // A gateway that keeps rate limiting past the wait: RateLimited, keeping its wait.
      sandbox.fault("ds.xms.label.get", sandbox.fourPxError("000017"))
      const short = yield* connect(sandbox, {
        config: { rateLimitBackoffMs: 50, labelWait: { every: 10, timeout: "120 millis" } }
      })
      const limited = yield* Effect.flip(short.services["shipment.create"].label("TT-LABEL-4"))
      assert.strictEqual(limited._tag, "RateLimited")
      assert.include(limited.message, "still rate limiting")
      if (limited._tag === "RateLimited") assert.strictEqual(Duration.toMillis(limited.retryAfter), 50)
    })
  )

  it.scopedLive("a label answered with an empty URL is also not ready; IMG labels are PNG", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({ labelNotReady: "empty", labelDelayMs: 10_000 })
      const { services } = yield* connect(sandbox, {
        config: { labelFormat: "IMG", labelWait: { every: 20, timeout: "100 millis" } }
      })
      const create = services["shipment.create"]
      yield* create.create(parcelRequest("TT-IMG-1"))
      const early = yield* Effect.flip(create.label("TT-IMG-1"))
      assert.strictEqual(early._tag, "Transient")
      assert.include(early.message, "after waiting 100ms")
      assert.include(early.message, "not rendered")
      assert.isAtLeast(sandbox.requests("ds.xms.label.get").length, 2)
      // timeout 0: one look, no wait.
      const once = yield* connect(sandbox, { config: { labelFormat: "IMG", labelWait: { timeout: 0 } } })
      const before = sandbox.requests("ds.xms.label.get").length
      const single = yield* Effect.flip(once.services["shipment.create"].label("TT-IMG-1"))
      assert.strictEqual(single._tag, "Transient")
      assert.include(single.message, "without waiting")
      assert.strictEqual(sandbox.requests("ds.xms.label.get").length, before + 1)
      sandbox.labelReady("TT-IMG-1")
      const label = yield* create.label("TT-IMG-1")
      assert.strictEqual(label.format, "png")
      const type = yield* Effect.promise(() => fetch(label.url!).then((r) => r.headers.get("content-type")))
      assert.strictEqual(type, "image/png")
    })
  )

  it("labelWait takes milliseconds or a number and a unit, and refuses nonsense", () => {
    const decode = (labelWait: unknown) =>
      Schema.decodeUnknownEither(FourPxConfig.LabelWait)(labelWait).pipe(
        Either.map((w) => [Duration.toMillis(w.every), Duration.toMillis(w.timeout)])
      )
    assert.deepStrictEqual(decode({}), Either.right([2_000, 120_000]))
    assert.deepStrictEqual(decode({ every: 500, timeout: "3 minutes" }), Either.right([500, 180_000]))
    assert.deepStrictEqual(decode({ every: "1.5 seconds", timeout: 0 }), Either.right([1_500, 0]))
    for (const bad of [{ every: 0 }, { every: -1 }, { timeout: "soon" }, { timeout: "-2 seconds" }, { every: "2" }]) {
      assert.isTrue(Either.isLeft(decode(bad)), JSON.stringify(bad))
    }
  })

  it.scopedLive(
    "cancels in forecast status; once shipped 4PX refuses and the reason says why; a repeat cancel succeeds",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* FourPxSandbox.scoped()
        const { services } = yield* connect(sandbox, { config: { cancelReason: "Buyer cancelled on TikTok" } })
        const create = services["shipment.create"]
        yield* create.create(parcelRequest("TT-CANCEL-1"))
        yield* create.cancel("TT-CANCEL-1")
        assert.strictEqual(sandbox.parcel("TT-CANCEL-1")!.status, "X")
        assert.strictEqual(sandbox.parcel("TT-CANCEL-1")!.cancelReason, "Buyer cancelled on TikTok")
        yield* create.cancel("TT-CANCEL-1")
        assert.strictEqual(sandbox.parcel("TT-CANCEL-1")!.status, "X")
        // A cancelled parcel has no label, and its reference cannot ship again.
        assert.strictEqual((yield* Effect.flip(create.label("TT-CANCEL-1")))._tag, "Rejected")
        const again = yield* Effect.flip(create.create(parcelRequest("TT-CANCEL-1")))
        assert.strictEqual(again._tag, "Rejected")
        assert.include(again.message, "new reference")

        yield* create.create(parcelRequest("TT-CANCEL-2"))
        sandbox.advance("TT-CANCEL-2", "C")
        const refused = yield* Effect.flip(create.cancel("TT-CANCEL-2"))
        assert.strictEqual(refused._tag, "Rejected")
        assert.strictEqual(refused.code, "DS000014")
        assert.include(refused.message, "shipped out")
        assert.include(refused.message, "forecast")
        assert.strictEqual(sandbox.parcel("TT-CANCEL-2")!.status, "C")
        assert.strictEqual((yield* Effect.flip(create.cancel("TT-NOPE")))._tag, "NotFound")
      })
  )

  it.scopedLive("lists the account's logistics products", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped({
        products: [
          { code: "PX1", nameCn: "专线一", nameEn: "Line One", transportMode: "4", withBattery: "N" },
          { code: "PX2", nameCn: "小包二", nameEn: "", transportMode: "3", withBattery: "Y" }
        ]
      })
      const { services } = yield* connect(sandbox)
      const list = yield* services["shipment.create"].services
      assert.deepStrictEqual(list, [
        { code: "PX1", name: "Line One" },
        { code: "PX2", name: "小包二" }
      ])
      assert.deepStrictEqual(JSON.parse(sandbox.requests("ds.xms.logistics_product.getlist")[0]!.text), {
        transport_mode: "1"
      })
    })
  )
})
