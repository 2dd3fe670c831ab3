/**
 * Metrics: a small registry of counters, gauges and histograms with labels, exposed at `/metrics` in
 * the Prometheus text format (version 0.0.4). Values that live in the store (queue depths, DLQ size,
 * quota used, token expiry) are read at scrape time by collectors, so a scrape always shows the
 * database's truth rather than a cached copy.
 *
 * The runner's metrics (`runnerMetrics`): webhook ack latency, inbox/outbox depth, DLQ size, stock
 * propagation delay, quota used and limit per connection, seconds to token expiry.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const labelText = (labels: Labels, extra?: Labels): string => {
  const all = { ...labels, ...extra }
  const keys = Object.keys(all).sort()
  return keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${escapeLabel(all[k]!)}"`).join(",")}}`
}
const keyOf = (labels: Labels) => labelText(labels)
const num = (n: number) => (Number.isNaN(n) ? "NaN" : n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n))

interface Metric {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge" | "histogram"
  readonly render: () => Array<string>
}

/** A monotonically increasing count. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>()
  /** Adds `by` (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(labels)
    const cur = this.values.get(k)
    if (cur) cur.value += by
    else this.values.set(k, { labels, value: by })
  }
  /** The current value for `labels`. */
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0
  }
  /** @internal */
  lines(name: string): Array<string> {
    return [...this.values.values()].map((v) => `${name}${labelText(v.labels)} ${num(v.value)}`)
  }
}

/** A value that goes up and down. */
export class Gauge {
  private readonly values = new Map<string, { labels: Labels; value: number }>()
  /** Sets the value for `labels`. */
  set(labels: Labels, value: number): void {
    this.values.set(keyOf(labels), { labels, value })
  }
  /** Forgets every value (collectors reset before they refill). */
  reset(): void {
    this.values.clear()
  }
  /** The current value for `labels`. */
  get(labels: Labels = {}): number | undefined {
    return this.values.get(keyOf(labels))?.value
  }
  /** @internal */
  lines(name: string): Array<string> {
    return [...this.values.values()].map((v) => `${name}${labelText(v.labels)} ${num(v.value)}`)
  }
}

/** Observations counted into cumulative buckets. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: Array<number>; sum: number; count: number }>()
  readonly buckets: ReadonlyArray<number>
  constructor(buckets: ReadonlyArray<number>) {
    this.buckets = [...buckets].sort((a, b) => a - b)
  }
  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const k = keyOf(labels)
    let s = this.series.get(k)
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(k, s)
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]! += 1
    })
    s.sum += value
    s.count += 1
  }
  /** Observation count and sum for `labels`. */
  get(labels: Labels = {}): { readonly count: number; readonly sum: number } {
    const s = this.series.get(keyOf(labels))
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 }
  }
  /** @internal */
  lines(name: string): Array<string> {
    const out: Array<string> = []
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        out.push(`${name}_bucket${labelText(s.labels, { le: num(b) })} ${s.counts[i]}`)
      })
      out.push(`${name}_bucket${labelText(s.labels, { le: "+Inf" })} ${s.count}`)
      out.push(`${name}_sum${labelText(s.labels)} ${num(s.sum)}`)
      out.push(`${name}_count${labelText(s.labels)} ${s.count}`)
    }
    return out
  }
}

/** Refreshes gauges from their source right before a scrape. */
export type Collector = Effect.Effect<void>

