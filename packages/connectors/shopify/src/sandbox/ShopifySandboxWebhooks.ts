/**
 * ShopifySandboxWebhooks: webhook subscriptions and deliveries, as Shopify makes them.
 *
 * Each change of the sandbox's state is one event (`X-Shopify-Event-Id`), delivered to every
 * subscription of its topic as one delivery (`X-Shopify-Webhook-Id`, stable across that delivery's
 * retries). A delivery is an HTTP POST of the REST-style JSON payload with the eight `X-Shopify-*`
 * headers (topic, HMAC, shop domain, API version, webhook id, event id, triggered at, and the
 * subscription's name — empty for a subscription created without one: the reference lists the
 * header on every delivery without saying what an unnamed subscription gets), signed with
 * base64(HMAC-SHA256(client secret, body)). A receiver has 5 s to answer 2xx;
 * otherwise Shopify retries 8 times over 4 hours with exponential backoff (the schedule runs on the
 * sandbox clock, so a sped-up clock plays it in moments), and a subscription whose last 8 deliveries
 * all failed is deleted (checked when the next event comes).
 *
 * @see https://shopify.dev/docs/apps/build/webhooks/delivery-structure
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import type { SandboxClock } from "@tkbridge/connector-testkit"
import { WebhookEmitter } from "@tkbridge/connector-testkit"
import { sign } from "../ShopifyWebhook.ts"

/**
 * Waits before each retry, in ms: 8 retries doubling from 1 minute, the last stretched so the
 * schedule spans 4 hours. Shopify documents "8 times over 4 hours" but not the intervals.
 */
export const defaultRetrySchedule: ReadonlyArray<number> = [60, 120, 240, 480, 960, 1920, 3840, 6780].map(
  (s) => s * 1000
)

/** A webhook subscription. */
export interface Subscription {
  readonly id: string
  readonly uri: string
  /** Header topics (`orders/create`); every topic when absent. */
  readonly topics: ReadonlySet<string> | undefined
  readonly name: string | undefined
  deleted: boolean
  readonly emitter: WebhookEmitter.WebhookEmitter
}

/** A delivery the sandbox made, with the subscription it went to. */
export interface SandboxDelivery extends WebhookEmitter.Delivery {
  readonly subscription: string
  readonly eventId: string
}

/** Webhook options of a sandbox. */
export interface WebhookOptions {
  readonly shop: string
  readonly clientSecret: string
  readonly apiVersion: string
  /** Waits before each retry, in sandbox ms (default: 8 retries over 4 hours). */
  readonly retryScheduleMs?: ReadonlyArray<number> | undefined
  /** How long a receiver has to answer, in real ms (default 5,000). */
  readonly timeoutMs?: number | undefined
  /** Failed deliveries in a row after which a subscription is deleted (default 8). */
  readonly deleteAfterFailures?: number | undefined
}

/** The names of the eight headers of every delivery, as Shopify spells them. */
export const deliveryHeaders: ReadonlyArray<string> = [
  "X-Shopify-Topic",
  "X-Shopify-Hmac-Sha256",
  "X-Shopify-Shop-Domain",
  "X-Shopify-API-Version",
  "X-Shopify-Webhook-Id",
  "X-Shopify-Event-Id",
  "X-Shopify-Triggered-At",
  "X-Shopify-Name"
]

/** The signed request Shopify would send (headers as Shopify spells them). */
export interface SignedWebhook {
  readonly topic: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/** Subscriptions and deliveries of one sandbox shop. */
export class ShopifySandboxWebhooks {
  readonly subscriptions = new Map<string, Subscription>()
  private readonly all: Array<SandboxDelivery> = []
  private readonly options: WebhookOptions
  private readonly clock: SandboxClock.SandboxClock

  constructor(options: WebhookOptions, clock: SandboxClock.SandboxClock) {
    this.options = options
    this.clock = clock
  }

