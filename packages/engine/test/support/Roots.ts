/**
 * The engine's two composition roots on fresh real databases, for tests: `embedded` on a SQLite file in
 * a temp folder, `scaleOut` on a fresh PostgreSQL database with a runner on a free loopback port.
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { EngineCluster } from "@tkbridge/engine"
import { SqlTesting } from "@tkbridge/store-sql"
import { Effect, Layer } from "effect"

/** A free TCP port on the loopback interface. */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A temp folder removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-engine-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** Fast cluster timings for tests. */
export const testTuning: EngineCluster.ClusterTuning = {
  entityMessagePollInterval: "200 millis",
  shardLockRefreshInterval: "1 second",
  shardLockExpiration: "4 seconds",
  refreshAssignmentsInterval: "500 millis",
  entityTerminationTimeout: "2 seconds"
}

/** The embedded root on a fresh SQLite file. */
export const embedded = (tuning: EngineCluster.ClusterTuning = testTuning) =>
  Layer.unwrapScoped(
    Effect.map(tempDir, (dir) => EngineCluster.embedded({ filename: Path.join(dir, "tkbridge.db"), tuning }))
  ).pipe(Layer.orDie)

/** A scale-out runner on a fresh PostgreSQL database. */
export const scaleOut = (tuning: EngineCluster.ClusterTuning = testTuning) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url = yield* SqlTesting.freshPgDatabase
      const port = yield* freePort
      return EngineCluster.scaleOut({ url, runnerAddress: { host: "127.0.0.1", port }, tuning })
    })
  ).pipe(Layer.orDie)

/** Both roots, for running one suite in each mode. */
export const roots = [
  { name: "embedded (SQLite)", layer: embedded },
  { name: "scale-out (PostgreSQL)", layer: scaleOut }
] as const
