// SQLiteStore+APIReads.swift: the read side of the REST API (spec §10.7): paged lists with totals, filters, histogram,
// stats, attacker detail. Rows come back as `JSONValue` in the API's field names, so the control plane never
// sees SQL. Every filter is a bound parameter; LIKE patterns escape their wildcards.
import GRDB

extension SQLiteStore {
    // MARK: helpers

    /// `%term%` with LIKE's wildcards escaped (ESCAPE '\').
    static func likePattern(_ s: String) -> String {
        var out = "%"
        for ch in s {
            if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "%"
    }

    /// A JSON column's text as a value; text that is not JSON (never written by us, but hostile input is
    /// normal input) comes back as a string rather than breaking the response.
    static func jsonColumn(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        return (try? JSONValue.parse(text)) ?? .string(text)
    }

    static func logWhere(_ f: LogFilter) -> (String, StatementArguments) {
        var parts: [String] = []
        var args = StatementArguments()
        if let s = f.start { parts.append("timestamp >= ?"); args += [s] }
        if let e = f.end { parts.append("timestamp <= ?"); args += [e] }
        for term in (f.search ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if let colon = term.firstIndex(of: ":") {
                let key = term[..<colon].lowercased(), value = String(term[term.index(after: colon)...])
                let column: String? = switch key {
                case "decky": "decky"
                case "service": "service"
                case "event_type", "type": "event_type"
                case "attacker_ip", "ip": "attacker_ip"
                default: nil
                }
                if let column { parts.append("\(column) = ?"); args += [value]; continue }
            }
            parts.append("raw_line LIKE ? ESCAPE '\\'")
            args += [likePattern(String(term))]
        }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), args)
    }

    static func logJSON(_ row: Row) -> JSONValue {
        let id: Int64 = row[0], ts: Double = row[1], severity: Int = row[6]
        let decky: String = row[2], service: String = row[3], type: String = row[4], ip: String = row[5], raw: String = row[7]
        let fields: String? = row[8], msg: String? = row[9]
        var m: [(String, JSONValue)] = []
        m.reserveCapacity(10)
        m.append(("id", .number(Double(id))))
        m.append(("timestamp", .string(isoTime(ts))))
        m.append(("decky", .string(decky)))
        m.append(("service", .string(service)))
        m.append(("event_type", .string(type)))
        m.append(("attacker_ip", .string(ip)))
        m.append(("severity", .number(Double(severity))))
        m.append(("raw_line", .string(raw)))
        m.append(("fields", jsonColumn(fields)))
        m.append(("msg", msg.map(JSONValue.string) ?? .null))
        return .object(m)
    }
    static let logColumns = "id, timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields, msg"

    // MARK: logs

    public func logPage(_ f: LogFilter, limit: Int, offset: Int) async throws -> [JSONValue] {
        let (clause, args) = SQLiteStore.logWhere(f)
        var all = args
        all += [limit, offset]
        return try await pool.read { [all] db in
            try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.logColumns) FROM logs\(clause) ORDER BY id DESC LIMIT ? OFFSET ?",
                             arguments: all).map(SQLiteStore.logJSON)
        }
    }

    public func logCount(_ f: LogFilter) async throws -> Int {
        let (clause, args) = SQLiteStore.logWhere(f)
        return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM logs\(clause)", arguments: args) ?? 0 }
    }

    /// Logs with id > `afterID`, oldest first (the live stream), at most `limit`.
    public func logsAfter(_ afterID: Int64, _ f: LogFilter, limit: Int) async throws -> [JSONValue] {
        var (clause, args) = SQLiteStore.logWhere(f)
        clause = clause.isEmpty ? " WHERE id > ?" : clause + " AND id > ?"
        args += [afterID, limit]
        return try await pool.read { [clause, args] db in
            try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.logColumns) FROM logs\(clause) ORDER BY id ASC LIMIT ?",
                             arguments: args).map(SQLiteStore.logJSON)
        }
    }

    public func maxLogID() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM logs") ?? 0 }
    }

    /// Event counts per `interval` seconds, oldest bucket first: `[{time, count}]`.
    public func logHistogram(_ f: LogFilter, interval: Double) async throws -> [JSONValue] {
        let (clause, args) = SQLiteStore.logWhere(f)
        var all = StatementArguments([interval])
        all += args
        return try await pool.read { [all] db in
            try Row.fetchAll(db, sql: """
                SELECT CAST(timestamp / ? AS INTEGER) AS b, count(*) FROM logs\(clause) GROUP BY b ORDER BY b
                """, arguments: all).map { row in
                .object([("time", .string(isoTime(Double(row[0] as Int64) * interval))), ("count", .number(Double(row[1] as Int)))])
            }
        }
    }

    // MARK: stats

    public func apiStats() async throws -> JSONValue {
        try await pool.read { db in
            let logs = try Int.fetchOne(db, sql: "SELECT count(*) FROM logs") ?? 0
            let attackers = try Int.fetchOne(db, sql: "SELECT count(*) FROM attackers") ?? 0
            let deployed = try Int.fetchOne(db, sql: "SELECT count(*) FROM deckies") ?? 0
            let active = try Int.fetchOne(db, sql: "SELECT count(*) FROM deckies WHERE state = 'running'") ?? 0
            return .object([("total_logs", .number(Double(logs))), ("unique_attackers", .number(Double(attackers))),
                            ("active_deckies", .number(Double(active))), ("deployed_deckies", .number(Double(deployed)))])
        }
    }

    // MARK: bounty, credentials

    public func bountyPage(type: String?, search: String?, limit: Int, offset: Int) async throws -> Page {
        var parts: [String] = []
        var args = StatementArguments()
        if let type { parts.append("bounty_type = ?"); args += [type] }
        if let search {
            parts.append("(attacker_ip LIKE ? ESCAPE '\\' OR decky LIKE ? ESCAPE '\\' OR payload LIKE ? ESCAPE '\\')")
            let p = SQLiteStore.likePattern(search)
            args += [p, p, p]
        }
        let clause = parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ")
        var paged = args
        paged += [limit, offset]
        return try await pool.read { [parts, args, paged] db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM bounty\(clause)", arguments: args) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, timestamp, decky, service, attacker_ip, bounty_type, payload FROM bounty\(clause)
                ORDER BY id DESC LIMIT ? OFFSET ?
                """, arguments: paged).map { r -> JSONValue in
                .object([("id", .number(Double(r[0] as Int64))), ("timestamp", .string(isoTime(r[1]))),
                         ("decky", .string(r[2])), ("service", .string(r[3])), ("attacker_ip", .string(r[4])),
                         ("bounty_type", .string(r[5])), ("payload", SQLiteStore.jsonColumn(r[6]))])
            }
            return Page(total: total, rows: rows)
        }
    }

    static let credentialColumns = """
        id, attacker_ip, attacker_uuid, decky_name, service, principal, secret_kind, secret_sha256, secret_printable,
        outcome, first_seen, last_seen, attempt_count
        """
    static func credentialJSON(_ r: Row) -> JSONValue {
        .object([("id", .number(Double(r[0] as Int64))), ("attacker_ip", .string(r[1])),
                 ("attacker_uuid", (r[2] as String?).map(JSONValue.string) ?? .null),
                 ("decky_name", .string(r[3])), ("service", .string(r[4])),
                 ("principal", (r[5] as String?).map(JSONValue.string) ?? .null),
                 ("secret_kind", .string(r[6])), ("secret_sha256", .string(r[7])),
                 ("secret_printable", (r[8] as String?).map(JSONValue.string) ?? .null),
                 ("outcome", (r[9] as String?).map(JSONValue.string) ?? .null),
                 ("first_seen", .string(isoTime(r[10]))), ("last_seen", .string(isoTime(r[11]))),
                 ("attempt_count", .number(Double(r[12] as Int)))])
    }

    public func credentialPage(search: String?, service: String?, attackerIP: String?, limit: Int, offset: Int) async throws -> Page {
        var parts: [String] = []
        var args = StatementArguments()
        if let service { parts.append("service = ?"); args += [service] }
        if let attackerIP { parts.append("attacker_ip = ?"); args += [attackerIP] }
        if let search {
            parts.append("(principal LIKE ? ESCAPE '\\' OR secret_printable LIKE ? ESCAPE '\\' OR attacker_ip LIKE ? ESCAPE '\\' OR decky_name LIKE ? ESCAPE '\\')")
            let p = SQLiteStore.likePattern(search)
            args += [p, p, p, p]
        }
        let clause = parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ")
        var paged = args
        paged += [limit, offset]
        return try await pool.read { [parts, args, paged] db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM credentials\(clause)", arguments: args) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.credentialColumns) FROM credentials\(clause) ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?",
                                        arguments: paged).map(SQLiteStore.credentialJSON)
            return Page(total: total, rows: rows)
        }
    }

    // MARK: attackers

    static let apiAttackerColumns = """
        uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, credential_count, bounty_count,
        is_traversal, score, profile
        """
    static func attackerJSON(_ r: Row) -> JSONValue {
        let profileText: String? = r[11]
        let profile = jsonColumn(profileText)
        func list(_ key: String) -> JSONValue {
            if case .array(let a)? = profile[key] { return .array(a.filter { $0.stringValue != nil }) }
            return .array([])
        }
        let uuid: String = r[0], ip: String = r[1], first: Double = r[2], last: Double = r[3]
        let events: Int = r[4], services: Int = r[5], deckies: Int = r[6], creds: Int = r[7], bounty: Int = r[8]
        let traversal: Bool = r[9], score: Double = r[10]
        var m: [(String, JSONValue)] = []
        m.reserveCapacity(14)
        m.append(("uuid", .string(uuid)))
        m.append(("ip", .string(ip)))
        m.append(("first_seen", .string(isoTime(first))))
        m.append(("last_seen", .string(isoTime(last))))
        m.append(("event_count", .number(Double(events))))
        m.append(("service_count", .number(Double(services))))
        m.append(("decky_count", .number(Double(deckies))))
        m.append(("credential_count", .number(Double(creds))))
        m.append(("bounty_count", .number(Double(bounty))))
        m.append(("is_traversal", .bool(traversal)))
        m.append(("score", .number(score)))
        m.append(("services", list("services")))
        m.append(("deckies", list("deckies")))
        if case .object(let members) = profile { m.append(("profile", .object(members.filter { $0.0 != "state" }))) } else { m.append(("profile", .object([]))) }
        return .object(m)
    }

    static func attackerWhere(search: String?, service: String?) -> (String, StatementArguments) {
        var parts: [String] = []
        var args = StatementArguments()
        if let search { parts.append("ip LIKE ? ESCAPE '\\'"); args += [likePattern(search)] }
        if let service {
            parts.append("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(profile) THEN profile ELSE '{}' END, '$.services') WHERE value = ?)")
            args += [service]
        }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), args)
    }

    public func attackerPage(search: String?, service: String?, sort: AttackerSort, limit: Int, offset: Int) async throws -> [JSONValue] {
        let (clause, args) = SQLiteStore.attackerWhere(search: search, service: service)
        let order = SQLiteStore.attackerOrder(sort)
        var paged = args
        paged += [limit, offset]
        return try await pool.read { [paged] db in
            try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.apiAttackerColumns) FROM attackers\(clause) ORDER BY \(order) LIMIT ? OFFSET ?",
                             arguments: paged).map(SQLiteStore.attackerJSON)
        }
    }

    public func attackerCount(search: String?, service: String?) async throws -> Int {
        let (clause, args) = SQLiteStore.attackerWhere(search: search, service: service)
        return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM attackers\(clause)", arguments: args) ?? 0 }
    }

    /// One attacker with its fingerprints, credentials (newest 100), bounty (newest 100) and most recent 50
    /// events; nil when no such uuid.
    public func attackerDetail(uuid: String) async throws -> JSONValue? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(SQLiteStore.apiAttackerColumns) FROM attackers WHERE uuid = ?",
                                             arguments: [uuid]),
                  case .object(var members) = SQLiteStore.attackerJSON(row) else { return nil }
            let ip: String = row[1]
            let prints = try Row.fetchAll(db, sql: """
                SELECT kind, value, first_seen, last_seen, count FROM attacker_fingerprints WHERE attacker_uuid = ?
                ORDER BY kind, last_seen DESC
                """, arguments: [uuid]).map { r -> JSONValue in
                .object([("kind", .string(r[0])), ("value", .string(r[1])), ("first_seen", .string(isoTime(r[2]))),
                         ("last_seen", .string(isoTime(r[3]))), ("count", .number(Double(r[4] as Int)))])
            }
            let creds = try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.credentialColumns) FROM credentials WHERE attacker_ip = ? ORDER BY last_seen DESC LIMIT 100",
                                         arguments: [ip]).map(SQLiteStore.credentialJSON)
            let recent = try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.logColumns) FROM logs WHERE attacker_ip = ? ORDER BY id DESC LIMIT 50",
                                          arguments: [ip]).map(SQLiteStore.logJSON)
            // Timeline: the attacker's events (oldest 500) with the mutations of the deckies it touched during
            // its activity interleaved by time (kind hop / mutation).
            let first: Double = row[2], last: Double = row[3]
            // Each hop names the swarm worker it came from ("" for this box's own deckies): the traversal across hosts.
            let hops = try Row.fetchAll(db, sql: """
                SELECT \(SQLiteStore.logColumns), coalesce((SELECT name FROM swarm_hosts h WHERE h.uuid = logs.origin_host), '')
                FROM logs WHERE attacker_ip = ? ORDER BY timestamp, id LIMIT 500
                """, arguments: [ip]).map { row -> (Double, JSONValue) in
                    guard case .object(let m) = SQLiteStore.logJSON(row) else { return ((row[1] as Double), .null) }
                    return ((row[1] as Double), .object(m + [("host", .string(row[10]))]))
                }
            let touched = Set(hops.compactMap { $0.1["decky"]?.stringValue }.filter { !$0.isEmpty })
            var muts: [(Double, JSONValue)] = []
            if !touched.isEmpty {
                let marks = Array(repeating: "?", count: touched.count).joined(separator: ",")
                var args = StatementArguments([first, last])
                for d in touched.sorted() { args += [d] }
                muts = try Row.fetchAll(db, sql: """
                    SELECT \(SQLiteStore.logColumns) FROM logs WHERE event_type = 'decky_mutated' AND timestamp >= ? AND timestamp <= ?
                    AND decky IN (\(marks)) ORDER BY timestamp, id LIMIT 200
                    """, arguments: args).map { (($0[1] as Double), SQLiteStore.logJSON($0)) }
            }
            func entry(_ kind: String, _ tr: (Double, JSONValue)) -> (Double, JSONValue) {
                let (t, r) = tr
                var m: [(String, JSONValue)] = [("kind", .string(kind)), ("timestamp", r["timestamp"] ?? .null), ("decky", r["decky"] ?? .null)]
                if kind == "hop" {
                    m += [("service", r["service"] ?? .null), ("event_type", r["event_type"] ?? .null), ("host", r["host"] ?? .string(""))]
                } else {
                    m += [("old_services", r["fields"]?["old_services"] ?? .array([])), ("new_services", r["fields"]?["new_services"] ?? .array([])),
                          ("trigger", r["fields"]?["trigger"] ?? .null)]
                }
                return (t, .object(m))
            }
            let timeline = (hops.map { entry("hop", $0) } + muts.map { entry("mutation", $0) }).enumerated()
                .sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element.1)
            members += [("fingerprints", .array(prints)), ("credentials", .array(creds)), ("recent_events", .array(recent)),
                        ("timeline", .array(timeline))]
            return .object(members)
        }
    }

    /// Users as the admin's config view shows them (never the hash).
    public func userSummaries() throws -> [JSONValue] {
        try users().map(\.summary)
    }
}

/// Epoch seconds → `2026-11-23T12:00:00.123456+00:00` (UTC, microseconds: the original's isoformat of an
/// aware datetime).
public func isoTime(_ t: Double) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(32)
    appendUTCTime(ns: UInt64(max(0, t) * 1e9), iso: true, into: &out)
    return String(decoding: out, as: UTF8.self)
}

// MARK: hot pages straight to bytes
//
// `/logs` and `/attackers` are what dashboards poll: their pages are written as JSON bytes directly from the
// rows (no value tree), and the JSON columns are embedded as stored after a validating scan (text that is
// not a JSON object is embedded as a string instead, as `jsonColumn` does).

/// A JSON array/object writer over a byte buffer.
struct RowJSON {
    var out: [UInt8]
    var first = true

    init(capacity: Int) {
        out = []
        out.reserveCapacity(capacity)
    }

    mutating func open() { out.append(UInt8(ascii: "{")); first = true }
    mutating func close() { out.append(UInt8(ascii: "}")) }
    mutating func key(_ k: StaticString) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }
    mutating func string(_ k: StaticString, _ v: String) { key(k); JSONWriter.string(v, into: &out) }
    mutating func optionalString(_ k: StaticString, _ v: String?) { key(k); if let v { JSONWriter.string(v, into: &out) } else { out += Array("null".utf8) } }
    mutating func int(_ k: StaticString, _ v: Int64) { key(k); out.append(contentsOf: String(v).utf8) }
    mutating func number(_ k: StaticString, _ v: Double) { key(k); JSONWriter.number(v, into: &out) }
    mutating func bool(_ k: StaticString, _ v: Bool) { key(k); out.append(contentsOf: (v ? "true" : "false").utf8) }
    mutating func time(_ k: StaticString, _ t: Double) {
        key(k)
        out.append(UInt8(ascii: "\""))
        appendUTCTime(ns: UInt64(max(0, t) * 1e9), iso: true, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// A stored JSON object column: as is when it scans as one object, else as a JSON string (null stays null).
    mutating func rawObject(_ k: StaticString, _ text: String?) {
        key(k)
        guard var text else { out += Array("null".utf8); return }
        let ok = text.withUTF8 { buf in (try? JSONScanner.members(of: UnsafeRawBufferPointer(buf)) { _, _ in }) != nil }
        if ok { out.append(contentsOf: text.utf8) } else { JSONWriter.string(text, into: &out) }
    }
}

extension SQLiteStore {
    /// `/logs` page rows as a JSON array, the shape of `logJSON`.
    public func logPageBytes(_ f: LogFilter, limit: Int, offset: Int) async throws -> [UInt8] {
        let (clause, args) = SQLiteStore.logWhere(f)
        var all = args
        all += [limit, offset]
        return try await objectArray(sql: "SELECT \(SQLiteStore.logColumns) FROM logs\(clause) ORDER BY id DESC LIMIT ? OFFSET ?",
                               arguments: all, capacity: 512 * max(1, limit)) { r, w in
            w.int("id", r[0]); w.time("timestamp", r[1]); w.string("decky", r[2]); w.string("service", r[3])
            w.string("event_type", r[4]); w.string("attacker_ip", r[5]); w.int("severity", r[6]); w.string("raw_line", r[7])
            w.rawObject("fields", r[8]); w.optionalString("msg", r[9])
        }
    }

    /// `/attackers` page rows as a JSON array, the shape of `attackerJSON` (the profile without the profiler's
    /// resume state).
    public func attackerPageBytes(search: String?, service: String?, sort: AttackerSort, limit: Int, offset: Int) async throws -> [UInt8] {
        let (clause, args) = SQLiteStore.attackerWhere(search: search, service: service)
        var paged = args
        paged += [limit, offset]
        return try await objectArray(sql: "SELECT \(SQLiteStore.apiAttackerColumns) FROM attackers\(clause) ORDER BY \(SQLiteStore.attackerOrder(sort)) LIMIT ? OFFSET ?",
                               arguments: paged, capacity: 1024 * max(1, limit)) { r, w in
            w.string("uuid", r[0]); w.string("ip", r[1]); w.time("first_seen", r[2]); w.time("last_seen", r[3])
            w.int("event_count", r[4]); w.int("service_count", r[5]); w.int("decky_count", r[6]); w.int("credential_count", r[7])
            w.int("bounty_count", r[8]); w.bool("is_traversal", r[9]); w.number("score", r[10])
            SQLiteStore.writeProfile(r[11], into: &w)
        }
    }

    /// A JSON array with one object per row of `sql`, each written by `row`.
    func objectArray(sql: String, arguments: StatementArguments, capacity: Int,
                     _ row: @escaping @Sendable (Row, inout RowJSON) -> Void) async throws -> [UInt8] {
        try await pool.read { db in
            var w = RowJSON(capacity: capacity)
            w.out.append(UInt8(ascii: "["))
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            var n = 0
            while let r = try rows.next() {
                if n > 0 { w.out.append(UInt8(ascii: ",")) }
                n += 1
                w.open()
                row(r, &w)
                w.close()
            }
            w.out.append(UInt8(ascii: "]"))
            return w.out
        }
    }

    /// `services`, `deckies` (string arrays, [] when absent) and `profile` (the stored object minus `state`).
    static func writeProfile(_ text: String?, into w: inout RowJSON) {
        var members: [(key: String, value: Range<Int>)] = []
        var bytes = Array((text ?? "").utf8)
        let ok = bytes.withUnsafeBytes { raw in
            (try? JSONScanner.members(of: raw) { k, v in members.append((String(decoding: k, as: UTF8.self), v)) }) != nil
        }
        guard ok else {
            w.key("services"); w.out += Array("[]".utf8)
            w.key("deckies"); w.out += Array("[]".utf8)
            w.key("profile"); w.out += Array("{}".utf8)
            return
        }
        for name in ["services", "deckies"] {
            w.key(name == "services" ? "services" : "deckies")
            if let m = members.last(where: { $0.key == name }), case .array(let items)? = try? JSONValue.parse(bytes[m.value]) {
                JSONValue.array(items.filter { $0.stringValue != nil }).serialize(into: &w.out)
            } else {
                w.out += Array("[]".utf8)
            }
        }
        w.key("profile")
        w.out.append(UInt8(ascii: "{"))
        var firstMember = true
        for m in members where m.key != "state" {
            if !firstMember { w.out.append(UInt8(ascii: ",")) }
            firstMember = false
            JSONWriter.string(m.key, into: &w.out)
            w.out.append(UInt8(ascii: ":"))
            w.out.append(contentsOf: bytes[m.value])
        }
        w.out.append(UInt8(ascii: "}"))
        bytes.removeAll()
    }

    static func attackerOrder(_ sort: AttackerSort) -> String {
        switch sort {
        case .recent: "last_seen DESC"
        case .active: "event_count DESC, last_seen DESC"
        case .traversals: "is_traversal DESC, decky_count DESC, last_seen DESC"
        case .score: "score DESC, last_seen DESC"
        }
    }
}
