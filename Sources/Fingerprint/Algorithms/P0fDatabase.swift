// P0fDatabase.swift: matcher for p0f v3 `[tcp:request]` / `[tcp:response]` signatures, given the text
// of a p0f.fp file (the caller reads it; the LGPL database is never bundled). Exact matches win over
// fuzzy ones (p0f: `df`/`id+` may vanish, `id-`/`ecn` may appear, TTL up to 35 below the signature).

public struct P0fDatabase: Sendable {
    struct Sig: Sendable {
        var label: String
        var ver: String, ttl: Int, badTTL: Bool, olen: String, mss: String
        var wsize: String, scale: String, layout: String, quirks: Set<String>, pclass: String
    }
    var request: [Sig] = []
    var response: [Sig] = []

    public var count: Int { request.count + response.count }

    public init(text: String) {
        var section = ""
        var label = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let l = line.trimming(" \t\r")
            if l.hasPrefix(";") || l.isEmpty { continue }
            if l.hasPrefix("[") { section = l; continue }
            guard section == "[tcp:request]" || section == "[tcp:response]" else { continue }
            guard let eq = l.firstIndex(of: "=") else { continue }
            let key = l[..<eq].trimming(" \t")
            let value = l[l.index(after: eq)...].trimming(" \t")
            if key == "label" { label = Self.pretty(value); continue }
            guard key == "sig" else { continue }
            let f = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8 else { continue }
            let ws = f[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard ws.count == 2 else { continue }
            var ttlText = f[1]
            let bad = ttlText.hasSuffix("-")
            if bad { ttlText.removeLast() }
            if let plus = ttlText.firstIndex(of: "+") { ttlText = String(ttlText[..<plus]) }
            guard let ttl = Int(ttlText) else { continue }
            let sig = Sig(label: label, ver: f[0], ttl: ttl, badTTL: bad, olen: f[2], mss: f[3], wsize: ws[0], scale: ws[1],
                          layout: f[5], quirks: Set(f[6].split(separator: ",").map(String.init)), pclass: f[7])
            if section == "[tcp:request]" { request.append(sig) } else { response.append(sig) }
        }
    }

    /// "s:unix:Linux:3.11 and newer" -> "Linux 3.11 and newer"
    static func pretty(_ label: String) -> String {
        let p = label.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard p.count == 4 else { return label }
        return p[3].isEmpty ? String(p[2]) : "\(p[2]) \(p[3])"
    }

    public func match(_ s: TCPSignature) -> String? {
        let sigs = s.isSynAck ? response : request
        var fuzzy: String? = nil
        for sig in sigs {
            switch check(sig, s) {
            case .exact: return sig.label
            case .fuzzy: if fuzzy == nil { fuzzy = sig.label }
            case .none: continue
            }
        }
        return fuzzy
    }

    enum Result { case exact, fuzzy, none }

    func check(_ sig: Sig, _ s: TCPSignature) -> Result {
        if sig.ver != "*" && sig.ver != String(s.ipVersion) { return .none }
        if sig.olen != String(s.ipOptionLength) { return .none }
        if sig.layout != s.layout { return .none }
        let mss = s.mss ?? 0
        if sig.mss != "*" && sig.mss != String(mss) { return .none }
        if sig.scale != "*" && sig.scale != String(s.scale) { return .none }
        if sig.pclass != "*" && sig.pclass != (s.hasPayload ? "+" : "0") { return .none }
        let w = Int(s.window)
        let ws = sig.wsize
        if ws != "*" {
            // p0f compares "mss*N"/"mtu*N" with the multiple it detected in the packet (MSS-12,
            // 1460, peer MSS ... rules included), not with window == MSS * N.
            if ws.hasPrefix("%") { guard let n = Int(ws.dropFirst()), n > 0, w % n == 0 else { return .none } }
            else if ws.hasPrefix("mss*") || ws.hasPrefix("mtu*") { guard ws == s.windowForm else { return .none } }
            else if ws != String(w) { return .none }
        }
        let ittl = Int(s.ttl) + s.distance
        var fuzzy = false
        if sig.badTTL { if Int(s.ttl) > sig.ttl { return .none } }
        else if ittl != sig.ttl {
            if Int(s.ttl) > sig.ttl || sig.ttl - Int(s.ttl) > 35 { return .none }
            fuzzy = true
        }
        let q = Set(s.quirks)
        if q != sig.quirks {
            // allowed drift: df/id+ disappearing, id-/ecn appearing
            let missing = sig.quirks.subtracting(q), extra = q.subtracting(sig.quirks)
            if !missing.isSubset(of: ["df", "id+"]) || !extra.isSubset(of: ["id-", "ecn"]) { return .none }
            fuzzy = true
        }
        return fuzzy ? .fuzzy : .exact
    }
}

extension StringProtocol {
    /// Drops characters of `set` from both ends (no Foundation here; internal: not part of the module's API).
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
