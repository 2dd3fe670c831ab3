/**
 * ConformanceReads: the checks for the paged reads — `orders.pull`, `aftersales.pull`,
 * `catalog.pull`, `stock.pull` — and `locations.pull`. Each seeds records on the fake platform,
 * then pages through them with small page sizes: every seeded record must come exactly once, with
 * no gap and no duplicate across page boundaries, and the cursor must end.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import { FakeChannel } from "../FakeChannel.ts"
import type { Check, ManifestView } from "./ConformanceKit.ts"
import { call, check, countBy, ensure, exactlyOnce, pageAll, probe, service, unique } from "./ConformanceKit.ts"

const maxPages = 2_000
const pageSizes = [2, 3] as const

/** Reads from a day before the fake's clock, so every seeded record is inside the window. */
const windowStart = Effect.map(FakeChannel, (fake) => new Date(fake.sandbox.clock.now() - 24 * 60 * 60 * 1000))

const ordersPaging = check(
  "orders.pull",
  "paging",
  "cursor paging returns every order exactly once, with small page sizes",
  Effect.gen(function* () {
    const orders = yield* probe("orders", "orders.pull")
    const pull = yield* service("orders.pull")
    const seeded = yield* orders.seed(7)
    const updatedSince = yield* windowStart
    for (const pageSize of pageSizes) {
      const what = `orders.pull with pageSize ${pageSize}`
      const { items } = yield* pageAll(what, (cursor) => pull.list({ updatedSince, cursor, pageSize }), maxPages)
      yield* exactlyOnce(
        what,
        seeded,
        countBy(items, (o) => o.externalId)
      )
    }
  })
)

const ordersGet = check(
  "orders.pull",
  "get",
  "get returns the order asked for",
  Effect.gen(function* () {
    const orders = yield* probe("orders", "orders.pull")
    const pull = yield* service("orders.pull")
    const [id] = yield* orders.seed(1)
    yield* ensure(id !== undefined, "the orders probe seeded no order")
    const order = yield* call(`orders.pull get(${id})`, pull.get(id!))
    yield* ensure(order.externalId === id, () => `get(${id}) returned order ${order.externalId}`)
  })
)

const aftersalesPaging = check(
  "aftersales.pull",
  "paging",
  "cursor paging returns every after-sale exactly once, with small page sizes",
  Effect.gen(function* () {
    const aftersales = yield* probe("aftersales", "aftersales.pull")
    const pull = yield* service("aftersales.pull")
    const seeded = yield* aftersales.seed(7)
    const updatedSince = yield* windowStart
    for (const pageSize of pageSizes) {
      const what = `aftersales.pull with pageSize ${pageSize}`
      const { items } = yield* pageAll(what, (cursor) => pull.list({ updatedSince, cursor, pageSize }), maxPages)
      yield* exactlyOnce(
        what,
        seeded,
        countBy(items, (a) => a.externalId)
      )
    }
  })
)

const catalogPaging = check(
  "catalog.pull",
  "paging",
  "cursor paging lists every SKU exactly once, with the ids a stock push needs",
  Effect.gen(function* () {
    const catalog = yield* probe("catalog", "catalog.pull")
    const pull = yield* service("catalog.pull")
    const seeded = yield* catalog.seed(7)
    for (const pageSize of pageSizes) {
      const what = `catalog.pull with pageSize ${pageSize}`
      const { items } = yield* pageAll(what, (cursor) => pull.list({ cursor, pageSize }), maxPages)
      yield* exactlyOnce(
        what,
        seeded,
        countBy(items, (l) => l.externalSku)
      )
    }
  })
)

const stockPullReadings = check(
  "stock.pull",
  "readings",
  "stock readings match what the platform holds",
  Effect.gen(function* () {
    const stock = yield* probe("stock", "stock.pull")
    const pull = yield* service("stock.pull")
    const seeded = yield* stock.seed([
      { externalSku: unique("KIT"), quantity: 4 },
      { externalSku: unique("KIT"), quantity: 9 },
      { externalSku: unique("KIT"), quantity: 0 }
    ])
    const skus = seeded.map((l) => l.externalSku)
    const { items } = yield* pageAll("stock.pull", (cursor) => pull.list({ cursor, skus }), maxPages)
    for (const sku of skus) {
      const held = yield* stock.quantity(sku, stock.location)
      const readings = items.filter(
        (r: Connector.StockReading) =>
          r.externalSku === sku && (stock.location === undefined || r.location === stock.location)
      )
      yield* ensure(readings.length > 0, () => `stock.pull gave no reading for ${sku}`)
      const read = readings.reduce((n, r) => n + r.onHand, 0)
      yield* ensure(read === held, () => `stock.pull read ${read} for ${sku}; the platform holds ${held}`)
    }
  })
)

const locationsList = check(
  "locations.pull",
  "list",
  "lists the platform's locations",
  Effect.gen(function* () {
    const fake = yield* FakeChannel
    const pull = yield* service("locations.pull")
    const locations = yield* call("locations.pull", pull.list)
    yield* ensure(locations.length > 0, "locations.pull listed no location")
    const known = fake.stock?.location
    if (known !== undefined) {
      yield* ensure(
        locations.some((l) => l.id === known || l.externalId === known),
        () => `locations.pull does not list the platform's location ${known}`
      )
    }
  })
)

/** The read checks for a manifest. */
export const checks = (manifest: ManifestView): ReadonlyArray<Check> => {
  const has = (c: Connector.Capability) => manifest.capabilities.includes(c)
  return [
    ...(has("stock.pull") ? [stockPullReadings] : []),
    ...(has("locations.pull") ? [locationsList] : []),
    ...(has("catalog.pull") ? [catalogPaging] : []),
    ...(has("orders.pull") ? [ordersPaging, ordersGet] : []),
    ...(has("aftersales.pull") ? [aftersalesPaging] : [])
  ]
}
