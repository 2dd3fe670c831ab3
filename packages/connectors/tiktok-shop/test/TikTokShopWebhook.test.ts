/**
 * Webhook verification and decoding: signatures checked against OpenSSL-pinned digests over the
 * raw bytes, tampering and wrong secrets rejected, bare-number 64-bit ids kept exact, every handled
 * topic mapped onto the core events, and the dedupe key with and without `tts_notification_id`.
 */
import { assert, describe, it } from "@effect/vitest"
import { TikTokShopJson, TikTokShopWebhook } from "@tkbridge/connector-tiktok-shop"
import { Effect, Either, Redacted } from "effect"

const config: TikTokShopWebhook.WebhookConfig = {
  appKey: "29a39d",
  appSecret: Redacted.make("e59af819cc"),
  webhookSignature: "app_key+body",
  webhookMaxBytes: 1024 * 1024
}

const request = (body: string, signature?: string) => ({
  method: "POST",
  url: "/webhooks/tiktok-uk",
  headers: signature === undefined ? {} : { Authorization: signature },
  rawBody: new TextEncoder().encode(body)
})

// Digests pinned with `printf '%s' "29a39d<body>" | openssl dgst -sha256 -hmac e59af819cc`.
const orderBody =
  '{"type":1,"tts_notification_id":"7327111111111111111","shop_id":"7494009543680853513","timestamp":1700000000,"data":{"order_id":"576486316948490001","order_status":"AWAITING_SHIPMENT","is_on_hold_order":false,"update_time":1700000000}}'
const orderSignature = "6cba583738e4cc827c293c1b355f0b8064998dc2e5d49f67a13b71ddf59168df"
const inventoryBody =
  '{"type":27,"tts_notification_id":"7327111111111111112","shop_id":"7494009543680853513","timestamp":1700000100,"data":{"product_id":576486316948490000,"sku_id":1729382256910270465,"current_inventory_status":"LOW_STOCK","update_time":1700000100}}'
const inventorySignature = "504dbc617949a05931da2eaef97ab2ea38361f23b7e1d9a321e95dab499bbf8e"

describe("verify", () => {
  it.effect("accepts TikTok's signature over the raw bytes", () =>
    Effect.gen(function* () {
      yield* TikTokShopWebhook.verify(config, request(orderBody, orderSignature))
      yield* TikTokShopWebhook.verify(config, request(inventoryBody, inventorySignature))
    })
  )

  it.effect("rejects a missing header, a tampered body, another secret and a Bearer prefix", () =>
    Effect.gen(function* () {
      const reasons = yield* Effect.forEach(
        [
          request(orderBody),
          request(orderBody.replace("AWAITING_SHIPMENT", "CANCEL"), orderSignature),
          // The same JSON re-serialised with a space: a different byte string.
          request(orderBody.replace('"type":1', '"type": 1'), orderSignature),
          request(orderBody, "6cba583738e4cc827c293c1b355f0b8064998dc2e5d49f67a13b71ddf59168de"),
          request(orderBody, `Bearer ${orderSignature}`)
        ],
        (r) =>
          TikTokShopWebhook.verify(config, r).pipe(
            Effect.flip,
            Effect.map((e) => e.reason)
          )
      )
      assert.deepStrictEqual(reasons, [
        "missing_signature",
        "bad_signature",
        "bad_signature",
        "bad_signature",
        "bad_signature"
      ])
      const other = yield* TikTokShopWebhook.verify(
        { ...config, appSecret: Redacted.make("another-secret") },
        request(orderBody, orderSignature)
      ).pipe(Effect.flip)
      assert.strictEqual(other.reason, "bad_signature")
    })
  )
})

