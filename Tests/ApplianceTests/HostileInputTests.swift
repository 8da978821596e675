// HostileInputTests.swift: regression tests for issue 16's findings on the appliance side. Each one
// trapped (or wrote raw attacker bytes) before its fix: the checked integer parser, the HTTP decoy's chunk
// size of -1, and terminal escapes in RFC 5424 lines, JSON records and process logs.
@testable import Appliance
import Fingerprint
import Foundation
import GRDB

import Testing

@Suite struct CheckedIntTests {
    @Test func digitsOnlyWithinBounds() {
        #expect(CheckedInt.parse("123", in: 0...1000) == 123)
        #expect(CheckedInt.parse("-1", radix: 16, in: 0...100) == nil, "no sign unless the range allows negatives")
        #expect(CheckedInt.parse("+5", in: 0...100) == nil, "'+' never")
        #expect(CheckedInt.parse(" 5", in: 0...100) == nil && CheckedInt.parse("5 ", in: 0...100) == nil)
        #expect(CheckedInt.parse("", in: 0...100) == nil && CheckedInt.parse("-", in: -5...5) == nil)
        #expect(CheckedInt.parse("-3", in: -5...5) == -3)
        #expect(CheckedInt.parse("ff", radix: 16, in: 0...255) == 255 && CheckedInt.parse("FF", radix: 16, in: 0...254) == nil)
        #expect(CheckedInt.parse("9223372036854775807", in: 0...Int.max) == Int.max)
        #expect(CheckedInt.parse("9223372036854775808", in: 0...Int.max) == nil, "overflow is nil, not a trap")
        #expect(CheckedInt.parse("-9223372036854775808", in: Int.min...0) == Int.min)
        #expect(CheckedInt.parse("fffffffffffffffff", radix: 16, in: 0...Int.max) == nil)
        #expect(CheckedInt.parse("１２", in: 0...100) == nil, "non-ASCII digits refused")
        #expect(CheckedMath.exactInt(9.3e18, in: 0...Int.max) == nil && CheckedMath.exactInt(.nan, in: 0...1) == nil)
        #expect(CheckedMath.exactInt(42, in: 0...100) == 42 && CheckedMath.saturatingAdd(Int.max, 50) == Int.max)
    }
}

@Suite struct HostileDecoyInputTests {
    /// `Transfer-Encoding: chunked` with a chunk size of -1 killed `decnet serve` (Int(_, radix: 16) took the
    /// sign and the slice trapped). Now: 400 and the anomaly, on every way the bytes can arrive.
    @Test func httpNegativeChunkSizeIsABadRequest() {
        let head = "POST / HTTP/1.1\r\nHost: decky\r\nTransfer-Encoding: chunked\r\n\r\n"
        for size in ["-1", "-0", "+1", "-ffffffff", "7fffffffffffffff", "1 1", "0x10"] {
            let h = Harness("http")
            let reply = h.send(head + size + "\r\nAAAA\r\n0\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 400"), "chunk size \(size): \(reply.prefix(40))")
            let d = Harness("http")
            let dripped = d.drip(head + size + "\r\nAAAA\r\n0\r\n\r\n")
            #expect(dripped.hasPrefix("HTTP/1.1 400"), "dripped chunk size \(size)")
        }
        let ok = Harness("http").send(head + "4\r\nAAAA\r\n0\r\n\r\n")
        #expect(!ok.hasPrefix("HTTP/1.1 400"), "a valid chunked body still works")
        for cl in ["-1", "+4", "99999999999999999999999"] {
            let r = Harness("http").send("POST / HTTP/1.1\r\nHost: d\r\nContent-Length: \(cl)\r\n\r\nAAAA")
            #expect(r.hasPrefix("HTTP/1.1 400"), "content-length \(cl)")
        }
    }

    @Test func redisLengthsAreCheckedIntegers() {
        let h = Harness("redis")
        #expect(h.send("*1\r\n$-5\r\n").hasPrefix("-ERR Protocol error: invalid bulk length"))
        let big = Harness("redis")
        #expect(big.send("*99999999999999999999\r\n").hasPrefix("-ERR Protocol error: invalid multibulk length"))
        let empty = Harness("redis")
        _ = empty.send("*-3\r\n")
        #expect(!empty.closed, "a negative count is an empty command, as Redis reads it")
    }
}

