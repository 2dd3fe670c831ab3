/**
 * The `tkbridge` binary as a seller uses it: `init`, edit the file, `doctor` against a running
 * `tkbridge run`, and the failures doctor must explain — a config error (key and line), an expired
 * certificate, an incomplete chain, a self-signed certificate and a sixth app on one licence.
 * Certificates come from a throwaway PKI made with `openssl` in the test; the root is trusted
 * through NODE_EXTRA_CA_CERTS, as a company CA would be.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write tkbridge.yaml, whose ${ENV} syntax this is
import * as Fs from "node:fs"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, installFixtureConnector, start, tempDir, tkbridge, waitForPort } from "./support/Cli.ts"
import type { TestPki } from "./support/TestCerts.ts"
import { makePki } from "./support/TestCerts.ts"

interface DoctorJson {
  readonly ok: boolean
  readonly checks: ReadonlyArray<{ area: string; subject?: string; status: string; message: string }>
}

let pki: TestPki
const servers: Array<Https.Server> = []

beforeAll(() => {
  pki = makePki()
})

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
})

/** Serves `cert`/`key` on a loopback HTTPS port, answering 404 to everything. */
const serveTls = (cert: string, key: string): Promise<number> =>
  new Promise((resolve) => {
    const server = Https.createServer({ cert: Fs.readFileSync(cert), key: Fs.readFileSync(key) }, (_req, res) => {
      res.writeHead(404).end()
    })
    servers.push(server)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
  })

/** The starter config, edited as a seller would: two connections, the public URL, TLS, a licence, the pool and flows. */
const edit = (starter: string, options: { port: number; publicPort?: number; tls?: boolean }) =>
  starter
    .replace("  port: 8787\n", `  port: ${options.port}\n`)
    .replace(
      "  # publicUrl: https://sync.example.com\n",
      `  publicUrl: https://localhost:${options.publicPort ?? options.port}\n`
    )
    .replace(
      "  # tls:\n",
      options.tls === false ? "  # tls:\n" : `  tls:\n    cert: ${pki.fullChain}\n    key: ${pki.leafKey}\n  # tls:\n`
    )
    .replace(
      "# licences:\n",
      'licences:\n  "91440300MA5TEST001":\n    name: Test Trading Co.\n    otherApps: [Dianxiaomi, Mabang, Tongtool, Feishu]\n# licences:\n'
    )
    .replace(
      "connections: {}\n",
      [
        "connections:",
        "  warehouse:",
        "    connector: tkbridge-connector-fixture",
        "    config:",
        "      apiKey: ${FIXTURE_KEY}",
        "  shop:",
        "    connector: tkbridge-connector-fixture",
        '    licence: "91440300MA5TEST001"',
        "    plan: basic",
        "    config:",
        "      apiKey: ${FIXTURE_KEY}",
        "      region: eu",
        "pool:",
        "  items: { from: warehouse }",
        ""
      ].join("\n")
    )
    .replace(
      "flows: {}\n",
      "flows:\n  orders:\n    - from: shop\n  stock:\n    source: warehouse\n    channels: [shop]\n"
    )

const env = (extra: Record<string, string> = {}) => ({
  FIXTURE_KEY: "fixture-key-123456",
  NODE_EXTRA_CA_CERTS: pki.rootCert,
  ...extra
})

