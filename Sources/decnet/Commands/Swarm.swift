// Swarm.swift: `decnet swarmctl` (the master's swarm listener), `decnet swarm token|hosts|deploy|teardown|
// decommission|evict|ban` (operator commands against the master's store), `decnet join` and `decnet agent` (the
// worker). The work is in Control/Swarm; these only turn flags into calls.
import Appliance
import ArgumentParser
import Control
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

struct MasterOptions: ParsableArguments {
    @Option(name: .long, help: "Master store (default store.path).")
    var db: String?

    @Option(name: .long, help: "Fleet CA directory (default <state.directory>/swarm; 0700, keys 0600).")
    var caDir: String?

    var storePath: String { db ?? defaultDatabasePath() }

    func authority(_ cmd: String, names: [String] = []) throws -> SwarmAuthority {
        let dir = caDir ?? DecnetConfiguration.current.stateDirectory + "/swarm"
        do { return try SwarmAuthority.loadOrCreate(directory: dir, names: names) } catch {
            stderrLine("decnet \(cmd): \(error)")
            throw ExitCode(73)
        }
    }

    /// The operator commands' entry: the master's store and CA as SwarmOperations.
    func operations(_ cmd: String) throws -> SwarmOperations {
        let (store, authority) = try open(cmd)
        return SwarmOperations(store: store, authority: authority)
    }

    func open(_ cmd: String, names: [String] = []) throws -> (any DecnetStore, SwarmAuthority) {
        let authority = try self.authority(cmd, names: names)
        makeParentDirectory(storePath)
        return (try openStore(storePath), authority)
    }
}

func splitBind(_ bind: String, _ cmd: String) throws -> (String, Int) {
    guard let colon = bind.lastIndex(of: ":"), let port = CheckedInt.parse(bind[bind.index(after: colon)...], in: 0...65535) else {
        stderrLine("decnet \(cmd): --bind must be HOST:PORT, got \(bind.debugDescription)")
        throw ExitCode(64)
    }
    return (String(bind[..<colon]).trimmingCharacters(in: ["[", "]"]), port)
}

