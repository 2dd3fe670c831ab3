import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import type { Connector } from "@tkbridge/core"
import { AccessToken } from "@tkbridge/core"
import { Effect, Option, Redacted } from "effect"
import * as ConfigLoader from "../src/ConfigLoader.ts"
import * as Doctor from "../src/Doctor.ts"
import * as FlowPlan from "../src/FlowPlan.ts"

const manifest = {
  id: "shop",
  displayName: "Shop",
  apiVersion: "1",
  capabilities: ["orders.webhook", "orders.pull", "stock.push", "catalog.pull", "fulfillment.push"],
  auth: { kind: "oauth2" },
  scopes: {
    "orders.webhook": ["order.read"],
    "orders.pull": ["order.read"],
    "stock.push": ["inventory.write"],
    "catalog.pull": ["product.read"],
    "fulfillment.push": ["fulfillment.write"]
  },
  limits: { dailyQuota: 50_000 },
  stock: { idempotencyKeys: false, compareAndSet: false, multiLocation: false },
  config: undefined as never
} as unknown as Connector.Manifest

const now = new Date("2026-06-01T00:00:00Z")
const days = (n: number) => new Date(now.getTime() + n * 86_400_000)
const token = (fields: Partial<ConstructorParameters<typeof AccessToken.TokenSet>[0]>) =>
  Option.some(AccessToken.TokenSet.make({ accessToken: Redacted.make("t"), ...fields }))

