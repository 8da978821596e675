// MutatorTests.swift: service rotation on a real SQLite store (no namespaces: a mutation only rewrites the
// record; `decnet serve` applies it, see Tests/Integration/attackers_scenario.sh): pool and pick (spec §3.1),
// due scheduling and the loop's sleep (§3.3, §3.4), both sinks' shapes (§3.6), the profiler's round trip.
@testable import Appliance
import Fingerprint
import Foundation
import Testing

struct SeededRNG: RandomNumberGenerator {
    var inner = SeededRandom(seed: "mutator-tests")
    mutating func next() -> UInt64 { inner.next() }
}

@Suite struct MutatorTests {
    func fleet() throws -> (DeckyFleet, String) {
        let path = tempPath("mutator")
        let store = try SQLiteStore(path: path)
        let fleet = DeckyFleet(store: store, lockPath: path + ".fleet.lock")
        for (i, (name, services, interval)) in [("d1", ["http", "telnet"], 1 as Int?), ("d2", ["ftp"], nil), ("d3", ["redis"], 5)].enumerated() {
            try fleet.record(DeckySpec(name: name, ip: IPv4("10.9.0.\(i + 2)")!, mac: "d4:be:d9:00:00:0\(i)", hostname: "H\(i)",
                                       services: services, distro: "debian", archetype: name == "d3" ? "database-server" : nil,
                                       nmapOS: "linux", mutateInterval: interval), state: "running")
        }
        return (fleet, path)
    }

    @Test func poolAndPick() throws {
        let spec = DeckySpec(name: "x", ip: IPv4("10.0.0.2")!, mac: "m", hostname: "h", services: ["mysql"], distro: "debian",
                             archetype: "database-server", nmapOS: "linux")
        #expect(Mutator.pool(for: spec) == ["mysql", "redis"], "archetype pool, limited to decoys we implement")
        var plain = spec
        plain.archetype = nil
        #expect(Mutator.pool(for: plain) == DecoyRegistry.availableSlugs.sorted())
        var rng = SeededRNG()
        for _ in 0..<200 {
            let p = Mutator.pick(current: ["http", "telnet"], pool: Mutator.pool(for: plain), using: &rng)!
            #expect((1...3).contains(p.count) && Set(p).count == p.count && Set(p) != ["http", "telnet"])
        }
        #expect(Mutator.pick(current: ["a"], pool: [], using: &rng) == nil)
        // The production generator: rotations are not a fixed sequence.
        let (fleet, _) = try fleet()
        let m = Mutator(fleet: fleet, logPath: nil)
        var outcomes = Set<[String]>()
        for _ in 0..<30 { outcomes.insert(try m.mutate("d1", trigger: .operator).newServices) }
        #expect(outcomes.count > 5, "\(outcomes)")
        #expect(Mutator.pick(current: ["a"], pool: ["a"], using: &rng) == ["a"], "a one-service pool cannot change (20 tries, then accepted)")
    }

    @Test func mutateRewritesTheRecordAndAnnounces() throws {
        let (fleet, path) = try fleet()
        let log = path + ".mutator.log"
        let published = Box()
        let m = Mutator(fleet: fleet, logPath: log, rng: SeededRNG(), publish: { t, p, ty in published.add(t, p, ty) })
        let r = try m.mutate("d1", trigger: .operator, actor: "alice", now: 1_795_400_000)
        #expect(r.oldServices == ["http", "telnet"] && r.newServices != r.oldServices)
        #expect(try fleet.entries().entries.first { $0.spec.name == "d1" }?.spec.services == r.newServices)
        #expect(m.lastMutated()["d1"] == 1_795_400_000)
        let line = String(decoding: readFile(log, limit: 1 << 20) ?? [], as: UTF8.self)
        #expect(line == "<134>1 2026-11-23T02:13:20.000000+00:00 d1 mutator - decky_mutated [relay@55555 decky=\"d1\" old_services=\"http,telnet\" new_services=\"\(r.newServices.joined(separator: ","))\" trigger=\"operator\" actor=\"alice\"]\n")
        let rows = try fleet.store.logs(LogQuery(eventType: "decky_mutated"))
        #expect(rows.count == 1 && rows[0].decky == "d1" && rows[0].service == "mutator")
        #expect(published.items.count == 1 && published.items[0].0 == "decky.d1.mutation" && published.items[0].2 == "mutation")
        #expect(published.items[0].1["trigger"]?.stringValue == "operator" && published.items[0].1["old_services"] == .array([.string("http"), .string("telnet")]))
        #expect(throws: MutationError.noSuchDecky("nope")) { try m.mutate("nope", trigger: .operator) }
        m.announce([try fleet.entries().entries[1].spec], .retirement, now: 1_795_400_001)
        #expect(published.items.last?.1["new_services"] == .array([]) && published.items.last?.1["trigger"]?.stringValue == "retirement")
    }

