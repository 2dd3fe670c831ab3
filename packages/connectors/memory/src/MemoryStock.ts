/**
 * MemoryStock: `stock.push` and `stock.pull`.
 *
 * A push is one `POST /v1/inventory/set` with up to 50 absolute updates. Each update carries its
 * idempotency key, so a replay the platform has seen returns the first result without writing
 * again, and an optional `expected_quantity` for compare-and-set (answered `stale` with the actual
 * quantity, nothing written). Updates without a location go to `defaultLocation` from the config,
 * or the platform's default location.
 *
 * A pull pages `GET /v1/inventory`; each level carries a `version` that grows with every change,
 * reported as `sourceVersion` so an older reading never overwrites a newer one.
 *
 * @since 0.1.0
 */
import type { Connector } from "@tkbridge/core"
import { Effect } from "effect"
import type { MemoryClientShape } from "./MemoryClient.ts"
import * as MemoryError from "./MemoryError.ts"
import { InventoryResponse, StockSetResponse } from "./MemorySchema.ts"

/** The most updates one push may carry. */
export const batchLimit = 50

/** Builds `stock.push`. */
export const makePush = (client: MemoryClientShape): Connector.StockPush => ({
  push: (updates) =>
    updates.length === 0
      ? Effect.succeed([])
      : Effect.map(
          client.api(
            {
              method: "POST",
              path: "/v1/inventory/set",
              body: {
                updates: updates.map((u) => ({
                  sku: u.externalSku,
                  location_id: u.location ?? client.config.defaultLocation,
                  quantity: u.quantity,
                  expected_quantity: u.expected,
                  idempotency_key: u.idempotencyKey
                }))
              }
            },
            StockSetResponse
          ),
          ({ results }) =>
            results.map((r): Connector.StockPushResult => {
              const where = { externalSku: r.sku, location: r.location_id }
              if (r.status === "applied") return { _tag: "Applied", ...where }
              if (r.status === "stale") return { _tag: "Stale", ...where, actual: r.actual_quantity }
              return { _tag: "Failed", ...where, error: MemoryError.fromStockResult(r.error, client.connection) }
            })
        )
})

/** Builds `stock.pull`. */
export const makePull = (client: MemoryClientShape): Connector.StockPull => ({
  list: ({ cursor, skus }) =>
    Effect.map(
      client.api(
        {
          method: "GET",
          path: "/v1/inventory",
          query: { cursor, sku: skus === undefined || skus.length === 0 ? undefined : skus.join(","), limit: "100" }
        },
        InventoryResponse
      ),
      ({ levels, next_cursor }) => ({
        items: levels.map((l) => ({
          externalSku: l.sku,
          location: l.location_id,
          onHand: l.on_hand,
          sourceVersion: l.version
        })),
        next: next_cursor ?? undefined
      })
    )
})
