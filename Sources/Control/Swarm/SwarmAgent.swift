// SwarmAgent.swift: the worker's side. `decnet join` makes the worker's key here, proves the token's secret to
// a master whose root matched the token's CA hash in the handshake, and installs what it gets back (0600 files
// in a 0700 directory). `decnet agent` then serves the agent API (HTTPS, only the master's pinned certificate
// may call it), sends heartbeats, ships the local event outbox with acknowledgements, and renews its
// certificate at two thirds of its life with a new key.
import Appliance
import Crypto
import Fingerprint
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle
import X509

/// The files `decnet join` installs under the agent directory (default /etc/decnet/agent).
public struct SwarmAgentFiles: Sendable {
    public let directory: String
    public var keyPath: String { directory + "/worker.key" }
    public var certificatePath: String { directory + "/worker.crt" }
    public var rootPath: String { directory + "/ca.crt" }
    public var settingsPath: String { directory + "/agent.json" }
    public var noncesPath: String { directory + "/nonces" }

    public init(directory: String) { self.directory = directory }

    public struct Settings: Sendable, Equatable {
        public var hostUUID: String
        public var name: String
        public var fleet: String
        public var masterURL: String
        public var masterPins: [String]
        public var heartbeatInterval: Double
        public var agentPort: Int

        public var json: JSONValue {
            .object([
                ("host_uuid", .string(hostUUID)), ("name", .string(name)), ("fleet", .string(fleet)), ("master_url", .string(masterURL)),
                ("master_pins", .array(masterPins.map { .string($0) })), ("heartbeat_interval", .number(heartbeatInterval)),
                ("agent_port", .number(Double(agentPort))),
            ])
        }

        public init?(json j: JSONValue) {
            guard let u = j["host_uuid"]?.stringValue, let n = j["name"]?.stringValue, let f = j["fleet"]?.stringValue,
                let m = j["master_url"]?.stringValue, case .array(let pins)? = j["master_pins"]
            else { return nil }
            hostUUID = u
            name = n
            fleet = f
            masterURL = m
            masterPins = pins.compactMap(\.stringValue)
            heartbeatInterval = j["heartbeat_interval"]?.doubleValue ?? 30
            agentPort = Int(j["agent_port"]?.doubleValue ?? 8765)
        }

        public init(hostUUID: String, name: String, fleet: String, masterURL: String, masterPins: [String], heartbeatInterval: Double, agentPort: Int)
        {
            self.hostUUID = hostUUID
            self.name = name
            self.fleet = fleet
            self.masterURL = masterURL
            self.masterPins = masterPins
            self.heartbeatInterval = heartbeatInterval
            self.agentPort = agentPort
        }
    }

    public func loadSettings() throws -> Settings {
        guard let b = readFile(settingsPath, limit: 64 << 10), let j = try? JSONValue.parse(b), let s = Settings(json: j) else {
            throw SwarmPKI.Failure("\(settingsPath): missing or unreadable (run `decnet join` first)")
        }
        return s
    }

    /// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves half a key.
    static func install(_ path: String, _ text: String, mode: mode_t) throws {
        let tmp = path + ".tmp"
        guard writeWholeFile(tmp, Array(text.utf8), mode: mode), rename(tmp, path) == 0 else {
            unlink(tmp)
            throw SwarmPKI.Failure("cannot write \(path)")
        }
        chmod(path, mode)
    }
}

