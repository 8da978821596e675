// JA4X.swift: JA4X X.509 certificate fingerprint. FoxIO License 1.1 (see LICENSE/NOTICE).
//   hash12(issuer attribute OIDs) _ hash12(subject attribute OIDs) _ hash12(extension OIDs); OIDs as hex
#if JA4Plus

public struct JA4X: Sendable, Equatable {
    public let issuer: String, subject: String, extensions: String
    public let hash: String, raw: String

    public init(_ x: X509OIDs) {
        issuer = x.issuer.map(Hex.bytes).joined(separator: ",")
        subject = x.subject.map(Hex.bytes).joined(separator: ",")
        extensions = x.extensions.map(Hex.bytes).joined(separator: ",")
        hash = "\(Digest.hash12(issuer))_\(Digest.hash12(subject))_\(Digest.hash12(extensions))"
        raw = "\(issuer)_\(subject)_\(extensions)"
    }
}
#endif
