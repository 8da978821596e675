// JA4SSH.swift: JA4SSH session fingerprint over windows of SSH packets. FoxIO License 1.1 (LICENSE/NOTICE).
//   c<mode client len>s<mode server len>_c<client pkts>s<server pkts>_c<client bare ACKs>s<server bare ACKs>
// An SSH packet is a segment the sensor delimits as one (it completes an SSH PDU or carries encrypted
// data); any other segment with flags exactly ACK counts as a bare ACK. A window closes after
// `windowSize` SSH packets; a final partial window with at least one SSH packet is emitted at the end.
#if JA4Plus

public struct JA4SSH: Sendable {
    public private(set) var fingerprints: [String] = []
    let windowSize: Int
    var lengths: [[Int: Int]] = [[:], [:]]
    var packets = [0, 0], acks = [0, 0]

    public init(windowSize: Int = 200) { self.windowSize = windowSize }

    /// - Parameter fromClient: whether the packet was sent by the connection's client.
    public mutating func add(payloadLength: Int, isSSH: Bool, flags: UInt8, fromClient: Bool) {
        let side = fromClient ? 0 : 1
        if isSSH && payloadLength > 0 {
            lengths[side][payloadLength, default: 0] += 1
            packets[side] += 1
            if packets[0] + packets[1] == windowSize { close() }
        } else if flags == 0x10 {
            acks[side] += 1
        }
    }

    public mutating func finish() -> [String] {
        if packets[0] + packets[1] > 0 { close() }
        return fingerprints
    }

    static func mode(_ counts: [Int: Int]) -> Int {
        var best = 0, bestCount = 0
        for (len, n) in counts where n > bestCount || (n == bestCount && len < best) {
            best = len
            bestCount = n
        }
        return best
    }

    mutating func close() {
        fingerprints.append("c\(Self.mode(lengths[0]))s\(Self.mode(lengths[1]))_c\(packets[0])s\(packets[1])_c\(acks[0])s\(acks[1])")
        lengths = [[:], [:]]
        packets = [0, 0]
        acks = [0, 0]
    }
}
#endif
