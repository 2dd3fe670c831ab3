/**
 * bench:e2e — stock propagation through a real `tkbridge run` (child process, SQLite store) between
 * the TikTok Shop and Shopify sandboxes: p50/p95/p99 delay from an order on one channel to every
 * other channel holding the new quantity, over at least 2,000 orders, with oversold units and lost
 * orders counted from the sandboxes' state. The benchmark lives with the runner
 * (`apps/runner/bench/E2eBench.ts`), where its dependencies resolve; this launcher only names the
 * output file: `bench/results/e2e.json`.
 */
import * as Path from "node:path"
import { run } from "../apps/runner/bench/E2eBench.ts"

run(Path.join(import.meta.dirname, "results", "e2e.json")).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
