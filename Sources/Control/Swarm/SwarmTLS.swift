// SwarmTLS.swift: pinning in the TLS layer. Every swarm listener and client replaces BoringSSL's chain check
// with a swift-nio-ssl verification callback that (1) checks the leaf was issued by the fleet root and is in
// date, (2) reads the role and id from its SPIFFE SAN, and (3) compares the SHA-256 of its DER with a pin:
// the master's host table (so an evicted or banned worker fails the handshake on every master port), or, on a
// worker, the master's own pin (so another worker's certificate, or another master's, is refused).
import Appliance
import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import X509

/// The certificates the master admits: fingerprint -> host uuid, refreshed from the store.
public final class SwarmPinTable: Sendable {
    private let pins = NIOLockedValueBox<[String: String]>([:])

    public init() {}

    /// Rebuilds the table from the host rows (current pins of admitted hosts, previous pins inside their grace).
    public func load(_ hosts: [SwarmHostRecord], now: Double) {
        var m: [String: String] = [:]
        for h in hosts where SwarmHostRecord.admitted.contains(h.status) {
            m[h.fingerprint] = h.uuid
            if let p = h.previousFingerprint, let until = h.previousUntil, until > now { m[p] = h.uuid }
        }
        pins.withLockedValue { $0 = m }
    }

    /// Removes one host's pins now (evict, ban, decommission in this process: no wait for the next refresh).
    public func drop(uuid: String) { pins.withLockedValue { $0 = $0.filter { $0.value != uuid } } }

    public func host(for fingerprint: String) -> String? { pins.withLockedValue { $0[fingerprint] } }
}

/// What a verification callback decided, for the listener's log and audit.
public struct SwarmPeer: Sendable, Equatable {
    public var identity: SwarmIdentity
    public var fingerprint: String
}

public enum SwarmTLS {
    /// Checks a presented chain: leaf issued by `root`, in date, with a fleet identity. Returns the identity
    /// and the leaf's fingerprint, or nil.
    public static func peer(_ chain: [NIOSSLCertificate], root: Certificate, now: Date = Date()) -> SwarmPeer? {
        guard let first = chain.first, let der = try? first.toDERBytes(), let leaf = try? Certificate(derEncoded: der) else { return nil }
        guard SwarmPKI.isIssued(leaf, by: root, now: now), let id = SwarmIdentity.of(leaf) else { return nil }
        return SwarmPeer(identity: id, fingerprint: SwarmPKI.fingerprint(der: der))
    }

    /// The master's listeners: a worker whose fingerprint is pinned to its own id, or the master itself.
    public static func masterCallback(
        authority: SwarmAuthority, pins: SwarmPinTable, logger: Logger
    )
        -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void
    {
        let root = authority.root, fleet = authority.fleet, masterPin = authority.masterPin
        return { chain, promise in
            guard let p = peer(chain, root: root), p.identity.fleet == fleet else {
                logger.warning("swarm: handshake refused: not a certificate of this fleet")
                promise.succeed(.failed)
                return
            }
            switch p.identity.role {
            case .master where p.fingerprint == masterPin:
                promise.succeed(.certificateVerified)
            case .worker where pins.host(for: p.fingerprint) == p.identity.id:
                promise.succeed(.certificateVerified)
            default:
                logger.warning("swarm: handshake refused: \(p.identity.role.rawValue) \(p.identity.id) is not pinned (evicted, banned or unknown)")
                promise.succeed(.failed)
            }
        }
    }

    /// A worker's side: only the certificate pinned as the master's (role master, same fleet).
    public static func pinnedCallback(
        root: Certificate, pins: @escaping @Sendable () -> Set<String>, role: SwarmRole
    )
        -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void
    {
        { chain, promise in
            guard let p = peer(chain, root: root), p.identity.role == role, pins().contains(p.fingerprint) else {
                promise.succeed(.failed)
                return
            }
            promise.succeed(.certificateVerified)
        }
    }

    /// Joining: the server must send [leaf, root]; the root's key must hash to the token's CA hash and the leaf
    /// must be a master of that root. Checked in the handshake, so nothing is sent to a master with another CA.
    public static func joinCallback(
        caHash: String, sawRoot: NIOLockedValueBox<Certificate?>
    )
        -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void
    {
        { chain, promise in
            for c in chain.dropFirst() {
                guard let der = try? c.toDERBytes(), let cand = try? Certificate(derEncoded: der) else { continue }
                guard SwarmJoinToken.sameDigest(SwarmPKI.caHash(cand), caHash) else { continue }
                if let p = peer(chain, root: cand), p.identity.role == .master {
                    sawRoot.withLockedValue { $0 = cand }
                    promise.succeed(.certificateVerified)
                    return
                }
            }
            promise.succeed(.failed)
        }
    }

    /// A server configuration presenting `certificate` (+ the root, so joiners can check it) with `key`.
    public static func serverConfiguration(
        certificatePEM: String, rootPEM: String, keyPEM: String, requireClientCertificate: Bool
    ) throws
        -> TLSConfiguration
    {
        let leaf = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let root = try NIOSSLCertificate(bytes: Array(rootPEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(leaf), .certificate(root)], privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        c.certificateVerification = requireClientCertificate ? .noHostnameVerification : .optionalVerification
        return c
    }

    /// A client configuration presenting `certificate`/`key` (nil: no client certificate, joining).
    public static func clientConfiguration(certificatePEM: String?, keyPEM: String?) throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        // Verification is the pin callback's (SwarmTLS.*Callback), which replaces the CA and hostname checks.
        c.certificateVerification = .noHostnameVerification
        if let certificatePEM, let keyPEM {
            c.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))]
            c.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        }
        return c
    }
}
