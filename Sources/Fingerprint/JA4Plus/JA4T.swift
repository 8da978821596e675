// JA4T.swift: JA4T (client SYN) and JA4TS (server SYN+ACK). FoxIO License 1.1 (see LICENSE/NOTICE).
//   window _ option kinds in wire order (every padding byte after EOL is another 0) _ MSS _ window scale
#if JA4Plus

public struct JA4T: Sendable, Equatable {
    public let window: UInt16
    public let optionKinds: [UInt8]
    public let mss: Int, scale: Int
    /// Reference (Rust) spelling: "8192__0_0" when options are absent.
    public let value: String

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
        value = "\(window)_\(kinds.map { String($0) }.joined(separator: "-"))_\(mss)_\(scale)"
    }
}
#endif
