// SwarmToken.swift: single-use join tokens, kubeadm style: `decnet1.<ca hash>.<id>.<secret>`. The CA hash (SHA-256
// of the root's SubjectPublicKeyInfo) lets the joining worker authenticate the master before it sends anything
// secret; the secret authenticates the worker. The master stores only SHA-256(secret).
import Appliance
import Crypto
import Foundation
import X509

public struct SwarmJoinToken: Sendable, Equatable, CustomStringConvertible {
    public var caHash: String
    public var id: String
    public var secret: String

    public static let prefix = "decnet1"

    public init(caHash: String, id: String, secret: String) {
        self.caHash = caHash
        self.id = id
        self.secret = secret
    }

    /// A new token for the authority whose root hashes to `caHash`.
    public static func make(caHash: String) -> SwarmJoinToken {
        SwarmJoinToken(caHash: caHash, id: SwarmPKI.hex(randomSecretBytes(8)), secret: Base64URL.encode(randomSecretBytes(32)))
    }

    public var description: String { "\(Self.prefix).\(caHash).\(id).\(secret)" }

    public var secretHash: String { Self.hash(secret: secret) }
    public static func hash(secret: String) -> String { SwarmPKI.hex(SHA256.hash(data: Array(secret.utf8))) }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a token; every field is checked for shape (hex lengths, base64url alphabet) before use.
    public static func parse(_ text: String) throws -> SwarmJoinToken {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.utf8.count <= 256 else { throw Malformed(description: "join token: too long") }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == prefix else {
            throw Malformed(description: "join token: expected decnet1.<ca-hash>.<id>.<secret>")
        }
        guard parts[1].utf8.count == 64, parts[1].utf8.allSatisfy(isHex) else {
            throw Malformed(description: "join token: the CA hash must be 64 hex digits")
        }
        guard parts[2].utf8.count == 16, parts[2].utf8.allSatisfy(isHex) else {
            throw Malformed(description: "join token: the id must be 16 hex digits")
        }
        guard parts[3].utf8.count == 43, let raw = Base64URL.decode(parts[3]), raw.count == 32 else {
            throw Malformed(description: "join token: the secret must be 32 bytes of base64url")
        }
        return SwarmJoinToken(caHash: String(parts[1]), id: String(parts[2]), secret: String(parts[3]))
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }

    /// Constant-time comparison of two hex digests.
    public static func sameDigest(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}

/// The TTL forms `decnet swarm token create --ttl` takes: `90s`, `30m`, `2h`, `1d` (at most 7 days).
public func parseDuration(_ s: String) -> TimeInterval? {
    guard let unit = s.last, let n = Int(s.dropLast()), n > 0 else { return nil }
    let seconds: Int
    switch unit {
    case "s": seconds = n
    case "m": seconds = n * 60
    case "h": seconds = n * 3600
    case "d": seconds = n * 86_400
    default: return nil
    }
    return seconds <= 7 * 86_400 ? TimeInterval(seconds) : nil
}

/// An offline join bundle for hosts that cannot fetch anything first: the token, the master's URL and the root
/// certificate (public; its key hash must equal the token's). Never a private key.
public struct SwarmJoinBundle: Sendable {
    public var token: SwarmJoinToken
    public var masterURL: String
    public var rootPEM: String

    public init(token: SwarmJoinToken, masterURL: String, root: Certificate) {
        self.token = token
        self.masterURL = masterURL
        self.rootPEM = SwarmPKI.pem(root)
    }

    public var json: JSONValue {
        .object([("format", .string("decnet-join-bundle/1")), ("token", .string(token.description)), ("master_url", .string(masterURL)),
                 ("ca", .string(rootPEM))])
    }

    /// Parses and checks a bundle: a well-formed token whose CA hash is the bundled root's.
    public init(json j: JSONValue) throws {
        guard j["format"]?.stringValue == "decnet-join-bundle/1", let t = j["token"]?.stringValue, let u = j["master_url"]?.stringValue,
              let ca = j["ca"]?.stringValue else { throw SwarmPKI.Failure("not a decnet join bundle") }
        token = try SwarmJoinToken.parse(t)
        masterURL = u
        rootPEM = ca
        let root = try SwarmPKI.parseCertificate(pem: ca)
        guard SwarmJoinToken.sameDigest(SwarmPKI.caHash(root), token.caHash) else { throw SwarmPKI.Failure("the bundle's root does not match its token") }
        guard !ca.contains("PRIVATE KEY") else { throw SwarmPKI.Failure("a join bundle never carries a key") }
    }
}
