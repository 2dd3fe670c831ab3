/**
 * PoolWiring: the `pool` section of `tkbridge.yaml` as the ledger's configuration — channel policies
 * and the last-units rule (`Pool.PoolRules`), listing pairing (explicit map and auto-pair rules) and
 * what happens to returned units. The ledger, the engine and the operator commands all read the pool
 * through this one translation, so `tkbridge stock` explains a number with the same rules `run`
 * published it with.
 *
 * @since 0.1.0
 */
import { Ledger, Pairing, Pool } from "@tkbridge/core"
import type { PoolConfig, RunnerConfig } from "./Config.ts"
import { channelPolicies } from "./Config.ts"

/** The pairing section as core's pairing config: explicit pairs per connection, one auto-pair rule for all. */
export const pairingConfig = (pool: PoolConfig): Pairing.PairingConfig =>
  Pairing.PairingConfig.make({
    explicit: Object.entries(pool.pairing.map).flatMap(([connection, skus]) =>
      Object.entries(skus).map(([externalSku, target]) =>
        Pairing.ExplicitPair.make({
          connection,
          externalSku,
          components: typeof target === "string" ? [{ item: target, qty: 1 }] : target
        })
      )
    ),
    rules: [
      Pairing.PairingRules.make({
        ignorePrefixes: pool.pairing.ignorePrefixes,
        ignoreSuffixes: pool.pairing.ignoreSuffixes,
        caseInsensitive: !pool.pairing.caseSensitive
      })
    ]
  })

/** Channel policies and the last-units rule. */
export const poolRules = (pool: PoolConfig): Pool.PoolRules =>
  Pool.PoolRules.make({
    policies: channelPolicies(pool),
    ...(pool.lastUnits !== undefined ? { lastUnits: pool.lastUnits } : {})
  })

/** The ledger's config for a runner config (the defaults when there is no `pool` section). */
export const ledgerConfig = (config: RunnerConfig): Ledger.LedgerConfig => {
  const pool = config.pool
  if (pool === undefined) return Ledger.LedgerConfig.make({})
  return Ledger.LedgerConfig.make({
    pool: poolRules(pool),
    pairing: pairingConfig(pool),
    returns: [Ledger.ReturnRule.make({ restock: pool.returns.restock !== "never" })]
  })
}
