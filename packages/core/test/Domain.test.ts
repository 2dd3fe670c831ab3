import { describe, expect, it } from "@effect/vitest"
import {
  AfterSale,
  ChannelPolicy,
  Connection,
  Item,
  Listing,
  Order,
  Reservation,
  Shipment,
  StockLevel,
  TrackingEvent
} from "@tkbridge/core"
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

/** A valid input per schema, and the bad inputs every one of them must refuse, naming the field. */
const cases: ReadonlyArray<{
  readonly name: string
  readonly schema: Schema.Schema.AnyNoContext
  readonly valid: Record<string, unknown>
  readonly bad: ReadonlyArray<readonly [string, Record<string, unknown>, string]>
}> = [
  {
    name: "Reservation",
    schema: Reservation.Reservation,
    valid: {
      connection: "shop",
      orderId: "1001",
      lineId: "1",
      item: "MUG",
      qty: 2,
      state: "held",
      createdAt: "2026-11-26T10:00:00.000Z"
    },
    bad: [
      ["negative quantity", { qty: -2 }, "qty"],
      ["numeric order id", { orderId: 1001 }, "orderId"],
      ["unknown state", { state: "reserved" }, "state"]
    ]
  },
  {
    name: "AfterSale",
    schema: AfterSale.AfterSale,
    valid: {
      connection: "shop",
      externalId: "RT-1",
      orderId: "1001",
      kind: "return",
      status: "requested",
      lines: [{ externalSku: "MUG", qty: 1 }],
      updatedAt: "2026-11-26T10:00:00.000Z"
    },
    bad: [
      ["negative line quantity", { lines: [{ externalSku: "MUG", qty: -1 }] }, "qty"],
      ["numeric id", { externalId: 77 }, "externalId"],
      ["unknown status", { status: "pending_review" }, "status"],
      ["unknown kind", { kind: "exchange" }, "kind"]
    ]
  },
  {
    name: "Shipment",
    schema: Shipment.Shipment,
    valid: {
      orderConnection: "shop",
      orderId: "1001",
      fulfiller: "4px",
      reference: "shop-1001",
      carrier: "4PX",
      status: "created",
      lines: [{ externalSku: "MUG", qty: 1 }]
    },
    bad: [
      ["negative line quantity", { lines: [{ externalSku: "MUG", qty: -3 }] }, "qty"],
      ["numeric order id", { orderId: 1001 }, "orderId"],
      ["unknown status", { status: "lost" }, "status"]
    ]
  },
  {
    name: "TrackingEvent",
    schema: TrackingEvent.TrackingEvent,
    valid: {
      trackingNumber: "4PX3000123",
      carrier: "4PX",
      status: "in_transit",
      rawCode: "FPX_L_RPIF",
      description: "Departed facility",
      occurredAt: "2026-11-26T10:00:00.000Z"
    },
    bad: [
      ["numeric tracking number", { trackingNumber: 4300012 }, "trackingNumber"],
      ["unknown status", { status: "teleported" }, "status"]
    ]
  },
  {
    name: "Listing",
    schema: Listing.Listing,
    valid: { connection: "shop", externalSku: "A-3PK", components: [{ item: "A", qty: 3 }] },
    bad: [
      ["negative pack factor", { components: [{ item: "A", qty: -3 }] }, "qty"],
      ["numeric SKU", { externalSku: 1234 }, "externalSku"]
    ]
  },
  {
    name: "Item",
    schema: Item.Item,
    valid: { id: "MUG", safetyStock: 2 },
    bad: [
      ["negative safety stock", { safetyStock: -1 }, "safetyStock"],
      ["numeric id", { id: 42 }, "id"]
    ]
  },
  {
    name: "Connection",
    schema: Connection.Connection,
    valid: { id: "tiktok-uk", connector: "tiktok-shop" },
    bad: [
      ["numeric id", { id: 7 }, "id"],
      ["unknown status", { status: "sleeping" }, "status"]
    ]
  }
]

describe("every domain schema refuses bad input with a readable error naming the field", () => {
  for (const c of cases) {
    it(`${c.name}: accepts a well-formed value`, () => {
      const result = decode(c.schema, c.valid)
      expect(Either.isRight(result), Either.isLeft(result) ? result.left : "").toBe(true)
    })
    for (const [what, patch, field] of c.bad) {
      it(`${c.name}: refuses a ${what}`, () => {
        const result = decode(c.schema, { ...c.valid, ...patch })
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) expect(result.left).toContain(field)
      })
    }
  }
})
