/**
 * SqlInbox: the webhook inbox (`Inbox` port of @tkbridge/core) on SQLite and PostgreSQL.
 *
 * A delivery is one `INSERT … ON CONFLICT (connection, dedupe_key) DO NOTHING RETURNING id`, committed
 * on its own before the edge answers: the first delivery gets the row, every redelivery (even a
 * concurrent one) finds it. Processing opens with a guarded write — `UPDATE … SET status = 'done' WHERE
 * status = 'pending'` — and runs the caller's effects in the same transaction, so an entry is applied
 * once or not at all, and a second processor finds nothing to do.
 *
 * Header values and query parameters whose names look secret (`Authorization`, cookies, tokens, API
 * keys) are stored as `***`: no connector decodes them, and the inbox must never hold a credential. TikTok's
 * `Authorization` header is only the body's signature, checked before the row is written.
 *
 * @since 0.1.0
 */

import * as Crypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import type { DeadLetter, Inbox as InboxPort, StoreError, Webhook } from "@tkbridge/core"
import { Inbox } from "@tkbridge/core"
import type { Scope } from "effect"
import { Array as Arr, Clock, Deferred, Effect, Layer, Option, Queue } from "effect"
import { clearAttempts, recordAttempt, recordLetter } from "./internal/letters.ts"
import {
  indexableKey,
  invariant,
  optional,
  optionalDate,
  parseJson,
  safeText,
  storeErrors,
  toBytes
} from "./internal/sync.ts"

interface InboxRow {
  readonly id: number
  readonly connection: string
  readonly dedupe_key: string
  readonly topic: string
  readonly status: InboxPort.Status
  readonly received_at: number
  readonly occurred_at: number | null
  readonly attempts: number
  readonly next_attempt_at: number
  readonly processed_at: number | null
  readonly last_error: string | null
  readonly method: string
  readonly url: string
  readonly headers: string
  readonly body: unknown
}

const secretHeader = /authorization|cookie|token|secret|password|passwd|api[-_]?key|signature-key/i

/** The headers as stored: names lower-cased, secret-looking values replaced by `***`. */
export const storedHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase()
    out[name] = secretHeader.test(name) ? "***" : v
  }
  return out
}

/** The path and query as stored: values of secret-looking query parameters replaced by `***`. */
export const storedUrl = (url: string): string => {
  const query = url.indexOf("?")
  if (query < 0) return url
  const params = new URLSearchParams(url.slice(query + 1))
  let changed = false
  for (const key of new Set(params.keys())) {
    if (secretHeader.test(key)) {
      params.set(key, "***")
      changed = true
    }
  }
  return changed ? `${url.slice(0, query)}?${params.toString().replace(/%2A%2A%2A/g, "***")}` : url
}

const toEntry = (row: InboxRow): InboxPort.InboxEntry => {
  const headers = parseJson(row.headers)
  return {
    id: Number(row.id),
    connection: row.connection,
    dedupeKey: row.dedupe_key,
    topic: row.topic,
    status: row.status,
    receivedAt: new Date(Number(row.received_at)),
    occurredAt: optionalDate(row.occurred_at),
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at) > 0 ? new Date(Number(row.next_attempt_at)) : undefined,
    processedAt: optionalDate(row.processed_at),
    lastError: optional(row.last_error),
    request: {
      method: row.method,
      url: row.url,
      headers: typeof headers === "object" && headers !== null ? (headers as Record<string, string>) : {},
      rawBody: toBytes(row.body)
    }
  }
}

const source = (connection: string, id: number): { kind: DeadLetter.Kind; connection: string; key: string } => ({
  kind: "inbox",
  connection,
  key: String(id)
})

// Deliveries written in one statement at most.
const maxBatch = 128

