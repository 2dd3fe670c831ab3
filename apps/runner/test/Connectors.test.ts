// biome-ignore-all lint/suspicious/noTemplateCurlyInString: tkbridge.yaml's own ${ENV} syntax
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ConfigLoader from "../src/ConfigLoader.ts"
import * as Connectors from "../src/Connectors.ts"

const load = (text: string, env: Record<string, string> = {}) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkbridge-conn-"))
  const file = Path.join(dir, "tkbridge.yaml")
  Fs.writeFileSync(file, text)
  return Effect.runPromise(Effect.either(ConfigLoader.load(file, { env })))
}

const tiktok = `connections:
  tiktok-uk:
    connector: tiktok-shop
    config:
      appKey: \${TT_KEY}
      appSecret: \${TT_SECRET}
flows:
  orders:
    - from: tiktok-uk
  afterSales:
    from: tiktok-uk
`

describe("Connectors", () => {
  it("loads a first-party connector, decodes its config with its own schema and derives the scopes the flows need", async () => {
    const r = await load(tiktok, { TT_KEY: "key", TT_SECRET: "shh-secret" })
    if (r._tag === "Left") throw new Error(String(r.left.message))
    const c = r.right.connections.get("tiktok-uk")!
    expect(c.loaded.connector.manifest.id).toBe("tiktok-shop")
    expect(c.capabilities).toEqual(expect.arrayContaining(["orders.pull", "orders.webhook", "aftersales.webhook"]))
    expect(c.neededScopes).toEqual(["Order Information", "Return & Refund Basic"])
    expect(r.right.literalSecrets).toEqual([])
  })

  it("positions the connector's own config errors and flows the connector cannot serve", async () => {
    const text = tiktok
      .replace("      appSecret: ${TT_SECRET}\n", "      region: mars\n")
      .replace("    - from: tiktok-uk\n", "    - from: tiktok-uk\n      fulfilment: tiktok-uk\n")
    const r = await load(text, { TT_KEY: "key" })
    if (r._tag === "Right" || r.left._tag !== "ConfigInvalid") throw new Error("accepted a bad connector config")
    const issues = r.left.issues.map((i) => `${i.line}:${i.column} ${ConfigLoader.formatPath(i.path)} ${i.message}`)
    expect(issues).toEqual(
      expect.arrayContaining([
        "4:5 connections.tiktok-uk.config.appSecret is missing",
        expect.stringMatching(/^6:7 connections\.tiktok-uk\.config\.region is unexpected/)
      ])
    )
  })

  it("names a partner package that is not installed", async () => {
    const r = await load('connections:\n  erp:\n    connector: "@acme/tkbridge-connector-nowhere"\n')
    if (r._tag === "Right" || r.left._tag !== "ConfigInvalid") throw new Error("accepted a missing package")
    expect(r.left.issues).toEqual([
      expect.objectContaining({
        line: 3,
        column: 5,
        message: expect.stringContaining("@acme/tkbridge-connector-nowhere")
      })
    ])
  })

  it("finds the connector a package exports, whatever the export style", () => {
    const connector = { manifest: { id: "x", capabilities: ["stock.push"] }, make: () => undefined }
    expect(Connectors.findConnector({ connector })).toEqual([connector])
    expect(
      Connectors.findConnector({ XConnector: { connector, manifest: connector.manifest, make: connector.make } })
    ).toEqual([connector])
    expect(Connectors.findConnector({ default: connector })).toEqual([connector])
    expect(Connectors.findConnector({ Other: { a: 1 } })).toEqual([])
  })
})