struct SwarmCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarmctl",
        abstract: "The master's swarm listener: joins, heartbeats, shipped events, renewals (HTTPS, client certificates pinned).",
        discussion: """
            Makes the fleet CA on first start (--ca-dir). Workers join with a token from `decnet swarm token create`
            and then present their certificate; a certificate whose fingerprint is not an admitted host's (evicted,
            banned, decommissioned, unknown) fails the TLS handshake.
            """)

    @OptionGroup var master: MasterOptions
    @Option(name: .long, help: "HOST:PORT to listen on.") var bind: String = "0.0.0.0:8770"
    @Option(name: .long, help: "The https://HOST:PORT workers use to reach this master (default from --bind).") var advertise: String?
    @Option(name: .long, help: "Heartbeat interval handed to workers, seconds.") var heartbeatInterval: Double = 30
    @Option(name: .long, help: "Seconds a renewed worker's previous certificate stays pinned.") var renewalGrace: Double = 3600
    @Option(name: .long, help: "Write the bound port to this file once listening (tests).") var portFile: String?

    func run() throws {
        let (host, port) = try splitBind(bind, "swarmctl")
        // Without --advertise, workers keep the URL they joined with (also when the port is chosen at bind).
        var advHost = host == "0.0.0.0" ? "127.0.0.1" : host
        if let advertise {
            guard let (h, _) = SwarmHTTPSClient.split(url: advertise, defaultPort: 8770) else {
                stderrLine("decnet swarmctl: --advertise must be https://HOST:PORT")
                throw ExitCode(64)
            }
            advHost = h
        }
        signal(SIGPIPE, SIG_IGN)
        // Keys and certificates are read while privileged (the CA directory is 0700); then, before any thread
        // exists, the listener drops every capability and takes the service user when there is one (it binds an
        // unprivileged port and keeps only the store, which is handed over). The SIEM's files are read first too.
        let authority = try master.authority("swarmctl", names: [advHost] + (host == "0.0.0.0" ? [] : [host]))
        let export: SyslogExportConfiguration?
        do { export = try SyslogExportConfiguration.from(DecnetConfiguration.current) } catch {
            stderrLine("decnet swarmctl: \(error)")
            throw ExitCode(78)
        }
        let exportContext = try export.map { try SyslogExporter.context(for: $0) }
        let dbPath = master.storePath
        makeParentDirectory(dbPath)
        confineOrExit(.api, shared: [dbPath, dbPath + "-wal", dbPath + "-shm"], "swarmctl")
        let store = try openStore(dbPath)
        var settings = SwarmSettings()
        settings.advertisedURL = advertise ?? ""
        settings.heartbeatInterval = heartbeatInterval
        settings.renewalGrace = renewalGrace
        settings.staleAfter = 2.5 * heartbeatInterval
        settings.unreachableAfter = 4 * heartbeatInterval
        // swarm.host.<id>.state and decky.<host:name>.state go on the bus when a broker runs on this box.
        let bus = connectedBusIfListening(clientName: "swarmctl")
        let controller = try SwarmController(store: store, authority: authority, settings: settings, publish: publishFunction(bus))
        let portFile = self.portFile
        let svc = try controller.service(host: host, port: port) { bound in
            if let portFile { _ = writeWholeFile(portFile, Array("\(bound)\n".utf8)) }
            stdoutLine("decnet swarmctl: listening on \(host):\(bound), fleet \(authority.fleet), CA hash \(authority.caHash)")
        }
        var services: [any Service] = []
        if let bus { services.append(BusClientService(bus: bus)) }
        services.append(svc)
        if let export, let exportContext {
            let exporter = SyslogExporter(config: export, store: store, context: exportContext)
            services.append(TaskService(name: "export.syslog") { await exporter.run() })
            stdoutLine("decnet swarmctl: exporting events as RFC 5425 syslog to \(export.host):\(export.port)")
        }
        let group = services
        try runBlocking { try await DaemonGroup.run(group, logger: Logger.decnet("swarmctl")) }
    }
}

