/**
 * The operator commands a seller reaches for when something went wrong, run as the built binary:
 *
 * - `init --json` answers with one JSON document (and nothing else on stdout), also when it refuses;
 * - `dlq show --json` gives one letter's whole context (the redacted request, the platform's answer,
 *   the attempts, the source row) without a secret;
 * - `dlq discard` drops a letter through the running runner, and with no runner through the store
 *   itself; the letter stays listed with its reason, a replay does not revive it, a second discard
 *   changes nothing, and an unknown id or an empty reason fail with their exit code;
 * - `audit` shows the operator's discard with its reason and the refused writes, filtered by kind,
 *   action, connection, subject and age, for people and as JSON.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DemoWorld from "../src/DemoWorld.ts"
import { tempDir, tkbridge } from "./support/Cli.ts"
import { eventually, launch } from "./support/Runner.ts"

const { names } = DemoWorld

const catalogue: DemoWorld.Catalogue = {
  items: [
    { sku: "MUG", title: "Mug", stock: 20 },
    { sku: "TEA", title: "Tea", stock: 30 }
  ],
  tiktok: [
    { sku: "TT-MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] },
    { sku: "TT-TEA", title: "Tea", components: [{ item: "TEA", qty: 1 }] }
  ],
  shopify: [
    { sku: "MUG", title: "Mug", components: [{ item: "MUG", qty: 1 }] },
    { sku: "TEA", title: "Tea", components: [{ item: "TEA", qty: 1 }] }
  ]
}

const shippingAddress = {
  firstName: "Grace",
  lastName: "Wilson",
  phone: "+447700900004",
  address1: "9 Mill Lane",
  city: "Cardiff",
  provinceCode: "Wales",
  zip: "CF10 1EP",
  countryCode: "GB"
}

interface Letter {
  readonly id: number
  readonly connection: string
  readonly kind: string
  readonly key: string
  readonly reason: string
  readonly status: string
  readonly message: string
  readonly discardReason?: string
  readonly exchange?: {
    readonly curl: string
    readonly status?: number
    readonly responseBody?: string
  }
  readonly history: ReadonlyArray<{ readonly message: string }>
  readonly source?: unknown
}

interface AuditEntry {
  readonly id: number
  readonly kind: string
  readonly connection?: string
  readonly subject?: string
  readonly action: string
  readonly outcome?: string
  readonly detail?: Record<string, unknown>
}

let platforms: DemoWorld.Platforms

beforeAll(async () => {
  platforms = await DemoWorld.startPlatforms({ catalogue, seed: 19 })
})

afterAll(async () => {
  await platforms?.close()
})

describe("tkbridge init --json", () => {
  it("answers with one JSON document, writes the file (and its folders), and refuses to overwrite it", async () => {
    const dir = tempDir()
    const first = await tkbridge(dir, ["init", "--json", "--config", "conf/shop.yaml"])
    expect(first.code, first.stderr).toBe(0)
    const file = Path.join(Fs.realpathSync(dir), "conf", "shop.yaml")
    expect(JSON.parse(first.stdout)).toEqual({ ok: true, file })
    expect(Fs.readFileSync(file, "utf8")).toContain("store: sqlite:./data/tkbridge.db")

    Fs.writeFileSync(file, "# mine\n")
    const again = await tkbridge(dir, ["init", "--json", "--config", "conf/shop.yaml"])
    expect(again.code).toBe(1)
    // stdout stays parseable for scripts: nothing for people goes there.
    expect(again.stdout).toBe("")
    expect(again.stderr).toContain("already exists — pass --force to overwrite it")
    expect(Fs.readFileSync(file, "utf8")).toBe("# mine\n")

    const forced = await tkbridge(dir, ["init", "--json", "--force", "--config", "conf/shop.yaml"])
    expect(forced.code).toBe(0)
    expect(JSON.parse(forced.stdout)).toEqual({ ok: true, file })
  })
})

describe("dead letters and the audit trail, with and without the runner", () => {
  it("dlq show --json, dlq discard through the runner and through the store, audit with its filters", async () => {
    const { dir, port, env, runner } = await launch(platforms, { fulfilment: false, guards: false })
    let stopped = false
    const list = async (...args: ReadonlyArray<string>) => {
      const r = await tkbridge(dir, ["dlq", "list", "--json", ...args], env)
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { total: number; letters: ReadonlyArray<Letter> }
    }
    const audit = async (...args: ReadonlyArray<string>) => {
      const r = await tkbridge(dir, ["audit", "--json", "--limit", "1000", ...args], env)
      expect(r.code, r.stderr).toBe(0)
      return (JSON.parse(r.stdout) as { entries: ReadonlyArray<AuditEntry> }).entries
    }
    /** Refuses TikTok's stock writes, sells `sku` on Shopify, and answers the dead letter the refused write left. */
    const refusedPush = async (sku: string) => {
      platforms.tiktok.fault(
        "inventory.update",
        platforms.tiktok.tiktokError(12052901, { message: "The product is under review." })
      )
      platforms.shopify.placeOrder({ lines: [{ sku, quantity: 1 }], financialStatus: "PAID", shippingAddress })
      let letter: Letter | undefined
      await eventually(`the refused push of TT-${sku} is in the dead-letter queue`, async () => {
        letter = (await list()).letters.find((l) => l.key === `TT-${sku}`)
        return letter !== undefined
      })
      return letter!
    }
    try {
      DemoWorld.subscribe(platforms, `http://127.0.0.1:${port}`)
      await eventually(
        "both channels show the ERP's stock",
        () =>
          platforms.tiktok.stock("TT-MUG") === 20 &&
          platforms.tiktok.stock("TT-TEA") === 30 &&
          platforms.shopify.available("MUG") === 20 &&
          platforms.shopify.available("TEA") === 30
      )

      // One refused push, shown whole.
      const letter = await refusedPush("MUG")
      expect(letter).toMatchObject({ connection: names.tiktok, kind: "stock_push", key: "TT-MUG", reason: "rejected" })
      const shown = await tkbridge(dir, ["dlq", "show", String(letter.id), "--json"], env)
      expect(shown.code, shown.stderr).toBe(0)
      const full = JSON.parse(shown.stdout) as Letter
      expect(full).toMatchObject({ id: letter.id, connection: names.tiktok, status: "open", reason: "rejected" })
      expect(full.message).toContain("The product is under review.")
      expect(full.exchange?.curl).toMatch(/^curl .*inventory\/update/)
      expect(full.exchange?.responseBody).toContain("12052901")
      expect(full.history.length).toBeGreaterThan(0)
      expect(full.source).toBeDefined()
      for (const secret of Object.values(env)) {
        if (secret !== "") expect(shown.stdout).not.toContain(secret)
      }
      const missing = await tkbridge(dir, ["dlq", "show", "999999", "--json"], env)
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain("no dead letter 999999")

      // Discarded through the running runner: it stays listed with the reason and is not replayed.
      const blank = await tkbridge(dir, ["dlq", "discard", String(letter.id), "--reason", "  "], env)
      expect(blank.code).toBe(2)
      expect(blank.stderr).toContain("--reason must say why")
      const discard = await tkbridge(
        dir,
        ["dlq", "discard", String(letter.id), "--reason", "listing withdrawn from TikTok", "--json"],
        env
      )
      expect(discard.code, discard.stderr).toBe(0)
      expect(JSON.parse(discard.stdout)).toEqual({ via: "runner", outcomes: [{ id: letter.id, outcome: "discarded" }] })
      expect((await list()).total).toBe(0)
      expect((await list("--status", "discarded")).letters).toEqual([
        expect.objectContaining({ id: letter.id, status: "discarded" })
      ])
      const after = JSON.parse(
        (await tkbridge(dir, ["dlq", "show", String(letter.id), "--json"], env)).stdout
      ) as Letter
      expect(after).toMatchObject({ status: "discarded", discardReason: "listing withdrawn from TikTok" })
      const twice = await tkbridge(dir, ["dlq", "discard", String(letter.id), "--reason", "again"], env)
      expect(twice.code).toBe(0)
      expect(twice.stdout).toContain(`${letter.id}: already discarded`)
      const replay = await tkbridge(dir, ["dlq", "replay", String(letter.id), "--json"], env)
      expect(replay.code).toBe(0)
      expect((JSON.parse(replay.stdout) as { outcomes: ReadonlyArray<{ outcome: string }> }).outcomes).toEqual([
        expect.objectContaining({ id: letter.id, outcome: "discarded" })
      ])
      const unknown = await tkbridge(dir, ["dlq", "discard", "999999", "--reason", "typo"], env)
      expect(unknown.code).toBe(1)
      expect(unknown.stdout).toContain("999999: not found")
      expect(unknown.stderr).toBe("")

      // The audit trail: the operator's discard with its reason, and the refused write.
      const operator = await audit("--kind", "operator")
      expect(operator).toEqual([
        expect.objectContaining({
          kind: "operator",
          connection: names.tiktok,
          subject: `dead-letter:${letter.id}`,
          action: "dlq.discard",
          outcome: "discarded",
          detail: expect.objectContaining({ reason: "listing withdrawn from TikTok", key: "TT-MUG" })
        })
      ])
      expect(await audit("--listing", `dead-letter:${letter.id}`)).toEqual(operator)
      const refused = await audit("--action", "stock.push", "--connection", names.tiktok, "--since", "1h")
      expect(refused.length).toBeGreaterThan(0)
      const outcomes = JSON.stringify(refused)
      expect(
        refused.every((e) => e.action === "stock.push" && e.connection === names.tiktok),
        outcomes
      ).toBe(true)
      expect(
        refused.some((e) => e.subject === "TT-MUG" && e.outcome === "dead:Rejected"),
        outcomes
      ).toBe(true)
      expect(await audit("--since", "1h", "--kind", "write", "--connection", "nobody")).toEqual([])
      const people = await tkbridge(dir, ["audit", "--kind", "operator"], env)
      expect(people.code).toBe(0)
      expect(people.stdout).toMatch(/^ID\s+TIME\s+AGE\s+KIND\s+CONNECTION\s+SUBJECT\s+ACTION\s+OUTCOME\s+DETAIL/)
      expect(people.stdout).toMatch(
        new RegExp(`\\soperator\\s+${names.tiktok}\\s+dead-letter:${letter.id}\\s+dlq\\.discard\\s+discarded\\s`)
      )
      const badAge = await tkbridge(dir, ["audit", "--since", "soon"], env)
      expect(badAge.code).toBe(2)
      expect(badAge.stderr).toContain("--since soon: expected a duration such as 30m, 1h or 7d")

      // A second refused push; with the runner stopped, discard goes straight to the store.
      const second = await refusedPush("TEA")
      expect(second).toMatchObject({ connection: names.tiktok, key: "TT-TEA" })
      const code = await runner.stop()
      stopped = true
      expect(code, runner.output()).toBe(0)
      const offline = await tkbridge(
        dir,
        ["dlq", "discard", String(second.id), "--reason", "done by hand", "--json"],
        env
      )
      expect(offline.code, offline.stderr).toBe(0)
      expect(JSON.parse(offline.stdout)).toEqual({ via: "store", outcomes: [{ id: second.id, outcome: "discarded" }] })
      expect((await list()).total).toBe(0)
      expect((await audit("--kind", "operator")).map((e) => e.subject)).toEqual([
        `dead-letter:${second.id}`,
        `dead-letter:${letter.id}`
      ])
    } catch (error) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- runner output ---\n${runner.output()}`
      )
    } finally {
      platforms.tiktok.clearFaults("inventory.update")
      if (!stopped) await runner.stop()
    }
  })
})

describe("a discarded stock push", () => {
  // A discard gives up the number the push was writing, not the listing: its next change goes out.
  it("does not stop the listing's later changes from reaching the channel", async () => {
    const fresh = await DemoWorld.startPlatforms({ catalogue, seed: 23 })
    const { dir, port, env, runner } = await launch(fresh, { fulfilment: false, guards: false })
    try {
      DemoWorld.subscribe(fresh, `http://127.0.0.1:${port}`)
      await eventually(
        "both channels show the ERP's stock",
        () => fresh.tiktok.stock("TT-MUG") === 20 && fresh.shopify.available("MUG") === 20
      )
      fresh.tiktok.fault("inventory.update", fresh.tiktok.tiktokError(12052901, { message: "Under review." }))
      fresh.shopify.placeOrder({ lines: [{ sku: "MUG", quantity: 1 }], financialStatus: "PAID", shippingAddress })
      let id: number | undefined
      await eventually("the refused push is in the dead-letter queue", async () => {
        const r = await tkbridge(dir, ["dlq", "list", "--json"], env)
        id = (JSON.parse(r.stdout) as { letters: ReadonlyArray<Letter> }).letters[0]?.id
        return id !== undefined
      })
      const discard = await tkbridge(dir, ["dlq", "discard", String(id), "--reason", "review pending"], env)
      expect(discard.code, discard.stderr).toBe(0)

      // The review is over; the next sale must reach TikTok.
      fresh.tiktok.clearFaults("inventory.update")
      fresh.shopify.placeOrder({ lines: [{ sku: "MUG", quantity: 1 }], financialStatus: "PAID", shippingAddress })
      await eventually("Shopify shows 18 mugs", () => fresh.shopify.available("MUG") === 18)
      await eventually("TikTok shows 18 mugs", () => fresh.tiktok.stock("TT-MUG") === 18, 20_000)
    } finally {
      await runner.stop()
      await fresh.close()
    }
  })
})
