// TCPSignature.swift: p0f v3 raw signatures of SYN and SYN+ACK packets (our implementation of the
// published signature format; p0f's LGPL database is read at run time when installed, never shipped).
//   ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass

public struct TCPSignature: Sendable, Equatable {
    public let raw: String
    public let ipVersion: UInt8
    public let ttl: UInt8, distance: Int
    public let ipOptionLength: Int
    public let mss: Int?, window: UInt16, scale: UInt8
    public let layout: String
    public let quirks: [String]
    public let hasPayload: Bool
    public let isSynAck: Bool
    /// The window as p0f classifies it: "mss*N", "mtu*N" or the plain number (what signatures match).
    public let windowForm: String

    /// Options walked the way p0f 3.09b does (fp_tcp.c / process.c).
    struct Options {
        var layout: [String] = []
        var mss: Int? = nil
        var scale: UInt8 = 0
        var ts1: UInt32? = nil, ts2: UInt32 = 0
        var bad = false, nonzeroAfterEOL = false, excessiveScale = false
        init(_ o: [UInt8], isSyn: Bool) {
            var i = 0
            let end = o.count
            walk: while i < end {
                let kind = o[i]
                i += 1
                switch kind {
                case 0:
                    layout.append("eol+\(end - i)")
                    while i < end { if o[i] != 0 { nonzeroAfterEOL = true }; i += 1 }
                    break walk
                case 1:
                    layout.append("nop")
                case 2:
                    layout.append("mss")
                    guard end - i >= 3 else { bad = true; break walk }
                    if o[i] != 4 { bad = true }
                    mss = Int(o[i + 1]) << 8 | Int(o[i + 2])
                    i += 3
                case 3:
                    layout.append("ws")
                    guard end - i >= 2 else { bad = true; break walk }
                    if o[i] != 3 { bad = true }
                    scale = o[i + 1]
                    if scale > 14 { excessiveScale = true }
                    i += 2
                case 4:
                    layout.append("sok")
                    guard end - i >= 1 else { bad = true; break walk }
                    if o[i] != 2 { bad = true }
                    i += 1
                case 5:
                    layout.append("sack")
                    guard end - i >= 1 else { bad = true; break walk }
                    let l = Int(o[i])
                    if l < 6 || l > 34 || (l - 2) % 8 != 0 { bad = true }
                    guard l >= 2 else { bad = true; break walk }
                    i += l - 1
                case 8:
                    layout.append("ts")
                    guard end - i >= 9 else { bad = true; break walk }
                    if o[i] != 10 { bad = true }
                    ts1 = UInt32(o[i + 1]) << 24 | UInt32(o[i + 2]) << 16 | UInt32(o[i + 3]) << 8 | UInt32(o[i + 4])
                    ts2 = UInt32(o[i + 5]) << 24 | UInt32(o[i + 6]) << 16 | UInt32(o[i + 7]) << 8 | UInt32(o[i + 8])
                    i += 9
                default:
                    layout.append("?\(kind)")
                    guard end - i >= 1 else { bad = true; break walk }
                    let l = Int(o[i])
                    if l < 2 || l > 40 { bad = true }
                    guard l >= 2 else { bad = true; break walk }
                    i += l - 1
                }
                if layout.count >= 24 { bad = true; break }
            }
            if i > end { bad = true }
        }
    }

    /// - Parameter peerSynMSS: on a SYN+ACK, the MSS of the SYN it answers (p0f's window rules use it).
    public init(_ s: TCPSynFacts, ipVersion: UInt8, peerSynMSS: Int? = nil) {
        let synAck = s.flags & 0x12 == 0x12
        let opts = Options(s.options, isSyn: !synAck)
        self.ipVersion = ipVersion
        ttl = s.ttl
        let t = Int(s.ttl)
        distance = t <= 32 ? 32 - t : t <= 64 ? 64 - t : t <= 128 ? 128 - t : 255 - t
        ipOptionLength = ipVersion == 4 ? max(0, Int(s.ipHeaderLength) - 20) : 0
        mss = opts.mss
        window = s.window
        scale = opts.scale
        layout = opts.layout.joined(separator: ",")
        hasPayload = s.payloadLength > 0
        isSynAck = synAck

        var q = [String]()
        if ipVersion == 4 {
            let df = s.ipv4Flags & 2 != 0
            if df { q.append("df") }
            if df && s.ipID != 0 { q.append("id+") }
            if !df && s.ipID == 0 { q.append("id-") }
        }
        if s.tos & 3 != 0 || s.flags & 0x1c0 != 0 { q.append("ecn") }
        if ipVersion == 4 && s.ipv4Flags & 1 != 0 { q.append("0+") }
        if ipVersion == 6 && s.flowLabel != 0 { q.append("flow") }
        if s.seq == 0 { q.append("seq-") }
        if s.flags & 0x10 != 0 {
            if s.ack == 0 { q.append("ack-") }
        } else if s.flags & 0x04 == 0 && (s.ack >> 24) & 1 != 0 {
            // p0f 3.09b tests `ack & !(flags & RST)` on the raw network-order word: only the low bit of
            // the little-endian load (the first byte on the wire) matters. Reproduced for comparability.
            q.append("ack+")
        }
        if s.flags & 0x20 == 0 && s.urgentPointer != 0 { q.append("uptr+") }
        if s.flags & 0x20 != 0 { q.append("urgf+") }
        if s.flags & 0x08 != 0 { q.append("pushf+") }
        if let ts1 = opts.ts1, ts1 == 0 { q.append("ts1-") }
        if opts.ts1 != nil && opts.ts2 != 0 && !synAck { q.append("ts2+") }
        if opts.nonzeroAfterEOL { q.append("opt+") }
        if opts.excessiveScale { q.append("exws") }
        if opts.bad { q.append("bad") }
        quirks = q

        let ittl = distance > 35 ? "\(t)+?" : "\(t)+\(distance)"
        let tcpHeader = 20 + s.options.count
        let totalHeader = (ipVersion == 4 ? Int(s.ipHeaderLength) : 40) + tcpHeader
        let wsize = Self.windowForm(window: Int(s.window), mss: opts.mss ?? 0, ts1: opts.ts1 ?? 0, ipv6: ipVersion == 6,
                                    totalHeader: totalHeader, peerSynMSS: synAck ? peerSynMSS : nil)
        windowForm = wsize
        raw = "\(ipVersion):\(ittl):\(ipOptionLength):\(opts.mss ?? 0):\(wsize),\(opts.scale):\(layout):\(q.joined(separator: ",")):\(hasPayload ? "+" : "0")"
    }

    /// p0f's window-as-multiple rules; first divisor that divides wins.
    static func windowForm(window w: Int, mss: Int, ts1: UInt32, ipv6: Bool, totalHeader: Int, peerSynMSS: Int?) -> String {
        guard w != 0, mss >= 100 else { return "\(w)" }
        var candidates: [(Int, String)] = [(mss, "mss")]
        if ts1 != 0 { candidates.append((mss - 12, "mss")) }
        candidates += [(1460, "mss"), (1448, "mss")]
        if ipv6 { candidates += [(1440, "mss"), (1428, "mss")] }
        candidates += [(mss + 40, "mtu"), (mss + totalHeader, "mtu")]
        if ipv6 { candidates.append((mss + 60, "mtu")) }
        candidates.append((1500, "mtu"))
        if let p = peerSynMSS, p > 0 { candidates += [(p, "mss"), (p - 12, "mss")] }
        for (d, kind) in candidates where d > 0 && w % d == 0 { return "\(kind)*\(w / d)" }
        return "\(w)"
    }
}
