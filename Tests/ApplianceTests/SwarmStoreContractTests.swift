// SwarmStoreContractTests.swift: the swarm's store contract (SwarmContracts.swift) against every backend:
// enrollment is one transaction (token use, name rules, host insert), heartbeats refuse regressing sequences
// and flag a cloned identity, shipped events are idempotent by (host, seq), hosts age to stale/unreachable.
import Appliance
import Foundation
import Testing

@Suite struct SwarmStoreContractTests {
    static func host(_ name: String, uuid: String = UUID().uuidString.lowercased(), fp: String? = nil) -> SwarmHostRecord {
        SwarmHostRecord(
            uuid: uuid, name: name, address: "192.0.2.10", fingerprint: fp ?? String(repeating: "a", count: 63) + String(name.count), enrolledAt: 1000
        )
    }

    static func token(_ id: String, name: String = "w1", expires: Double = 2000) -> SwarmTokenRecord {
        SwarmTokenRecord(id: id, name: name, secretHash: "h-" + id, createdAt: 1000, expiresAt: expires)
    }

    @Test(arguments: StoreBackend.all) func enrollmentConsumesTheTokenOnce(_ backend: StoreBackend) throws {
        let store = try backend.open()
        try store.insertSwarmToken(Self.token("t1"))
        let ok: (SwarmTokenRecord) -> Bool = { $0.secretHash == "h-t1" }
        try store.enrollSwarmHost(tokenID: "t1", now: 1500, proofOK: ok, host: Self.host("w1", fp: "f1"))
        #expect(throws: SwarmEnrollError.tokenUsed) {
            try store.enrollSwarmHost(tokenID: "t1", now: 1500, proofOK: ok, host: Self.host("w2", fp: "f2"))
        }
        #expect(throws: SwarmEnrollError.unknownToken) {
            try store.enrollSwarmHost(tokenID: "nope", now: 1500, proofOK: ok, host: Self.host("w3", fp: "f3"))
        }
        try store.insertSwarmToken(Self.token("t2", expires: 1200))
        #expect(throws: SwarmEnrollError.tokenExpired) {
            try store.enrollSwarmHost(tokenID: "t2", now: 1500, proofOK: { _ in true }, host: Self.host("w4", fp: "f4"))
        }
        try store.insertSwarmToken(Self.token("t3"))
        #expect(throws: SwarmEnrollError.badProof) {
            try store.enrollSwarmHost(tokenID: "t3", now: 1500, proofOK: { _ in false }, host: Self.host("w5", fp: "f5"))
        }
        #expect(throws: SwarmEnrollError.nameTaken) {
            try store.enrollSwarmHost(tokenID: "t3", now: 1500, proofOK: { _ in true }, host: Self.host("w1", fp: "f6"))
        }
        // refusals changed nothing: one host, t3 still unused
        #expect(try store.swarmHosts().map(\.name) == ["w1"])
        #expect(try store.swarmTokens().first { $0.id == "t3" }?.usedAt == nil)
    }

    @Test(arguments: StoreBackend.all) func evictedNamesMayReEnrollBannedMayNot(_ backend: StoreBackend) throws {
        let store = try backend.open()
        for t in ["a", "b", "c", "d"] { try store.insertSwarmToken(Self.token(t)) }
        let h1 = Self.host("w1", fp: "f1"), h2 = Self.host("w2", fp: "f2")
        try store.enrollSwarmHost(tokenID: "a", now: 1500, proofOK: { _ in true }, host: h1)
        try store.enrollSwarmHost(tokenID: "b", now: 1500, proofOK: { _ in true }, host: h2)
        let audit = LogRecord(timestamp: 1600, decky: "", service: "swarm", eventType: "swarm.host.evicted", attackerIP: "")
        #expect(try store.setSwarmHostStatus(uuid: h1.uuid, status: "evicted", audit: audit))
        #expect(try store.setSwarmHostStatus(uuid: h2.uuid, status: "banned", audit: nil))
        #expect(try store.logs(LogQuery(eventType: "swarm.host.evicted")).count == 1)  // same transaction as the status
        try store.enrollSwarmHost(tokenID: "c", now: 1500, proofOK: { _ in true }, host: Self.host("w1", fp: "f3"))
        #expect(throws: SwarmEnrollError.nameBanned) {
            try store.enrollSwarmHost(tokenID: "d", now: 1500, proofOK: { _ in true }, host: Self.host("w2", fp: "f4"))
        }
        #expect(try store.swarmHosts().filter { $0.name == "w1" }.map(\.fingerprint) == ["f3"])
    }

    @Test(arguments: StoreBackend.all) func heartbeatsRefuseRegressionAndFlagClones(_ backend: StoreBackend) throws {
        let store = try backend.open()
        try store.insertSwarmToken(Self.token("a"))
        let h = Self.host("w1", fp: "f1")
        try store.enrollSwarmHost(tokenID: "a", now: 1500, proofOK: { _ in true }, host: h)
        #expect(try store.swarmHeartbeat(uuid: h.uuid, seq: 1, bootID: "boot-A", version: "v", outboxNewest: 0, now: 1600) == .accepted)
        #expect(try store.swarmHeartbeat(uuid: h.uuid, seq: 2, bootID: "boot-A", version: "v", outboxNewest: 0, now: 1601) == .accepted)
        #expect(
            try store.swarmHeartbeat(uuid: h.uuid, seq: 2, bootID: "boot-A", version: "v", outboxNewest: 0, now: 1602) == .regressingSequence(last: 2)
        )
        #expect(try store.swarmHeartbeat(uuid: h.uuid, seq: 1, bootID: "boot-B", version: "v", outboxNewest: 0, now: 1603) == .accepted)  // a reboot
        #expect(
            try store.swarmHeartbeat(uuid: h.uuid, seq: 3, bootID: "boot-A", version: "v", outboxNewest: 0, now: 1604)
                == .cloned(previousBoot: "boot-B"))
        #expect(try store.swarmHeartbeat(uuid: "nobody", seq: 1, bootID: "x", version: "v", outboxNewest: 0, now: 1605) == .unknownHost)
        #expect(try store.swarmHost(uuid: h.uuid)?.status == "active")
        #expect(try store.ageSwarmHosts(now: 1603 + 80, stale: 75, unreachable: 120).map(\.status) == ["stale"])
        #expect(try store.ageSwarmHosts(now: 1603 + 130, stale: 75, unreachable: 120).map(\.status) == ["unreachable"])
    }

    @Test(arguments: StoreBackend.all) func shippedEventsAreIdempotentBySequence(_ backend: StoreBackend) throws {
        let store = try backend.open()
        try store.insertSwarmToken(Self.token("a"))
        let h = Self.host("w1", fp: "f1")
        try store.enrollSwarmHost(tokenID: "a", now: 1500, proofOK: { _ in true }, host: h)
        let batch = (1...5).map { (seq: Int64($0), record: StoreContractTests.log($0)) }
        #expect(try store.ingestSwarmEvents(host: h.uuid, events: batch) == 5)
        #expect(try store.ingestSwarmEvents(host: h.uuid, events: batch) == 5)  // resent: nothing added
        let more = (3...8).map { (seq: Int64($0), record: StoreContractTests.log($0)) }  // overlapping
        #expect(try store.ingestSwarmEvents(host: h.uuid, events: more) == 8)
        #expect(try store.countLogs(LogQuery()) == 8)
        #expect(try store.swarmHost(uuid: h.uuid)?.ingested == 8)
        #expect(try store.ingestSwarmEvents(host: "unknown", events: batch) == -1)
        #expect(try store.outbox(after: 6, limit: 10).map(\.id) == [7, 8])
        #expect(try store.newestLogID() == 8)
    }

    @Test(arguments: StoreBackend.all) func renewalKeepsThePreviousPinForTheGraceWindow(_ backend: StoreBackend) throws {
        let store = try backend.open()
        try store.insertSwarmToken(Self.token("a"))
        let h = Self.host("w1", fp: "f1")
        try store.enrollSwarmHost(tokenID: "a", now: 1500, proofOK: { _ in true }, host: h)
        try store.renewSwarmHost(uuid: h.uuid, fingerprint: "f2", graceUntil: 1700)
        let r = try #require(try store.swarmHost(uuid: h.uuid))
        #expect(r.fingerprint == "f2")
        #expect(r.previousFingerprint == "f1")
        #expect(r.previousUntil == 1700)
    }
}
