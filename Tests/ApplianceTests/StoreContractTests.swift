// StoreContractTests.swift: the store contracts (Appliance/Store/StoreContracts.swift) checked against every
// backend in `StoreBackend.all`, through the protocols only. A second backend (PostgreSQL) adds one line to
// `all` and must pass the same tests.
import Appliance
import Fingerprint
import Foundation
import Testing

struct StoreBackend: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable () throws -> any DecnetStore
    var testDescription: String { name }

    static let all: [StoreBackend] = [
        StoreBackend(name: "sqlite") {
            let dir = NSTemporaryDirectory() + "decnet-contract-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return try Stores.open(path: dir + "/store.db")
        }
    ]
}

@Suite struct StoreContractTests {
    static func log(
        _ i: Int, ip: String = "198.51.100.7", decky: String = "web1", service: String = "ssh",
        type: String = "login_attempt", at t: Double = 1_800_000_000
    ) -> LogRecord {
        LogRecord(
            timestamp: t + Double(i), decky: decky, service: service, eventType: type, attackerIP: ip,
            rawLine: "line \(i) from \(ip)", fields: #"{"n":\#(i),"username":"root"}"#)
    }

    @Test(arguments: StoreBackend.all) func eventsWrittenInOneBatchReadBackInOrder(_ backend: StoreBackend) async throws {
        let store = try backend.open()
        let cred = CredentialRecord(
            attackerIP: "198.51.100.7", deckyName: "web1", service: "ssh", principal: "root",
            secretSHA256: String(repeating: "ab", count: 32), secretB64: "YWRtaW4=", secretPrintable: "admin",
            outcome: "failure", seen: 1_800_000_000)
        try store.write(StoreBatch(logs: (0..<5).map { Self.log($0) }, credentials: [cred]))
        let rows = try store.logs(LogQuery(limit: 10, ascending: true))
        #expect(rows.map(\.rawLine) == (0..<5).map { "line \($0) from 198.51.100.7" })
        #expect(rows.allSatisfy { $0.id != nil })
        #expect(try store.countLogs(LogQuery(attackerIP: "198.51.100.7")) == 5)
        #expect(try store.countLogs(LogQuery(attackerIP: "203.0.113.9")) == 0)
        let creds = try store.credentials(attackerIP: "198.51.100.7", limit: 10)
        #expect(creds.count == 1 && creds[0].principal == "root")
        // The API's view of the same rows.
        #expect(try await store.logCount(LogFilter()) == 5)
        #expect(try await store.logPage(LogFilter(search: "ip:198.51.100.7"), limit: 2, offset: 0).count == 2)
        #expect(try await store.maxLogID() == rows.last!.id!)
        #expect(try await store.logsAfter(rows[2].id!, LogFilter(), limit: 10).count == 2)
        let bytes = try await store.logPageBytes(LogFilter(), limit: 3, offset: 0)
        guard case .array(let parsed) = try JSONValue.parse(bytes) else { Issue.record("not an array"); return }
        #expect(parsed.count == 3)
    }

    @Test(arguments: StoreBackend.all) func stateIsKeyValueAndOverwrites(_ backend: StoreBackend) throws {
        let store = try backend.open()
        #expect(try store.state("k") == nil)
        try store.setState("k", #"{"a":1}"#)
        try store.setState("k", #"{"a":2}"#)
        #expect(try store.state("k") == #"{"a":2}"#)
    }

    @Test(arguments: StoreBackend.all) func usersAreUniqueByNameAndTokensRevoke(_ backend: StoreBackend) throws {
        let store = try backend.open()
        let u = UserRecord(uuid: UUID().uuidString, username: "alice", passwordHash: "$2b$12$x", role: "admin", mustChangePassword: true)
        try store.insertUser(u)
        #expect(throws: UserStoreError.duplicateUsername) {
            try store.insertUser(UserRecord(uuid: UUID().uuidString, username: "alice", passwordHash: "h", role: "viewer", mustChangePassword: false))
        }
        var changed = u
        changed.role = "viewer"
        changed.mustChangePassword = false
        #expect(try store.updateUser(changed))
        #expect(try store.user(username: "alice") == changed)
        #expect(try store.user(uuid: u.uuid)?.role == "viewer")
        #expect(try store.userSummaries().count == 1)
        try store.revokeToken(jti: "j1", userUUID: u.uuid, expiresAt: 2_000_000_000, now: 1_800_000_000)
        #expect(try store.isRevoked(jti: "j1"))
        #expect(try !store.isRevoked(jti: "j2"))
        #expect(try store.deleteUser(uuid: u.uuid))
        #expect(try store.users().isEmpty)
        #expect(try !store.deleteUser(uuid: u.uuid))
    }

    @Test(arguments: StoreBackend.all) func deckiesUpsertAndDelete(_ backend: StoreBackend) throws {
        let store = try backend.open()
        try store.upsertDecky(DeckyRecord(name: "web1", ip: "10.0.0.10", state: "pending", updatedAt: 1))
        try store.upsertDecky(DeckyRecord(name: "web1", ip: "10.0.0.10", state: "running", updatedAt: 2))
        try store.upsertDecky(DeckyRecord(name: "db1", ip: "10.0.0.12", state: "running", updatedAt: 2))
        let all = try store.deckies()
        #expect(Set(all.map(\.name)) == ["web1", "db1"])
        #expect(all.first { $0.name == "web1" }?.state == "running")
        #expect(try store.deleteDecky(name: "web1", hostUUID: "local"))
        #expect(try !store.deleteDecky(name: "web1", hostUUID: "local"))
        #expect(try store.deckies().map(\.name) == ["db1"])
    }

    @Test(arguments: StoreBackend.all) func profilesAndTheirCursorCommitTogether(_ backend: StoreBackend) async throws {
        let store = try backend.open()
        try store.write(StoreBatch(logs: (0..<4).map { Self.log($0, decky: $0 < 2 ? "web1" : "db1") }))
        let events = try store.correlationEvents(after: 0, limit: 3)
        #expect(events.count == 3)
        #expect(try store.correlationEvents(after: events.last!.id, limit: 10).count == 1)
        let a = AttackerRecord(
            uuid: UUID().uuidString, ip: "198.51.100.7", firstSeen: 1_800_000_000, lastSeen: 1_800_000_003,
            eventCount: 4, serviceCount: 1, deckyCount: 2, isTraversal: true, score: 42, profile: "{}")
        try store.saveProfiles(
            [a], fingerprints: [(uuid: a.uuid, kind: "hassh", value: "abc", count: 2, first: 1, last: 2)],
            cursorKey: "profiler.cursor", cursor: #"{"last_log_id":4}"#)
        #expect(try store.state("profiler.cursor") == #"{"last_log_id":4}"#)
        #expect(try store.allAttackers().map(\.ip) == ["198.51.100.7"])
        #expect(try store.attackers(limit: 10, offset: 0).first?.deckyCount == 2)
        // The API sees the same profile.
        #expect(try await store.attackerCount(search: nil, service: nil) == 1)
        let page = try await store.attackerPage(search: "198.51", service: nil, sort: .score, limit: 10, offset: 0)
        #expect(page.count == 1 && page[0]["ip"]?.stringValue == "198.51.100.7")
        #expect(try await store.attackerDetail(uuid: a.uuid)?["decky_count"]?.doubleValue == 2)
        #expect(try await store.attackerDetail(uuid: "no-such") == nil)
        try store.deleteAllAttackers()
        #expect(try store.allAttackers().isEmpty)
    }
}
