// SwarmPKI.swift: the fleet's certificates (swift-certificates + swift-crypto). The master holds a P-256 root
// CA; every leaf names its role and id in a SAN URI, `spiffe://decnet/<fleet>/{master|worker}/<uuid>`, and the
// role is read from there, never from the CN. Workers make their own keys and send a CSR (the key never leaves
// the worker: Teleport/step-ca style); the master only signs. Leaves live 60 days and renew at two thirds.
import Appliance
import Crypto
import Fingerprint
import Foundation
import SwiftASN1
import X509

public enum SwarmRole: String, Sendable, Equatable { case master, worker }

/// Who a fleet certificate says it is (from its SPIFFE SAN URI).
public struct SwarmIdentity: Sendable, Equatable {
    public var fleet: String
    public var role: SwarmRole
    public var id: String

    public init(fleet: String, role: SwarmRole, id: String) {
        self.fleet = fleet
        self.role = role
        self.id = id
    }

    public var uri: String { "spiffe://decnet/\(fleet)/\(role.rawValue)/\(id)" }

    /// Parses `spiffe://decnet/<fleet>/<role>/<id>`; nil for anything else.
    public static func parse(uri: String) -> SwarmIdentity? {
        let prefix = "spiffe://decnet/"
        guard uri.hasPrefix(prefix) else { return nil }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let role = SwarmRole(rawValue: String(parts[1])),
            SwarmPKI.isSafeName(parts[0]), SwarmPKI.isSafeName(parts[2])
        else { return nil }
        return SwarmIdentity(fleet: String(parts[0]), role: role, id: String(parts[2]))
    }

    /// The identity of a certificate: exactly one SPIFFE URI SAN, else nil.
    public static func of(_ cert: Certificate) -> SwarmIdentity? {
        guard let sans = try? cert.extensions.subjectAlternativeNames else { return nil }
        var found: [SwarmIdentity] = []
        for n in sans { if case .uniformResourceIdentifier(let u) = n, let id = parse(uri: u) { found.append(id) } }
        return found.count == 1 ? found[0] : nil
    }
}

public enum SwarmPKI {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// Leaf lifetime and when it renews (two thirds, plus up to 5 % jitter so a fleet does not renew at once).
    public static let leafLifetime: TimeInterval = 60 * 86_400
    public static func renewalTime(notBefore: Date, notAfter: Date, jitter: Double) -> Date {
        let life = notAfter.timeIntervalSince(notBefore)
        return notBefore + life * 2 / 3 + life * 0.05 * min(max(jitter, 0), 1)
    }

