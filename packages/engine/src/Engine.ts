/**
 * Engine: the one service the runner drives. It is built over a composition root (`EngineCluster`
 * `embedded` or `scaleOut`), the configured connections and the flows, and gives the runner:
 *
 * - `start` / `stop` — start the schedules (inbox re-notify, outbox sweep, token refresh, expiry
 *   warnings, reconciliation polling, reservation expiry, stock-source polling, dead-letter alerts);
 *   stop them and let in-flight work finish (each inbox entry's transaction, each stock write);
 * - `notifyInbox(connection, id)` — the webhook edge's `notify` hook: wakes the connection's inbox
 *   processor right after a delivery committed;
 * - `status` — a snapshot for `/metrics`, the console and `doctor`;
 * - `replayDeadLetters(filter)` — sends dead letters back through the path they failed on;
 * - `importCatalog(connection)` — `catalog.pull` → pairing → listings, with progress;
 * - `reconcileNow(connection?)` — polls now instead of at the next tick.
 *
 * @since 0.1.0
 */
import type { DeadLetter, Ledger, Quota } from "@tkbridge/core"
import type { Duration, Effect } from "effect"
import { Context, Schema } from "effect"
import type { Alert } from "./EngineAlerts.ts"

/** An engine operation failed (the store, a partner, an unknown connection); `message` says which and why. */
export class EngineFailure extends Schema.TaggedError<EngineFailure>("@tkbridge/engine/EngineFailure")(
  "EngineFailure",
  { operation: Schema.String, message: Schema.String, connection: Schema.optional(Schema.String) }
) {}

/** One connection in the status snapshot. */
export interface ConnectionStatus {
  readonly connection: string
  /** The connector's id (`tiktok-shop`, `4px` …). */
  readonly connector: string
  /** `needs_reauth`: the grant is gone, work waits; `suspended`: the platform asked to wait. */
  readonly state: "active" | "needs_reauth" | "suspended"
  readonly reauthReason?: string | undefined
  readonly inbox: { readonly pending: number; readonly dead: number }
  /** Listings with an unpushed quantity. */
  readonly stockBacklog: number
  /** Outbound jobs waiting (workflow starts, replayed steps), by lane. */
  readonly jobs: ReadonlyArray<{ readonly lane: Quota.Lane; readonly pending: number }>
  readonly deadLetters: number
  readonly quota: {
    readonly scope: string
    readonly usedToday: number
    readonly dailyLimit?: number | undefined
    readonly suspendedUntil?: Date | undefined
  }
  /** The stored grant, for connections that have one. */
  readonly token?:
    | {
        readonly expiresAt?: Date | undefined
        /** When the authorization itself ends (the refresh token's expiry). */
        readonly authorizationExpiresAt?: Date | undefined
        readonly version: number
      }
    | undefined
}

/** How long changes take from the pool's commit to the channel holding the new quantity. */
export interface Propagation {
  /** Samples measured since the engine started (bounded window). */
  readonly samples: number
  readonly p50Ms?: number | undefined
  readonly p95Ms?: number | undefined
  readonly maxMs?: number | undefined
  /** The latest samples, newest first. */
  readonly recent: ReadonlyArray<{
    readonly connection: string
    readonly listing: string
    readonly version: number
    readonly delayMs: number
    readonly at: Date
  }>
}

/** A snapshot of the engine. */
export interface EngineStatus {
  readonly at: Date
  readonly started: boolean
  readonly connections: ReadonlyArray<ConnectionStatus>
  readonly totals: {
    readonly inboxPending: number
    readonly inboxDead: number
    readonly stockBacklog: number
    readonly jobsPending: number
    readonly deadLetters: number
  }
  /** Connections whose grant needs re-authorization. */
  readonly needsReauth: ReadonlyArray<{ readonly connection: string; readonly reason?: string | undefined }>
  readonly propagation: Propagation
  /** Recent operator alerts, newest first. */
  readonly alerts: ReadonlyArray<Alert>
}

/** Progress of a catalogue import, for the runner's progress bar. */
export interface ImportProgress {
  readonly connection: string
  /** Pages read so far. */
  readonly pages: number
  /** Channel SKUs read so far. */
  readonly listings: number
  /** True on the last call, after pairing. */
  readonly done: boolean
}

/** What a catalogue import did. */
export interface ImportReport {
  readonly connection: string
  readonly listings: number
  /** Items created or updated (only when the connection is the pool's items source). */
  readonly items: number
  readonly paired: Ledger.PairingReport["paired"]
  readonly unpaired: Ledger.PairingReport["unpaired"]
  /** Listings whose published quantity was queued for pushing. */
  readonly published: number
}

/** What a reconciliation pass did per connection. */
export interface ReconcileReport {
  readonly connections: ReadonlyArray<{
    readonly connection: string
    /** Orders and after-sales read, and how many were new to the inbox. */
    readonly orders: { readonly read: number; readonly recorded: number }
    readonly afterSales: { readonly read: number; readonly recorded: number }
    /** Stock readings read and applied (for stock sources). */
    readonly stock: { readonly read: number; readonly applied: number }
    /** Why a part was skipped (quota, paused connection, partner failure). */
    readonly skipped: ReadonlyArray<string>
  }>
}

/** The engine, as the runner sees it. */
export interface EngineShape {
  /** Starts the schedules. Idempotent. */
  readonly start: Effect.Effect<void>
  /**
   * Stops the schedules and waits (at most `timeout`, default 15 s) for in-flight inbox entries and
   * stock writes to finish. Workflows need no draining: they resume where they were on the next start.
   */
  readonly stop: (options?: { readonly timeout?: Duration.DurationInput | undefined }) => Effect.Effect<void>
  /** Wakes the connection's inbox processor for an entry that just committed (the edge's `notify`). */
  readonly notifyInbox: (connection: string, id: number) => Effect.Effect<void>
  /** A snapshot of depths, dead letters, propagation delays, quotas and grants. */
  readonly status: Effect.Effect<EngineStatus, EngineFailure>
  /** Replays dead letters matching the filter through the path they failed on. */
  readonly replayDeadLetters: (
    filter: DeadLetter.Filter
  ) => Effect.Effect<ReadonlyArray<DeadLetter.ReplayOutcome>, EngineFailure>
  /** Reads the connection's catalogue, pairs its SKUs and publishes the paired listings. */
  readonly importCatalog: (
    connection: string,
    options?: { readonly onProgress?: ((progress: ImportProgress) => Effect.Effect<void>) | undefined }
  ) => Effect.Effect<ImportReport, EngineFailure>
  /** Polls orders, after-sales and stock sources now (one connection, or every one). */
  readonly reconcileNow: (connection?: string) => Effect.Effect<ReconcileReport, EngineFailure>
}

/** The engine service. */
export class Engine extends Context.Tag("@tkbridge/engine/Engine")<Engine, EngineShape>() {}
