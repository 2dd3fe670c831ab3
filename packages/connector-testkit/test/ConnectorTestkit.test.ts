/**
 * The kit tests itself: every check must fail against a connector with the matching defect (and
 * pass against the intact reference connector, so the failure is the defect's). Broken runs go
 * through `runCheck`, so their failures are assertions here rather than red tests.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { ConnectorTestkit, FakeChannel } from "@tkbridge/connector-testkit"
import type { Connector } from "@tkbridge/core"
import { AccessToken, ChannelEvent, ConnectorError, Order } from "@tkbridge/core"
import { Duration, Effect } from "effect"
import type { DefectContext, Services } from "./support.ts"
import { leakDaemon, leakInterval, leakSocket, memory, stopLeaks } from "./support.ts"

type Defect = Parameters<typeof memory>[0] & {}

/** Replaces one capability's service. */
const replace =
  <K extends Connector.Capability>(
    capability: K,
    make: (
      inner: Connector.CapabilityServices[K]
    ) => Effect.Effect<Connector.CapabilityServices[K], never, DefectContext>
  ): Defect =>
  (services) =>
    Effect.map(make(services[capability]), (service): Services => ({ ...services, [capability]: service }))

const pure = <K extends Connector.Capability>(
  capability: K,
  f: (inner: Connector.CapabilityServices[K]) => Connector.CapabilityServices[K]
) => replace(capability, (inner) => Effect.succeed(f(inner)))

let serial = 0

/** A paged list that drops the last item of every page but the last. */
const skipAcrossPages =
  <Q, A>(list: (q: Q) => Effect.Effect<Connector.Page<A>, ConnectorError.ConnectorError>) =>
  (q: Q) =>
    Effect.map(list(q), (page) => (page.next === undefined ? page : { ...page, items: page.items.slice(0, -1) }))

/** A paged list that repeats the previous page's last item at the top of the next page. */
const repeatAcrossPages = <A>(
  list: (q: { readonly cursor?: string | undefined }) => Effect.Effect<Connector.Page<A>, ConnectorError.ConnectorError>
) => {
  const carried = new Map<string, A>()
  return <Q extends { readonly cursor?: string | undefined }>(q: Q) =>
    Effect.map(list(q), (page) => {
      const last = page.items[page.items.length - 1]
      if (page.next !== undefined && last !== undefined) carried.set(page.next, last)
      const previous = q.cursor === undefined ? undefined : carried.get(q.cursor)
      return previous === undefined ? page : { ...page, items: [previous, ...page.items] }
    })
}

interface Case {
  readonly defect: string
  readonly check: string
  readonly expected: RegExp
  readonly broken: Defect
}

