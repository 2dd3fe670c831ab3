/**
 * bench:edge — verified and durably recorded webhooks per second through the webhook edge, and its
 * p50/p99 answer time at a fixed offered load of 1,000 deliveries per second, next to a bare
 * node:http + SQLite insert server measured in the same run (the ceiling). The benchmark lives with
 * the store (`packages/store-sql/bench/EdgeBench.ts`), where its dependencies resolve; this launcher
 * only names the output file: `bench/results/edge.json`.
 */
import * as Path from "node:path"
import { run } from "../packages/store-sql/bench/EdgeBench.ts"

run(Path.join(import.meta.dirname, "results", "edge.json")).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
