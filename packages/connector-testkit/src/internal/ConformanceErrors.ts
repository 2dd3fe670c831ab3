/**
 * ConformanceErrors: the error-taxonomy checks. For every claimed capability that calls the
 * platform, the kit injects faults on the sandbox route of its main call (`fake.routes`) and
 * checks the connector's report:
 *
 * | fault | expected |
 * |---|---|
 * | 429 with `Retry-After: 7` | `RateLimited` with `retryAfter` = 7 s |
 * | 401 | `AuthExpired`, after at most one token refresh and one retry |
 * | 500 | `Transient` |
 * | no answer (hang) | `Transient` from the connector's own request timeout |
 * | dropped connection | `Transient` |
 * | empty 200 | `Transient` |
 *
 * The hang check runs the call under `TestClock` and moves the clock ten minutes on once the
 * sandbox holds the request, so a connector's timeout (any length up to ten minutes of Effect
 * clock time) fires at once. A connector without a timeout (or one that times out on real time
 * rather than the Effect clock) is reported after 5 s of real time.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Duration, Effect, Exit, Fiber, Option, TestClock, TestContext } from "effect"
import { FakeChannel } from "../FakeChannel.ts"
import type { Fault } from "../SandboxServer.ts"
import type { Check, CheckEnv, ConformanceFailure, ManifestView } from "./ConformanceKit.ts"
import { check, describeError, ensure, fail, Kit, probe, service, unique } from "./ConformanceKit.ts"
import { parcelRequest, trackingNumber } from "./ConformanceShipping.ts"

/** How a representative call ended: a taxonomy (or other) error, or success. */
export type Outcome =
  | { readonly _tag: "Failed"; readonly error: unknown }
  | { readonly _tag: "Succeeded"; readonly detail: string }

/** A representative call of a capability: `prepare` seeds (no fault yet), `act` makes the call. */
export interface Trigger {
  readonly prepare: Effect.Effect<Effect.Effect<Outcome, never, CheckEnv>, ConformanceFailure, CheckEnv>
}

const outcome = <A>(effect: Effect.Effect<A, unknown>) =>
  Effect.match(effect, {
    onFailure: (error): Outcome => ({ _tag: "Failed", error }),
    onSuccess: (): Outcome => ({ _tag: "Succeeded", detail: "" })
  })

const ready = (act: Effect.Effect<Outcome, never, CheckEnv>) => Effect.succeed(act)

/** The representative call of each capability that talks to the platform. */
export const triggers: { readonly [K in Connector.Capability]?: Trigger } = {
  "stock.push": {
    prepare: Effect.gen(function* () {
      const stock = yield* probe("stock", "stock.push")
      const [listing] = yield* stock.seed([{ externalSku: unique("KIT"), quantity: 3 }])
      if (listing === undefined) return yield* fail("the stock probe's seed returned no listing")
      const update: Connector.StockUpdate = {
        externalSku: listing.externalSku,
        externalIds: listing.externalIds,
        quantity: 6,
        location: stock.location,
        idempotencyKey: unique("kit-idem")
      }
      return Effect.flatMap(service("stock.push").pipe(Effect.orDie), (push) =>
        Effect.match(push.push([update]), {
          onFailure: (error): Outcome => ({ _tag: "Failed", error }),
          onSuccess: (results): Outcome => {
            // A connector may report a failed call per update instead of failing the whole batch.
            const failed = results.find((r) => r._tag === "Failed")
            return failed?._tag === "Failed"
              ? { _tag: "Failed", error: failed.error }
              : { _tag: "Succeeded", detail: results.map((r) => r._tag).join(", ") }
          }
        })
      )
    })
  },
  "stock.pull": {
    prepare: ready(Effect.flatMap(service("stock.pull").pipe(Effect.orDie), (s) => outcome(s.list({}))))
  },
  "locations.pull": {
    prepare: ready(Effect.flatMap(service("locations.pull").pipe(Effect.orDie), (s) => outcome(s.list)))
  },
  "catalog.pull": {
    prepare: ready(Effect.flatMap(service("catalog.pull").pipe(Effect.orDie), (s) => outcome(s.list({ pageSize: 2 }))))
  },
  "orders.pull": {
    prepare: ready(
      Effect.flatMap(service("orders.pull").pipe(Effect.orDie), (s) =>
        Effect.flatMap(FakeChannel, (fake) =>
          outcome(s.list({ updatedSince: new Date(fake.sandbox.clock.now() - 86_400_000), pageSize: 2 }))
        )
      )
    )
  },
  "aftersales.pull": {
    prepare: ready(
      Effect.flatMap(service("aftersales.pull").pipe(Effect.orDie), (s) =>
        Effect.flatMap(FakeChannel, (fake) =>
          outcome(s.list({ updatedSince: new Date(fake.sandbox.clock.now() - 86_400_000), pageSize: 2 }))
        )
      )
    )
  },
  "fulfillment.push": {
    prepare: Effect.gen(function* () {
      const fulfillment = yield* probe("fulfillment", "fulfillment.push")
      const orderId = yield* fulfillment.seedOrder()
      return Effect.flatMap(service("fulfillment.push").pipe(Effect.orDie), (s) =>
        outcome(
          s.ship({
            orderId,
            carrier: fulfillment.carrier ?? "4PX",
            trackingNumber: trackingNumber(),
            idempotencyKey: unique("kit-ship")
          })
        )
      )
    })
  },
  "shipment.create": {
    prepare: Effect.gen(function* () {
      const request = yield* parcelRequest(unique("KITREF"))
      return Effect.flatMap(service("shipment.create").pipe(Effect.orDie), (s) => outcome(s.create(request)))
    })
  },
  "tracking.pull": {
    prepare: ready(
      Effect.flatMap(service("tracking.pull").pipe(Effect.orDie), (s) => outcome(s.track([trackingNumber()])))
    )
  }
}

