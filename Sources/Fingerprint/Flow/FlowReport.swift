// FlowReport.swift: the per-flow result, rendered straight into UTF-8 JSON bytes while fields are set
// (one object per line; field names are those of shared/corpus/README.md, which check.py reads).

public struct FlowReport: Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var fieldCount = 0

    public init() {
        bytes = [UInt8(ascii: "{")]
        bytes.reserveCapacity(1536)
    }

    /// Keys are our own ASCII literals: no escaping needed.
    private mutating func key(_ k: StaticString) {
        if fieldCount > 0 { bytes.append(UInt8(ascii: ",")) }
        fieldCount += 1
        bytes.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func set(_ k: StaticString, _ value: String?) {
        guard let value else { return }
        key(k)
        JSON.appendString(value, to: &bytes)
    }

    public mutating func set(_ k: StaticString, _ value: Int) {
        key(k)
        JSON.appendInt(value, to: &bytes)
    }

    public mutating func set(_ k: StaticString, _ values: [String]) {
        guard !values.isEmpty else { return }
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (j, s) in values.enumerated() {
            if j > 0 { bytes.append(UInt8(ascii: ",")) }
            JSON.appendString(s, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An address as a JSON string; IPv4 is rendered without building a String.
    public mutating func setAddress(_ k: StaticString, _ a: IPAddress) {
        guard a.version == 4 else { set(k, a.description); return }
        key(k)
        bytes.append(UInt8(ascii: "\""))
        for i in 0..<4 {
            if i > 0 { bytes.append(UInt8(ascii: ".")) }
            JSON.appendInt(Int(a.hi >> (56 - 8 * UInt64(i)) & 0xff), to: &bytes)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the fields of another report (a pre-rendered, cached group of fields).
    public mutating func append(_ fragment: FlowReport) {
        guard fragment.fieldCount > 0 else { return }
        if fieldCount > 0 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(contentsOf: fragment.bytes[1...])
        fieldCount += fragment.fieldCount
    }

    /// The complete JSON object.
    public var jsonBytes: [UInt8] { bytes + [UInt8(ascii: "}")] }
    public func jsonLine() -> String { String(decoding: jsonBytes, as: UTF8.self) }
}

public enum JSON {
    /// RFC 8259 string escaping. Most values need none: check the bytes once and append whole. Control
    /// characters, DEL and C1 (U+0080–U+009F) become `\u00HH` (ControlCharacters): valid JSON either
    /// way, and a terminal showing the line acts on none of them.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { b in
            var clean = true
            for c in b where c < 0x20 || c == 0x22 || c == 0x5c || c == 0x7f || c == 0xc2 { clean = false; break }
            if clean { out.append(contentsOf: b); return }
            var i = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case 0x22: out += [0x5c, 0x22]
                case 0x5c: out += [0x5c, 0x5c]
                case 0x0a: out += [0x5c, UInt8(ascii: "n")]
                case 0x0d: out += [0x5c, UInt8(ascii: "r")]
                case 0x09: out += [0x5c, UInt8(ascii: "t")]
                default:
                    switch ControlCharacters.controlLength(b, i) {
                    case 1: ControlCharacters.appendEscape(c, into: &out)
                    case 2: ControlCharacters.appendEscape(b[i + 1], into: &out); i += 1
                    default: out.append(c)   // UTF-8 bytes pass through (the String was already valid)
                    }
                }
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendInt(_ v: Int, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(ascii: "0") + UInt8(m % 10); m /= 10; n += 1 } while m > 0
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }
}
