// SwarmController.swift: `decnet swarmctl`, the master's swarm listener (HTTPS, default :8770). Joining workers
// arrive without a certificate (they have none yet) and may only read the root and join; everything else needs a
// fleet certificate that the verification callback has already matched against the host table (SwarmTLS), and
// each request checks the pin again so a kept-alive connection of an evicted worker gets nothing more.
// Routes: GET /health, GET /swarm/ca, POST /swarm/join, POST /swarm/heartbeat, POST /swarm/events,
// POST /swarm/renew. Every refusal is an audit event (`swarm.*` in the event log) and changes nothing else.
import Appliance
import Crypto
import Fingerprint
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import X509

public struct SwarmContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
    public var maxUploadSize: Int { 32 << 20 }

    public var remoteIP: String { channel.remoteAddress?.ipAddress ?? "" }

    /// The peer's fleet identity from its (already verified) certificate, nil without one.
    public func peer() async -> SwarmPeer? {
        guard let c = try? await channel.nioSSL_peerCertificate().get(), let der = try? c.toDERBytes(),
            let cert = try? Certificate(derEncoded: der), let id = SwarmIdentity.of(cert)
        else { return nil }
        return SwarmPeer(identity: id, fingerprint: SwarmPKI.fingerprint(der: der))
    }
}

public struct SwarmSettings: Sendable {
    public var heartbeatInterval: Double = 30
    public var staleAfter: Double = 75
    public var unreachableAfter: Double = 120
    /// How long a renewed worker's previous certificate stays pinned.
    public var renewalGrace: Double = 3600
    /// The URL workers reach this controller at (handed out at join).
    public var advertisedURL: String = ""
    public init() {}
}

func jsonResponse(_ status: HTTPResponse.Status, _ v: JSONValue) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: v.serialized)))
}

func detail(_ status: HTTPResponse.Status, _ d: String) -> Response { jsonResponse(status, .object([("detail", .string(d))])) }

/// Reads a JSON object body of at most `limit` bytes; nil on anything else.
func readJSONBody(_ request: Request, limit: Int) async -> JSONValue? {
    guard let buf = try? await request.body.collect(upTo: limit), let v = try? JSONValue.parse(buf.readableBytesView), v.isObject else { return nil }
    return v
}

/// The audit event for swarm decisions: service `swarm`, the decision as event type, the peer as source.
public func swarmAudit(
    _ type: String, peer: String, _ fields: [(String, JSONValue)], severity: Int = 4, now: Double = wallClockSeconds()
) -> LogRecord {
    let f = JSONValue.object(fields)
    return LogRecord(
        timestamp: now, decky: "", service: "swarm", eventType: type, attackerIP: peer, severity: severity,
        rawLine: "\(type) \(f.serialized)", fields: f.serialized, msg: type)
}

public final class SwarmController: Sendable {
    public let store: any DecnetStore
    public let authority: SwarmAuthority
    public let pins: SwarmPinTable
    public let settings: SwarmSettings
    let logger = Logger.decnet("swarmctl")
    let publish: (@Sendable (String, JSONValue, String) -> Void)?

    public init(
        store: any DecnetStore, authority: SwarmAuthority, settings: SwarmSettings,
        publish: (@Sendable (String, JSONValue, String) -> Void)? = nil
    ) throws {
        self.store = store
        self.authority = authority
        self.settings = settings
        self.publish = publish
        self.pins = SwarmPinTable()
        pins.load(try store.swarmHosts(), now: wallClockSeconds())
    }

    func audit(_ r: LogRecord) {
        do { try store.writeAudit(r) } catch { logger.error("swarm: cannot record audit event \(r.eventType): \(Stores.describe(error))") }
    }

    /// The caller's identity, checked against the pin table again (a connection may outlive an eviction).
    func worker(_ context: SwarmContext) async -> SwarmPeer? {
        guard let p = await context.peer(), p.identity.role == .worker, p.identity.fleet == authority.fleet,
            pins.host(for: p.fingerprint) == p.identity.id
        else { return nil }
        return p
    }

