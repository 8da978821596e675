// JA4H.swift: JA4H HTTP client fingerprint. FoxIO License 1.1 (see LICENSE/NOTICE in this directory).
//   a = method(2) version(2) cookie(c/n) referer(r/n) #headers(2) language(4)
//   b = hash12(header names as sent)  c = hash12(sorted cookie names)  d = hash12(sorted cookie pairs)
#if JA4Plus

public struct JA4H: Sendable, Equatable {
    public let a: String
    public let headerNames: String
    public let cookieNames: String, cookiePairs: String
    public let cookieNamesOriginal: String, cookiePairsOriginal: String
    public let hash: String, raw: String, rawOriginal: String

    /// - Parameter headers: field lines in wire order (HTTP/2/3 pseudo-headers are ignored).
    public init(method: String, version: String, headers: [(name: String, value: String)]) {
        let fields = headers.filter { !$0.name.hasPrefix(":") }
        var cookies: [(name: String, value: String, text: String)] = []
        var referer = false
        var names: [String] = []
        var language = ""
        for (name, value) in fields {
            let lower = name.lowercased()
            if lower == "cookie" {
                for part in value.split(separator: ";") {
                    let item = part.trimming(" \t")
                    if item.isEmpty { continue }
                    if let eq = item.firstIndex(of: "=") {
                        cookies.append((String(item[..<eq]), String(item[item.index(after: eq)...]), item))
                    } else {
                        cookies.append((item, "", item))      // a cookie without '=' stays as its name
                    }
                }
                continue
            }
            if lower == "referer" { referer = true; continue }
            names.append(name)
            if lower == "accept-language" && language.isEmpty {
                language = Self.languageCode(value)
            }
        }
        let hasCookie = fields.contains { $0.name.lowercased() == "cookie" }
        let letters = method.lowercased().filter { $0.isLetter }
        let mm = String((letters + "00").prefix(2))
        a = mm + Self.version(version) + (hasCookie ? "c" : "n") + (referer ? "r" : "n")
            + JA4Marker.count2(names.count) + (language.isEmpty ? "0000" : language)
        headerNames = names.joined(separator: ",")
        // Byte-order sort of (name, value) pairs, as the Rust reference does.
        let sorted = cookies.sorted { $0.name != $1.name ? Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8)
                                                         : Array($0.value.utf8).lexicographicallyPrecedes($1.value.utf8) }
        cookieNames = sorted.map(\.name).joined(separator: ",")
        cookiePairs = sorted.map(\.text).joined(separator: ",")
        cookieNamesOriginal = cookies.map(\.name).joined(separator: ",")
        cookiePairsOriginal = cookies.map(\.text).joined(separator: ",")
        // An empty header list hashes the empty string here (the corpus' primary value, from the Python
        // reference); the cookie parts keep the twelve-zero rule.
        let namesHash = headerNames.isEmpty ? String(Digest.sha256Hex("").prefix(12)) : Digest.hash12(headerNames)
        hash = "\(a)_\(namesHash)_\(Digest.hash12(cookieNames))_\(Digest.hash12(cookiePairs))"
        raw = "\(a)_\(headerNames)_\(cookieNames)_\(cookiePairs)"
        rawOriginal = cookies.isEmpty ? "\(a)_\(headerNames)_" : "\(a)_\(headerNames)_\(cookieNamesOriginal)_\(cookiePairsOriginal)"
    }

    static func version(_ v: String) -> String {
        switch v.uppercased() {
        case "HTTP/1.0": return "10"
        case "HTTP/1.1": return "11"
        case "HTTP/2", "HTTP/2.0": return "20"
        case "HTTP/3", "HTTP/3.0": return "30"
        default: return "00"
        }
    }

    /// Text before the first ',', '-' removed, lowercased, first 4 characters, '0'-padded.
    static func languageCode(_ v: String) -> String {
        let first = v.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let cleaned = first.filter { $0 != "-" && $0 != " " }.lowercased()
        return String((cleaned + "0000").prefix(4))
    }
}
#endif