    static func isSafeName(_ s: Substring) -> Bool {
        !s.isEmpty && s.count <= 64
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x2d || c == 0x2e || c == 0x5f
            }
    }

    public static func der(_ cert: Certificate) -> [UInt8] {
        var s = DER.Serializer()
        try? s.serialize(cert)  // a Certificate we hold always serialises
        return s.serializedBytes
    }

    /// Lowercase hex SHA-256 of the certificate's DER: the pin.
    public static func fingerprint(_ cert: Certificate) -> String { hex(SHA256.hash(data: der(cert))) }
    public static func fingerprint(der: [UInt8]) -> String { hex(SHA256.hash(data: der)) }

    /// Lowercase hex SHA-256 of the root's SubjectPublicKeyInfo: what a join token carries (kubeadm's CA hash).
    public static func caHash(_ root: Certificate) -> String {
        var s = DER.Serializer()
        try? s.serialize(root.publicKey)
        return hex(SHA256.hash(data: s.serializedBytes))
    }

    static func hex(_ d: some Sequence<UInt8>) -> String { d.map { String(format: "%02x", $0) }.joined() }

    public static func pem(_ cert: Certificate) -> String { ((try? cert.serializeAsPEM().pemString) ?? "") + "\n" }

    public static func parseCertificate(pem: String) throws -> Certificate {
        do { return try Certificate(pemEncoded: pem) } catch { throw Failure("not a PEM certificate: \(error)") }
    }

    /// A new root CA for the fleet `fleet` (P-256, 10 years, pathlen 0).
    public static func makeRoot(fleet: String, now: Date = Date()) throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("decnet")
            CommonName("decnet fleet \(fleet) root CA")
        }
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 300, notValidAfter: now + 3650 * 86_400,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        return (cert, key)
    }

    /// A leaf for `identity` over `publicKey`, signed by the root. `dnsNames`/`ips` go beside the SPIFFE URI
    /// so ordinary clients (curl, openssl) can verify the host too.
    public static func issueLeaf(
        identity: SwarmIdentity, publicKey: Certificate.PublicKey, root: Certificate, rootKey: P256.Signing.PrivateKey,
        dnsNames: [String] = [], ips: [String] = [], now: Date = Date(), lifetime: TimeInterval = leafLifetime
    ) throws -> Certificate {
        var names: [GeneralName] = [.uniformResourceIdentifier(identity.uri)]
        for d in dnsNames where !d.isEmpty { names.append(.dnsName(d)) }
        for i in ips {
            if let a = IPAddress(parsing: i) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: (a.version == 4 ? Array(a.bytes.prefix(4)) : a.bytes)[...])))
            }
        }
        let subject = try DistinguishedName {
            OrganizationName("decnet")
            OrganizationalUnitName("swarm-\(identity.role.rawValue)")
            CommonName(identity.id)
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 300, notValidAfter: now + lifetime,
            issuer: root.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(rootKey))
    }

    /// A CSR for a key made here (the worker's side of joining and renewal).
    public static func makeCSR(key: P256.Signing.PrivateKey, name: String) throws -> CertificateSigningRequest {
        let subject = try DistinguishedName { CommonName(name) }
        return try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: .init(key), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
    }

    public static func csrDER(_ csr: CertificateSigningRequest) -> [UInt8] {
        var s = DER.Serializer()
        try? s.serialize(csr)
        return s.serializedBytes
    }

    /// Parses and checks a CSR from base64 DER: well formed, a P-256 key, self-signature valid. Bounded: 8 KiB.
    public static func parseCSR(derBase64: String) throws -> (CertificateSigningRequest, [UInt8]) {
        guard derBase64.utf8.count <= 8192, let der = Base64.decode(derBase64), !der.isEmpty else {
            throw Failure("csr: not base64 DER (at most 8 KiB)")
        }
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(derEncoded: der) } catch { throw Failure("csr: malformed (\(error))") }
        guard P256.Signing.PublicKey(csr.publicKey) != nil else { throw Failure("csr: the key must be P-256") }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else { throw Failure("csr: bad self-signature") }
        return (csr, der)
    }

    /// Checks that `leaf` was signed by `root` and is within its validity at `now`.
    public static func isIssued(_ leaf: Certificate, by root: Certificate, now: Date = Date()) -> Bool {
        guard leaf.issuer == root.subject, root.publicKey.isValidSignature(leaf.signature, for: leaf) else { return false }
        return leaf.notValidBefore <= now && now <= leaf.notValidAfter
    }

    public static func keyPEM(_ key: P256.Signing.PrivateKey) -> String { key.pemRepresentation + "\n" }

    public static func loadKey(_ path: String) throws -> P256.Signing.PrivateKey {
        guard let b = readFile(path, limit: 64 * 1024) else { throw Failure("cannot read \(path)") }
        do { return try P256.Signing.PrivateKey(pemRepresentation: String(decoding: b, as: UTF8.self)) } catch {
            throw Failure("\(path): not a P-256 private key")
        }
    }

    public static func loadCertificate(_ path: String) throws -> Certificate {
        guard let b = readFile(path, limit: 64 * 1024) else { throw Failure("cannot read \(path)") }
        return try parseCertificate(pem: String(decoding: b, as: UTF8.self))
    }
}

/// The master's CA directory: `ca.crt`, `ca.key` (0600), `fleet` (the fleet id), `master.crt`/`master.key`
/// (the master's own identity: server certificate of its listeners and client certificate towards agents).
public struct SwarmAuthority: Sendable {
    public let directory: String
    public let fleet: String
    public let root: Certificate
    public let rootKey: P256.Signing.PrivateKey
    public let master: Certificate
    public let masterKey: P256.Signing.PrivateKey

    public var caHash: String { SwarmPKI.caHash(root) }
    public var masterPin: String { SwarmPKI.fingerprint(master) }
    public var certificatePath: String { directory + "/master.crt" }
    public var keyPath: String { directory + "/master.key" }
    public var rootPath: String { directory + "/ca.crt" }

