// JA4.swift: JA4 TLS/QUIC/DTLS client fingerprint, FoxIO, BSD-3-Clause (technical_details/JA4.md).
//   a = proto(t/q/d) + version(2) + sni(d/i) + #ciphers(2) + #extensions(2) + alpn marker(2)
//   b = hash12(sorted hex4 ciphers)     c = hash12(sorted hex4 extensions w/o SNI,ALPN [+ "_" sigalgs])

public struct JA4: Sendable, Equatable {
    public let a: String
    public let cipherList: String            // sorted, comma-joined
    public let extensionList: String         // sorted, SNI/ALPN removed, "_sigalgs" appended when present
    public let cipherListOriginal: String
    public let extensionListOriginal: String
    /// JA4 (hashed, sorted), ja4_r, ja4_o, ja4_ro
    public let hash: String, raw: String, original: String, rawOriginal: String

    public init(_ h: TLSHello) {
        let ciphers = h.ciphers.filter { !isGREASE($0) }
        let exts = h.extensions.filter { !isGREASE($0) }
        let sigs = h.signatureAlgorithms.filter { !isGREASE($0) }
        let proto = h.isQUIC ? "q" : h.isDTLS ? "d" : "t"
        let version = JA4Marker.version(h.supportedVersions.filter { !isGREASE($0) }.max() ?? h.legacyVersion)
        a = proto + version + (h.hasSNI ? "d" : "i") + JA4Marker.count2(ciphers.count)
            + JA4Marker.count2(exts.count) + JA4Marker.alpn(h.alpn)
        let sigList = sigs.map(Hex.hex4).joined(separator: ",")
        func withSigs(_ e: String) -> String { sigList.isEmpty ? e : e + "_" + sigList }
        cipherList = ciphers.sorted().map(Hex.hex4).joined(separator: ",")
        extensionList = withSigs(exts.filter { $0 != 0x0000 && $0 != 0x0010 }.sorted().map(Hex.hex4).joined(separator: ","))
        cipherListOriginal = ciphers.map(Hex.hex4).joined(separator: ",")
        extensionListOriginal = withSigs(exts.map(Hex.hex4).joined(separator: ","))
        hash = "\(a)_\(Digest.hash12(cipherList))_\(Digest.hash12(extensionList))"
        raw = "\(a)_\(cipherList)_\(extensionList)"
        // The Python reference (the only source of ja4_o) tests emptiness on the sorted list, which has
        // SNI/ALPN removed: a hello whose only extensions are SNI/ALPN gets twelve zeros here too.
        let oc = extensionList.isEmpty ? "000000000000" : Digest.hash12(extensionListOriginal)
        original = "\(a)_\(Digest.hash12(cipherListOriginal))_\(oc)"
        rawOriginal = "\(a)_\(cipherListOriginal)_\(extensionListOriginal)"
    }
}

/// Pieces of the JA4 "a" section shared with JA4S.
public enum JA4Marker {
    public static func version(_ v: UInt16) -> String {
        switch v {
        case 0x0304: return "13"
        case 0x0303: return "12"
        case 0x0302: return "11"
        case 0x0301: return "10"
        case 0x0300: return "s3"
        case 0x0002: return "s2"
        case 0xfeff: return "d1"
        case 0xfefd: return "d2"
        case 0xfefc: return "d3"
        default: return "00"
        }
    }

    public static func count2(_ n: Int) -> String {
        let c = min(n, 99)
        return c < 10 ? "0\(c)" : "\(c)"
    }

    /// First and last character of the ALPN value when both are ASCII alphanumeric; otherwise the
    /// first and last hex digit of the value's hex encoding (JA4.md, maintainer-confirmed rule).
    public static func alpn(_ v: [UInt8]?) -> String {
        guard let v, let first = v.first, let last = v.last else { return "00" }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        if alnum(first) && alnum(last) {
            return String(decoding: [first, last], as: UTF8.self)
        }
        let hex = Hex.bytes(v)
        return String([hex.first!, hex.last!])
    }
}
