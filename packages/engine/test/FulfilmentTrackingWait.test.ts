/**
 * The fulfilment workflow's durable wait for a tracking number (`tracking-wait-<i>` / `parcel-get-<i>`),
 * with a Memory shop as the channel, a Memory ERP as the items and stock source and a 4PX sandbox
 * shipping, over real HTTP on both composition roots:
 *
 * - a parcel 4PX creates without the number the seller ships under (the last-mile carrier's, which
 *   4PX allocates later) is asked about until the number comes, and then it is on the shop and the
 *   order's units are committed — one parcel all along;
 * - a parcel whose create 4PX keeps answering "in flight" (`DS000007`) never gets a number: after the
 *   tracking timeout the order is dead-lettered `retry_exhausted` with a message about the tracking
 *   number, its units still held; once 4PX is through, a replay ships it.
 */
import { describe, expect, it } from "@effect/vitest"
import { FourPxConfig, FourPxConnector } from "@tkbridge/connector-4px"
import type { FourPxSandbox as FourPxSandboxModule } from "@tkbridge/connector-4px/sandbox"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { MemoryConnector } from "@tkbridge/connector-memory"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { DeadLetter, Ledger, Parcels } from "@tkbridge/core"
import type { Engine } from "@tkbridge/engine"
import { EngineFlows, FulfilmentWorkflow } from "@tkbridge/engine"
import { Duration, Effect, Schema } from "effect"
import { connection, engineWithEdge, eventually, startEngine } from "./support/EngineHarness.ts"
import { roots } from "./support/Roots.ts"

const decodeMemory = Schema.decodeUnknownSync(MemoryConnector.manifest.config)
const decodeFourPx = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)

const flows = (trackingTimeout: Duration.DurationInput) =>
  new EngineFlows.EngineFlows({
    orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "4px" })],
    stock: new EngineFlows.StockFlow({
      sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.millis(500) })],
      channels: ["shop"]
    }),
    pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
    reconciliation: new EngineFlows.Reconciliation({ every: Duration.hours(1) }),
    fulfilment: new EngineFlows.FulfilmentDefaults({
      trackingPollEvery: Duration.millis(200),
      trackingTimeout: Duration.decode(trackingTimeout),
      trackingEventsEvery: Duration.hours(1)
    })
  })

/**
 * A shop selling the ERP's mug (10 units) and shipping with 4PX, the engine over `root` started and
 * subscribed. A check of the parcel that fails is tried once more, shortly, before it counts as
 * "no number yet".
 */
const scenario = <A, E, R>(
  root: (typeof roots)[number],
  options: {
    readonly trackingTimeout: Duration.DurationInput
    readonly fourpx?: FourPxSandboxModule.FourPxSandboxOptions
    readonly fourpxConfig?: Parameters<FourPxSandboxModule.FourPxSandbox["connectorConfig"]>[0]
  },
  body: (platforms: {
    readonly shop: MemorySandbox.MemorySandbox
    readonly fourpx: FourPxSandboxModule.FourPxSandbox
    readonly engine: Engine.EngineShape
  }) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const shop = yield* MemorySandbox.scoped({ name: "shop", rateLimit: false })
    const erp = yield* MemorySandbox.scoped({ name: "erp", rateLimit: false })
    const fourpx = yield* FourPxSandbox.scoped({
      labelDelayMs: 0,
      autoAdvance: false,
      rateLimitPerMinute: null,
      ...options.fourpx
    })
    erp.seedItems([{ sku: "MUG", title: "Mug", stock: 10 }])
    shop.seedItems([{ sku: "MUG", stock: 0 }])
    const layer = engineWithEdge({
      root: root.layer(),
      connections: [
        connection("shop", MemoryConnector.connector, decodeMemory(shop.connectorConfig())),
        connection("erp", MemoryConnector.connector, decodeMemory(erp.connectorConfig())),
        connection("4px", FourPxConnector.connector, decodeFourPx(fourpx.connectorConfig(options.fourpxConfig)))
      ],
      flows: flows(options.trackingTimeout),
      stepRetry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 }
    })
    return yield* Effect.gen(function* () {
      const engine = yield* startEngine({
        grants: [
          ["shop", MemoryFakeChannel.tokenSetOf(shop)],
          ["erp", MemoryFakeChannel.tokenSetOf(erp)]
        ],
        imports: ["erp", "shop"],
        published: () => shop.stock("MUG") === 10,
        subscribe: (url) => shop.subscribe(`${url}/webhooks/shop`)
      })
      return yield* body({ shop, fourpx, engine })
    }).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