  /** Subscribes `uri` to `topics` (all when absent); returns the subscription id. */
  subscribe(uri: string, options: { readonly topics?: ReadonlyArray<string>; readonly name?: string } = {}): string {
    const emitter = new WebhookEmitter.WebhookEmitter({
      clock: this.clock,
      retrySchedule: this.options.retryScheduleMs ?? defaultRetrySchedule,
      timeoutMs: this.options.timeoutMs ?? 5_000
    })
    emitter.subscribe(uri)
    const id = `gid://shopify/WebhookSubscription/${Math.floor(this.clock.now())}${this.subscriptions.size}`
    this.subscriptions.set(id, {
      id,
      uri,
      topics: options.topics === undefined ? undefined : new Set(options.topics),
      name: options.name,
      deleted: false,
      emitter
    })
    return id
  }

  /** Removes a subscription (deliveries in flight keep retrying, as on Shopify). */
  unsubscribe(id: string): void {
    const s = this.subscriptions.get(id)
    if (s !== undefined) s.deleted = true
  }

  /**
   * Signs a payload for `topic` exactly as a delivery would carry it: always the eight `X-Shopify-*`
   * headers, `X-Shopify-Name` being the subscription's name (empty when it has none).
   */
  sign(
    topic: string,
    payload: unknown,
    options: {
      readonly secret?: string
      readonly webhookId?: string
      readonly eventId?: string
      readonly name?: string
    } = {}
  ): SignedWebhook {
    const body = JSON.stringify(payload)
    const headers: Record<string, string> = {
      "X-Shopify-Topic": topic,
      "X-Shopify-Hmac-Sha256": sign(body, options.secret ?? this.options.clientSecret),
      "X-Shopify-Shop-Domain": this.options.shop,
      "X-Shopify-API-Version": this.options.apiVersion,
      "X-Shopify-Webhook-Id": options.webhookId ?? randomUUID(),
      "X-Shopify-Event-Id": options.eventId ?? randomUUID(),
      "X-Shopify-Triggered-At": new Date(this.clock.now()).toISOString(),
      "X-Shopify-Name": options.name ?? ""
    }
    return { topic, body, headers }
  }

  private failedInARow(s: Subscription): number {
    let n = 0
    for (let i = s.emitter.deliveries.length - 1; i >= 0; i--) {
      const d = s.emitter.deliveries[i]!
      if (d.state === "failed") n++
      else break
    }
    return n
  }

  /** Delivers one event to every live subscription of its topic. */
  publish(topic: string, payload: unknown): ReadonlyArray<SandboxDelivery> {
    const eventId = randomUUID()
    const out: Array<SandboxDelivery> = []
    for (const s of this.subscriptions.values()) {
      if (s.deleted) continue
      if (this.failedInARow(s) >= (this.options.deleteAfterFailures ?? 8)) {
        s.deleted = true
        continue
      }
      if (s.topics !== undefined && !s.topics.has(topic)) continue
      const signed = this.sign(topic, payload, { eventId, ...(s.name === undefined ? {} : { name: s.name }) })
      const webhookId = signed.headers["X-Shopify-Webhook-Id"]!
      const delivery = s.emitter.send({ id: webhookId, topic, body: signed.body, headers: signed.headers })
      const record = Object.assign(delivery, { subscription: s.id, eventId }) as SandboxDelivery
      this.all.push(record)
      out.push(record)
    }
    return out
  }

  /** Sends a delivery again, byte for byte (the same webhook and event ids): a duplicate. */
  redeliver(webhookId: string): SandboxDelivery {
    const original = this.all.find((d) => d.id === webhookId)
    if (original === undefined) throw new Error(`no delivery ${webhookId}`)
    const s = this.subscriptions.get(original.subscription)!
    const delivery = s.emitter.send({
      id: original.id,
      topic: original.topic,
      body: original.body,
      headers: original.headers
    })
    const record = Object.assign(delivery, { subscription: s.id, eventId: original.eventId }) as SandboxDelivery
    this.all.push(record)
    return record
  }

  /** Every delivery, oldest first. */
  deliveries(): ReadonlyArray<SandboxDelivery> {
    return this.all
  }

  /** Resolves when every delivery has been delivered or given up on. */
  async settled(): Promise<void> {
    await Promise.all([...this.subscriptions.values()].map((s) => s.emitter.settled()))
  }

  /** Stops retrying. */
  stop(): void {
    for (const s of this.subscriptions.values()) s.emitter.stop()
  }
}
