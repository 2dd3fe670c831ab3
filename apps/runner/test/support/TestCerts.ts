/**
 * TestCerts: a throwaway PKI made with the `openssl` command for TLS tests — a root CA, an
 * intermediate CA and leaf certificates for `localhost`/127.0.0.1 (valid, expired, self-signed).
 * Everything is written to a temporary directory; nothing is checked in.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** PEM files of a test PKI. */
export interface TestPki {
  readonly dir: string
  /** The root CA certificate (trust it with NODE_EXTRA_CA_CERTS). */
  readonly rootCert: string
  readonly intermediateCert: string
  /** A valid leaf for localhost and 127.0.0.1, signed by the intermediate. */
  readonly leafCert: string
  readonly leafKey: string
  /** leaf + intermediate: what a correctly configured server sends. */
  readonly fullChain: string
  /** A leaf that expired yesterday, signed by the intermediate, + the intermediate. */
  readonly expiredChain: string
  readonly expiredKey: string
  /** A leaf valid for 5 more days + the intermediate. */
  readonly soonChain: string
  readonly soonKey: string
  /** A self-signed certificate for localhost. */
  readonly selfSignedCert: string
  readonly selfSignedKey: string
}

const openssl = (cwd: string, args: ReadonlyArray<string>) =>
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] })

/** Creates a fresh PKI in a temporary directory. */
export const makePki = (): TestPki => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tkbridge-pki-"))
  const file = (name: string) => Path.join(dir, name)
  Fs.writeFileSync(file("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
  Fs.writeFileSync(
    file("leaf.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
  )
  const key = (name: string) =>
    openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name])
  const csr = (keyName: string, out: string, cn: string) =>
    openssl(dir, ["req", "-new", "-key", keyName, "-out", out, "-subj", `/O=tkbridge test/CN=${cn}`])
  const sign = (
    csrName: string,
    caCert: string,
    caKey: string,
    ext: string,
    days: number,
    out: string,
    serial: number
  ) =>
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      csrName,
      "-CA",
      caCert,
      "-CAkey",
      caKey,
      "-set_serial",
      String(serial),
      "-days",
      String(days),
      "-extfile",
      ext,
      "-out",
      out
    ])
  key("root.key")
  openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "root.key",
    "-out",
    "root.crt",
    "-days",
    "30",
    "-subj",
    "/O=tkbridge test/CN=tkbridge Test Root CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign"
  ])
  key("int.key")
  csr("int.key", "int.csr", "tkbridge Test Intermediate CA")
  sign("int.csr", "root.crt", "root.key", "ca.ext", 30, "int.crt", 2)
  key("leaf.key")
  csr("leaf.key", "leaf.csr", "localhost")
  sign("leaf.csr", "int.crt", "int.key", "leaf.ext", 20, "leaf.crt", 3)
  key("expired.key")
  csr("expired.key", "expired.csr", "localhost")
  sign("expired.csr", "int.crt", "int.key", "leaf.ext", -1, "expired.crt", 4)
  key("soon.key")
  csr("soon.key", "soon.csr", "localhost")
  sign("soon.csr", "int.crt", "int.key", "leaf.ext", 5, "soon.crt", 5)
  key("self.key")
  openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "self.key",
    "-out",
    "self.crt",
    "-days",
    "20",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1"
  ])
  const read = (name: string) => Fs.readFileSync(file(name), "utf8")
  const chain = (leaf: string, name: string) => {
    Fs.writeFileSync(file(name), read(leaf) + read("int.crt"))
    return file(name)
  }
  return {
    dir,
    rootCert: file("root.crt"),
    intermediateCert: file("int.crt"),
    leafCert: file("leaf.crt"),
    leafKey: file("leaf.key"),
    fullChain: chain("leaf.crt", "leaf-full.crt"),
    expiredChain: chain("expired.crt", "expired-full.crt"),
    expiredKey: file("expired.key"),
    soonChain: chain("soon.crt", "soon-full.crt"),
    soonKey: file("soon.key"),
    selfSignedCert: file("self.crt"),
    selfSignedKey: file("self.key")
  }
}
