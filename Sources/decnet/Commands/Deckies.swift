// Deckies.swift: `decnet deploy | status | teardown | serve`. deploy/teardown change the recorded fleet and
// the host (namespaces, links, sysctls) and exit; serve is the one long-running process that answers on
// every decky's services. All of them share the store and the fleet lock.
import Appliance
import ArgumentParser
import ServiceLifecycle
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

struct FleetOptions: ParsableArguments {
    @Option(name: .long, help: "Event store (default $DECNET_DB_PATH or /var/lib/decnet/decnet.db).")
    var db: String?

    @Option(name: .long, help: "Namespace name prefix (default $DECNET_NETNS_PREFIX, the deployed fleet's, or decnet-).")
    var netnsPrefix: String?

    func open(_ cmd: String) throws -> (DeckyFleet, String) {
        let path = db ?? defaultDatabasePath()
        makeParentDirectory(path)
        let store: any DecnetStore
        do { store = try Stores.open(path: path) } catch {
            stderrLine("decnet \(cmd): \(error)")
            throw ExitCode(73)
        }
        let fleet = DeckyFleet(store: store, lockPath: path + ".fleet.lock")
        let env = DecnetConfiguration.current.netnsPrefix
        let prefix = netnsPrefix ?? env ?? (try? fleet.prefix()) ?? nil ?? "decnet-"
        guard !prefix.isEmpty, prefix.count <= 32, prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            stderrLine("decnet \(cmd): --netns-prefix must be 1-32 of letters, digits, - and _")
            throw ExitCode(64)
        }
        return (fleet, prefix)
    }
}

func requireRoot(_ cmd: String) throws {
    guard geteuid() == 0 else {
        stderrLine("decnet \(cmd): creating network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
        throw ExitCode(77)
    }
}

func printFleet(_ entries: [(DeckySpec, String, String?)], network: FleetNetwork?) {
    if let n = network { print("network \(n.interface) \(n.subnet)\(n.gateway.map { " gw \($0)" } ?? "")") }
    let rows = entries.map { e in
        [e.0.name, e.0.ip.description, e.0.mac, e.0.hostname, e.0.services.joined(separator: ","), e.0.distro, e.0.nmapOS, e.1 + (e.2.map { " (\($0))" } ?? "")]
    }
    let head = ["NAME", "IP", "MAC", "HOSTNAME", "SERVICES", "DISTRO", "OS", "STATE"]
    var w = head.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < w.count - 1 { w[i] = max(w[i], c.count) } }
    func line(_ r: [String]) -> String {
        r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: w[i] - c.count + 2) }.joined()
    }
    print(line(head))
    for r in rows { print(line(r)) }
}

struct Deploy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan and create deckies (network namespaces with their own IP, MAC and OS profile).",
        discussion: """
        Every problem with the request (names, addresses, subnets, services, archetypes, the interface) is
        listed before anything is created (exit 64). A parent interface that is a bridge gets a veth per decky;
        any other gets macvlans. Run `decnet serve` to answer on the deckies' services.
        """)

    @OptionGroup var fleetOptions: FleetOptions
    @Option(name: [.customShort("n"), .customLong("deckies")], help: "Number of deckies.") var deckies: Int?
    @Option(name: [.short, .long], help: "Parent interface (a bridge or a NIC).") var interface: String?
    @Option(name: .long, help: "Decky subnet (CIDR; default the interface's).") var subnet: String?
    @Option(name: .long, help: "Gateway (default the interface's default route).") var gateway: String?
    @Option(name: .long, help: "First address to hand out.") var ipStart: String?
    @Option(name: .long, help: "Services, comma-separated.") var services: String?
    @Flag(name: .long, help: "1-3 random services per decky.") var randomizeServices = false
    @Option(name: .long, help: "Distros, comma-separated (cycled).") var distro: String?
    @Option(name: [.short, .long], help: "Archetype (services, distros and OS profile).") var archetype: String?
    @Option(name: .long, help: "OS TCP/IP profile: linux, windows, windows_server, bsd, embedded, cisco.") var nmapOs: String?
    @Option(name: .long, help: "Service rotation interval, minutes.") var mutateInterval: Int?
    @Option(name: [.short, .long], help: "INI deploy file ([general] and one section per decky).") var config: String?
    @Flag(name: .long, help: "Print the plan; create nothing.") var dryRun = false
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Deploy on this box even when an API is configured (--url, DECNET_API_URL).") var local = false

    func run() throws {
        if !local && !dryRun && client.apiConfigured { return try apiDeploy(client, iniPath: config) }
        var req = DeployRequest()
        req.count = deckies
        req.interface = interface
        req.subnet = subnet
        req.gateway = gateway
        req.ipStart = ipStart
        req.services = services.map { $0.split(separator: ",").map { String($0).trimmingSpacesCLI } }
        req.randomizeServices = randomizeServices
        req.distros = distro.map { $0.split(separator: ",").map { String($0).trimmingSpacesCLI } }
        req.archetype = archetype
        req.nmapOS = nmapOs
        req.mutateInterval = mutateInterval
        if let config {
            guard let b = readFile(config, limit: 1 << 20) else {
                stderrLine("decnet deploy: cannot read \(config): \(String(cString: strerror(errno)))")
                throw ExitCode(64)
            }
            req.ini = (String(decoding: b, as: UTF8.self), config)
        }
        if !dryRun { try requireRoot("deploy") }
        let (fleet, prefix) = try fleetOptions.open("deploy")
        let (net, outcome) = try deployFleet(req, fleet: fleet, prefix: prefix, dryRun: dryRun, cmd: "deploy")
        if dryRun { return }
        let entries = try fleet.entries().entries
        printFleet(entries.map { ($0.spec, $0.state, $0.lastError) }, network: net)
        if let o = outcome, !o.failed.isEmpty {
            for (n, e) in o.failed { stderrLine("decnet deploy: \(n): \(e)") }
            throw ExitCode(1)
        }
    }
}

