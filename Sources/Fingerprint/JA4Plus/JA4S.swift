// JA4S.swift: JA4S TLS server fingerprint. FoxIO License 1.1 (see LICENSE/NOTICE in this directory).
//   a = proto + version + #extensions(2) + ALPN marker;  b = cipher hex4;  c = hash12(extensions, wire order)
#if JA4Plus

public struct JA4S: Sendable, Equatable {
    public let a: String, cipher: String, extensionList: String
    public let hash: String, raw: String

    public init(_ h: TLSHello) {
        let proto = h.isQUIC ? "q" : h.isDTLS ? "d" : "t"
        let version = JA4Marker.version(h.supportedVersions.first ?? h.legacyVersion)
        a = proto + version + JA4Marker.count2(h.extensions.count) + JA4Marker.alpn(h.alpn)
        cipher = Hex.hex4(h.cipher)
        extensionList = h.extensions.map(Hex.hex4).joined(separator: ",")
        hash = "\(a)_\(cipher)_\(Digest.hash12(extensionList))"
        raw = "\(a)_\(cipher)_\(extensionList)"
    }
}
#endif
