// SwarmOperations.swift: what an operator does to the fleet from the master (CLI and API call these): join
// tokens, evict (the worker may re-enroll with a new token) vs ban (it may not), decommission (revoke first,
// in the same transaction as its audit event, then a best-effort signed self-destruct, then shard cleanup), and
// calls to a worker's agent over mTLS with the worker's pin checked in the handshake.
import Appliance
import Foundation
import Logging
import NIOCore

public struct SwarmOperations: Sendable {
    public let store: any DecnetStore
    /// The fleet CA and master identity: nil where this box is not the master (reads and revocations still work).
    let authorityIfMaster: SwarmAuthority?
    let logger = Logger.decnet("swarm")

    public init(store: any DecnetStore, authority: SwarmAuthority?) {
        self.store = store
        self.authorityIfMaster = authority
    }

    var authority: SwarmAuthority {
        get throws {
            guard let a = authorityIfMaster else { throw Failure("this box is not a swarm master (no fleet CA configured)", notMaster: true) }
            return a
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public let notFound: Bool
        public let notMaster: Bool
        init(_ d: String, notFound: Bool = false, notMaster: Bool = false) {
            description = d
            self.notFound = notFound
            self.notMaster = notMaster
        }
    }

    /// A single-use token for a worker called `name`, valid for `ttl` seconds.
    public func createToken(name: String, ttl: Double, now: Double = wallClockSeconds()) throws -> SwarmJoinToken {
        guard SwarmController.namePattern(name) else { throw Failure("--name must match [a-z0-9][a-z0-9._-]{0,62}") }
        let t = SwarmJoinToken.make(caHash: try authority.caHash)
        try store.insertSwarmToken(SwarmTokenRecord(id: t.id, name: name, secretHash: t.secretHash, createdAt: now, expiresAt: now + ttl))
        try store.writeAudit(
            swarmAudit(
                "swarm.token.created", peer: "", [("token_id", .string(t.id)), ("name", .string(name)), ("expires_at", .number(now + ttl))],
                severity: 6))
        return t
    }

    /// A host by uuid or by name (the newest enrollment of that name).
    public func host(_ ref: String) throws -> SwarmHostRecord {
        let hosts = try store.swarmHosts()
        if let h = hosts.first(where: { $0.uuid == ref }) { return h }
        if let h = hosts.filter({ $0.name == ref }).max(by: { $0.enrolledAt < $1.enrolledAt }) { return h }
        throw Failure("no swarm host \(ref)", notFound: true)
    }

    /// `evicted` or `banned`: from now on the host's certificate fails the handshake on every master listener.
    public func revoke(_ ref: String, as status: String, actor: String) throws -> SwarmHostRecord {
        precondition(status == "evicted" || status == "banned")
        let h = try host(ref)
        try store.setSwarmHostStatus(
            uuid: h.uuid, status: status,
            audit: swarmAudit(
                "swarm.host.\(status)", peer: "", [("host_uuid", .string(h.uuid)), ("name", .string(h.name)), ("by", .string(actor))], severity: 4))
        return h
    }

    /// A client to a worker's agent: our master identity, the worker's pinned certificate only.
    public func agentClient(_ h: SwarmHostRecord, timeout: TimeAmount = .seconds(15)) throws -> SwarmHTTPSClient {
        let pins = Set([h.fingerprint] + (h.previousFingerprint.map { [$0] } ?? []))
        let authority = try self.authority
        return try SwarmHTTPSClient(
            host: h.address, port: h.agentPort,
            tls: try SwarmTLS.clientConfiguration(certificatePEM: SwarmPKI.pem(authority.master), keyPEM: SwarmPKI.keyPEM(authority.masterKey)),
            verify: SwarmTLS.pinnedCallback(root: authority.root, pins: { pins }, role: .worker), timeout: timeout)
    }

    public struct DecommissionResult: Sendable {
        public var host: SwarmHostRecord
        public var selfDestructed: Bool
        public var detail: String
        public var shardsRemoved: Int
    }

    /// Revoke first (status `decommissioned` and its audit event in one transaction: the worker is refused from
    /// this moment), then the signed self-destruct (best effort; an offline worker gets it from `retryPending`
    /// when it is reachable again), then the host's shards.
    public func decommission(_ ref: String, actor: String) async throws -> DecommissionResult {
        let h = try host(ref)
        _ = try authority  // refuse before revoking when the self-destruct could not be signed here
        try store.setSwarmHostStatus(
            uuid: h.uuid, status: "decommissioned",
            audit: swarmAudit(
                "swarm.host.decommissioned", peer: "", [("host_uuid", .string(h.uuid)), ("name", .string(h.name)), ("by", .string(actor))],
                severity: 4))
        try store.setState("swarm.pending_destruct.\(h.uuid)", "1")
        let (ok, why) = await sendSelfDestruct(h)
        let removed = (try? store.deleteShards(hostUUID: h.uuid)) ?? 0
        return DecommissionResult(host: h, selfDestructed: ok, detail: why, shardsRemoved: removed)
    }

    func sendSelfDestruct(_ h: SwarmHostRecord) async -> (Bool, String) {
        do {
            let envelope = try SignedCommand.make(command: "self-destruct", hostUUID: h.uuid, authority: try authority)
            let r = try await agentClient(h, timeout: .seconds(10)).post("/self-destruct", json: envelope)
            guard r.status == 202 else { return (false, "agent answered \(r.status): \(r.detail)") }
            try? store.setState("swarm.pending_destruct.\(h.uuid)", "0")
            try? store.writeAudit(swarmAudit("swarm.host.self_destruct_sent", peer: h.address, [("host_uuid", .string(h.uuid))], severity: 5))
            return (true, "self-destruct accepted")
        } catch {
            return (false, "\(error)")
        }
    }

    /// Decommissioned hosts whose self-destruct has not been accepted yet: try again (swarmctl, every 10 s).
    public func retryPending() async {
        guard let hosts = try? store.swarmHosts() else { return }
        for h in hosts where h.status == "decommissioned" {
            guard (try? store.state("swarm.pending_destruct.\(h.uuid)")) == "1" else { continue }
            let (ok, why) = await sendSelfDestruct(h)
            if ok {
                logger.notice("swarm: decommissioned host \(h.name) accepted its self-destruct")
            } else {
                logger.debug("swarm: self-destruct for \(h.name) still pending: \(why)")
            }
        }
    }

    public struct DispatchResult: Sendable {
        public var host: SwarmHostRecord
        public var deckies: [String]
        public var ok: Bool
        public var detail: String
    }

    /// Splits the sections of a fleet INI over the admitted hosts: a section's `host = NAME` pins it, the rest go
    /// round-robin in file order; `[decky.service]` persona sections follow their decky. [general] loses
    /// interface/net/gateway: each worker relocalises to its own interface and subnet (addresses given with `ip =`
    /// must lie in the worker's subnet, or that worker refuses them with the reason). Returns per host the INI
    /// text and its decky names.
    public func plan(ini: String, hosts: [SwarmHostRecord]) throws -> [(SwarmHostRecord, String, [String])] {
        let live = hosts.filter { SwarmHostRecord.admitted.contains($0.status) && !$0.address.isEmpty }
        guard !live.isEmpty else { throw Failure("no enrolled worker to deploy to") }
        var general: [String] = []
        var sections: [(name: String, lines: [String], host: String?)] = []
        var inGeneral = false
        for raw in ini.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                inGeneral = name.lowercased() == "general"
                if inGeneral { general.append(String(raw)) } else { sections.append((name, [String(raw)], nil)) }
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if inGeneral || sections.isEmpty {
                if parts.count == 2, ["interface", "net", "subnet", "gw", "gateway"].contains(parts[0]) { continue }
                general.append(String(raw))
                continue
            }
            if parts.count == 2, parts[0] == "host" {
                sections[sections.count - 1].host = line.split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
                continue  // `host` is the master's key; the worker never sees it
            }
            sections[sections.count - 1].lines.append(String(raw))
        }
        var buckets: [String: (SwarmHostRecord, [String], [String])] = [:]
        var placed: [String: String] = [:]  // decky -> host uuid
        var rr = 0
        for s in sections {
            let target: SwarmHostRecord
            if let dot = s.name.lastIndex(of: "."), let owner = placed[String(s.name[..<dot])] {
                target = live.first { $0.uuid == owner }!
                buckets[target.uuid]!.1.append(contentsOf: s.lines)
                continue
            }
            if let want = s.host {
                guard let h = live.first(where: { $0.name == want || $0.uuid == want }) else {
                    throw Failure("[\(s.name)]: host \(want) is not an enrolled worker")
                }
                target = h
            } else {
                target = live[rr % live.count]
                rr += 1
            }
            var b = buckets[target.uuid] ?? (target, [], [])
            b.1.append(contentsOf: s.lines)
            b.2.append(s.name)
            buckets[target.uuid] = b
            placed[s.name] = target.uuid
        }
        let header = general.joined(separator: "\n")
        return live.compactMap { h in buckets[h.uuid].map { ($0.0, header + "\n" + $0.1.joined(separator: "\n") + "\n", $0.2) } }
    }

