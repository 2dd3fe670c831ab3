/**
 * ShopifyLocations: `locations.pull` — the shop's active locations. A location's pool id is
 * `<connection>/<numeric id>`; its `externalId` is the numeric id that stock readings and pushes use.
 *
 * @see https://shopify.dev/docs/api/admin-graphql/2026-10/queries/locations
 * @since 0.1.0
 */
import type { Connector, ConnectorError as Errors } from "@tkbridge/core"
import { Location } from "@tkbridge/core"
import { Effect } from "effect"
import type { ShopifyClientShape } from "./ShopifyClient.ts"
import * as Documents from "./ShopifyDocuments.ts"
import { legacyId } from "./ShopifyGid.ts"
import * as Wire from "./ShopifySchema.ts"

/** A Shopify location as a pool location. */
export const toLocation = (node: Wire.LocationNode, connection: string): Location.Location => {
  const country = node.address.countryCode ?? undefined
  return new Location.Location({
    id: `${connection}/${legacyId(node.id)}`,
    name: node.name,
    kind: node.fulfillsOnlineOrders || node.shipsInventory ? "warehouse" : "store",
    source: connection,
    externalId: legacyId(node.id),
    country: country !== undefined && /^[A-Z]{2}$/.test(country) ? country : undefined
  })
}

/** Builds `locations.pull` on a client. */
export const make = (client: ShopifyClientShape, connection: string): Connector.LocationsPull => ({
  list: Effect.gen(function* () {
    const out: Array<Location.Location> = []
    let after: string | null = null
    for (;;) {
      const data: typeof Wire.LocationsData.Type = yield* client.run(
        Documents.Locations,
        { first: client.config.pageSize, after },
        Wire.LocationsData
      )
      for (const node of data.locations.nodes) if (node.isActive) out.push(toLocation(node, connection))
      const info = data.locations.pageInfo
      if (!info.hasNextPage || !info.endCursor) break
      after = info.endCursor
    }
    return out
  }) satisfies Effect.Effect<ReadonlyArray<Location.Location>, Errors.ConnectorError>
})
