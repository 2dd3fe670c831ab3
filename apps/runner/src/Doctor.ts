/**
 * Doctor: checks a setup against the causes of failed bindings in the field, in the order a seller
 * would fix them — config, store, the public URL's TLS certificate (incomplete chains are 41.2% of
 * binding failures), webhook reachability and answer time (platforms want ≤ 2–3 s), token and
 * authorization expiry, granted vs needed scopes (unused scopes trigger risk control), apps per
 * business licence (at most 5) and quota headroom (a breach suspends the app for 2 hours).
 *
 * Every check yields `pass`, `warn`, `fail` or `skip` with a message saying what to do; the report
 * fails when any check fails.
 *
 * @since 0.1.0
 */
import type { AccessToken } from "@tkbridge/core"
import { Connector } from "@tkbridge/core"
import { Effect, Option, Redacted } from "effect"
import type { RunnerConfig } from "./Config.ts"
import { planDailyQuota, storeDisplay } from "./Config.ts"
import type { LoadedConfig, ResolvedConnection } from "./ConfigLoader.ts"
import { formatPath } from "./ConfigLoader.ts"
import type { RunnerStateShape } from "./RunnerState.ts"
import * as SelfTest from "./SelfTest.ts"
import * as StoreProbe from "./StoreProbe.ts"
import * as TlsProbe from "./TlsProbe.ts"

/** The outcome of one check. */
export type Status = "pass" | "warn" | "fail" | "skip"

/** What a check is about. */
export type Area = "config" | "store" | "tls" | "webhook" | "token" | "scopes" | "licence" | "quota"

/** One check's result. */
export interface Check {
  readonly area: Area
  /** The connection or licence checked, when the check is about one. */
  readonly subject?: string | undefined
  readonly status: Status
  readonly message: string
  readonly details?: Readonly<Record<string, unknown>> | undefined
}

/** The whole report. `ok` is false when any check failed. */
export interface Report {
  readonly ok: boolean
  readonly counts: Readonly<Record<Status, number>>
  readonly checks: ReadonlyArray<Check>
}

/** The most third-party apps one business licence may bind. */
export const MAX_APPS_PER_LICENCE = 5

/** Warn when a token or authorization expires within this many days. */
export const WARN_DAYS = 14

/** Builds a report from checks. */
export const report = (checks: ReadonlyArray<Check>): Report => {
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const c of checks) counts[c.status] += 1
  return { ok: counts.fail === 0, counts, checks }
}

const day = 86_400_000
const when = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z")
const inDays = (d: Date, now: Date) => Math.floor((d.getTime() - now.getTime()) / day)

/** Checks a connection's grant: access token, refresh token / authorization expiry. */
export const tokenCheck = (
  name: string,
  manifest: Connector.Manifest,
  token: Option.Option<AccessToken.TokenSet>,
  now: Date,
  auth: Connector.AuthKind = manifest.auth
): Check => {
  if (auth.kind !== "oauth2") {
    return {
      area: "token",
      subject: name,
      status: "skip",
      message: `${manifest.displayName} uses an API key (no token to expire)`
    }
  }
  if (Option.isNone(token)) {
    return {
      area: "token",
      subject: name,
      status: "fail",
      message: `not authorized yet — run \`tkbridge auth ${name}\``
    }
  }
  const t = token.value
  const details = {
    expiresAt: t.expiresAt?.toISOString(),
    refreshExpiresAt: t.refreshExpiresAt?.toISOString(),
    hasRefreshToken: t.refreshToken !== undefined
  }
  const reauth = `re-authorize with \`tkbridge auth ${name}\``
  if (t.refreshExpiresAt !== undefined && t.refreshExpiresAt.getTime() <= now.getTime()) {
    return {
      area: "token",
      subject: name,
      status: "fail",
      message: `authorization expired on ${when(t.refreshExpiresAt)} — orders stop until you ${reauth}`,
      details
    }
  }
  const canRefresh = t.refreshToken !== undefined
  if (t.expiresAt !== undefined && t.expiresAt.getTime() <= now.getTime() && !canRefresh) {
    return {
      area: "token",
      subject: name,
      status: "fail",
      message: `access token expired on ${when(t.expiresAt)} and there is no refresh token — ${reauth}`,
      details
    }
  }
  const horizon = t.refreshExpiresAt ?? (canRefresh ? undefined : t.expiresAt)
  if (horizon !== undefined && inDays(horizon, now) < WARN_DAYS) {
    const days = inDays(horizon, now)
    return {
      area: "token",
      subject: name,
      status: "warn",
      message: `authorization expires in ${days} day${days === 1 ? "" : "s"} (${when(horizon)}) — ${reauth} before then`,
      details
    }
  }
  const access =
    t.expiresAt === undefined
      ? "access token does not expire"
      : t.expiresAt.getTime() <= now.getTime()
        ? `access token expired ${when(t.expiresAt)}, refreshed automatically on next use`
        : `access token valid until ${when(t.expiresAt)}`
  const authz = t.refreshExpiresAt === undefined ? "" : `; authorization until ${when(t.refreshExpiresAt)}`
  return { area: "token", subject: name, status: "pass", message: `${access}${authz}`, details }
}

