/**
 * DemoWorld: the platforms of `tkbridge demo`, the end-to-end test and `bench:e2e`, all local — a
 * TikTok Shop, a Shopify shop and 4PX from the connectors' sandboxes, and a Memory platform standing
 * in for the seller's ERP (the stock source and the pool's items). It seeds one catalogue across
 * them, writes the `tkbridge.yaml` a seller would write for them (secrets as `${ENV}` references,
 * their values returned separately), stores each platform's grant as `tkbridge auth` would, and
 * subscribes every platform's webhooks to the runner.
 *
 * Nothing here touches the runner's internals: the runner under test reads the config file and the
 * store like any `tkbridge run`.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { MemoryFakeChannel, MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import { ShopifySandbox } from "@tkbridge/connector-shopify/sandbox"
import { TikTokShopSandbox } from "@tkbridge/connector-tiktok-shop/sandbox"
import type { AccessToken } from "@tkbridge/core"
import { Effect, Option } from "effect"
import { stringify } from "yaml"
import type { LoadedConfig } from "./ConfigLoader.ts"
import * as StoreWiring from "./StoreWiring.ts"

/** The connection names the demo config uses. */
export const names = { tiktok: "tiktok-uk", shopify: "shopify-main", fourpx: "4px", erp: "erp" } as const

/** A master item: its ERP SKU, title and stock. */
export interface DemoItem {
  readonly sku: string
  readonly title: string
  readonly stock: number
}

/** A channel SKU and the items one unit of it consumes. */
export interface DemoListing {
  readonly sku: string
  readonly title: string
  readonly components: ReadonlyArray<{ readonly item: string; readonly qty: number }>
}

/** The catalogue: items in the ERP, and what each channel sells. */
export interface Catalogue {
  readonly items: ReadonlyArray<DemoItem>
  readonly tiktok: ReadonlyArray<DemoListing>
  readonly shopify: ReadonlyArray<DemoListing>
}

const single = (prefix: string, item: string, title: string): DemoListing => ({
  sku: `${prefix}${item}`,
  title,
  components: [{ item, qty: 1 }]
})

/**
 * The demo's shop: mugs, teas and spoons sold on both channels, a tea set (a bundle) on TikTok, a
 * gift box (a bundle) and a six-pack of spoons (a multipack) on Shopify, and a limited lamp whose
 * last units both channels' shoppers race for. TikTok SKUs carry the `TT-` prefix, which pairing
 * strips. `scale` multiplies stock (the runner's rate and duration decide how much is sold).
 */
export const demoCatalogue = (scale = 1): Catalogue => {
  const items: ReadonlyArray<DemoItem> = [
    { sku: "MUG-RED", title: "Red mug", stock: 40 },
    { sku: "MUG-BLUE", title: "Blue mug", stock: 30 },
    { sku: "TEA-GREEN", title: "Green tea, 100 g", stock: 60 },
    { sku: "TEA-BLACK", title: "Black tea, 100 g", stock: 50 },
    { sku: "SPOON", title: "Tea spoon", stock: 90 },
    { sku: "LAMP-LTD", title: "Limited edition lamp", stock: 4 }
  ].map((i) => ({ ...i, stock: i.sku === "LAMP-LTD" ? i.stock : Math.ceil(i.stock * scale) }))
  const title = (sku: string) => items.find((i) => i.sku === sku)!.title
  return {
    items,
    tiktok: [
      ...["MUG-RED", "MUG-BLUE", "TEA-GREEN", "TEA-BLACK", "LAMP-LTD"].map((i) => single("TT-", i, title(i))),
      {
        sku: "TT-TEA-SET",
        title: "Tea set",
        components: [
          { item: "TEA-GREEN", qty: 1 },
          { item: "TEA-BLACK", qty: 1 },
          { item: "SPOON", qty: 2 }
        ]
      }
    ],
    shopify: [
      ...["MUG-RED", "MUG-BLUE", "TEA-GREEN", "SPOON", "LAMP-LTD"].map((i) => single("", i, title(i))),
      {
        sku: "GIFT-BOX",
        title: "Gift box",
        components: [
          { item: "MUG-RED", qty: 1 },
          { item: "TEA-GREEN", qty: 2 }
        ]
      },
      { sku: "SPOON-6", title: "Tea spoons, six-pack", components: [{ item: "SPOON", qty: 6 }] }
    ]
  }
}

