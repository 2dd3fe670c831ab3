import { describe, expect, it } from "@effect/vitest"
import { Parcels, Shipment } from "@tkbridge/core"

describe("Parcels", () => {
  it("a status moves forward only: created < labelled < shipped < cancelled/failed < delivered", () => {
    expect(Parcels.advance("created", "labelled")).toBe("labelled")
    expect(Parcels.advance("shipped", "labelled")).toBe("shipped")
    expect(Parcels.advance("shipped", "cancelled")).toBe("cancelled")
    expect(Parcels.advance("cancelled", "shipped")).toBe("cancelled")
    expect(Parcels.advance("failed", "labelled")).toBe("failed")
    // Both final: the first one stays.
    expect(Parcels.advance("cancelled", "failed")).toBe("cancelled")
    expect(Parcels.advance("failed", "cancelled")).toBe("failed")
    // A delivery scan is the last word.
    expect(Parcels.advance("cancelled", "delivered")).toBe("delivered")
    expect(Parcels.advance("delivered", "failed")).toBe("delivered")
  })

  it("every status has a rank, and only parcels on their way are trackable", () => {
    for (const status of Shipment.ShipmentStatus.literals) {
      expect(Parcels.statusRank[status]).toBeTypeOf("number")
      expect(Parcels.advance(status, status)).toBe(status)
    }
    expect(Shipment.ShipmentStatus.literals.filter(Parcels.isTrackable)).toEqual(["created", "labelled", "shipped"])
  })
})
