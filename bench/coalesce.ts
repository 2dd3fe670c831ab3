/**
 * bench:coalesce — channel writes per 1,000 stock changes and change-to-channel delay for the engine's
 * stock pusher (embedded engine on SQLite, Memory sandbox over real HTTP). The benchmark itself lives
 * with the engine (`packages/engine/bench/CoalesceBench.ts`), where its dependencies resolve; this
 * launcher only names the output file: `bench/results/coalesce.json`.
 */
import * as Path from "node:path"
import { run } from "../packages/engine/bench/CoalesceBench.ts"

run(Path.join(import.meta.dirname, "results", "coalesce.json")).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
