/**
 * tkbridge — the runner: config loading, the doctor's checks, the webhook server and the CLI, for
 * programmatic use (tests, service providers embedding the runner). The executable is `tkbridge`.
 *
 * @since 0.1.0
 */

/** The running runner's local admin endpoint (dead-letter replay and discard). */
export * as AdminApi from "./AdminApi.ts"
/** The `tkbridge` command tree. */
export * as Cli from "./Cli.ts"
/** The shape of tkbridge.yaml. */
export * as Config from "./Config.ts"
/** The JSON Schema of tkbridge.yaml. */
export * as ConfigJsonSchema from "./ConfigJsonSchema.ts"
/** Reading tkbridge.yaml with positioned errors. */
export * as ConfigLoader from "./ConfigLoader.ts"
/** First-party and partner connector loading. */
export * as Connectors from "./Connectors.ts"
/** The doctor's checks. */
export * as Doctor from "./Doctor.ts"
/** The engine over the configured store, with the webhook edge, metrics and admin endpoint. */
export * as EngineWiring from "./EngineWiring.ts"
/** What each connection is used for, and the scopes that needs. */
export * as FlowPlan from "./FlowPlan.ts"
/** JSON logs with PII masked. */
export * as Log from "./Log.ts"
/** Prometheus metrics. */
export * as Metrics from "./Metrics.ts"
/** `/metrics` fed from the sync engine's status. */
export * as MetricsCollectors from "./MetricsCollectors.ts"
/** The operator commands' access to the store beside a running runner. */
export * as OpsStore from "./OpsStore.ts"
/** The pool section of tkbridge.yaml as the ledger's and engine's settings. */
export * as PoolWiring from "./PoolWiring.ts"
/** The store as the CLI sees it. */
export * as RunnerState from "./RunnerState.ts"
/** Doctor's signed webhook self-test. */
export * as SelfTest from "./SelfTest.ts"
/** The webhook server. */
export * as Server from "./Server.ts"
/** The CLI's access to the store (tokens, quota counters). */
export * as StoreWiring from "./StoreWiring.ts"
/** TLS certificate checks. */
export * as TlsProbe from "./TlsProbe.ts"
