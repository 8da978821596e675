// A small, strict JSON reader/writer for hostile input: one bounds-checked cursor, a depth limit, UTF-8
// validation, and two ways to read: `JSONScanner.members` (validate an object and return the raw byte ranges
// of its top-level members, no allocation per value: the bus broker's hot path) and `JSONValue.parse`
// (a full tree, for consumers).

import Fingerprint

/// A JSON value. Objects keep member order (producers' order is what we forward and log).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }

    /// Python truthiness, as the original bus applies it (`payload or {}`, `type or ""`).
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let array = Array(bytes)
        let result: Result<JSONValue, JSONError> = array.withUnsafeBytes { raw in
            var c = JSONScanner(raw)
            do throws(JSONError) {
                let v = try c.parseValue(depth: 0)
                c.skipWhitespace()
                guard c.pos == raw.count else { return .failure(JSONError.trailingData(offset: c.pos)) }
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ string: String) throws(JSONError) -> JSONValue { try parse(Array(string.utf8)) }

    /// Compact serialization (no spaces), the shape orjson writes.
    public var serialized: String {
        var out: [UInt8] = []
        serialize(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func serialize(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): JSONWriter.number(d, into: &out)
        case .string(let s): JSONWriter.string(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.serialize(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.string(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.serialize(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

public enum JSONError: Error, Equatable, CustomStringConvertible {
    case unexpectedEnd
    case unexpectedByte(offset: Int)
    case invalidUTF8(offset: Int)
    case tooDeep
    case trailingData(offset: Int)
    case notAnObject
    case numberOutOfRange(offset: Int)

    public var description: String {
        switch self {
        case .unexpectedEnd: return "JSON ends early"
        case .unexpectedByte(let o): return "unexpected byte at offset \(o)"
        case .invalidUTF8(let o): return "invalid UTF-8 at offset \(o)"
        case .tooDeep: return "JSON nested deeper than \(JSONScanner.maxDepth) levels"
        case .trailingData(let o): return "data after the JSON value at offset \(o)"
        case .notAnObject: return "JSON body is not an object"
        case .numberOutOfRange(let o): return "number out of range at offset \(o)"
        }
    }
}

public enum JSONWriter {
    /// One JSON string writer for the process (Fingerprint's `JSON.appendString`: controls, DEL and C1
    /// escaped).
    public static func string(_ s: String, into out: inout [UInt8]) {
        JSON.appendString(s, to: &out)
    }

    public static func string(_ s: String) -> String {
        var out: [UInt8] = []
        string(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Integers print without a fraction; other finite values in Swift's shortest round-trip form (the
    /// same digits as Python's repr); non-finite values (not JSON) print as null.
    public static func number(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        if d == d.rounded(), abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }
}

/// The cursor. All reads go through `peek`/`advance`, which check `pos < count`.
public struct JSONScanner {
    public static let maxDepth = 128
    let base: UnsafeRawBufferPointer
    public private(set) var pos = 0

    public init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inline(__always) var atEnd: Bool { pos >= base.count }
    @inline(__always) func peek() -> UInt8? { pos < base.count ? base[pos] : nil }

    @inline(__always) mutating func skipWhitespace() {
        while pos < base.count {
            let b = base[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { break }
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard let b = peek() else { throw JSONError.unexpectedEnd }
        guard b == byte else { throw JSONError.unexpectedByte(offset: pos) }
        pos += 1
    }

    mutating func expectLiteral(_ lit: StaticString) throws(JSONError) {
        let n = lit.utf8CodeUnitCount
        guard pos + n <= base.count else { throw JSONError.unexpectedEnd }
        let p = lit.utf8Start
        for i in 0..<n where base[pos + i] != p[i] { throw JSONError.unexpectedByte(offset: pos + i) }
        pos += n
    }

    /// Validates one value and returns the range of bytes it spans.
    public mutating func skipValue(depth: Int) throws(JSONError) -> Range<Int> {
        skipWhitespace()
        let start = pos
        guard let b = peek() else { throw JSONError.unexpectedEnd }
        switch b {
        case UInt8(ascii: "{"):
            try scanObject(depth: depth) { _, _ in }
            return start..<pos
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maxDepth else { throw JSONError.tooDeep }
            pos += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { pos += 1; return start..<pos }
            while true {
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let c = peek() else { throw JSONError.unexpectedEnd }
                pos += 1
                if c == UInt8(ascii: "]") { return start..<pos }
                guard c == UInt8(ascii: ",") else { throw JSONError.unexpectedByte(offset: pos - 1) }
            }
        case UInt8(ascii: "\""):
            return try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: try skipNumber()
        }
        return start..<pos
    }

    /// Validates a string (escapes and UTF-8) and returns its range including the quotes.
    public mutating func skipString() throws(JSONError) -> Range<Int> {
        let start = pos
        try expect(UInt8(ascii: "\""))
        let n = base.count
        while true {
            // Fast path: plain ASCII runs, eight bytes at a time (SWAR: any byte < 0x20, == '"', == '\\' or
            // >= 0x80 stops the skip), then byte by byte.
            let lo: UInt64 = 0x0101_0101_0101_0101, hi: UInt64 = 0x8080_8080_8080_8080
            @inline(__always) func special(_ w: UInt64) -> UInt64 {
                let q = w ^ (lo &* 0x22), bs = w ^ (lo &* 0x5C)
                return ((w &- lo &* 0x20) & ~w) | ((q &- lo) & ~q) | ((bs &- lo) & ~bs) | w
            }
            while pos + 32 <= n {
                let p = base.baseAddress! + pos
                let m = special(p.loadUnaligned(as: UInt64.self)) | special(p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    | special(p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) | special(p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
                if m & hi != 0 { break }
                pos += 32
            }
            while pos + 8 <= n {
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
                let ctl = (w &- lo &* 0x20) & ~w & hi
                let q = w ^ (lo &* 0x22), bs = w ^ (lo &* 0x5C)
                let quote = (q &- lo) & ~q & hi, slash = (bs &- lo) & ~bs & hi
                if (ctl | quote | slash | (w & hi)) != 0 { break }
                pos += 8
            }
            while pos < n {
                let b = base[pos]
                if b < 0x20 || b == 0x22 || b == 0x5C || b >= 0x80 { break }
                pos += 1
            }
            guard pos < n else { throw JSONError.unexpectedEnd }
            let b = base[pos]
            if b == UInt8(ascii: "\"") { pos += 1; return start..<pos }
            if b == UInt8(ascii: "\\") {
                pos += 1
                guard let e = peek() else { throw JSONError.unexpectedEnd }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos += 1
                case UInt8(ascii: "u"):
                    pos += 1
                    guard pos + 4 <= n else { throw JSONError.unexpectedEnd }
                    for i in 0..<4 where JSONScanner.hexValue(base[pos + i]) == nil {
                        throw JSONError.unexpectedByte(offset: pos + i)
                    }
                    pos += 4
                default: throw JSONError.unexpectedByte(offset: pos)
                }
                continue
            }
            if b < 0x20 { throw JSONError.unexpectedByte(offset: pos) }
            try skipUTF8Sequence()
        }
    }

    mutating func skipUTF8Sequence() throws(JSONError) {
        let b = base[pos]
        let need: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: throw JSONError.invalidUTF8(offset: pos)
        }
        guard pos + need < base.count else { throw JSONError.unexpectedEnd }
        let c1 = base[pos + 1]
        guard c1 >= lo && c1 <= hi else { throw JSONError.invalidUTF8(offset: pos + 1) }
        if need > 1 {
            for i in 2...need where base[pos + i] & 0xC0 != 0x80 { throw JSONError.invalidUTF8(offset: pos + i) }
        }
        pos += need + 1
    }

    mutating func skipNumber() throws(JSONError) {
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek() else { throw JSONError.unexpectedEnd }
        if first == UInt8(ascii: "0") {
            pos += 1
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            while let d = peek(), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { pos += 1 }
        } else {
            throw JSONError.unexpectedByte(offset: pos)
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard let d = peek() else { throw JSONError.unexpectedEnd }
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { throw JSONError.unexpectedByte(offset: pos) }
            while let d = peek(), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard let d = peek() else { throw JSONError.unexpectedEnd }
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { throw JSONError.unexpectedByte(offset: pos) }
            while let d = peek(), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { pos += 1 }
        }
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Validates one object at the cursor (which is at `{`) and calls `member` with each key's range
    /// (including quotes) and value's range. Shared by `skipValue` and `members`.
    mutating func scanObject(depth: Int, _ member: (Range<Int>, Range<Int>) -> Void) throws(JSONError) {
        guard depth < JSONScanner.maxDepth else { throw JSONError.tooDeep }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return }
        while true {
            skipWhitespace()
            let k = try skipString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            let v = try skipValue(depth: depth + 1)
            member(k, v)
            skipWhitespace()
            guard let c = peek() else { throw JSONError.unexpectedEnd }
            pos += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw JSONError.unexpectedByte(offset: pos - 1) }
        }
    }

    /// Validates that the whole buffer is one JSON object and calls `member` with each top-level key's raw
    /// bytes (without quotes; escapes left as-is) and the value's byte range.
    public static func members(of raw: UnsafeRawBufferPointer,
                               _ member: (UnsafeRawBufferPointer, Range<Int>) -> Void) throws(JSONError) {
        var c = JSONScanner(raw)
        c.skipWhitespace()
        guard c.peek() == UInt8(ascii: "{") else {
            if c.atEnd { throw JSONError.unexpectedEnd }
            _ = try c.skipValue(depth: 0)
            throw JSONError.notAnObject
        }
        try c.scanObject(depth: 0) { k, v in
            member(UnsafeRawBufferPointer(rebasing: raw[(k.lowerBound + 1)..<(k.upperBound - 1)]), v)
        }
        c.skipWhitespace()
        guard c.atEnd else { throw JSONError.trailingData(offset: c.pos) }
    }

    // MARK: tree parsing

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard let b = peek() else { throw JSONError.unexpectedEnd }
        switch b {
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maxDepth else { throw JSONError.tooDeep }
            pos += 1
            var members: [(String, JSONValue)] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipWhitespace()
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard let c = peek() else { throw JSONError.unexpectedEnd }
                pos += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                guard c == UInt8(ascii: ",") else { throw JSONError.unexpectedByte(offset: pos - 1) }
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maxDepth else { throw JSONError.tooDeep }
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard let c = peek() else { throw JSONError.unexpectedEnd }
                pos += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else { throw JSONError.unexpectedByte(offset: pos - 1) }
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default:
            let start = pos
            try skipNumber()
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: base[start..<pos]), as: UTF8.self)
            // 1e400 is not a number we can write back (it would become null): refuse it here.
            guard let d = Double(text), d.isFinite else { throw JSONError.numberOutOfRange(offset: start) }
            return .number(d)
        }
    }

    mutating func parseString() throws(JSONError) -> String {
        let range = try skipString()
        let inner = UnsafeRawBufferPointer(rebasing: base[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 4 | (JSONScanner.hexValue(inner[at + k]) ?? 0) }
            return v
        }
        while i < inner.count {
            let b = inner[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            let e = inner[i + 1]   // skipString guaranteed a complete escape
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= inner.count,
                   inner[i] == UInt8(ascii: "\\"), inner[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(Character(u)).utf8)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
