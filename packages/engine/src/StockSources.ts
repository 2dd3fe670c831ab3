/**
 * StockSources: the pool's on-hand numbers come from the stock sources (an ERP/WMS, a warehouse
 * system) — each read every `every` with `stock.pull`, page by page, and applied with
 * `Ledger.setStock`, which ignores a reading whose source version is not newer than the stored one
 * (so an older page, or a slower runner, never undoes a newer reading). Each page is one
 * transaction with the republishing of what it changed.
 *
 * A reading's SKU names a pool item: the source's own listing when it is paired (a catalogue import
 * of the source), else the SKU itself. Its location is the source's location id.
 *
 * `reconcile` republishes every listing of the stock channels: the backstop for a notification lost
 * between a commit and the pusher (only quantities that differ from the desired one make a new
 * version, so an idle pool costs nothing).
 *
 * @since 0.1.0
 */
import type { StoreError } from "@tkbridge/core"
import { Ledger } from "@tkbridge/core"
import { Effect, Option } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import { CurrentFlows, stockChannels } from "./EngineFlows.ts"
import * as PartnerCall from "./PartnerCall.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import { StockPublisher } from "./StockPublisher.ts"

/** What a pull did. */
export interface PullReport {
  readonly read: number
  readonly applied: number
  readonly skipped?: string | undefined
}

const pullPolicy: Partial<RetryPolicy.Options> = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  inlineWaitMs: 10_000
}

type Requirements = PartnerCall.Requirements | Ledger.Ledger | StockPublisher

/** Reads a stock source and applies its readings. */
export const pull = (connection: string): Effect.Effect<PullReport, never, Requirements> =>
  Effect.gen(function* () {
    const registry = yield* ConnectionRegistry
    const ledger = yield* Ledger.Ledger
    const publisher = yield* StockPublisher
    const source = yield* Effect.option(registry.capability(connection, "stock.pull"))
    if (Option.isNone(source)) return { read: 0, applied: 0, skipped: `${connection} has no stock.pull` }
    const paired = new Map<string, string>()
    const listings = yield* ledger.listings(connection).pipe(Effect.orElseSucceed(() => []))
    for (const l of listings) {
      if (l.components.length === 1 && l.components[0].qty === 1) paired.set(l.externalSku, l.components[0].item)
    }
    let cursor: string | undefined
    let read = 0
    let applied = 0
    while (true) {
      const outcome = yield* PartnerCall.run(connection, "normal", source.value.list({ cursor }), pullPolicy)
      if (outcome._tag !== "Succeeded") {
        return { read, applied, skipped: `stock: ${RetryPolicy.describe(outcome)}` }
      }
      const readings = outcome.value.items.map(
        (r): Ledger.StockReading => ({
          item: paired.get(r.externalSku) ?? r.externalSku,
          location: r.location,
          onHand: r.onHand,
          sourceVersion: r.sourceVersion
        })
      )
      read += readings.length
      if (readings.length > 0) {
        const result = yield* publisher
          .run(
            Effect.map(
              ledger.setStock(readings, { actor: `stock:${connection}`, reason: "stock source reading" }),
              (r) => ({ value: r, changed: r.changed })
            ),
            { actor: `stock:${connection}`, cause: "stock reading" }
          )
          .pipe(Effect.either)
        if (result._tag === "Left") {
          return { read, applied, skipped: `stock: the readings could not be applied (${result.left.message})` }
        }
        applied += result.right.applied.length
        for (const s of result.right.shortfalls) {
          yield* Effect.logWarning(
            `${s.item}: on hand ${s.onHand} is below the ${s.reserved} units open orders hold (short ${s.shortfall})`
          )
        }
      }
      cursor = outcome.value.next
      if (cursor === undefined || cursor === "") break
    }
    return { read, applied }
  }).pipe(Effect.annotateLogs({ connection, stream: "stock" }))

/** Republishes every listing of the stock channels; answers how many got a new version. */
export const reconcile: Effect.Effect<
  number,
  Ledger.LedgerUnavailable | StoreError.StoreError,
  Ledger.Ledger | StockPublisher | CurrentFlows
> = Effect.gen(function* () {
  const ledger = yield* Ledger.Ledger
  const publisher = yield* StockPublisher
  const flows = yield* CurrentFlows
  let bumped = 0
  for (const channel of stockChannels(flows)) {
    const listings = yield* ledger.listings(channel)
    const refs = listings.map((l) => ({ connection: l.connection, externalSku: l.externalSku }))
    for (let i = 0; i < refs.length; i += 500) {
      bumped += yield* publisher.republish(refs.slice(i, i + 500), { actor: "reconciliation", cause: "reconciliation" })
    }
  }
  return bumped
})
