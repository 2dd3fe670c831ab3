// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write tkbridge.yaml, whose ${ENV} syntax this is
/**
 * The built `tkbridge` binary against the memory connector's sandbox, as a seller would go through
 * it: `init`, edit the file, `auth` each connection through the OAuth redirect, `run`, and `doctor`
 * passing; then a shop re-authorized on a platform that grants fewer scopes than the flows need —
 * `auth` and `doctor` both fail naming the missing scope.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, start, tempDir, tkbridge, waitForPort } from "./support/Cli.ts"
import type { TestPki } from "./support/TestCerts.ts"
import { makePki } from "./support/TestCerts.ts"

interface DoctorJson {
  readonly ok: boolean
  readonly checks: ReadonlyArray<{ area: string; subject?: string; status: string; message: string }>
}

const secrets = { clientSecret: "memory-client-secret-1", webhookSecret: "memory-webhook-secret-1" }
let pki: TestPki
let full: MemorySandbox.MemorySandbox
let narrow: MemorySandbox.MemorySandbox

beforeAll(async () => {
  pki = makePki()
  full = await MemorySandbox.start({ clientId: "tkbridge", ...secrets })
  // A platform whose grants lack inventory:write, which stock publishing needs.
  narrow = await MemorySandbox.start({
    clientId: "tkbridge",
    ...secrets,
    scopes: ["orders:read", "catalog:read", "inventory:read", "fulfillments:write"]
  })
})

afterAll(async () => {
  await Promise.all([full?.close(), narrow?.close()])
})

const env = {
  MEM_CLIENT_SECRET: secrets.clientSecret,
  MEM_WEBHOOK_SECRET: secrets.webhookSecret,
  NODE_EXTRA_CA_CERTS: ""
}

const memory = (name: string, baseUrl: string) =>
  [
    `  ${name}:`,
    "    connector: memory",
    "    config:",
    `      baseUrl: ${baseUrl}`,
    "      clientId: tkbridge",
    "      clientSecret: ${MEM_CLIENT_SECRET}",
    "      webhookSecret: ${MEM_WEBHOOK_SECRET}"
  ].join("\n")

/** `tkbridge auth <connection>`, with the test playing the seller who opens the printed link. */
const authorize = async (dir: string, connection: string) => {
  const port = await freePort()
  const auth = start(dir, ["auth", connection, "--no-browser", "--redirect-uri", `http://127.0.0.1:${port}/callback`], {
    ...env,
    NODE_EXTRA_CA_CERTS: pki.rootCert
  })
  let link: string | undefined
  for (let i = 0; i < 200 && link === undefined; i++) {
    link = /^\s+(http\S+\/oauth\/authorize\S+)$/m.exec(auth.output())?.[1]
    if (link === undefined) await new Promise((r) => setTimeout(r, 50))
  }
  expect(link, auth.output()).toBeDefined()
  const page = await fetch(link!)
  expect(page.status).toBe(200)
  const code = await new Promise<number | null>((resolve) => {
    if (auth.child.exitCode !== null) resolve(auth.child.exitCode)
    else auth.child.once("close", resolve)
  })
  return { code, output: auth.output() }
}

describe("tkbridge against the memory sandbox", () => {
  it("init → edit → auth → run → doctor passes; auth beside the running runner resumes it; a narrower grant fails auth and doctor with the missing scope", async () => {
    const dir = tempDir()
    expect((await tkbridge(dir, ["init"])).code).toBe(0)
    const file = Path.join(dir, "tkbridge.yaml")
    const port = await freePort()
    const config = (shopUrl: string) =>
      Fs.readFileSync(Path.join(dir, "tkbridge.yaml.orig"), "utf8")
        .replace("  port: 8787\n", `  port: ${port}\n`)
        .replace("  # publicUrl: https://sync.example.com\n", `  publicUrl: https://localhost:${port}\n`)
        .replace("  # tls:\n", `  tls:\n    cert: ${pki.fullChain}\n    key: ${pki.leafKey}\n  # tls:\n`)
        .replace(
          "connections: {}\n",
          `connections:\n${memory("warehouse", full.server.url)}\n${memory("shop", shopUrl)}\npool:\n  items: { from: warehouse }\n`
        )
        .replace(
          "flows: {}\n",
          "flows:\n  orders:\n    - from: shop\n  stock:\n    source: warehouse\n    channels: [shop]\n"
        )
    Fs.copyFileSync(file, Path.join(dir, "tkbridge.yaml.orig"))
    Fs.writeFileSync(file, config(full.server.url))

    const warehouse = await authorize(dir, "warehouse")
    expect(warehouse.code, warehouse.output).toBe(0)
    expect(warehouse.output).toContain("warehouse authorized")
    const shop = await authorize(dir, "shop")
    expect(shop.code, shop.output).toBe(0)
    // The platform saw one code exchange per connection, with our redirect URI.
    expect(full.server.requestsTo("oauth.token").filter((r) => r.text.includes("authorization_code"))).toHaveLength(2)

    const runner = start(dir, ["run"], env)
    try {
      await waitForPort(port)
      const doctor = await tkbridge(dir, ["doctor", "--json"], { ...env, NODE_EXTRA_CA_CERTS: pki.rootCert })
      const report = JSON.parse(doctor.stdout) as DoctorJson
      expect(
        report.checks.filter((c) => c.status === "fail"),
        doctor.stdout
      ).toEqual([])
      expect(doctor.code).toBe(0)
      const of = (area: string, subject: string) => report.checks.find((c) => c.area === area && c.subject === subject)
      expect(of("token", "shop")).toMatchObject({
        status: "pass",
        message: expect.stringContaining("access token valid until")
      })
      expect(of("webhook", "shop")).toMatchObject({ status: "pass" })
      // `auth` asked for the scopes the flows use and no more, so the grant is neither short nor over-scoped.
      expect(of("scopes", "shop")).toMatchObject({
        status: "pass",
        message: expect.stringContaining("granted exactly what the flows need")
      })
      const link = /^\s+(http\S+\/oauth\/authorize\S+)$/m.exec(shop.output)![1]!
      const asked = (new URL(link).searchParams.get("scope") ?? "").split(" ").sort()
      const needed = /need \((.*)\)/.exec(of("scopes", "shop")!.message)![1]!.split(", ").sort()
      expect(asked).toEqual(needed)

      // Authorizing again beside the running runner tells it, so the shop's held work goes now.
      const again = await authorize(dir, "shop")
      expect(again.code, again.output).toBe(0)
      expect(again.output).toContain("the running tkbridge resumed shop")

      Fs.writeFileSync(file, config(narrow.server.url))
      const reauth = await authorize(dir, "shop")
      expect(reauth.code).toBe(1)
      expect(reauth.output).toContain("under-scoped: the grant lacks inventory:write (for stock.push)")
      const after = await tkbridge(dir, ["doctor"], { ...env, NODE_EXTRA_CA_CERTS: pki.rootCert })
      expect(after.code).toBe(1)
      expect(after.stdout).toMatch(
        /✗ scopes\s+shop\s+under-scoped: the grant lacks inventory:write \(for stock\.push\)/
      )
    } finally {
      await runner.stop()
    }
    expect(runner.output()).not.toContain(secrets.clientSecret)
  })
})
