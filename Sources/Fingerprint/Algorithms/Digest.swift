// Digest.swift: MD5 / SHA-256 hex digests (OpenSSL through CPacket) and the JA4 family's hash12.
import CPacket

public enum Digest {
    public static func md5Hex(_ s: String) -> String { hex(s, digits: 32, cp_md5_hex) }
    public static func sha256Hex(_ s: String) -> String { hex(s, digits: 64, cp_sha256_hex) }
    public static func sha256Hex(bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { b in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 65) { out in
                cp_sha256_hex(b.baseAddress, b.count, out.baseAddress)
                return String(decoding: UnsafeRawBufferPointer(out).prefix(64), as: UTF8.self)
            }
        }
    }

    /// Runs a C digest over the string's UTF-8 bytes; `digits` hex characters come back NUL-terminated.
    private static func hex(_ s: String, digits: Int,
                            _ f: (UnsafeRawPointer?, Int, UnsafeMutablePointer<CChar>?) -> Void) -> String {
        var s = s
        return s.withUTF8 { buf in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: digits + 1) { out in
                out.withMemoryRebound(to: CChar.self) { f(buf.baseAddress, buf.count, $0.baseAddress) }
                return String(decoding: UnsafeBufferPointer(rebasing: out[0..<digits]), as: UTF8.self)
            }
        }
    }

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
    public static func bytes(_ b: some Collection<UInt8>) -> String {
        var s = ""
        s.reserveCapacity(b.count * 2)
        for x in b { s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 15)]) }
        return s
    }
}

/// RFC 8701 GREASE values 0x?a?a with equal bytes.
@inline(__always) public func isGREASE(_ v: UInt16) -> Bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}
