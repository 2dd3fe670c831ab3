/**
 * RunnerState: what the CLI reads from and writes to the sync-state store — tokens, quota counters,
 * suspensions. It is a port: the store package implements the repositories, and the runner's
 * wiring (`StoreWiring`) adapts them to this interface, so `doctor` and `auth` do not depend on
 * table layouts.
 *
 * @since 0.1.0
 */
import type { AccessToken } from "@tkbridge/core"
import type { Effect, Option } from "effect"
import { Context, Schema } from "effect"

/** The store could not be read or written. */
export class StateUnavailable extends Schema.TaggedError<StateUnavailable>("tkbridge/StateUnavailable")(
  "StateUnavailable",
  { message: Schema.String }
) {}

/** API calls counted today for one connection, and a platform suspension if one is running. */
export interface QuotaToday {
  readonly used: number
  readonly suspendedUntil?: Date | undefined
}

/** Reads and writes the state the CLI needs. */
export interface RunnerStateShape {
  /** The connection's current grant. */
  readonly token: (connection: string) => Effect.Effect<Option.Option<AccessToken.TokenSet>, StateUnavailable>
  /** Stores a new grant from `tkbridge auth` (replacing any previous one). */
  readonly saveToken: (connection: string, token: AccessToken.TokenSet) => Effect.Effect<void, StateUnavailable>
  /** Calls used today and any suspension; none when nothing was counted yet. */
  readonly quotaToday: (connection: string, now: Date) => Effect.Effect<Option.Option<QuotaToday>, StateUnavailable>
}

/** The store as the CLI sees it. */
export class RunnerState extends Context.Tag("tkbridge/RunnerState")<RunnerState, RunnerStateShape>() {}
