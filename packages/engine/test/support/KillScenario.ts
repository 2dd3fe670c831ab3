/**
 * The kill-and-restart scenario shared by the test and its child process: the flows the engine node
 * runs and the config file the test writes for it.
 */
import type { StockPusher } from "@tkbridge/engine"
import { EngineFlows } from "@tkbridge/engine"
import { Duration } from "effect"

/** What the test hands the child (connector configs and grants encoded as JSON). */
export interface NodeConfig {
  readonly db: string
  readonly port: number
  readonly shop: unknown
  readonly erp: unknown
  readonly tokens: { readonly shop: unknown; readonly erp: unknown }
}

/** The flows of the scenario; fast cadences so a restart catches up in seconds. */
export const flows = new EngineFlows.EngineFlows({
  orders: [new EngineFlows.OrderFlow({ from: ["shop"], fulfilment: "erp" })],
  stock: new EngineFlows.StockFlow({
    sources: [new EngineFlows.StockSource({ connection: "erp", every: Duration.seconds(1) })],
    channels: ["shop"]
  }),
  afterSales: new EngineFlows.AfterSalesFlow({ from: ["shop"] }),
  pool: new EngineFlows.PoolSettings({ itemsFrom: "erp" }),
  reconciliation: new EngineFlows.Reconciliation({
    every: Duration.seconds(1),
    overlap: Duration.minutes(5),
    pageSize: 100
  }),
  fulfilment: new EngineFlows.FulfilmentDefaults({ trackingPollEvery: Duration.millis(300) })
})

/**
 * Stock pusher settings for a node killed every few seconds. A killed node's claims on outbox rows
 * come back when their lease runs out, so the lease is short here (the default minute would make
 * every restart wait for it). A write whose outcome died with the node looks, to the next
 * compare-and-set write, like units the shop sold; the pusher holds those back until the hold window
 * passes, so the window is short too and the last run converges within seconds.
 */
export const push: Partial<StockPusher.Options> = { leaseMs: 3_000, holdWindowMs: 2_000 }
