/**
 * StockPublisher: turns every pool mutation into the quantities channels must show, atomically with
 * the mutation, and wakes the pushers once it committed.
 *
 * Inside the mutation's transaction, `publish(changed)` recomputes the published quantity of each
 * changed listing on a stock channel (`Ledger.published`), upserts its outbox row (a new version
 * when the number changed) and appends the quantity decision with its explanation to the audit
 * trail. After the commit, `afterCommit` notifies each listing's `StockPusher` and starts the clock
 * for its propagation delay: the time from the commit to the outbox recording that the channel holds
 * that version (or a later one), measured when the pusher reports it.
 *
 * `run(mutation)` does all of it for callers that own no transaction (a workflow step, a cron): it
 * opens one, retries the whole transaction when the ledger reports a retryable storage failure
 * (deadlock, serialization failure, busy file), then notifies.
 *
 * @since 0.1.0
 */
import type { Sharding } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Audit, Ledger, Outbox, StoreError } from "@tkbridge/core"
import { SqlLedger } from "@tkbridge/store-sql"
import { Context, Effect, Layer, Option, Random } from "effect"
import { ConnectionRegistry } from "./ConnectionRegistry.ts"
import type { Propagation } from "./Engine.ts"
import * as EngineClock from "./EngineClock.ts"
import { CurrentFlows, stockChannels } from "./EngineFlows.ts"
import * as StockPusher from "./StockPusher.ts"

/** A listing whose quantity changed: the outbox version the channel must reach. */
export interface Published {
  readonly connection: string
  readonly listing: string
  readonly version: number
  readonly quantity: number
}

/** A mutation and the listings it changed. */
export interface Mutation<A> {
  readonly value: A
  readonly changed: ReadonlyArray<Ledger.ListingRef>
}

/** Publishing and its measurements. */
export interface StockPublisherShape {
  /** Inside the caller's transaction: recompute, upsert the outbox rows, audit. */
  readonly publish: (
    changed: ReadonlyArray<Ledger.ListingRef>,
    meta?: { readonly actor?: string | undefined; readonly cause?: string | undefined }
  ) => Effect.Effect<ReadonlyArray<Published>, Ledger.LedgerUnavailable | StoreError.StoreError>
  /** After the commit: wake the pushers and start measuring. */
  readonly afterCommit: (published: ReadonlyArray<Published>) => Effect.Effect<void>
  /**
   * Runs `mutation` and the publishing of what it changed in one transaction (retried as a whole on
   * retryable storage failures), then notifies.
   */
  readonly run: <A, E, R>(
    mutation: Effect.Effect<Mutation<A>, E, R>,
    meta?: { readonly actor?: string | undefined; readonly cause?: string | undefined }
  ) => Effect.Effect<A, E | Ledger.LedgerUnavailable | StoreError.StoreError, R>
  /** Recomputes the listings named and queues the ones whose quantity differs; answers how many. */
  readonly republish: (
    refs: ReadonlyArray<Ledger.ListingRef>,
    meta?: { readonly actor?: string | undefined; readonly cause?: string | undefined }
  ) => Effect.Effect<number, Ledger.LedgerUnavailable | StoreError.StoreError>
  /** Delays from commit to channel measured so far. */
  readonly propagation: Effect.Effect<Propagation>
}

/** The publisher. */
export class StockPublisher extends Context.Tag("@tkbridge/engine/StockPublisher")<
  StockPublisher,
  StockPublisherShape
>() {}

/** A storage failure of the engine's own transaction, as the store's error (retryable when busy or deadlocked). */
export const storeFailure = (operation: string, e: SqlError): StoreError.StoreError =>
  new StoreError.StoreError({ operation, message: e.message, retryable: SqlLedger.isRetryable(e) })

/** True for the SQL client's own failures. */
export const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

/** True for failures where running the whole transaction again may succeed. */
export const retryable = (e: unknown): boolean =>
  typeof e === "object" &&
  e !== null &&
  ((e as { _tag?: unknown })._tag === "LedgerUnavailable" || (e as { _tag?: unknown })._tag === "StoreError") &&
  (e as { retryable?: unknown }).retryable === true

/**
 * Runs a transaction, and runs it again (up to `attempts` times, with a short jittered pause) while
 * it fails with a retryable storage error: a deadlock or serialization failure aborts the whole
 * transaction on PostgreSQL, so only a fresh one can succeed.
 */
export const retryingTransaction = <A, E, R>(
  transaction: Effect.Effect<A, E, R>,
  attempts = 8
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const loop = (n: number): Effect.Effect<A, E, R> =>
      Effect.catchIf(
        transaction,
        (e) => n < attempts && retryable(e),
        () =>
          Effect.flatMap(Random.nextIntBetween(5, 20 * 2 ** Math.min(n, 5)), (ms) => Effect.sleep(ms)).pipe(
            Effect.zipRight(loop(n + 1))
          )
      )
    return loop(1)
  })

const maxPending = 20_000
const maxSamples = 2_000
const keep = 20

type Requirements =
  | SqlClient.SqlClient
  | Ledger.Ledger
  | Outbox.StockOutbox
  | Audit.Audit
  | CurrentFlows
  | ConnectionRegistry
  | StockPusher.StockLanes
  | Sharding.Sharding
  | EngineClock.EngineClock

