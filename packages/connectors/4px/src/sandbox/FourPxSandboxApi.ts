/**
 * FourPxSandboxApi: the FOP methods the sandbox serves, with 4PX's request rules and answers.
 *
 * - `ds.xms.order.create` validates the body the way 4PX does (required fields, `BDS`, duty and
 *   delivery types, products, parcels and customs lines, sender post code and street length, the
 *   consignee-name rules `010101005`, a required state `010104001`, the recipient-phone blacklist)
 *   and keeps one order per `ref_no`: a repeat while the first is in flight answers `DS000007`, a
 *   repeat afterwards is refused (or answered with the existing order, when configured).
 * - `ds.xms.order.get` by `request_no` (ref_no, DS number, 4PX or last-mile number) or by a creation
 *   window of at most 7 days with a status filter.
 * - `ds.xms.order.cancel` only in forecast status (`DS000014` otherwise); `ds.xms.order.hold` likewise
 *   (`DS000032`).
 * - `ds.xms.label.get` answers `DS000046` (or an empty URL) until the label has rendered.
 * - `ds.xms.logistics_product.getlist` and `tr.order.tracking.get` (newest scan first).
 *
 * @since 0.1.0
 */
import type { MethodContext, MethodSpec, SandboxError } from "./FourPxSandboxGateway.ts"
import { err, FourPxFailure, fail } from "./FourPxSandboxGateway.ts"
import type { Consignment, Product, World } from "./FourPxSandboxState.ts"
import { localText, scansAt, zoneText } from "./FourPxSandboxState.ts"

/** Versions each method is offered in (those seen in public clients). */
export const defaultMethodVersions: Readonly<Record<string, ReadonlyArray<string>>> = {
  "ds.xms.order.create": ["1.0.0", "1.1.0", "1.0"],
  "ds.xms.order.get": ["1.0.0", "1.1.0"],
  "ds.xms.order.cancel": ["1.0.0"],
  "ds.xms.order.hold": ["1.0.0"],
  "ds.xms.label.get": ["1.0.0", "1.1.0"],
  "ds.xms.logistics_product.getlist": ["1.0.0"],
  "tr.order.tracking.get": ["1.0.0", "v1.0", "2.0.0"]
}

/** API behaviour settings. */
export interface ApiOptions {
  readonly world: World
  readonly products: ReadonlyArray<Product>
  readonly versions: Readonly<Record<string, ReadonlyArray<string>>>
  /** Apply the consignee-name rules (`010101005`). */
  readonly nameRules: boolean
  /** Destinations whose recipients need a state (`010104001`). */
  readonly stateRequiredCountries: ReadonlyArray<string>
  /** Distinct consignees one phone may serve before it is blacklisted; `undefined` disables. */
  readonly phoneReuseLimit: number | undefined
  /** A repeated `ref_no` after the first create finished: refused, or answered with the existing order. */
  readonly duplicateRefNo: "reject" | "return"
  /** Real milliseconds a create takes (a second create with the same `ref_no` meanwhile gets `DS000007`). */
  readonly createLatencyMs: number
  /** How a label that has not rendered is answered. */
  readonly labelNotReady: "error" | "empty"
  /** References held "in flight" (creates in progress, or pinned by the control API). */
  readonly inFlight: Map<string, number>
  /** The sandbox's base URL (label links point at it). */
  readonly baseUrl: () => string
}

type Obj = Record<string, unknown>

const isObj = (u: unknown): u is Obj => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (o: Obj | undefined, key: string): string | undefined => {
  const v = o?.[key]
  if (typeof v === "number") return String(v)
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined
}
const num = (o: Obj | undefined, key: string): number | undefined => {
  const v = o?.[key]
  if (typeof v === "number" && Number.isFinite(v)) return v
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v)
  return undefined
}
const obj = (o: Obj | undefined, key: string): Obj | undefined => (isObj(o?.[key]) ? (o![key] as Obj) : undefined)
const list = (o: Obj | undefined, key: string): ReadonlyArray<unknown> | undefined =>
  Array.isArray(o?.[key]) ? (o![key] as ReadonlyArray<unknown>) : undefined

