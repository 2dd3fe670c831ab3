/**
 * The connector value the runner loads: manifest, config decoding (defaults, secrets redacted,
 * clear errors), `make` providing exactly the claimed capabilities plus `auth`, and layers.
 */
import { assert, describe, it } from "@effect/vitest"
import { FourPxConfig, FourPxConnector, FourPxError } from "@tkbridge/connector-4px"
import { FourPxSandbox } from "@tkbridge/connector-4px/sandbox"
import { AccessToken, Connector, ConnectorError } from "@tkbridge/core"
import { Duration, Effect, Layer, Redacted, Schema } from "effect"
import { http, parcelRequest } from "./support.ts"

const minimal = {
  appKey: "16081f05-e8fc-4250-b9c4-0660d1ecbb28",
  appSecret: "7eebf328-8e5a-4030-904d-ec6e89174fbc",
  sender: {
    firstName: "Wei",
    phone: "13800138000",
    postCode: "518057",
    country: "CN",
    city: "Shenzhen",
    street: "1 Keji South Road, Nanshan"
  }
}

describe("FourPxConnector", () => {
  it("declares its capabilities, scopes and auth", () => {
    const { manifest } = FourPxConnector
    assert.strictEqual(manifest.id, "4px")
    assert.deepStrictEqual([...manifest.capabilities], ["shipment.create", "tracking.pull"])
    assert.deepStrictEqual(manifest.auth, { kind: "oauth2" })
    assert.deepStrictEqual(Connector.requiredScopes(manifest, ["tracking.pull"]), ["tr.order.tracking.get"])
    assert.include(manifest.apiVersion, "ds.xms.order.create 1.0.0")
  })

  it("decodes a minimal config with 4PX-like defaults and keeps the secret redacted", () => {
    const config = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)(minimal)
    assert.strictEqual(config.baseUrl, "https://open.4px.com")
    assert.deepStrictEqual(config.auth, { mode: "apiKey" })
    assert.strictEqual(config.language, "en")
    assert.strictEqual(FourPxConfig.versionOf(config, "ds.xms.order.get"), "1.1.0")
    assert.strictEqual(FourPxConfig.versionOf(config, "tr.order.tracking.get"), "1.0.0")
    assert.strictEqual(FourPxConfig.authBaseOf(config), "https://open.4px.com")
    assert.isTrue(Redacted.isRedacted(config.appSecret))
    assert.notInclude(JSON.stringify(config), minimal.appSecret)
    assert.notInclude(String(config.appSecret), minimal.appSecret)
    const oauth = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)({
      ...minimal,
      auth: { mode: "oauth" },
      versions: { "ds.xms.order.create": "1.1.0" }
    })
    assert.deepStrictEqual(oauth.auth, {
      mode: "oauth",
      refreshGrantType: "refresh_token",
      refreshTokenTtlDays: 365,
      tokenExpiredCodes: ["000014"]
    })
    assert.strictEqual(FourPxConfig.versionOf(oauth, "ds.xms.order.create"), "1.1.0")
  })

  it.effect("refuses bad configs with messages naming the key", () =>
    Effect.gen(function* () {
      const bad = (input: unknown) =>
        Effect.flip(
          Layer.build(FourPxConnector.layerConfig(input)).pipe(
            Effect.provide(http),
            Effect.provideService(
              AccessToken.AccessToken,
              AccessToken.fixed(new AccessToken.TokenSet({ accessToken: Redacted.make("x") }))
            ),
            Effect.provideService(Connector.ConnectionContext, { connection: "4px" }),
            Effect.scoped
          )
        )
      const noSender = yield* bad({ appKey: "k", appSecret: "s" })
      assert.strictEqual(noSender._tag, "ConnectorConfigError")
      assert.include(noSender.message, "sender")
      const shortStreet = yield* bad({ ...minimal, sender: { ...minimal.sender, street: "Road 1" } })
      assert.include(shortStreet.message, "street")
      const badVersion = yield* bad({ ...minimal, versions: { "ds.xms.order.create": "latest" } })
      assert.include(badVersion.message, "version")
      const badMode = yield* bad({ ...minimal, auth: { mode: "password" } })
      assert.include(badMode.message, "mode")
      const badUrl = yield* bad({ ...minimal, baseUrl: "open.4px.com" })
      assert.include(badUrl.message, "URL")
    })
  )

  it.scopedLive("makes exactly the claimed services plus auth, through defineConnector and as a layer", () =>
    Effect.gen(function* () {
      const sandbox = yield* FourPxSandbox.scoped()
      const config = Schema.decodeUnknownSync(FourPxConfig.FourPxConfig)(sandbox.connectorConfig())
      // The HTTP client lives as long as the test's scope.
      const httpContext = yield* Layer.build(http)
      const services = yield* FourPxConnector.connector
        .make(config)
        .pipe(
          Effect.provide(httpContext),
          Effect.provideService(AccessToken.AccessToken, AccessToken.fixed(sandbox.issueTokenSet())),
          Effect.provideService(Connector.ConnectionContext, { connection: "4px-main" })
        )
      assert.deepStrictEqual(Object.keys(services).sort(), ["auth", "shipment.create", "tracking.pull"])
      const context = yield* Layer.build(FourPxConnector.layerConfig(sandbox.connectorConfig())).pipe(
        Effect.provide(httpContext),
        Effect.provideService(AccessToken.AccessToken, AccessToken.fixed(sandbox.issueTokenSet())),
        Effect.provideService(Connector.ConnectionContext, { connection: "4px-main" })
      )
      const viaLayer = yield* FourPxConnector.FourPx.pipe(Effect.provide(context))
      const created = yield* viaLayer["shipment.create"].create(parcelRequest("TT-LAYER-1"))
      assert.strictEqual(sandbox.parcel("TT-LAYER-1")!.dsNo, created.externalId)
    })
  )
})

