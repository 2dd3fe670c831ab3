import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Ledger, LedgerLaws, LedgerMemory } from "@tkbridge/core"
import { SqlLedger, SqlTesting } from "@tkbridge/store-sql"
import { Effect, FastCheck as fc, Layer, TestContext } from "effect"

/** Deep equality that names the first differing element (arrays are long; vitest's diff truncates). */
const same = (actual: unknown, expected: unknown, context: string) => {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    const n = Math.max(actual.length, expected.length)
    for (let i = 0; i < n; i++) {
      expect(JSON.stringify(actual[i]), `${context} [${i}]`).toBe(JSON.stringify(expected[i]))
    }
    return
  }
  expect(JSON.stringify(actual), context).toBe(JSON.stringify(expected))
}

/**
 * Runs one sequence against the SQL ledger and the in-memory reference model side by side: every
 * step must give the same outcome and leave the same counters, published quantities and movements,
 * and the SQL store must keep the pool's laws.
 */
const differential = (scenario: LedgerLaws.Scenario, ops: ReadonlyArray<LedgerLaws.Op>) =>
  Effect.gen(function* () {
    const store = yield* SqlLedger.make({ config: scenario.config })
    const model = yield* LedgerMemory.make(scenario.config)
    const refs = yield* LedgerLaws.setup(store, scenario)
    expect(yield* LedgerLaws.setup(model, scenario)).toEqual(refs)
    const storeState = LedgerLaws.initialState()
    const modelState = LedgerLaws.initialState()
    const violations: Array<string> = []
    let before = yield* LedgerLaws.snapshot(store, refs)
    for (const [i, op] of ops.entries()) {
      const fromStore = yield* LedgerLaws.run(store, op, storeState)
      const fromModel = yield* LedgerLaws.run(model, op, modelState)
      const context = `step ${i}: ${JSON.stringify(op)}`
      same(fromStore.outcome, fromModel.outcome, `${context}: outcome`)
      const after = yield* LedgerLaws.snapshot(store, refs)
      const expected = yield* LedgerLaws.snapshot(model, refs)
      same(after.balances, expected.balances, `${context}: balances`)
      same(after.published, expected.published, `${context}: published`)
      same(after.movements, expected.movements, `${context}: movements`)
      violations.push(...LedgerLaws.check(op, before, after, fromStore))
      before = after
    }
    violations.push(...(yield* LedgerLaws.checkReservations(store)))
    expect(violations).toEqual([])
  })

const truncate = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`TRUNCATE tkb_items, tkb_stock, tkb_listings, tkb_listing_components, tkb_reservations,
    tkb_movements, tkb_ledger_ops RESTART IDENTITY CASCADE`
})

describe("the SQL ledger keeps the pool's laws and agrees with the reference model", () => {
  it.effect(
    "on SQLite, over random sequences across 4 channels with bundles and multipacks",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(LedgerLaws.scenarioArbitrary, LedgerLaws.opsArbitrary({ maxLength: 50 }), (scenario, ops) =>
            Effect.runPromise(
              differential(scenario, ops).pipe(
                Effect.scoped,
                Effect.provide(SqlTesting.sqlite),
                Effect.provide(TestContext.TestContext)
              )
            )
          ),
          { numRuns: 60 }
        )
      ),
    300_000
  )

  it.layer(SqlTesting.pg(), { timeout: 300_000 })("on PostgreSQL", (it) => {
    it.effect(
      "over random sequences (fewer runs)",
      () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(
                LedgerLaws.scenarioArbitrary,
                LedgerLaws.opsArbitrary({ maxLength: 40 }),
                (scenario, ops) =>
                  Effect.runPromise(
                    Effect.zipRight(truncate, differential(scenario, ops)).pipe(
                      Effect.scoped,
                      Effect.provide(Layer.succeed(SqlClient.SqlClient, sql)),
                      Effect.provide(TestContext.TestContext)
                    )
                  )
              ),
              { numRuns: 12 }
            )
          )
        }),
      300_000
    )
  })
})

// keep the port's type in view: the SQL ledger is a Ledger
const _typecheck: Effect.Effect<Ledger.LedgerService, never, SqlClient.SqlClient | import("effect").Scope.Scope> =
  SqlLedger.make({ config: new Ledger.LedgerConfig({}) })
void _typecheck
