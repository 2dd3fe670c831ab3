/**
 * WebhookEmitter: how a sandbox delivers webhooks — POST the signed body to the subscriber, count a
 * 2xx within the platform's deadline as delivered, otherwise retry on the platform's schedule (in
 * sandbox time, so a 4-hour schedule runs in milliseconds with a sped-up clock) and finally give up,
 * as the real platform would.
 *
 * @since 0.1.0
 */
import type { SandboxClock } from "./SandboxClock.ts"

/** One attempt to deliver. `status` 0 means no HTTP answer (refused, reset, timed out). */
export interface Attempt {
  readonly at: number
  readonly status: number
  readonly error?: string | undefined
  readonly durationMs: number
}

/** A webhook the emitter is delivering or has delivered. */
export interface Delivery {
  readonly id: string
  readonly topic: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
  readonly attempts: Array<Attempt>
  state: "pending" | "delivered" | "failed"
}

/** How a platform delivers webhooks. */
export interface WebhookEmitterOptions {
  readonly clock: SandboxClock
  /** Waits before each retry, in sandbox milliseconds; its length is the number of retries. */
  readonly retrySchedule: ReadonlyArray<number>
  /** The receiver must answer within this many real milliseconds. */
  readonly timeoutMs: number
}

/** Delivers signed webhooks to one subscriber URL with retries. */
export class WebhookEmitter {
  /** Every delivery, oldest first. */
  readonly deliveries: Array<Delivery> = []
  private target: string | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private stopped = false
  private readonly options: WebhookEmitterOptions

  constructor(options: WebhookEmitterOptions) {
    this.options = options
  }

  /** Sets (or clears) the subscriber URL. */
  subscribe(url: string | undefined): void {
    this.target = url
  }

  /** The current subscriber URL. */
  get subscriber(): string | undefined {
    return this.target
  }

  /**
   * Sends a delivery (already signed by the caller) and keeps retrying in the background.
   * Returns the delivery record; `settled()` waits for it.
   */
  send(input: {
    readonly id: string
    readonly topic: string
    readonly body: string
    readonly headers: Readonly<Record<string, string>>
  }): Delivery {
    const delivery: Delivery = { ...input, attempts: [], state: "pending" }
    this.deliveries.push(delivery)
    if (this.target === undefined) {
      delivery.state = "failed"
      return delivery
    }
    const run = this.run(delivery, this.target)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
    return delivery
  }

  /** Resolves when every delivery has been delivered or given up on. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  /** Stops retrying (pending deliveries are left as they are). */
  stop(): void {
    this.stopped = true
  }

  private async run(delivery: Delivery, url: string): Promise<void> {
    const waits = [0, ...this.options.retrySchedule]
    for (const wait of waits) {
      if (wait > 0) await this.options.clock.sleep(wait)
      if (this.stopped) return
      const started = Date.now()
      const at = this.options.clock.now()
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...delivery.headers },
          body: delivery.body,
          signal: AbortSignal.timeout(this.options.timeoutMs)
        })
        await response.arrayBuffer()
        delivery.attempts.push({ at, status: response.status, durationMs: Date.now() - started })
        if (response.status >= 200 && response.status < 300) {
          delivery.state = "delivered"
          return
        }
      } catch (error) {
        delivery.attempts.push({ at, status: 0, error: String(error), durationMs: Date.now() - started })
      }
    }
    delivery.state = "failed"
  }
}
