/**
 * A guided tour of the connector contract on two Memory platforms, over real HTTP, with nothing to
 * install or configure: an "ERP" (the stock source and the logistics provider) and a "shop" (a
 * sales channel).
 *
 * 1. Authorize both connections with OAuth (authorize URL → consent → code exchange).
 * 2. Pull stock from the ERP and push it to the shop as absolute, idempotent sets.
 * 3. Buyers order on the shop; signed webhooks arrive, are verified and decoded.
 * 4. Book a parcel at the ERP for one order and write its tracking number back to the shop.
 * 5. Print what each platform holds.
 *
 * Run it with Node 24: `node --conditions=@tkbridge/source packages/connectors/memory/examples/demo.ts`.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { NodeHttpClient } from "@effect/platform-node"
import { MemoryConfig, MemoryConnector } from "@tkbridge/connector-memory"
import { MemorySandbox } from "@tkbridge/connector-memory/sandbox"
import type { Webhook } from "@tkbridge/core"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import { Effect, Schema } from "effect"

const say = (line = "") => Effect.sync(() => process.stdout.write(`${line}\n`))

/** A connection: a connector instance plus the grant it holds (set once the seller authorized). */
const connect = (name: string, sandbox: MemorySandbox.MemorySandbox) =>
  Effect.gen(function* () {
    let grant: AccessToken.TokenSet | undefined
    let services: MemoryConnector.MemoryServices | undefined
    const tokens: AccessToken.TokenProvider = {
      current: Effect.suspend(() =>
        grant === undefined
          ? Effect.fail(new ConnectorError.AuthExpired({ message: `${name} is not authorized yet` }))
          : Effect.succeed(grant)
      ),
      refresh: (stale) =>
        Effect.gen(function* () {
          if (grant !== undefined && grant !== stale) return grant
          grant = yield* services!
            .auth!.refresh(stale)
            .pipe(
              Effect.mapError((e) =>
                e._tag === "AuthRevoked"
                  ? e
                  : new ConnectorError.AuthExpired({ message: `refresh failed: ${e.message}` })
              )
            )
          return grant
        })
    }
    const config = Schema.decodeUnknownSync(MemoryConfig.MemoryConfig)(sandbox.connectorConfig())
    services = yield* MemoryConnector.make(config).pipe(
      Effect.provideService(AccessToken.AccessToken, tokens),
      Effect.provideService(Connector.ConnectionContext, { connection: name })
    )
    const auth = services.auth!
    // The seller opens the authorize URL; the sandbox consents at once and redirects with a code.
    const redirectUri = "http://127.0.0.1/callback"
    const consent = yield* Effect.promise(() =>
      fetch(auth.authorizeUrl({ state: `${name}-state`, redirectUri }), { redirect: "manual" })
    )
    const callback = new URL(consent.headers.get("location") ?? "")
    grant = yield* auth.exchange({ params: Object.fromEntries(callback.searchParams), redirectUri })
    yield* say(`  ${name}: authorized, scopes ${grant.scopes.join(" ")}`)
    return services
  })

/** A tiny webhook endpoint: verifies and decodes each delivery with the connector. */
const webhookEndpoint = (receiver: Connector.WebhookReceiver, seen: Array<string>) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const request: Webhook.WebhookRequest = {
            method: req.method ?? "POST",
            url: req.url ?? "/",
            headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
            rawBody: new Uint8Array(Buffer.concat(chunks))
          }
          const handled = Effect.zipRight(receiver.verify(request), receiver.decode(request))
          const answer = Effect.match(handled, {
            onFailure: (error) => res.writeHead(error._tag === "WebhookRejected" ? 401 : 400).end(),
            onSuccess: (delivery) => {
              for (const e of delivery.events) {
                seen.push(e._tag === "OrderChanged" ? `${delivery.topic} order ${e.orderId} (${e.status})` : e._tag)
              }
              res.writeHead(200).end()
            }
          })
          Effect.runFork(answer)
        })
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve())
            // The platform keeps its webhook connections alive; do not wait for them to idle out.
            server.closeAllConnections()
          })
      )
  )