describe("FourPxError", () => {
  const failure = (code: string, message = "text", data?: string): FourPxError.Failure => ({
    method: "ds.xms.order.create",
    errors: [{ code, message, ...(data !== undefined ? { data } : {}) }],
    httpStatus: 200,
    connection: "4px-main"
  })

  it("maps every documented gateway code", () => {
    const tag = (code: string) => FourPxError.fromFailure(failure(code), FourPxError.defaultContext)._tag
    const expected: Record<string, string> = {
      "000004": "Rejected",
      "000011": "Rejected",
      "000012": "Rejected",
      "000013": "AuthRevoked",
      "000014": "AuthRevoked",
      "000015": "Transient",
      "000016": "ScopeMissing",
      "000017": "RateLimited",
      "000018": "AuthRevoked",
      "000019": "Rejected",
      "000020": "Transient",
      "000021": "AuthRevoked",
      "000022": "AuthRevoked",
      "000023": "AuthRevoked",
      "000024": "Transient",
      "000025": "ScopeMissing"
    }
    for (const [code, t] of Object.entries(expected)) assert.strictEqual(tag(code), t, code)
  })

  it("maps business codes, unknown codes and 'not found' texts", () => {
    const of = (f: FourPxError.Failure, context = FourPxError.defaultContext) => FourPxError.fromFailure(f, context)
    assert.strictEqual(of(failure("DS000006"))._tag, "RateLimited")
    assert.strictEqual(of(failure("DS000007"))._tag, "Transient")
    assert.strictEqual(of(failure("DS000014"))._tag, "Rejected")
    assert.strictEqual(of(failure("DS000017"))._tag, "NotFound")
    assert.strictEqual(of(failure("0", "Can not find this order"))._tag, "NotFound")
    assert.strictEqual(of(failure("0", "订单不存在"))._tag, "NotFound")
    const unknown = of(failure("010101005", "Consignee name must be letters", "recipient_info.first_name"))
    assert.strictEqual(unknown._tag, "Rejected")
    assert.strictEqual(unknown.code, "010101005")
    assert.include(unknown.message, "recipient_info.first_name")
    const many = of({
      ...failure("DS000004", "ref_no too long"),
      errors: [
        { code: "DS000004", message: "ref_no too long" },
        { code: "DS000004", message: "phone required" }
      ]
    })
    assert.include(many.message, "ref_no too long; DS000004 phone required")
    const empty = of({ method: "ds.xms.order.get", errors: [], msg: "System processing failed", httpStatus: 200 })
    assert.strictEqual(empty._tag, "Rejected")
    assert.include(empty.message, "System processing failed")
  })

  it("in oauth mode an expired token is AuthExpired (refresh once), other auth codes stay AuthRevoked", () => {
    const context: FourPxError.ErrorContext = {
      ...FourPxError.defaultContext,
      mode: "oauth",
      tokenExpiredCodes: ["000014", "000022"]
    }
    assert.strictEqual(FourPxError.fromFailure(failure("000014"), context)._tag, "AuthExpired")
    assert.strictEqual(FourPxError.fromFailure(failure("000022"), context)._tag, "AuthExpired")
    assert.strictEqual(FourPxError.fromFailure(failure("000021"), context)._tag, "AuthRevoked")
    const limited = FourPxError.fromFailure(failure("000017"), { ...context, rateLimitBackoff: Duration.seconds(90) })
    assert.isTrue(limited._tag === "RateLimited" && Duration.toMillis(limited.retryAfter) === 90_000)
    assert.strictEqual(ConnectorError.disposition(FourPxError.fromFailure(failure("000012"), context)), "dead")
    assert.strictEqual(ConnectorError.disposition(FourPxError.fromFailure(failure("000020"), context)), "retry")
  })
})
