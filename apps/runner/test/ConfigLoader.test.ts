// biome-ignore-all lint/suspicious/noTemplateCurlyInString: tkbridge.yaml's own ${ENV} syntax
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { channelPolicies } from "../src/Config.ts"
import * as ConfigLoader from "../src/ConfigLoader.ts"

const decode = (text: string, env: Record<string, string> = {}) =>
  Effect.runPromise(Effect.either(ConfigLoader.decodeText("tkbridge.yaml", text, env)))

const base = `connections:
  erp:
    connector: memory
  tiktok-uk:
    connector: tiktok-shop
    plan: basic
pool:
  items: { from: erp }
flows:
  stock:
    source: erp
    channels: [tiktok-uk]
`

describe("ConfigLoader", () => {
  it("decodes a minimal file with the documented defaults", async () => {
    const r = await decode(base)
    if (r._tag === "Left") throw new Error(r.left.message)
    const { config } = r.right
    expect(Redacted.value(config.store)).toBe("sqlite:./data/tkbridge.db")
    expect(config.server.port).toBe(8787)
    expect(Duration.toMillis(config.pool!.unpaidReservationTtl)).toBe(24 * 3_600_000)
    expect(config.pool!.returns.restock).toBe("on_receipt")
    expect(Duration.toMillis(config.flows.stock!.reconcileEvery)).toBe(15 * 60_000)
  })

  it("reports every problem with its key path, line and column, one line per key", async () => {
    const text = `${base.replace("plan: basic", "plan: gold")}server:\n  port: 99999\n  colour: blue\n`
    const r = await decode(text)
    if (r._tag === "Right") throw new Error("accepted an invalid file")
    expect(r.left.issues.map((i) => [ConfigLoader.formatPath(i.path), i.line, i.column])).toEqual([
      ["connections.tiktok-uk.plan", 6, 5],
      ["server.port", 14, 3],
      ["server.colour", 15, 3]
    ])
    expect(r.left.issues[0]?.message).toBe('Expected "basic" | "enterprise", actual "gold"')
    expect(r.left.issues[2]?.message).toContain("is unexpected")
  })

  it("checks that flows and the pool name configured connections", async () => {
    const r = await decode(base.replace("channels: [tiktok-uk]", "channels: [tiktok-uk, shopify-main]"))
    if (r._tag === "Right") throw new Error("accepted an unknown connection")
    expect(r.left.issues).toEqual([
      {
        path: ["flows", "stock", "channels", 1],
        line: 12,
        column: 27,
        message: 'names connection "shopify-main", which is not configured (erp, tiktok-uk)'
      }
    ])
  })

  it("fills ${ENV} references, names missing variables and never prints a substituted value", async () => {
    const text = `${base}store: postgres://tkb:\${PGPASS}@db/tkb\nserver:\n  port: \${PORT:-8080}\n  publicUrl: \${PUBLIC_URL}\n`
    const missing = await decode(text, { PGPASS: "s3cret-pass" })
    if (missing._tag === "Right") throw new Error("accepted a missing variable")
    expect(missing.left.issues).toEqual([
      {
        path: ["server", "publicUrl"],
        line: 16,
        column: 3,
        message: "environment variable PUBLIC_URL is not set (write ${PUBLIC_URL:-default} to allow a default)"
      }
    ])
    const ok = await decode(text, { PGPASS: "s3cret-pass", PUBLIC_URL: "https://sync.example.com" })
    if (ok._tag === "Left") throw new Error(ok.left.message)
    expect(Redacted.value(ok.right.config.store)).toBe("postgres://tkb:s3cret-pass@db/tkb")
    expect(String(ok.right.config.store)).not.toContain("s3cret")
    const bad = await decode(base.replace("plan: basic", "plan: ${PLAN}"), { PLAN: "gold-tier" })
    if (bad._tag === "Right") throw new Error("accepted a bad plan")
    expect(JSON.stringify(bad.left.issues)).not.toContain("gold-tier")
    expect(bad.left.issues[0]?.message).toBe('Expected "basic" | "enterprise", actual "<${PLAN}>"')
  })

  it("reports YAML syntax errors with their position", async () => {
    const r = await decode("connections:\n  erp:\n    connector: memory\n   bad: [\n")
    if (r._tag === "Right") throw new Error("accepted broken YAML")
    expect(r.left.issues[0]?.message).toMatch(/^YAML: /)
    expect(r.left.issues[0]?.line).toBeGreaterThanOrEqual(3)
  })

  it("turns pool channel settings into core channel policies, listing overrides inheriting the connection's", async () => {
    const text = `${base}`.replace(
      "pool:\n  items: { from: erp }\n",
      "pool:\n  items: { from: erp }\n  channels:\n    tiktok-uk:\n      share: 80\n      floor: 2\n      listings:\n        MUG-01: { fixed: 5 }\n"
    )
    const r = await decode(text)
    if (r._tag === "Left") throw new Error(r.left.message)
    const policies = channelPolicies(r.right.config.pool!)
    expect(policies.map((p) => [p.externalSku ?? "*", p.allocation._tag, p.floor])).toEqual([
      ["*", "share", 2],
      ["MUG-01", "fixed", 2]
    ])
  })
})