/** A benchmark catalogue: `count` plain items sold on both channels, `stock` units each. */
export const plainCatalogue = (count: number, stock: number): Catalogue => {
  const items = Array.from({ length: count }, (_, i) => ({
    sku: `ITEM-${String(i + 1).padStart(3, "0")}`,
    title: `Item ${i + 1}`,
    stock
  }))
  return {
    items,
    tiktok: items.map((i) => single("TT-", i.sku, i.title)),
    shopify: items.map((i) => single("", i.sku, i.title))
  }
}

/** The running platforms. */
export interface Platforms {
  readonly tiktok: TikTokShopSandbox.TikTokShopSandbox
  readonly shopify: ShopifySandbox.ShopifySandbox
  readonly fourpx: FourPxSandbox.FourPxSandbox
  readonly erp: MemorySandbox.MemorySandbox
  readonly catalogue: Catalogue
  readonly close: () => Promise<void>
}

/** Starts the four platforms and seeds the catalogue (channels start at 0: the runner publishes the pool). */
export const startPlatforms = async (options: {
  readonly catalogue: Catalogue
  readonly seed?: number | undefined
}): Promise<Platforms> => {
  const seed = options.seed ?? 1
  const started: Array<{ close: () => Promise<void> }> = []
  try {
    const tiktok = await TikTokShopSandbox.start({
      shops: [{ name: "Demo UK", region: "GB" }],
      // Orders are ready to ship at once (TikTok holds paid orders for a buyer-remorse hour).
      remorseWindowMs: 0,
      webhookRetrySchedule: [2_000, 10_000, 60_000]
    })
    started.push(tiktok)
    const shopify = await ShopifySandbox.start({
      shop: "tkbridge-demo.myshopify.com",
      plan: "advanced",
      webhooks: { retryScheduleMs: [2_000, 10_000, 60_000] }
    })
    started.push(shopify)
    const fourpx = await FourPxSandbox.start({ seed, labelDelayMs: 500, autoAdvance: false })
    started.push(fourpx)
    const erp = await MemorySandbox.start({ name: "erp", rateLimit: false })
    started.push(erp)
    const { catalogue } = options
    erp.seedItems(catalogue.items.map((i) => ({ sku: i.sku, title: i.title, stock: { "WH-1": i.stock } })))
    for (const l of catalogue.tiktok) tiktok.addProduct({ title: l.title, skus: [{ sellerSku: l.sku, stock: 0 }] })
    for (const l of catalogue.shopify) {
      shopify.addProduct({ title: l.title, variants: [{ sku: l.sku, stock: 0 }] })
    }
    return {
      tiktok,
      shopify,
      fourpx,
      erp,
      catalogue,
      close: async () => {
        await Promise.allSettled(started.map((s) => s.close()))
      }
    }
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.close()))
    throw error
  }
}

/** A port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const secretKeys = new Set(["appSecret", "clientSecret", "webhookSecret", "previousClientSecret"])

/** Replaces secret values of a connector config by `${ENV}` references, collecting their values. */
const withEnvSecrets = (connection: string, config: object, env: Record<string, string>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(config).map(([k, v]) => {
      if (secretKeys.has(k) && typeof v === "string") {
        const name = `TKB_DEMO_${connection}_${k}`.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()
        env[name] = v
        return [k, `\${${name}}`]
      }
      return [k, v]
    })
  )

/** How the runner is set up over the platforms. */
export interface ConfigOptions {
  readonly port: number
  /** Relative to the config's folder (default `tkbridge.db`). */
  readonly store?: string | undefined
  /** Ship orders through 4PX and write tracking back (default true). */
  readonly fulfilment?: boolean | undefined
  /** Stock source poll interval (default 1h: the ERP is read at start; shipments lower the pool). */
  readonly pollEvery?: string | undefined
  /** Order reconciliation interval (default 1m). */
  readonly reconcileEvery?: string | undefined
  /** The pool's last-units rule and Shopify's safety buffer (default: on). */
  readonly guards?: boolean | undefined
}