describe("tkbridge CLI", () => {
  it("init writes a starter config, refuses to overwrite it, and doctor passes once it is edited and run serves", async () => {
    const dir = tempDir()
    const first = await tkbridge(dir, ["init"])
    expect(first.code).toBe(0)
    const file = Path.join(dir, "tkbridge.yaml")
    const starter = Fs.readFileSync(file, "utf8")
    expect(starter).toContain("store: sqlite:./data/tkbridge.db")
    expect((await tkbridge(dir, ["config", "check"])).code).toBe(0)

    Fs.writeFileSync(file, "# mine\n")
    const again = await tkbridge(dir, ["init"])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("already exists")
    expect(Fs.readFileSync(file, "utf8")).toBe("# mine\n")
    expect((await tkbridge(dir, ["init", "--force"])).code).toBe(0)
    expect(Fs.readFileSync(file, "utf8")).toBe(starter)

    installFixtureConnector(dir)
    const port = await freePort()
    Fs.writeFileSync(file, edit(starter, { port }))
    const runner = start(dir, ["run"], env())
    try {
      await waitForPort(port)
      const doctor = await tkbridge(dir, ["doctor", "--json"], env())
      const report = JSON.parse(doctor.stdout) as DoctorJson
      const failed = report.checks.filter((c) => c.status === "fail")
      expect(failed, doctor.stdout).toEqual([])
      expect(doctor.code).toBe(0)
      const byArea = (area: string) => report.checks.filter((c) => c.area === area)
      expect(byArea("tls")[0]?.message).toContain("tkbridge Test Intermediate CA")
      expect(byArea("webhook")).toEqual([expect.objectContaining({ subject: "shop", status: "pass" })])
      expect(byArea("licence")).toEqual([
        expect.objectContaining({ status: "pass", message: expect.stringContaining("5 of 5") })
      ])
      // The secret never reaches the report.
      expect(doctor.stdout).not.toContain("fixture-key-123456")

      const human = await tkbridge(dir, ["doctor"], env())
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(
        /✓ tls\s+localhost:\d+: chain localhost → tkbridge Test Intermediate CA → tkbridge Test Root CA/
      )
    } finally {
      await runner.stop()
    }
    expect(runner.output()).not.toContain("fixture-key-123456")
  })

  it("a config error names the key, the line and the column; a missing variable is named", async () => {
    const dir = tempDir()
    installFixtureConnector(dir)
    await tkbridge(dir, ["init"])
    const file = Path.join(dir, "tkbridge.yaml")
    const text = edit(Fs.readFileSync(file, "utf8"), { port: 8787 }).replace("    plan: basic\n", "    plan: gold\n")
    Fs.writeFileSync(file, text)
    const line = text.split("\n").indexOf("    plan: gold") + 1

    const bad = await tkbridge(dir, ["doctor"], env())
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      `tkbridge.yaml:${line}:5  connections.shop.plan  Expected "basic" | "enterprise", actual "gold"`
    )

    const json = await tkbridge(dir, ["doctor", "--json"], env())
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout).error.issues).toEqual([
      {
        path: ["connections", "shop", "plan"],
        line,
        column: 5,
        message: 'Expected "basic" | "enterprise", actual "gold"'
      }
    ])

    Fs.writeFileSync(file, text.replace("plan: gold", "plan: basic"))
    const missing = await tkbridge(dir, ["doctor"], { NODE_EXTRA_CA_CERTS: pki.rootCert, FIXTURE_KEY: "" })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("connections.warehouse.config.apiKey  environment variable FIXTURE_KEY is not set")
  })

  it("doctor fails with the reason on an expired certificate, an incomplete chain and a self-signed certificate", async () => {
    const cases = [
      { name: "expired", cert: pki.expiredChain, key: pki.expiredKey, expect: /certificate expired on \d{4}-/ },
      {
        name: "incomplete",
        cert: pki.leafCert,
        key: pki.leafKey,
        expect:
          /incomplete certificate chain: the server does not send the intermediate certificate that issued "localhost" \(issuer "tkbridge Test Intermediate CA"\)/
      },
      {
        name: "self-signed",
        cert: pki.selfSignedCert,
        key: pki.selfSignedKey,
        expect: /self-signed certificate refused/
      }
    ]
    const results = await Promise.all(
      cases.map(async (c) => {
        const publicPort = await serveTls(c.cert, c.key)
        const dir = tempDir()
        installFixtureConnector(dir)
        await tkbridge(dir, ["init"])
        const file = Path.join(dir, "tkbridge.yaml")
        Fs.writeFileSync(file, edit(Fs.readFileSync(file, "utf8"), { port: 8787, publicPort, tls: false }))
        return { c, result: await tkbridge(dir, ["doctor", "--json"], env()) }
      })
    )
    for (const { c, result } of results) {
      expect(result.code, c.name).toBe(1)
      const report = JSON.parse(result.stdout) as DoctorJson
      const tls = report.checks.filter((x) => x.area === "tls" && x.status === "fail")
      expect(tls.map((x) => x.message).join("\n"), c.name).toMatch(c.expect)
    }
  })

  it("doctor fails on a sixth app bound to one business licence", async () => {
    const dir = tempDir()
    installFixtureConnector(dir)
    await tkbridge(dir, ["init"])
    const file = Path.join(dir, "tkbridge.yaml")
    const text = edit(Fs.readFileSync(file, "utf8"), { port: 8787, tls: false }).replace(
      "    connector: tkbridge-connector-fixture\n    config:\n      apiKey: ${FIXTURE_KEY}\n",
      '    connector: tkbridge-connector-fixture\n    licence: "91440300MA5TEST001"\n    app: acme-erp-bridge\n    config:\n      apiKey: ${FIXTURE_KEY}\n'
    )
    Fs.writeFileSync(file, text)
    const result = await tkbridge(dir, ["doctor", "--json", "--timeout", "2"], env())
    expect(result.code).toBe(1)
    const licence = (JSON.parse(result.stdout) as DoctorJson).checks.filter((c) => c.area === "licence")
    expect(licence).toEqual([
      expect.objectContaining({
        subject: "91440300MA5TEST001",
        status: "fail",
        message: expect.stringContaining("6 apps bound to business licence 91440300MA5TEST001")
      })
    ])
    expect(licence[0]?.message).toContain("at most 5")
  })
})