struct SwarmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm",
        abstract: "Operate the fleet from the master: join tokens, hosts, deploy, teardown, evict, ban, decommission.",
        subcommands: [
            Token.self, Hosts.self, SwarmDeploy.self, SwarmTeardown.self, SwarmMutate.self, Check.self, Evict.self, Ban.self, Decommission.self,
            Shards.self,
        ])

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join tokens.", subcommands: [Create.self, List.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a single-use join token for one worker (only its hash is stored).")
            @OptionGroup var master: MasterOptions
            @Option(name: .long, help: "The worker's name.") var name: String
            @Option(name: .long, help: "Lifetime: 90s, 30m, 2h, 1d (at most 7 days).") var ttl: String = "30m"
            @Option(name: .long, help: "Also write an offline bundle here (token, master URL, root certificate; never a key), 0600.")
            var bundle: String?
            @Option(name: .long, help: "The master URL the bundle names (https://HOST:PORT).") var url: String?

            func run() throws {
                guard let seconds = parseDuration(ttl) else {
                    stderrLine("decnet swarm token create: --ttl must be like 90s, 30m, 2h or 1d (at most 7d)")
                    throw ExitCode(64)
                }
                if bundle != nil, url.flatMap({ SwarmHTTPSClient.split(url: $0, defaultPort: 8770) }) == nil {
                    stderrLine("decnet swarm token create: --bundle needs --url https://MASTER:PORT")
                    throw ExitCode(64)
                }
                let (store, authority) = try master.open("swarm token create")
                let token: SwarmJoinToken
                do { token = try SwarmOperations(store: store, authority: authority).createToken(name: name, ttl: seconds) } catch {
                    stderrLine("decnet swarm token create: \(error)")
                    throw ExitCode(64)
                }
                print(token)
                if let bundle, let url {
                    let b = SwarmJoinBundle(token: token, masterURL: url, root: authority.root)
                    guard writeWholeFile(bundle, Array((b.json.serialized + "\n").utf8), mode: 0o600) else {
                        stderrLine("decnet swarm token create: cannot write \(bundle)")
                        throw ExitCode(73)
                    }
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Tokens: id, name, expiry, use (never the secret).")
            @OptionGroup var master: MasterOptions
            func run() throws {
                let (store, _) = try master.open("swarm token list")
                let now = wallClockSeconds()
                for t in try store.swarmTokens() {
                    let state = t.usedAt != nil ? "used by \(t.hostUUID ?? "?")" : t.expiresAt < now ? "expired" : "valid \(Int(t.expiresAt - now)) s"
                    print("\(t.id)  \(t.name)  \(state)")
                }
            }
        }
    }

    struct Hosts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enrolled hosts: status, last heartbeat, shipped events.")
        @OptionGroup var master: MasterOptions
        @Flag(name: .long, help: "JSON lines.") var json = false
        func run() throws {
            let (store, _) = try master.open("swarm hosts")
            let now = wallClockSeconds()
            for h in try store.swarmHosts() {
                if json {
                    print(SwarmViews.host(h, now: now).serialized)
                } else {
                    let hb = h.lastHeartbeat.map { "\(Int(now - $0)) s ago" } ?? "never"
                    print(
                        "\(h.name)  \(h.uuid)  \(h.address):\(h.agentPort)  \(h.status)  heartbeat \(hb)  events \(h.ingested) (seq \(h.committedSeq))"
                    )
                }
            }
        }
    }

    struct Shards: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deckies", abstract: "Decky shards: which worker holds which decky, and its state.")
        @OptionGroup var master: MasterOptions
        func run() throws {
            let (store, _) = try master.open("swarm deckies")
            for s in try store.shards() { print("\(s.deckyName)  \(s.hostUUID)  \(s.ip)  \(s.state)\(s.lastError.map { "  \($0)" } ?? "")") }
        }
    }

    struct Evict: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a worker's certificate; it may join again with a new token.")
        @OptionGroup var master: MasterOptions
        @Argument(help: "Host name or uuid.") var host: String
        func run() throws { try revoke(master, host, "evicted", "swarm evict") }
    }

    struct Ban: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a worker's certificate and refuse its name for good.")
        @OptionGroup var master: MasterOptions
        @Argument(help: "Host name or uuid.") var host: String
        func run() throws { try revoke(master, host, "banned", "swarm ban") }
    }

    struct Decommission: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a worker, then send it a signed self-destruct (deckies, keys, units, state; logs stay), then drop its shards.")
        @OptionGroup var master: MasterOptions
        @Argument(help: "Host name or uuid.") var host: String
        func run() throws {
            let ops = try master.operations("swarm decommission"), host = self.host
            try runBlocking {
                do {
                    let r = try await ops.decommission(host, actor: "cli")
                    print(
                        "decommissioned \(r.host.name) (\(r.host.uuid)): revoked; self-destruct \(r.selfDestructed ? "accepted" : "pending (\(r.detail))"); \(r.shardsRemoved) shard(s) removed"
                    )
                } catch {
                    stderrLine("decnet swarm decommission: \(error)")
                    throw ExitCode(1)
                }
            }
        }
    }

    struct SwarmDeploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy",
            abstract: "Dispatch a fleet INI's deckies to the workers (round-robin, or `host = NAME` in a section).")
        @OptionGroup var master: MasterOptions
        @Option(name: [.short, .long], help: "INI deploy file.") var config: String
        func run() throws {
            guard let b = readFile(config, limit: 1 << 20) else {
                stderrLine("decnet swarm deploy: cannot read \(config)")
                throw ExitCode(64)
            }
            let ops = try master.operations("swarm deploy"), text = String(decoding: b, as: UTF8.self)
            try runBlocking {
                let results: [SwarmOperations.DispatchResult]
                do { results = try await ops.dispatch(ini: text) } catch {
                    stderrLine("decnet swarm deploy: \(error)")
                    throw ExitCode(64)
                }
                for r in results { print("\(r.host.name): \(r.ok ? "ok" : "FAILED") \(r.deckies.joined(separator: ",")) \(r.detail)") }
                if results.contains(where: { !$0.ok }) { throw ExitCode(1) }
            }
        }
    }

    struct SwarmMutate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mutate", abstract: "Rotate one swarm decky's services now (on its worker).")
        @OptionGroup var master: MasterOptions
        @Argument(help: "Decky name.") var decky: String
        func run() throws {
            let ops = try master.operations("swarm mutate"), decky = self.decky
            try runBlocking {
                do {
                    let (h, old, new) = try await ops.mutate(decky: decky)
                    print("\(decky)@\(h.name): \(old.joined(separator: ",")) -> \(new.joined(separator: ","))")
                } catch {
                    stderrLine("decnet swarm mutate: \(error)")
                    throw ExitCode(1)
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Probe every enrolled worker's agent over pinned mTLS.")
        @OptionGroup var master: MasterOptions
        func run() throws {
            let ops = try master.operations("swarm check")
            try runBlocking {
                let results = try await ops.check()
                for r in results { print("\(r.host.name): \(r.reachable ? "reachable" : "UNREACHABLE") \(r.detail)") }
                if results.contains(where: { !$0.reachable }) { throw ExitCode(1) }
            }
        }
    }

    struct SwarmTeardown: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "teardown", abstract: "Remove every decky on one worker.")
        @OptionGroup var master: MasterOptions
        @Argument(help: "Host name or uuid.") var host: String
        func run() throws {
            let ops = try master.operations("swarm teardown"), host = self.host
            try runBlocking {
                let (ok, why) = try await ops.teardown(host)
                print("\(host): \(why)")
                if !ok { throw ExitCode(1) }
            }
        }
    }
}

