/**
 * ShopifyGid: Shopify's global ids (`gid://shopify/<Type>/<number>`). On the wire the GraphQL Admin
 * API wants GIDs; in tkbridge's domain the connector uses the plain numeric id (what the shop admin
 * shows in its URLs and what REST-style webhooks carry as `id`), always as a string. Both forms are
 * accepted wherever an id comes in.
 *
 * @since 0.1.0
 */

const pattern = /^gid:\/\/shopify\/([A-Za-z]+)\/([^/?#]+)(\?.*)?$/

/** The GID of a resource, from either its numeric id or its GID (returned as is). */
export const toGid = (type: string, id: string): string => {
  const trimmed = id.trim()
  return pattern.test(trimmed) ? trimmed : `gid://shopify/${type}/${trimmed}`
}

/** The numeric id of a GID (as a string); anything that is not a GID is returned trimmed. */
export const legacyId = (id: string): string => {
  const m = pattern.exec(id.trim())
  return m?.[2] ?? id.trim()
}

/** The resource type a GID names, if it is one. */
export const typeOf = (id: string): string | undefined => pattern.exec(id.trim())?.[1]

/** True for a GID of the given type. */
export const isGidOf = (type: string, id: string): boolean => typeOf(id) === type
