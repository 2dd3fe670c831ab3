/**
 * SqlAudit: the append-only audit trail (`Audit` port of @tkbridge/core) on SQLite and PostgreSQL.
 * A trigger refuses updates on both dialects; rows are appended inside the caller's transaction when
 * there is one, so a quantity decision is recorded exactly when the outbox row it explains is.
 *
 * Personal data in `detail` is masked before it is written (`Pii.mask`); `layer({ maskPii: false })`
 * keeps it, for deployments whose audit store is itself access-controlled for personal data. Secrets
 * (`Redacted` values) are never written either way.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Audit } from "@tkbridge/core"
import { Clock, Effect, Layer } from "effect"
import { appendAudit } from "./internal/letters.ts"
import { optional, parseJson, storeErrors } from "./internal/sync.ts"

interface AuditRow {
  readonly id: number
  readonly at: number
  readonly kind: Audit.Kind
  readonly connection: string | null
  readonly subject: string | null
  readonly action: string
  readonly outcome: string | null
  readonly detail: string | null
}

/** How the audit trail is written. */
export interface AuditOptions {
  /** Mask personal data in `detail` (default true). */
  readonly maskPii?: boolean | undefined
}

/** Builds the audit trail over the current `SqlClient`. */
export const make = (options: AuditOptions = {}): Effect.Effect<Audit.AuditShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const maskPii = options.maskPii ?? true

    const append: Audit.AuditShape["append"] = (input) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => appendAudit(sql, input, now, maskPii)).pipe(
        storeErrors("audit.append")
      )

    const list: Audit.AuditShape["list"] = (filter = {}) =>
      sql<AuditRow>`SELECT * FROM tkb_audit WHERE ${sql.and([
        ...(filter.connection !== undefined ? [sql`connection = ${filter.connection}`] : []),
        ...(filter.subject !== undefined ? [sql`subject = ${filter.subject}`] : []),
        ...(filter.kind !== undefined ? [sql`kind = ${filter.kind}`] : []),
        ...(filter.action !== undefined ? [sql`action = ${filter.action}`] : []),
        ...(filter.since !== undefined ? [sql`at >= ${filter.since.getTime()}`] : []),
        ...(filter.beforeId !== undefined ? [sql`id < ${filter.beforeId}`] : [])
      ])} ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(filter.limit ?? 100))}`.pipe(
        Effect.map((rows) =>
          rows.map(
            (r): Audit.AuditEntry => ({
              id: Number(r.id),
              at: new Date(Number(r.at)),
              kind: r.kind,
              connection: optional(r.connection),
              subject: optional(r.subject),
              action: r.action,
              outcome: optional(r.outcome),
              detail: parseJson(r.detail)
            })
          )
        ),
        storeErrors("audit.list")
      )

    const prune: Audit.AuditShape["prune"] = (before) =>
      sql<{ id: number }>`DELETE FROM tkb_audit WHERE at < ${before.getTime()} RETURNING id`.pipe(
        Effect.map((rows) => rows.length),
        storeErrors("audit.prune")
      )

    return { append, list, prune }
  })

/** The audit trail as a layer over the current `SqlClient`. */
export const layer = (options: AuditOptions = {}): Layer.Layer<Audit.Audit, never, SqlClient.SqlClient> =>
  Layer.effect(Audit.Audit, make(options))
