/**
 * FlowPlan: what each connection is used for, derived from the config's flows and pool, and so which
 * capabilities (and therefore which scopes) it needs. The doctor compares the grant with this; `auth`
 * requests exactly these scopes, because a scope requested but unused triggers the platforms' risk
 * control.
 *
 * Per role, a capability is either required (the flow cannot work without it) or used when the
 * connector claims it (a webhook trigger where polling would also do; the poll backstop where
 * webhooks also work). At least one of the ways in must be claimed.
 *
 * @since 0.1.0
 */
import { Connector } from "@tkbridge/core"
import type { RunnerConfig } from "./Config.ts"
import { connections } from "./Config.ts"

/** Why a connection takes part: the config path that gives it the role, and the capabilities the role asks for. */
export interface Role {
  readonly role: string
  readonly path: ReadonlyArray<PropertyKey>
  /** Every one of these must be claimed. */
  readonly required: ReadonlyArray<Connector.Capability>
  /** At least one of these must be claimed; all claimed ones are used. */
  readonly anyOf: ReadonlyArray<Connector.Capability>
  /** Used when claimed, not needed otherwise. */
  readonly optional: ReadonlyArray<Connector.Capability>
}

/** The roles of every connection named in flows and pool, by connection name. */
export const roles = (config: RunnerConfig): ReadonlyMap<string, ReadonlyArray<Role>> => {
  const out = new Map<string, Array<Role>>()
  const add = (name: string, role: Role) => {
    const list = out.get(name) ?? []
    list.push(role)
    out.set(name, list)
  }
  config.flows.orders.forEach((flow, i) => {
    connections(flow.from).forEach((name, j) => {
      const path = typeof flow.from === "string" ? ["flows", "orders", i, "from"] : ["flows", "orders", i, "from", j]
      add(name, {
        role: "orders in",
        path,
        required: [],
        anyOf: ["orders.webhook", "orders.pull"],
        optional: ["orders.webhook", "orders.pull"]
      })
      if (flow.fulfilment !== undefined && flow.trackingBack) {
        add(name, { role: "tracking back", path, required: ["fulfillment.push"], anyOf: [], optional: [] })
      }
    })
    if (flow.fulfilment !== undefined) {
      add(flow.fulfilment, {
        role: "fulfilment",
        path: ["flows", "orders", i, "fulfilment"],
        required: ["shipment.create", "tracking.pull"],
        anyOf: [],
        optional: []
      })
    }
  })
  const stock = config.flows.stock
  if (stock) {
    connections(stock.source).forEach((name, j) => {
      add(name, {
        role: "stock source",
        path: typeof stock.source === "string" ? ["flows", "stock", "source"] : ["flows", "stock", "source", j],
        required: ["stock.pull"],
        anyOf: [],
        optional: ["locations.pull"]
      })
    })
    stock.channels.forEach((name, j) => {
      add(name, {
        role: "stock out",
        path: ["flows", "stock", "channels", j],
        required: ["stock.push", "catalog.pull"],
        anyOf: [],
        optional: ["locations.pull"]
      })
    })
  }
  const after = config.flows.afterSales
  if (after) {
    connections(after.from).forEach((name, j) => {
      add(name, {
        role: "after-sales in",
        path: typeof after.from === "string" ? ["flows", "afterSales", "from"] : ["flows", "afterSales", "from", j],
        required: [],
        anyOf: ["aftersales.webhook", "aftersales.pull"],
        optional: ["aftersales.webhook", "aftersales.pull"]
      })
    })
  }
  if (config.pool) {
    add(config.pool.items.from, {
      role: "items source",
      path: ["pool", "items", "from"],
      required: ["catalog.pull"],
      anyOf: [],
      optional: []
    })
  }
  return out
}

/** A role the connector cannot play: it does not claim a capability the role requires. */
export interface Gap {
  readonly role: Role
  readonly missing: ReadonlyArray<Connector.Capability>
  readonly message: string
}

/** The capabilities a connection uses, given what its connector claims, and the roles it cannot fill. */
export const plan = (
  manifest: Connector.Manifest,
  connectionRoles: ReadonlyArray<Role>
): { readonly capabilities: ReadonlyArray<Connector.Capability>; readonly gaps: ReadonlyArray<Gap> } => {
  const claimed = new Set(manifest.capabilities)
  const used = new Set<Connector.Capability>()
  const gaps: Array<Gap> = []
  for (const role of connectionRoles) {
    const missing = role.required.filter((c) => !claimed.has(c))
    if (role.anyOf.length > 0 && !role.anyOf.some((c) => claimed.has(c))) missing.push(...role.anyOf)
    if (missing.length > 0) {
      gaps.push({
        role,
        missing,
        message: `connector ${manifest.id} cannot be used for ${role.role}: it does not provide ${missing.join(
          role.anyOf.length > 0 && missing.length === role.anyOf.length ? " or " : ", "
        )}`
      })
    }
    for (const c of [...role.required, ...role.anyOf, ...role.optional]) if (claimed.has(c)) used.add(c)
  }
  return { capabilities: [...used].sort(), gaps }
}

/** The scopes a connection needs for the capabilities it uses. */
export const neededScopes = (
  manifest: Connector.Manifest,
  capabilities: ReadonlyArray<Connector.Capability>
): ReadonlyArray<string> => Connector.requiredScopes(manifest, capabilities)
