/**
 * `tkbridge doctor` against the TikTok Shop, Shopify and 4PX sandboxes (and the Memory platform as
 * the ERP), as a seller goes through it: `init`, edit the starter with the shops' connections, the
 * pool, the flows, the public URL and its certificate; store the grants `tkbridge auth` would; `run`;
 * then `doctor` passes — TLS chain, signed webhook self-tests through the running runner, every
 * grant's expiry and scopes, the store and the quotas. Served with a certificate that expires in
 * five days, doctor warns about it and still passes.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parse, stringify } from "yaml"
import * as ConfigLoader from "../src/ConfigLoader.ts"
import * as DemoWorld from "../src/DemoWorld.ts"
import { freePort, start, tempDir, tkbridge, waitForPort } from "./support/Cli.ts"
import type { TestPki } from "./support/TestCerts.ts"
import { makePki } from "./support/TestCerts.ts"

const { names } = DemoWorld

interface DoctorJson {
  readonly ok: boolean
  readonly checks: ReadonlyArray<{ area: string; subject?: string; status: string; message: string }>
}

const catalogue: DemoWorld.Catalogue = {
  items: [{ sku: "MUG", title: "Mug", stock: 20 }],
  tiktok: [{ sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }],
  shopify: [{ sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] }]
}

let pki: TestPki
let platforms: DemoWorld.Platforms

beforeAll(async () => {
  pki = makePki()
  platforms = await DemoWorld.startPlatforms({ catalogue, seed: 17 })
})

afterAll(async () => {
  await platforms?.close()
})

/**
 * The starter config edited as a seller would for these platforms: the connections, pool and flows
 * the demo writes for them (secrets as `${ENV}` references), the port, the public URL and the TLS files.
 */
const edit = (starter: string, port: number, tls: { readonly cert: string; readonly key: string }) => {
  const written = DemoWorld.config(platforms, { port })
  const demo = parse(written.yaml) as Record<string, unknown>
  const section = (key: string) => stringify({ [key]: demo[key] })
  const yaml = starter
    .replace("  port: 8787\n", `  port: ${port}\n  host: 127.0.0.1\n`)
    .replace("  # publicUrl: https://sync.example.com\n", `  publicUrl: https://localhost:${port}\n`)
    .replace("  # tls:\n", `  tls:\n    cert: ${tls.cert}\n    key: ${tls.key}\n  # tls:\n`)
    .replace("connections: {}\n", section("connections"))
    .replace("# What moves where.\n", `${section("pool")}\n# What moves where.\n`)
    .replace("flows: {}\n", section("flows"))
  return { yaml, env: written.env }
}

const doctor = async (dir: string, env: Readonly<Record<string, string>>) => {
  const result = await tkbridge(dir, ["doctor", "--json"], { ...env, NODE_EXTRA_CA_CERTS: pki.rootCert })
  return { result, report: JSON.parse(result.stdout) as DoctorJson }
}

describe("tkbridge doctor against the sandboxes", () => {
  it("init → edit → run → doctor passes for TikTok Shop, Shopify, 4PX and the ERP; a certificate expiring in days warns and still passes", async () => {
    const dir = tempDir("tkbridge-doctor-")
    expect((await tkbridge(dir, ["init"])).code).toBe(0)
    const file = Path.join(dir, "tkbridge.yaml")
    const starter = Fs.readFileSync(file, "utf8")
    const port = await freePort()
    const { yaml, env } = edit(starter, port, { cert: pki.fullChain, key: pki.leafKey })
    Fs.writeFileSync(file, yaml)
    expect((await tkbridge(dir, ["config", "check"], env)).code).toBe(0)

    // The grants `tkbridge auth` would store, in the starter's store (./data/tkbridge.db).
    const loaded = await Effect.runPromise(ConfigLoader.load(file, { env: { ...process.env, ...env } }))
    await Effect.runPromise(DemoWorld.saveGrants(loaded, platforms))

    const serve = async () => {
      const runner = start(dir, ["run"], { ...env, NODE_EXTRA_CA_CERTS: "" })
      await waitForPort(port)
      return runner
    }

    let runner = await serve()
    try {
      const { result, report } = await doctor(dir, env)
      expect(
        report.checks.filter((c) => c.status === "fail"),
        result.stdout
      ).toEqual([])
      expect(result.code, result.stdout).toBe(0)
      expect(report.ok).toBe(true)
      const of = (area: string, subject?: string) =>
        report.checks.find((c) => c.area === area && (subject === undefined || c.subject === subject))
      expect(of("store")).toMatchObject({ status: "pass" })
      expect(of("tls")).toMatchObject({
        status: "pass",
        message: expect.stringMatching(/chain localhost → tkbridge Test Intermediate CA → tkbridge Test Root CA/)
      })
      // The channels deliver webhooks: the signed self-test reached the runner for each.
      for (const channel of [names.tiktok, names.shopify]) {
        expect(of("webhook", channel), channel).toMatchObject({ status: "pass" })
      }
      // Every OAuth grant is valid; 4PX runs on an API key.
      for (const connection of [names.tiktok, names.shopify, names.erp]) {
        expect(of("token", connection), connection).toMatchObject({
          status: "pass",
          message: expect.stringContaining("access token valid until")
        })
        expect(["pass", "warn"], connection).toContain(of("scopes", connection)?.status)
      }
      expect(of("token", names.fourpx)).toMatchObject({ status: "skip" })
      expect(of("quota", names.tiktok)).toMatchObject({ status: "pass", message: expect.stringContaining("of 50000") })

      const human = await tkbridge(dir, ["doctor"], { ...env, NODE_EXTRA_CA_CERTS: pki.rootCert })
      expect(human.code, human.stdout).toBe(0)
      expect(human.stdout).toMatch(new RegExp(`✓ webhook\\s+${names.tiktok}\\s+https://localhost:${port}/webhooks/`))
      // No secret reaches the report.
      for (const secret of Object.values(env)) expect(result.stdout + human.stdout).not.toContain(secret)
    } finally {
      expect(await runner.stop(), runner.output()).toBe(0)
    }

    // The same runner served with a certificate that expires in five days: a warning, not a failure.
    Fs.writeFileSync(file, edit(starter, port, { cert: pki.soonChain, key: pki.soonKey }).yaml)
    runner = await serve()
    try {
      const { result, report } = await doctor(dir, env)
      expect(result.code, result.stdout).toBe(0)
      expect(report.ok).toBe(true)
      const tls = report.checks.filter((c) => c.area === "tls")
      expect(tls, result.stdout).toEqual([
        expect.objectContaining({
          status: "warn",
          message: expect.stringMatching(/certificate "localhost" expires in [45] days \(.+\) — renew it/)
        })
      ])
      expect(report.checks.filter((c) => c.status === "fail")).toEqual([])
      const human = await tkbridge(dir, ["doctor"], { ...env, NODE_EXTRA_CA_CERTS: pki.rootCert })
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(/! tls\s+.*expires in [45] days/)
      expect(human.stdout).toMatch(/\d+ passed, \d+ warnings?/)
    } finally {
      expect(await runner.stop(), runner.output()).toBe(0)
    }
  })
})