    /// Loads the authority under `directory`, creating it on first use (directory 0700, keys 0600). `names`
    /// are the DNS names/IPs the master's certificate carries (its listen and advertised addresses); a master
    /// certificate missing one of them, or past two thirds of its life, is reissued with a new key.
    public static func loadOrCreate(directory: String, names: [String], now: Date = Date()) throws -> SwarmAuthority {
        _ = makeDirectories(directory)
        chmod(directory, 0o700)
        let fm = FileManager.default
        let caCrt = directory + "/ca.crt", caKey = directory + "/ca.key", fleetFile = directory + "/fleet"
        let root: Certificate, rootKey: P256.Signing.PrivateKey, fleet: String
        if fm.fileExists(atPath: caCrt), fm.fileExists(atPath: caKey), let f = readFile(fleetFile, limit: 128) {
            root = try SwarmPKI.loadCertificate(caCrt)
            rootKey = try SwarmPKI.loadKey(caKey)
            fleet = String(decoding: f, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            fleet = SwarmPKI.hex(randomSecretBytes(6))
            (root, rootKey) = try SwarmPKI.makeRoot(fleet: fleet, now: now)
            guard writeWholeFile(caKey, Array(SwarmPKI.keyPEM(rootKey).utf8), mode: 0o600),
                writeWholeFile(caCrt, Array(SwarmPKI.pem(root).utf8), mode: 0o644),
                writeWholeFile(fleetFile, Array((fleet + "\n").utf8), mode: 0o644)
            else {
                throw SwarmPKI.Failure("cannot write the fleet CA under \(directory)")
            }
        }
        let mCrt = directory + "/master.crt", mKey = directory + "/master.key"
        let dns = names.filter { IPAddress(parsing: $0) == nil && !$0.isEmpty }
        let ips = names.filter { IPAddress(parsing: $0) != nil }
        if let cert = try? SwarmPKI.loadCertificate(mCrt), let key = try? SwarmPKI.loadKey(mKey),
            SwarmIdentity.of(cert)?.role == .master, SwarmPKI.isIssued(cert, by: root, now: now),
            now < SwarmPKI.renewalTime(notBefore: cert.notValidBefore, notAfter: cert.notValidAfter, jitter: 0),
            Self.covers(cert, dns: dns, ips: ips)
        {
            return SwarmAuthority(directory: directory, fleet: fleet, root: root, rootKey: rootKey, master: cert, masterKey: key)
        }
        let key = P256.Signing.PrivateKey()
        let id = SwarmIdentity(fleet: fleet, role: .master, id: UUID().uuidString.lowercased())
        let cert = try SwarmPKI.issueLeaf(
            identity: id, publicKey: .init(key.publicKey), root: root, rootKey: rootKey,
            dnsNames: ["localhost"] + dns, ips: ["127.0.0.1"] + ips, now: now)
        guard writeWholeFile(mKey, Array(SwarmPKI.keyPEM(key).utf8), mode: 0o600),
            writeWholeFile(mCrt, Array(SwarmPKI.pem(cert).utf8), mode: 0o644)
        else {
            throw SwarmPKI.Failure("cannot write the master identity under \(directory)")
        }
        return SwarmAuthority(directory: directory, fleet: fleet, root: root, rootKey: rootKey, master: cert, masterKey: key)
    }

    static func covers(_ cert: Certificate, dns: [String], ips: [String]) -> Bool {
        guard let sans = try? cert.extensions.subjectAlternativeNames else { return false }
        var haveDNS = Set<String>(), haveIP = Set<[UInt8]>()
        for n in sans {
            switch n {
            case .dnsName(let d): haveDNS.insert(d)
            case .ipAddress(let o): haveIP.insert(Array(o.bytes))
            default: break
            }
        }
        for d in dns where !haveDNS.contains(d) { return false }
        for i in ips {
            guard let a = IPAddress(parsing: i) else { continue }
            if !haveIP.contains(a.version == 4 ? Array(a.bytes.prefix(4)) : a.bytes) { return false }
        }
        return true
    }

    /// Signs a worker's CSR: the SAN carries the worker's identity, its name and address.
    public func issueWorker(
        hostUUID: String, csr: CertificateSigningRequest, name: String, address: String?, now: Date = Date()
    ) throws -> Certificate {
        try SwarmPKI.issueLeaf(
            identity: SwarmIdentity(fleet: fleet, role: .worker, id: hostUUID), publicKey: csr.publicKey,
            root: root, rootKey: rootKey, dnsNames: [name], ips: address.map { [$0] } ?? [], now: now)
    }
}