/** A set of metrics rendered together. */
export class Registry {
  private readonly metrics: Array<Metric> = []
  private readonly collectors: Array<Collector> = []
  private register<M extends Counter | Gauge | Histogram>(
    name: string,
    help: string,
    type: Metric["type"],
    metric: M
  ): M {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`)
    if (this.metrics.some((m) => m.name === name)) throw new Error(`metric ${name} registered twice`)
    this.metrics.push({ name, help, type, render: () => metric.lines(name) })
    return metric
  }
  /** Registers a counter (name should end in `_total`). */
  counter(name: string, help: string): Counter {
    return this.register(name, help, "counter", new Counter())
  }
  /** Registers a gauge. */
  gauge(name: string, help: string): Gauge {
    return this.register(name, help, "gauge", new Gauge())
  }
  /** Registers a histogram with upper bucket bounds. */
  histogram(name: string, help: string, buckets: ReadonlyArray<number>): Histogram {
    return this.register(name, help, "histogram", new Histogram(buckets))
  }
  /** Adds a collector run before every scrape. A failing collector leaves its gauges as they were. */
  collect(collector: Collector): void {
    this.collectors.push(collector)
  }
  /** Runs collectors, then renders every metric in the text exposition format. */
  get scrape(): Effect.Effect<string> {
    return Effect.forEach(this.collectors, (c) => Effect.catchAllCause(c, () => Effect.void), { discard: true }).pipe(
      Effect.zipRight(Effect.sync(() => this.render()))
    )
  }
  /** Renders without running collectors. */
  render(): string {
    const out: Array<string> = []
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`)
      out.push(`# TYPE ${m.name} ${m.type}`)
      out.push(...m.render())
    }
    return `${out.join("\n")}\n`
  }
}

/** The Prometheus text format's content type. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** The runner's metrics. */
export interface RunnerMetrics {
  readonly registry: Registry
  /** Seconds from the first byte of a webhook to our answer, by connection and HTTP status. */
  readonly webhookAck: Histogram
  readonly webhooks: Counter
  readonly inboxDepth: Gauge
  readonly outboxDepth: Gauge
  readonly dlqSize: Gauge
  /** Seconds from a stock change to the channel holding the new quantity. */
  readonly propagationDelay: Histogram
  readonly quotaUsed: Gauge
  readonly quotaLimit: Gauge
  readonly tokenExpiry: Gauge
  readonly refreshTokenExpiry: Gauge
}

/** Creates the runner's metric set on a fresh registry. */
export const makeRunnerMetrics = (): RunnerMetrics => {
  const registry = new Registry()
  return {
    registry,
    webhookAck: registry.histogram(
      "tkbridge_webhook_ack_seconds",
      "Time from receiving a webhook to answering it, by connection.",
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5]
    ),
    webhooks: registry.counter(
      "tkbridge_webhooks_total",
      "Webhook deliveries answered, by connection and HTTP status."
    ),
    inboxDepth: registry.gauge(
      "tkbridge_inbox_depth",
      "Webhook and poll events stored but not applied yet, by connection."
    ),
    outboxDepth: registry.gauge("tkbridge_outbox_depth", "Outbound writes waiting to be sent, by connection."),
    dlqSize: registry.gauge("tkbridge_dlq_size", "Dead letters waiting for an operator, by connection."),
    propagationDelay: registry.histogram(
      "tkbridge_propagation_delay_seconds",
      "Time from a stock change to a channel holding the new quantity, by channel.",
      [0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 300]
    ),
    quotaUsed: registry.gauge("tkbridge_quota_used", "API calls used today against the daily quota, by connection."),
    quotaLimit: registry.gauge("tkbridge_quota_limit", "The daily API quota, by connection."),
    tokenExpiry: registry.gauge(
      "tkbridge_token_expiry_seconds",
      "Seconds until the access token expires (negative once expired), by connection."
    ),
    refreshTokenExpiry: registry.gauge(
      "tkbridge_refresh_token_expiry_seconds",
      "Seconds until the refresh token or authorization expires, by connection."
    )
  }
}

/** The running process's metrics. */
export class Metrics extends Context.Tag("tkbridge/Metrics")<Metrics, RunnerMetrics>() {
  /** A fresh metric set. */
  static readonly layer: Layer.Layer<Metrics> = Layer.sync(Metrics, makeRunnerMetrics)
}
