/**
 * The Shopify connector against the conformance kit: every capability it claims, against its
 * sandbox over real HTTP, with no skips.
 */
import { ConnectorTestkit } from "@tkbridge/connector-testkit"
import { ShopifyConnector } from "../src/index.ts"
import { ShopifySandboxFake } from "../src/sandbox/index.ts"

ConnectorTestkit.suite({
  name: "shopify",
  manifest: ShopifyConnector.manifest,
  fake: ShopifySandboxFake.layer(),
  layer: ShopifySandboxFake.connectorLayer()
})
