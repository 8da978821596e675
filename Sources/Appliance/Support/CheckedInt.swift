// CheckedInt.swift: the one integer parser for everything an attacker or a client sends (chunk sizes,
// lengths, counts, query parameters, form fields, configuration). Swift's `Int(_:radix:)` accepts a sign
// ("-1", "+5") and callers used to slice with the result; a trip through Double loses precision and traps
// converting back. Here: ASCII digits only, a sign only when the range allows negatives, overflow reported
// as nil, and the result always inside the given bounds.

public enum CheckedInt {
    /// `text` as an integer in `range`, or nil (empty, a sign where none is allowed, a non-digit, too long,
    /// overflow, outside the range). A leading '-' is accepted only when `range` reaches below zero; '+' never.
    public static func parse<C: Collection>(_ text: C, radix: Int = 10, in range: ClosedRange<Int>) -> Int?
    where C.Element == UInt8 {
        precondition(radix == 10 || radix == 16, "CheckedInt: radix 10 or 16")
        var i = text.startIndex
        guard i != text.endIndex else { return nil }
        var negative = false
        if text[i] == UInt8(ascii: "-") {
            guard range.lowerBound < 0 else { return nil }
            negative = true
            i = text.index(after: i)
            guard i != text.endIndex else { return nil }
        }
        var value = 0
        var digits = 0
        while i != text.endIndex {
            guard let d = digit(text[i], radix: radix) else { return nil }
            digits += 1
            // 64 digits is far past any Int; the overflow checks below catch everything before that.
            guard digits <= 64 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            value = s
            i = text.index(after: i)
        }
        return range.contains(value) ? value : nil
    }

    public static func parse(_ text: some StringProtocol, radix: Int = 10, in range: ClosedRange<Int>) -> Int? {
        parse(text.utf8, radix: radix, in: range)
    }

    /// A non-negative count or length, at most `max`.
    public static func count(_ text: some StringProtocol, max: Int) -> Int? { parse(text.utf8, in: 0...max) }

    @inline(__always)
    static func digit(_ c: UInt8, radix: Int) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c - 0x30)
        case 0x61...0x66 where radix == 16: return Int(c - 0x61 + 10)
        case 0x41...0x46 where radix == 16: return Int(c - 0x41 + 10)
        default: return nil
        }
    }
}

/// Arithmetic on offsets and lengths that come from the wire or a client: nil instead of a trap.
public enum CheckedMath {
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    /// `a + b` clamped to `Int.max` (page arithmetic: "is there a next page?").
    public static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? Int.max : Int.min) : r
    }

    /// A Double that is a whole number inside `range` as an Int; nil for NaN, infinities, fractions and
    /// values outside (Int(d) traps on those).
    public static func exactInt(_ d: Double, in range: ClosedRange<Int>) -> Int? {
        guard d.isFinite, d.rounded() == d, d >= -9.007_199_254_740_992e15, d <= 9.007_199_254_740_992e15 else { return nil }
        let v = Int(d)
        return range.contains(v) ? v : nil
    }
}
