// StoreTests.swift: the SQLite store on real files: migrations, batched writes, reads, dedup, retention,
// refusal of foreign/corrupt/newer files, the batch writer's drop-and-count, and kill -9 durability.
import Appliance
import Foundation
import GRDB
import TestSupport
import Testing

func tempPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("decnet-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
}

func removeDB(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

var decnetBinary: String { Corpus.repoRoot.appendingPathComponent(".build/debug/decnet").path }

@Test func storeRoundTripsEveryTable() throws {
    let path = tempPath("store")
    defer { removeDB(path) }
    let store = try SQLiteStore(path: path)
    let logs = (0..<10).map { i in
        LogRecord(timestamp: 1000 + Double(i), decky: "decky-\(i % 2)", service: "ssh", eventType: i < 5 ? "connect" : "command",
                  attackerIP: "198.51.100.\(i % 3)", rawLine: "<134>1 line \(i)", fields: #"{"i":\#(i)}"#, msg: i == 0 ? "m" : nil)
    }
    let cred = CredentialRecord(attackerIP: "198.51.100.1", deckyName: "decky-0", service: "ssh", principal: "root",
                                secretSHA256: String(repeating: "a", count: 64), secretB64: "cm9vdA==",
                                secretPrintable: "root", outcome: "failure", seen: 1000)
    var cred2 = cred
    cred2.lastSeen = 1005
    cred2.firstSeen = 1005
    try store.write(StoreBatch(
        logs: logs,
        bounty: [BountyRecord(timestamp: 1000, decky: "decky-0", service: "ssh", attackerIP: "198.51.100.1", bountyType: "credential")],
        credentials: [cred, cred2],
        artifacts: [ArtifactRecord(timestamp: 1001, decky: "decky-0", service: "ssh", attackerIP: "198.51.100.1",
                                   sessionID: "s1", kind: "upload", sha256: String(repeating: "b", count: 64), size: 42,
                                   storedAs: "/var/lib/decnet/artifacts/bb")]))
    #expect(try store.countLogs(LogQuery()) == 10)
    let newest = try store.logs(LogQuery(limit: 3))
    #expect(newest.map(\.rawLine) == ["<134>1 line 9", "<134>1 line 8", "<134>1 line 7"])
    #expect(try store.logs(LogQuery(limit: 1, ascending: true)).first?.msg == "m")
    #expect(try store.countLogs(LogQuery(eventType: "command")) == 5)
    #expect(try store.countLogs(LogQuery(since: 1003, until: 1006)) == 3)
    #expect(try store.countLogs(LogQuery(decky: "decky-1", attackerIP: "198.51.100.1")) == 2)
    #expect(try store.logs(LogQuery(afterID: 8, ascending: true)).map(\.id) == [9, 10])
    // The credential repeated: one row, two attempts, first/last seen spread.
    let creds = try store.credentials(attackerIP: "198.51.100.1", limit: 10)
    #expect(creds.count == 1)
    #expect(creds.first?.attemptCount == 2)
    #expect(creds.first?.firstSeen == 1000 && creds.first?.lastSeen == 1005)
    #expect(try store.bounty(attackerIP: nil, limit: 10).count == 1)
    #expect(try store.artifacts(attackerIP: "198.51.100.1", limit: 10).first?.size == 42)

    try store.setState("ingest_worker_position", #"{"position":5}"#)
    try store.setState("ingest_worker_position", #"{"position":7}"#)
    #expect(try store.state("ingest_worker_position") == #"{"position":7}"#)
    #expect(try store.state("missing") == nil)

    try store.recordHeartbeat(HeartbeatRecord(worker: "sniffer", ts: 10))
    try store.recordHeartbeat(HeartbeatRecord(worker: "sniffer", ts: 20, payload: #"{"x":1}"#))
    #expect(try store.heartbeats() == [HeartbeatRecord(worker: "sniffer", ts: 20, payload: #"{"x":1}"#)])

    try store.upsertDecky(DeckyRecord(name: "web01", ip: "10.0.0.5", state: "running", updatedAt: 1))
    try store.upsertDecky(DeckyRecord(name: "web01", ip: "10.0.0.6", state: "running", updatedAt: 2))
    #expect(try store.deckies().map(\.ip) == ["10.0.0.6"])
    #expect(try store.deleteDecky(name: "web01", hostUUID: "local"))
    #expect(try store.deleteDecky(name: "web01", hostUUID: "local") == false)

    try store.upsertAttacker(AttackerRecord(uuid: "u1", ip: "198.51.100.1", firstSeen: 1, lastSeen: 2, score: 5))
    try store.upsertAttacker(AttackerRecord(uuid: "u2", ip: "198.51.100.2", firstSeen: 1, lastSeen: 3, score: 9))
    try store.upsertAttacker(AttackerRecord(uuid: "u1", ip: "198.51.100.1", firstSeen: 1, lastSeen: 4, eventCount: 3, score: 1))
    #expect(try store.attackers(limit: 10, offset: 0).map(\.ip) == ["198.51.100.2", "198.51.100.1"])
    #expect(try store.attacker(ip: "198.51.100.1")?.eventCount == 3)
}

@Test func storeSchemaIsVersionedWithWALAndTheListedTables() throws {
    let path = tempPath("schema")
    defer { removeDB(path) }
    _ = try SQLiteStore(path: path)
    let q = try DatabaseQueue(path: path)
    let (tables, mode, migrations, page) = try q.read { db in
        (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"),
         try String.fetchOne(db, sql: "PRAGMA journal_mode"),
         try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
         try Int.fetchOne(db, sql: "PRAGMA page_size"))
    }
    for t in ["logs", "bounty", "attackers", "attacker_fingerprints", "credentials", "artifacts", "deckies", "users",
              "revoked_tokens", "state", "worker_heartbeats", "swarm_hosts", "swarm_tokens", "decky_shards"] {
        #expect(tables.contains(t), "missing table \(t)")
    }
    #expect(mode == "wal")
    #expect(migrations == ["v1-core", "v2-swarm", "v3-swarm-outbox"])
    #expect(page == 16384)
    let mode660 = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode660 == 0o660, "owner and the service group (root daemons join it), nobody else")
    // Reopening an up-to-date store changes nothing.
    _ = try SQLiteStore(path: path)
}

@Test func storeRefusesForeignCorruptAndNewerFiles() throws {
    // Not SQLite at all: refused, file untouched.
    let text = tempPath("notdb")
    defer { removeDB(text) }
    try "[bus]\nsocket = /run/decnet/bus.sock\n".write(toFile: text, atomically: true, encoding: .utf8)
    let before = try Data(contentsOf: URL(fileURLWithPath: text))
    #expect { try SQLiteStore(path: text) } throws: { e in
        guard let e = e as? StoreError, case .notADatabase(let p, _) = e else { return false }
        return p == text && "\(e)".contains(text)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: text)) == before)

    // A real database whose pages were overwritten: refused with the file's name, never re-created.
    let corrupt = tempPath("corrupt")
    defer { removeDB(corrupt) }
    do {
        let s = try SQLiteStore(path: corrupt)
        try s.write(StoreBatch(logs: (0..<200).map { LogRecord(timestamp: Double($0), decky: "d", service: "s", eventType: "e", attackerIP: "1.2.3.4", rawLine: String(repeating: "x", count: 500)) }))
    }
    let q = try DatabaseQueue(path: corrupt)
    try q.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    try q.close()
    var bytes = try Data(contentsOf: URL(fileURLWithPath: corrupt))
    for i in 100..<min(bytes.count, 60_000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
    try bytes.write(to: URL(fileURLWithPath: corrupt))
    let sizeBefore = bytes.count
    #expect { try SQLiteStore(path: corrupt) } throws: { e in "\(e)".contains(corrupt) }
    #expect((try Data(contentsOf: URL(fileURLWithPath: corrupt))).count == sizeBefore)

    // A directory where the file should be.
    let dir = tempPath("dir")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect { try SQLiteStore(path: dir) } throws: { e in "\(e)".contains(dir) }

    // A database migrated by a newer decnet: refused, not "downgraded".
    let newer = tempPath("newer")
    defer { removeDB(newer) }
    _ = try SQLiteStore(path: newer)
    let nq = try DatabaseQueue(path: newer)
    try nq.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
    try nq.close()
    #expect { try SQLiteStore(path: newer) } throws: { e in
        guard let e = e as? StoreError, case .newerSchema(_, let m) = e else { return false }
        return m == "v99-future"
    }
}

@Test func retentionDeletesByAgeThenBySize() throws {
    let path = tempPath("retention")
    defer { removeDB(path) }
    let store = try SQLiteStore(path: path)
    let load = SyntheticLoad(distinct: 512)
    try store.write(StoreBatch(logs: (0..<20_000).map { load.row($0, start: 1_000_000) }))  // ts 1e6 ... 1e6+2
    try store.write(StoreBatch(logs: (0..<20_000).map { load.row($0, start: 2_000_000) }))
    let r1 = try store.applyRetention(RetentionPolicy(maxAge: 500_000), now: 2_000_010)
    #expect(r1.deletedByAge == 20_000)
    #expect(try store.countLogs(LogQuery()) == 20_000)
    #expect(try store.logs(LogQuery(limit: 1, ascending: true)).first!.timestamp >= 2_000_000)
    let before = try store.sizeInBytes()
    let cap = before / 2
    let r2 = try store.applyRetention(RetentionPolicy(maxBytes: cap), now: 2_000_010)
    #expect(r2.deletedBySize > 0)
    #expect(r2.bytesAfter <= cap)
    // The newest events are the ones kept.
    let remaining = try store.countLogs(LogQuery())
    #expect(remaining == 20_000 - r2.deletedBySize)
    #expect(try store.logs(LogQuery(limit: 1)).first!.timestamp == load.row(19_999, start: 2_000_000).timestamp)
}

@Test func batchWriterCommitsInBatchesAndDropsWhenFull() throws {
    let path = tempPath("writer")
    defer { removeDB(path) }
    let store = try SQLiteStore(path: path)
    let load = SyntheticLoad(distinct: 256)
    let commits = LockedCounter()
    let writer = StoreWriter(repository: store, configuration: .init(maxBatch: 1000, maxDelay: 0.05, capacity: 5000),
                             onCommit: { commits.add($0) })
    for i in 0..<3500 { writer.submit(load.row(i, start: 0)) }
    writer.flush()
    var s = writer.statistics
    #expect(s.committed == 3500)
    #expect(s.batches >= 4)
    #expect(commits.value == 3500)
    #expect(try store.countLogs(LogQuery()) == 3500)

    // A single submission larger than the free capacity is refused whole and counted, never blocking.
    let big = StoreBatch(logs: (0..<6000).map { load.row($0, start: 1) })
    #expect(writer.submit(big) == false)
    s = writer.statistics
    #expect(s.dropped == 6000)
    writer.close()
    #expect(writer.submit(load.row(0, start: 2)) == false)
    #expect(writer.statistics.dropped == 6001)
    #expect(try store.countLogs(LogQuery()) == 3500)
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    func add(_ n: Int) { lock.lock(); v += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return v }
}

/// kill -9 in the middle of ingest: every commit the writer reported is there, the rest are whole batches,
/// the file passes integrity_check and reopens (migrations included) cleanly.
@Test func killNineMidIngestLosesNothingCommitted() throws {
    let path = tempPath("kill9")
    defer { removeDB(path) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: decnetBinary)
    p.arguments = ["store", "bench", "--db", path, "--events", "5000000", "--batch", "5000", "--progress"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    var lastCommitted = 0
    var buffer = Data()
    let handle = out.fileHandleForReading
    while lastCommitted < 60_000 {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        buffer.append(chunk)
        for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.hasPrefix("committed ") {
            lastCommitted = max(lastCommitted, Int(line.dropFirst("committed ".count)) ?? 0)
        }
    }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    #expect(p.terminationReason == .uncaughtSignal)
    #expect(lastCommitted >= 60_000)

    let store = try SQLiteStore(path: path)
    let n = try store.countLogs(LogQuery())
    #expect(n >= lastCommitted, "reported \(lastCommitted) committed, found \(n)")
    #expect(n % 5000 == 0, "a partial transaction survived: \(n)")
    let q = try DatabaseQueue(path: path)
    #expect(try q.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
}
