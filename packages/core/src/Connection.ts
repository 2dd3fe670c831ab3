/**
 * Connection: one seller account on one connector — a TikTok shop, a Shopify store, a 4PX account.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ConnectionId } from "./Ids.ts"

/**
 * `active` works; `paused` is stopped by the operator; `needs_reauth` lost its authorization (work
 * stays queued until the seller authorizes again); `suspended` waits out a platform suspension.
 */
export const ConnectionStatus = Schema.Literal("active", "paused", "needs_reauth", "suspended")
/** @since 0.1.0 */
export type ConnectionStatus = typeof ConnectionStatus.Type

/** A configured connection. `connector` is a first-party connector id or a partner package name. */
export class Connection extends Schema.Class<Connection>("@tkbridge/core/Connection")({
  id: ConnectionId,
  connector: Schema.String,
  displayName: Schema.optional(Schema.String),
  status: Schema.optionalWith(ConnectionStatus, { default: () => "active" as const })
}) {}
