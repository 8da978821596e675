// SwarmTests.swift: the swarm's pieces that need no network: identities in the SAN, leaves from CSRs, join
// tokens, signed commands, the pin callbacks, and how a fleet INI is split over workers. The real processes,
// namespaces and clients are Tests/Integration/swarm.sh.
import Appliance
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing
import X509

@testable import Control

@Suite struct SwarmTests {
    static func authority() throws -> SwarmAuthority {
        let dir = NSTemporaryDirectory() + "decnet-swarm-\(UUID().uuidString)"
        return try SwarmAuthority.loadOrCreate(directory: dir, names: ["192.0.2.1"])
    }

    static func worker(_ a: SwarmAuthority, id: String = UUID().uuidString.lowercased()) throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let (csr, _) = try SwarmPKI.parseCSR(derBase64: Base64.encode(SwarmPKI.csrDER(try SwarmPKI.makeCSR(key: key, name: "w1"))))
        return (try a.issueWorker(hostUUID: id, csr: csr, name: "w1", address: "192.0.2.3"), key)
    }

    static func nio(_ c: Certificate) throws -> NIOSSLCertificate { try NIOSSLCertificate(bytes: SwarmPKI.der(c), format: .der) }

    static func verdict(
        _ cb: @escaping @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void, _ chain: [NIOSSLCertificate]
    ) throws
        -> NIOSSLVerificationResult
    {
        let loop = EmbeddedEventLoop()
        let p = loop.makePromise(of: NIOSSLVerificationResult.self)
        cb(chain, p)
        return try p.futureResult.wait()
    }

    @Test func identitiesComeFromTheSPIFFEURIOnly() throws {
        #expect(SwarmIdentity.parse(uri: "spiffe://decnet/abc/worker/1234") == SwarmIdentity(fleet: "abc", role: .worker, id: "1234"))
        for bad in [
            "spiffe://decnet/abc/admin/1", "spiffe://decnet/abc/worker", "spiffe://other/abc/worker/1", "spiffe://decnet/a/b/worker/1",
            "spiffe://decnet/abc/worker/1/2", "spiffe://decnet//worker/1", "spiffe://decnet/abc/worker/a%2Fb",
        ] {
            #expect(SwarmIdentity.parse(uri: bad) == nil, "\(bad)")
        }
        let a = try Self.authority()
        let (leaf, _) = try Self.worker(a, id: "w-uuid")
        #expect(SwarmIdentity.of(leaf) == SwarmIdentity(fleet: a.fleet, role: .worker, id: "w-uuid"))
        #expect(SwarmIdentity.of(a.master)?.role == .master)
        #expect(SwarmPKI.isIssued(leaf, by: a.root))
        #expect(!SwarmPKI.isIssued(leaf, by: try Self.authority().root))
        #expect(!SwarmPKI.isIssued(leaf, by: a.root, now: Date() + SwarmPKI.leafLifetime + 86_400))
        #expect(leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore) == SwarmPKI.leafLifetime + 300)
    }

    @Test func theAuthorityIsReusedAndItsKeysArePrivate() throws {
        let a = try Self.authority()
        let again = try SwarmAuthority.loadOrCreate(directory: a.directory, names: ["192.0.2.1"])
        #expect(again.caHash == a.caHash)
        #expect(again.masterPin == a.masterPin)
        for f in ["ca.key", "master.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: a.directory + "/" + f)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        // a new advertised address reissues the master certificate (new key), same root
        let moved = try SwarmAuthority.loadOrCreate(directory: a.directory, names: ["192.0.2.99"])
        #expect(moved.caHash == a.caHash)
        #expect(moved.masterPin != a.masterPin)
    }

    @Test func malformedCSRsAreRefused() throws {
        for bad in ["", "AAAA", String(repeating: "A", count: 9000), Base64.encode(Array(repeating: 0x30, count: 64))] {
            #expect(throws: SwarmPKI.Failure.self) { try SwarmPKI.parseCSR(derBase64: bad) }
        }
        // a CSR whose signature does not match its key
        var der = SwarmPKI.csrDER(try SwarmPKI.makeCSR(key: P256.Signing.PrivateKey(), name: "w1"))
        der[der.count - 3] ^= 0xff
        #expect(throws: SwarmPKI.Failure.self) { try SwarmPKI.parseCSR(derBase64: Base64.encode(der)) }
    }

    @Test func joinTokensAreCheckedForShape() throws {
        let t = SwarmJoinToken.make(caHash: String(repeating: "ab", count: 32))
        #expect(try SwarmJoinToken.parse(t.description) == t)
        #expect(try SwarmJoinToken.parse(" \(t.description)\n") == t)
        let good = t.description.split(separator: ".").map(String.init)
        for bad in [
            "", "decnet1", "decnet2.\(good[1]).\(good[2]).\(good[3])", "decnet1.\(good[1].uppercased()).\(good[2]).\(good[3])",
            "decnet1.\(good[1]).\(good[2]).\(good[3]).x", "decnet1.\(good[1]).zzzz.\(good[3])", "decnet1.\(good[1]).\(good[2]).short",
            "decnet1.\(good[1]).\(good[2]).\(good[3].dropLast())+", String(repeating: "x", count: 300),
        ] {
            #expect(throws: SwarmJoinToken.Malformed.self, "\(bad)") { try SwarmJoinToken.parse(bad) }
        }
        #expect(t.secretHash == SwarmJoinToken.hash(secret: t.secret))
        #expect(!t.description.contains(t.secretHash))
        #expect(parseDuration("30m") == 1800)
        #expect(parseDuration("8d") == nil)
        #expect(parseDuration("m") == nil)
        #expect(parseDuration("-5s") == nil)
    }

    @Test func signedCommandsAreCheckedAndNeverReplayed() throws {
        let a = try Self.authority()
        let nonces = SignedCommandNonces(path: a.directory + "/nonces")
        let pins: Set<String> = [a.masterPin]
        let now = wallClockSeconds()
        func verify(_ e: JSONValue, host: String = "h1", at t: Double = now, pins: Set<String> = pins) throws {
            try SignedCommand.verify(e, command: "self-destruct", hostUUID: host, masterPins: pins, root: a.root, nonces: nonces, now: t)
        }
        let e = try SignedCommand.make(command: "self-destruct", hostUUID: "h1", authority: a, now: now)
        try verify(e)
        #expect(throws: SignedCommand.Refused.self) { try verify(e) }  // replayed
        let e2 = try SignedCommand.make(command: "self-destruct", hostUUID: "h1", authority: a, now: now)
        #expect(throws: SignedCommand.Refused.self) { try verify(e2, host: "h2") }  // another host
        #expect(throws: SignedCommand.Refused.self) { try verify(e2, at: now + 301) }  // expired
        #expect(throws: SignedCommand.Refused.self) { try verify(e2, pins: ["0000"]) }  // not our master
        guard case .object(var m) = e2 else { Issue.record("not an object"); return }
        if let i = m.firstIndex(where: { $0.0 == "expires_at" }) { m[i].1 = .number(now + 250) }  // tampered
        #expect(throws: SignedCommand.Refused.self) { try verify(.object(m)) }
        let long = try SignedCommand.make(command: "self-destruct", hostUUID: "h1", authority: a, now: now, lifetime: 3600)
        #expect(throws: SignedCommand.Refused.self) { try verify(long) }  // window too long
        let other = try Self.authority()
        let forged = try SignedCommand.make(command: "self-destruct", hostUUID: "h1", authority: other, now: now)
        #expect(throws: SignedCommand.Refused.self) { try verify(forged, pins: pins.union([other.masterPin])) }  // other root
        try verify(e2)  // the untouched one still verifies once
    }

    @Test func theMasterListenerAdmitsOnlyPinnedWorkers() throws {
        let a = try Self.authority()
        let pins = SwarmPinTable()
        let (leaf, _) = try Self.worker(a, id: "h1")
        let cb = SwarmTLS.masterCallback(authority: a, pins: pins, logger: .init(label: "test"))
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .failed)  // unknown
        let h = SwarmHostRecord(uuid: "h1", name: "w1", address: "", fingerprint: SwarmPKI.fingerprint(leaf), enrolledAt: 0)
        pins.load([h], now: 0)
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .certificateVerified)
        var evicted = h
        evicted.status = "evicted"
        pins.load([evicted], now: 0)
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .failed)
        // a pinned fingerprint presented under another host's id is refused
        pins.load([SwarmHostRecord(uuid: "h2", name: "w2", address: "", fingerprint: SwarmPKI.fingerprint(leaf), enrolledAt: 0)], now: 0)
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .failed)
        // the previous pin of a renewed host: accepted inside its grace window only
        var renewed = h
        renewed.fingerprint = "new"
        renewed.previousFingerprint = SwarmPKI.fingerprint(leaf)
        renewed.previousUntil = 100
        pins.load([renewed], now: 50)
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .certificateVerified)
        pins.load([renewed], now: 150)
        #expect(try Self.verdict(cb, [try Self.nio(leaf)]) == .failed)
        #expect(try Self.verdict(cb, [try Self.nio(a.master)]) == .certificateVerified)  // the master itself
        let other = try Self.authority()
        #expect(try Self.verdict(cb, [try Self.nio(other.master)]) == .failed)
    }

    @Test func workersAcceptOnlyThePinnedMasterAndJoinersCheckTheCAHash() throws {
        let a = try Self.authority(), other = try Self.authority()
        let cb = SwarmTLS.pinnedCallback(root: a.root, pins: { [a.masterPin] }, role: .master)
        #expect(try Self.verdict(cb, [try Self.nio(a.master)]) == .certificateVerified)
        #expect(try Self.verdict(cb, [try Self.nio(try Self.worker(a).0)]) == .failed)  // a worker
        #expect(try Self.verdict(cb, [try Self.nio(other.master)]) == .failed)
        let seen = NIOLockedValueBox<Certificate?>(nil)
        let join = SwarmTLS.joinCallback(caHash: a.caHash, sawRoot: seen)
        #expect(try Self.verdict(join, [try Self.nio(other.master), try Self.nio(other.root)]) == .failed)  // MITM
        #expect(try Self.verdict(join, [try Self.nio(other.master), try Self.nio(a.root)]) == .failed)  // our root, their leaf
        #expect(try Self.verdict(join, [try Self.nio(try Self.worker(a).0), try Self.nio(a.root)]) == .failed)  // not a master
        #expect(seen.withLockedValue { $0 } == nil)
        #expect(try Self.verdict(join, [try Self.nio(a.master), try Self.nio(a.root)]) == .certificateVerified)
        #expect(seen.withLockedValue { $0 } == a.root)
    }

    @Test func aFleetINIIsSplitRoundRobinWithPinsAndPersonas() throws {
        let a = try Self.authority()
        let ops = SwarmOperations(store: try Stores.open(path: a.directory + "/m.db"), authority: a)
        func h(_ n: String, _ status: String = "active") -> SwarmHostRecord {
            SwarmHostRecord(uuid: "u-" + n, name: n, address: "192.0.2.\(n.count)", status: status, fingerprint: n, enrolledAt: 0)
        }
        let ini = """
            [general]
            interface = eth9
            net = 10.0.0.0/24

            [d1]
            services = ssh
            [d1.ssh]
            banner = SSH-2.0-x
            [d2]
            services = http
            host = w1
            [d3]
            services = http
            [d4]
            services = ftp
            """
        let parts = try ops.plan(ini: ini, hosts: [h("w1"), h("w2"), h("w3", "evicted")])
        #expect(parts.map(\.0.name) == ["w1", "w2"])
        #expect(parts[0].2 == ["d1", "d2", "d4"])
        #expect(parts[1].2 == ["d3"])
        #expect(parts[0].1.contains("[d1.ssh]\nbanner = SSH-2.0-x"))
        #expect(!parts[0].1.contains("host ="))
        #expect(!parts[0].1.contains("interface"))
        #expect(!parts[1].1.contains("net ="))
        #expect(throws: SwarmOperations.Failure.self) { try ops.plan(ini: "[d1]\nhost = w9\n", hosts: [h("w1")]) }
        #expect(throws: SwarmOperations.Failure.self) { try ops.plan(ini: "[d1]\n", hosts: [h("w3", "banned")]) }
    }

    @Test func shippedBatchesInflateWithinTheirBound() throws {
        let text = Array(String(repeating: #"{"seq":1,"ts":1,"decky":"d1","service":"ssh","event_type":"login_attempt"},"#, count: 2000).utf8)
        let packed = try #require(SwarmGzip.compress(text))
        #expect(packed.count * 8 < text.count)
        #expect(try SwarmGzip.inflate(packed, limit: text.count) == text)
        #expect(throws: SwarmGzip.InflateError.tooLarge) { try SwarmGzip.inflate(packed, limit: text.count - 1) }  // a bomb stops at the bound
        #expect(throws: SwarmGzip.InflateError.malformed) { try SwarmGzip.inflate(packed.dropLast(9), limit: 1 << 20) }  // truncated
        #expect(throws: SwarmGzip.InflateError.malformed) { try SwarmGzip.inflate(Array("not gzip at all".utf8), limit: 1 << 20) }
        #expect(throws: SwarmGzip.InflateError.malformed) { try SwarmGzip.inflate(packed + [1, 2, 3], limit: 1 << 20) }  // trailing bytes
        #expect(throws: SwarmGzip.InflateError.malformed) { try SwarmGzip.inflate([UInt8](), limit: 16) }
    }

    @Test func theListenerPublishesHostAndShardStateChanges() async throws {
        let a = try Self.authority()
        let store = try Stores.open(path: a.directory + "/m.db")
        let seen = NIOLockedValueBox<[(String, JSONValue)]>([])
        let controller = try SwarmController(store: store, authority: a, settings: SwarmSettings()) { topic, payload, _ in
            seen.withLockedValue { $0.append((topic, payload)) }
        }
        try store.insertSwarmToken(SwarmTokenRecord(id: "t", name: "w1", secretHash: "h", createdAt: 0, expiresAt: 9e12))
        let h = SwarmHostRecord(uuid: "u1", name: "w1", address: "192.0.2.3", fingerprint: "f1", enrolledAt: 0)
        try store.enrollSwarmHost(tokenID: "t", now: 1, proofOK: { _ in true }, host: h)
        let task = Task { await controller.maintain() }
        try await Task.sleep(for: .milliseconds(400))   // the first pass learns the current states silently
        try store.upsertShard(SwarmShardRecord(deckyName: "d1", hostUUID: "u1", ip: "192.0.2.21", services: "[]", state: "running", updatedAt: 1))
        try store.setSwarmHostStatus(uuid: "u1", status: "evicted", audit: nil)
        for _ in 0..<40 where seen.withLockedValue({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(100)) }
        task.cancel()
        let events = seen.withLockedValue { $0 }
        let host = events.first { $0.0 == "swarm.host.u1.state" }
        #expect(host?.1["status"]?.stringValue == "evicted")
        #expect(host?.1["previous_status"]?.stringValue == "enrolled")
        let shard = events.first { $0.0 == "decky.u1:d1.state" }
        #expect(shard?.1["state"]?.stringValue == "running")
        #expect(shard?.1["transition"]?.stringValue == "inserted")
        #expect(controller.pins.host(for: "f1") == nil)   // and the evicted pin is gone from the listener's table
    }
}
