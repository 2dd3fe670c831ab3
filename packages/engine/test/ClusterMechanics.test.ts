/**
 * The cluster and workflow mechanics the engine relies on, proved on the pinned versions against
 * real SQLite and PostgreSQL: persisted entity messages deduplicated by primary key, a cluster cron
 * that fires, and a workflow whose activity result is journaled across a durable sleep.
 */
import { ClusterCron, ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Activity, DurableClock, Workflow } from "@effect/workflow"
import { Cron, Effect, Either, Layer, Ref, Schema } from "effect"
import { roots } from "./support/Roots.ts"

const Counter = Entity.make("SpikeCounter", [
  Rpc.make("Add", {
    payload: { id: Schema.String, amount: Schema.Number },
    success: Schema.Number,
    primaryKey: ({ id }) => id
  }).annotate(ClusterSchema.Persisted, true)
])

const Greet = Workflow.make({
  name: "SpikeGreet",
  payload: { id: Schema.String },
  success: Schema.String,
  idempotencyKey: ({ id }) => id
})

for (const root of roots) {
  describe(`cluster mechanics, ${root.name}`, () => {
    it.live(
      "a persisted message with a known primary key is applied once and answers the stored reply",
      () =>
        Effect.gen(function* () {
          const handled = yield* Ref.make(0)
          const total = yield* Ref.make(0)
          const entityLayer = Counter.toLayer(
            Effect.succeed({
              Add: ({ payload }) =>
                Ref.update(handled, (n) => n + 1).pipe(
                  Effect.zipRight(Ref.updateAndGet(total, (n) => n + payload.amount))
                )
            })
          )
          yield* Effect.gen(function* () {
            const client = (yield* Counter.client)("c-1")
            const first = yield* client.Add({ id: "m-1", amount: 5 })
            const second = yield* client.Add({ id: "m-1", amount: 5 })
            const third = yield* client.Add({ id: "m-2", amount: 2 })
            expect([first, second, third]).toEqual([5, 5, 7])
            expect(yield* Ref.get(handled)).toBe(2)
            const sql = yield* SqlClient.SqlClient
            const rows = yield* sql<{
              n: number
            }>`SELECT COUNT(*) AS n FROM cluster_messages WHERE entity_type = 'SpikeCounter'`
            expect(Number(rows[0]?.n)).toBe(2)
          }).pipe(Effect.provide(entityLayer.pipe(Layer.provideMerge(root.layer()))))
        }),
      60_000
    )

    it.live(
      "a cluster cron fires on its schedule",
      () =>
        Effect.gen(function* () {
          const ticks = yield* Ref.make(0)
          const cron = ClusterCron.make({
            name: "spike-tick",
            cron: Either.getOrThrow(Cron.parse("* * * * * *")),
            execute: Ref.update(ticks, (n) => n + 1)
          })
          yield* Effect.gen(function* () {
            while ((yield* Ref.get(ticks)) < 2) yield* Effect.sleep("100 millis")
          }).pipe(Effect.provide(cron.pipe(Layer.provideMerge(root.layer()))))
          expect(yield* Ref.get(ticks)).toBeGreaterThanOrEqual(2)
        }),
      60_000
    )

    it.live(
      "a workflow journals its activity and resumes after a durable sleep",
      () =>
        Effect.gen(function* () {
          const calls = yield* Ref.make(0)
          const workflowLayer = Greet.toLayer(({ id }) =>
            Effect.gen(function* () {
              const key = yield* Activity.idempotencyKey("hello")
              const first = yield* Activity.make({
                name: "hello",
                success: Schema.String,
                execute: Ref.updateAndGet(calls, (n) => n + 1).pipe(Effect.map((n) => `hello ${id} #${n} ${key}`))
              })
              yield* DurableClock.sleep({ name: "nap", duration: "1 second", inMemoryThreshold: "0 millis" })
              return first
            })
          )
          const result = yield* Greet.execute({ id: "w-1" }).pipe(
            Effect.provide(workflowLayer.pipe(Layer.provideMerge(root.layer())))
          )
          expect(result).toMatch(/^hello w-1 #1 [0-9a-f]+$/)
          expect(yield* Ref.get(calls)).toBe(1)
        }),
      60_000
    )
  })
}
