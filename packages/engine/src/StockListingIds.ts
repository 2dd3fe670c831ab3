/**
 * StockListingIds: where the stock pusher finds the platform ids a listing's write needs (Shopify's
 * inventory item id, TikTok's product and SKU ids …). The outbox knows a listing by its channel SKU
 * only; the ids come from the catalogue import, kept on the pool's listings.
 *
 * `layerFromLedger` reads them from the ledger's paired listings, per connection, cached in memory:
 * the cache is reloaded when a write names a listing it does not know (a catalogue import paired a
 * new SKU), at most once every `minReloadMs`, and in any case after `maxAgeMs`. Without a layer the
 * pusher sends no ids (connectors that address stock by SKU alone need none).
 *
 * @since 0.1.0
 */
import { Ledger } from "@tkbridge/core"
import { Context, Effect, Layer } from "effect"

/** Platform ids per channel SKU. */
export type Ids = ReadonlyMap<string, Readonly<Record<string, string>>>

/** Looks up the ids of a connection's listings. */
export interface StockListingIdsShape {
  readonly lookup: (connection: string, listings: ReadonlyArray<string>) => Effect.Effect<Ids>
}

const none: StockListingIdsShape = { lookup: () => Effect.succeed(new Map()) }

/** The ids the pusher sends with each update; none unless a layer provides them. */
export class StockListingIds extends Context.Reference<StockListingIds>()("@tkbridge/engine/StockListingIds", {
  defaultValue: (): StockListingIdsShape => none
}) {}

/** Cache tuning. */
export interface CacheOptions {
  /** Least time between two reloads caused by unknown listings. */
  readonly minReloadMs: number
  /** A connection's ids are reloaded after this long regardless. */
  readonly maxAgeMs: number
}

/** Defaults: reload on an unknown listing at most every 5 s, and every minute regardless. */
export const cacheDefaults: CacheOptions = { minReloadMs: 5_000, maxAgeMs: 60_000 }

/** Ids from the ledger's paired listings, cached per connection. */
export const layerFromLedger = (
  options: Partial<CacheOptions> = {}
): Layer.Layer<StockListingIds, never, Ledger.Ledger> =>
  Layer.effect(
    StockListingIds,
    Effect.gen(function* () {
      const ledger = yield* Ledger.Ledger
      const { minReloadMs, maxAgeMs } = { ...cacheDefaults, ...options }
      // Cache ages are bookkeeping, not business time: they follow the wall clock.
      const cache = new Map<string, { readonly at: number; readonly ids: Ids }>()
      const load = (connection: string) =>
        ledger.listings(connection).pipe(
          Effect.map((listings): Ids => new Map(listings.map((l) => [l.externalSku, l.externalIds]))),
          Effect.tap((ids) => Effect.sync(() => cache.set(connection, { at: Date.now(), ids }))),
          Effect.catchAll((error) =>
            Effect.logWarning("listing ids could not be read; the last known ones are used", error).pipe(
              Effect.as(cache.get(connection)?.ids ?? new Map())
            )
          )
        )
      return {
        lookup: (connection, listings) =>
          Effect.suspend(() => {
            const cached = cache.get(connection)
            const age = cached === undefined ? Number.POSITIVE_INFINITY : Date.now() - cached.at
            const missing = cached !== undefined && listings.some((l) => !cached.ids.has(l))
            if (cached !== undefined && age < maxAgeMs && !(missing && age >= minReloadMs)) {
              return Effect.succeed(cached.ids)
            }
            return load(connection)
          })
      }
    })
  )

/** Fixed ids (tests, or a runner that keeps them in its config). */
export const layer = (ids: Readonly<Record<string, Ids>>): Layer.Layer<StockListingIds> =>
  Layer.succeed(StockListingIds, { lookup: (connection) => Effect.succeed(ids[connection] ?? new Map()) })