const param = (field: string, cn: string, en: string): SandboxError =>
  err("DS000004", `参数错误: ${field} ${cn}`, `Parameter error: ${field} ${en}`, field)
const required = (field: string) => param(field, "不能为空", "is required")

const decimals = (n: number): number => {
  const text = String(n)
  const dot = text.indexOf(".")
  return dot === -1 ? 0 : text.length - dot - 1
}

/**
 * The consignee-name rule 4PX applies (`010101005`), as far as it is known: letters only — words of
 * A–Z separated by spaces; no digits, `.`, `'`, `-` or other scripts —, a given name and a surname
 * of at least 2 letters each, no word repeated (in any case), and 4–30 characters in all, spaces
 * included. The surname is `last_name`, or the last word of `first_name` when there is none.
 */
export const consigneeNameProblem = (first: string, last: string | undefined): string | undefined => {
  const tidy = (s: string) => s.trim().replace(/\s+/g, " ")
  const full = [tidy(first), tidy(last ?? "")].filter((part) => part !== "").join(" ")
  if (full.length < 4 || full.length > 30) return "length must be 4-30"
  if (!/^[A-Za-z]+( [A-Za-z]+)*$/.test(full)) return "must be letters"
  const words = full.split(" ")
  const lastName = tidy(last ?? "")
  const [given, surname] =
    lastName !== "" ? [tidy(first), lastName] : [words.slice(0, -1).join(" "), words.length > 1 ? words.at(-1)! : ""]
  if (given === "" || surname === "") return "surname and given name are both required"
  const letters = (s: string) => s.replace(/ /g, "").length
  if (letters(given) < 2 || letters(surname) < 2) return "surname and given name need at least 2 letters each"
  const lower = words.map((w) => w.toLowerCase())
  if (new Set(lower).size !== lower.length) return "words must not repeat"
  return undefined
}

