/**
 * ConformanceWebhooks: the `orders.webhook` / `aftersales.webhook` checks. Deliveries come from the
 * fake, signed exactly as the platform signs them:
 *
 * - a valid delivery verifies and decodes into events with a dedupe key;
 * - a body changed after signing, a delivery signed with another secret and one without its
 *   signature header are all refused with `WebhookRejected`;
 * - the same delivery twice decodes to the same dedupe key, two different deliveries to two.
 *
 * @since 0.1.0
 */
import type { Connector, Webhook } from "@tkbridge/core"
import { Effect, Either } from "effect"
import type { Check, ConformanceFailure, ManifestView } from "./ConformanceKit.ts"
import { call, check, describeError, ensure, fail, probe, service } from "./ConformanceKit.ts"

type WebhookCapability = "orders.webhook" | "aftersales.webhook"

const deliveryFor = (capability: WebhookCapability) =>
  Effect.flatMap(probe("webhooks", capability), (webhooks) =>
    capability === "aftersales.webhook" && webhooks.afterSaleDelivery !== undefined
      ? webhooks.afterSaleDelivery()
      : webhooks.delivery()
  )

/** The body with one byte changed (a digit turned into another, or a space appended). */
export const tamper = (body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(body)
  const i = out.findIndex((b) => b >= 0x30 && b <= 0x39)
  if (i < 0) return new Uint8Array([...out, 0x20])
  out[i] = out[i] === 0x39 ? 0x30 : out[i]! + 1
  return out
}

const expectRejected = (
  receiver: Connector.WebhookReceiver,
  request: Webhook.WebhookRequest,
  what: string
): Effect.Effect<void, ConformanceFailure> =>
  Effect.flatMap(Effect.either(receiver.verify(request)), (result) =>
    Either.match(result, {
      onRight: () => fail(`the connector accepted ${what}`),
      onLeft: (e) =>
        ensure(
          (e as { _tag?: unknown })._tag === "WebhookRejected",
          () => `${what} was refused with ${describeError(e)}; WebhookRejected expected`
        )
    })
  )

const checksFor = (capability: WebhookCapability): ReadonlyArray<Check> => [
  check(
    capability,
    "valid",
    "a validly signed delivery verifies and decodes",
    Effect.gen(function* () {
      const receiver = yield* service(capability)
      const request = yield* deliveryFor(capability)
      yield* call("verifying a validly signed delivery", receiver.verify(request))
      const delivery = yield* call("decoding a valid delivery", receiver.decode(request))
      yield* ensure(delivery.dedupeKey.trim() !== "", "the decoded delivery has an empty dedupe key")
      yield* ensure(delivery.topic.trim() !== "", "the decoded delivery has an empty topic")
      yield* ensure(delivery.events.length > 0, "the decoded delivery carries no event")
      const wanted = capability === "orders.webhook" ? "OrderChanged" : "AfterSaleChanged"
      const webhooks = yield* probe("webhooks", capability)
      if (capability === "orders.webhook" || webhooks.afterSaleDelivery !== undefined) {
        yield* ensure(
          delivery.events.some((e) => e._tag === wanted),
          () => `the delivery decoded to ${delivery.events.map((e) => e._tag).join(", ")}; a ${wanted} expected`
        )
      }
    })
  ),
  check(
    capability,
    "tampered-body",
    "a body changed after signing is rejected",
    Effect.gen(function* () {
      const receiver = yield* service(capability)
      const request = yield* deliveryFor(capability)
      yield* expectRejected(
        receiver,
        { ...request, rawBody: tamper(request.rawBody) },
        "a delivery whose body was changed"
      )
    })
  ),
  check(
    capability,
    "wrong-secret",
    "a delivery signed with another secret is rejected",
    Effect.gen(function* () {
      const receiver = yield* service(capability)
      const webhooks = yield* probe("webhooks", capability)
      const request = yield* webhooks.deliverySignedWith("conformance-wrong-secret-7f3a9c")
      yield* expectRejected(receiver, request, "a delivery signed with another secret")
    })
  ),
  check(
    capability,
    "missing-signature",
    "a delivery without its signature header is rejected",
    Effect.gen(function* () {
      const receiver = yield* service(capability)
      const webhooks = yield* probe("webhooks", capability)
      const request = yield* deliveryFor(capability)
      const header = webhooks.signatureHeader.toLowerCase()
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([k]) => k.toLowerCase() !== header))
      yield* ensure(
        Object.keys(headers).length < Object.keys(request.headers).length,
        () => `the fake's delivery has no ${webhooks.signatureHeader} header to remove`
      )
      yield* expectRejected(receiver, { ...request, headers }, `a delivery without the ${header} header`)
    })
  ),
  check(
    capability,
    "duplicate",
    "a duplicate delivery has the same dedupe key, a different delivery another",
    Effect.gen(function* () {
      const receiver = yield* service(capability)
      const request = yield* deliveryFor(capability)
      const copy: Webhook.WebhookRequest = { ...request, rawBody: new Uint8Array(request.rawBody) }
      yield* call("verifying a delivery", receiver.verify(request))
      yield* call("verifying the same delivery again", receiver.verify(copy))
      const first = yield* call("decoding a delivery", receiver.decode(request))
      const again = yield* call("decoding the same delivery again", receiver.decode(copy))
      yield* ensure(
        first.dedupeKey === again.dedupeKey,
        () => `the same delivery decoded to dedupe keys ${first.dedupeKey} and ${again.dedupeKey}`
      )
      const other = yield* call("decoding another delivery", Effect.flatMap(deliveryFor(capability), receiver.decode))
      yield* ensure(
        other.dedupeKey !== first.dedupeKey,
        () => `two different deliveries share the dedupe key ${first.dedupeKey}: the inbox would drop the second`
      )
    })
  )
]

/** The webhook checks for a manifest. */
export const checks = (manifest: ManifestView): ReadonlyArray<Check> =>
  (["orders.webhook", "aftersales.webhook"] as const).flatMap((c) =>
    manifest.capabilities.includes(c) ? checksFor(c) : []
  )
