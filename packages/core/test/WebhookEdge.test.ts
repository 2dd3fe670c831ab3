/**
 * The edge's decisions that a real store rarely produces: a store that cannot be written (503, so the
 * platform delivers again), a connector whose code crashes, a delivery without a usable dedupe key,
 * and a notify hook that must never hold up the answer. The store-sql suite covers the edge over real
 * HTTP on both dialects.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Connector, Inbox } from "@tkbridge/core"
import { Inbox as InboxPort, StoreError, Webhook, WebhookEdge } from "@tkbridge/core"
import { Deferred, Effect, Layer } from "effect"

interface Recorded {
  readonly kind: "record" | "malformed"
  readonly message?: string
}

/** An inbox double: records calls, optionally failing every write. */
const inboxDouble = (calls: Array<Recorded>, failing = false): InboxPort.InboxShape => {
  const unavailable = new StoreError.StoreError({ operation: "inbox.record", message: "disk full", retryable: true })
  const unused = () => Effect.die("not used by the edge")
  return {
    record: () =>
      failing
        ? Effect.fail(unavailable)
        : Effect.sync(() => {
            calls.push({ kind: "record" })
            return { id: calls.length, duplicate: false }
          }),
    recordMalformed: (input) =>
      failing
        ? Effect.fail(unavailable)
        : Effect.sync(() => {
            calls.push({ kind: "malformed", message: input.message })
            return { id: calls.length, duplicate: false, deadLetter: 1 }
          }),
    get: unused,
    process: unused,
    fail: unused,
    deadLetter: unused,
    pending: unused,
    applied: unused,
    advance: unused,
    depth: Effect.die("not used"),
    prune: unused
  }
}

const receiver = (overrides: Partial<Connector.WebhookReceiver> = {}): Connector.WebhookReceiver => ({
  verify: () => Effect.void,
  decode: () => Effect.succeed({ dedupeKey: "evt-1", topic: "ORDER_STATUS_CHANGE", events: [] }),
  ...overrides
})

const edge = (
  calls: Array<Recorded>,
  r: Connector.WebhookReceiver,
  options: WebhookEdge.EdgeOptions & { readonly failing?: boolean } = {}
) =>
  WebhookEdge.make(options).pipe(
    Effect.provide(
      Layer.merge(
        Layer.succeed(InboxPort.Inbox, inboxDouble(calls, options.failing)),
        WebhookEdge.receivers({ shop: r })
      )
    )
  )

const delivery = (body = "{}"): Webhook.WebhookRequest => ({
  method: "POST",
  url: "/webhooks/shop",
  headers: { "Content-Type": "application/json" },
  rawBody: new TextEncoder().encode(body)
})

describe("WebhookEdge", () => {
  it.effect("a store that cannot be written answers 503 so the platform delivers again", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      const e = yield* edge(calls, receiver(), { failing: true })
      expect(yield* e.receive("shop", delivery())).toMatchObject({ status: 503, outcome: "unavailable" })
      const m = yield* edge(
        calls,
        receiver({ decode: () => Effect.fail(new Webhook.WebhookMalformed({ message: "bad" })) }),
        {
          failing: true
        }
      )
      expect((yield* m.receive("shop", delivery())).status).toBe(503)
    })
  )

  it.effect("a decoder that crashes is a malformed delivery, recorded for replay after a fix", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      const e = yield* edge(calls, receiver({ decode: () => Effect.sync(() => JSON.parse("{")) as never }))
      const answer = yield* e.receive("shop", delivery())
      expect(answer).toMatchObject({ status: 400, outcome: "malformed" })
      expect(calls).toHaveLength(1)
      expect(calls[0]?.kind).toBe("malformed")
      expect(calls[0]?.message).toContain("decoder crashed")
    })
  )

  it.effect("a signature check that crashes answers 500 and stores nothing", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      const e = yield* edge(calls, receiver({ verify: () => Effect.die(new Error("bug")) }))
      expect(yield* e.receive("shop", delivery())).toMatchObject({ status: 500, outcome: "error" })
      expect(calls).toEqual([])
    })
  )

  it.effect("a delivery without a usable dedupe key is malformed, not stored as an event", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      const e = yield* edge(
        calls,
        receiver({ decode: () => Effect.succeed({ dedupeKey: "  ", topic: "t", events: [] }) })
      )
      expect((yield* e.receive("shop", delivery())).status).toBe(400)
      expect(calls.map((c) => c.kind)).toEqual(["malformed"])
    })
  )

  it.effect("the body limit is checked before the signature; header names are normalized for the connector", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      let seen: Readonly<Record<string, string>> = {}
      const e = yield* edge(
        calls,
        receiver({
          verify: (request) =>
            Effect.sync(() => {
              seen = request.headers
            })
        }),
        { maxBytes: 4, maxBytesFor: (c) => (c === "shop" ? 8 : undefined) }
      )
      expect(e.maxBytes("shop")).toBe(8)
      expect(e.maxBytes("other")).toBe(4)
      expect((yield* e.receive("shop", delivery("123456789"))).status).toBe(413)
      expect(seen).toEqual({})
      expect((yield* e.receive("shop", delivery("{}"))).status).toBe(200)
      expect(seen).toEqual({ "content-type": "application/json" })
      expect((yield* e.receive("nobody", delivery("{}"))).status).toBe(404)
    })
  )

  it.effect("the answer never waits for the notify hook, and a failing hook changes nothing", () =>
    Effect.gen(function* () {
      const calls: Array<Recorded> = []
      const never = yield* Deferred.make<void>()
      const notified: Array<number> = []
      const slow = yield* edge(calls, receiver(), {
        notify: ({ id }) =>
          Effect.zipRight(
            Effect.sync(() => void notified.push(id)),
            Deferred.await(never)
          )
      })
      expect((yield* slow.receive("shop", delivery())).status).toBe(200)
      const failing = yield* edge(calls, receiver(), { notify: () => Effect.die("hook bug") })
      expect((yield* failing.receive("shop", delivery())).status).toBe(200)
      yield* Effect.yieldNow()
      expect(notified).toEqual([1])
    })
  )
})

// Keep the type import used: the double implements the port's shape exactly.
export type _InboxShape = Inbox.InboxShape
