// INI.swift: the INI dialect of the original's deploy files (spec §12.6): `[section]`, `key = value` or
// `key: value`, `#` / `;` comments (whole-line, or inline after whitespace), keys case-insensitive.
// Sections and keys keep file order and their line numbers, so every problem can name its line.

public struct INIFile: Sendable {
    public struct Entry: Sendable { public let key: String, value: String, line: Int }
    public struct Section: Sendable {
        public let name: String
        public let line: Int
        public var entries: [Entry]
        public func value(_ keys: String...) -> Entry? {
            for k in keys { if let e = entries.last(where: { $0.key == k }) { return e } }
            return nil
        }
    }

    public private(set) var sections: [Section] = []
    /// Problems found while reading (bad lines); the caller adds its own and reports them together.
    public private(set) var problems: [String] = []

    public init(text: String, name: String) {
        var current: Section?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            line = INIFile.stripComment(line)
            let t = line.trimmingSpaces
            if t.isEmpty { continue }
            if t.hasPrefix("[") {
                guard t.hasSuffix("]"), t.count > 2 else { problems.append("\(name):\(n): malformed section header '\(t)'"); continue }
                if let c = current { sections.append(c) }
                current = Section(name: String(t.dropFirst().dropLast()).trimmingSpaces, line: n, entries: [])
                continue
            }
            guard let sep = t.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                problems.append("\(name):\(n): expected 'key = value', got '\(t)'")
                continue
            }
            let key = String(t[..<sep]).trimmingSpaces.lowercased()
            let value = String(t[t.index(after: sep)...]).trimmingSpaces
            guard !key.isEmpty else { problems.append("\(name):\(n): empty key"); continue }
            guard current != nil else { problems.append("\(name):\(n): '\(key)' is outside any [section]"); continue }
            current!.entries.append(Entry(key: key, value: value, line: n))
        }
        if let c = current { sections.append(c) }
    }

    public func section(_ name: String) -> Section? { sections.first { $0.name == name } }

    static func stripComment(_ s: Substring) -> Substring {
        let t = s.drop(while: { $0 == " " || $0 == "\t" })
        if t.hasPrefix("#") || t.hasPrefix(";") { return "" }
        var prev: Character = "x"
        for i in s.indices {
            let c = s[i]
            if (c == "#" || c == ";") && (prev == " " || prev == "\t") { return s[..<i] }
            prev = c
        }
        return s
    }
}
