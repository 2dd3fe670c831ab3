import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Address, Audit, HttpExchange } from "@tkbridge/core"
import { SqlAudit } from "@tkbridge/store-sql"
import { Effect, Redacted, TestClock } from "effect"
import { dialects, unique } from "./support.ts"

const shipTo = new Address.Address({
  name: "Grace Hopper",
  phone: "+44 20 7946 0958",
  email: "grace.hopper@example.com",
  line1: "12 Navy Yard Road",
  city: "London",
  postalCode: "SW1A 1AA",
  country: "GB"
})

for (const dialect of dialects) {
  layer(dialect.layer(), { timeout: "120 seconds" })(`SqlAudit (${dialect.name})`, (it) => {
    it.effect("a quantity decision keeps the pool's explanation", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(1_000)
        const audit = yield* Audit.Audit
        const connection = unique("tts")
        const explanation = {
          item: "TEE-RED-M",
          onHand: [{ location: "SZ-1", qty: 12 }],
          held: 3,
          safety: 2,
          share: 0.7,
          formula: "floor(0.7 × (12 − 3 − 2)) = 4"
        }
        const id = yield* audit.append(
          Audit.quantityDecision({ connection, listing: "TEE-RED-M", quantity: 4, version: 7, explanation })
        )
        const [row] = yield* audit.list({ connection })
        expect(row).toEqual({
          id,
          at: new Date(1_000),
          kind: "quantity",
          connection,
          subject: "TEE-RED-M",
          action: "publish",
          outcome: "4",
          detail: { quantity: 4, version: 7, explanation }
        })
      })
    )

    it.effect("personal data and secrets never reach the trail", () =>
      Effect.gen(function* () {
        const audit = yield* Audit.Audit
        const sql = yield* SqlClient.SqlClient
        const connection = unique("4px")
        yield* audit.append(
          Audit.outboundWrite({
            connection,
            operation: "shipment.create",
            subject: "577000000000000001",
            idempotencyKey: "parcel:577000000000000001",
            outcome: "applied",
            request: {
              reference: "577000000000000001",
              shipTo,
              note: "call grace.hopper@example.com first",
              token: Redacted.make("S3CRET-T0KEN")
            },
            exchange: new HttpExchange.HttpExchange({
              method: "POST",
              url: "https://open.4px.com/router/api/service",
              curl: "curl -X POST 'https://open.4px.com/router/api/service?app_key=k&sign=***'",
              status: 200
            })
          })
        )
        const rows = yield* sql<{ detail: string }>`SELECT detail FROM tkb_audit WHERE connection = ${connection}`
        const stored = rows[0]!.detail
        for (const pii of ["Grace", "Hopper", "7946", "grace.hopper", "Navy Yard", "SW1A", "S3CRET-T0KEN"]) {
          expect(stored).not.toContain(pii)
        }
        expect(stored).toContain("577000000000000001") // ids are kept
        expect(stored).toContain('"country":"GB"')
        const [entry] = yield* audit.list({ connection })
        expect(entry?.detail).toMatchObject({ idempotencyKey: "parcel:577000000000000001", status: 200 })
      })
    )

    it.effect("rows are append-only: an update is refused by the database", () =>
      Effect.gen(function* () {
        const audit = yield* Audit.Audit
        const sql = yield* SqlClient.SqlClient
        const connection = unique("tts")
        const id = yield* audit.append({ kind: "write", connection, action: "stock.push", outcome: "applied" })
        const tampered = yield* sql`UPDATE tkb_audit SET outcome = 'failed' WHERE id = ${id}`.pipe(Effect.flip)
        expect(tampered._tag).toBe("SqlError")
        const [row] = yield* audit.list({ connection })
        expect(row?.outcome).toBe("applied")
      })
    )

    it.effect("list filters, newest first, pages backwards; retention prunes old rows", () =>
      Effect.gen(function* () {
        const audit = yield* Audit.Audit
        const connection = unique("tts")
        const ids: Array<number> = []
        for (let i = 0; i < 5; i++) {
          yield* TestClock.setTime(10_000 + i * 1000)
          ids.push(
            yield* audit.append({
              kind: i % 2 === 0 ? "quantity" : "write",
              connection,
              subject: `S${i % 2}`,
              action: i % 2 === 0 ? "publish" : "stock.push"
            })
          )
        }
        expect((yield* audit.list({ connection })).map((r) => r.id)).toEqual([...ids].reverse())
        expect((yield* audit.list({ connection, kind: "write" })).map((r) => r.id)).toEqual([ids[3], ids[1]])
        expect((yield* audit.list({ connection, subject: "S0", since: new Date(12_000) })).map((r) => r.id)).toEqual([
          ids[4],
          ids[2]
        ])
        expect((yield* audit.list({ connection, beforeId: ids[2]!, limit: 1 })).map((r) => r.id)).toEqual([ids[1]])
        expect(yield* audit.prune(new Date(12_000))).toBeGreaterThanOrEqual(2)
        expect((yield* audit.list({ connection })).map((r) => r.id)).toEqual([ids[4], ids[3], ids[2]])
      })
    )

    it.effect("unmasked mode keeps personal data but still hides secrets", () =>
      Effect.gen(function* () {
        const audit = yield* SqlAudit.make({ maskPii: false })
        const connection = unique("tts")
        yield* audit.append({
          kind: "write",
          connection,
          action: "fulfillment.ship",
          detail: { shipTo, token: Redacted.make("S3CRET") }
        })
        const [row] = yield* audit.list({ connection })
        expect(JSON.stringify(row?.detail)).toContain("Grace Hopper")
        expect(JSON.stringify(row?.detail)).not.toContain("S3CRET")
      })
    )
  })
}
