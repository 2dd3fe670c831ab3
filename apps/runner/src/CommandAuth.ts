/**
 * CommandAuth: `tkbridge auth <connection>` — authorizes a shop by OAuth. Starts a local callback
 * server, prints the authorization link (and opens the browser when there is one), checks `state`
 * on the way back, exchanges the code through the connector's `auth.exchange`, stores the grant and
 * shows granted vs needed scopes and the expiry dates.
 *
 * The store is checked before the seller is sent to the platform: an authorization code can be
 * exchanged once, so it must not be spent when the grant could not be kept.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { Args, Command, Options } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import { Duration, Effect, Option } from "effect"
import * as AdminApi from "./AdminApi.ts"
import { CliFailure, configFile, configOption, jsonOption, loadConfig, withOutput } from "./CliCommon.ts"
import type { LoadedConfig } from "./ConfigLoader.ts"
import * as Doctor from "./Doctor.ts"
import * as OAuthCallback from "./OAuthCallback.ts"
import * as OpsStore from "./OpsStore.ts"
import { emit, info, mark, Output } from "./Output.ts"
import * as StoreWiring from "./StoreWiring.ts"

/** The default redirect URI registered with the platform app for local authorization. */
export const DEFAULT_REDIRECT = "http://127.0.0.1:8789/callback"

const notYetAuthorized: AccessToken.TokenProvider = {
  current: Effect.fail(new ConnectorError.AuthRevoked({ message: "not authorized yet" })),
  refresh: () => Effect.fail(new ConnectorError.AuthRevoked({ message: "not authorized yet" }))
}

/**
 * A runner that owns the embedded store holds the connection's work until it is told: what waited
 * for the new grant goes now instead of after its wait (up to a minute).
 */
const tellRunner = (loaded: LoadedConfig, connection: string) =>
  Effect.gen(function* () {
    const where = OpsStore.location(loaded)
    if (where?.dialect !== "sqlite" || !Fs.existsSync(AdminApi.endpointFile(where.filename))) return
    yield* AdminApi.resume(where.filename, connection).pipe(
      Effect.matchEffect({
        onSuccess: (done) =>
          info(
            `the running tkbridge resumed ${connection}: held orders go now${done.stock > 0 ? `, ${done.stock} stock update${done.stock === 1 ? "" : "s"} due` : ""}`
          ),
        onFailure: (e) => info(`${e.message}; it picks the new grant up within a minute`)
      })
    )
  })

/** `tkbridge auth <connection>`. */
export const command = Command.make(
  "auth",
  {
    connection: Args.text({ name: "connection" }).pipe(Args.withDescription("the connection to authorize")),
    config: configOption,
    json: jsonOption,
    noBrowser: Options.boolean("no-browser").pipe(
      Options.withDescription("print the link instead of opening a browser")
    ),
    redirectUri: Options.text("redirect-uri").pipe(
      Options.withDescription(`the redirect URI registered with the app (default ${DEFAULT_REDIRECT})`),
      Options.withDefault(DEFAULT_REDIRECT)
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("minutes to wait for the authorization (default 10)"),
      Options.withDefault(10)
    )
  },
  ({ connection, config, json, noBrowser, redirectUri, timeout }) =>
    withOutput(
      json,
      Effect.gen(function* () {
        const loaded = yield* loadConfig(configFile(config))
        const resolved = loaded.connections.get(connection)
        if (resolved === undefined) {
          return yield* new CliFailure({
            message: `no connection named ${connection} (configured: ${[...loaded.connections.keys()].join(", ")})`,
            exitCode: 2
          })
        }
        const { manifest } = resolved.loaded.connector
        if (Connector.authKindOf(manifest, resolved.config).kind !== "oauth2") {
          return yield* new CliFailure({
            message: `${connection} (${manifest.displayName}) uses an API key: put it in connections.${connection}.config as \${ENV_VAR}`,
            exitCode: 2
          })
        }
        // Open the store before sending the seller to the platform: a code can be exchanged only once.
        const state = yield* StoreWiring.state(loaded, "write").pipe(
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new CliFailure({ message: "the store cannot keep tokens", exitCode: 1 })),
              onSome: Effect.succeed
            })
          ),
          Effect.mapError((e) =>
            e._tag === "CliFailure"
              ? e
              : new CliFailure({ message: `${e.message} — not starting the authorization`, exitCode: 1 })
          )
        )
        const services = yield* resolved.loaded.connector.make(resolved.config).pipe(
          Effect.provideService(AccessToken.AccessToken, notYetAuthorized),
          Effect.provideService(Connector.ConnectionContext, { connection }),
          Effect.provide(FetchHttpClient.layer),
          Effect.mapError((e) => new CliFailure({ message: `${connection}: ${e.message}`, exitCode: 2 }))
        )
        const auth = services.auth
        if (auth === undefined) {
          return yield* new CliFailure({ message: `${manifest.displayName} provides no OAuth flow`, exitCode: 1 })
        }
        const nonce = Crypto.randomBytes(24).toString("base64url")
        const callback = yield* OAuthCallback.listen(redirectUri, nonce).pipe(
          Effect.mapError((e) => new CliFailure({ message: e.message, exitCode: 2 }))
        )
        const link = auth.authorizeUrl({
          state: nonce,
          redirectUri: callback.redirectUri,
          scopes: resolved.neededScopes
        })
        const out = yield* Output
        const opened = !noBrowser && OAuthCallback.openBrowser(link)
        out.writeErr(
          `${opened ? "Opened your browser to authorize" : "Open this link to authorize"} ${connection} (${manifest.displayName}):\n\n  ${link}\n\nWaiting for the platform to redirect to ${callback.redirectUri} …\n`
        )
        const params = yield* callback.params.pipe(
          Effect.timeoutFail({
            duration: Duration.minutes(timeout),
            onTimeout: () =>
              new OAuthCallback.AuthorizationFailed({ message: `no authorization within ${timeout} minutes` })
          }),
          Effect.mapError((e) => new CliFailure({ message: e.message, exitCode: 1 }))
        )
        const tokens = yield* auth
          .exchange({ params, redirectUri: callback.redirectUri })
          .pipe(
            Effect.mapError((e) => new CliFailure({ message: `the code exchange failed: ${e.message}`, exitCode: 1 }))
          )
        yield* state
          .saveToken(connection, tokens)
          .pipe(
            Effect.mapError((e) => new CliFailure({ message: `cannot store the token: ${e.message}`, exitCode: 1 }))
          )
        const now = new Date()
        const tokenCheck = Doctor.tokenCheck(connection, manifest, Option.some(tokens), now)
        const scopeCheck = Doctor.scopeCheck(connection, resolved, manifest, Option.some(tokens))
        yield* emit(
          (o) =>
            `${mark(o, "pass")} ${connection} authorized\n  ${mark(o, tokenCheck.status)} ${tokenCheck.message}\n  ${mark(o, scopeCheck.status)} ${scopeCheck.message}\n`,
          () => ({ ok: true, connection, token: tokenCheck, scopes: scopeCheck })
        )
        if (scopeCheck.status === "fail") {
          yield* info("the grant is missing scopes the flows need: fix the app's scopes and run `tkbridge auth` again")
          return yield* new CliFailure({ message: scopeCheck.message, exitCode: 1, printed: true })
        }
        yield* tellRunner(loaded, connection)
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("authorize a shop (OAuth with a local callback)"))
