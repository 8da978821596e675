// JA4T.swift: JA4T (client SYN) and JA4TS (server SYN+ACK). FoxIO License 1.1 (see LICENSE/NOTICE).
//   window _ option kinds in wire order (every padding byte after EOL is another 0) _ MSS _ window scale
#if JA4Plus

public struct JA4T: Sendable, Equatable {
    public let window: UInt16
    public let optionKinds: [UInt8]
    public let mss: Int, scale: Int
    /// Reference (Rust) spelling: "8192__0_0" when options are absent.
    public let value: String
    /// Wireshark-plugin spelling ("00" for no options, MSS and scale as at least two digits), the only
    /// reference for JA4TS.
    public let pluginValue: String

    public init(_ s: TCPSynFacts) {
        window = s.window
        var kinds: [UInt8] = []
        var mss = 0, scale = 0
        let o = s.options
        var i = 0
        while i < o.count {
            let k = o[i]
            kinds.append(k)
            if k == 0 || k == 1 { i += 1; continue }
            guard i + 1 < o.count else { break }
            let len = Int(o[i + 1])
            guard len >= 2, i + len <= o.count else { break }
            if k == 2 && len == 4 { mss = Int(o[i + 2]) << 8 | Int(o[i + 3]) }
            if k == 3 && len == 3 { scale = Int(o[i + 2]) }
            i += len
        }
        optionKinds = kinds
        self.mss = mss
        self.scale = scale
        let opts = kinds.map { String($0) }.joined(separator: "-")
        value = "\(window)_\(opts)_\(mss)_\(scale)"
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        // The plugin zero-pads MSS and scale only when the scale is 0 (e.g. "..._1440_00", "8192_00_00_00").
        pluginValue = "\(window)_\(opts.isEmpty ? "00" : opts)_\(scale == 0 ? two(mss) : String(mss))_\(scale == 0 ? "00" : String(scale))"
    }
}
#endif