public enum SwarmJoin {
    /// `decnet join URL TOKEN`: returns the installed settings. Nothing secret is sent unless the server's root
    /// hashes to the token's CA hash (checked in the TLS handshake); the key is made here and never sent.
    public static func join(
        url: String, token: SwarmJoinToken, name: String, agentPort: Int, files: SwarmAgentFiles
    ) async throws
        -> SwarmAgentFiles.Settings
    {
        guard let (host, port) = SwarmHTTPSClient.split(url: url, defaultPort: 8770) else {
            throw SwarmPKI.Failure("the master URL must be https://HOST[:PORT], got \(url)")
        }
        let seen = NIOLockedValueBox<Certificate?>(nil)
        let client = try SwarmHTTPSClient(
            host: host, port: port, tls: try SwarmTLS.clientConfiguration(certificatePEM: nil, keyPEM: nil),
            verify: SwarmTLS.joinCallback(caHash: token.caHash, sawRoot: seen))
        // First a request without secrets: the handshake alone decides whether this is our master.
        let health: SwarmHTTPResponse
        do { health = try await client.get("/health") } catch {
            throw SwarmPKI.Failure("the master at \(url) did not prove the CA named in the token (nothing secret was sent): \(error)")
        }
        guard health.status == 200, let root = seen.withLockedValue({ $0 }) else {
            throw SwarmPKI.Failure("the master at \(url) did not answer /health (status \(health.status))")
        }
        _ = makeDirectories(files.directory)
        chmod(files.directory, 0o700)
        let key = P256.Signing.PrivateKey()
        let csr = try SwarmPKI.makeCSR(key: key, name: name)
        let body = JSONValue.object([
            ("token_id", .string(token.id)), ("secret", .string(token.secret)), ("name", .string(name)),
            ("agent_port", .number(Double(agentPort))), ("csr", .string(Base64.encode(SwarmPKI.csrDER(csr)))),
        ])
        let r = try await client.post("/swarm/join", json: body)
        guard r.status == 201, let j = r.json, let certPEM = j["certificate"]?.stringValue, let uuid = j["host_uuid"]?.stringValue,
            let pin = j["master_pin"]?.stringValue, let fleet = j["fleet"]?.stringValue
        else {
            throw SwarmPKI.Failure("join refused (\(r.status)): \(r.detail)")
        }
        let cert = try SwarmPKI.parseCertificate(pem: certPEM)
        guard SwarmPKI.isIssued(cert, by: root), SwarmIdentity.of(cert) == SwarmIdentity(fleet: fleet, role: .worker, id: uuid),
            P256.Signing.PublicKey(cert.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation
        else {
            throw SwarmPKI.Failure("the master returned a certificate that is not ours")
        }
        let advertised = j["master_url"]?.stringValue ?? ""
        let settings = SwarmAgentFiles.Settings(
            hostUUID: uuid, name: name, fleet: fleet, masterURL: advertised.isEmpty ? url : advertised, masterPins: [pin],
            heartbeatInterval: j["heartbeat_interval"]?.doubleValue ?? 30, agentPort: agentPort)
        try SwarmAgentFiles.install(files.keyPath, SwarmPKI.keyPEM(key), mode: 0o600)
        try SwarmAgentFiles.install(files.certificatePath, certPEM, mode: 0o600)
        try SwarmAgentFiles.install(files.rootPath, SwarmPKI.pem(root), mode: 0o600)
        try SwarmAgentFiles.install(files.settingsPath, settings.json.serialized + "\n", mode: 0o600)
        return settings
    }
}

/// The worker's identity as it is now (renewal swaps it while the agent runs).
public final class SwarmWorkerIdentity: Sendable {
    struct Current: Sendable {
        var certificatePEM: String
        var keyPEM: String
        var certificate: Certificate
    }
    private let box: NIOLockedValueBox<Current>
    public let root: Certificate
    public let files: SwarmAgentFiles

    public init(files: SwarmAgentFiles) throws {
        self.files = files
        root = try SwarmPKI.loadCertificate(files.rootPath)
        let cert = try SwarmPKI.loadCertificate(files.certificatePath)
        _ = try SwarmPKI.loadKey(files.keyPath)
        guard let keyText = readFile(files.keyPath, limit: 64 << 10) else { throw SwarmPKI.Failure("cannot read \(files.keyPath)") }
        box = NIOLockedValueBox(Current(certificatePEM: SwarmPKI.pem(cert), keyPEM: String(decoding: keyText, as: UTF8.self), certificate: cert))
    }

