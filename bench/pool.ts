/**
 * bench:pool — reservations per second and p50/p99 latency on SQLite and PostgreSQL, the
 * published-quantity recompute after one stock change among 10,000 listings, and oversold units
 * (must be 0). The benchmark lives with the store (`packages/store-sql/bench/PoolBench.ts`), where
 * its dependencies resolve; this launcher only names the output file: `bench/results/pool.json`.
 */
import * as Path from "node:path"
import { run } from "../packages/store-sql/bench/PoolBench.ts"

run(Path.join(import.meta.dirname, "results", "pool.json")).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
