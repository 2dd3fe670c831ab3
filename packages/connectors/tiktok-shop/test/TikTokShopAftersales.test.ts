/**
 * `aftersales.pull` against the sandbox: cancellations and returns read together by update time
 * under one cursor, with TikTok's statuses mapped onto the domain, and `get` by id and kind.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopSandbox as Sandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import type { AfterSale } from "@tkbridge/core"
import { Effect } from "effect"
import { connect } from "./support.ts"

describe("aftersales.pull", () => {
  it.scopedLive("reads cancellations and returns under one cursor, with mapped statuses", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.scoped()
      sandbox.addProduct({ title: "Mug", skus: [{ sellerSku: "MUG", stock: 100 }] })
      const shipped = () => {
        const orderId = sandbox.placeOrder({ lines: [{ sku: "MUG", qty: 2 }] })
        sandbox.releaseHold(orderId)
        sandbox.ship(orderId, { trackingNumber: `RM${orderId.slice(-9)}`, carrier: "Royal Mail" })
        sandbox.advance(orderId, "IN_TRANSIT")
        sandbox.advance(orderId, "DELIVERED")
        return orderId
      }
      const cancels = Array.from({ length: 3 }, () => sandbox.cancel(sandbox.placeOrder({ lines: [{ sku: "MUG" }] })))
      const pendingOrder = sandbox.placeOrder({ lines: [{ sku: "MUG" }] })
      sandbox.releaseHold(pendingOrder)
      const pending = sandbox.cancel(pendingOrder, { by: "BUYER" })
      const returns = Array.from({ length: 12 }, () => sandbox.requestReturn(shipped()))
      const refund = sandbox.requestReturn(shipped(), { type: "REFUND" })
      sandbox.setReturnStatus(returns[0]!, "AWAITING_BUYER_SHIP")
      sandbox.setReturnStatus(returns[1]!, "RETURN_OR_REFUND_REQUEST_SUCCESS")
      sandbox.setReturnStatus(returns[1]!, "RETURN_OR_REFUND_REQUEST_COMPLETE")
      const { services } = yield* connect(sandbox)
      const seen: Array<AfterSale.AfterSale> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = yield* services["aftersales.pull"].list({ cursor, pageSize: 2 })
        seen.push(...page.items)
        cursor = page.next
        pages++
      } while (cursor !== undefined)
      assert.deepStrictEqual(seen.map((a) => a.externalId).sort(), [...cancels, pending, ...returns, refund].sort())
      assert.strictEqual(new Set(seen.map((a) => a.externalId)).size, seen.length)
      // Returns page at 10 (TikTok's minimum), cancellations at 2.
      assert.strictEqual(pages, 2)
      const byId = new Map(seen.map((a) => [a.externalId, a]))
      assert.deepInclude(byId.get(cancels[0]!), {
        kind: "cancel",
        status: "completed",
        platformStatus: "CANCELLATION_REQUEST_SUCCESS"
      })
      assert.deepInclude(byId.get(pending), { kind: "cancel", status: "requested" })
      assert.deepInclude(byId.get(returns[0]!), { kind: "return", status: "approved" })
      assert.deepInclude(byId.get(returns[1]!), { kind: "return", status: "completed" })
      assert.deepInclude(byId.get(refund), { kind: "refund", status: "requested" })
      assert.deepStrictEqual(byId.get(returns[2]!)!.lines, [{ externalSku: "MUG", qty: 2 }])
      const got = yield* services["aftersales.pull"].get!(pending, "cancel")
      assert.strictEqual(got.orderId, pendingOrder)
      const gotReturn = yield* services["aftersales.pull"].get!(refund, "refund")
      assert.strictEqual(gotReturn.kind, "refund")
      const missing = yield* Effect.flip(services["aftersales.pull"].get!("7300000000000000001", "return"))
      assert.strictEqual(missing._tag, "NotFound")
    })
  )
})