/** The capabilities of a manifest that have a representative platform call. */
export const calling = (manifest: ManifestView): ReadonlyArray<Connector.Capability> =>
  manifest.capabilities.filter((c) => triggers[c] !== undefined)

const errorTag = (o: Outcome): string | undefined =>
  o._tag === "Failed" ? String((o.error as { _tag?: unknown })._tag ?? "defect") : undefined

const route = (capability: Connector.Capability) =>
  Effect.flatMap(FakeChannel, (fake) => {
    const name = fake.routes[capability]
    return name === undefined
      ? fail(`fake.routes names no sandbox route for ${capability}; add it so faults can be injected there`)
      : Effect.succeed({ fake, name })
  })

/** Real time, whatever clock the fiber runs with. */
const realSleep = (ms: number) =>
  Effect.async<void>((resume) => {
    const t = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(t))
  })

const outcomeText = (o: Outcome) =>
  o._tag === "Failed" ? describeError(o.error) : o.detail === "" ? "success" : `success (${o.detail})`

/** Runs `act` with `fault` injected on the capability's route, then clears it. */
const withFault = (capability: Connector.Capability, fault: Fault) =>
  Effect.gen(function* () {
    const trigger = triggers[capability]!
    const { fake, name } = yield* route(capability)
    const act = yield* trigger.prepare
    const before = fake.sandbox.requestsTo(name).length
    fake.sandbox.fault(name, fault)
    const result = yield* act.pipe(Effect.ensuring(Effect.sync(() => fake.sandbox.clearFaults(name))))
    const hits = fake.sandbox.requestsTo(name).length - before
    yield* ensure(hits > 0, () => `${capability}'s call never reached the sandbox route "${name}" (check fake.routes)`)
    return { result, hits }
  })

const expectTag = (capability: Connector.Capability, what: string, result: Outcome, tag: string) =>
  ensure(errorTag(result) === tag, () => `${capability} with ${what} reported ${outcomeText(result)}; ${tag} expected`)

