import { describe, expect, it } from "@effect/vitest"
import { Address, Order, Pii } from "@tkbridge/core"
import { Effect, HashMap, Logger, Redacted } from "effect"

const grace = {
  name: "Grace Hopper",
  phone: "+44 20 7946 0958",
  email: "grace.hopper@example.com",
  line1: "12 Navy Yard Road",
  line2: "Flat 3",
  city: "London",
  postalCode: "SW1A 1AA",
  country: "GB"
}

const personal = ["Grace", "Hopper", "7946 0958", "grace.hopper", "Navy Yard", "Flat 3", "SW1A"]

const expectNoPii = (value: unknown) => {
  const text = JSON.stringify(value)
  for (const p of personal) expect(text).not.toContain(p)
}

describe("Pii", () => {
  it("masks an address and its contact fields, keeping what a support conversation needs", () => {
    const masked = Pii.mask(new Address.Address(grace)) as Record<string, string>
    expectNoPii(masked)
    expect(masked["name"]).toBe("G********")
    expect(masked["email"]).toBe("g***@***.com")
    expect(masked["phone"]).toBe("***-**58")
    expect(masked["country"]).toBe("GB")
  })

  it("masks structures under a personal key whole, at any depth, in snake_case and camelCase", () => {
    const masked = Pii.mask({
      order: { id: "577000000000000001", recipient_address: { full_address: "12 Navy Yard Road", region: "London" } },
      shipTo: grace,
      lines: [{ sku: "TEE-RED-M", buyer_message: "call Grace on arrival" }]
    })
    expectNoPii(masked)
    expect(JSON.stringify(masked)).toContain("577000000000000001")
    expect(JSON.stringify(masked)).toContain("TEE-RED-M")
    expect((masked as { shipTo: { country: string } }).shipTo.country).toBe("GB")
  })

  it("finds e-mail addresses and international phone numbers in free text, not platform ids", () => {
    const text = "buyer grace.hopper@example.com (+44 20 7946 0958) asked about order 577000000000000001"
    const masked = Pii.maskFreeText(text)
    expect(masked).toBe("buyer g***@***.com (***-**58) asked about order 577000000000000001")
  })

  it("never reveals secrets and copes with dates, bytes, bigints and cycles of depth", () => {
    const masked = Pii.mask({
      token: Redacted.make("s3cr3t"),
      at: new Date(0),
      raw: new Uint8Array(3),
      id: 576486316948490001n
    })
    expect(masked).toEqual({
      token: "<redacted>",
      at: "1970-01-01T00:00:00.000Z",
      raw: "<3 bytes>",
      id: "576486316948490001"
    })
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < 20; i++) {
      deep["next"] = {}
      deep = deep["next"] as Record<string, unknown>
    }
    expect(JSON.stringify(Pii.mask(root))).toContain("<nested too deep>")
  })

  it("a real order's buyer data is masked by the same rules", () => {
    const order = new Order.Order({
      connection: "tiktok-uk",
      externalId: "577000000000000001",
      status: "awaiting_shipment",
      lines: [new Order.OrderLine({ lineId: "1", externalSku: "TEE-RED-M", qty: 1 })],
      shipTo: new Address.Address(grace),
      placedAt: new Date(0),
      updatedAt: new Date(0)
    })
    expectNoPii(Pii.mask(order))
  })

  it.effect("annotateLogs masks the value before any logger sees it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const logger = Logger.make(({ annotations }) => {
        for (const [, v] of HashMap.toEntries(annotations)) seen.push(v)
      })
      yield* Effect.logInfo("order received").pipe(
        Pii.annotateLogs("shipTo", grace),
        Effect.annotateLogs(Pii.safeAnnotations({ contact: { email: grace.email } })),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      expect(seen).toHaveLength(2)
      expectNoPii(seen)
    })
  )
})