    var current: Current { box.withLockedValue { $0 } }
    public var certificate: Certificate { current.certificate }

    /// Installs a renewed pair on disk (temp + rename) and in memory.
    func replace(certificatePEM: String, key: P256.Signing.PrivateKey) throws {
        let cert = try SwarmPKI.parseCertificate(pem: certificatePEM)
        try SwarmAgentFiles.install(files.keyPath, SwarmPKI.keyPEM(key), mode: 0o600)
        try SwarmAgentFiles.install(files.certificatePath, certificatePEM, mode: 0o600)
        box.withLockedValue { $0 = Current(certificatePEM: certificatePEM, keyPEM: SwarmPKI.keyPEM(key), certificate: cert) }
    }
}

/// What the agent does to this host, supplied by the command layer (deckies live in Appliance and the CLI).
public struct SwarmAgentActions: Sendable {
    /// Deploys the fleet INI text; returns the decky names.
    public var deploy: @Sendable (String) async throws -> [String]
    /// Removes every decky (nil) or one.
    public var teardown: @Sendable (String?) async throws -> Void
    /// Rotates one decky's services now (operator trigger); returns (old, new) services.
    public var mutate: @Sendable (String) async throws -> ([String], [String])
    /// The deckies to report in heartbeats: name, ip, services, state.
    public var deckies: @Sendable () -> [JSONValue]
    /// Self-destruct: remove deckies, keys, units and state (logs stay), then stop the process.
    public var selfDestruct: @Sendable () async -> Void

    public init(
        deploy: @escaping @Sendable (String) async throws -> [String], teardown: @escaping @Sendable (String?) async throws -> Void,
        mutate: @escaping @Sendable (String) async throws -> ([String], [String]),
        deckies: @escaping @Sendable () -> [JSONValue], selfDestruct: @escaping @Sendable () async -> Void
    ) {
        self.deploy = deploy
        self.teardown = teardown
        self.mutate = mutate
        self.deckies = deckies
        self.selfDestruct = selfDestruct
    }
}

public struct SwarmAgentOptions: Sendable {
    /// Events per shipped batch, and the outbox cap past which the oldest unshipped events are dropped (counted).
    public var batch = 2000
    public var outboxCap: Int64 = 2_000_000
    /// Overrides the certificate clock (tests move it past two thirds of the lifetime).
    public var clockOffset: Double = 0
    public init() {}
}

public final class SwarmAgent: Sendable {
    public let identity: SwarmWorkerIdentity
    public let settings: SwarmAgentFiles.Settings
    let store: any DecnetStore
    let actions: SwarmAgentActions
    let options: SwarmAgentOptions
    let logger = Logger.decnet("agent")
    let bootID: String
    let nonces: SignedCommandNonces
    let stopRequested = NIOLockedValueBox(false)
    let loggedRatio = NIOLockedValueBox(false)

    public init(files: SwarmAgentFiles, store: any DecnetStore, actions: SwarmAgentActions, options: SwarmAgentOptions = .init()) throws {
        identity = try SwarmWorkerIdentity(files: files)
        settings = try files.loadSettings()
        self.store = store
        self.actions = actions
        self.options = options
        let boot = readFile("/proc/sys/kernel/random/boot_id", limit: 64).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        bootID = boot ?? UUID().uuidString.lowercased()
        nonces = SignedCommandNonces(path: files.noncesPath)
    }

    var masterPins: Set<String> { Set(settings.masterPins) }

