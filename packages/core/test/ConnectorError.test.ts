/**
 * The error taxonomy: what the engine does about each error, how long it waits, and that errors
 * survive being stored (dead letters keep them encoded) and crossing package copies.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConnectorError, HttpExchange } from "@tkbridge/core"
import { Duration, Schema } from "effect"

const all: ReadonlyArray<ConnectorError.ConnectorError> = [
  new ConnectorError.AuthExpired({ message: "expired" }),
  new ConnectorError.AuthRevoked({ message: "revoked" }),
  new ConnectorError.ScopeMissing({ message: "no scope", scope: "orders:read" }),
  new ConnectorError.RateLimited({ message: "slow down", retryAfter: Duration.seconds(7) }),
  new ConnectorError.Suspended({ message: "suspended", until: new Date("2026-11-26T14:00:00Z") }),
  new ConnectorError.Transient({ message: "503" }),
  new ConnectorError.Rejected({ message: "bad sku", code: "sku_invalid" }),
  new ConnectorError.NotFound({ message: "no order" })
]

describe("ConnectorError", () => {
  it("maps every tag to what the engine does about it", () => {
    expect(Object.fromEntries(all.map((e) => [e._tag, ConnectorError.disposition(e)]))).toEqual({
      AuthExpired: "refresh",
      AuthRevoked: "pause",
      ScopeMissing: "dead",
      RateLimited: "wait",
      Suspended: "wait",
      Transient: "retry",
      Rejected: "dead",
      NotFound: "dead"
    })
  })

  it("says how long to wait for RateLimited and Suspended only", () => {
    const now = new Date("2026-11-26T13:00:00Z")
    const waits = all.map((e) => {
      const d = ConnectorError.waitFor(e, now)
      return d === undefined ? undefined : Duration.toMillis(d)
    })
    expect(waits).toEqual([undefined, undefined, undefined, 7000, 3_600_000, undefined, undefined, undefined])
    const past = new ConnectorError.Suspended({ message: "over", until: new Date("2026-11-26T12:00:00Z") })
    expect(Duration.toMillis(ConnectorError.waitFor(past, now)!)).toBe(0)
  })

  it("round-trips through its schema, exchange included (dead letters store errors encoded)", () => {
    const exchange = new HttpExchange.HttpExchange({
      method: "GET",
      url: "https://x.example/a",
      curl: "curl -X GET 'https://x.example/a'",
      status: 429
    })
    const errors = [...all, new ConnectorError.Transient({ message: "t", exchange, httpStatus: 503, connection: "c" })]
    for (const e of errors) {
      const encoded = JSON.parse(JSON.stringify(Schema.encodeSync(ConnectorError.ConnectorError)(e)))
      const decoded = Schema.decodeUnknownSync(ConnectorError.ConnectorError)(encoded)
      expect(decoded._tag).toBe(e._tag)
      expect(decoded.message).toBe(e.message)
    }
    const rate = Schema.decodeUnknownSync(ConnectorError.ConnectorError)(
      JSON.parse(JSON.stringify(Schema.encodeSync(ConnectorError.ConnectorError)(all[3]!)))
    )
    expect(rate._tag === "RateLimited" && Duration.toMillis(rate.retryAfter)).toBe(7000)
  })

  it("recognises taxonomy errors by tag, not by class (works across package copies)", () => {
    expect(all.every(ConnectorError.isConnectorError)).toBe(true)
    expect(ConnectorError.isConnectorError({ _tag: "RateLimited", message: "from another copy" })).toBe(true)
    expect(ConnectorError.isConnectorError({ _tag: "SomethingElse" })).toBe(false)
    expect(ConnectorError.isConnectorError(new Error("plain"))).toBe(false)
  })
})
