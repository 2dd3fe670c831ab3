/**
 * EngineWiring: where `tkbridge run` and `tkbridge demo` meet the sync engine — the webhook edge
 * (`WebhookIngress`), the inbox processor, the pool's pusher, the outbox workers, token refresh and
 * the reconciliation schedules, all over the configured store.
 *
 * `@tkbridge/engine` does not provide them yet, so `engine` is `None`: `run` then serves health,
 * metrics and doctor's self-test, answers real deliveries 503 (platforms retry them later; nothing
 * is acknowledged that was not kept) and says so in its log. The pieces to compose here exist:
 * `Server.ingressFromEdge` over the store's `WebhookEdge` (with `WebhookEdge.receivers` from the
 * connector instances) and `MetricsCollectors.register` over the store's ports.
 *
 * @since 0.1.0
 */
import type { Layer } from "effect"
import { Option } from "effect"
import type { LoadedConfig } from "./ConfigLoader.ts"
import type { WebhookIngress } from "./Server.ts"

/** The engine's layer for a config: the webhook edge plus everything that runs behind it. */
export const engine = (_loaded: LoadedConfig): Option.Option<Layer.Layer<WebhookIngress, unknown>> => Option.none()
