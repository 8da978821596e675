// Digest.swift: MD5 / SHA-256 hex digests (swift-crypto) and the JA4 family's hash12.
import Crypto

public enum Digest {
    public static func md5Hex(_ s: String) -> String { Hex.bytes(Insecure.MD5.hash(data: Array(s.utf8))) }
    public static func sha256Hex(_ s: String) -> String { Hex.bytes(SHA256.hash(data: Array(s.utf8))) }
    public static func sha256Hex(bytes: [UInt8]) -> String { Hex.bytes(SHA256.hash(data: bytes)) }

    /// First 12 hex characters of SHA-256; the JA4+ rule maps an empty list to twelve zeros.
    public static func hash12(_ s: String) -> String {
        s.isEmpty ? "000000000000" : String(sha256Hex(s).prefix(12))
    }
}

public enum Hex {
    private static let digits: [Character] = Array("0123456789abcdef")
    public static func hex4(_ v: UInt16) -> String {
        String([digits[Int(v >> 12)], digits[Int(v >> 8 & 15)], digits[Int(v >> 4 & 15)], digits[Int(v & 15)]])
    }
    private static let ascii: [UInt8] = Array("0123456789abcdef".utf8)
    public static func bytes(_ b: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(b.underestimatedCount * 2)
        for x in b { out.append(ascii[Int(x >> 4)]); out.append(ascii[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 8701 GREASE values 0x?a?a with equal bytes.
@inline(__always) public func isGREASE(_ v: UInt16) -> Bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}
