// OSGuess.swift: the sensor's own small passive OS table (p0f-lite, ../shared/spec/decnet-reference.md
// §7.4) and the IP-ID / ISN sequence classifier. Our table, our code: p0f's LGPL database is only ever
// read from the system at run time (P0fDatabase), never shipped.

public struct SynShape: Sendable, Equatable {
    public let ttl: Int, initialTTL: Int, hopDistance: Int
    public let window: Int
    public let mss: Int?
    public let wscale: Int?
    /// Option kinds in wire order: M=MSS N=NOP W=WScale T=Timestamp S=SAckOK E=EOL (e.g. "M,N,W,N,N,T,S,E").
    public let optionsSignature: String
    public let hasSACK: Bool, hasTimestamps: Bool
    public let tos: Int
    public var dscp: Int { tos >> 2 & 0x3f }
    public var ecn: Int { tos & 3 }
    public let osGuess: String

    public init(_ s: TCPSynFacts) {
        ttl = Int(s.ttl)
        initialTTL = [32, 64, 128, 255].first { $0 >= Int(s.ttl) } ?? 255
        hopDistance = min(max(initialTTL - ttl, 0), 64)
        window = Int(s.window)
        tos = Int(s.tos)
        var kinds: [String] = []
        var mss: Int? = nil, ws: Int? = nil, sack = false, ts = false
        let o = s.options
        var i = 0
        walk: while i < o.count {
            let kind = o[i]
            switch kind {
            case 0: kinds.append("E"); break walk
            case 1: kinds.append("N"); i += 1; continue
            default: break
            }
            guard i + 1 < o.count else { break walk }
            let len = Int(o[i + 1])
            guard len >= 2, i + len <= o.count else { break walk }
            switch kind {
            case 2: kinds.append("M"); if len == 4 { mss = Int(o[i + 2]) << 8 | Int(o[i + 3]) }
            case 3: kinds.append("W"); if len == 3 { ws = Int(o[i + 2]) }
            case 4: kinds.append("S"); sack = true
            case 8: kinds.append("T"); ts = true
            default: kinds.append(String(kind))
            }
            i += len
        }
        self.mss = mss
        wscale = ws
        hasSACK = sack
        hasTimestamps = ts
        optionsSignature = kinds.joined(separator: ",")
        osGuess = Self.guess(initialTTL: initialTTL, window: window, mss: mss, wscale: ws, options: optionsSignature,
                             sack: sack, timestamps: ts)
    }

    /// The ordered table of §7.4: first match wins.
    static func guess(initialTTL: Int, window: Int, mss: Int?, wscale: Int?, options: String,
                      sack: Bool, timestamps: Bool) -> String {
        let nmapWindows: Set<Int> = [1024, 2048, 3072, 4096, 31337, 32768, 65535]
        if initialTTL == 64 {
            if nmapWindows.contains(window) && mss == 1460 && wscale == 10 && options == "M,W,T,S,S" { return "nmap" }
            if nmapWindows.contains(window) && options.hasPrefix("M,W,T,S") { return "nmap" }
            if window == 65535 && wscale == 6 && options == "M,N,W,N,N,T,S,E" { return "macos_ios" }
            if window == 65535, let w = wscale, w == 5 || w == 6, timestamps, options.hasSuffix("E") { return "macos_ios" }
            if window == 65535 && wscale == 6 && sack && timestamps && !options.contains("E") { return "freebsd" }
            if window >= 5000, let w = wscale, (6...14).contains(w), sack, timestamps { return "linux" }
            if window == 16384 || window == 16960, let w = wscale, (3...6).contains(w) { return "openbsd" }
        }
        if initialTTL == 128 {
            if window >= 8192, let w = wscale, [2, 6, 7, 8].contains(w), sack { return "windows" }
            if [8192, 16384, 65535].contains(window) { return "windows" }
        }
        if initialTTL == 255 { return "embedded" }
        return "unknown"
    }
}

/// IP-ID / ISN sequence class over the last samples of one source (§7.2/§7.3).
public enum SequenceClass {
    public static func classify(_ v: [UInt32], modulus: UInt64 = 1 << 32) -> String {
        if v.count < 4 { return "unknown" }
        if v.allSatisfy({ $0 == 0 }) { return "zero" }
        if v.allSatisfy({ $0 == v[0] }) { return "constant" }
        var incremental = true
        for i in 1..<v.count {
            let d = (UInt64(v[i]) &+ modulus &- UInt64(v[i - 1])) % modulus
            if d == 0 || d > 4096 { incremental = false; break }
        }
        return incremental ? "incremental" : "random"
    }
}
