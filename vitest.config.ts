import { defineConfig } from "vitest/config"

// One root config for editors and `pnpm vitest` at the root; CI runs each package through turbo.
export default defineConfig({
  test: { projects: ["packages/*", "packages/connectors/*", "apps/*"] }
})
