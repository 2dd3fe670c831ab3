/**
 * The pure parts of the sync-state ports: quota windows and lanes, which errors suspend a connection,
 * reason codes for dead letters, idempotency keys and audit rows.
 */
import { describe, expect, it } from "@effect/vitest"
import { Audit, ConnectorError, DeadLetter, HttpExchange, Outbox, Quota } from "@tkbridge/core"
import { Duration, Option } from "effect"

const hour = 3_600_000

describe("Quota", () => {
  it("a platform day starts at the configured offset", () => {
    const utcNoon = Date.UTC(2026, 10, 26, 12)
    expect(Quota.dayWindow(utcNoon)).toEqual({ start: Date.UTC(2026, 10, 26), end: Date.UTC(2026, 10, 27) })
    // a day starting at 16:00 UTC (midnight in UTC+8): noon UTC still belongs to the day that began yesterday
    expect(Quota.dayWindow(utcNoon, -8 * 60)).toEqual({
      start: Date.UTC(2026, 10, 25, 16),
      end: Date.UTC(2026, 10, 26, 16)
    })
    expect(Quota.dayWindow(Date.UTC(2026, 10, 26, 17), -8 * 60).start).toBe(Date.UTC(2026, 10, 26, 16))
  })

  it("low lanes stop at the headroom; the high lane may spend the whole quota", () => {
    const basic: Quota.Policy = { daily: 50_000 }
    expect(Quota.dailyLimitFor(basic, "high")).toBe(50_000)
    expect(Quota.dailyLimitFor(basic, "normal")).toBe(45_000)
    expect(Quota.dailyLimitFor(basic, "low")).toBe(45_000)
    expect(Quota.dailyLimitFor({ daily: 100, headroom: 150 }, "low")).toBe(0)
    expect(Quota.dailyLimitFor({}, "low")).toBeUndefined()
  })

  it("a policy comes from the connector's limits, overridable per connection", () => {
    const policy = Quota.policyFromLimits(
      { requestsPerSecond: 50, dailyQuota: 200_000 },
      { scope: "app:123", headroom: 5_000 }
    )
    expect(policy).toMatchObject({ perSecond: 50, daily: 200_000, headroom: 5_000, scope: "app:123" })
    expect(Quota.scopeOf("tiktok-uk", policy)).toBe("app:123")
    expect(Quota.scopeOf("tiktok-uk", {})).toBe("tiktok-uk")
  })

  it("Suspended and a long Retry-After suspend; a short Retry-After is only a back-off", () => {
    const now = new Date(Date.UTC(2026, 10, 26, 9))
    const until = new Date(now.getTime() + 2 * hour)
    expect(
      Quota.suspensionFor(
        new ConnectorError.Suspended({ message: "daily quota exceeded", code: "36009004", until }),
        now
      )
    ).toEqual(Option.some({ until, reason: "suspended (36009004): daily quota exceeded" }))
    const long = new ConnectorError.RateLimited({ message: "HTTP 429", retryAfter: Duration.hours(2) })
    expect(Option.getOrThrow(Quota.suspensionFor(long, now)).until).toEqual(until)
    const short = new ConnectorError.RateLimited({ message: "HTTP 429", retryAfter: Duration.seconds(2) })
    expect(Quota.suspensionFor(short, now)).toEqual(Option.none())
    expect(Quota.suspensionFor(short, now, Duration.seconds(1))._tag).toBe("Some")
    expect(Quota.suspensionFor(new ConnectorError.Transient({ message: "503" }), now)).toEqual(Option.none())
  })
})

describe("DeadLetter", () => {
  it("maps terminal platform answers to reason codes", () => {
    expect(DeadLetter.reasonFor(new ConnectorError.Rejected({ message: "x", code: "1" }))).toBe("rejected")
    expect(DeadLetter.reasonFor(new ConnectorError.NotFound({ message: "x" }))).toBe("not_found")
    expect(DeadLetter.reasonFor(new ConnectorError.ScopeMissing({ message: "x" }))).toBe("scope_missing")
    expect(DeadLetter.reasonFor(new ConnectorError.AuthRevoked({ message: "x" }))).toBe("auth_revoked")
    expect(DeadLetter.reasonFor(new ConnectorError.Transient({ message: "x" }))).toBe("retry_exhausted")
  })
})

describe("Outbox", () => {
  it("a push's idempotency key names the connection, listing and version", () => {
    expect(Outbox.stockPushKey("tiktok-uk", "TEE-RED-M", 7)).toBe("tiktok-uk:TEE-RED-M:7")
  })
})

describe("Audit", () => {
  it("builds quantity-decision and outbound-write rows", () => {
    expect(
      Audit.quantityDecision({ connection: "shop", listing: "L1", quantity: 4, version: 2, explanation: { held: 3 } })
    ).toEqual({
      kind: "quantity",
      connection: "shop",
      subject: "L1",
      action: "publish",
      outcome: "4",
      detail: { quantity: 4, version: 2, explanation: { held: 3 } }
    })
    const exchange = new HttpExchange.HttpExchange({
      method: "POST",
      url: "u",
      curl: "curl -X POST 'u'",
      status: 200,
      durationMs: 12
    })
    expect(
      Audit.outboundWrite({
        connection: "shop",
        operation: "stock.push",
        idempotencyKey: "k",
        outcome: "applied",
        exchange
      })
    ).toMatchObject({
      kind: "write",
      action: "stock.push",
      outcome: "applied",
      detail: { curl: "curl -X POST 'u'", status: 200 }
    })
  })
})
