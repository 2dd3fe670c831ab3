/**
 * FakeChannel: the probe a conformance suite uses to look inside a connector's sandbox. The suites
 * assert on what the fake platform holds — never on what the connector says it did — so a connector
 * that reports success without doing the work fails.
 *
 * Each section belongs to one capability; a fake provides the sections for the capabilities its
 * connector claims. Every method works on the sandbox's own state, not through the connector.
 *
 * @since 0.1.0
 */
import type { AccessToken, Connector, Webhook } from "@tkbridge/core"
import type { Effect } from "effect"
import { Context } from "effect"
import type { Sandbox } from "./SandboxServer.ts"

/** Probe for `stock.push` (and `catalog.pull`, which lists what `seed` created). */
export interface StockProbe {
  /** Creates SKUs on the fake platform; returns them as the channel lists them (with the ids a push needs). */
  readonly seed: (
    skus: ReadonlyArray<{ readonly externalSku: string; readonly quantity: number }>
  ) => Effect.Effect<ReadonlyArray<Connector.ChannelListing>>
  /** The quantity the platform holds for a SKU (at a location, for multi-location platforms). */
  readonly quantity: (externalSku: string, location?: string) => Effect.Effect<number | undefined>
  /** How many writes the platform applied to a SKU (a replayed idempotent write does not count). */
  readonly appliedWrites: (externalSku: string) => Effect.Effect<number>
  /** Changes the quantity behind the connector's back (a sale on the platform), for compare-and-set tests. */
  readonly setExternally: (externalSku: string, quantity: number, location?: string) => Effect.Effect<void>
  /** The platform's location id to push to, for multi-location platforms. */
  readonly location?: string | undefined
}

/** Probe for `orders.pull`. */
export interface OrdersProbe {
  /** Creates `count` orders with distinct update times; returns their ids. */
  readonly seed: (count: number) => Effect.Effect<ReadonlyArray<string>>
}

/** Probe for `orders.webhook` / `aftersales.webhook`. */
export interface WebhooksProbe {
  /** A validly signed delivery of a new-order event, exactly as the platform would send it. */
  readonly delivery: () => Effect.Effect<Webhook.WebhookRequest>
  /** The same delivery signed with a different secret. */
  readonly deliverySignedWith: (secret: string) => Effect.Effect<Webhook.WebhookRequest>
  /** The header that carries the signature (removed by the "missing signature" test). */
  readonly signatureHeader: string
  /**
   * A validly signed after-sale delivery (cancellation, return, refund), for the `aftersales.webhook`
   * checks. Without it those checks use `delivery()`.
   */
  readonly afterSaleDelivery?: (() => Effect.Effect<Webhook.WebhookRequest>) | undefined
}

/** Probe for `fulfillment.push`. */
export interface FulfillmentProbe {
  /** Creates an order that is ready to ship; returns its id. */
  readonly seedOrder: () => Effect.Effect<string>
  /** The shipments (tracking numbers) the platform holds for an order. */
  readonly shipments: (
    orderId: string
  ) => Effect.Effect<ReadonlyArray<{ readonly trackingNumber: string; readonly carrier: string }>>
  /** A carrier name the platform accepts for the seeded orders (default `"4PX"`). */
  readonly carrier?: string | undefined
}

/** Probe for `shipment.create` and `tracking.pull`. */
export interface LogisticsProbe {
  /** How many parcels the provider holds for one of our references. */
  readonly parcels: (reference: string) => Effect.Effect<number>
  /** Moves a parcel along until it has tracking events (and its label is ready). */
  readonly progress: (reference: string) => Effect.Effect<void>
  /**
   * A parcel request the provider accepts for `reference` (its own service codes, a valid address).
   * Without it the kit sends a generic request to a UK address.
   */
  readonly parcelRequest?: ((reference: string) => Effect.Effect<Connector.ParcelRequest>) | undefined
  /**
   * Creates a parcel on the provider's side and returns its tracking number, for connectors that
   * claim `tracking.pull` without `shipment.create`.
   */
  readonly seedParcel?:
    | (() => Effect.Effect<{ readonly reference: string; readonly trackingNumber: string }>)
    | undefined
}

/** Probe for `aftersales.pull`. */
export interface AftersalesProbe {
  /** Creates `count` after-sale requests with distinct update times; returns their ids. */
  readonly seed: (count: number) => Effect.Effect<ReadonlyArray<string>>
}

/** Probe for `catalog.pull`. */
export interface CatalogProbe {
  /** Creates `count` SKUs; returns their external SKUs. */
  readonly seed: (count: number) => Effect.Effect<ReadonlyArray<string>>
}

/** Probe for OAuth connectors: the sandbox's token server. */
export interface TokensProbe {
  /** A fresh, valid grant issued by the sandbox. */
  readonly issue: () => Effect.Effect<AccessToken.TokenSet>
  /** How many refresh requests reached the token endpoint. */
  readonly refreshes: () => Effect.Effect<number>
}

/**
 * A fake platform: the running sandbox plus probes. `routes` maps each claimed capability to the
 * sandbox route its main call uses, so the error suite can inject faults there.
 */
export interface FakeChannelShape {
  readonly sandbox: Sandbox
  /**
   * Every server of the fake the connector talks to (API host, auth host …), for the lifecycle
   * check; `[sandbox]` when absent.
   */
  readonly servers?: ReadonlyArray<Sandbox> | undefined
  readonly routes: { readonly [K in Connector.Capability]?: string }
  readonly stock?: StockProbe | undefined
  readonly orders?: OrdersProbe | undefined
  readonly webhooks?: WebhooksProbe | undefined
  readonly fulfillment?: FulfillmentProbe | undefined
  readonly logistics?: LogisticsProbe | undefined
  readonly aftersales?: AftersalesProbe | undefined
  readonly catalog?: CatalogProbe | undefined
  readonly tokens?: TokensProbe | undefined
}

/** The fake platform a suite runs against. */
export class FakeChannel extends Context.Tag("@tkbridge/connector-testkit/FakeChannel")<
  FakeChannel,
  FakeChannelShape
>() {}

/**
 * The services of a connector under test: those of the capabilities it claims, plus `auth` for
 * OAuth 2 connectors. Any `Connector.Services<C>` fits.
 */
export type ConnectorServices = { readonly [K in Connector.Capability]?: Connector.CapabilityServices[K] } & {
  readonly auth?: Connector.OAuth2 | undefined
}

/** The connector instance under test, configured against the fake. */
export class ConnectorUnderTest extends Context.Tag("@tkbridge/connector-testkit/ConnectorUnderTest")<
  ConnectorUnderTest,
  ConnectorServices
>() {}
