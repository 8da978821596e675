// Schema.swift: one description of every request and response shape. The dispatcher validates request
// bodies and parameters against it and OpenAPI.swift prints it, so the document and the checks cannot
// disagree.
import Appliance
import Fingerprint

public struct StringRule: Sendable {
    var minLength: Int? = nil
    var maxLength: Int? = nil
    var pattern: String? = nil
    var enumValues: [String]? = nil
    var format: String? = nil
}

public struct Prop: Sendable {
    var name: String
    var schema: Schema
    var required: Bool
    init(_ name: String, _ schema: Schema, required: Bool = true) {
        self.name = name
        self.schema = schema
        self.required = required
    }
}

public indirect enum Schema: Sendable {
    case string(StringRule)
    case integer(min: Int?, max: Int?)
    case number
    case boolean
    case array(Schema)
    /// `closed`: unknown members are refused (request bodies) / documented as additionalProperties false.
    case object([Prop], closed: Bool)
    /// Any JSON object (free-form: event fields, profiles).
    case freeObject
    case nullable(Schema)
    /// A named schema in components (responses that repeat).
    case ref(String)

    static let text = Schema.string(StringRule())
    static let int = Schema.integer(min: nil, max: nil)
    static let timestamp = Schema.string(StringRule(format: "date-time"))
    static func text(min: Int? = nil, max: Int? = nil, pattern: String? = nil, enumValues: [String]? = nil) -> Schema {
        .string(StringRule(minLength: min, maxLength: max, pattern: pattern, enumValues: enumValues))
    }
    static func obj(_ props: [Prop]) -> Schema { .object(props, closed: false) }
    static func body(_ props: [Prop]) -> Schema { .object(props, closed: true) }
}

/// Why a request value was refused. `structural` problems (wrong type, missing or unknown member) are 400,
/// value problems (length, range, pattern, enum) are 422, as in the original (spec §10.1).
struct SchemaProblem: Error {
    var structural: Bool
    var message: String
}

extension Schema {
    /// Checks `value` against this schema; `path` names the member in the message (`body.username`).
    func validate(_ value: JSONValue, path: String, components: [String: Schema]) throws(SchemaProblem) {
        switch self {
        case .ref(let name):
            guard let s = components[name] else { return }
            try s.validate(value, path: path, components: components)
        case .nullable(let inner):
            if case .null = value { return }
            try inner.validate(value, path: path, components: components)
        case .freeObject:
            guard value.isObject else { throw SchemaProblem(structural: true, message: "\(path): expected an object") }
        case .boolean:
            guard value.boolValue != nil else { throw SchemaProblem(structural: true, message: "\(path): expected a boolean") }
        case .number:
            guard value.doubleValue != nil else { throw SchemaProblem(structural: true, message: "\(path): expected a number") }
        case .integer(let lo, let hi):
            guard let d = value.doubleValue, d.rounded() == d, abs(d) < 9.0e15 else {
                throw SchemaProblem(structural: true, message: "\(path): expected an integer")
            }
            try Schema.checkRange(Int(d), lo, hi, path)
        case .string(let rule):
            guard let s = value.stringValue else { throw SchemaProblem(structural: true, message: "\(path): expected a string") }
            try rule.check(s, path: path)
        case .array(let item):
            guard case .array(let items) = value else { throw SchemaProblem(structural: true, message: "\(path): expected an array") }
            for (i, v) in items.enumerated() { try item.validate(v, path: "\(path)[\(i)]", components: components) }
        case .object(let props, let closed):
            guard case .object(let members) = value else { throw SchemaProblem(structural: true, message: "\(path): expected an object") }
            var seen = Set<String>()
            for (k, v) in members {
                guard seen.insert(k).inserted else { throw SchemaProblem(structural: true, message: "\(path).\(k): given twice") }
                guard let p = props.first(where: { $0.name == k }) else {
                    if closed { throw SchemaProblem(structural: true, message: "\(path).\(k): unknown field") }
                    continue
                }
                try p.schema.validate(v, path: "\(path).\(k)", components: components)
            }
            for p in props where p.required && !seen.contains(p.name) {
                throw SchemaProblem(structural: true, message: "\(path).\(p.name): field required")
            }
        }
    }

    static func checkRange(_ v: Int, _ lo: Int?, _ hi: Int?, _ path: String) throws(SchemaProblem) {
        if let lo, v < lo { throw SchemaProblem(structural: false, message: "\(path): must be >= \(lo)") }
        if let hi, v > hi { throw SchemaProblem(structural: false, message: "\(path): must be <= \(hi)") }
    }
}

extension StringRule {
    func check(_ s: String, path: String) throws(SchemaProblem) {
        // OpenAPI/JSON Schema lengths count code points.
        let n = s.unicodeScalars.count
        if let lo = minLength, n < lo { throw SchemaProblem(structural: false, message: "\(path): at least \(lo) characters") }
        if let hi = maxLength, n > hi { throw SchemaProblem(structural: false, message: "\(path): at most \(hi) characters") }
        if let values = enumValues, !values.contains(s) {
            throw SchemaProblem(structural: false, message: "\(path): one of \(values.joined(separator: ", "))")
        }
        if let pattern, !PatternCache.matches(pattern, s) {
            throw SchemaProblem(structural: false, message: "\(path): does not match \(pattern)")
        }
        if format == "date-time", ISOTime.parse(s) == nil {
            throw SchemaProblem(structural: false, message: "\(path): expected an RFC 3339 date-time")
        }
    }
}

/// Pattern checks. The regex is compiled per call: patterns are few, short constants of the route table and only
/// config/users bodies carry them (no hot path), and Swift's Regex is not Sendable to share across requests.
enum PatternCache {
    static func matches(_ pattern: String, _ s: String) -> Bool {
        guard let re = try? Regex(pattern) else { return false }
        return (try? re.firstMatch(in: s)) != nil
    }
}