describe("decode", () => {
  it.effect("keeps bare-number 64-bit ids exact", () =>
    Effect.gen(function* () {
      const delivery = yield* TikTokShopWebhook.decode(config, request(inventoryBody, inventorySignature))
      const event = delivery.events[0]!
      assert.strictEqual(event._tag, "InventoryChanged")
      if (event._tag !== "InventoryChanged") return
      assert.strictEqual(event.productId, "576486316948490000")
      assert.include(event.detail ?? "", "sku_id=1729382256910270465")
      assert.include(event.detail ?? "", "status=LOW_STOCK")
      // What JSON.parse would have done to the same id:
      assert.notStrictEqual(String(JSON.parse(inventoryBody).data.sku_id), "1729382256910270465")
    })
  )

  it("the 64-bit-safe parser keeps large integers as text and leaves the rest alone", () => {
    const parsed = TikTokShopJson.parse('{"a":9007199254740993,"b":-9223372036854775807,"c":12,"d":1.5,"e":[1e3,"x"]}')
    assert.deepStrictEqual(parsed, { a: "9007199254740993", b: "-9223372036854775807", c: 12, d: 1.5, e: [1000, "x"] })
  })

  it.effect("maps each handled topic onto core events", () =>
    Effect.gen(function* () {
      const decode = (body: unknown) =>
        TikTokShopWebhook.decode(config, request(JSON.stringify(body))).pipe(Effect.map((d) => d.events))
      const base = { tts_notification_id: "1", shop_id: "7494009543680853513", timestamp: 1700000000 }
      const status = yield* decode({
        ...base,
        type: 1,
        data: { order_id: "5764", order_status: "CANCEL", update_time: 1700000001 }
      })
      assert.deepInclude(status[0], { _tag: "OrderChanged", orderId: "5764", status: "cancelled" })
      assert.strictEqual((status[0] as { updatedAt?: Date }).updatedAt?.getTime(), 1700000001000)
      const address = yield* decode({ ...base, type: 3, data: { order_id: "5765", update_time: 1700000002 } })
      assert.deepInclude(address[0], { _tag: "OrderChanged", orderId: "5765" })
      const pkg = yield* decode({
        ...base,
        type: 4,
        data: {
          sc_type: "SPLIT",
          role_type: "ROLE_SELLER",
          package_list: [{ package_id: "115", order_id_list: ["5766", "5767"] }]
        }
      })
      assert.deepStrictEqual(
        pkg.map((e) => [e._tag, (e as { orderId?: string }).orderId, (e as { packageId?: string }).packageId]),
        [
          ["FulfillmentChanged", "5766", "115"],
          ["FulfillmentChanged", "5767", "115"]
        ]
      )
      const revoked = yield* decode({ ...base, type: 6, data: { message: "seller deauthorized" } })
      assert.deepInclude(revoked[0], { _tag: "AuthorizationRevoked", reason: "seller deauthorized" })
      const expiring = yield* decode({ ...base, type: 7, data: { message: "soon", expiration_time: "1702592000" } })
      assert.strictEqual(expiring[0]!._tag, "AuthorizationExpiring")
      assert.strictEqual((expiring[0] as { expiresAt?: Date }).expiresAt?.getTime(), 1702592000000)
      const cancel = yield* decode({
        ...base,
        type: 11,
        data: {
          order_id: "5768",
          cancellations_role: "BUYER",
          cancel_status: "CANCELLATION_REQUEST_SUCCESS",
          cancel_id: "4001",
          create_time: 1700000003
        }
      })
      assert.deepInclude(cancel[0], {
        _tag: "AfterSaleChanged",
        afterSaleId: "4001",
        orderId: "5768",
        kind: "cancel",
        status: "completed"
      })
      const ret = yield* decode({
        ...base,
        type: 12,
        data: {
          order_id: "5769",
          return_role: "BUYER",
          return_type: "REFUND",
          return_status: "RETURN_OR_REFUND_REQUEST_PENDING",
          return_id: "4002",
          create_time: 1700000004,
          update_time: 1700000005
        }
      })
      assert.deepInclude(ret[0], { _tag: "AfterSaleChanged", afterSaleId: "4002", kind: "refund", status: "requested" })
      const other = yield* decode({ ...base, type: 14, data: { message_id: "1" } })
      assert.deepInclude(other[0], { _tag: "Unhandled", topic: "NEW_MESSAGE" })
    })
  )

  it.effect("dedupes on tts_notification_id, or on the composite key when it is missing", () =>
    Effect.gen(function* () {
      const withId = yield* TikTokShopWebhook.decode(config, request(orderBody))
      assert.strictEqual(withId.dedupeKey, "7327111111111111111")
      assert.strictEqual(withId.topic, "ORDER_STATUS_CHANGE")
      const noId = (updateTime: number, status = "RECIPIENT_ADDRESS_UPDATE") =>
        JSON.stringify({
          type: status === "RECIPIENT_ADDRESS_UPDATE" ? 3 : 1,
          shop_id: "7494009543680853513",
          timestamp: 1700000000,
          data: {
            order_id: "576486316948490001",
            ...(status === "RECIPIENT_ADDRESS_UPDATE" ? {} : { order_status: status }),
            update_time: updateTime
          }
        })
      const a = yield* TikTokShopWebhook.decode(config, request(noId(1700000010)))
      const again = yield* TikTokShopWebhook.decode(config, request(noId(1700000010)))
      const later = yield* TikTokShopWebhook.decode(config, request(noId(1700000011)))
      const shipped = yield* TikTokShopWebhook.decode(config, request(noId(1700000010, "IN_TRANSIT")))
      assert.strictEqual(a.dedupeKey, "3:7494009543680853513:576486316948490001::1700000010")
      assert.strictEqual(again.dedupeKey, a.dedupeKey)
      assert.notStrictEqual(later.dedupeKey, a.dedupeKey)
      assert.strictEqual(shipped.dedupeKey, "1:7494009543680853513:576486316948490001:IN_TRANSIT:1700000010")
    })
  )

  it.effect("a body that is not a notification is malformed; another shop's event is recorded, not applied", () =>
    Effect.gen(function* () {
      const bad = yield* TikTokShopWebhook.decode(config, request("{not json")).pipe(Effect.either)
      assert.isTrue(Either.isLeft(bad))
      const wrongShape = yield* TikTokShopWebhook.decode(
        config,
        request('{"type":1,"data":{"order_status":"X"}}')
      ).pipe(Effect.either)
      assert.isTrue(Either.isLeft(wrongShape) && wrongShape.left._tag === "WebhookMalformed")
      const tooBig = yield* TikTokShopWebhook.decode({ ...config, webhookMaxBytes: 10 }, request(orderBody)).pipe(
        Effect.flip
      )
      assert.include(tooBig.message, "exceeds")
      const foreign = yield* TikTokShopWebhook.decode({ ...config, shopId: "1111" }, request(orderBody))
      assert.strictEqual(foreign.events[0]!._tag, "Unhandled")
      assert.strictEqual(TikTokShopWebhook.shopIdOf(new TextEncoder().encode(orderBody)), "7494009543680853513")
    })
  )
})