const cases: ReadonlyArray<Case> = [
  {
    defect: "stock.push ignores idempotency keys",
    check: "stock.push/idempotent-replay",
    expected: /applied a second time/,
    broken: pure("stock.push", (inner) => ({
      push: (updates) => inner.push(updates.map((u) => ({ ...u, idempotencyKey: `fresh-${++serial}` })))
    }))
  },
  {
    defect: "stock.push writes deltas instead of absolute sets",
    check: "stock.push/absolute-set",
    expected: /must set the quantity, not add to it/,
    broken: (services) =>
      Effect.succeed({
        ...services,
        "stock.push": {
          push: (updates) =>
            Effect.flatMap(
              Effect.forEach(updates, (u) =>
                Effect.map(services["stock.pull"].list({ skus: [u.externalSku] }), (page) => {
                  const held = page.items.find((r) => r.location === (u.location ?? r.location))?.onHand ?? 0
                  return { ...u, quantity: held + u.quantity }
                })
              ),
              (deltas) => services["stock.push"].push(deltas)
            )
        }
      })
  },
  {
    defect: "stock.push drops compare-and-set",
    check: "stock.push/compare-and-set",
    expected: /Stale expected/,
    broken: pure("stock.push", (inner) => ({
      push: (updates) => inner.push(updates.map((u) => ({ ...u, expected: undefined })))
    }))
  },
  {
    defect: "stock.push sends only half a batch",
    check: "stock.push/batch",
    expected: /updates gave \d+ results/,
    broken: pure("stock.push", (inner) => ({
      push: (updates) => inner.push(updates.slice(0, Math.ceil(updates.length / 2)))
    }))
  },
  {
    defect: "stock.pull reports the first location only for every SKU, doubled",
    check: "stock.pull/readings",
    expected: /stock\.pull read \d+ for .*; the platform holds/,
    broken: pure("stock.pull", (inner) => ({
      list: (q) =>
        Effect.map(inner.list(q), (page) => ({
          ...page,
          items: page.items.map((r) => ({ ...r, onHand: r.onHand * 2 + 1 }))
        }))
    }))
  },
  {
    defect: "the webhook receiver accepts a tampered body (checks only that a signature is there)",
    check: "orders.webhook/tampered-body",
    expected: /accepted a delivery whose body was changed/,
    broken: pure("orders.webhook", (inner) => ({
      ...inner,
      verify: (request) => (request.headers["x-memory-signature"] === undefined ? inner.verify(request) : Effect.void)
    }))
  },
  {
    defect: "the webhook receiver accepts any secret",
    check: "aftersales.webhook/wrong-secret",
    expected: /accepted a delivery signed with another secret/,
    broken: pure("aftersales.webhook", (inner) => ({
      ...inner,
      verify: (request) => (request.headers["x-memory-signature"] === undefined ? inner.verify(request) : Effect.void)
    }))
  },
  {
    defect: "the webhook receiver lets unsigned deliveries through",
    check: "orders.webhook/missing-signature",
    expected: /accepted a delivery without the x-memory-signature header/,
    broken: pure("orders.webhook", (inner) => ({
      ...inner,
      verify: (request) => (request.headers["x-memory-signature"] === undefined ? Effect.void : inner.verify(request))
    }))
  },
  {
    defect: "the webhook decoder makes up a dedupe key per call",
    check: "orders.webhook/duplicate",
    expected: /same delivery decoded to dedupe keys/,
    broken: pure("orders.webhook", (inner) => ({
      ...inner,
      decode: (request) => Effect.map(inner.decode(request), (d) => ({ ...d, dedupeKey: `random-${++serial}` }))
    }))
  },
  {
    defect: "the webhook decoder uses the topic as dedupe key",
    check: "aftersales.webhook/duplicate",
    expected: /share the dedupe key/,
    broken: pure("aftersales.webhook", (inner) => ({
      ...inner,
      decode: (request) => Effect.map(inner.decode(request), (d) => ({ ...d, dedupeKey: d.topic }))
    }))
  },
  {
    defect: "the webhook decoder turns orders into unhandled topics",
    check: "orders.webhook/valid",
    expected: /a OrderChanged expected/,
    broken: pure("orders.webhook", (inner) => ({
      ...inner,
      decode: (request) =>
        Effect.map(inner.decode(request), (d) => ({
          ...d,
          events: d.events.map((e) => (e._tag === "OrderChanged" ? new ChannelEvent.Unhandled({ topic: d.topic }) : e))
        }))
    }))
  },
  {
    defect: "orders.pull skips an order at every page boundary",
    check: "orders.pull/paging",
    expected: /never came/,
    broken: pure("orders.pull", (inner) => ({ ...inner, list: skipAcrossPages(inner.list) }))
  },
  {
    defect: "orders.pull repeats an order at every page boundary",
    check: "orders.pull/paging",
    expected: /came more than once/,
    broken: pure("orders.pull", (inner) => ({ ...inner, list: repeatAcrossPages(inner.list) }))
  },
  {
    defect: "orders.pull.get returns another order",
    check: "orders.pull/get",
    expected: /get\(\d+\) returned order \d+0/,
    broken: pure("orders.pull", (inner) => ({
      ...inner,
      get: (id) =>
        Effect.map(inner.get(id), (order) => new Order.Order({ ...order, externalId: `${order.externalId}0` }))
    }))
  },
  {
    defect: "aftersales.pull hands back the first cursor forever",
    check: "aftersales.pull/paging",
    expected: /came back twice/,
    broken: pure("aftersales.pull", (inner) => ({
      ...inner,
      list: (q) =>
        Effect.map(inner.list({ ...q, cursor: undefined }), (page) => ({ ...page, next: page.next ?? "end" }))
    }))
  },
  {
    defect: "catalog.pull skips a SKU at every page boundary",
    check: "catalog.pull/paging",
    expected: /never came/,
    broken: pure("catalog.pull", (inner) => ({ list: skipAcrossPages(inner.list) }))
  },
  {
    defect: "locations.pull lists nothing",
    check: "locations.pull/list",
    expected: /listed no location/,
    broken: pure("locations.pull", () => ({ list: Effect.succeed([]) }))
  },
  {
    defect: "fulfillment.push reports success without writing",
    check: "fulfillment.push/tracking-lands",
    expected: /the platform holds \[\]/,
    broken: pure("fulfillment.push", () => ({ ship: () => Effect.succeed({ alreadyShipped: false }) }))
  },
  {
    defect: "fulfillment.push fails a repeated ship instead of treating it as done",
    check: "fulfillment.push/repeat-is-idempotent",
    expected: /again failed: Rejected/,
    broken: pure("fulfillment.push", (inner) => ({
      ship: (request) =>
        Effect.flatMap(inner.ship({ ...request, idempotencyKey: `fresh-${++serial}` }), (r) =>
          r.alreadyShipped
            ? Effect.fail(new ConnectorError.Rejected({ code: "duplicate", message: "tracking number already used" }))
            : Effect.succeed(r)
        )
    }))
  },
  {
    defect: "shipment.create books a new parcel on every call",
    check: "shipment.create/one-parcel-per-reference",
    expected: /the parcel came back with reference KITREF-\w+-\d+/,
    broken: pure("shipment.create", (inner) => ({
      ...inner,
      create: (request) => inner.create({ ...request, reference: `${request.reference}-${++serial}` })
    }))
  },
  {
    defect: "tracking.pull returns nothing",
    check: "tracking.pull/events",
    expected: /returned no event/,
    broken: pure("tracking.pull", () => ({ track: () => Effect.succeed([]) }))
  },
  {
    defect: "stock.push swallows a 429 as success",
    check: "errors/stock.push/rate-limited",
    expected: /reported success \(Applied\); RateLimited expected/,
    broken: pure("stock.push", (inner) => ({
      push: (updates) =>
        inner
          .push(updates)
          .pipe(
            Effect.catchTag("RateLimited", () =>
              Effect.succeed(
                updates.map((u) => ({ _tag: "Applied" as const, externalSku: u.externalSku, location: u.location }))
              )
            )
          )
    }))
  },
  {
    defect: "orders.pull swallows a 429 as an empty page",
    check: "errors/orders.pull/rate-limited",
    expected: /reported success; RateLimited expected/,
    broken: pure("orders.pull", (inner) => ({
      ...inner,
      list: (q) => inner.list(q).pipe(Effect.catchTag("RateLimited", () => Effect.succeed({ items: [] })))
    }))
  },
  {
    defect: "catalog.pull ignores Retry-After",
    check: "errors/catalog.pull/rate-limited",
    expected: /retryAfter is 1000 ms/,
    broken: pure("catalog.pull", (inner) => ({
      list: (q) =>
        inner
          .list(q)
          .pipe(
            Effect.catchTag("RateLimited", (e) =>
              Effect.fail(new ConnectorError.RateLimited({ message: e.message, retryAfter: Duration.seconds(1) }))
            )
          )
    }))
  },
  {
    defect: "orders.pull refreshes and retries on every 401",
    check: "errors/orders.pull/auth-expired",
    expected: /token refreshes; at most one expected/,
    broken: pure("orders.pull", (inner) => ({
      ...inner,
      list: (q) => inner.list(q).pipe(Effect.retry({ while: (e) => e._tag === "AuthExpired", times: 3 }))
    }))
  },
  {
    defect: "tracking.pull reports a 500 as a permanent refusal",
    check: "errors/tracking.pull/server-error",
    expected: /a 500 reported Rejected.*Transient expected/,
    broken: pure("tracking.pull", (inner) => ({
      track: (numbers) =>
        inner
          .track(numbers)
          .pipe(
            Effect.catchTag("Transient", (e) =>
              Effect.fail(new ConnectorError.Rejected({ code: "500", message: e.message }))
            )
          )
    }))
  },
  {
    defect: "aftersales.pull takes an empty 200 for an empty page",
    check: "errors/aftersales.pull/empty-200",
    expected: /an empty 200 reported success; Transient expected/,
    broken: pure("aftersales.pull", (inner) => ({
      ...inner,
      list: (q) => inner.list(q).pipe(Effect.catchTag("Transient", () => Effect.succeed({ items: [] })))
    }))
  },
  {
    defect: "locations.pull reports a dropped connection as not found",
    check: "errors/locations.pull/dropped-connection",
    expected: /NotFound.*Transient expected/,
    broken: pure("locations.pull", (inner) => ({
      list: inner.list.pipe(
        Effect.catchTag("Transient", (e) => Effect.fail(new ConnectorError.NotFound({ message: e.message })))
      )
    }))
  },
  {
    defect: "orders.pull calls the platform without a timeout",
    check: "errors/orders.pull/timeout",
    expected: /the connector has no request timeout/,
    broken: replace("orders.pull", (inner) =>
      Effect.gen(function* () {
        const fake = yield* FakeChannel.FakeChannel
        const tokens = yield* AccessToken.AccessToken
        return {
          ...inner,
          list: () =>
            Effect.gen(function* () {
              const token = yield* tokens.current
              const response = yield* Effect.tryPromise({
                try: (signal) =>
                  fetch(`${fake.sandbox.url}/v1/orders`, {
                    headers: { authorization: `Bearer ${AccessToken.reveal(token)}` },
                    signal
                  }).then((r) => r.json()),
                catch: (e) => new ConnectorError.Transient({ message: String(e) })
              })
              return { items: [], next: (response as { next_cursor?: string }).next_cursor ?? undefined }
            })
        }
      })
    )
  },
  {
    defect: "the connector leaks a socket outside its scope",
    check: "lifecycle/sockets-closed",
    expected: /the connector leaks sockets/,
    broken: (services) => Effect.as(leakSocket, services)
  },
  {
    defect: "the connector leaves an interval running after its scope closes",
    check: "lifecycle/timers-cleared",
    expected: /1 timer\(s\) or interval\(s\) started by the connector were still running .*the connector leaks timers/,
    broken: (services) => Effect.as(leakInterval, services)
  },
  {
    defect: "the connector forks a polling loop as a daemon, outside its scope",
    check: "lifecycle/timers-cleared",
    expected: /1 timer\(s\) or interval\(s\) started by the connector were still running/,
    broken: (services) => Effect.as(leakDaemon, services)
  }
]

