import { describe, expect, it } from "@effect/vitest"
import { Pairing } from "@tkbridge/core"
import { Either, Schema } from "effect"

const items = ["MUG-RED", "MUG-BLUE", "Lid", "LID", "TEA"]
const lookup =
  (rules: Pairing.PairingRules) =>
  (keys: ReadonlyArray<string>): ReadonlyArray<string> =>
    items.filter((id) => keys.includes(Pairing.matchKey(id, rules)))

const config = new Pairing.PairingConfig({
  explicit: [
    new Pairing.ExplicitPair({
      externalSku: "GIFT-BOX",
      components: [
        { item: "MUG-RED", qty: 1 },
        { item: "TEA", qty: 2 }
      ]
    }),
    new Pairing.ExplicitPair({
      connection: "shopify-main",
      externalSku: "GIFT-BOX",
      components: [{ item: "TEA", qty: 3 }]
    })
  ],
  rules: [
    new Pairing.PairingRules({
      connection: "tiktok-uk",
      ignorePrefixes: ["TT-", "TTUK-"],
      ignoreSuffixes: ["-UK"],
      packPatterns: ["^(?<sku>.+)\\*(?<qty>\\d+)$", "^(?<sku>.+)-(?<qty>\\d+)PK$"]
    }),
    new Pairing.PairingRules({ caseInsensitive: false })
  ]
})

const resolve = (connection: string, sku: string) =>
  Pairing.resolve(connection, sku, config, lookup(Pairing.rulesFor(config, connection)))

describe("Pairing", () => {
  it("pairs a SKU that is an item id exactly", () => {
    expect(resolve("tiktok-uk", "TEA")).toEqual({
      _tag: "Paired",
      components: [{ item: "TEA", qty: 1 }],
      by: "exact",
      rule: "exact"
    })
  })

  it("ignores the configured prefixes and suffixes, longest prefix first, and says which rule matched", () => {
    expect(resolve("tiktok-uk", "TTUK-MUG-RED")).toMatchObject({
      _tag: "Paired",
      components: [{ item: "MUG-RED", qty: 1 }],
      by: "auto",
      rule: 'prefix "TTUK-"'
    })
    expect(resolve("tiktok-uk", "TT-MUG-BLUE-UK")).toMatchObject({
      components: [{ item: "MUG-BLUE", qty: 1 }],
      rule: 'prefix "TT-" and suffix "-UK"'
    })
    expect(resolve("tiktok-uk", "tt-mug-red")).toMatchObject({ components: [{ item: "MUG-RED", qty: 1 }] })
  })

  it("reads the pack factor of a multipack from the pack patterns", () => {
    expect(resolve("tiktok-uk", "TT-MUG-RED*3")).toMatchObject({
      components: [{ item: "MUG-RED", qty: 3 }],
      rule: 'prefix "TT-", pack ^(?<sku>.+)\\*(?<qty>\\d+)$'
    })
    expect(resolve("tiktok-uk", "TEA-6PK")).toMatchObject({ components: [{ item: "TEA", qty: 6 }] })
  })

  it("uses the explicit map first, a connection's own entry before the general one", () => {
    expect(resolve("tiktok-uk", "GIFT-BOX")).toMatchObject({
      by: "explicit",
      components: [
        { item: "MUG-RED", qty: 1 },
        { item: "TEA", qty: 2 }
      ]
    })
    expect(resolve("shopify-main", "GIFT-BOX")).toMatchObject({ components: [{ item: "TEA", qty: 3 }] })
  })

  it("leaves a SKU two items match (differing only in case) for a person, and one nothing matches", () => {
    expect(resolve("tiktok-uk", "lid")).toMatchObject({ _tag: "Unpaired", reason: "ambiguous" })
    expect(resolve("tiktok-uk", "TT-PLATE")).toMatchObject({
      _tag: "Unpaired",
      reason: "no_match",
      candidates: ["TT-PLATE", "PLATE"]
    })
  })

  it("matches case exactly when a connection's rules say so", () => {
    expect(resolve("shopify-main", "Lid")).toMatchObject({ _tag: "Paired", components: [{ item: "Lid", qty: 1 }] })
    expect(resolve("shopify-main", "lid")).toMatchObject({ _tag: "Unpaired", reason: "no_match" })
  })

  it("refuses a pack pattern without the named groups or that does not compile, naming the problem", () => {
    const decode = Schema.decodeUnknownEither(Pairing.PairingRules)
    const missing = decode({ packPatterns: ["^(.+)x(\\d+)$"] })
    expect(Either.isLeft(missing) && String(missing.left)).toContain("needs named groups")
    const broken = decode({ packPatterns: ["(?<sku>"] })
    expect(Either.isLeft(broken) && String(broken.left)).toContain("not a valid regular expression")
  })
})