/** Compares the granted scopes with the ones the configured flows need. */
export const scopeCheck = (
  name: string,
  connection: Pick<ResolvedConnection, "capabilities" | "neededScopes">,
  manifest: Connector.Manifest,
  token: Option.Option<AccessToken.TokenSet>,
  auth: Connector.AuthKind = manifest.auth
): Check => {
  const needed = connection.neededScopes
  if (auth.kind !== "oauth2") return { area: "scopes", subject: name, status: "skip", message: "API key: no scopes" }
  if (Option.isNone(token)) {
    return {
      area: "scopes",
      subject: name,
      status: "skip",
      message: `needs ${needed.join(", ") || "no scopes"}; not authorized yet`
    }
  }
  const granted = token.value.scopes
  if (granted.length === 0 && needed.length > 0) {
    return {
      area: "scopes",
      subject: name,
      status: "warn",
      message: `the platform did not report granted scopes; the flows need ${needed.join(", ")}`
    }
  }
  const missing = needed.filter((s) => !granted.includes(s))
  const extra = granted.filter((s) => !needed.includes(s))
  const details = { needed, granted, missing, extra }
  if (missing.length > 0) {
    const usedBy = missing.map((s) => {
      const caps = connection.capabilities.filter((c) => (manifest.scopes[c] ?? []).includes(s))
      return `${s} (for ${caps.join(", ")})`
    })
    return {
      area: "scopes",
      subject: name,
      status: "fail",
      message: `under-scoped: the grant lacks ${usedBy.join(", ")} — add them to the app and run \`tkbridge auth ${name}\` again`,
      details
    }
  }
  if (extra.length > 0) {
    return {
      area: "scopes",
      subject: name,
      status: "warn",
      message: `over-scoped: ${extra.join(", ")} granted but unused — platforms' risk control flags unused scopes; remove them from the app and re-authorize`,
      details
    }
  }
  return {
    area: "scopes",
    subject: name,
    status: "pass",
    message: `granted exactly what the flows need (${needed.join(", ") || "none"})`,
    details
  }
}

/** Counts third-party apps per business licence (connections sharing an app count once, plus apps bound outside tkbridge). */
export const licenceChecks = (config: RunnerConfig): ReadonlyArray<Check> => {
  const apps = new Map<string, Set<string>>()
  for (const [id, licence] of Object.entries(config.licences)) {
    apps.set(id, new Set(licence.otherApps.map((a) => `other:${a}`)))
  }
  for (const connection of Object.values(config.connections)) {
    if (connection.licence === undefined) continue
    const set = apps.get(connection.licence) ?? new Set<string>()
    set.add(`tkbridge:${connection.app ?? connection.connector}`)
    apps.set(connection.licence, set)
  }
  return [...apps].map(([licence, set]): Check => {
    const names = [...set].map((a) => a.replace(/^(other|tkbridge):/, ""))
    const details = { apps: names, limit: MAX_APPS_PER_LICENCE }
    if (set.size > MAX_APPS_PER_LICENCE) {
      return {
        area: "licence",
        subject: licence,
        status: "fail",
        message: `${set.size} apps bound to business licence ${licence} (${names.join(", ")}); a licence may bind at most ${MAX_APPS_PER_LICENCE} — the platform will refuse app ${MAX_APPS_PER_LICENCE + 1}`,
        details
      }
    }
    return {
      area: "licence",
      subject: licence,
      status: "pass",
      message: `${set.size} of ${MAX_APPS_PER_LICENCE} apps bound (${names.join(", ")})`,
      details
    }
  })
}

/** The daily quota in force for a connection: config override, then plan, then the connector's published limit. */
export const dailyQuota = (config: RunnerConfig, name: string, manifest: Connector.Manifest): number | undefined => {
  const c = config.connections[name]
  return c?.quota?.daily ?? (c?.plan !== undefined ? planDailyQuota[c.plan] : undefined) ?? manifest.limits.dailyQuota
}

