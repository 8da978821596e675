// ControlCharacters.swift: the one definition of the characters a terminal acts on, and the one escaping
// function for them. Attackers choose usernames, SNI, Redis keys, banners and user agents; an operator
// reads those in `tail -f`, `decnet logs` and the JSON files. Every byte < 0x20, DEL (0x7F) and every C1
// control (U+0080–U+009F, UTF-8 C2 80–C2 9F) is written as `\u00HH`, so ESC/BEL/CSI sequences and NUL
// never reach a terminal raw. Callers escape their own delimiters (`\`, `"`, `]`) first or after, but
// always escape the backslash so `\u001b` sent literally stays distinguishable (`\\u001b`).

public enum ControlCharacters {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// True for C0, DEL and the C1 lead/continuation pair at `bytes[i]` (C2 80–9F).
    @inline(__always)
    public static func isControl(_ b: UInt8) -> Bool { b < 0x20 || b == 0x7f }

    /// Length of the control character at `i` (1 for C0/DEL, 2 for a C1 in UTF-8), 0 for anything else.
    @inline(__always)
    public static func controlLength(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let b = bytes[i]
        if b < 0x20 || b == 0x7f { return 1 }
        if b == 0xc2, i + 1 < bytes.count, bytes[i + 1] >= 0x80, bytes[i + 1] <= 0x9f { return 2 }
        return 0
    }

    /// Appends `\u00HH` for the control character whose code point is `cp` (< 0x100).
    @inline(__always)
    public static func appendEscape(_ cp: UInt8, into out: inout [UInt8]) {
        out += [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(cp >> 4)], hex[Int(cp & 15)]]
    }

    /// Whether `s` holds any character this escaping would change (the usual case is no: append whole).
    public static func needsEscaping(_ s: String, also extra: (UInt8) -> Bool = { _ in false }) -> Bool {
        var s = s
        return s.withUTF8 { b in
            for i in 0..<b.count where controlLength(b, i) > 0 || extra(b[i]) { return true }
            return false
        }
    }

    /// `s` with every control character as `\u00HH` and a backslash doubled, plus `\`-escaping of the
    /// bytes `escapeWithBackslash` names (RFC 5424 PARAM-VALUE: `"` and `]`).
    public static func append(_ s: String, escapeWithBackslash: (UInt8) -> Bool = { _ in false }, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { b in
            var i = 0
            while i < b.count {
                let n = controlLength(b, i)
                if n == 1 { appendEscape(b[i], into: &out); i += 1; continue }
                if n == 2 { appendEscape(b[i + 1], into: &out); i += 2; continue }
                let c = b[i]
                if c == 0x5c || escapeWithBackslash(c) { out.append(0x5c) }
                out.append(c)
                i += 1
            }
        }
    }

    /// Text safe to print on a terminal (CLI tables, log lines): controls as `\u00HH`, backslashes doubled.
    public static func escaped(_ s: String) -> String {
        guard needsEscaping(s, also: { $0 == 0x5c }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        append(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