describe("Doctor", () => {
  it("derives the capabilities and scopes a connection needs from the flows", async () => {
    const text = `connections:\n  erp: { connector: memory }\n  shop: { connector: memory }\n  fpx: { connector: memory }\npool:\n  items: { from: erp }\nflows:\n  orders:\n    - from: shop\n      fulfilment: fpx\n  stock:\n    source: erp\n    channels: [shop]\n`
    const { config } = await Effect.runPromise(ConfigLoader.decodeText("tkbridge.yaml", text, {}))
    const plan = FlowPlan.plan(manifest, FlowPlan.roles(config).get("shop") ?? [])
    expect(plan.capabilities).toEqual([
      "catalog.pull",
      "fulfillment.push",
      "orders.pull",
      "orders.webhook",
      "stock.push"
    ])
    expect(FlowPlan.neededScopes(manifest, plan.capabilities)).toEqual([
      "fulfillment.write",
      "inventory.write",
      "order.read",
      "product.read"
    ])
    const fpx = FlowPlan.plan(manifest, FlowPlan.roles(config).get("fpx") ?? [])
    expect(fpx.gaps.map((g) => g.message)).toEqual([
      "connector shop cannot be used for fulfilment: it does not provide shipment.create, tracking.pull"
    ])
  })

  it("fails an under-scoped grant naming the missing scope and what needs it, and warns on an over-scoped one", () => {
    const connection = {
      capabilities: ["orders.webhook", "stock.push"] as const,
      neededScopes: ["inventory.write", "order.read"]
    }
    const granted = (scopes: ReadonlyArray<string>) =>
      Doctor.scopeCheck("tiktok-uk", connection as never, manifest, token({ scopes }))
    const under = granted(["order.read"])
    expect(under.status).toBe("fail")
    expect(under.message).toContain("under-scoped: the grant lacks inventory.write (for stock.push)")
    const over = granted(["order.read", "inventory.write", "product.write"])
    expect(over.status).toBe("warn")
    expect(over.message).toContain("over-scoped: product.write")
    const exact = granted(["inventory.write", "order.read"])
    expect(exact.status).toBe("pass")
  })

  it("asks no authorization of a 4PX connection that signs with its API key, and does of one authorized by OAuth", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkb-doctor-"))
    try {
      const file = Path.join(dir, "tkbridge.yaml")
      const sender =
        "      sender: { firstName: Mei, phone: '+8675512345678', postCode: '518000', country: CN, city: Shenzhen, street: '88 Keyuan Road, Nanshan' }\n"
      const connection = (extra: string) =>
        `    connector: 4px\n    config:\n      appKey: key\n      appSecret: "\${FPX_SECRET}"\n      productCode: A2\n${sender}${extra}`
      Fs.writeFileSync(
        file,
        `store: sqlite:./doctor.db\nconnections:\n  direct:\n${connection("")}  vendor:\n${connection("      auth: { mode: oauth }\n")}`
      )
      const loaded = await Effect.runPromise(ConfigLoader.load(file, { env: { FPX_SECRET: "s3cret" } }))
      const report = await Effect.runPromise(Doctor.run(loaded, { now }))
      const check = (area: string, subject: string) =>
        report.checks.find((c) => c.area === area && c.subject === subject)
      expect(check("token", "direct")).toMatchObject({ status: "skip", message: expect.stringContaining("API key") })
      expect(check("scopes", "direct")).toMatchObject({ status: "skip" })
      expect(check("token", "vendor")).toMatchObject({ status: "fail" })
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("judges token and authorization expiry", () => {
    const check = (t: ReturnType<typeof token>) => Doctor.tokenCheck("tiktok-uk", manifest, t, now)
    expect(check(Option.none()).status).toBe("fail")
    expect(check(token({ expiresAt: days(-1) })).message).toContain(
      "expired on 2026-05-31T00:00:00Z and there is no refresh token"
    )
    expect(
      check(token({ expiresAt: days(-1), refreshToken: Redacted.make("r"), refreshExpiresAt: days(60) })).status
    ).toBe("pass")
    const revoked = check(token({ expiresAt: days(1), refreshToken: Redacted.make("r"), refreshExpiresAt: days(-2) }))
    expect([revoked.status, revoked.message]).toEqual([
      "fail",
      expect.stringContaining("authorization expired on 2026-05-30")
    ])
    const soon = check(token({ expiresAt: days(1), refreshToken: Redacted.make("r"), refreshExpiresAt: days(6) }))
    expect([soon.status, soon.message]).toEqual(["warn", expect.stringContaining("expires in 6 days")])
  })

  it("counts apps per licence: five pass, a sixth fails; connections sharing an app count once", async () => {
    const yaml = (apps: number) =>
      `licences:\n  L1:\n    otherApps: [${Array.from({ length: apps }, (_, i) => `app${i}`).join(", ")}]\nconnections:\n  a: { connector: memory, licence: L1 }\n  b: { connector: memory, licence: L1 }\n`
    const at = async (apps: number) =>
      Doctor.licenceChecks((await Effect.runPromise(ConfigLoader.decodeText("f", yaml(apps), {}))).config)
    expect((await at(4)).map((c) => [c.status, c.message])).toEqual([
      ["pass", "5 of 5 apps bound (app0, app1, app2, app3, memory)"]
    ])
    const six = await at(5)
    expect(six[0]?.status).toBe("fail")
    expect(six[0]?.message).toContain("6 apps bound to business licence L1")
  })

  it("compares quota use with the plan's daily quota and its headroom, and reports suspensions", async () => {
    const { config } = await Effect.runPromise(
      ConfigLoader.decodeText(
        "f",
        "connections:\n  t: { connector: memory, plan: enterprise, quota: { headroom: 20 } }\n",
        {}
      )
    )
    const q = (used: number, suspendedUntil?: Date) =>
      Doctor.quotaCheck(config, "t", manifest, Option.some({ used, suspendedUntil }), now)
    expect(q(10_000).status).toBe("pass")
    expect(q(170_000)).toMatchObject({ status: "warn" })
    expect(q(200_000).message).toContain("daily quota exhausted: 200000 of 200000")
    expect(q(0, days(0.05)).message).toContain("suspended by the platform until")
    expect(Doctor.quotaCheck(config, "t", manifest, undefined, now).status).toBe("skip")
  })
})

describe("Doctor webhook check", () => {
  const serve = (handler: (res: import("node:http").ServerResponse) => void) =>
    new Promise<{ url: URL; close: () => Promise<void> }>((resolve) => {
      const server = Http.createServer((_req, res) => handler(res))
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as import("node:net").AddressInfo
        resolve({ url: new URL(`http://127.0.0.1:${port}`), close: () => new Promise((r) => server.close(() => r())) })
      })
    })
  const connection = (webhookAckMs: number) =>
    ({
      name: "shop",
      capabilities: ["orders.webhook"],
      neededScopes: [],
      config: {},
      loaded: { ref: "x", packageName: "x", connector: { manifest: { ...manifest, limits: { webhookAckMs } } } }
    }) as never

  it("fails when the answer is slower than the platform waits, and when something else answers", async () => {
    const slow = await serve((res) => setTimeout(() => res.writeHead(200).end('{"selfTest":"ok"}'), 400))
    const other = await serve((res) => res.writeHead(200).end("<html>welcome to nginx</html>"))
    try {
      const key = Redacted.make("k")
      const late = await Effect.runPromise(Doctor.webhookCheck(slow.url, connection(300), key, 5_000))
      expect([late.status, late.message]).toEqual([
        "fail",
        expect.stringMatching(/answered in \d+ ms; Shop gives up after 300 ms/)
      ])
      const wrong = await Effect.runPromise(Doctor.webhookCheck(other.url, connection(3_000), key, 5_000))
      expect([wrong.status, wrong.message]).toEqual([
        "fail",
        expect.stringContaining("answered 200 but not as tkbridge")
      ])
      const refused = await Effect.runPromise(
        Doctor.webhookCheck(new URL("http://127.0.0.1:9"), connection(3_000), key, 5_000)
      )
      expect([refused.status, refused.message]).toEqual([
        "fail",
        expect.stringContaining("cannot deliver to http://127.0.0.1:9/webhooks/shop")
      ])
    } finally {
      await Promise.all([slow.close(), other.close()])
    }
  })
})