@Suite struct TerminalEscapeTests {
    static let hostile = "adm\u{1b}]0;pwned\u{07}in\u{0}\u{7f}\u{85}\u{9b}31m\n\r\\u001b"

    @Test func rfc5424ValuesCarryNoControlCharacters() {
        var e = SensorEvent(EventCatalogue.sshClientBanner, timestampNs: 1_700_000_000_000_000_000, src: IPAddress(parsing: "198.51.100.7")!,
                            srcPort: 1, dst: IPAddress(parsing: "10.0.0.5")!, dstPort: 22)
        e.set("ssh_version", Self.hostile)
        let line = EventFormat.rfc5424(e)
        #expect(!line.contains { $0 < 0x20 || $0 == 0x7f }, "no C0 or DEL byte")
        #expect(!zip(line, line.dropFirst()).contains { $0.0 == 0xc2 && (0x80...0x9f).contains($0.1) }, "no C1 character")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#"ssh_version="adm\u001b\]0;pwned\u0007in\u0000\u007f\u0085\u009b31m\u000a\u000d\\u001b""#), "\(text)")
        let (json, _) = EventFormat.json(e, rawLine: line)
        #expect(!json.contains { $0 < 0x20 || $0 == 0x7f } && !zip(json, json.dropFirst()).contains { $0.0 == 0xc2 && $0.1 <= 0x9f })
        #expect((try? JSONValue.parse(json))?["fields"]?["ssh_version"]?.stringValue == Self.hostile, "the JSON still round-trips")
    }

    @Test func cliAndJSONWritersEscapeC1() {
        #expect(ControlCharacters.escaped("ok") == "ok")
        #expect(ControlCharacters.escaped("a\u{1b}[2Jb\u{9b}c\\") == #"a\u001b[2Jb\u009bc\\"#)
        #expect(JSONValue.string("x\u{9b}y\u{7f}").serialized == #""x\u009by\u007f""#)
        #expect(JSONValue.string("é€😀").serialized == "\"é€😀\"", "other non-ASCII passes through")
    }
}

@Suite struct StoreFailureTests {
    /// When the store cannot write, events were dropped without a log line. Now the writer reports the change
    /// once (not per batch), counts what it lost, and reports the recovery once.
    @Test func writerReportsFailingOncePerStateChange() throws {
        let dir = "/tmp/decnet-storefail-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        makeDirectories(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/s.db")
        let changes = Changes()
        let w = StoreWriter(repository: store, configuration: .init(maxBatch: 10, maxDelay: 0.01, retries: 0),
                            onStateChange: { f, r in changes.add(f, r) })
        func log(_ i: Int) -> LogRecord { LogRecord(timestamp: Double(i), decky: "d", service: "s", eventType: "e", attackerIP: "1.2.3.4", rawLine: "x") }
        _ = w.submit(log(0)); w.flush()
        try store.pool.write { try $0.execute(sql: "ALTER TABLE logs RENAME TO logs_away") }
        for i in 1...5 { _ = w.submit(log(i)); w.flush() }
        #expect(w.statistics.failing && w.statistics.failed == 5)
        try store.pool.write { try $0.execute(sql: "ALTER TABLE logs_away RENAME TO logs") }
        _ = w.submit(log(6)); w.flush()
        w.close()
        let seen = changes.all
        #expect(seen.map(\.0) == [true, false], "one report when it starts failing, one when it recovers: \(seen)")
        #expect(seen.first?.1.contains("no such table") == true && seen.first?.1.contains(dir) == true)
        #expect(!w.statistics.failing && w.statistics.committed == 2)
    }
}

