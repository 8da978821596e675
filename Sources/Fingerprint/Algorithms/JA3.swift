// JA3.swift: JA3 (ClientHello) and JA3S (ServerHello), Salesforce, BSD-3-Clause.
// "version,ciphers,extensions,groups,ec_point_formats" in decimal, wire order, GREASE removed; MD5.

public struct JA3: Sendable, Equatable {
    public let full: String
    public let hash: String

    public init(_ h: TLSHello) {
        let v = String(h.legacyVersion)
        let c = h.ciphers.lazy.filter { !isGREASE($0) }.map(String.init).joined(separator: "-")
        let e = h.extensions.lazy.filter { !isGREASE($0) }.map(String.init).joined(separator: "-")
        let g = h.groups.lazy.filter { !isGREASE($0) }.map(String.init).joined(separator: "-")
        let p = h.ecPointFormats.lazy.map(String.init).joined(separator: "-")
        full = "\(v),\(c),\(e),\(g),\(p)"
        hash = Digest.md5Hex(full)
    }
}

public struct JA3S: Sendable, Equatable {
    public let full: String
    public let hash: String

    public init(_ h: TLSHello) {
        let e = h.extensions.lazy.map(String.init).joined(separator: "-")
        full = "\(h.legacyVersion),\(h.cipher),\(e)"
        hash = Digest.md5Hex(full)
    }
}