/** Checks today's API use against the daily quota and its headroom. */
export const quotaCheck = (
  config: RunnerConfig,
  name: string,
  manifest: Connector.Manifest,
  usage: Option.Option<{ readonly used: number; readonly suspendedUntil?: Date | undefined }> | undefined,
  now: Date
): Check => {
  const limit = dailyQuota(config, name, manifest)
  const headroom = config.connections[name]?.quota?.headroom ?? 10
  if (usage !== undefined && Option.isSome(usage) && usage.value.suspendedUntil !== undefined) {
    if (usage.value.suspendedUntil.getTime() > now.getTime()) {
      return {
        area: "quota",
        subject: name,
        status: "fail",
        message: `suspended by the platform until ${when(usage.value.suspendedUntil)}; work is queued and resumes then`
      }
    }
  }
  if (limit === undefined) {
    return { area: "quota", subject: name, status: "skip", message: "no daily quota published or configured" }
  }
  if (usage === undefined) {
    return {
      area: "quota",
      subject: name,
      status: "skip",
      message: `daily quota ${limit}; usage unknown (store not readable)`
    }
  }
  const used = Option.isSome(usage) ? usage.value.used : 0
  const details = { used, limit, headroomPercent: headroom }
  const pct = Math.round((used / limit) * 1000) / 10
  if (used >= limit) {
    return {
      area: "quota",
      subject: name,
      status: "fail",
      message: `daily quota exhausted: ${used} of ${limit} calls used — the platform answers 429 and may suspend the app for 2 hours`,
      details
    }
  }
  if (used >= limit * (1 - headroom / 100)) {
    return {
      area: "quota",
      subject: name,
      status: "warn",
      message: `${used} of ${limit} calls used today (${pct}%), inside the ${headroom}% headroom kept for orders and tracking`,
      details
    }
  }
  return {
    area: "quota",
    subject: name,
    status: "pass",
    message: `${used} of ${limit} calls used today (${pct}%)`,
    details
  }
}

/** What the doctor needs besides the config. */
export interface DoctorOptions {
  readonly now?: Date | undefined
  /** The store's state; absent when the store is not available (token and quota checks then say so). */
  readonly state?: RunnerStateShape | undefined
  /** Timeout for network checks, in milliseconds (default 10 s). */
  readonly timeoutMs?: number | undefined
}

const usesWebhooks = (c: ResolvedConnection) =>
  c.capabilities.includes("orders.webhook") || c.capabilities.includes("aftersales.webhook")

/** Posts a signed self-test to the connection's webhook URL and times the answer. */
export const webhookCheck = (
  publicUrl: URL,
  connection: ResolvedConnection,
  key: Redacted.Redacted<string>,
  timeoutMs: number
): Effect.Effect<Check> =>
  Effect.promise(async (): Promise<Check> => {
    const url = new URL(
      `webhooks/${encodeURIComponent(connection.name)}`,
      publicUrl.href.endsWith("/") ? publicUrl : `${publicUrl.href}/`
    )
    const limit = connection.loaded.connector.manifest.limits.webhookAckMs ?? 3000
    const warnAt = Math.min(2000, Math.floor((limit * 2) / 3))
    const outcome = (status: Status, message: string, details: Check["details"]): Check => ({
      area: "webhook",
      subject: connection.name,
      status,
      message,
      details
    })
    const now = Date.now()
    const body = SelfTest.body(now)
    const started = performance.now()
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [SelfTest.HEADER]: SelfTest.sign(key, connection.name, body, now)
        },
        body,
        signal: AbortSignal.timeout(timeoutMs)
      })
      const text = await response.text()
      const ms = Math.round(performance.now() - started)
      const details = { url: url.href, status: response.status, ms, limitMs: limit }
      if (response.status === 401) {
        return outcome(
          "fail",
          `${url.href} answered 401 to the self-test: the runner there has a different self-test key (set server.selfTestSecret on every runner)`,
          details
        )
      }
      let ok = false
      try {
        ok = response.status === 200 && (JSON.parse(text) as { selfTest?: unknown }).selfTest === "ok"
      } catch {
        ok = false
      }
      if (!ok) {
        return outcome(
          "fail",
          `${url.href} answered ${response.status} but not as tkbridge — is \`tkbridge run\` serving this URL (check the proxy's path)?`,
          details
        )
      }
      if (ms >= limit) {
        return outcome(
          "fail",
          `answered in ${ms} ms; ${connection.loaded.connector.manifest.displayName} gives up after ${limit} ms`,
          details
        )
      }
      if (ms >= warnAt) {
        return outcome(
          "warn",
          `answered in ${ms} ms; platforms want ≤ 2 s (limit ${limit} ms) — check the network path to the runner`,
          details
        )
      }
      return outcome("pass", `${url.href} answered in ${ms} ms`, details)
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason = cause?.code ?? cause?.message ?? (error as Error).message
      return outcome("fail", `cannot deliver to ${url.href}: ${reason}`, { url: url.href })
    }
  })

