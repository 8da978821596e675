// FlowReport.swift: the per-flow result: ordered fields, rendered as one JSON object per line.
// Field names are those of shared/corpus/README.md (check.py reads them).

public enum FieldValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case strings([String])
}

public struct FlowReport: Sendable {
    public private(set) var fields: [(String, FieldValue)] = []

    public init() {}

    public mutating func set(_ key: String, _ value: String?) {
        if let value { fields.append((key, .string(value))) }
    }
    public mutating func set(_ key: String, _ value: Int) { fields.append((key, .int(value))) }
    public mutating func set(_ key: String, _ values: [String]) {
        if !values.isEmpty { fields.append((key, .strings(values))) }
    }
    public subscript(key: String) -> FieldValue? { fields.first { $0.0 == key }?.1 }

    public func jsonLine() -> String {
        var out = "{"
        out.reserveCapacity(512)
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out += "," }
            JSON.appendString(k, to: &out)
            out += ":"
            switch v {
            case .string(let s): JSON.appendString(s, to: &out)
            case .int(let n): out += String(n)
            case .strings(let list):
                out += "["
                for (j, s) in list.enumerated() {
                    if j > 0 { out += "," }
                    JSON.appendString(s, to: &out)
                }
                out += "]"
            }
        }
        out += "}"
        return out
    }
}

public enum JSON {
    /// RFC 8259 string escaping; invalid UTF-8 was already replaced when the String was decoded.
    public static func appendString(_ s: String, to out: inout String) {
        out += "\""
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
