/**
 * CatalogImport: reads a connection's catalogue (`catalog.pull`, `low` lane, page by page) and pairs
 * every SKU with pool items — the explicit map first, then the auto-pairing rules of the flows
 * (`Ledger.importCatalog`). When the connection is the pool's items source (`pool.itemsFrom`), its
 * SKUs become the items first (title kept), so the source's listings pair exactly.
 *
 * Pairing and the republishing of every listing it paired commit in one transaction; the listings
 * on stock channels then go out through the pushers. On a compare-and-set channel the quantity the
 * catalogue reported becomes what the pusher knows of each listing it never wrote, so even the first
 * write compares against the channel's count instead of overwriting it blindly (a sale made between
 * the read and the write comes back stale and is decided against the pool). Progress is reported after each page and once
 * at the end, for the runner's progress bar.
 *
 * @since 0.1.0
 */

import type { SqlClient } from "@effect/sql"
import { Item, Ledger } from "@tkbridge/core"
import { Effect } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import type { ImportProgress, ImportReport } from "./Engine.ts"
import { EngineFailure } from "./Engine.ts"
import { CurrentFlows } from "./EngineFlows.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import * as StockChannelState from "./StockChannelState.ts"
import { StockPublisher } from "./StockPublisher.ts"

const pageSize = 100

/** Imports and pairs a connection's catalogue. */
export const importCatalog = (
  connection: string,
  onProgress: (progress: ImportProgress) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<
  ImportReport,
  EngineFailure,
  PartnerCall.Requirements | Ledger.Ledger | StockPublisher | CurrentFlows | SqlClient.SqlClient
> =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const ledger = yield* Ledger.Ledger
    const publisher = yield* StockPublisher
    const flows = yield* CurrentFlows
    const fail = (message: string) => new EngineFailure({ operation: "importCatalog", connection, message })
    const catalog = yield* registry.capability(connection, "catalog.pull").pipe(Effect.mapError((e) => fail(e.message)))
    const entries: Array<Ledger.CatalogEntry> = []
    const reported = new Map<string, number>()
    let cursor: string | undefined
    let pages = 0
    while (true) {
      const outcome = yield* PartnerCall.run(connection, "low", catalog.list({ cursor, pageSize }))
      if (outcome._tag !== "Succeeded") {
        return yield* Effect.fail(
          fail(`reading the catalogue stopped on page ${pages + 1}: ${RetryPolicy.describe(outcome)}`)
        )
      }
      pages++
      for (const l of outcome.value.items) {
        entries.push({ externalSku: l.externalSku, externalIds: l.externalIds, title: l.title })
        if (l.quantity !== undefined) reported.set(l.externalSku, l.quantity)
      }
      yield* onProgress({ connection, pages, listings: entries.length, done: false })
      cursor = outcome.value.next
      if (cursor === undefined || cursor === "") break
    }
    const itemsSource = flows.pool.itemsFrom === connection
    const entry = registry.all.find((c) => c.id === connection)
    const comparesAndSets = entry?.manifest.stock?.compareAndSet === true
    const items = itemsSource
      ? [...new Map(entries.map((e) => [e.externalSku, e])).values()].map(
          (e) => new Item.Item({ id: e.externalSku, ...(e.title !== undefined ? { title: e.title } : {}) })
        )
      : []
    const report = yield* publisher
      .run(
        Effect.gen(function* () {
          const upserted =
            items.length > 0
              ? yield* ledger.upsertItems(items, { actor: "catalog", reason: "items source" })
              : undefined
          const paired = yield* ledger.importCatalog(connection, entries, {
            actor: "catalog",
            reason: "catalogue import"
          })
          if (comparesAndSets) {
            for (const [listing, quantity] of reported) {
              const state = yield* StockChannelState.readForUpdate(connection, listing)
              if (state.known === undefined) yield* StockChannelState.save(connection, { ...state, known: quantity })
            }
          }
          return { value: paired, changed: [...(upserted?.changed ?? []), ...paired.changed] }
        }),
        { actor: "catalog", cause: "catalogue import" }
      )
      .pipe(Effect.mapError((e) => fail(`pairing failed: ${e.message}`)))
    yield* onProgress({ connection, pages, listings: entries.length, done: true })
    return {
      connection,
      listings: entries.length,
      items: items.length,
      paired: report.paired,
      unpaired: report.unpaired,
      published: report.changed.length
    }
  })