    @Test func dueSchedulingAndSleep() throws {
        let (fleet, _) = try fleet()
        let m = Mutator(fleet: fleet, logPath: nil, rng: SeededRNG())
        let t0 = 1_000_000.0
        try m.setLastMutated(["d1": t0, "d3": t0])
        // d1 every 1 min, d3 every 5 min, d2 never on schedule.
        #expect(m.mutateDue(now: t0 + 30) == 30)
        #expect(try fleet.store.logs(LogQuery(eventType: "decky_mutated")).isEmpty)
        #expect(m.mutateDue(now: t0 + 60) == 60, "d1 due and mutated; next due: d1 again in 60 s")
        let rows = try fleet.store.logs(LogQuery(eventType: "decky_mutated"))
        #expect(rows.count == 1 && rows[0].decky == "d1" && rows[0].fields.contains("\"trigger\":\"scheduled\""))
        _ = m.mutateDue(only: ["d2"], now: t0 + 61)
        #expect(try fleet.store.logs(LogQuery(eventType: "decky_mutated", limit: 1)).first?.fields.contains("\"operator\"") == true)
        #expect(MutatorLoop.sleepFor(nextDue: nil, poll: 10) == 10)
        #expect(MutatorLoop.sleepFor(nextDue: 30, poll: 10) == 10)
        #expect(MutatorLoop.sleepFor(nextDue: 4, poll: 10) == 4)
        #expect(MutatorLoop.sleepFor(nextDue: 0.2, poll: 10) == 1, "1 s floor")
    }

    @Test func profilerRoundTripsThroughTheStore() throws {
        let path = tempPath("profiler")
        let store = try SQLiteStore(path: path)
        var logs: [LogRecord] = []
        for i in 0..<300 {
            let ip = "10.1.0.\(i % 7)"
            let type = ["scan.portscan.detected", "telnet.login.failed", "http.request", "tcp_syn_fingerprint"][i % 4]
            let fields = type == "tcp_syn_fingerprint" ? #"{"ja4t":"64240_2-4-8-1-3_1460_7","p0f_os":"Linux"}"#
                : type == "telnet.login.failed" ? #"{"username":"root","secret_b64":"cm9vdA==","auth_result":"failed"}"# : #"{"x":"y\"z"}"#
            logs.append(LogRecord(timestamp: 1000 + Double(i), decky: "d\(i % 3)", service: "svc", eventType: type, attackerIP: ip, fields: fields))
        }
        try store.write(StoreBatch(logs: Array(logs[0..<150])))
        var cfg = ProfilerWorker.Configuration()
        cfg.page = 40
        cfg.batch = 50
        let a = try ProfilerWorker(store: store, config: cfg)
        #expect(try a.catchUp() == 150)
        try store.write(StoreBatch(logs: Array(logs[150...])))
        // A restarted worker resumes from the stored profiles and cursor: same result as one pass.
        let b = try ProfilerWorker(store: store, config: cfg)
        #expect(try b.catchUp() == 150)
        var whole = CorrelationEngine()
        whole.fold(try store.logs(LogQuery(limit: 1000, ascending: true)).map(CorrelationEvent.init))
        #expect(b.engine.profiles == whole.profiles)
        let rows = try store.allAttackers()
        #expect(rows.count == 7 && rows.allSatisfy { $0.isTraversal && $0.credentialCount > 0 })
        #expect(try ProfilerWorker(store: store, config: cfg).catchUp() == 0, "nothing new, nothing folded")
    }
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var _items: [(String, JSONValue, String)] = []
    var items: [(String, JSONValue, String)] { lock.withLock { _items } }
    func add(_ t: String, _ p: JSONValue, _ ty: String) { lock.withLock { _items.append((t, p, ty)) } }
}