func revoke(_ master: MasterOptions, _ host: String, _ status: String, _ cmd: String) throws {
    let (store, authority) = try master.open(cmd)
    do {
        let h = try SwarmOperations(store: store, authority: authority).revoke(host, as: status, actor: "cli")
        print("\(status) \(h.name) (\(h.uuid)): its certificate \(h.fingerprint.prefix(16))... now fails the handshake")
    } catch let e as SwarmOperations.Failure {
        stderrLine("decnet \(cmd): \(e)")
        throw ExitCode(e.notFound ? 66 : 1)
    }
}

struct Join: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join this worker to a master: decnet join https://MASTER:8770 TOKEN.",
        discussion: """
            The master must prove the CA named in the token during the TLS handshake before anything secret is
            sent. The worker's key is made here (0600 under --agent-dir) and never leaves this machine. Then run
            `decnet agent`.
            """)
    @Argument(help: "The master's swarm URL, https://HOST:PORT.") var url: String?
    @Argument(help: "The join token (decnet swarm token create).") var token: String?
    @Option(name: .long, help: "An offline bundle (decnet swarm token create --bundle) instead of URL and TOKEN.") var bundle: String?
    @Option(name: .long, help: "This worker's name (default: the token's name is the master's; this machine's hostname).") var name: String?
    @Option(name: .long, help: "Where the key, certificate and settings go.") var agentDir: String = "/etc/decnet/agent"
    @Option(name: .long, help: "The port the agent will listen on.") var agentPort: Int = 8765

    func run() throws {
        let parsed: SwarmJoinToken, url: String
        do {
            if let bundle {
                guard let b = readFile(bundle, limit: 64 << 10), let j = try? JSONValue.parse(b) else {
                    throw SwarmPKI.Failure("cannot read the bundle \(bundle)")
                }
                let jb = try SwarmJoinBundle(json: j)
                (parsed, url) = (jb.token, self.url ?? jb.masterURL)
            } else {
                guard let u = self.url, let t = token else { throw SwarmPKI.Failure("give URL and TOKEN, or --bundle FILE") }
                (parsed, url) = (try SwarmJoinToken.parse(t), u)
            }
        } catch {
            stderrLine("decnet join: \(error)")
            throw ExitCode(64)
        }
        let host = name ?? ProcessInfo.processInfo.hostName.lowercased()
        guard SwarmController.namePattern(host) else {
            stderrLine("decnet join: --name must match [a-z0-9][a-z0-9._-]{0,62}")
            throw ExitCode(64)
        }
        let files = SwarmAgentFiles(directory: agentDir), port = agentPort
        try runBlocking {
            do {
                let s = try await SwarmJoin.join(url: url, token: parsed, name: host, agentPort: port, files: files)
                print(
                    "joined fleet \(s.fleet) as \(s.name) (\(s.hostUUID)); master pinned \(s.masterPins[0].prefix(16))...; run `decnet agent --agent-dir \(files.directory)`"
                )
            } catch {
                stderrLine("decnet join: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The worker's agent: its API for the master (mTLS, the pinned master only), heartbeats, event shipping, decoys.",
        discussion: """
            Events of this worker's decoys are written to its own store (--db) and shipped to the master in
            acknowledged batches; the store is the outbox, so nothing is lost while the master is unreachable.
            """)
    @Option(name: .long, help: "Where `decnet join` put the key, certificate and settings.") var agentDir: String = "/etc/decnet/agent"
    @Option(name: .long, help: "HOST:PORT for the agent API (default: all addresses, the port given at join).") var bind: String?
    @OptionGroup var fleetOptions: FleetOptions
    @Option(name: .long, help: "Write the bound port to this file once listening (tests).") var portFile: String?
    @Option(name: .long, help: "Seconds added to the clock for certificate renewal (tests).") var renewClockOffset: Double = 0
    @Option(name: .long, help: "Where this host's decnet-* units live (removed by a self-destruct).") var unitsDir: String = "/etc/systemd/system"

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        ProcessLimits.raiseDescriptorLimit()
        // Before any thread exists: what the decoys need (namespaces, links, low ports, raw sockets), no new
        // privileges, the decoys' system-call allow-list; every other capability is dropped.
        do { try Confinement.apply(.appliance) } catch {
            stderrLine("decnet agent: cannot drop privileges: \(error)")
            throw ExitCode(71)
        }
        let files = SwarmAgentFiles(directory: agentDir), unitsDir = self.unitsDir
        let settings: SwarmAgentFiles.Settings
        do { settings = try files.loadSettings() } catch {
            stderrLine("decnet agent: \(error)")
            throw ExitCode(78)
        }
        let (host, port) = try splitBind(bind ?? "0.0.0.0:\(settings.agentPort)", "agent")
        let dbPath = fleetOptions.db ?? defaultDatabasePath()
        makeParentDirectory(dbPath)
        let store = try openStore(dbPath)  // one store: the outbox, the fleet and the decoys' writer share it
        let fleet = DeckyFleet(store: store, lockPath: dbPath + ".fleet.lock")
        let prefix = fleetOptions.netnsPrefix ?? DecnetConfiguration.current.netnsPrefix ?? (try? fleet.prefix()) ?? nil ?? "decnet-"
        let conf = DecnetConfiguration.current

        // The decoys of deckies deployed here write to this store (the outbox) through the batch writer.
        let writer = StoreWriter(repository: store, configuration: .init(maxBatch: 5_000, maxDelay: 0.25, capacity: 20_000))
        makeParentDirectory(conf.decoyLogFile)
        var pipelineConfig = EventPipeline.Configuration()
        pipelineConfig.rfc5424Path = conf.decoyLogFile
        pipelineConfig.jsonlPath = conf.decoyLogFile + ".json"
        let pipeline: EventPipeline
        do { pipeline = try EventPipeline(configuration: pipelineConfig, store: writer, publisher: nil) } catch {
            stderrLine("decnet agent: \(error)")
            throw ExitCode(73)
        }
        var deckyConfig = DeckyService.Configuration()
        deckyConfig.prefix = prefix
        deckyConfig.poll = 1
        deckyConfig.artifactsDir = conf.artifactsDirectory
        let decoys = DeckyService(fleet: fleet, configuration: deckyConfig) { pipeline.submit($0) }

        let stop = GroupStopper()
        let actions = SwarmAgentActions(
            deploy: { ini in
                var req = DeployRequest()
                req.ini = (ini, "master")
                // Relocalised: the master's INI carries no interface; deckies go on this worker's default-route
                // interface and subnet (spec §5.5), or the one recorded by an earlier deploy here.
                if (try? fleet.network()) ?? nil == nil {
                    req.interface = HostFacts.probe().defaultGateway.keys.sorted().first
                }
                let problems = ProblemList()
                let outcome: DeckyRuntime.Outcome?
                do { (_, outcome) = try deployFleet(req, fleet: fleet, prefix: prefix, cmd: "agent", problems: problems.add) } catch {
                    throw SwarmHTTPError(problems.all.isEmpty ? "\(error)" : problems.all.joined(separator: "; "))
                }
                if let o = outcome, !o.failed.isEmpty { throw SwarmHTTPError(o.failed.map { "\($0.0): \($0.1)" }.joined(separator: "; ")) }
                return (try fleet.entries().entries.map(\.spec.name))
            },
            teardown: { id in _ = try teardownFleet(fleet: fleet, prefix: prefix, id: id) },
            mutate: { id in
                let mutator = Mutator(fleet: fleet, logPath: conf.ingestLogFile)
                let m = try mutator.mutate(id, trigger: .operator, actor: "master")
                mutator.emit(m)
                return (m.oldServices, m.newServices)
            },
            deckies: {
                ((try? fleet.entries().entries) ?? []).map { e in
                    .object([
                        ("name", .string(e.spec.name)), ("ip", .string(e.spec.ip.description)),
                        ("services", .array(e.spec.services.map { .string($0) })), ("state", .string(e.state)),
                    ])
                }
            },
            selfDestruct: {
                // Deckies, keys, units and state go; logs stay (spec §5.9, revoked before this was sent).
                _ = try? teardownFleet(fleet: fleet, prefix: prefix, id: nil)
                _ = runProgram(["rm", "-rf", "--one-file-system", files.directory])
                for unit in (try? FileManager.default.contentsOfDirectory(atPath: unitsDir)) ?? [] where unit.hasPrefix("decnet-") {
                    if unitsDir == "/etc/systemd/system" { _ = runProgram(["systemctl", "disable", unit]) }
                    unlink(unitsDir + "/" + unit)
                }
                for suffix in ["", "-wal", "-shm", ".fleet.lock"] { unlink(dbPath + suffix) }
                stderrLine("decnet agent: self-destructed (deckies, keys, units and state removed; logs kept)")
            })
        var options = SwarmAgentOptions()
        options.clockOffset = renewClockOffset
        let agent: SwarmAgent
        do { agent = try SwarmAgent(files: files, store: store, actions: actions, options: options) } catch {
            stderrLine("decnet agent: \(error)")
            throw ExitCode(78)
        }
        let portFile = self.portFile
        let api = try agent.service(host: host, port: port, onStop: { stop.fire() }) { bound in
            if let portFile { _ = writeWholeFile(portFile, Array("\(bound)\n".utf8)) }
            stdoutLine("decnet agent: \(settings.name) (\(settings.hostUUID)) listening on \(host):\(bound), master \(settings.masterURL)")
        }
        try runBlocking {
            try await DaemonGroup.run(logger: Logger.decnet("agent")) { shutdown in
                stop.set(shutdown)
                return [
                    ThreadService(name: "store", run: { writer.waitUntilClosed() }, stop: { writer.close() }),
                    ThreadService(
                        name: "decoys",
                        run: {
                            decoys.run(); pipeline.close()
                        }, stop: { decoys.stop() }),
                    api,
                ]
            }
        }
    }
}

/// Ends a service group from inside it (the agent after a self-destruct).
final class GroupStopper: @unchecked Sendable {
    private let lock = NSLock()
    private var shutdown: (@Sendable () async -> Void)?
    func set(_ s: @escaping @Sendable () async -> Void) { lock.withLock { shutdown = s } }
    func fire() {
        guard let s = lock.withLock({ shutdown }) else { return }
        Task { await s() }
    }
}

final class ProblemList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}