    public func router() -> Router<SwarmContext> {
        let router = Router(context: SwarmContext.self)
        router.get("/health") { _, _ in jsonResponse(.ok, .object([("status", .string("ok")), ("role", .string("swarm-controller"))])) }
        let rootPEM = SwarmPKI.pem(authority.root)
        router.get("/swarm/ca") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-pem-file"], body: .init(byteBuffer: ByteBuffer(string: rootPEM)))
        }
        router.post("/swarm/join") { [self] request, context in await join(request, context) }
        router.post("/swarm/heartbeat") { [self] request, context in await heartbeat(request, context) }
        router.post("/swarm/events") { [self] request, context in await events(request, context) }
        router.post("/swarm/renew") { [self] request, context in await renew(request, context) }
        return router
    }

    public static func namePattern(_ n: String) -> Bool {
        let u = Array(n.utf8)
        guard (1...63).contains(u.count) else { return false }
        func ok(_ c: UInt8, first: Bool) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (!first && (c == 0x2d || c == 0x2e || c == 0x5f))
        }
        return ok(u[0], first: true) && u.dropFirst().allSatisfy { ok($0, first: false) }
    }

    // POST /swarm/join {token_id, secret, csr, name, agent_port?}: no client certificate. The worker has already
    // checked this server's root against its token's CA hash in the handshake.
    func join(_ request: Request, _ context: SwarmContext) async -> Response {
        let ip = context.remoteIP
        func refuse(_ s: HTTPResponse.Status, _ reason: String, _ extra: [(String, JSONValue)] = []) -> Response {
            audit(swarmAudit("swarm.join.refused", peer: ip, [("reason", .string(reason))] + extra))
            return detail(s, reason)
        }
        guard let body = await readJSONBody(request, limit: 16 << 10) else {
            return refuse(.badRequest, "body must be a JSON object of at most 16 KiB")
        }
        guard let tokenID = body["token_id"]?.stringValue, tokenID.utf8.count == 16, tokenID.utf8.allSatisfy(SwarmJoinToken.isHex) else {
            return refuse(.badRequest, "token_id must be 16 hex digits")
        }
        guard let secret = body["secret"]?.stringValue, secret.utf8.count == 43, Base64URL.decode(secret)?.count == 32 else {
            return refuse(.badRequest, "secret must be 32 bytes of base64url")
        }
        guard let name = body["name"]?.stringValue, Self.namePattern(name) else {
            return refuse(.badRequest, "name must match [a-z0-9][a-z0-9._-]{0,62}")
        }
        let agentPort = body["agent_port"]?.doubleValue.map { Int($0) } ?? 8765
        guard (1...65535).contains(agentPort) else { return refuse(.badRequest, "agent_port must be 1..65535") }
        let csr: CertificateSigningRequest
        do { (csr, _) = try SwarmPKI.parseCSR(derBase64: body["csr"]?.stringValue ?? "") } catch {
            return refuse(.badRequest, "\(error)")
        }
        let uuid = UUID().uuidString.lowercased()
        let cert: Certificate
        do { cert = try authority.issueWorker(hostUUID: uuid, csr: csr, name: name, address: ip.isEmpty ? nil : ip) } catch {
            return refuse(.badRequest, "cannot issue a certificate for this request")
        }
        let now = wallClockSeconds()
        let host = SwarmHostRecord(
            uuid: uuid, name: name, address: ip, agentPort: agentPort, fingerprint: SwarmPKI.fingerprint(cert), enrolledAt: now)
        let secretHash = SwarmJoinToken.hash(secret: secret)
        do {
            try store.enrollSwarmHost(tokenID: tokenID, now: now, proofOK: { SwarmJoinToken.sameDigest($0.secretHash, secretHash) }, host: host)
        } catch {
            switch error {
            case .unknownToken, .badProof: return refuse(.unauthorized, "unknown token or wrong secret", [("token_id", .string(tokenID))])
            case .tokenUsed: return refuse(.unauthorized, "token already used", [("token_id", .string(tokenID))])
            case .tokenExpired: return refuse(.unauthorized, "token expired", [("token_id", .string(tokenID))])
            case .nameTaken: return refuse(.conflict, "a host named \(name) is enrolled")
            case .nameBanned: return refuse(.forbidden, "the host named \(name) is banned")
            }
        }
        pins.load((try? store.swarmHosts()) ?? [], now: now)
        audit(
            swarmAudit(
                "swarm.host.enrolled", peer: ip, [("host_uuid", .string(uuid)), ("name", .string(name)), ("fingerprint", .string(host.fingerprint))],
                severity: 5))
        logger.info("swarm: \(name) (\(uuid)) joined from \(ip)")
        return jsonResponse(
            .created,
            .object([
                ("host_uuid", .string(uuid)), ("name", .string(name)), ("fleet", .string(authority.fleet)),
                ("certificate", .string(SwarmPKI.pem(cert))), ("ca", .string(SwarmPKI.pem(authority.root))),
                ("master_pin", .string(authority.masterPin)), ("master_url", .string(settings.advertisedURL)),
                ("heartbeat_interval", .number(settings.heartbeatInterval)), ("agent_port", .number(Double(agentPort))),
            ]))
    }

    // POST /swarm/heartbeat {seq, boot_id, version, deckies?: [{name, ip, services, state}]}
    func heartbeat(_ request: Request, _ context: SwarmContext) async -> Response {
        guard let p = await worker(context) else { return detail(.forbidden, "a pinned worker certificate is required") }
        let id = p.identity.id, ip = context.remoteIP
        func refuse(_ s: HTTPResponse.Status, _ reason: String) -> Response {
            audit(swarmAudit("swarm.heartbeat.refused", peer: ip, [("host_uuid", .string(id)), ("reason", .string(reason))]))
            return detail(s, reason)
        }
        guard let body = await readJSONBody(request, limit: 1 << 20) else {
            return refuse(.badRequest, "body must be a JSON object of at most 1 MiB")
        }
        guard let seqD = body["seq"]?.doubleValue, seqD >= 1, seqD < 9e15, seqD == seqD.rounded() else {
            return refuse(.badRequest, "seq must be a positive integer")
        }
        guard let boot = body["boot_id"]?.stringValue, (1...64).contains(boot.utf8.count) else {
            return refuse(.badRequest, "boot_id must be 1..64 characters")
        }
        let version = String((body["version"]?.stringValue ?? "unknown").prefix(64))
        let outcome: SwarmHeartbeatOutcome
        let newest = body["outbox_newest"]?.doubleValue.flatMap { $0 >= 0 && $0 < 9e15 ? Int64($0) : nil } ?? 0
        do {
            outcome = try store.swarmHeartbeat(
                uuid: id, seq: Int64(seqD), bootID: boot, version: version, outboxNewest: newest, now: wallClockSeconds())
        } catch {
            return detail(.serviceUnavailable, "store unavailable")
        }
        switch outcome {
        case .accepted: break
        case .unknownHost: return refuse(.notFound, "unknown host")
        case .regressingSequence(let last): return refuse(.conflict, "sequence \(Int64(seqD)) does not follow \(last)")
        case .cloned(let previous):
            audit(
                swarmAudit(
                    "swarm.identity.cloned", peer: ip,
                    [("host_uuid", .string(id)), ("boot_id", .string(boot)), ("previous_boot", .string(previous))], severity: 2))
            return detail(.conflict, "this certificate is in use by another machine")
        }
        if case .array(let deckies)? = body["deckies"] {
            let now = wallClockSeconds()
            for d in deckies.prefix(1024) {
                guard let name = d["name"]?.stringValue, (1...64).contains(name.utf8.count) else { continue }
                let services = d["services"].map { $0.serialized } ?? "[]"
                try? store.upsertShard(
                    SwarmShardRecord(
                        deckyName: name, hostUUID: id, ip: d["ip"]?.stringValue ?? "", services: services,
                        state: d["state"]?.stringValue ?? "running", updatedAt: now))
            }
        }
        return Response(status: .noContent)
    }

    // POST /swarm/events {events: [{seq, ts, decky, service, event_type, attacker_ip, severity, raw, fields, msg}]}
    // -> {committed}: rows at or below the committed sequence are skipped, so a resent batch adds nothing.
    func events(_ request: Request, _ context: SwarmContext) async -> Response {
        guard let p = await worker(context) else { return detail(.forbidden, "a pinned worker certificate is required") }
        let id = p.identity.id
        // Batches arrive gzip-compressed (Content-Encoding: gzip, at most 8 MiB, inflating to at most 64 MiB) or plain.
        var body: JSONValue? = nil
        if request.headers[.contentEncoding]?.lowercased() == "gzip" {
            if let buf = try? await request.body.collect(upTo: 8 << 20), let raw = try? SwarmGzip.inflate(buf.readableBytesView, limit: 64 << 20),
                let v = try? JSONValue.parse(raw), v.isObject
            {
                body = v
            }
        } else {
            body = await readJSONBody(request, limit: 32 << 20)
        }
        guard let body, case .array(let list)? = body["events"], list.count <= 10_000 else {
            audit(swarmAudit("swarm.events.refused", peer: context.remoteIP, [("host_uuid", .string(id)), ("reason", .string("malformed batch"))]))
            return detail(.badRequest, "body must be {\"events\": [...]} with at most 10000 events")
        }
        var rows: [(seq: Int64, record: LogRecord)] = []
        rows.reserveCapacity(list.count)
        var last: Int64 = 0
        for e in list {
            guard let s = e["seq"]?.doubleValue, s >= 1, s < 9e15, s == s.rounded(), Int64(s) > last,
                let ts = e["ts"]?.doubleValue, ts.isFinite
            else {
                audit(
                    swarmAudit(
                        "swarm.events.refused", peer: context.remoteIP, [("host_uuid", .string(id)), ("reason", .string("bad or unordered seq/ts"))]))
                return detail(.badRequest, "every event needs an increasing integer seq and a numeric ts")
            }
            last = Int64(s)
            func str(_ k: String, _ cap: Int) -> String { String((e[k]?.stringValue ?? "").prefix(cap)) }
            let fields = e["fields"].map { $0.isObject ? $0.serialized : "{}" } ?? "{}"
            rows.append(
                (
                    last,
                    LogRecord(
                        timestamp: ts, decky: str("decky", 128), service: str("service", 64), eventType: str("event_type", 128),
                        attackerIP: str("attacker_ip", 64), severity: Int(e["severity"]?.doubleValue ?? 6),
                        rawLine: str("raw", 65536), fields: fields, msg: e["msg"]?.stringValue.map { String($0.prefix(4096)) })
                ))
        }
        do {
            let committed = try store.ingestSwarmEvents(host: id, events: rows)
            return jsonResponse(.ok, .object([("committed", .number(Double(committed)))]))
        } catch {
            logger.error("swarm: cannot commit events from \(id): \(Stores.describe(error))")
            return detail(.serviceUnavailable, "store unavailable")
        }
    }

    // POST /swarm/renew {csr}: a worker with a valid pinned certificate asks for a new one over a new key. The
    // old pin stays accepted for the grace window so in-flight connections finish.
    func renew(_ request: Request, _ context: SwarmContext) async -> Response {
        guard let p = await worker(context) else { return detail(.forbidden, "a pinned worker certificate is required") }
        guard let body = await readJSONBody(request, limit: 16 << 10) else { return detail(.badRequest, "body must be a JSON object") }
        let csr: CertificateSigningRequest
        do { (csr, _) = try SwarmPKI.parseCSR(derBase64: body["csr"]?.stringValue ?? "") } catch {
            audit(
                swarmAudit("swarm.renew.refused", peer: context.remoteIP, [("host_uuid", .string(p.identity.id)), ("reason", .string("\(error)"))]))
            return detail(.badRequest, "\(error)")
        }
        guard let host = try? store.swarmHost(uuid: p.identity.id) else { return detail(.notFound, "unknown host") }
        do {
            let cert = try authority.issueWorker(hostUUID: host.uuid, csr: csr, name: host.name, address: host.address.isEmpty ? nil : host.address)
            let fp = SwarmPKI.fingerprint(cert)
            try store.renewSwarmHost(uuid: host.uuid, fingerprint: fp, graceUntil: wallClockSeconds() + settings.renewalGrace)
            pins.load(try store.swarmHosts(), now: wallClockSeconds())
            audit(
                swarmAudit(
                    "swarm.host.renewed", peer: context.remoteIP, [("host_uuid", .string(host.uuid)), ("fingerprint", .string(fp))], severity: 6))
            return jsonResponse(.ok, .object([("certificate", .string(SwarmPKI.pem(cert)))]))
        } catch {
            return detail(.serviceUnavailable, "cannot renew now")
        }
    }

    /// The listener: HTTPS with the master identity, optional client certificates checked by the pin callback.
    public func service(host: String, port: Int, onBound: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some Service {
        let tls = try SwarmTLS.serverConfiguration(
            certificatePEM: SwarmPKI.pem(authority.master), rootPEM: SwarmPKI.pem(authority.root),
            keyPEM: SwarmPKI.keyPEM(authority.masterKey), requireClientCertificate: false)
        let http: HTTPServerBuilder = .http1(configuration: .init(idleTimeout: .seconds(60)))
        let app = Application(
            router: router(),
            server: try .tls(
                http,
                configuration: TLSChannelConfiguration(
                    tlsConfiguration: tls, customVerificationCallback: SwarmTLS.masterCallback(authority: authority, pins: pins, logger: logger))),
            configuration: .init(address: .hostname(host, port: port), serverName: "decnet-swarmctl", backlog: 1024),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) },
            logger: Logger.decnet("swarmctl.http"))
        return SwarmControllerService(app: app, controller: self)
    }

    /// Refreshes the pin table from the store (a CLI's evict in another process counts within 250 ms) and ages
    /// hosts whose heartbeats stopped.
    func maintain() async {
        var tick = 0
        var hostStates: [String: String] = [:], shardStates: [String: (String, String)] = [:]
        var first = true
        while !Task.isCancelled {
            let now = wallClockSeconds()
            if let hosts = try? store.swarmHosts() {
                pins.load(hosts, now: now)
                // Bus: every host status change, whoever made it (this listener, a CLI, the API), within 250 ms.
                for h in hosts where hostStates[h.uuid] != h.status {
                    if !first, let publish, let topic = try? Topic.swarmHostState(h.uuid) {
                        publish(
                            topic,
                            .object([
                                ("host_uuid", .string(h.uuid)), ("name", .string(h.name)), ("status", .string(h.status)),
                                ("previous_status", hostStates[h.uuid].map { .string($0) } ?? .null),
                            ]), "state")
                    }
                    hostStates[h.uuid] = h.status
                }
            }
            if tick % 4 == 0, let shards = try? store.shards() {
                var seen = Set<String>()
                for sh in shards {
                    let key = sh.hostUUID + ":" + sh.deckyName
                    seen.insert(key)
                    let before = shardStates[key]
                    if before?.0 != sh.state {
                        if !first, let publish, let topic = try? Topic.deckyState(key) {
                            publish(
                                topic,
                                .object([
                                    ("host_uuid", .string(sh.hostUUID)), ("name", .string(sh.deckyName)), ("state", .string(sh.state)),
                                    ("transition", .string(before == nil ? "inserted" : "state_changed")), ("source", .string("swarm")),
                                    ("previous_state", before.map { .string($0.0) } ?? .null),
                                ]), "state")
                        }
                        shardStates[key] = (sh.state, sh.hostUUID)
                    }
                }
                for key in shardStates.keys where !seen.contains(key) {
                    if let publish, let topic = try? Topic.deckyState(key), let (state, host) = shardStates[key] {
                        publish(
                            topic,
                            .object([
                                ("host_uuid", .string(host)), ("name", .string(String(key.split(separator: ":").last ?? ""))),
                                ("state", .string("torn_down")), ("transition", .string("deleted")), ("source", .string("swarm")),
                                ("previous_state", .string(state)),
                            ]), "state")
                    }
                    shardStates[key] = nil
                }
                first = false
            }
            if tick % 20 == 0, let changed = try? store.ageSwarmHosts(now: now, stale: settings.staleAfter, unreachable: settings.unreachableAfter) {
                for (uuid, status) in changed {
                    logger.notice("swarm: host \(uuid) is \(status)")
                    audit(swarmAudit("swarm.host.\(status)", peer: "", [("host_uuid", .string(uuid))], severity: 5))
                }
            }
            if tick % 40 == 39 { await SwarmOperations(store: store, authority: authority).retryPending() }
            tick += 1
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}

struct SwarmControllerService: Service {
    let app: Application<RouterResponder<SwarmContext>>
    let controller: SwarmController

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await cancelWhenGracefulShutdown { await controller.maintain() } }
            try await app.run()
            group.cancelAll()
        }
    }
}
