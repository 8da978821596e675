// FlowReport.swift: the per-flow result, rendered as one JSON object per line while fields are set
// (field names are those of shared/corpus/README.md; check.py reads them).

public struct FlowReport: Sendable {
    private var json: String
    public private(set) var keys: [String] = []

    public init() {
        json = "{"
        json.reserveCapacity(1024)
    }

    private mutating func key(_ k: String) {
        if !keys.isEmpty { json += "," }
        keys.append(k)
        JSON.appendString(k, to: &json)
        json += ":"
    }

    public mutating func set(_ k: String, _ value: String?) {
        guard let value else { return }
        key(k)
        JSON.appendString(value, to: &json)
    }

    public mutating func set(_ k: String, _ value: Int) {
        key(k)
        json += String(value)
    }

    public mutating func set(_ k: String, _ values: [String]) {
        guard !values.isEmpty else { return }
        key(k)
        json += "["
        for (j, s) in values.enumerated() {
            if j > 0 { json += "," }
            JSON.appendString(s, to: &json)
        }
        json += "]"
    }

    public func jsonLine() -> String { json + "}" }

    /// Appends the fields of another report (a pre-rendered, cached group of fields).
    public mutating func append(_ fragment: FlowReport) {
        guard !fragment.keys.isEmpty else { return }
        if !keys.isEmpty { json += "," }
        json += fragment.json.dropFirst()
        keys += fragment.keys
    }
}

public enum JSON {
    /// RFC 8259 string escaping. Most values need none: check the bytes once and append whole.
    public static func appendString(_ s: String, to out: inout String) {
        var s = s
        let clean = s.withUTF8 { b -> Bool in
            for c in b where c < 0x20 || c == 0x22 || c == 0x5c || c == 0x7f { return false }
            return true
        }
        out += "\""
        if clean {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
