/**
 * MemoryConfig: the connection config of the Memory connector, decoded from the runner's YAML.
 * `clientSecret` and `webhookSecret` are secrets (`Redacted`): they never reach logs, errors or
 * cURL lines.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.filter((s) => s.trim().length > 0 || "must not be empty"))

const Url = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const u = new URL(s)
      return u.protocol === "https:" || u.protocol === "http:" || "must be an http(s) URL"
    } catch {
      return "must be an absolute URL such as https://api.memory.example"
    }
  })
)

/** The config of one Memory connection. */
export const MemoryConfig = Schema.Struct({
  /** The platform's base URL (the sandbox's URL in tests and the demo). */
  baseUrl: Url,
  /** The app's OAuth client id. */
  clientId: NonEmpty,
  /** The app's OAuth client secret. Secret. */
  clientSecret: Schema.Redacted(NonEmpty),
  /** The secret webhook deliveries are signed with (HMAC-SHA256 over the raw body). Secret. */
  webhookSecret: Schema.Redacted(NonEmpty),
  /** The location stock pushes without a location go to (default: the platform's default location). */
  defaultLocation: Schema.optional(NonEmpty),
  /** Per-request timeout in milliseconds (default 30 000). */
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 300_000)), { default: () => 30_000 })
})

/** The decoded config. */
export type MemoryConfig = typeof MemoryConfig.Type

/** The config as written in YAML or JSON (secrets as plain strings). */
export type MemoryConfigInput = typeof MemoryConfig.Encoded
