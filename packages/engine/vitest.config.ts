import { defineProject } from "vitest/config"

// Workspace packages resolve to their TypeScript sources through the `@tkbridge/source` condition,
// so tests never need a build first.
export default defineProject({
  resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] },
  ssr: { resolve: { conditions: ["@tkbridge/source", "module", "node", "development|production"] } },
  test: { include: ["test/**/*.test.ts"] }
})