final class Changes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Bool, String)] = []
    func add(_ f: Bool, _ r: String) { lock.lock(); items.append((f, r)); lock.unlock() }
    var all: [(Bool, String)] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct StoreSchemaRefusalTests {
    /// A database with a migration this build does not know was refused but still modified (a page was
    /// written on open). Now the check runs read-only first and the file's bytes stay as they were.
    @Test func newerSchemaIsRefusedWithoutTouchingTheFile() throws {
        let dir = "/tmp/decnet-newer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        makeDirectories(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s.db"
        do {
            let s = try SQLiteStore(path: path)
            try s.pool.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v999_from_the_future')") }
        }
        let q = try DatabaseQueue(path: path)
        try q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try q.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { _ = try SQLiteStore(path: path) }
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(before == after, "the refused database is byte for byte unchanged")
    }
}

@Suite struct ArtifactQuotaTests {
    /// One client with the default decoy credentials could fill the disk the store shares. Now uploads stop
    /// being kept at the source's, the decky's or the host's quota (the rest is counted), and the stored
    /// name is always the SHA-256 of the bytes the file holds.
    @Test func quotasKeepTheFirstBytesAndNameTheFileByWhatItHolds() throws {
        let root = "/tmp/decnet-quota-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let quota = ArtifactQuota(limits: .init(perSource: 1000, perDecky: 1500, total: 1800))
        func upload(_ source: String, _ decky: String, _ n: Int) throws -> (kept: Int, limited: String?, path: String, sha: String) {
            let w = try #require(ArtifactWriter(root: root, decky: decky, service: "ftp", source: source, quota: quota))
            for _ in 0..<(n / 100) { w.write([UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 100)) }
            let r = w.finish()
            #expect(w.received == n)
            return (r.size, w.limitedBy, r.path, r.sha256)
        }
        let a = try upload("10.0.0.1", "d1", 800)
        #expect(a.kept == 800 && a.limited == nil)
        let b = try upload("10.0.0.1", "d1", 800)
        #expect(b.kept == 200 && b.limited == "quota", "per source: 1000")
        let c = try upload("10.0.0.2", "d1", 800)
        #expect(c.kept == 500 && c.limited == "quota", "per decky: 1500")
        let d = try upload("10.0.0.3", "d2", 800)
        #expect(d.kept == 300 && d.limited == "quota", "in total: 1800")
        #expect(quota.used == 1800 && quota.refusedBytes == 600 + 300 + 500)
        for r in [a, b, c, d] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: r.path))
            #expect(bytes.count == r.kept)
            #expect(Digest.sha256Hex(bytes: Array(bytes)) == r.sha && r.path.hasSuffix("/" + r.sha), "the name is the hash of what the file holds")
        }
        #expect(ArtifactQuota.diskUsage(root) == 1800)
    }
}

@Suite struct DeckyNameTests {
    /// Deploy accepted names that `DELETE /deckies/{name}` and mutate then refused (their pattern is
    /// ^[a-z0-9][a-z0-9._-]{0,63}$); the planner now holds names to the same rule.
    @Test func deployRefusesNamesTheAPICannotAddress() {
        for bad in ["Web", "-web", ".x", String(repeating: "a", count: 65), "a b", "ünï", ""] {
            #expect(!DeckyPlanner.isValidName(bad), "\(bad)")
        }
        for good in ["web", "decky-01", "a", "x.y_z-1", String(repeating: "a", count: 64)] { #expect(DeckyPlanner.isValidName(good), "\(good)") }
    }
}

@Suite struct ConcurrentStoreOpenTests {
    /// serve's decoy processes, the sensor and the API may open a new store at the same moment: one of them
    /// failed ("table logs already exists"). Every opener now ends with a migrated store.
    @Test func manyOpenersOfANewStoreAllSucceed() throws {
        for round in 0..<10 {
            let dir = "/tmp/decnet-concurrent-\(getpid())-\(round)-\(UInt32.random(in: 0...UInt32.max))"
            makeDirectories(dir)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let failures = Changes()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do { _ = try SQLiteStore(path: dir + "/s.db") } catch { failures.add(true, "\(error)") }
            }
            #expect(failures.all.isEmpty, "\(failures.all)")
        }
    }
}