/** The config a seller would write for these platforms, and the environment holding its secrets. */
export const config = (
  platforms: Platforms,
  options: ConfigOptions
): { readonly yaml: string; readonly env: Readonly<Record<string, string>> } => {
  const env: Record<string, string> = {}
  const { catalogue } = platforms
  const explicit = (listings: ReadonlyArray<DemoListing>) =>
    Object.fromEntries(
      listings
        .filter((l) => l.components.length > 1 || l.components[0]!.qty > 1)
        .map((l) => [l.sku, l.components.map((c) => ({ item: c.item, qty: c.qty }))])
    )
  const guards = options.guards ?? true
  const document = {
    store: `sqlite:./${options.store ?? "tkbridge.db"}`,
    server: { port: options.port, host: "127.0.0.1" },
    connections: {
      [names.tiktok]: {
        connector: "tiktok-shop",
        plan: "basic",
        config: withEnvSecrets(names.tiktok, platforms.tiktok.connectorConfig(), env)
      },
      [names.shopify]: {
        connector: "shopify",
        config: withEnvSecrets(names.shopify, platforms.shopify.config(), env)
      },
      [names.fourpx]: {
        connector: "4px",
        config: withEnvSecrets(names.fourpx, platforms.fourpx.connectorConfig(), env)
      },
      [names.erp]: {
        connector: "memory",
        displayName: "ERP (Memory platform)",
        config: withEnvSecrets(names.erp, platforms.erp.connectorConfig(), env)
      }
    },
    pool: {
      items: { from: names.erp },
      pairing: {
        ignorePrefixes: ["TT-"],
        map: { [names.tiktok]: explicit(catalogue.tiktok), [names.shopify]: explicit(catalogue.shopify) }
      },
      ...(guards
        ? {
            channels: { [names.shopify]: { safetyBuffer: 1 } },
            lastUnits: { threshold: 4, channel: names.tiktok }
          }
        : {})
    },
    flows: {
      orders: [
        {
          from: [names.tiktok, names.shopify],
          ...(options.fulfilment === false ? {} : { fulfilment: names.fourpx, trackingBack: true })
        }
      ],
      stock: {
        source: names.erp,
        channels: [names.tiktok, names.shopify],
        pollEvery: options.pollEvery ?? "1h"
      },
      reconcile: { every: options.reconcileEvery ?? "1m" }
    }
  }
  return {
    yaml: `# Written by tkbridge demo: every platform below is a local sandbox.\n${stringify(document)}`,
    env
  }
}

/** Writes the config into `dir` and returns its path. */
export const writeConfig = (dir: string, yaml: string): string => {
  const file = Path.join(dir, "tkbridge.yaml")
  Fs.writeFileSync(file, yaml)
  return file
}

/** The grant each OAuth connection holds, issued by its platform as after `tkbridge auth`. */
export const grants = (platforms: Platforms): ReadonlyArray<readonly [string, AccessToken.TokenSet]> => [
  [names.tiktok, platforms.tiktok.issueTokenSet()],
  [names.shopify, platforms.shopify.issueToken()],
  [names.erp, MemoryFakeChannel.tokenSetOf(platforms.erp)]
]

/** Stores the grants in the config's store (creating and migrating it), as `tkbridge auth` does. */
export const saveGrants = (loaded: LoadedConfig, platforms: Platforms) =>
  Effect.scoped(
    Effect.gen(function* () {
      const state = yield* StoreWiring.state(loaded, "write")
      if (Option.isNone(state)) return
      for (const [connection, tokens] of grants(platforms)) yield* state.value.saveToken(connection, tokens)
    })
  )

/** Points the channels' webhooks at the runner (the ERP is read, not listened to). */
export const subscribe = (platforms: Platforms, baseUrl: string): void => {
  platforms.tiktok.subscribe(`${baseUrl}/webhooks/${names.tiktok}`)
  platforms.shopify.subscribe(`${baseUrl}/webhooks/${names.shopify}`)
}