/// Plans `req` against the recorded fleet (every problem at once, exit 64), records and creates the deckies,
/// and announces the new ones. `dryRun` prints the plan instead. Shared by `deploy` and `up --demo`.
func deployFleet(_ req: DeployRequest, fleet: DeckyFleet, prefix: String, dryRun: Bool = false,
                 cmd: String, problems report: ((String) -> Void)? = nil) throws -> (FleetNetwork, DeckyRuntime.Outcome?) {
    let existing = (try? fleet.entries().entries.map(\.spec)) ?? []
    let existingNet = try? fleet.network()
    let planned: (FleetNetwork, [DeckySpec])
    do {
        planned = try DeckyPlanner.plan(req, host: HostFacts.probe(), existing: existing, existingNetwork: existingNet ?? nil)
    } catch {
        for p in error.problems {
            stderrLine("decnet \(cmd): \(p)")
            report?(p)
        }
        throw ExitCode(64)
    }
    let (net, specs) = planned
    for w in DeckyPlanner.warnings(for: specs) { stderrLine("decnet \(cmd): warning: \(w)") }
    if dryRun {
        printFleet(specs.map { ($0, "planned", nil) }, network: net)
        return (net, nil)
    }
    let known = Set(existing.map(\.name))
    let outcome = try fleet.locked { () -> DeckyRuntime.Outcome? in
        try fleet.setNetwork(net, prefix: prefix)
        for s in specs { try fleet.record(s, state: "pending") }
        return try fleet.reconcileRecorded(prefix: prefix)
    }
    announceFleetChange(fleet, specs.filter { !known.contains($0.name) }, .creation)
    return (net, outcome)
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Health, counters and deckies from the REST API; --local reads the store and the host directly.")
    @OptionGroup var fleetOptions: FleetOptions
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "JSON output.") var json = false
    @Flag(name: .long, help: "Read the recorded fleet from the store and check the host (no API; root for the drift check).")
    var local = false

    func run() throws {
        guard local else { return try apiStatus(client, json: json) }
        let (fleet, prefix) = try fleetOptions.open("status")
        let (entries, unreadable) = try fleet.entries()
        let net = try fleet.network()
        var rows: [(DeckySpec, String, String?)] = []
        for e in entries {
            var state = e.state
            if let net, geteuid() == 0, state == "running", !DeckyRuntime(prefix: prefix, network: net).matches(e.spec) { state = "drifted" }
            rows.append((e.spec, state, e.lastError))
        }
        if json {
            let arr: [JSONValue] = rows.map { r in
                guard case .object(var o) = r.0.json else { return .null }
                o.append(("state", .string(r.1)))
                if let e = r.2 { o.append(("last_error", .string(e))) }
                return .object(o)
            }
            print(JSONValue.object([("network", net?.json ?? .null), ("netns_prefix", .string(prefix)), ("deckies", .array(arr))]).serialized)
        } else {
            printFleet(rows, network: net)
        }
        for u in unreadable { stderrLine("decnet status: decky \(u): recorded config does not parse") }
    }
}

