import { defineProject } from "vitest/config"

// Workspace packages resolve to their TypeScript sources through the `@tkbridge/source` condition.
// The CLI tests run the built `tkbridge` binary as a seller would, so the global setup builds it
// (tsc -b, incremental: a no-op when nothing changed).
export default defineProject({
  resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] },
  ssr: { resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 240_000,
    hookTimeout: 120_000
  }
})
