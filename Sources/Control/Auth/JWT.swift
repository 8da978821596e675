// JWT.swift: the API's access tokens (spec §10.2): JWS compact, HS256 only (the header's `alg` must be
// exactly HS256: no `none`, no algorithm confusion), claims uuid, jti, iat, exp, iss "decnet",
// aud "decnet-dashboard", typ "access". Verification checks the signature in constant time before
// reading any claim, then every required claim, issuer, audience, type and expiry. Users, revocation
// (jti denylist) and tokens_valid_from are the caller's checks on the returned claims.
import Appliance
import Crypto

public struct AccessClaims: Sendable, Equatable {
    public var uuid: String
    public var jti: String
    /// NumericDate with millisecond precision (RFC 7519 allows fractions): a token issued in the same second
    /// as a password change is still ordered against it.
    public var issuedAt: Double
    public var expires: Int

    public init(uuid: String, jti: String, issuedAt: Double, expires: Int) {
        self.uuid = uuid
        self.jti = jti
        self.issuedAt = issuedAt
        self.expires = expires
    }
}

public enum TokenError: Error, Equatable, CustomStringConvertible {
    case malformed, badSignature, unsupportedAlgorithm, expired, wrongIssuer, wrongAudience, wrongType, missingClaim(String)
    public var description: String {
        switch self {
        case .malformed: return "malformed token"
        case .badSignature: return "bad signature"
        case .unsupportedAlgorithm: return "unsupported algorithm"
        case .expired: return "token expired"
        case .wrongIssuer: return "wrong issuer"
        case .wrongAudience: return "wrong audience"
        case .wrongType: return "wrong token type"
        case .missingClaim(let c): return "missing claim \(c)"
        }
    }
}

public struct TokenSigner: Sendable {
    public static let issuer = "decnet", audience = "decnet-dashboard"
    /// Largest exp/iat accepted: 2^53 - 1 seconds (exact as a JSON number).
    public static let maxNumericDate = 9_007_199_254_740_991
    public static let weakSecrets: Set<String> = ["fallback-secret-key-change-me", "admin", "secret", "password", "changeme"]
    let key: [UInt8]

    /// The secret must be at least 32 bytes and not a known default (spec §10.2).
    public init(secret: String) throws {
        guard secret.utf8.count >= 32, !TokenSigner.weakSecrets.contains(secret) else {
            throw TokenError.malformed
        }
        key = Array(secret.utf8)
    }

    func mac(_ data: some Collection<UInt8>) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(data), using: SymmetricKey(data: key)))
    }

    public func sign(_ c: AccessClaims) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = JSONValue.object([
            ("uuid", .string(c.uuid)), ("jti", .string(c.jti)), ("iat", .number(c.issuedAt)), ("exp", .number(Double(c.expires))),
            ("iss", .string(TokenSigner.issuer)), ("aud", .string(TokenSigner.audience)), ("typ", .string("access")),
        ]).serialized
        let input = header + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(mac(input.utf8))
    }

    public func verify(_ token: String, now: Int) throws(TokenError) -> AccessClaims {
        guard token.utf8.count <= 4096 else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let sig = Base64URL.decode(parts[2]), let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]) else { throw .malformed }
        guard let header = try? JSONValue.parse(headerBytes), case .object = header else { throw .malformed }
        guard header["alg"]?.stringValue == "HS256" else { throw .unsupportedAlgorithm }
        let expected = mac(Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8))
        guard sig.count == expected.count, zip(sig, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { throw .badSignature }
        guard let p = try? JSONValue.parse(payloadBytes), case .object = p else { throw .malformed }
        for c in ["exp", "iat", "iss", "aud", "uuid", "jti"] where p[c] == nil { throw .missingClaim(c) }
        guard let exp = p["exp"]?.doubleValue, let iat = p["iat"]?.doubleValue, let uuid = p["uuid"]?.stringValue,
              let jti = p["jti"]?.stringValue, !uuid.isEmpty, !jti.isEmpty else { throw .malformed }
        guard p["iss"]?.stringValue == TokenSigner.issuer else { throw .wrongIssuer }
        guard p["aud"]?.stringValue == TokenSigner.audience else { throw .wrongAudience }
        guard p["typ"]?.stringValue == "access" else { throw .wrongType }
        // NumericDates within 0...2^53 (a signed exp of 2^63 trapped converting to Int).
        guard let expires = CheckedMath.exactInt(exp.rounded(.down), in: 0...TokenSigner.maxNumericDate),
              iat.isFinite, iat >= 0, iat <= Double(TokenSigner.maxNumericDate) else { throw .malformed }
        guard Double(now) < exp else { throw .expired }
        return AccessClaims(uuid: uuid, jti: jti, issuedAt: iat, expires: expires)
    }
}

/// RFC 4648 §5 base64url without padding (JWS).
public enum Base64URL {
    public static func encode(_ b: [UInt8]) -> String {
        var s = Base64.encode(b)
        while s.last == "=" { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    public static func decode(_ t: some StringProtocol) -> [UInt8]? {
        guard t.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
        var s = String(t.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        switch s.utf8.count % 4 {
        case 0: break
        case 2: s += "=="
        case 3: s += "="
        default: return nil
        }
        return Base64.decode(s)
    }
}
