import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { SqlStore, SqlTesting } from "@tkbridge/store-sql"
import { Effect } from "effect"

describe("SqlStore", () => {
  it("parses store locations from config", () => {
    expect(SqlStore.parseLocation("sqlite:./data/tkbridge.db")).toEqual({
      dialect: "sqlite",
      filename: "./data/tkbridge.db"
    })
    expect(SqlStore.parseLocation("postgres://u@h/db")?.dialect).toBe("pg")
    expect(SqlStore.parseLocation("mysql://h/db")).toBeUndefined()
    expect(SqlStore.parseLocation("sqlite:")).toBeUndefined()
  })

  for (const dialect of SqlTesting.dialects) {
    it.effect(`opens a migrated ${dialect.name} store with durable settings`, () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const applied = yield* sql<{ name: string }>`SELECT name FROM tkb_migrations`
        expect(Array.isArray(applied)).toBe(true)
        if (dialect.name === "sqlite") {
          const [sync] = yield* sql<{ synchronous: number }>`PRAGMA synchronous`
          expect(sync?.synchronous).toBe(2)
          const [mode] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
          expect(mode?.journal_mode).toBe("wal")
        } else {
          const [row] = yield* sql<{ n: number }>`SELECT 9007199254740991::int8 AS n`
          expect(row?.n).toBe(9007199254740991)
        }
      }).pipe(Effect.provide(dialect.layer()))
    )
  }
})
