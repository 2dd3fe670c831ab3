/**
 * The connection config: which Admin API versions a connection may name (the stable versions
 * Shopify supports that have the `inventorySetQuantities` shape the connector writes) and the
 * default.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { ShopifyConfig } from "../src/index.ts"

const decode = (extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownEither(ShopifyConfig.ShopifyConfig)({
    shop: "versions.myshopify.com",
    clientId: "app",
    clientSecret: "shpss_versions",
    ...extra
  })

describe("ShopifyConfig", () => {
  it("pins 2026-10 unless told otherwise", () => {
    expect(Either.getOrThrow(decode()).apiVersion).toBe("2026-10")
    expect(ShopifyConfig.defaultApiVersion).toBe("2026-10")
  })

  it("names only the supported versions: 2026-04, 2026-07 and 2026-10", () => {
    expect(ShopifyConfig.supportedApiVersions).toEqual(["2026-04", "2026-07", "2026-10"])
    for (const apiVersion of ShopifyConfig.supportedApiVersions) {
      expect(Either.getOrThrow(decode({ apiVersion })).apiVersion).toBe(apiVersion)
    }
    // Retired (2025-07, 2025-10), supported by Shopify but before the 2026-04 inventory shape
    // (2026-01), without guarantees (unstable, the 2027-01 release candidate), not a version at all.
    for (const apiVersion of ["2025-07", "2025-10", "2026-01", "unstable", "2027-01", "2026-05", "latest"]) {
      const result = decode({ apiVersion })
      expect({ apiVersion, refused: Either.isLeft(result) }).toEqual({ apiVersion, refused: true })
      if (Either.isLeft(result)) {
        expect(String(result.left)).toContain("must be a supported Admin API version: 2026-04, 2026-07, 2026-10")
      }
    }
  })
})
