/**
 * How the TikTok Shop sandbox pushes webhooks, the way TikTok does: HTTP POST of a JSON body with
 * `Authorization: hex(HMAC-SHA256(app_secret, app_key + body))`; the receiver must answer within
 * 3 seconds with 200 or 401 (both count as acceptable, so neither is retried); anything else is
 * retried 4 times at +2 min, +30 min, +3 h and +12 h, each after the previous attempt, reusing the
 * same `tts_notification_id`. Waits run on the sandbox clock, so a sped-up or advanced clock plays
 * the 14-hour schedule in moments.
 *
 * Deliveries can be muted (TikTok "loses" them, to test polling as the backstop) and every attempt
 * is recorded.
 *
 * @since 0.1.0
 */
import { createHmac } from "node:crypto"
import type { SandboxClock } from "@tkbridge/connector-testkit"

/** TikTok's retry waits after a failed delivery, in milliseconds. */
export const tiktokRetrySchedule: ReadonlyArray<number> = [2 * 60_000, 30 * 60_000, 3 * 3_600_000, 12 * 3_600_000]

/** One delivery attempt. `status` 0 means no HTTP answer (refused, reset, timed out). */
export interface Attempt {
  readonly at: number
  readonly status: number
  readonly error?: string | undefined
}

/** A notification and its delivery history. */
export interface Notification {
  readonly id: string
  readonly type: number
  readonly shopId: string
  readonly body: string
  readonly signature: string
  readonly target: string | undefined
  readonly attempts: Array<Attempt>
  /** `muted`: TikTok dropped it; `undeliverable`: no URL subscribed. */
  state: "pending" | "delivered" | "failed" | "muted" | "undeliverable"
}

/** Emitter settings. */
export interface EmitterOptions {
  readonly clock: SandboxClock.SandboxClock
  readonly appKey: string
  readonly appSecret: string
  /** Waits before each retry, in sandbox milliseconds. */
  readonly retrySchedule: ReadonlyArray<number>
  /** Real milliseconds the receiver has to answer. */
  readonly timeoutMs: number
  /** Statuses that end delivery (TikTok: 200 and 401). */
  readonly acceptStatuses: ReadonlyArray<number>
}

/** The TikTok webhook signature (a second, self-contained implementation: the sandbox shares no code with the client). */
export const signature = (appKey: string, appSecret: string, body: string): string =>
  createHmac("sha256", appSecret).update(`${appKey}${body}`, "utf8").digest("hex")

/** Delivers notifications with TikTok's signing, deadline and retries. */
export class TikTokShopWebhookEmitter {
  /** Every notification, oldest first. */
  readonly notifications: Array<Notification> = []
  /** While true, notifications are recorded but not sent (lost webhooks). */
  muted = false
  private readonly inFlight = new Set<Promise<void>>()
  private stopped = false
  private readonly options: EmitterOptions

  constructor(options: EmitterOptions) {
    this.options = options
  }

  /** Signs and sends a body to `target`, retrying in the background. */
  send(input: {
    readonly id: string
    readonly type: number
    readonly shopId: string
    readonly body: string
    readonly target: string | undefined
  }): Notification {
    const n: Notification = {
      ...input,
      signature: signature(this.options.appKey, this.options.appSecret, input.body),
      attempts: [],
      state: "pending"
    }
    this.notifications.push(n)
    if (this.muted) {
      n.state = "muted"
      return n
    }
    if (input.target === undefined) {
      n.state = "undeliverable"
      return n
    }
    const run = this.run(n, input.target)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
    return n
  }

  /** Sends a recorded notification again now (e.g. one that was muted), with the same id and signature. */
  redeliver(n: Notification, target: string): void {
    n.state = "pending"
    const run = this.run(n, target)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
  }

  /** Resolves when no delivery is in flight (retries wait on the sandbox clock: advance it to get there). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  /** Number of deliveries still in flight. */
  pending(): number {
    return this.inFlight.size
  }

  /** Stops retrying. */
  stop(): void {
    this.stopped = true
  }

  private async run(n: Notification, url: string): Promise<void> {
    const waits = [0, ...this.options.retrySchedule]
    for (const wait of waits) {
      if (wait > 0) await this.options.clock.sleep(wait)
      if (this.stopped) return
      const at = this.options.clock.now()
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: n.signature },
          body: n.body,
          signal: AbortSignal.timeout(this.options.timeoutMs)
        })
        await response.arrayBuffer()
        n.attempts.push({ at, status: response.status })
        if (this.options.acceptStatuses.includes(response.status)) {
          n.state = "delivered"
          return
        }
      } catch (error) {
        n.attempts.push({ at, status: 0, error: String(error) })
      }
    }
    n.state = "failed"
  }
}