const demo = Effect.gen(function* () {
  yield* say("tkbridge demo — two Memory platforms over real HTTP\n")
  const erp = yield* MemorySandbox.scoped({ name: "erp" })
  const shop = yield* MemorySandbox.scoped({ name: "shop" })
  const skus = ["MUG-RED", "MUG-BLUE", "TEE-M"] as const
  erp.seedItems([
    { sku: "MUG-RED", title: "Red mug", stock: { "WH-1": 9, "WH-2": 3 } },
    { sku: "MUG-BLUE", title: "Blue mug", stock: 5 },
    { sku: "TEE-M", title: "T-shirt M", stock: 0 }
  ])
  shop.seedItems(skus.map((sku) => ({ sku, stock: 0 })))

  yield* say("1. Authorize")
  const erpConnection = yield* connect("erp", erp)
  const shopConnection = yield* connect("shop", shop)

  yield* say("\n2. Stock: ERP → shop")
  const levels = yield* erpConnection["stock.pull"].list({ skus: [...skus] })
  const onHand = new Map<string, number>()
  for (const l of levels.items) onHand.set(l.externalSku, (onHand.get(l.externalSku) ?? 0) + l.onHand)
  const catalog = yield* shopConnection["catalog.pull"].list({})
  const updates = catalog.items.map((listing) => ({
    externalSku: listing.externalSku,
    externalIds: listing.externalIds,
    quantity: onHand.get(listing.externalSku) ?? 0,
    idempotencyKey: `shop:${listing.externalSku}:v1`
  }))
  const results = yield* shopConnection["stock.push"].push(updates)
  // A replay (the engine retrying after a lost answer) is not applied twice.
  yield* shopConnection["stock.push"].push(updates)
  for (const r of results) {
    yield* say(`  ${r.externalSku.padEnd(9)} ${r._tag.padEnd(8)} shop shows ${shop.stock(r.externalSku)}`)
  }
  yield* say(
    `  writes applied on the shop: ${shop.stockWrites().length} (the replay of ${updates.length} was deduplicated)`
  )

  yield* say("\n3. Buyers order on the shop")
  const seen: Array<string> = []
  const endpoint = yield* webhookEndpoint(shopConnection["orders.webhook"], seen)
  shop.subscribe(`http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/webhooks/shop`)
  const first = shop.placeOrder({ lines: [{ sku: "MUG-RED", quantity: 2 }] })
  shop.placeOrder({ lines: [{ sku: "MUG-BLUE", quantity: 1 }] })
  yield* Effect.promise(() => shop.webhooks.settled())
  for (const line of seen) yield* say(`  webhook: ${line}`)
  const polled = yield* shopConnection["orders.pull"].list({ pageSize: 10 })
  yield* say(`  polling backstop sees ${polled.items.length} orders`)

  yield* say("\n4. Ship the first order")
  const order = yield* shopConnection["orders.pull"].get(first)
  const parcel = yield* erpConnection["shipment.create"].create({
    reference: `shop:${order.externalId}`,
    order,
    shipTo: order.shipTo!,
    weightGrams: 640,
    declarations: order.lines.map((l) => ({
      externalSku: l.externalSku,
      description: l.title ?? l.externalSku,
      qty: l.qty,
      unitValue: l.unitPrice ?? 0,
      currency: order.currency ?? "GBP"
    }))
  })
  yield* say(`  parcel ${parcel.reference} booked with ${parcel.carrier}: ${parcel.trackingNumber}`)
  const shipped = yield* shopConnection["fulfillment.push"].ship({
    orderId: order.externalId,
    carrier: parcel.carrier,
    trackingNumber: parcel.trackingNumber!,
    idempotencyKey: `ship:${order.externalId}`
  })
  yield* say(`  tracking written back to the shop (fulfilment ${shipped.externalId})`)
  erp.progressParcel(parcel.reference)
  const events = yield* erpConnection["tracking.pull"].track([parcel.trackingNumber!])
  for (const e of events) yield* say(`  tracking: ${e.status.padEnd(14)} ${e.description}`)

  yield* say("\n5. Summary")
  yield* say("  SKU        ERP on hand  shop shows")
  for (const sku of skus) {
    const erpTotal = (erp.stock(sku, "WH-1") ?? 0) + (erp.stock(sku, "WH-2") ?? 0)
    yield* say(`  ${sku.padEnd(10)} ${String(erpTotal).padStart(11)}  ${String(shop.stock(sku)).padStart(10)}`)
  }
  const orders = shop.orders()
  const withTracking = orders.filter((o) => o.fulfillments.length > 0).length
  yield* say(`  orders on the shop: ${orders.length}, shipped with tracking: ${withTracking}`)
  yield* say("\nThe runner turns these steps into a loop: one inventory pool, reservations, every channel in seconds.")
})

Effect.runPromise(demo.pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
