/**
 * OAuthCallback: the local side of `tkbridge auth` — a one-shot HTTP server on the loopback address
 * that receives the platform's redirect, checks the `state` it was given (a random value, so a
 * forged redirect from another page cannot plant someone else's authorization) and hands the
 * callback's query to the connector's `auth.exchange`.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { Scope } from "effect"
import { Deferred, Effect, Schema } from "effect"

/** The authorization did not complete. */
export class AuthorizationFailed extends Schema.TaggedError<AuthorizationFailed>("tkbridge/AuthorizationFailed")(
  "AuthorizationFailed",
  { message: Schema.String }
) {}

/** A listening callback server. */
export interface CallbackServer {
  /** The redirect URI to give the platform (the real port when 0 was asked for). */
  readonly redirectUri: string
  /** Waits for the callback carrying `state`; fails on an `error` callback. */
  readonly params: Effect.Effect<Readonly<Record<string, string>>, AuthorizationFailed>
}

const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>tkbridge</title><body style="font-family:system-ui;margin:3em"><h1>${title}</h1><p>${text}</p></body>`

/** Starts the callback server for `redirectUri` (an http://127.0.0.1 or http://localhost URL). */
export const listen = (
  redirectUri: string,
  state: string
): Effect.Effect<CallbackServer, AuthorizationFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const target = yield* Effect.try({
      try: () => new URL(redirectUri),
      catch: () => new AuthorizationFailed({ message: `invalid redirect URI ${redirectUri}` })
    })
    if (target.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(target.hostname)) {
      return yield* new AuthorizationFailed({
        message: `the redirect URI must be a loopback http:// URL this machine can listen on (got ${redirectUri})`
      })
    }
    const result = yield* Deferred.make<Readonly<Record<string, string>>, AuthorizationFailed>()
    const server = Http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", target)
      if (url.pathname !== target.pathname) {
        res.writeHead(404).end()
        return
      }
      const params = Object.fromEntries(url.searchParams)
      if (params["state"] !== state) {
        res.writeHead(400, { "content-type": "text/html; charset=utf-8" })
        res.end(
          page(
            "Authorization refused",
            "This link was not started by this <code>tkbridge auth</code> run (state mismatch)."
          )
        )
        return
      }
      const error = params["error"] ?? params["error_code"]
      res.writeHead(error ? 400 : 200, { "content-type": "text/html; charset=utf-8" })
      if (error) {
        res.end(page("Authorization failed", `The platform said: ${escapeHtml(params["error_description"] ?? error)}`))
        Deferred.unsafeDone(
          result,
          Effect.fail(
            new AuthorizationFailed({ message: `the platform refused: ${params["error_description"] ?? error}` })
          )
        )
        return
      }
      res.end(page("Authorized", "tkbridge received the authorization. You can close this tab."))
      Deferred.unsafeDone(result, Effect.succeed(params))
    })
    const port = yield* Effect.async<number, AuthorizationFailed>((resume) => {
      server.once("error", (e) =>
        resume(Effect.fail(new AuthorizationFailed({ message: `cannot listen on ${target.host}: ${e.message}` })))
      )
      server.listen(Number(target.port || 80), target.hostname.replace(/^\[|\]$/g, ""), () =>
        resume(Effect.succeed((server.address() as AddressInfo).port))
      )
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
    )
    const actual = new URL(target)
    actual.port = String(port)
    return { redirectUri: actual.toString(), params: Deferred.await(result) }
  })

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Opens `url` in the desktop's browser when there is one; false when there is none. */
export const openBrowser = (url: string): boolean => {
  const platform = process.platform
  const [command, args] =
    platform === "darwin"
      ? ["open", [url]]
      : platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : process.env["DISPLAY"] || process.env["WAYLAND_DISPLAY"]
          ? ["xdg-open", [url]]
          : [undefined, []]
  if (command === undefined) return false
  try {
    const child = spawn(command, args as Array<string>, { detached: true, stdio: "ignore" })
    child.on("error", () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}