const states = (orderId: string) =>
  Effect.flatMap(Ledger.Ledger, (ledger) =>
    Effect.map(ledger.reservations("shop", orderId), (rows) => rows.map((r) => r.state))
  )

for (const root of roots) {
  describe(`waiting for a tracking number, ${root.name}`, () => {
    it.live(
      "a number 4PX allocates after creating the parcel reaches the shop once allocated, with one parcel",
      () =>
        scenario(
          root,
          {
            trackingTimeout: "1 hour",
            // The seller ships under the last-mile carrier's number, allocated a day after creation.
            fourpx: { lastMileDelayMs: 86_400_000 },
            fourpxConfig: { trackingNumber: "lastMile" }
          },
          ({ shop, fourpx }) =>
            Effect.gen(function* () {
              const parcels = yield* Parcels.Parcels
              const order = shop.placeOrder({ lines: [{ sku: "MUG", quantity: 2 }] })
              const reference = FulfilmentWorkflow.parcelReference("shop", order)
              yield* eventually(Effect.sync(() => fourpx.count(reference) === 1))
              // The workflow keeps asking 4PX about the parcel while the number is not there.
              const asked = () =>
                fourpx
                  .requests("ds.xms.order.get")
                  .filter((r) => r.text.includes(reference) || r.query.includes(reference)).length
              yield* eventually(Effect.sync(() => asked() >= 3))
              expect(shop.fulfillments(order)).toEqual([])
              expect(yield* states(order)).toEqual(["held"])
              const waiting = yield* parcels.ofOrder("shop", order)
              expect(waiting.map((p) => [p.reference, p.trackingNumber])).toEqual([[reference, undefined]])

              fourpx.allocateLastMile(reference)
              const number = fourpx.parcel(reference)!.lastMileNumber!
              yield* eventually(Effect.sync(() => shop.fulfillments(order).length > 0))
              expect(shop.fulfillments(order).map((f) => [f.carrier, f.trackingNumber])).toEqual([["4PX", number]])
              yield* eventually(Effect.map(states(order), (s) => s.every((x) => x === "committed")))
              expect((yield* parcels.ofOrder("shop", order)).map((p) => p.trackingNumber)).toEqual([number])
              expect(fourpx.count(reference)).toBe(1)
            })
        ),
      60_000
    )

    it.live(
      "a create 4PX keeps in flight is dead-lettered retry_exhausted after the tracking timeout; a replay ships it",
      () =>
        scenario(root, { trackingTimeout: "2 seconds" }, ({ shop, fourpx, engine }) =>
          Effect.gen(function* () {
            const letters = yield* DeadLetter.DeadLetters
            // Unpaid, the order is held but not shipped: there is time to pin its reference.
            const order = shop.placeOrder({ lines: [{ sku: "MUG", quantity: 1 }], status: "pending_payment" })
            const reference = FulfilmentWorkflow.parcelReference("shop", order)
            yield* eventually(Effect.map(states(order), (s) => s.length > 0 && s.every((x) => x === "held")))
            fourpx.setProcessing(reference, true)
            shop.setOrderStatus(order, "paid")

            yield* eventually(Effect.map(letters.count({ connection: "4px" }), (n) => n > 0))
            const [letter, ...others] = yield* letters.list({ connection: "4px" })
            expect(others).toEqual([])
            expect(letter!.reason).toBe("retry_exhausted")
            expect(letter!.message).toContain("tracking number")
            expect(letter!.message).toContain(reference)
            // 4PX answered every create "in flight"; nothing was shipped or committed.
            expect(fourpx.requests("ds.xms.order.create").length).toBeGreaterThan(0)
            expect(fourpx.count(reference)).toBe(0)
            expect(shop.fulfillments(order)).toEqual([])
            expect(yield* states(order)).toEqual(["held"])

            // 4PX is through with the reference; the replayed order gets its parcel and ships.
            fourpx.setProcessing(reference, false)
            const replayed = yield* engine.replayDeadLetters({ connection: "4px" })
            expect(replayed.map((r) => r.outcome)).toEqual(["replayed"])
            yield* eventually(Effect.sync(() => shop.fulfillments(order).length > 0))
            expect(shop.fulfillments(order).map((f) => f.trackingNumber)).toEqual([
              fourpx.parcel(reference)!.trackingNumber
            ])
            expect(fourpx.count(reference)).toBe(1)
            yield* eventually(Effect.map(states(order), (s) => s.every((x) => x === "committed")))
            expect(yield* letters.count({ connection: "4px" })).toBe(0)
          })
        ),
      60_000
    )
  })
}
