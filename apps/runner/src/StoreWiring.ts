/**
 * StoreWiring: where the runner meets the sync-state store. `state` opens the repositories the CLI
 * reads (tokens, quota counters, suspensions) behind the `RunnerState` port.
 *
 * The store's token and quota repositories are not part of `@tkbridge/store-sql` yet, so `state`
 * reports the store as unavailable and the commands that need it say so instead of guessing. When
 * they land, this module is the one place to adapt them.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import type { LoadedConfig } from "./ConfigLoader.ts"
import type { RunnerStateShape } from "./RunnerState.ts"

/** The store's state for the CLI, or none when this build has no store repositories for it. */
export const state = (_loaded: LoadedConfig): Effect.Effect<Option.Option<RunnerStateShape>> =>
  Effect.succeed(Option.none())
