import { defineProject } from "vitest/config"

// Workspace packages resolve to their TypeScript sources through the `@tkbridge/source` condition,
// so tests never need a build first.
export default defineProject({
  resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] },
  ssr: { resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // better-sqlite3 12 on Node 24 aborts when V8's memory reducer collects a prepared statement
    // outside any JS context (the destructor looks the Environment up from the current context).
    // Test files open and drop many databases, which makes that likely; keep the reducer off.
    poolOptions: { forks: { execArgv: ["--no-memory-reducer"] } }
  }
})