/** Runs every check on a loaded config. */
export const run = (loaded: LoadedConfig, options: DoctorOptions = {}): Effect.Effect<Report> =>
  Effect.gen(function* () {
    const now = options.now ?? new Date()
    const timeoutMs = options.timeoutMs ?? 10_000
    const { config } = loaded
    const checks: Array<Check> = []
    checks.push({
      area: "config",
      status: "pass",
      message: `${loaded.file}: ${loaded.connections.size} connection${loaded.connections.size === 1 ? "" : "s"}, every flow supported by its connectors`
    })
    for (const path of loaded.literalSecrets) {
      checks.push({
        area: "config",
        status: "warn",
        message: `${formatPath(path)} is a secret written into the file — use \${ENV_VAR} so it stays out of backups and version control`
      })
    }

    const store = yield* StoreProbe.probe(Redacted.value(config.store), loaded.dir)
    checks.push({
      area: "store",
      status: store.ok ? "pass" : "fail",
      message: store.ok ? store.message : `${storeDisplay(config)}: ${store.message}`
    })

    const webhookConnections = [...loaded.connections.values()].filter(usesWebhooks)
    const publicUrl = config.server.publicUrl === undefined ? undefined : new URL(config.server.publicUrl)
    if (publicUrl === undefined) {
      checks.push({
        area: "tls",
        status: webhookConnections.length > 0 ? "warn" : "skip",
        message:
          webhookConnections.length > 0
            ? `server.publicUrl is not set: ${webhookConnections.map((c) => c.name).join(", ")} will only see orders by polling (minutes late instead of seconds)`
            : "no public URL configured (no flow uses webhooks)"
      })
    } else {
      const tls = yield* TlsProbe.probe(publicUrl, { now, timeoutMs })
      const chain = tls.chain.map((c) => c.subject).join(" → ")
      const details = {
        chain: tls.chain.map((c) => ({ ...c, validTo: c.validTo.toISOString() })),
        daysToExpiry: tls.daysToExpiry,
        protocol: tls.protocol,
        errorCode: tls.errorCode
      }
      if (tls.findings.length === 0) {
        checks.push({
          area: "tls",
          status: "pass",
          message: `${publicUrl.host}: chain ${chain}; expires in ${tls.daysToExpiry} days`,
          details
        })
      } else {
        for (const f of tls.findings)
          checks.push({ area: "tls", status: f.level, message: `${publicUrl.host}: ${f.message}`, details })
      }
      const key = yield* SelfTest.loadKey(loaded.dir, config.server.selfTestSecret)
      const results = yield* Effect.forEach(webhookConnections, (c) => webhookCheck(publicUrl, c, key, timeoutMs), {
        concurrency: 4
      })
      checks.push(...results)
    }

    for (const [name, connection] of loaded.connections) {
      const { manifest } = connection.loaded.connector
      const auth = Connector.authKindOf(manifest, connection.config)
      const token =
        options.state === undefined || auth.kind !== "oauth2"
          ? undefined
          : yield* options.state.token(name).pipe(Effect.either)
      if (auth.kind === "oauth2" && (token === undefined || token._tag === "Left")) {
        const why = token === undefined ? "this build has no token store to read it from" : token.left.message
        checks.push({ area: "token", subject: name, status: "fail", message: `cannot check the authorization: ${why}` })
      } else {
        const t = token !== undefined && token._tag === "Right" ? token.right : Option.none()
        checks.push(tokenCheck(name, manifest, t, now, auth))
        checks.push(scopeCheck(name, connection, manifest, t, auth))
      }
    }

    checks.push(...licenceChecks(config))

    for (const [name, connection] of loaded.connections) {
      const usage =
        options.state === undefined
          ? undefined
          : yield* options.state.quotaToday(name, now).pipe(Effect.orElseSucceed(() => undefined))
      checks.push(quotaCheck(config, name, connection.loaded.connector.manifest, usage, now))
    }
    return report(checks)
  })