// Resumes after the I/O callbacks of the current event-loop turn (`setImmediate`), not before them
// as a microtask would.
const afterPendingIo: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Builds the inbox over the current `SqlClient`; its group-commit writer lives as long as the scope. */
export const make: Effect.Effect<InboxPort.InboxShape, never, SqlClient.SqlClient | Scope.Scope> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient

    interface Row {
      readonly connection: string
      readonly dedupeKey: string
      readonly topic: string
      readonly status: "pending" | "dead"
      readonly occurredAt?: Date | undefined
      readonly request: Webhook.WebhookRequest
      readonly at: number
      readonly lastError?: string | undefined
    }

    const columns = (row: Row) => ({
      connection: row.connection,
      dedupe_key: indexableKey(row.dedupeKey),
      topic: safeText(row.topic.slice(0, 200)),
      status: row.status,
      received_at: row.at,
      occurred_at: row.occurredAt?.getTime() ?? null,
      method: safeText(row.request.method),
      url: safeText(storedUrl(row.request.url).slice(0, 2048)),
      headers: JSON.stringify(storedHeaders(row.request.headers)),
      body: row.request.rawBody,
      last_error: row.lastError === undefined ? null : safeText(row.lastError)
    })

    /**
     * Inserts rows with one multi-row `INSERT … ON CONFLICT DO NOTHING`; each row's answer is the new
     * entry, or the one that already held its key (also when a key repeats within the rows).
     */
    const insertAll = (rows: ReadonlyArray<Row>) =>
      Effect.gen(function* () {
        const values = rows.map(columns)
        const inserted = yield* sql<{ id: number; connection: string; dedupe_key: string }>`INSERT INTO tkb_inbox
        ${sql.insert(values)}
        ON CONFLICT (connection, dedupe_key) DO NOTHING
        RETURNING id, connection, dedupe_key`
        const fresh = new Map(inserted.map((r) => [`${r.connection}\u0000${r.dedupe_key}`, Number(r.id)]))
        const keyOf = (v: (typeof values)[number]) => `${v.connection}\u0000${v.dedupe_key}`
        const missing = values.filter((v) => !fresh.has(keyOf(v)))
        const existing = new Map<string, number>()
        for (const connection of new Set(missing.map((v) => v.connection))) {
          const keys = [...new Set(missing.filter((v) => v.connection === connection).map((v) => v.dedupe_key))]
          const found = yield* sql<{ id: number; dedupe_key: string }>`SELECT id, dedupe_key FROM tkb_inbox
          WHERE connection = ${connection} AND ${sql.in("dedupe_key", keys)}`
          for (const r of found) existing.set(`${connection}\u0000${r.dedupe_key}`, Number(r.id))
        }
        const claimed = new Set<string>()
        const answers: Array<InboxPort.Recorded> = []
        for (const v of values) {
          const key = keyOf(v)
          const id = fresh.get(key)
          if (id !== undefined && !claimed.has(key)) {
            claimed.add(key)
            answers.push({ id, duplicate: false })
            continue
          }
          const other = id ?? existing.get(key)
          if (other === undefined) return yield* invariant("inbox.record", "the conflicting entry disappeared")
          answers.push({ id: other, duplicate: true })
        }
        return answers
      })

    const insert = (row: Row) => Effect.map(insertAll([row]), (answers) => answers[0]!)

    // Group commit: deliveries arriving while a write is in flight are stored together in the next
    // statement, so under load one commit (one fsync on SQLite) covers many deliveries. Nothing waits
    // for a batch to fill: an idle inbox writes each delivery at once.
    type Pending = { readonly row: Row; readonly done: Deferred.Deferred<InboxPort.Recorded, StoreError.StoreError> }
    const queue = yield* Queue.unbounded<Pending>()
    yield* Effect.addFinalizer(() => Queue.shutdown(queue))
    const writeBatch = (batch: ReadonlyArray<Pending>) =>
      insertAll(batch.map((p) => p.row)).pipe(
        storeErrors("inbox.record"),
        Effect.matchCauseEffect({
          onSuccess: (answers) =>
            Effect.forEach(batch, (p, i) => Deferred.succeed(p.done, answers[i]!), { discard: true }),
          onFailure: (cause) =>
            batch.length > 1
              ? // One bad row must not fail the others: store them one by one.
                Effect.forEach(
                  batch,
                  (p) =>
                    insert(p.row).pipe(
                      storeErrors("inbox.record"),
                      Effect.exit,
                      Effect.flatMap((exit) => Deferred.done(p.done, exit))
                    ),
                  { discard: true }
                )
              : Effect.forEach(batch, (p) => Deferred.failCause(p.done, cause), { discard: true })
        })
      )
    yield* Queue.take(queue).pipe(
      // Let the deliveries whose bytes already arrived (this turn of the event loop) join the batch.
      Effect.zipLeft(afterPendingIo),
      Effect.flatMap((first) =>
        Effect.flatMap(Queue.takeUpTo(queue, maxBatch - 1), (rest) => writeBatch([first, ...rest]))
      ),
      Effect.forever,
      Effect.interruptible,
      Effect.forkScoped
    )

    const record: InboxPort.InboxShape["record"] = (input) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const done = yield* Deferred.make<InboxPort.Recorded, StoreError.StoreError>()
        yield* Queue.offer(queue, {
          row: {
            connection: input.connection,
            dedupeKey: input.delivery.dedupeKey,
            topic: input.delivery.topic,
            status: "pending",
            occurredAt: input.delivery.occurredAt,
            request: input.request,
            at
          },
          done
        })
        return yield* Deferred.await(done)
      })

    const recordMalformed: InboxPort.InboxShape["recordMalformed"] = (input) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const digest = Crypto.createHash("sha256").update(input.request.rawBody).digest("hex")
        const recorded = yield* insert({
          connection: input.connection,
          dedupeKey: `malformed:${digest}`,
          topic: "(malformed)",
          status: "dead",
          request: input.request,
          at,
          lastError: input.message.slice(0, 2000)
        })
        if (recorded.duplicate) {
          const letter = yield* sql<{ id: number }>`SELECT id FROM tkb_dead_letters
          WHERE kind = 'inbox' AND connection = ${input.connection} AND source_key = ${String(recorded.id)}`
          if (letter.length > 0) return { ...recorded, deadLetter: Number(letter[0]!.id) }
        }
        const deadLetter = yield* recordLetter(
          sql,
          source(input.connection, recorded.id),
          { reason: "malformed_payload", message: input.message.slice(0, 2000) },
          at
        )
        return { ...recorded, deadLetter }
      }).pipe(sql.withTransaction, storeErrors("inbox.recordMalformed"))

    const get: InboxPort.InboxShape["get"] = (id) =>
      sql<InboxRow>`SELECT * FROM tkb_inbox WHERE id = ${id}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toEntry)),
        storeErrors("inbox.get")
      )

    const process: InboxPort.InboxShape["process"] = <A, E, R>(
      id: number,
      apply: (entry: InboxPort.InboxEntry) => Effect.Effect<A, E, R>
    ) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const claimed =
          yield* sql<InboxRow>`UPDATE tkb_inbox SET status = 'done', processed_at = ${at}, last_error = NULL
        WHERE id = ${id} AND status = 'pending' RETURNING *`
        if (claimed.length === 0) {
          const found = yield* sql<{ status: InboxPort.Status }>`SELECT status FROM tkb_inbox WHERE id = ${id}`
          const status = found[0]?.status
          return {
            _tag: "Skipped",
            status: status === undefined ? "missing" : status === "dead" ? "dead" : "done"
          } satisfies InboxPort.ProcessOutcome<A>
        }
        const entry = toEntry(claimed[0]!)
        if (entry.attempts > 0) yield* clearAttempts(sql, source(entry.connection, entry.id))
        const value = yield* apply(entry)
        return { _tag: "Applied", value, entry } satisfies InboxPort.ProcessOutcome<A>
      }).pipe(sql.withTransaction, storeErrors("inbox.process")) as Effect.Effect<
        InboxPort.ProcessOutcome<A>,
        E | StoreError.StoreError,
        R
      >

    const fail: InboxPort.InboxShape["fail"] = (id, failure) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ connection: string }>`UPDATE tkb_inbox
        SET attempts = attempts + 1, next_attempt_at = ${failure.retryAt.getTime()}, last_error = ${safeText(failure.message.slice(0, 2000))}
        WHERE id = ${id} AND status = 'pending' RETURNING connection`
        if (rows.length === 0) return
        yield* recordAttempt(sql, source(rows[0]!.connection, id), {
          at,
          message: failure.message,
          error: failure.error,
          exchange: failure.exchange
        })
      }).pipe(sql.withTransaction, storeErrors("inbox.fail"))

    const deadLetter: InboxPort.InboxShape["deadLetter"] = (id, failure) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ connection: string }>`UPDATE tkb_inbox
        SET status = 'dead', last_error = ${safeText(failure.message.slice(0, 2000))}
        WHERE id = ${id} AND status IN ('pending', 'dead') RETURNING connection`
        if (rows.length === 0) {
          return yield* invariant("inbox.deadLetter", `inbox entry ${id} is already applied or does not exist`)
        }
        return yield* recordLetter(sql, source(rows[0]!.connection, id), failure, at)
      }).pipe(sql.withTransaction, storeErrors("inbox.deadLetter"))

    const pending: InboxPort.InboxShape["pending"] = (query) =>
      sql<{
        id: number
        connection: string
        attempts: number
        received_at: number
      }>`SELECT id, connection, attempts, received_at
      FROM tkb_inbox
      WHERE status = 'pending' AND ${sql.and([
        sql`next_attempt_at <= ${query.dueAt.getTime()}`,
        ...(query.connection !== undefined ? [sql`connection = ${query.connection}`] : []),
        ...(query.receivedBefore !== undefined ? [sql`received_at <= ${query.receivedBefore.getTime()}`] : [])
      ])}
      ORDER BY id LIMIT ${Math.max(1, Math.floor(query.limit ?? 100))}`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            id: Number(r.id),
            connection: r.connection,
            attempts: Number(r.attempts),
            receivedAt: new Date(Number(r.received_at))
          }))
        ),
        storeErrors("inbox.pending")
      )

    const advance: InboxPort.InboxShape["advance"] = (connection, entity, updatedAt, state) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const rows = yield* sql<{
          entity: string
        }>`INSERT INTO tkb_entity_clock (connection, entity, updated_at, applied_at, state)
        VALUES (${connection}, ${indexableKey(entity)}, ${updatedAt.getTime()}, ${at}, ${state ?? null})
        ON CONFLICT (connection, entity) DO UPDATE
        SET updated_at = excluded.updated_at, applied_at = excluded.applied_at, state = excluded.state
        WHERE tkb_entity_clock.updated_at <= excluded.updated_at
        RETURNING entity`
        return rows.length > 0
      }).pipe(storeErrors("inbox.advance"))

    const applied: InboxPort.InboxShape["applied"] = (connection, entities) =>
      Effect.gen(function* () {
        // Entity names go through the same key shortening as `advance` stored them with.
        const byKey = new Map(entities.map((e) => [indexableKey(e), e]))
        const out = new Map<string, InboxPort.AppliedState>()
        for (const part of Arr.chunksOf([...byKey.keys()], 400)) {
          const rows = yield* sql<{ entity: string; updated_at: number | string; state: string | null }>`
            SELECT entity, updated_at, state FROM tkb_entity_clock
            WHERE connection = ${connection} AND entity IN ${sql.in(part)}`
          for (const r of rows) {
            out.set(byKey.get(r.entity)!, {
              updatedAt: new Date(Number(r.updated_at)),
              ...(r.state !== null ? { state: r.state } : {})
            })
          }
        }
        return out as ReadonlyMap<string, InboxPort.AppliedState>
      }).pipe(storeErrors("inbox.applied"))

    const depth: InboxPort.InboxShape["depth"] = sql<{
      connection: string
      pending: number
      dead: number
    }>`SELECT connection,
      SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
      SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead
    FROM tkb_inbox WHERE status <> 'done' GROUP BY connection ORDER BY connection`.pipe(
      Effect.map((rows) =>
        rows.map((r) => ({ connection: r.connection, pending: Number(r.pending), dead: Number(r.dead) }))
      ),
      storeErrors("inbox.depth")
    )

    const prune: InboxPort.InboxShape["prune"] = (doneBefore) =>
      sql<{ id: number }>`DELETE FROM tkb_inbox WHERE status = 'done' AND processed_at < ${doneBefore.getTime()}
      RETURNING id`.pipe(
        Effect.map((rows) => rows.length),
        storeErrors("inbox.prune")
      )

    return { record, recordMalformed, get, process, fail, deadLetter, pending, advance, applied, depth, prune }
  }
)

/** The inbox as a layer over the current `SqlClient`. */
export const layer: Layer.Layer<Inbox.Inbox, never, SqlClient.SqlClient> = Layer.scoped(Inbox.Inbox, make)
