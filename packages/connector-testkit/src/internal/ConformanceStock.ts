/**
 * ConformanceStock: the `stock.push` checks. Every assertion reads the fake platform's state through
 * the stock probe, never the connector's own report:
 *
 * - an absolute set replaces the platform's quantity (a connector that writes deltas fails);
 * - a batch of `limits.stockPushBatch` updates lands in one call, each on its own SKU;
 * - a replayed update (same idempotency key) is not applied a second time when the manifest claims
 *   idempotency keys, and leaves the quantity right either way;
 * - compare-and-set (when claimed): a stale `expected` comes back `Stale` with the platform's actual
 *   quantity and writes nothing.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import type { Check, ManifestView } from "./ConformanceKit.ts"
import { call, check, describeError, ensure, fail, probe, service, unique } from "./ConformanceKit.ts"

const group = "stock.push"

const update = (
  listing: Connector.ChannelListing,
  quantity: number,
  location: string | undefined,
  extra: { readonly expected?: number | undefined; readonly idempotencyKey?: string | undefined } = {}
): Connector.StockUpdate => ({
  externalSku: listing.externalSku,
  externalIds: listing.externalIds,
  quantity,
  location,
  expected: extra.expected,
  idempotencyKey: extra.idempotencyKey ?? unique("kit-idem")
})

const seedOne = (quantity: number) =>
  Effect.gen(function* () {
    const stock = yield* probe("stock", group)
    const [listing] = yield* stock.seed([{ externalSku: unique("KIT"), quantity }])
    if (listing === undefined) return yield* fail("the stock probe's seed returned no listing")
    return { stock, listing }
  })

const resultFor = (results: ReadonlyArray<Connector.StockPushResult>, sku: string) =>
  results.find((r) => r.externalSku === sku)

const expectApplied = (what: string, results: ReadonlyArray<Connector.StockPushResult>, skus: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    yield* ensure(
      results.length === skus.length,
      () => `${what}: ${skus.length} updates gave ${results.length} results (one result per update expected)`
    )
    for (const sku of skus) {
      const r = resultFor(results, sku)
      if (r === undefined) return yield* fail(`${what}: no result for ${sku}`)
      if (r._tag === "Failed") return yield* fail(`${what}: ${sku} failed: ${describeError(r.error)}`)
      if (r._tag === "Stale") return yield* fail(`${what}: ${sku} came back Stale (actual ${r.actual}) without a CAS`)
    }
  })

const absoluteSet = check(
  group,
  "absolute-set",
  "an absolute set replaces the platform's quantity",
  Effect.gen(function* () {
    const { stock, listing } = yield* seedOne(5)
    const push = yield* service("stock.push")
    const sku = listing.externalSku
    for (const quantity of [12, 3, 0, 7]) {
      const what = `pushing ${sku} = ${quantity}`
      const results = yield* call(what, push.push([update(listing, quantity, stock.location)]))
      yield* expectApplied(what, results, [sku])
      const held = yield* stock.quantity(sku, stock.location)
      yield* ensure(
        held === quantity,
        () => `after ${what} the platform holds ${held}: a stock push must set the quantity, not add to it`
      )
    }
  })
)

const batch = (manifest: ManifestView) =>
  check(
    group,
    "batch",
    `a batch of limits.stockPushBatch (${manifest.limits.stockPushBatch ?? 1}) updates lands in one call`,
    Effect.gen(function* () {
      const stock = yield* probe("stock", group)
      const push = yield* service("stock.push")
      const size = Math.min(manifest.limits.stockPushBatch ?? 1, 250)
      const listings = yield* stock.seed(
        Array.from({ length: size }, () => ({ externalSku: unique("KIT"), quantity: 1 }))
      )
      yield* ensure(listings.length === size, () => `the stock probe seeded ${listings.length} of ${size} SKUs`)
      const updates = listings.map((l, i) => update(l, i + 2, stock.location))
      const what = `pushing a batch of ${size}`
      const results = yield* call(what, push.push(updates))
      yield* expectApplied(
        what,
        results,
        listings.map((l) => l.externalSku)
      )
      const wrong: Array<string> = []
      for (const [i, l] of listings.entries()) {
        const held = yield* stock.quantity(l.externalSku, stock.location)
        if (held !== i + 2) wrong.push(`${l.externalSku}: ${held} instead of ${i + 2}`)
      }
      yield* ensure(wrong.length === 0, () => `${what}, the platform holds wrong quantities: ${wrong.join("; ")}`)
    })
  )

const replay = (manifest: ManifestView) =>
  check(
    group,
    "idempotent-replay",
    manifest.stock?.idempotencyKeys === true
      ? "a replayed update with the same idempotency key is not applied twice"
      : "a replayed update leaves the quantity right",
    Effect.gen(function* () {
      const { stock, listing } = yield* seedOne(4)
      const push = yield* service("stock.push")
      const sku = listing.externalSku
      const once = update(listing, 9, stock.location, { idempotencyKey: unique("kit-replay") })
      const before = yield* stock.appliedWrites(sku)
      yield* expectApplied("the first push", yield* call("the first push", push.push([once])), [sku])
      const afterFirst = yield* stock.appliedWrites(sku)
      yield* ensure(
        afterFirst === before + 1,
        () => `the platform counted ${afterFirst - before} applied writes for one push (the probe or the push is wrong)`
      )
      if (manifest.stock?.idempotencyKeys === true) {
        // A sale on the platform after our write: replaying the old write must not undo it.
        yield* stock.setExternally(sku, 7, stock.location)
        const replayed = yield* call("the replayed push", push.push([once]))
        yield* expectApplied("the replayed push", replayed, [sku])
        const afterReplay = yield* stock.appliedWrites(sku)
        yield* ensure(
          afterReplay === afterFirst,
          "the replayed update (same idempotency key) was applied a second time: the connector does not send the key"
        )
        const held = yield* stock.quantity(sku, stock.location)
        yield* ensure(held === 7, () => `the replay overwrote the platform's newer quantity 7 with ${held}`)
      } else {
        const replayed = yield* call("the replayed push", push.push([once]))
        yield* expectApplied("the replayed push", replayed, [sku])
        const held = yield* stock.quantity(sku, stock.location)
        yield* ensure(held === 9, () => `after pushing 9 twice the platform holds ${held}`)
      }
    })
  )

const compareAndSet = check(
  group,
  "compare-and-set",
  "a stale expected quantity comes back Stale with the actual one and writes nothing",
  Effect.gen(function* () {
    const { stock, listing } = yield* seedOne(10)
    const push = yield* service("stock.push")
    const sku = listing.externalSku
    yield* stock.setExternally(sku, 8, stock.location)
    const stale = yield* call("a CAS push", push.push([update(listing, 5, stock.location, { expected: 10 })]))
    const r = resultFor(stale, sku)
    yield* ensure(
      r?._tag === "Stale",
      () =>
        `a push expecting 10 while the platform holds 8 came back ${r === undefined ? "without a result" : r._tag}; Stale expected`
    )
    if (r?._tag === "Stale") {
      yield* ensure(r.actual === 8, () => `the Stale result says the platform holds ${r.actual}; it holds 8`)
    }
    const held = yield* stock.quantity(sku, stock.location)
    yield* ensure(held === 8, () => `a stale compare-and-set overwrote the platform's quantity 8 with ${held}`)
    const fresh = yield* call("a CAS push", push.push([update(listing, 5, stock.location, { expected: 8 })]))
    yield* expectApplied("a push expecting the actual quantity", fresh, [sku])
    const after = yield* stock.quantity(sku, stock.location)
    yield* ensure(after === 5, () => `a compare-and-set push of 5 expecting 8 left ${after} on the platform`)
  })
)

/** The `stock.push` checks for a manifest. */
export const checks = (manifest: ManifestView): ReadonlyArray<Check> => {
  if (!manifest.capabilities.includes("stock.push")) return []
  const list = [absoluteSet, batch(manifest), replay(manifest)]
  if (manifest.stock?.compareAndSet === true) list.push(compareAndSet)
  return list
}
