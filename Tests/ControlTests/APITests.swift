// APITests.swift: the pieces of the REST API that need no server: the OpenAPI document printed from the
// route table, schema validation (structural → 400, value → 422), RFC 3339 parsing, the coalescing cache,
// the login limiter, SSE tickets, HTML escaping, and the API read queries on a real SQLite file.
@testable import Appliance
@testable import Control
import Foundation
import Testing

@Suite struct APITests {
    @Test func openAPIDocumentsEveryRouteWithItsErrors() throws {
        let doc = try JSONValue.parse(APIServer.openAPIJSON())
        #expect(doc["openapi"]?.stringValue == "3.1.0")
        guard case .object(let paths)? = doc["paths"], case .object(let schemas)? = doc["components"]?["schemas"] else {
            Issue.record("no paths/components"); return
        }
        let routes = APIServer.routeTable()
        #expect(routes.count == Set(routes.map { "\($0.method) \($0.path)" }).count, "no duplicate routes")
        for r in routes {
            let op = paths.first { $0.0 == r.path }?.1[r.method.lowercased()]
            #expect(op != nil, "\(r.method) \(r.path) documented")
            guard let op, case .object(let responses)? = op["responses"] else { continue }
            let codes = Set(responses.map(\.0))
            if r.access != "anonymous" { #expect(codes.contains("401"), "\(r.path) documents 401") }
            if ["viewer", "admin", "stream"].contains(r.access) { #expect(codes.contains("403"), "\(r.path) documents 403") }
            if r.path.contains("{") { #expect(codes.contains("404"), "\(r.path) documents 404") }
            #expect(op["x-decnet-access"]?.stringValue == r.access)
        }
        // Every $ref points at a schema that exists.
        func refs(_ v: JSONValue, into out: inout [String]) {
            switch v {
            case .object(let m): for (k, x) in m { if k == "$ref", let s = x.stringValue { out.append(s) } else { refs(x, into: &out) } }
            case .array(let a): for x in a { refs(x, into: &out) }
            default: break
            }
        }
        var all: [String] = []
        refs(doc, into: &all)
        for r in Set(all) {
            let name = String(r.dropFirst("#/components/schemas/".count))
            #expect(schemas.contains { $0.0 == name }, "dangling \(r)")
        }
    }

    @Test func schemaValidationSeparatesStructureFromValues() throws {
        let s = Schema.body([Prop("name", .text(min: 1, max: 5)), Prop("n", .integer(min: 1, max: 3)), Prop("flag", .boolean, required: false),
                             Prop("role", .text(enumValues: ["admin", "viewer"]), required: false)])
        func problem(_ json: String) -> SchemaProblem? {
            do { try s.validate(try JSONValue.parse(json), path: "body", components: [:]); return nil } catch let e as SchemaProblem { return e } catch { return nil }
        }
        #expect(problem(#"{"name":"ab","n":2}"#) == nil)
        #expect(problem(#"{"name":"ab","n":2,"flag":true,"role":"viewer"}"#) == nil)
        #expect(problem(#"{"name":"ab"}"#)?.structural == true, "missing")
        #expect(problem(#"{"name":"ab","n":2,"x":1}"#)?.structural == true, "unknown field")
        #expect(problem(#"{"name":5,"n":2}"#)?.structural == true, "wrong type")
        #expect(problem(#"{"name":"ab","n":2.5}"#)?.structural == true, "not an integer")
        #expect(problem(#"{"name":"ab","n":2,"n":3}"#)?.structural == true, "duplicate member")
        #expect(problem(#"[1]"#)?.structural == true)
        #expect(problem(#"{"name":"","n":2}"#)?.structural == false, "too short")
        #expect(problem(#"{"name":"abcdef","n":2}"#)?.structural == false, "too long")
        #expect(problem(#"{"name":"ab","n":9}"#)?.structural == false, "range")
        #expect(problem(#"{"name":"ab","n":1,"role":"root"}"#)?.structural == false, "enum")
        let pw = Schema.text(min: 1, max: 72, pattern: Passwords.pattern)
        #expect(throws: SchemaProblem.self) { try pw.validate(.string("é"), path: "p", components: [:]) }
        try pw.validate(.string("correct horse ~!"), path: "p", components: [:])
    }

    @Test func rfc3339Times() {
        #expect(ISOTime.parse("1970-01-01T00:00:00Z") == 0)
        #expect(ISOTime.parse("2026-11-23T10:00:00Z") == 1_795_428_000)
        #expect(ISOTime.parse("2026-11-23T11:00:00+01:00") == 1_795_428_000)
        #expect(ISOTime.parse("2026-11-23t10:00:00.5z") == 1_795_428_000.5)
        #expect(ISOTime.parse("2024-02-29T00:00:00Z") != nil)
        for bad in ["2026-11-23", "2026-11-23T10:00Z", "2026-11-23T10:00:00", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                    "2026-11-23T24:00:00Z", "2026-11-23T10:00:00+0100", "2026-11-23T10:00:00Zjunk", "", "null", "2026-11-23T10:00:00."] {
            #expect(ISOTime.parse(bad) == nil, "\(bad) refused")
        }
    }

    @Test func cacheCoalescesConcurrentMisses() async throws {
        let cache = CoalescingCache<Int>(ttl: 3600)
        let calls = Counter()
        let results = await withTaskGroup(of: Int.self) { g in
            for _ in 0..<50 {
                g.addTask { (try? await cache.get("k") { await calls.bump(); try await Task.sleep(nanoseconds: 20_000_000); return 7 }) ?? -1 }
            }
            return await g.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == 7 })
        #expect(await calls.value == 1, "50 concurrent misses -> one load")
        cache.invalidate("k")
        _ = try await cache.get("k") { await calls.bump(); return 8 }
        #expect(await calls.value == 2)
        // A failed load is not cached.
        struct Boom: Error {}
        await #expect(throws: Boom.self) { _ = try await cache.get("e") { throw Boom() } }
        #expect(try await cache.get("e") { 9 } == 9)
    }

    @Test func limiterCountsPerKeyAndWindow() {
        let l = RateLimiter(limit: 3, window: 300)
        #expect((0..<3).allSatisfy { _ in l.allow("ip:a", now: 1000) })
        #expect(!l.allow("ip:a", now: 1001))
        #expect(l.allow("ip:b", now: 1001), "other keys unaffected")
        #expect(l.allow("ip:a", now: 1300), "new window")
        #expect(RateLimiter(limit: 1, window: 300, enabled: false).allow("x") && RateLimiter(limit: 1, window: 300, enabled: false).allow("x"))
    }

    @Test func ticketsAreSingleUse() {
        let book = TicketBook()
        let id = Identity(uuid: "u", username: "n", role: .viewer, mustChangePassword: false, jti: "j", expires: 1)
        let t = book.issue(for: id)
        #expect(t.count >= 43)
        #expect(book.redeem(t)?.uuid == "u")
        #expect(book.redeem(t) == nil, "second redeem fails")
        #expect(book.redeem("nope") == nil)
    }

    @Test func htmlEscapingCoversAttackerText() {
        #expect(Dashboard.h(#"<script>alert("x")</script>&'"#) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;")
        #expect(Dashboard.h("a\u{1b}[31mb") == "a\u{FFFD}[31mb", "control characters neutralised")
        #expect(percentEncoded("a b/é") == "a%20b%2F%C3%A9")
    }

    @Test func readQueriesOnARealStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-apireads-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("t.db").path)
        try store.write(StoreBatch(logs: [
            LogRecord(timestamp: 1000, decky: "d1", service: "ssh", eventType: "login_attempt", attackerIP: "10.0.0.1", rawLine: "user root 100%_done"),
            LogRecord(timestamp: 2000, decky: "d2", service: "http", eventType: "request", attackerIP: "10.0.0.2", rawLine: "GET /", fields: "not json"),
        ]))
        try store.upsertAttacker(AttackerRecord(uuid: "a1", ip: "10.0.0.1", firstSeen: 1000, lastSeen: 1000, eventCount: 1,
                                                profile: #"{"services":["ssh"],"deckies":["d1"]}"#))
        #expect(try await store.logCount(LogFilter()) == 2)
        #expect(try await store.logCount(LogFilter(search: "service:ssh")) == 1)
        #expect(try await store.logCount(LogFilter(search: "100%_")) == 1, "LIKE wildcards are literal")
        #expect(try await store.logCount(LogFilter(search: "1%")) == 0)
        #expect(try await store.logCount(LogFilter(start: 1500)) == 1)
        let page = try await store.logPage(LogFilter(), limit: 1, offset: 0)
        #expect(page.first?["id"]?.doubleValue == 2 && page.first?["fields"]?.stringValue == "not json", "bad JSON column comes back as text")
        #expect(try await store.logsAfter(1, LogFilter(), limit: 10).count == 1)
        let hist = try await store.logHistogram(LogFilter(), interval: 900)
        #expect(hist.count == 2)
        #expect(try await store.attackerCount(search: nil, service: "ssh") == 1)
        #expect(try await store.attackerCount(search: nil, service: "http") == 0)
        let a = try await store.attackerDetail(uuid: "a1")
        #expect(a?["services"] == .array([.string("ssh")]))
        if case .array(let recent)? = a?["recent_events"] { #expect(recent.count == 1) } else { Issue.record("recent_events") }
        #expect(try await store.attackerDetail(uuid: "zz") == nil)
        #expect(try await store.apiStats()["total_logs"]?.doubleValue == 2)
        // The byte-level pages say exactly what the value-tree pages say (bad JSON columns included).
        try store.upsertAttacker(AttackerRecord(uuid: "a2", ip: "10.0.0.2", firstSeen: 1500, lastSeen: 2000.25, profile: "not json"))
        try store.upsertAttacker(AttackerRecord(uuid: "a3", ip: "10.0.0.3", firstSeen: 1, lastSeen: 3,
                                                profile: #"{"services":["a",1],"state":{"x":1},"phases":["scan"]}"#))
        #expect(try JSONValue.parse(await store.logPageBytes(LogFilter(), limit: 10, offset: 0)) == .array(try await store.logPage(LogFilter(), limit: 10, offset: 0)))
        for sort in AttackerSort.allCases {
            let bytes = try JSONValue.parse(await store.attackerPageBytes(search: nil, service: nil, sort: sort, limit: 10, offset: 0))
            #expect(bytes == .array(try await store.attackerPage(search: nil, service: nil, sort: sort, limit: 10, offset: 0)), "\(sort)")
        }
        let a3 = try await store.attackerDetail(uuid: "a3")
        #expect(a3?["profile"]?["state"] == nil && a3?["services"] == .array([.string("a")]), "resume state stays internal")
    }
}

actor Counter {
    var value = 0
    func bump() { value += 1 }
}