    /// Sends each worker its part (concurrently) and records shards `pending` -> `running`/`failed`.
    public func dispatch(ini: String) async throws -> [DispatchResult] {
        let parts = try plan(ini: ini, hosts: try store.swarmHosts())
        let now = wallClockSeconds()
        for (h, _, names) in parts {
            for n in names {
                try? store.upsertShard(SwarmShardRecord(deckyName: n, hostUUID: h.uuid, ip: "", services: "[]", state: "pending", updatedAt: now))
            }
        }
        return await withTaskGroup(of: DispatchResult.self) { group in
            for (h, text, names) in parts {
                group.addTask {
                    do {
                        let r = try await agentClient(h, timeout: .seconds(120)).post("/deploy", json: .object([("ini", .string(text))]))
                        let ok = r.status == 202
                        for n in names {
                            try? store.upsertShard(
                                SwarmShardRecord(
                                    deckyName: n, hostUUID: h.uuid, ip: "", services: "[]", state: ok ? "running" : "failed",
                                    lastError: ok ? nil : String(r.detail.prefix(512)), updatedAt: wallClockSeconds()))
                        }
                        return DispatchResult(host: h, deckies: names, ok: ok, detail: ok ? "accepted" : "\(r.status): \(r.detail)")
                    } catch {
                        for n in names {
                            try? store.upsertShard(
                                SwarmShardRecord(
                                    deckyName: n, hostUUID: h.uuid, ip: "", services: "[]", state: "failed",
                                    lastError: String("\(error)".prefix(512)), updatedAt: wallClockSeconds()))
                        }
                        return DispatchResult(host: h, deckies: names, ok: false, detail: "\(error)")
                    }
                }
            }
            var out: [DispatchResult] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.host.name < $1.host.name }
        }
    }

    /// `POST /mutate` on the agent holding `decky` (from the shards): its services rotate now.
    public func mutate(decky: String) async throws -> (SwarmHostRecord, [String], [String]) {
        guard let shard = try store.shards().first(where: { $0.deckyName == decky }) else { throw Failure("no swarm decky \(decky)", notFound: true) }
        let h = try host(shard.hostUUID)
        let r = try await agentClient(h).post("/mutate", json: .object([("decky_id", .string(decky))]))
        guard r.status == 200, let j = r.json else { throw Failure("\(h.name): \(r.status) \(r.detail)") }
        func list(_ k: String) -> [String] { if case .array(let a)? = j[k] { return a.compactMap(\.stringValue) }; return [] }
        return (h, list("old_services"), list("new_services"))
    }

    public struct CheckResult: Sendable {
        public var host: SwarmHostRecord
        public var reachable: Bool
        public var detail: String
    }

    /// Probes every admitted host's agent (`GET /health` over pinned mTLS); never leaks error internals to the
    /// row, only whether the agent answered as itself.
    public func check() async throws -> [CheckResult] {
        let hosts = try store.swarmHosts().filter { SwarmHostRecord.admitted.contains($0.status) && !$0.address.isEmpty }
        return await withTaskGroup(of: CheckResult.self) { group in
            for h in hosts {
                group.addTask {
                    do {
                        let r = try await agentClient(h, timeout: .seconds(5)).get("/health")
                        let ok = r.status == 200 && r.json?["host_uuid"]?.stringValue == h.uuid
                        return CheckResult(host: h, reachable: ok, detail: ok ? "ok" : "answered \(r.status)")
                    } catch { return CheckResult(host: h, reachable: false, detail: "probe failed: \(error)") }
                }
            }
            var out: [CheckResult] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.host.name < $1.host.name }
        }
    }

    /// `POST /teardown` on one host's agent (all its deckies) and its shards removed on success.
    public func teardown(_ ref: String) async throws -> (Bool, String) {
        let h = try host(ref)
        do {
            let r = try await agentClient(h, timeout: .seconds(120)).post("/teardown", json: .object([]))
            guard r.status == 200 else { return (false, "\(r.status): \(r.detail)") }
            try? store.deleteShards(hostUUID: h.uuid)
            return (true, "torn down")
        } catch { return (false, "\(error)") }
    }
}
