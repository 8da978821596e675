// IPAddress.swift: an IPv4/IPv6 address as carried in records (inline, no allocation), printed in
// RFC 5952 form.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let version: UInt8
    /// Network-order bytes 0-7 and 8-15 (IPv4 uses the first four bytes of `hi`).
    let hi: UInt64, lo: UInt64

    public init(version: UInt8, bytes: [UInt8]) {
        self.version = version
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<16 {
            let b = i < bytes.count ? UInt64(bytes[i]) : 0
            if i < 8 { h = h << 8 | b } else { l = l << 8 | b }
        }
        hi = h
        lo = l
    }

    init(version: UInt8, tuple: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self.version = version
        let t = tuple
        hi = UInt64(t.0) << 56 | UInt64(t.1) << 48 | UInt64(t.2) << 40 | UInt64(t.3) << 32
            | (version == 4 ? 0 : UInt64(t.4) << 24 | UInt64(t.5) << 16 | UInt64(t.6) << 8 | UInt64(t.7))
        lo = version == 4 ? 0 : UInt64(t.8) << 56 | UInt64(t.9) << 48 | UInt64(t.10) << 40 | UInt64(t.11) << 32
            | UInt64(t.12) << 24 | UInt64(t.13) << 16 | UInt64(t.14) << 8 | UInt64(t.15)
    }

    public var bytes: [UInt8] {
        let all = (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * $0)) }
        return version == 4 ? Array(all.prefix(4)) : all
    }

    public var description: String {
        if version == 4 {
            return "\(hi >> 56).\(hi >> 48 & 0xff).\(hi >> 40 & 0xff).\(hi >> 32 & 0xff)"
        }
        var groups = [UInt16](repeating: 0, count: 8)
        for i in 0..<4 {
            groups[i] = UInt16(truncatingIfNeeded: hi >> (48 - 16 * i))
            groups[i + 4] = UInt16(truncatingIfNeeded: lo >> (48 - 16 * i))
        }
        // RFC 5952: compress the longest run (length >= 2) of zero groups, leftmost on ties.
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestStart < 0 { return groups.map(hex).joined(separator: ":") }
        let head = groups[0..<bestStart].map(hex).joined(separator: ":")
        let tail = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
        return head + "::" + tail
    }
}
