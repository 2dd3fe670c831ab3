/**
 * ConfigTemplate: the commented starter `tkbridge.yaml` that `tkbridge init` writes. It is valid as
 * written (no connection yet, so `tkbridge doctor` passes on a fresh file), and every section a
 * seller will need is there, commented out, with what it means.
 *
 * @since 0.1.0
 */

/** The starter config. */
export const starter = `# tkbridge configuration — https://github.com/tkbridge/tkbridge
# Editors: point the YAML language server at the schema for completion and checks:
# yaml-language-server: $schema=./node_modules/tkbridge/tkbridge.schema.json
#
# Secrets never go in this file: write \${ENV_VAR} and set the variable in the environment.
# Check everything with \`tkbridge doctor\`.
version: 1

# Where tkbridge keeps its state. The default is one SQLite file beside this config;
# service providers running several runners use PostgreSQL:
#   store: postgres://tkbridge:\${PGPASSWORD}@db.internal:5432/tkbridge
store: sqlite:./data/tkbridge.db

# The webhook server. Platforms deliver to <publicUrl>/webhooks/<connection>; the URL must be
# HTTPS with a certificate from a public CA and the FULL chain (leaf + intermediates).
server:
  port: 8787
  # publicUrl: https://sync.example.com
  # Serve HTTPS directly (without a proxy in front):
  # tls:
  #   cert: /etc/tkbridge/fullchain.pem   # certificate followed by every intermediate
  #   key: /etc/tkbridge/privkey.pem

# Business licences (营业执照) your shops are registered under. One licence may bind at most
# 5 third-party apps, including the ones tkbridge does not run.
# licences:
#   "91440300MA5XXXXXXX":
#     name: Shenzhen Example Trading Co., Ltd.
#     otherApps: [Dianxiaomi]

# One entry per seller account. The name is yours; it appears in webhook URLs and reports.
connections: {}
  # tiktok-uk:
  #   connector: tiktok-shop
  #   licence: "91440300MA5XXXXXXX"
  #   plan: basic                # basic: 50,000 calls/day; enterprise: 200,000
  #   config:
  #     appKey: \${TIKTOK_APP_KEY}
  #     appSecret: \${TIKTOK_APP_SECRET}
  # shopify-main:
  #   connector: shopify
  #   config:
  #     shop: example.myshopify.com
  #     clientId: \${SHOPIFY_CLIENT_ID}
  #     clientSecret: \${SHOPIFY_CLIENT_SECRET}
  # 4px:
  #   connector: 4px
  #   config:
  #     appKey: \${FOURPX_APP_KEY}
  #     appSecret: \${FOURPX_APP_SECRET}
  #     productCode: A2          # the 4PX logistics product parcels are booked on
  #     sender:                  # where 4PX collects parcels (printed on labels; a post code is required)
  #       firstName: Wei
  #       lastName: Li
  #       company: Shenzhen Example Trading Co., Ltd.
  #       phone: "13800138000"
  #       postCode: "518057"
  #       country: CN
  #       state: Guangdong
  #       city: Shenzhen
  #       street: 1 Keji South Road, Nanshan District   # 10–90 characters
  # The in-memory platform (its sandbox stands in for a shop or an ERP in trials and the demo):
  # warehouse:
  #   connector: memory
  #   config:
  #     baseUrl: http://127.0.0.1:8790
  #     clientId: tkbridge
  #     clientSecret: \${MEMORY_CLIENT_SECRET}
  #     webhookSecret: \${MEMORY_WEBHOOK_SECRET}
  # A partner connector is named by its npm package (install it beside this file):
  # my-erp:
  #   connector: "@acme/tkbridge-connector-acme-erp"

# The inventory pool: one stock figure per item, shared by every channel.
# pool:
#   items:
#     from: warehouse            # the connection whose catalog defines your items
#   # Pairing channel SKUs with items: equal SKUs pair automatically after stripping these.
#   pairing:
#     ignorePrefixes: ["TT-"]
#     ignoreSuffixes: ["-UK"]
#     map:
#       tiktok-uk:
#         "TT-GIFTBOX": [{ item: MUG-01, qty: 1 }, { item: TEA-02, qty: 2 }]   # a bundle
#   # What each channel is shown (all of the pool by default):
#   channels:
#     tiktok-uk: { share: 100, safetyBuffer: 1 }
#     shopify-main: { share: 80, floor: 2 }
#   # When an item is down to its last units, only this channel keeps selling it:
#   lastUnits: { threshold: 3, channel: tiktok-uk }
#   unpaidReservationTtl: 24h    # unpaid orders hold stock this long
#   returns:
#     restock: on_receipt        # on_receipt | on_approval | never

# What moves where.
flows: {}
  # stock:
  #   source: warehouse          # where stock levels are read
  #   channels: [tiktok-uk, shopify-main]
  #   reconcileEvery: 15m        # full comparison, the backstop for anything missed
  # orders:
  #   - from: [tiktok-uk, shopify-main]
  #     fulfilment: 4px          # who ships them
  #     trackingBack: true       # write tracking numbers back to the channel
  # afterSales:
  #   from: [tiktok-uk, shopify-main]
`
