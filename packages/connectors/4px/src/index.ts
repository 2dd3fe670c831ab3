/**
 * @tkbridge/connector-4px — the 4PX (递四方) logistics connector: parcels from orders, labels,
 * cancellation and tracking events over the signed FOP API (`/router/api/service`), for direct
 * customers (API key) and software vendors (OAuth). The protocol-faithful sandbox lives at
 * `@tkbridge/connector-4px/sandbox`.
 *
 * @since 0.1.0
 */

/** OAuth for software-vendor apps: authorize link, code exchange, refresh. */
export * as FourPxAuth from "./FourPxAuth.ts"
/** The signed FOP client. */
export * as FourPxClient from "./FourPxClient.ts"
/** The connection config. */
export * as FourPxConfig from "./FourPxConfig.ts"
/** Manifest, make and layers. */
export * as FourPxConnector from "./FourPxConnector.ts"
/** 4PX error codes → core taxonomy. */
export * as FourPxError from "./FourPxError.ts"
/** How `label` waits for 4PX to render a label. */
export * as FourPxLabelWait from "./FourPxLabelWait.ts"
/** Wire schemas. */
export * as FourPxSchema from "./FourPxSchema.ts"
/** `shipment.create`: parcels, labels, cancellation, logistics products. */
export * as FourPxShipment from "./FourPxShipment.ts"
/** The request signature. */
export * as FourPxSign from "./FourPxSign.ts"
/** `tracking.pull` and the tracking code table. */
export * as FourPxTracking from "./FourPxTracking.ts"
