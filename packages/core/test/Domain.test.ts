import { describe, expect, it } from "@effect/vitest"
import { ChannelPolicy, Listing, Order, StockLevel } from "@tkbridge/core"
import { Either, ParseResult, Schema } from "effect"

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown) =>
  Either.mapLeft(Schema.decodeUnknownEither(schema)(input), (e) => ParseResult.TreeFormatter.formatErrorSync(e))

const order = {
  connection: "tiktok-uk",
  externalId: "576461413038785752",
  status: "awaiting_shipment",
  lines: [{ lineId: "1", externalSku: "MUG-RED", qty: 2 }],
  placedAt: "2026-11-26T10:00:00.000Z",
  updatedAt: "2026-11-26T10:05:00.000Z"
}

describe("domain schemas", () => {
  it("accept a well-formed order and keep 64-bit ids as exact strings", () => {
    const result = decode(Order.Order, order)
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) expect(result.right.externalId).toBe("576461413038785752")
  })

  it("reject a numeric id where a string id is required, naming the field", () => {
    const result = decode(Order.Order, { ...order, externalId: 5764614130 })
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left).toContain("externalId")
      expect(result.left).toContain("Expected string")
    }
  })

  it("reject an unknown order status and list the allowed ones", () => {
    const result = decode(Order.Order, { ...order, status: "SHIPPED_MAYBE" })
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left).toContain("status")
      expect(result.left).toContain('"awaiting_shipment"')
    }
  })

  it("reject negative and fractional quantities", () => {
    const negative = decode(StockLevel.StockLevel, { item: "MUG", location: "WH1", onHand: -1 })
    expect(Either.isLeft(negative)).toBe(true)
    if (Either.isLeft(negative)) expect(negative.left).toContain("onHand")
    const fractional = decode(Order.Order, { ...order, lines: [{ lineId: "1", externalSku: "MUG", qty: 1.5 }] })
    expect(Either.isLeft(fractional)).toBe(true)
    const zero = decode(Order.Order, { ...order, lines: [{ lineId: "1", externalSku: "MUG", qty: 0 }] })
    expect(Either.isLeft(zero)).toBe(true)
  })

  it("reject an order with no lines and a blank id", () => {
    expect(Either.isLeft(decode(Order.Order, { ...order, lines: [] }))).toBe(true)
    const blank = decode(Order.Order, { ...order, externalId: "  " })
    expect(Either.isLeft(blank)).toBe(true)
    if (Either.isLeft(blank)) expect(blank.left).toContain("must not be empty or blank")
  })

  it("tell single, multipack and bundle listings apart and refuse a component named twice", () => {
    const single = Schema.decodeUnknownSync(Listing.Listing)({
      connection: "shop",
      externalSku: "A",
      components: [{ item: "A", qty: 1 }]
    })
    const pack = Schema.decodeUnknownSync(Listing.Listing)({
      connection: "shop",
      externalSku: "A-3PK",
      components: [{ item: "A", qty: 3 }]
    })
    const bundle = Schema.decodeUnknownSync(Listing.Listing)({
      connection: "shop",
      externalSku: "KIT",
      components: [
        { item: "A", qty: 1 },
        { item: "B", qty: 2 }
      ]
    })
    expect([single.kind, pack.kind, bundle.kind]).toEqual(["single", "multipack", "bundle"])
    const twice = decode(Listing.Listing, {
      connection: "shop",
      externalSku: "KIT",
      components: [
        { item: "A", qty: 1 },
        { item: "A", qty: 2 }
      ]
    })
    expect(Either.isLeft(twice)).toBe(true)
  })

  it("default a channel policy to 100% with no buffer, and reject a share above 100%", () => {
    const policy = Schema.decodeUnknownSync(ChannelPolicy.ChannelPolicy)({ connection: "shop" })
    expect(policy.allocation).toEqual(new ChannelPolicy.ShareAllocation({ percent: 100 }))
    expect(policy.safetyBuffer).toBe(0)
    const over = decode(ChannelPolicy.ChannelPolicy, {
      connection: "shop",
      allocation: { _tag: "share", percent: 120 }
    })
    expect(Either.isLeft(over)).toBe(true)
    if (Either.isLeft(over)) expect(over.left).toContain("percent must be between 0 and 100")
  })
})
