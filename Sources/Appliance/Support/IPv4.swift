// IPv4.swift: the address arithmetic decky planning needs (addresses as host-order UInt32).

public struct IPv4: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: UInt32
    public init(_ value: UInt32) { self.value = value }

    /// Dotted quad only: four decimal parts 0-255, no leading zeros beyond "0".
    public init?(_ text: some StringProtocol) {
        var v: UInt32 = 0
        var parts = 0
        for p in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(p.count > 1 && p.first == "0"), let b = UInt32(p), b <= 255 else { return nil }
            v = v << 8 | b
            parts += 1
        }
        guard parts == 4 else { return nil }
        value = v
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    public let network: IPv4
    public let prefix: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPv4(parts[0]), let p = Int(parts[1]), (0...32).contains(p) else { return nil }
        prefix = p
        network = IPv4(a.value & IPv4Network.mask(p))
    }

    public init(address: IPv4, prefix: Int) {
        self.prefix = prefix
        network = IPv4(address.value & IPv4Network.mask(prefix))
    }

    static func mask(_ p: Int) -> UInt32 { p == 0 ? 0 : ~UInt32(0) << UInt32(32 - p) }
    public var mask: UInt32 { IPv4Network.mask(prefix) }
    public var broadcast: IPv4 { IPv4(network.value | ~mask) }
    public func contains(_ a: IPv4) -> Bool { a.value & mask == network.value }
    public func overlaps(_ o: IPv4Network) -> Bool { contains(o.network) || o.contains(network) }
    /// Usable host addresses (network and broadcast excluded for prefixes below /31).
    public var hosts: ClosedRange<UInt32>? {
        if prefix >= 31 { return network.value...broadcast.value }
        return broadcast.value - network.value >= 2 ? (network.value + 1)...(broadcast.value - 1) : nil
    }
    public var description: String { "\(network)/\(prefix)" }
}