    /// A client to the master, presenting the current certificate, accepting only the pinned master.
    func masterClient(timeout: TimeAmount = .seconds(15)) throws -> SwarmHTTPSClient {
        guard let (host, port) = SwarmHTTPSClient.split(url: settings.masterURL, defaultPort: 8770) else {
            throw SwarmPKI.Failure("master_url \(settings.masterURL) is not https://HOST:PORT")
        }
        let c = identity.current
        let pins = masterPins
        return try SwarmHTTPSClient(
            host: host, port: port, tls: try SwarmTLS.clientConfiguration(certificatePEM: c.certificatePEM, keyPEM: c.keyPEM),
            verify: SwarmTLS.pinnedCallback(root: identity.root, pins: { pins }, role: .master), timeout: timeout)
    }

    // MARK: heartbeat

    func heartbeatLoop() async {
        var seq = Int64((try? store.state("swarm.heartbeat.seq")).flatMap { $0 }.flatMap { Int64($0) } ?? 0)
        var storedBoot = (try? store.state("swarm.heartbeat.boot")) ?? nil
        while !Task.isCancelled {
            if storedBoot != bootID {
                seq = 0
                storedBoot = bootID
                try? store.setState("swarm.heartbeat.boot", bootID)
            }
            seq += 1
            try? store.setState("swarm.heartbeat.seq", String(seq))
            let body = JSONValue.object([
                ("seq", .number(Double(seq))), ("boot_id", .string(bootID)), ("version", .string(decnetVersion)),
                ("deckies", .array(actions.deckies())), ("outbox_newest", .number(Double((try? store.newestLogID()) ?? 0))),
            ])
            do {
                let r = try await masterClient(timeout: .seconds(10)).post("/swarm/heartbeat", json: body)
                if r.status != 204 { logger.warning("agent: heartbeat refused (\(r.status)): \(r.detail)") }
            } catch {
                logger.warning("agent: heartbeat failed: \(error)")
            }
            let jitter = Double.random(in: 0...0.1) * settings.heartbeatInterval
            try? await Task.sleep(for: .seconds(settings.heartbeatInterval + jitter))
        }
    }

    // MARK: event shipping