/** Builds the publisher. */
export const make: Effect.Effect<StockPublisherShape, never, Requirements> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ledger = yield* Ledger.Ledger
  const outbox = yield* Outbox.StockOutbox
  const audit = yield* Audit.Audit
  const flows = yield* CurrentFlows
  const registry = yield* ConnectionRegistry
  const context = yield* Effect.context<StockPusher.StockLanes | Sharding.Sharding | EngineClock.EngineClock>()

  const channels = new Set(
    stockChannels(flows).filter((c) =>
      registry.all.some((e) => e.id === c && e.manifest.capabilities.includes("stock.push"))
    )
  )

  // Changes waiting for the channel, per listing: (version, committed at) in version order.
  const pending = new Map<string, Array<{ version: number; at: number }>>()
  let pendingCount = 0
  const samples: Array<{ connection: string; listing: string; version: number; delayMs: number; at: Date }> = []

  const publish: StockPublisherShape["publish"] = (changed, meta) =>
    Effect.gen(function* () {
      const refs = changed.filter((r) => channels.has(r.connection))
      if (refs.length === 0) return []
      const explanations = yield* ledger.published(refs)
      const out: Array<Published> = []
      for (const e of explanations) {
        const { version, changed: bumped } = yield* outbox.setDesired({
          connection: e.connection,
          listing: e.externalSku,
          quantity: e.published
        })
        if (!bumped) continue
        yield* audit.append({
          ...Audit.quantityDecision({
            connection: e.connection,
            listing: e.externalSku,
            quantity: e.published,
            version,
            explanation: e
          }),
          ...(meta?.cause !== undefined ? { outcome: `${e.published} (${meta.cause})` } : {})
        })
        out.push({ connection: e.connection, listing: e.externalSku, version, quantity: e.published })
      }
      return out
    })

  const afterCommit: StockPublisherShape["afterCommit"] = (published) =>
    Effect.gen(function* () {
      if (published.length === 0) return
      const at = yield* EngineClock.now
      for (const p of published) {
        const key = `${p.connection}\u0000${p.listing}`
        if (pendingCount < maxPending) {
          const list = pending.get(key) ?? []
          list.push({ version: p.version, at })
          pending.set(key, list)
          pendingCount++
        }
      }
      yield* Effect.forEach(
        published,
        (p) =>
          StockPusher.notify(p.connection, p.listing, p.version).pipe(
            Effect.catchAllCause((cause) =>
              // The outbox row is committed; the lane's sweep writes it even if this wake-up is lost.
              Effect.logDebug("stock push notification not delivered; the outbox sweep will send it", cause)
            )
          ),
        { discard: true }
      )
    }).pipe(Effect.provide(context))

  const run: StockPublisherShape["run"] = (mutation, meta) =>
    Effect.gen(function* () {
      const [value, published] = yield* retryingTransaction(
        sql
          .withTransaction(
            Effect.flatMap(mutation, (m) => Effect.map(publish(m.changed, meta), (p) => [m.value, p] as const))
          )
          .pipe(Effect.catchIf(isSqlError, (e) => Effect.fail(storeFailure("publish", e))))
      )
      yield* afterCommit(published)
      return value
    })

  const republish: StockPublisherShape["republish"] = (refs, meta) =>
    Effect.gen(function* () {
      const published = yield* retryingTransaction(
        sql
          .withTransaction(publish(refs, meta))
          .pipe(Effect.catchIf(isSqlError, (e) => Effect.fail(storeFailure("republish", e))))
      )
      yield* afterCommit(published)
      return published.length
    })

  const collect = Effect.gen(function* () {
    for (const [key, list] of [...pending.entries()]) {
      const [connection, listing] = key.split("\u0000") as [string, string]
      const row = yield* outbox.get(connection, listing).pipe(Effect.option, Effect.map(Option.flatten))
      if (Option.isNone(row)) continue
      const { pushedVersion, pushedAt } = row.value
      if (pushedAt === undefined) continue
      const remaining = list.filter((p) => p.version > pushedVersion)
      for (const p of list) {
        if (p.version > pushedVersion) continue
        samples.push({
          connection,
          listing,
          version: p.version,
          delayMs: Math.max(0, pushedAt.getTime() - p.at),
          at: pushedAt
        })
        if (samples.length > maxSamples) samples.splice(0, samples.length - maxSamples)
      }
      pendingCount -= list.length - remaining.length
      if (remaining.length === 0) pending.delete(key)
      else pending.set(key, remaining)
    }
  })

  const propagation: StockPublisherShape["propagation"] = Effect.map(collect, () => {
    const delays = samples.map((s) => s.delayMs).sort((a, b) => a - b)
    const pick = (q: number) => delays[Math.min(delays.length - 1, Math.max(0, Math.ceil(delays.length * q) - 1))]
    return {
      samples: delays.length,
      p50Ms: delays.length > 0 ? pick(0.5) : undefined,
      p95Ms: delays.length > 0 ? pick(0.95) : undefined,
      maxMs: delays.length > 0 ? delays[delays.length - 1] : undefined,
      recent: samples.slice(-keep).reverse()
    }
  })

  return { publish, afterCommit, run, republish, propagation }
})

/** The publisher as a layer. */
export const layer: Layer.Layer<StockPublisher, never, Requirements> = Layer.effect(StockPublisher, make)
