// IPAddress.swift: an IPv4/IPv6 address as carried in records, printed in RFC 5952 form.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public var version: UInt8
    public var bytes: [UInt8]   // 4 or 16

    public init(version: UInt8, bytes: [UInt8]) {
        self.version = version
        self.bytes = bytes
    }

    init(version: UInt8, tuple: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self.version = version
        let all = withUnsafeBytes(of: tuple) { Array($0) }
        bytes = version == 4 ? Array(all.prefix(4)) : all
    }

    public var description: String {
        if version == 4 && bytes.count == 4 {
            return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])"
        }
        guard bytes.count == 16 else { return "?" }
        var groups = [UInt16]()
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
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