afterAll(stopLeaks)

const intact = memory()

describe("the conformance kit catches broken connectors", () => {
  it.each(cases)(
    "$check fails when $defect",
    async ({ check, expected, broken }) => {
      await expect(ConnectorTestkit.runCheck(intact, check)).resolves.toBeUndefined()
      await expect(ConnectorTestkit.runCheck(memory(broken), check)).rejects.toThrow(expected)
    },
    60_000
  )

  it("has a defect case for every group of checks", () => {
    const groups = new Set(ConnectorTestkit.checks(intact).map((c) => c.group))
    const covered = new Set(cases.map((c) => ConnectorTestkit.checks(intact).find((k) => k.id === c.check)?.group))
    expect([...groups].filter((g) => !covered.has(g))).toEqual([])
  })
})

describe("skip lists", () => {
  const checks = ConnectorTestkit.checks(intact)

  it("accept an entry naming a test, with a reason and a link", () => {
    const skips = ConnectorTestkit.validateSkips(
      "memory",
      [{ test: "errors/tracking.pull/timeout", reason: "the platform answers at once", link: "https://example.com/1" }],
      checks
    )
    expect([...skips.keys()]).toEqual(["errors/tracking.pull/timeout"])
  })

  it("refuse an entry naming no test of the suite, listing the known ones", () => {
    expect(() =>
      ConnectorTestkit.validateSkips(
        "memory",
        [{ test: "stock.push/nonsense", reason: "r", link: "https://example.com/1" }],
        checks
      )
    ).toThrow(/"stock.push\/nonsense" names no test of this suite.*Known tests: stock.push\/absolute-set/)
  })

  it("refuse an entry without a reason or a tracking link", () => {
    expect(() =>
      ConnectorTestkit.validateSkips("memory", [{ test: "lifecycle/sockets-closed", reason: " ", link: "" }], checks)
    ).toThrow(/has no reason.*needs a tracking link/)
  })

  it("make suite() fail at once on a bad entry", () => {
    expect(() =>
      ConnectorTestkit.suite({
        ...intact,
        skip: [{ test: "orders.pull/everything", reason: "r", link: "https://x.y" }]
      })
    ).toThrow(/names no test/)
  })

  it("cover only claimed capabilities: a connector without stock.push has no stock.push tests to skip", () => {
    const manifest = {
      ...intact.manifest,
      capabilities: intact.manifest.capabilities.filter((c) => c !== "stock.push")
    }
    const ids = ConnectorTestkit.checks({ ...intact, manifest }).map((c) => c.id)
    expect(ids.some((id) => id.startsWith("stock.push/"))).toBe(false)
    expect(ids).not.toContain("errors/stock.push/rate-limited")
    expect(ids).toContain("lifecycle/sockets-closed")
    expect(ids).toContain("lifecycle/timers-cleared")
  })
})

describe("the kit's token provider", () => {
  it.live("refreshes single-flight through the connector's own auth.refresh, getting a fresh grant", () =>
    Effect.gen(function* () {
      const provider = yield* AccessToken.AccessToken
      const fake = yield* FakeChannel.FakeChannel
      const stale = yield* provider.current
      const fresh = yield* Effect.all(
        Array.from({ length: 8 }, () => provider.refresh(stale)),
        { concurrency: "unbounded" }
      )
      const values = new Set(fresh.map(AccessToken.reveal))
      expect(values.size).toBe(1)
      expect(values.has(AccessToken.reveal(stale))).toBe(false)
      // Refresh tokens rotate on the Memory platform: a second refresh with the stale grant would be refused.
      expect(yield* fake.tokens!.refreshes()).toBe(1)
      const again = yield* provider.refresh(fresh[0]!)
      expect(AccessToken.reveal(again)).not.toBe(AccessToken.reveal(fresh[0]!))
      expect(yield* fake.tokens!.refreshes()).toBe(2)
    }).pipe(Effect.provide(ConnectorTestkit.layer(intact)))
  )
})