    /// Ships the outbox (this store's `logs`, id = sequence) in acknowledged batches; the cursor only moves to
    /// the sequence the master says it committed. Backoff 1 s -> 30 s while the master is unreachable.
    func shipLoop() async {
        var backoff = 1.0
        while !Task.isCancelled {
            let acked = Int64((try? store.state("swarm.outbox.acked")).flatMap { $0 }.flatMap { Int64($0) } ?? 0)
            // The cap: past it the oldest unshipped events are given up, and counted.
            if let newest = try? store.newestLogID(), newest - acked > options.outboxCap {
                let skip = newest - options.outboxCap - acked
                let dropped = Int64((try? store.state("swarm.outbox.dropped")).flatMap { $0 }.flatMap { Int64($0) } ?? 0) + skip
                try? store.setState("swarm.outbox.dropped", String(dropped))
                try? store.setState("swarm.outbox.acked", String(acked + skip))
                logger.error("agent: outbox over its cap, \(skip) unshipped events dropped (\(dropped) in all)")
                continue
            }
            let rows: [LogRecord]
            do { rows = try store.outbox(after: acked, limit: options.batch) } catch {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if rows.isEmpty {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let events = JSONValue.array(
                rows.map { r in
                    .object([
                        ("seq", .number(Double(r.id ?? 0))), ("ts", .number(r.timestamp)), ("decky", .string(r.decky)),
                        ("service", .string(r.service)),
                        ("event_type", .string(r.eventType)), ("attacker_ip", .string(r.attackerIP)), ("severity", .number(Double(r.severity))),
                        ("raw", .string(r.rawLine)), ("fields", (try? JSONValue.parse(r.fields)) ?? .object([])),
                        ("msg", r.msg.map { .string($0) } ?? .null),
                    ])
                })
            do {
                let plain = Array(JSONValue.object([("events", events)]).serialized.utf8)
                let resp: SwarmHTTPResponse
                if let packed = SwarmGzip.compress(plain) {
                    resp = try await masterClient(timeout: .seconds(30)).send(
                        "POST", "/swarm/events", body: packed, headers: [("Content-Encoding", "gzip")])
                    if rows.count >= 1000, !loggedRatio.withLockedValue({ $0 }) {
                        loggedRatio.withLockedValue { $0 = true }
                        logger.info("agent: shipping batches gzip-compressed: \(rows.count) events, \(plain.count) -> \(packed.count) bytes")
                    }
                } else {
                    resp = try await masterClient(timeout: .seconds(30)).send("POST", "/swarm/events", body: plain)
                }
                guard resp.status == 200, let c = resp.json?["committed"]?.doubleValue else {
                    throw SwarmHTTPError("master answered \(resp.status): \(resp.detail)")
                }
                try store.setState("swarm.outbox.acked", String(Int64(c)))
                backoff = 1
            } catch {
                logger.warning("agent: shipping \(rows.count) events failed (retry in \(Int(backoff)) s): \(error)")
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    // MARK: renewal

    /// At two thirds of the certificate's life (plus jitter), a new key and a CSR over the current identity.
    func renewLoop() async {
        let jitter = Double.random(in: 0...1)
        while !Task.isCancelled {
            let cert = identity.certificate
            let due = SwarmPKI.renewalTime(notBefore: cert.notValidBefore, notAfter: cert.notValidAfter, jitter: jitter)
            let now = Date() + options.clockOffset
            if now >= due {
                do {
                    let key = P256.Signing.PrivateKey()
                    let csr = try SwarmPKI.makeCSR(key: key, name: settings.name)
                    let r = try await masterClient().post("/swarm/renew", json: .object([("csr", .string(Base64.encode(SwarmPKI.csrDER(csr))))]))
                    guard r.status == 200, let pem = r.json?["certificate"]?.stringValue else {
                        throw SwarmHTTPError("renew refused (\(r.status)): \(r.detail)")
                    }
                    let new = try SwarmPKI.parseCertificate(pem: pem)
                    guard SwarmPKI.isIssued(new, by: identity.root), SwarmIdentity.of(new)?.id == settings.hostUUID,
                        P256.Signing.PublicKey(new.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation
                    else {
                        throw SwarmHTTPError("the renewed certificate is not ours")
                    }
                    try identity.replace(certificatePEM: pem, key: key)
                    logger.notice("agent: certificate renewed, new fingerprint \(SwarmPKI.fingerprint(new))")
                } catch {
                    logger.warning("agent: renewal failed, retry in 60 s: \(error)")
                    try? await Task.sleep(for: .seconds(60))
                    continue
                }
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    // MARK: agent API

    func router(onStop: @escaping @Sendable () -> Void) -> Router<SwarmContext> {
        let router = Router(context: SwarmContext.self)
        let uuid = settings.hostUUID
        router.get("/health") { _, _ in jsonResponse(.ok, .object([("status", .string("ok")), ("host_uuid", .string(uuid))])) }
        router.get("/status") { [self] _, _ in
            let acked = (try? store.state("swarm.outbox.acked")).flatMap { $0 } ?? "0"
            let dropped = (try? store.state("swarm.outbox.dropped")).flatMap { $0 } ?? "0"
            return jsonResponse(
                .ok,
                .object([
                    ("host_uuid", .string(uuid)), ("version", .string(decnetVersion)), ("deckies", .array(actions.deckies())),
                    (
                        "outbox",
                        .object([
                            ("acked", .number(Double(acked) ?? 0)), ("newest", .number(Double((try? store.newestLogID()) ?? 0))),
                            ("dropped", .number(Double(dropped) ?? 0)),
                        ])
                    ),
                ]))
        }
        router.post("/deploy") { [self] request, _ in
            guard let body = await readJSONBody(request, limit: 1 << 20), let ini = body["ini"]?.stringValue else {
                return detail(.badRequest, "body must be {\"ini\": \"...\"}")
            }
            do {
                let names = try await actions.deploy(ini)
                return jsonResponse(.accepted, .object([("status", .string("accepted")), ("deckies", .array(names.map { .string($0) }))]))
            } catch { return detail(.unprocessableContent, "\(error)") }
        }
        router.post("/teardown") { [self] request, _ in
            let body = await readJSONBody(request, limit: 16 << 10)
            do {
                try await actions.teardown(body?["decky_id"]?.stringValue)
                return jsonResponse(.ok, .object([("status", .string("torn_down"))]))
            } catch { return detail(.internalServerError, "\(error)") }
        }
        router.post("/mutate") { [self] request, _ in
            guard let body = await readJSONBody(request, limit: 16 << 10), let id = body["decky_id"]?.stringValue, (1...64).contains(id.utf8.count)
            else {
                return detail(.badRequest, "body must be {\"decky_id\": \"NAME\"}")
            }
            do {
                let (old, new) = try await actions.mutate(id)
                return jsonResponse(
                    .ok,
                    .object([
                        ("decky_id", .string(id)), ("old_services", .array(old.map { .string($0) })),
                        ("new_services", .array(new.map { .string($0) })),
                    ]))
            } catch { return detail(.notFound, "\(error)") }
        }
        router.post("/self-destruct") { [self] request, context in
            guard let body = await readJSONBody(request, limit: 16 << 10) else { return detail(.badRequest, "body must be a signed command") }
            do {
                try SignedCommand.verify(
                    body, command: "self-destruct", hostUUID: uuid, masterPins: masterPins, root: identity.root,
                    nonces: nonces, now: wallClockSeconds())
            } catch {
                // An audit event in this worker's store: it ships to the master like every other event.
                logger.warning("agent: self-destruct refused from \(context.remoteIP): \(error)")
                try? store.writeAudit(
                    swarmAudit(
                        "swarm.command.refused", peer: context.remoteIP,
                        [("host_uuid", .string(uuid)), ("command", .string("self-destruct")), ("reason", .string("\(error)"))]))
                return detail(.forbidden, "\(error)")
            }
            logger.notice("agent: signed self-destruct accepted")
            Task {
                try? await Task.sleep(for: .milliseconds(300))
                await actions.selfDestruct()
                onStop()
            }
            return jsonResponse(.accepted, .object([("status", .string("self_destruct_scheduled"))]))
        }
        return router
    }

    /// The agent as one service: the HTTPS listener (client certificate required: the pinned master only),
    /// heartbeats, shipping, renewal. `onStop` ends the process's service group (after a self-destruct).
    public func service(
        host: String, port: Int, onStop: @escaping @Sendable () -> Void, onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws
        -> some Service
    {
        let c = identity.current
        let tls = try SwarmTLS.serverConfiguration(
            certificatePEM: c.certificatePEM, rootPEM: SwarmPKI.pem(identity.root), keyPEM: c.keyPEM,
            requireClientCertificate: true)
        let pins = masterPins
        let app = Application(
            router: router(onStop: onStop),
            server: try .tls(
                .http1(configuration: .init(idleTimeout: .seconds(60))),
                configuration: TLSChannelConfiguration(
                    tlsConfiguration: tls, customVerificationCallback: SwarmTLS.pinnedCallback(root: identity.root, pins: { pins }, role: .master))),
            configuration: .init(address: .hostname(host, port: port), serverName: "decnet-agent", backlog: 256),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) },
            logger: Logger.decnet("agent.http"))
        return SwarmAgentService(app: app, agent: self)
    }
}

struct SwarmAgentService: Service {
    let app: Application<RouterResponder<SwarmContext>>
    let agent: SwarmAgent

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await cancelWhenGracefulShutdown { await agent.heartbeatLoop() } }
            group.addTask { await cancelWhenGracefulShutdown { await agent.shipLoop() } }
            group.addTask { await cancelWhenGracefulShutdown { await agent.renewLoop() } }
            try await app.run()
            group.cancelAll()
        }
    }
}

public let decnetVersion = "0.18.0"