/** Builds the method table. */
export const methods = (options: ApiOptions): Map<string, MethodSpec> => {
  const { world } = options
  const phones = new Map<string, Set<string>>()
  const versions = (m: string) => options.versions[m] ?? defaultMethodVersions[m] ?? ["1.0.0"]
  const product = (code: string | undefined) => options.products.find((p) => p.code === code)

  const validateAddress = (
    errors: Array<SandboxError>,
    address: Obj | undefined,
    field: string,
    needs: ReadonlyArray<string>
  ) => {
    if (address === undefined) {
      errors.push(required(field))
      return
    }
    for (const key of needs) if (str(address, key) === undefined) errors.push(required(`${field}.${key}`))
    const country = str(address, "country")
    if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
      errors.push(param(`${field}.country`, "必须是两位国家代码", "must be an ISO 3166-1 alpha-2 code"))
    }
  }

  const validateCreate = (b: Obj, ref: string): Array<SandboxError> => {
    const errors: Array<SandboxError> = []
    if (ref.length > 64) errors.push(param("ref_no", "长度不能超过64", "must be at most 64 characters"))
    const business = str(b, "business_type")
    if (business === undefined) errors.push(err("DS000009", "业务类型为空", "Business type is empty"))
    else if (business !== "BDS") errors.push(err("DS000044", "业务类型无效", `Invalid business type: ${business}`))
    const duty = str(b, "duty_type")
    if (duty !== "U" && duty !== "P") errors.push(param("duty_type", "必须是 U 或 P", "must be U or P"))
    const cargo = str(b, "cargo_type")
    if (cargo !== undefined && !["1", "2", "3", "5"].includes(cargo)) {
      errors.push(param("cargo_type", "必须是 1/2/3/5", "must be 1, 2, 3 or 5"))
    }
    const insure = str(b, "is_insure")
    if (insure !== "Y" && insure !== "N") errors.push(param("is_insure", "必须是 Y 或 N", "must be Y or N"))
    if (insure === "Y" && obj(b, "insurance_info") === undefined) errors.push(required("insurance_info"))

    const service = obj(b, "logistics_service_info")
    const code = str(service, "logistics_product_code")
    const chosen = product(code)
    if (code === undefined) errors.push(required("logistics_service_info.logistics_product_code"))
    else if (chosen === undefined) {
      errors.push(
        param(
          "logistics_service_info.logistics_product_code",
          `物流产品 ${code} 不可用`,
          `logistics product ${code} is not available to this account`
        )
      )
    }

    const back = obj(b, "return_info")
    if (back === undefined) errors.push(required("return_info"))
    else {
      for (const key of ["is_return_on_domestic", "is_return_on_oversea"]) {
        const v = str(back, key)
        if (v !== undefined && !["Y", "N", "U"].includes(v))
          errors.push(param(`return_info.${key}`, "必须是 Y/N/U", "must be Y, N or U"))
      }
    }

    const parcels = list(b, "parcel_list")
    if (parcels === undefined || parcels.length === 0) errors.push(required("parcel_list"))
    for (const [i, raw] of (parcels ?? []).entries()) {
      const p = isObj(raw) ? raw : undefined
      const at = `parcel_list[${i}]`
      const weight = num(p, "weight")
      if (weight === undefined || weight <= 0)
        errors.push(param(`${at}.weight`, "必须大于0(克)", "must be more than 0 (grams)"))
      const value = num(p, "parcel_value")
      if (value === undefined || value < 0) errors.push(required(`${at}.parcel_value`))
      else if (decimals(value) > 4) errors.push(param(`${at}.parcel_value`, "最多4位小数", "allows at most 4 decimals"))
      const currency = str(p, "currency")
      if (currency === undefined || !/^[A-Z]{3}$/.test(currency))
        errors.push(param(`${at}.currency`, "必须是三位币种", "must be an ISO 4217 code"))
      const battery = str(p, "include_battery")
      if (battery !== "Y" && battery !== "N")
        errors.push(param(`${at}.include_battery`, "必须是 Y 或 N", "must be Y or N"))
      if (battery === "Y" && chosen?.withBattery === "N") {
        errors.push(
          param(
            `${at}.include_battery`,
            `产品 ${chosen.code} 不接受带电`,
            `product ${chosen.code} does not accept batteries`
          )
        )
      }
      const lines = list(p, "declare_product_info")
      if (lines === undefined || lines.length === 0) errors.push(required(`${at}.declare_product_info`))
      for (const [j, rawLine] of (lines ?? []).entries()) {
        const line = isObj(rawLine) ? rawLine : undefined
        const lat = `${at}.declare_product_info[${j}]`
        if (
          str(line, "declare_product_code") === undefined &&
          str(line, "declare_product_name_en") === undefined &&
          str(line, "declare_product_name_cn") === undefined
        ) {
          errors.push(required(`${lat}.declare_product_name_en`))
        }
        const qty = num(line, "declare_product_code_qty")
        if (qty === undefined || qty <= 0 || !Number.isInteger(qty))
          errors.push(required(`${lat}.declare_product_code_qty`))
        const price = num(line, "declare_unit_price_export")
        if (price === undefined || price <= 0) errors.push(required(`${lat}.declare_unit_price_export`))
        const cur = str(line, "currency_export")
        if (cur === undefined || !/^[A-Z]{3}$/.test(cur)) errors.push(required(`${lat}.currency_export`))
        for (const key of ["brand_export", "brand_import"])
          if (str(line, key) === undefined) errors.push(required(`${lat}.${key}`))
        for (const key of ["hscode_export", "hscode_import"]) {
          const hs = str(line, key)
          if (hs !== undefined && !/^\d+$/.test(hs))
            errors.push(param(`${lat}.${key}`, "只能是数字", "must be digits only"))
        }
      }
    }

    const sender = obj(b, "sender")
    validateAddress(errors, sender, "sender", ["first_name", "country", "city", "phone"])
    if (sender !== undefined) {
      if (str(sender, "post_code") === undefined) {
        errors.push(err("DS000000", "发件人邮编不能为空", "Sender post code is required", "sender.post_code"))
      }
      const street = str(sender, "street") ?? ""
      if (street.length < 10 || street.length > 90) {
        errors.push(param("sender.street", "长度必须为10-90", "must be 10-90 characters"))
      }
    }

    const to = obj(b, "recipient_info")
    validateAddress(errors, to, "recipient_info", ["first_name", "phone", "country", "city", "street"])
    if (to !== undefined) {
      const first = str(to, "first_name")
      if (first !== undefined && options.nameRules) {
        const problem = consigneeNameProblem(first, str(to, "last_name"))
        if (problem !== undefined) {
          errors.push(
            err(
              "010101005",
              "收件人姓名必须为字母，姓和名均不少于2个字母，不能有重复单词，长度4-30",
              `Consignee name ${problem}: letters only, surname and given name of at least 2 letters each, no repeated word, 4-30 characters`,
              "recipient_info.first_name"
            )
          )
        }
      }
      const country = str(to, "country")
      if (country !== undefined && options.stateRequiredCountries.includes(country) && str(to, "state") === undefined) {
        errors.push(
          err("010104001", "收件人省/州不能为空", "Consignee province (state) is required", "recipient_info.state")
        )
      }
    }

    const deliver = obj(b, "deliver_type_info")
    const deliverType = str(deliver, "deliver_type")
    if (deliverType === undefined || !["1", "2", "3", "5"].includes(deliverType)) {
      errors.push(err("DS000042", "交货方式无效", `Invalid delivery type: ${deliverType ?? "(empty)"}`))
    }
    return errors
  }

  const blacklisted = (to: Obj): boolean => {
    const limit = options.phoneReuseLimit
    const phone = str(to, "phone")?.replace(/\D/g, "")
    if (limit === undefined || phone === undefined || phone === "") return false
    const name = [str(to, "first_name"), str(to, "last_name")].filter(Boolean).join(" ").toLowerCase()
    const names = phones.get(phone) ?? new Set<string>()
    return !names.has(name) && names.size >= limit
  }

  const remember = (to: Obj) => {
    const phone = str(to, "phone")?.replace(/\D/g, "")
    if (phone === undefined || phone === "") return
    const name = [str(to, "first_name"), str(to, "last_name")].filter(Boolean).join(" ").toLowerCase()
    const names = phones.get(phone) ?? new Set<string>()
    names.add(name)
    phones.set(phone, names)
  }

  const lastMile = (c: Consignment) => (c.lastMileAt <= world.clock.now() ? c.lastMileNo : "")

  const created = (c: Consignment) => ({
    ds_consignment_no: c.dsNo,
    "4px_tracking_no": c.trackingNo,
    label_barcode: c.trackingNo,
    logistics_channel_name: c.lastMileCarrier,
    ref_no: c.refNo,
    logistics_channel_no: lastMile(c),
    oda_result_sign: "N"
  })

  const consignment = (c: Consignment) => {
    const now = world.clock.now()
    const status = world.status(c)
    const inbound = c.steps[2]! <= now ? c.steps[2] : null
    const outbound = c.steps[3]! <= now ? c.steps[3] : null
    const confirmed = inbound !== null && status !== "X"
    return {
      consignment_info: {
        "4px_inbound_date": inbound,
        "4px_outbound_date": outbound,
        consignment_create_date: c.createdAt,
        "4px_tracking_no": c.trackingNo,
        ds_consignment_no: c.dsNo,
        ref_no: c.refNo,
        consignment_status: status,
        has_check_oda: "Y",
        oda_result_sign: "N",
        insure_status: "N",
        insure_type: null,
        is_hold_sign: c.holdSign,
        logistics_channel_no: lastMile(c),
        logistics_product_code: c.product.code,
        logistics_product_name: c.product.nameCn
      },
      parcel_confirm_info: confirmed
        ? {
            confirm_parcel_qty: 1,
            confirm_parcel_weight: c.weightGrams + 12,
            parcel_list_confirm_info: [
              {
                confirm_weight: c.weightGrams + 12,
                confirm_charge_weight: Math.max(c.weightGrams + 12, 50),
                confirm_volume_weight: 0,
                confirm_include_battery: "N",
                currency_code: "CNY"
              }
            ]
          }
        : null
    }
  }

  const mustFind = (requestNo: string | undefined): Consignment => {
    if (requestNo === undefined) return fail("DS000015", "请求单号为空", "Request number is empty")
    const c = world.find(requestNo)
    if (c === undefined) return fail("DS000017", "订单不存在", `Order not found: ${requestNo}`)
    return c
  }

  const create = async ({ body }: MethodContext) => {
    const ref = str(body, "ref_no")
    if (ref === undefined) return fail("DS000005", "订单号为空", "Order number (ref_no) is empty")
    if ((options.inFlight.get(ref) ?? 0) > 0) {
      return fail(
        "DS000007",
        "处理中，请稍后再试",
        `Processing: an order with ref_no ${ref} is in progress, retry later`
      )
    }
    const existing = world.byRefNo(ref)
    if (existing !== undefined) {
      if (options.duplicateRefNo === "return") return created(existing)
      return fail("DS000000", `参考号[${ref}]已存在`, `Reference number [${ref}] already exists`, "ref_no")
    }
    const errors = validateCreate(body, ref)
    if (errors.length > 0) throw new FourPxFailure(errors)
    const to = obj(body, "recipient_info")!
    if (blacklisted(to)) {
      return fail(
        "DS000000",
        "申报收件人黑名单",
        "The recipient is on the declaration blacklist (phone shared by too many consignees)",
        "recipient_info.phone"
      )
    }
    options.inFlight.set(ref, (options.inFlight.get(ref) ?? 0) + 1)
    try {
      if (options.createLatencyMs > 0) await new Promise((r) => setTimeout(r, options.createLatencyMs))
      const parcel = list(body, "parcel_list")![0] as Obj
      const c = world.create({
        refNo: ref,
        product: product(str(obj(body, "logistics_service_info"), "logistics_product_code"))!,
        body,
        destination: str(to, "country")!,
        destinationCity: str(to, "city")!,
        weightGrams: num(parcel, "weight") ?? 0
      })
      remember(to)
      return created(c)
    } finally {
      const left = (options.inFlight.get(ref) ?? 1) - 1
      if (left <= 0) options.inFlight.delete(ref)
      else options.inFlight.set(ref, left)
    }
  }

  const get = ({ body }: MethodContext) => {
    const requestNo = str(body, "request_no")
    if (requestNo !== undefined) return [consignment(mustFind(requestNo))]
    const start = num(body, "start_time_of_create_consignment")
    const end = num(body, "end_time_of_create_consignment")
    if (start === undefined) return fail("DS000021", "创建开始时间为空", "Create-time start is empty")
    if (end === undefined) return fail("DS000022", "创建结束时间为空", "Create-time end is empty")
    if (end < start || end - start > 7 * 86_400_000) {
      return fail("DS000023", "时间跨度不能超过7天", "The time span must be at most 7 days")
    }
    const status = str(body, "consignment_status") ?? "ALL"
    return world
      .all()
      .filter((c) => c.createdAt >= start && c.createdAt <= end)
      .filter((c) => status === "ALL" || world.status(c) === status)
      .map(consignment)
  }

  const cancel = ({ body }: MethodContext) => {
    const requestNo = str(body, "request_no")
    if (requestNo === undefined) return fail("DS000015", "请求单号为空", "Request number is empty")
    const reason = str(body, "cancel_reason")
    if (reason === undefined) return fail("DS000016", "取消原因为空", "Cancel reason is empty")
    if (reason.length > 128)
      return fail("DS000004", "取消原因不能超过128", "Parameter error: cancel_reason must be at most 128 characters")
    const c = world.find(requestNo)
    if (c === undefined) return fail("0", "找不到此订单", "Can not find this order")
    const status = world.status(c)
    if (status !== "P") {
      return fail(
        "DS000014",
        `订单不能取消(状态 ${status})`,
        `Order cannot be cancelled: status ${status} (only forecast orders can be cancelled)`
      )
    }
    world.cancel(c, reason)
    return null
  }

  const hold = ({ body }: MethodContext) => {
    const c = mustFind(str(body, "request_no"))
    const on = str(body, "is_hold")
    if (on !== "Y" && on !== "N") return fail("DS000035", "指令无效", "Invalid command: is_hold must be Y or N")
    if (on === "Y" && str(body, "hold_reason") === undefined)
      return fail("DS000034", "指令原因为空", "Command reason is empty")
    if (on === "Y") {
      if (c.holdSign === "S") return fail("DS000036", "已拦截", "Already intercepted")
      if (world.status(c) !== "P")
        return fail("DS000032", "非预报状态不能拦截", "Cannot intercept outside forecast status")
      world.hold(c, true)
    } else {
      if (c.holdSign !== "S") return fail("DS000037", "未拦截", "Not intercepted")
      world.hold(c, false)
    }
    return null
  }

  const labelSizes = ["label_80x90", "label_90x100", "label_100x100", "label_100x150", "label_100x200"]

  const label = ({ body }: MethodContext) => {
    const c = mustFind(str(body, "request_no"))
    const size = str(body, "label_size") ?? "label_80x90"
    if (!labelSizes.includes(size)) return fail("DS000019", "面单格式无效", `Label format invalid: ${size}`)
    const format = str(body, "response_label_format") ?? "PDF"
    if (format !== "PDF" && format !== "IMG") return fail("DS000019", "面单格式无效", `Label format invalid: ${format}`)
    const status = world.status(c)
    const ready = status !== "X" && c.labelReadyAt <= world.clock.now()
    if (!ready && (options.labelNotReady === "error" || status === "X")) {
      return fail("DS000046", "面单不存在", "Label does not exist")
    }
    const url = ready ? `${options.baseUrl()}/labels/${c.dsNo}-${size}.${format === "IMG" ? "png" : "pdf"}` : ""
    return {
      label_barcode: c.trackingNo,
      child_label_barcode: [],
      label_url_info: { logistics_label: url, custom_label: null, package_label: null, invoice_label: null }
    }
  }

  const products = ({ body }: MethodContext) => {
    const mode = str(body, "transport_mode") ?? "1"
    return options.products
      .filter((p) => mode === "1" || p.transportMode === mode)
      .map((p) => ({
        logistics_product_code: p.code,
        logistics_product_name_cn: p.nameCn,
        logistics_product_name_en: p.nameEn,
        transport_mode: p.transportMode,
        with_battery: p.withBattery,
        order_track: "Y",
        billing_volume_weight: "N",
        surface_mail: "N"
      }))
  }

  const tracking = ({ body }: MethodContext) => {
    const number = str(body, "deliveryOrderNo")
    if (number === undefined)
      return fail("DS000004", "参数错误: deliveryOrderNo 不能为空", "Parameter error: deliveryOrderNo is required")
    if (number.length > 50)
      return fail(
        "DS000004",
        "参数错误: deliveryOrderNo 超长",
        "Parameter error: deliveryOrderNo must be at most 50 characters"
      )
    const c = world.findByTrackingNumber(number)
    if (c === undefined) return { deliveryOrderNo: number, trackingList: [] }
    const scans = scansAt(c, world.clock.now())
    const allocated = lastMile(c)
    return {
      deliveryOrderNo: number,
      destinationCountry: c.destination,
      serverName: allocated === "" ? null : c.lastMileCarrier,
      serverNum: allocated === "" ? null : allocated,
      // Newest first, as 4PX lists them.
      trackingList: [...scans].reverse().map((s) => ({
        businessLinkCode: s.code,
        occurDatetime: localText(s.at, s.zoneMinutes),
        timeZone: zoneText(s.zoneMinutes),
        occurLocation: `${s.city}, ${s.country}`,
        country: s.country,
        city: s.city,
        trackingContent: s.content
      }))
    }
  }

  const table: Array<[string, MethodSpec["handler"]]> = [
    ["ds.xms.order.create", create],
    ["ds.xms.order.get", get],
    ["ds.xms.order.cancel", cancel],
    ["ds.xms.order.hold", hold],
    ["ds.xms.label.get", label],
    ["ds.xms.logistics_product.getlist", products],
    ["tr.order.tracking.get", tracking]
  ]
  return new Map(table.map(([name, handler]) => [name, { versions: versions(name), handler }]))
}
