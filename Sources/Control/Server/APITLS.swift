// APITLS.swift: HTTPS for `decnet api`: a certificate/key pair from files (--tls-cert/--tls-key), or with
// `--tls auto` a self-signed P-256 pair made once on first start (swift-certificates) and kept beside the store.
import Appliance
import Crypto
import Fingerprint
import Foundation
import NIOSSL
import SwiftASN1
import X509

public enum APITLS {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The server's TLS configuration from PEM files (TLS 1.2 minimum).
    public static func serverConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw Failure(description: "cannot read the TLS certificate \(certificate): \(error)")
        }
        guard !chain.isEmpty else { throw Failure(description: "no certificate in \(certificate)") }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw Failure(description: "cannot read the TLS key \(key): \(error)")
        }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(privateKey))
        config.minimumTLSVersion = .tlsv12
        return config
    }

    /// `<directory>/api-tls.crt` and `api-tls.key`: reused when both exist, else made now (key 0600). The
    /// certificate names localhost, 127.0.0.1, ::1, this host's name and `extraNames` (the bind address).
    /// Returns the two paths.
    public static func ensureSelfSigned(
        directory: String, extraNames: [String] = [],
        now: Date = Date()
    ) throws -> (certificate: String, key: String) {
        let certPath = directory + "/api-tls.crt", keyPath = directory + "/api-tls.key"
        let fm = FileManager.default
        if fm.fileExists(atPath: certPath) && fm.fileExists(atPath: keyPath) { return (certPath, keyPath) }
        try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let host = ProcessInfo.processInfo.hostName
        var dns = ["localhost"]
        var ips: [[UInt8]] = [[127, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]
        for n in [host] + extraNames where !n.isEmpty && n != "0.0.0.0" && n != "::" {
            if let a = IPAddress(parsing: n) {
                ips.append(a.version == 4 ? Array(a.bytes.prefix(4)) : a.bytes)
            } else if !dns.contains(n) {
                dns.append(n)
            }
        }
        let names: [GeneralName] = dns.map { .dnsName($0) } + ips.map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let subject = try DistinguishedName { CommonName("decnet api (\(host))") }
        let serial = Certificate.SerialNumber()
        let cert = try Certificate(
            version: .v3, serialNumber: serial, publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 825 * 86_400,
            issuer: subject, subject: subject,
            extensions: try Certificate.Extensions {
                // As `openssl req -x509` makes them: a self-signed certificate is its own issuer, and verifiers
                // (BoringSSL among them) need it marked as one (CA, keyCertSign) to accept it as a trust anchor.
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key))
        let certPEM = try cert.serializeAsPEM().pemString + "\n"
        guard writeWholeFile(keyPath, Array((key.pemRepresentation + "\n").utf8), mode: 0o600) else {
            throw Failure(description: "cannot write \(keyPath)")
        }
        guard writeWholeFile(certPath, Array(certPEM.utf8), mode: 0o644) else {
            throw Failure(description: "cannot write \(certPath)")
        }
        return (certPath, keyPath)
    }
}