const checksFor = (capability: Connector.Capability): ReadonlyArray<Check> => [
  check(
    "errors",
    `${capability}/rate-limited`,
    `${capability}: 429 with Retry-After → RateLimited with that retryAfter`,
    Effect.gen(function* () {
      const { result } = yield* withFault(capability, { retryAfterSeconds: 7 })
      yield* expectTag(capability, "a 429", result, "RateLimited")
      const retryAfter = (result as { error: { retryAfter?: Duration.Duration } }).error.retryAfter
      const ms = retryAfter === undefined ? undefined : Duration.toMillis(retryAfter)
      yield* ensure(ms === 7000, () => `RateLimited.retryAfter is ${ms} ms; the platform said Retry-After: 7 (7000 ms)`)
    })
  ),
  check(
    "errors",
    `${capability}/auth-expired`,
    `${capability}: 401 → AuthExpired after at most one refresh`,
    Effect.gen(function* () {
      const kit = yield* Kit
      const fake = yield* FakeChannel
      const kitBefore = kit.refreshes()
      const fakeBefore = fake.tokens === undefined ? 0 : yield* fake.tokens.refreshes()
      const { result, hits } = yield* withFault(capability, {
        status: 401,
        headers: { "content-type": "application/json" },
        body: { error: "unauthorized", message: "access token expired" }
      })
      yield* expectTag(capability, "a 401", result, "AuthExpired")
      const refreshed = kit.refreshes() - kitBefore
      const fakeRefreshed = fake.tokens === undefined ? 0 : (yield* fake.tokens.refreshes()) - fakeBefore
      yield* ensure(
        refreshed <= 1 && fakeRefreshed <= 1,
        () => `one 401 answer caused ${Math.max(refreshed, fakeRefreshed)} token refreshes; at most one expected`
      )
      yield* ensure(hits <= 2, () => `the call was sent ${hits} times under a 401; at most one retry after a refresh`)
    })
  ),
  check(
    "errors",
    `${capability}/server-error`,
    `${capability}: 500 → Transient`,
    Effect.gen(function* () {
      const { result } = yield* withFault(capability, { status: 500, body: { error: "internal error" } })
      yield* expectTag(capability, "a 500", result, "Transient")
    })
  ),
  check(
    "errors",
    `${capability}/timeout`,
    `${capability}: no answer → Transient from the connector's timeout`,
    Effect.gen(function* () {
      const trigger = triggers[capability]!
      const { fake, name } = yield* route(capability)
      const act = yield* trigger.prepare
      const before = fake.sandbox.requestsTo(name).length
      const held = () =>
        fake.sandbox
          .requestsTo(name)
          .slice(before)
          .some((r) => (r.fault ?? "").includes('"hang"'))
      fake.sandbox.fault(name, { hang: true })
      const result = yield* Effect.gen(function* () {
        yield* TestClock.setTime(Date.now())
        const fiber = yield* Effect.fork(act)
        for (let waited = 0; !held(); waited += 10) {
          const done = yield* Fiber.poll(fiber)
          if (Option.isSome(done)) {
            const early = Exit.isSuccess(done.value) ? outcomeText(done.value.value) : "a defect"
            return yield* fail(`${capability} ended with ${early} before its request reached route "${name}"`)
          }
          if (waited > 10_000) return yield* fail(`${capability}'s call never reached the sandbox route "${name}"`)
          yield* realSleep(10)
        }
        yield* TestClock.adjust(Duration.minutes(10))
        const ended = yield* Effect.raceFirst(
          Effect.map(Fiber.join(fiber), Option.some),
          Effect.as(realSleep(5_000), Option.none<Outcome>())
        )
        if (Option.isNone(ended)) {
          yield* Fiber.interruptFork(fiber)
          return yield* fail(
            `${capability} was still waiting for an answer after 10 minutes of clock time: the connector has no request timeout`
          )
        }
        return ended.value
      }).pipe(
        Effect.provide(TestContext.TestContext),
        Effect.ensuring(Effect.sync(() => fake.sandbox.clearFaults(name)))
      )
      yield* expectTag(capability, "no answer", result, "Transient")
    }),
    { timeoutMs: 60_000 }
  ),
  check(
    "errors",
    `${capability}/dropped-connection`,
    `${capability}: dropped connection → Transient`,
    Effect.gen(function* () {
      const { result } = yield* withFault(capability, { drop: true })
      yield* expectTag(capability, "a dropped connection", result, "Transient")
    })
  ),
  check(
    "errors",
    `${capability}/empty-200`,
    `${capability}: empty 200 → Transient`,
    Effect.gen(function* () {
      const { result } = yield* withFault(capability, { empty: true })
      yield* expectTag(capability, "an empty 200", result, "Transient")
    })
  )
]

/** The error checks for a manifest. */
export const checks = (manifest: ManifestView): ReadonlyArray<Check> => calling(manifest).flatMap(checksFor)