struct Teardown: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove deckies: namespaces, links and records.")
    @OptionGroup var fleetOptions: FleetOptions
    @Flag(name: .long, help: "Every decky (and the fleet network).") var all = false
    @Option(name: .long, help: "One decky by name.") var id: String?
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Tear down on this box even when an API is configured (--url, DECNET_API_URL).") var local = false

    func validate() throws {
        guard all != (id != nil) else { throw ValidationError("give exactly one of --all or --id NAME") }
    }

    func run() throws {
        if !local && client.apiConfigured { return try apiTeardown(client, id: all ? nil : id) }
        try requireRoot("teardown")
        let (fleet, prefix) = try fleetOptions.open("teardown")
        let removed = try teardownFleet(fleet: fleet, prefix: prefix, id: all ? nil : id)
        if !all && removed.isEmpty {
            // Idempotent: tearing down what is not there is done already (said, not failed).
            stderrLine("decnet teardown: no decky named \(id ?? ""): nothing to do")
        }
        let shown = removed.prefix(10).joined(separator: ", ") + (removed.count > 10 ? ", ..." : "")
        print("removed \(removed.count) decky(ies)\(removed.isEmpty ? "" : ": " + shown)")
    }
}

/// Removes every decky (`id` nil, and the fleet network) or one: namespaces, links and records; announces the
/// retirements. Returns the names removed. Shared by `teardown` and the swarm agent.
func teardownFleet(fleet: DeckyFleet, prefix: String, id: String?) throws -> [String] {
    var gone: [DeckySpec] = []
    let removed: [String] = try fleet.locked {
        let entries = try fleet.entries().entries
        gone = entries.map(\.spec).filter { id == nil || $0.name == id }
        let net = try fleet.network() ?? FleetNetwork(interface: "lo", subnet: IPv4Network("0.0.0.0/32")!, gateway: nil)
        let rt = DeckyRuntime(prefix: prefix, network: net)
        guard let id else {
            for e in entries { rt.destroy(e.spec.name); try fleet.remove(e.spec.name) }
            _ = rt.reconcile([])                         // and anything else with our prefix
            try fleet.setNetwork(nil, prefix: prefix)
            return entries.map(\.spec.name)
        }
        guard entries.contains(where: { $0.spec.name == id }) else { return [] }
        rt.destroy(id)
        try fleet.remove(id)
        return [id]
    }
    announceFleetChange(fleet, gone.filter { removed.contains($0.name) }, .retirement)
    return removed
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve every deployed decky's decoy services (one process, namespaces entered per socket).",
        discussion: """
        Reconciles the host with the recorded fleet first (adopts deckies a crash left, recreates missing ones,
        removes leftovers), then follows the store: deckies deployed or torn down later are picked up within
        --poll seconds. Events go to <log-file> (RFC 5424), <log-file>.json and the store. SIGTERM/SIGINT stop
        serving (the deckies stay; `decnet teardown` removes them); SIGHUP reopens the log files.
        """)
    @OptionGroup var fleetOptions: FleetOptions
    @Option(name: .long, help: "RFC 5424 event log; JSON Lines at <log-file>.json (default $DECNET_DECOY_LOG_FILE or /var/log/decnet/decoys.log).")
    var logFile: String?
    @Option(name: .long, help: "Where uploads are kept (default $DECNET_ARTIFACTS_DIR or /var/lib/decnet/artifacts).")
    var artifactsDir: String?
    @Option(name: .long, help: "Seconds between fleet checks.") var poll: Double = 1.0
    @Flag(name: .long, help: "Serve in this process (no supervisor restarting it after a crash).") var noSupervise = false
    @Option(name: .long, help: "Supervised decoy processes, deckies split among them by name (a crash in one takes down only its share).")
    var decoyProcesses: Int = 2
    @Option(name: .long, help: "Upload bytes kept per attacker address (MiB; the rest is counted, not kept).")
    var artifactQuotaSourceMb: Int = 256
    @Option(name: .long, help: "Upload bytes kept per decky (MiB).") var artifactQuotaDeckyMb: Int = 1024
    @Option(name: .long, help: "Upload bytes kept in total, what the artifacts directory holds included (MiB).")
    var artifactQuotaTotalMb: Int = 4096

    func run() throws {
        try requireRoot("serve")
        // The decoys run in a supervised child: a trap in attacker-facing code costs one restart, not the fleet.
        if !noSupervise && !Supervisor.isChild {
            confineOrExit(.decoys, "serve")
            StartupNotes.shared.flush(to: ProcessLog("decoys"))
            guard (1...64).contains(decoyProcesses) else { stderrLine("decnet serve: --decoy-processes must be 1...64"); throw ExitCode(64) }
            throw ExitCode(Supervisor.run(name: "serve", children: decoyProcesses, log: ProcessLog("decoys")))
        }
        if Supervisor.isChild {
            Supervisor.bindToParent()
            if let n = DecnetConfiguration.current.supervisorRestartLimit.map(String.init), n != "0" {
                StartupNotes.shared.info("decoy process restarted (restart \(n))")
            }
        }
        signal(SIGPIPE, SIG_IGN)
        ProcessLimits.raiseDescriptorLimit()
        confineOrExit(.decoys, "serve")   // before any thread: what namespaces and low ports take, for its whole life
        let (fleet, prefix) = try fleetOptions.open("serve")
        let log = logFile ?? DecnetConfiguration.current.decoyLogFile
        let artifacts = artifactsDir ?? DecnetConfiguration.current.artifactsDirectory
        var pcfg = EventPipeline.Configuration()
        if !log.isEmpty {
            makeParentDirectory(log)
            pcfg.rfc5424Path = log
            pcfg.jsonlPath = log + ".json"
        }
        let writer = StoreWriter(repository: fleet.store, configuration: .init(maxBatch: 2_000, maxDelay: 0.25, capacity: 20_000))
        let pipeline: EventPipeline
        // Bus-eligible decoy events go to decky.<name>.traffic, as the sensor's do (DECNET_BUS_ENABLED=false: none).
        var bus: (any Bus)? = nil
        if let b = try? makeBus(clientName: "decoys"), !(b is NullBus) { bus = b }
        do { pipeline = try EventPipeline(configuration: pcfg, store: writer, publisher: bus.map { ThreadSafePublisher($0) }) } catch {
            stderrLine("decnet serve: \(error)")
            throw ExitCode(73)
        }
        var cfg = DeckyService.Configuration()
        cfg.prefix = prefix
        cfg.poll = max(0.1, poll)
        cfg.shard = Supervisor.shard
        cfg.artifactsDir = artifacts.isEmpty ? nil : artifacts
        if !artifacts.isEmpty {
            for (name, v) in [("--artifact-quota-source-mb", artifactQuotaSourceMb), ("--artifact-quota-decky-mb", artifactQuotaDeckyMb),
                              ("--artifact-quota-total-mb", artifactQuotaTotalMb)] where !(0...(1 << 30)).contains(v) {
                stderrLine("decnet serve: \(name) must be 0...\(1 << 30)")
                throw ExitCode(64)
            }
            let used = ArtifactQuota.diskUsage(artifacts)
            ArtifactQuota.shared.configure(.init(perSource: artifactQuotaSourceMb << 20, perDecky: artifactQuotaDeckyMb << 20,
                                                 total: artifactQuotaTotalMb << 20), used: used)
            StartupNotes.shared.info("artifacts: \(artifacts), \(used >> 20) MiB kept; quotas per source \(artifactQuotaSourceMb) MiB, per decky \(artifactQuotaDeckyMb) MiB, total \(artifactQuotaTotalMb) MiB")
        }
        let service = DeckyService(fleet: fleet, configuration: cfg) { pipeline.submit($0) }
        StartupNotes.shared.flush(to: ProcessLog("decoys"))
        try runBlocking {
            try await DaemonGroup.run(logger: .decnet("decoys")) { shutdown in
                var services: [any Service] = []
                if let bus { services.append(BusClientService(bus: bus)) }
                services.append(ThreadService(name: "decoys", run: { service.run() }, stop: { service.stop() }))
                services.append(ReopenOnHangupService { pipeline.requestReopen() })
                return services
            }
        }
        pipeline.close()
        writer.close()
        stderrLine("decnet serve: stopped")
    }
}

