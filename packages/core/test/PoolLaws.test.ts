import { describe, expect, it } from "@effect/vitest"
import { LedgerLaws, LedgerMemory } from "@tkbridge/core"
import { Effect, FastCheck as fc } from "effect"

describe("the in-memory ledger keeps the pool's laws", () => {
  it.effect(
    "over random sequences across 4 channels with bundles and multipacks",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(LedgerLaws.scenarioArbitrary, LedgerLaws.opsArbitrary({ maxLength: 60 }), (scenario, ops) =>
            Effect.runPromise(
              Effect.gen(function* () {
                const ledger = yield* LedgerMemory.make(scenario.config)
                const refs = yield* LedgerLaws.setup(ledger, scenario)
                const { violations } = yield* LedgerLaws.runAll(ledger, refs, ops)
                expect(violations).toEqual([])
              })
            )
          ),
          { numRuns: 200 }
        )
      ),
    120_000
  )
})
