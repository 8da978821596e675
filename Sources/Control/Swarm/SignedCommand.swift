// SignedCommand.swift: destructive commands (self-destruct) travel as a signed envelope, not a bare request:
// the master signs `decnet-signed-command/1 | command | host | nonce | issued | expires` with its identity key
// (ECDSA P-256); the worker checks the signer is its pinned master, the host is itself, the envelope is in date
// (at most 10 minutes long) and the nonce has not been seen (nonces are kept on disk until they expire).
import Appliance
import Crypto
import Foundation
import NIOConcurrencyHelpers
import X509

public enum SignedCommand {
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    static func payload(command: String, hostUUID: String, nonce: String, issued: Int64, expires: Int64) -> [UInt8] {
        Array("decnet-signed-command/1\n\(command)\n\(hostUUID)\n\(nonce)\n\(issued)\n\(expires)".utf8)
    }

    /// An envelope for `command` to `hostUUID`, valid for `lifetime` seconds.
    public static func make(
        command: String, hostUUID: String, authority: SwarmAuthority, now: Double = wallClockSeconds(), lifetime: Double = 300
    )
        throws -> JSONValue
    {
        let nonce = SwarmPKI.hex(randomSecretBytes(16))
        let issued = Int64(now), expires = Int64(now + lifetime)
        let sig = try authority.masterKey.signature(
            for: payload(command: command, hostUUID: hostUUID, nonce: nonce, issued: issued, expires: expires))
        return .object([
            ("command", .string(command)), ("host_uuid", .string(hostUUID)), ("nonce", .string(nonce)),
            ("issued_at", .number(Double(issued))), ("expires_at", .number(Double(expires))),
            ("signer", .string(SwarmPKI.pem(authority.master))), ("signature", .string(Base64.encode(Array(sig.derRepresentation)))),
        ])
    }

    /// Verifies an envelope; throws with the reason. Records the nonce when accepted.
    public static func verify(
        _ e: JSONValue, command: String, hostUUID: String, masterPins: Set<String>, root: Certificate,
        nonces: SignedCommandNonces, now: Double
    ) throws {
        guard e["command"]?.stringValue == command else { throw Refused("not a \(command) command") }
        guard e["host_uuid"]?.stringValue == hostUUID else { throw Refused("addressed to another host") }
        guard let nonce = e["nonce"]?.stringValue, nonce.utf8.count == 32, nonce.utf8.allSatisfy(SwarmJoinToken.isHex) else {
            throw Refused("bad nonce")
        }
        guard let i = e["issued_at"]?.doubleValue, let x = e["expires_at"]?.doubleValue, i.isFinite, x.isFinite, abs(i) < 1e13, abs(x) < 1e13 else {
            throw Refused("bad issued_at/expires_at")
        }
        let issued = Int64(i), expires = Int64(x)
        guard expires > issued, expires - issued <= 600 else { throw Refused("validity window longer than 10 minutes") }
        guard Double(issued) <= now + 60 else { throw Refused("issued in the future") }
        guard now <= Double(expires) else { throw Refused("expired") }
        guard let signerPEM = e["signer"]?.stringValue, let signer = try? SwarmPKI.parseCertificate(pem: signerPEM),
            masterPins.contains(SwarmPKI.fingerprint(signer)), SwarmIdentity.of(signer)?.role == .master, SwarmPKI.isIssued(signer, by: root)
        else { throw Refused("not signed by the pinned master") }
        guard let sigB64 = e["signature"]?.stringValue, let sigDER = Base64.decode(sigB64),
            let sig = try? P256.Signing.ECDSASignature(derRepresentation: sigDER), let key = P256.Signing.PublicKey(signer.publicKey),
            key.isValidSignature(sig, for: payload(command: command, hostUUID: hostUUID, nonce: nonce, issued: issued, expires: expires))
        else { throw Refused("bad signature") }
        guard nonces.claim(nonce, until: Double(expires), now: now) else { throw Refused("replayed (nonce already used)") }
    }
}

/// Nonces already used, each kept until its envelope expires (a file of `nonce expires` lines, 0600).
public final class SignedCommandNonces: Sendable {
    let path: String
    let lock = NIOLock()

    public init(path: String) { self.path = path }

    public func claim(_ nonce: String, until: Double, now: Double) -> Bool {
        lock.withLock {
            var live: [(String, Double)] = []
            if let b = readFile(path, limit: 1 << 20) {
                for line in String(decoding: b, as: UTF8.self).split(separator: "\n") {
                    let p = line.split(separator: " ")
                    if p.count == 2, let t = Double(p[1]), t >= now { live.append((String(p[0]), t)) }
                }
            }
            if live.contains(where: { $0.0 == nonce }) { return false }
            live.append((nonce, until))
            return writeWholeFile(path, Array(live.map { "\($0.0) \(Int64($0.1))\n" }.joined().utf8), mode: 0o600)
        }
    }
}