extension String {
    var trimmingSpacesCLI: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Announces deckies appearing or going on the mutator's sinks (`creation` / `retirement`, spec §3.6): the
/// RFC 5424 line in $DECNET_INGEST_LOG_FILE (default /var/log/decnet/decnet.log; empty: none), the store, and
/// the bus when a broker is listening.
func announceFleetChange(_ fleet: DeckyFleet, _ specs: [DeckySpec], _ trigger: MutationTrigger) {
    guard !specs.isEmpty else { return }
    let path = DecnetConfiguration.current.ingestLogFile
    let bus = connectedBusIfListening(clientName: "deploy")
    Mutator(fleet: fleet, logPath: path.isEmpty ? nil : path, publish: publishFunction(bus)).announce(specs, trigger)
    if let bus { try? runBlocking { await bus.close() } }   // flushes the queued publishes before the process exits
}

/// A bus client when a broker's socket exists (connected, bounded wait), else nil: one-shot commands do not
/// wait for a broker that is not there.
func connectedBusIfListening(clientName: String) -> (any Bus)? {
    guard access(defaultBusSocketPath(), F_OK) == 0, let b = try? makeBus(clientName: clientName), !(b is NullBus) else { return nil }
    if let u = b as? UnixSocketBus { blockingConnect(u) }
    return b
}
