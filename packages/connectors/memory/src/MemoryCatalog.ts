/**
 * MemoryCatalog: `catalog.pull` (the platform's SKUs, with the product and variant ids, for
 * pairing listings with pool items) and `locations.pull` (its warehouses).
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Location } from "@tkbridge/core"
import { Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import { LocationsResponse, SkusResponse } from "./MemorySchema.ts"

/** Builds `catalog.pull`. */
export const makeCatalog = (client: MemoryClientShape): Connector.CatalogPull => ({
  list: ({ cursor, pageSize }) =>
    Effect.map(
      client.api(
        {
          method: "GET",
          path: "/v1/skus",
          query: { cursor, limit: pageSize === undefined ? undefined : String(Math.min(Math.max(pageSize, 1), 100)) }
        },
        SkusResponse
      ),
      ({ skus, next_cursor }) => ({
        items: skus.map((s) => ({
          externalSku: s.sku,
          externalIds: { product_id: s.product_id, variant_id: s.variant_id },
          title: s.title,
          quantity: s.inventory.reduce((n, i) => n + i.quantity, 0)
        })),
        next: next_cursor ?? undefined
      })
    )
})

/** Builds `locations.pull`. */
export const makeLocations = (client: MemoryClientShape): Connector.LocationsPull => ({
  list: Effect.map(client.api({ method: "GET", path: "/v1/locations" }, LocationsResponse), ({ locations }) =>
    locations.map(
      (l) =>
        new Location.Location({
          id: l.id,
          name: l.name,
          kind: "warehouse",
          source: client.connection,
          externalId: l.id
        })
    )
  )
})
