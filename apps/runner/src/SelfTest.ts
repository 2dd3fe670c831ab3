/**
 * SelfTest: the signed webhook `tkbridge doctor` sends to `<publicUrl>/webhooks/<connection>` to prove
 * that the platforms can reach the runner — DNS, TLS, proxies and the route — and how fast it
 * answers (platforms want ≤ 2–3 s). The runner recognises the signature, answers at once and stores
 * nothing; a delivery without a valid signature is handled like any other webhook.
 *
 * The key is `server.selfTestSecret` when set (several runners behind one URL must share it),
 * otherwise a random key kept in `.tkbridge/self-test.key` beside the config file (mode 0600).
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Effect, Redacted } from "effect"

/** The header carrying `t=<unix ms>,v1=<hex hmac>`. */
export const HEADER = "x-tkbridge-self-test"

/** How far a self-test's timestamp may be from the receiver's clock. */
export const MAX_SKEW_MS = 5 * 60_000

/** The key file used when the config sets no `server.selfTestSecret`. */
export const keyFile = (configDir: string): string => Path.join(configDir, ".tkbridge", "self-test.key")

/** Reads the self-test key, creating the key file on first use. */
export const loadKey = (configDir: string, configured: Redacted.Redacted<string> | undefined) =>
  configured !== undefined
    ? Effect.succeed(configured)
    : Effect.promise(async () => {
        const file = keyFile(configDir)
        try {
          return Redacted.make((await Fs.readFile(file, "utf8")).trim())
        } catch {
          await Fs.mkdir(Path.dirname(file), { recursive: true, mode: 0o700 })
          const key = Crypto.randomBytes(32).toString("hex")
          try {
            await Fs.writeFile(file, `${key}\n`, { flag: "wx", mode: 0o600 })
            return Redacted.make(key)
          } catch {
            // Another process created it first: use theirs.
            return Redacted.make((await Fs.readFile(file, "utf8")).trim())
          }
        }
      })

const mac = (key: Redacted.Redacted<string>, at: number, connection: string, body: string) =>
  Crypto.createHmac("sha256", Redacted.value(key)).update(`${at}.${connection}.${body}`).digest("hex")

/** Signs a self-test body for a connection. */
export const sign = (key: Redacted.Redacted<string>, connection: string, body: string, at: number): string =>
  `t=${at},v1=${mac(key, at, connection, body)}`

/** True when `header` is a valid, fresh self-test signature for this connection and body. */
export const verify = (
  key: Redacted.Redacted<string>,
  connection: string,
  body: string,
  header: string,
  now: number
): boolean => {
  const parts = Object.fromEntries(
    header.split(",").map((p) => {
      const i = p.indexOf("=")
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()]
    })
  )
  const at = Number(parts["t"])
  const given = parts["v1"]
  if (!Number.isFinite(at) || typeof given !== "string" || !/^[0-9a-f]{64}$/.test(given)) return false
  if (Math.abs(now - at) > MAX_SKEW_MS) return false
  return Crypto.timingSafeEqual(Buffer.from(mac(key, at, connection, body), "hex"), Buffer.from(given, "hex"))
}

/** A self-test body: unique, so no cache or dedupe in between can answer for the runner. */
export const body = (now: number): string =>
  JSON.stringify({ selfTest: true, nonce: Crypto.randomUUID(), sentAt: new Date(now).toISOString() })
