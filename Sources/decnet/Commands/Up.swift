// Up.swift: `decnet up [--interface IF] [--demo]`: the whole single-box appliance in one process: bus broker,
// sensor, decoys for the recorded fleet, API + dashboard, profiler and mutator, each a service in one
// ServiceGroup (SIGTERM/SIGINT stop them in reverse start order, every queued event flushed). `--demo` also
// builds its own test LAN (a bridge, three deckies, an attacker namespace), runs a scripted attacker and tears
// all of it down on Ctrl-C.
import Appliance
import ArgumentParser
import Control
import Fingerprint
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

struct Up: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole appliance on this box in one process (bus, sensor, decoys, API + dashboard, profiler, mutator).",
        discussion: """
            State (store, bus socket, logs, TLS files, artifacts) lives under --state-dir (default state.directory,
            /var/lib/decnet). Deckies are the recorded fleet (`decnet deploy`); the sensor captures --interface.
            `decnet up --demo` needs nothing else: it makes a bridge and three deckies in network namespaces on a
            private test subnet, starts everything on a temporary state directory, prints the dashboard URL and a
            one-time admin password, and runs a scripted attacker (port scan, SSH and telnet brute force, a login and
            a few commands) from its own namespace. Ctrl-C removes every namespace, link and process it made.
            """)

    @Option(name: .long, help: "Interface the sensor captures (default: the fleet's interface; none: no sensor).")
    var interface: String?

    @Option(name: .long, help: "HOST:PORT of the API and dashboard.")
    var bind: String = "127.0.0.1:8000"

    @Option(name: .long, help: "State directory (default state.directory; --demo: a new temporary one).")
    var stateDir: String?

    @Option(name: .long, help: "API over HTTPS: off or auto (a self-signed pair in the state directory).")
    var tls: String = "off"

    @Flag(name: .long, help: "Build a test LAN with three deckies and run a scripted attacker against them.")
    var demo = false

    @Flag(name: .long, help: "--demo: keep the temporary state directory (store, logs) after Ctrl-C.")
    var keepState = false

    @Option(name: .long, help: "Write the API's bound port to this file once listening (tests).")
    var portFile: String?

    func run() throws {
        try requireRoot("up")
        guard tls == "off" || tls == "auto" else { stderrLine("decnet up: --tls must be off or auto"); throw ExitCode(64) }
        guard let colon = bind.lastIndex(of: ":"), let port = CheckedInt.parse(bind[bind.index(after: colon)...], in: 0...65535) else {
            stderrLine("decnet up: --bind must be HOST:PORT, got \(bind.debugDescription)")
            throw ExitCode(64)
        }
        let host = String(bind[..<colon]).trimmingCharacters(in: ["[", "]"])
        signal(SIGPIPE, SIG_IGN)
        ProcessLimits.raiseDescriptorLimit()
        // Before any thread exists: the decoys' capabilities (namespaces, links, low ports, raw capture), no new
        // privileges, the decoys' system-call allow-list (the `ip` children and the demo's attacker inherit it).
        do { try Confinement.apply(.appliance) } catch {
            stderrLine("decnet up: cannot drop privileges: \(error)")
            throw ExitCode(71)
        }

        // One state directory for everything this process keeps.
        var settings = DecnetConfiguration.current
        let state: String
        if demo {
            var template = Array("/tmp/decnet-demo.XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { stderrLine("decnet up: cannot make a temporary directory"); throw ExitCode(73) }
            state = String(cString: made)
        } else {
            state = stateDir ?? settings.stateDirectory
        }
        _ = makeDirectories(state + "/logs")
        chmod(state, 0o750)
        let db = demo || settings.origin("store.path") == nil ? state + "/decnet.db" : settings.databasePath
        settings.set("store.path", db)
        settings.set("bus.socket", state + "/bus.sock")
        if demo || settings.origin("logs.ingest_file") == "default" { settings.set("logs.ingest_file", state + "/logs/decnet.log") }
        if demo || settings.origin("logs.decoy_file") == "default" { settings.set("logs.decoy_file", state + "/logs/decoys.log") }
        if demo || settings.origin("deckies.artifacts_dir") == "default" { settings.set("deckies.artifacts_dir", state + "/artifacts") }
        if demo { settings.set("deckies.netns_prefix", DemoLAN.prefix) }
        DecnetConfiguration.install(settings)

        let store = try openStore(db)
        let fleet = DeckyFleet(store: store, lockPath: db + ".fleet.lock")
        let prefix = settings.netnsPrefix ?? (try? fleet.prefix()) ?? nil ?? "decnet-"

        // The demo's LAN and deckies exist before the services start, and go whatever happens next.
        var lan: DemoLAN? = nil
        if demo {
            do { lan = try DemoLAN.create() } catch {
                stderrLine("decnet up: \(error)")
                throw ExitCode(69)
            }
        }
        defer {
            if let lan {
                lan.tearDown(fleet: fleet, prefix: prefix)
                if !keepState { _ = runProgram(["rm", "-rf", "--one-file-system", state]) }
                stderrLine("decnet up: demo removed (namespaces, links, processes)" + (keepState ? "; state kept in \(state)" : ""))
            }
        }
        if let lan {
            stdoutLine(
                "decnet up: demo LAN \(lan.subnet).0/24 on \(lan.bridge): " + lan.deckies.map { "\($0.name) \($0.ip)" }.joined(separator: ", ")
                    + "; attacker \(lan.attacker) in namespace \(lan.attackerNamespace); state \(state)")
            var req = DeployRequest()
            req.ini = (lan.fleetINI, "demo")
            let (_, outcome) = try deployFleet(req, fleet: fleet, prefix: prefix, cmd: "up")
            if let o = outcome, !o.failed.isEmpty {
                for (n, e) in o.failed { stderrLine("decnet up: \(n): \(e)") }
                throw ExitCode(1)
            }
        }

        // The broker first: every client below connects to it.
        let broker = BusServer(path: settings.busSocket, group: nil, heartbeatInterval: 10)
        do { try broker.start() } catch { stderrLine("decnet up: \(error)"); throw ExitCode(2) }

        // Sensor: the given interface, else the demo bridge, else the fleet's interface.
        let recorded = (try? fleet.entries().entries.map(\.spec)) ?? []
        let captureOn = interface ?? lan?.bridge ?? (try? fleet.network())??.interface
        var sensorConfig = SensorConfiguration()
        if let captureOn {
            sensorConfig.interface = captureOn
            sensorConfig.logFile = settings.ingestLogFile
            sensorConfig.dbPath = db
            sensorConfig.immediate = demo
            sensorConfig.statsInterval = 0
            for d in recorded { if let ip = IPAddress(parsing: d.ip.description) { sensorConfig.deckies[ip] = d.name } }
            do { try sensorConfig.validate() } catch { stderrLine("decnet up: sensor: \(error)"); throw ExitCode(64) }
        }

        // API: the first admin gets a one-time password, printed once.
        var apiConfig = APIConfiguration(jwtSecret: try apiSecret(state: state), fleetLockPath: db + ".fleet.lock")
        apiConfig.netnsPrefix = prefix
        apiConfig.mutationLogPath = settings.ingestLogFile
        apiConfig.developer = settings.developer
        let tlsConfig: (certificate: String, key: String)?
        do {
            tlsConfig = tls == "auto" ? try APITLS.ensureSelfSigned(directory: state, extraNames: [host]) : nil
        } catch { stderrLine("decnet up: \(error)"); throw ExitCode(73) }

        // Start order = dependency order; shutdown runs in reverse: the attacker and the API go first, the
        // decoys and sensor flush into the pipeline and the store writer, the bus clients close last but one.
        let writer = StoreWriter(repository: store, configuration: .init(maxBatch: 5_000, maxDelay: 0.25, capacity: 20_000))
        func client(_ name: String) -> any Bus { UnixSocketBus(socketPath: settings.busSocket, clientName: name) }
        let busSensor = client("sniffer"), busDecoys = client("decoys"), busProfiler = client("profiler")
        let busMutator = client("mutator"), busAPI = client("api")

        var pipelineConfig = EventPipeline.Configuration()
        pipelineConfig.rfc5424Path = settings.decoyLogFile
        pipelineConfig.jsonlPath = settings.decoyLogFile + ".json"
        let pipeline: EventPipeline
        do { pipeline = try EventPipeline(configuration: pipelineConfig, store: writer, publisher: ThreadSafePublisher(busDecoys)) } catch {
            stderrLine("decnet up: \(error)")
            throw ExitCode(73)
        }
        var deckyConfig = DeckyService.Configuration()
        deckyConfig.prefix = prefix
        deckyConfig.poll = 1
        deckyConfig.artifactsDir = settings.artifactsDirectory
        let decoys = DeckyService(fleet: fleet, configuration: deckyConfig) { pipeline.submit($0) }
        let sensor = captureOn.map { _ in LiveSensor(config: sensorConfig, publisher: ThreadSafePublisher(busSensor)) }
        let profiler: ProfilerWorker
        do { profiler = try ProfilerWorker(store: store, config: .init(), publish: publishFunction(busProfiler)) } catch {
            stderrLine("decnet up: profiler: \(error)")
            throw ExitCode(70)
        }
        let mutatorLoop = MutatorLoop(mutator: Mutator(fleet: fleet, logPath: settings.ingestLogFile, publish: publishFunction(busMutator)), poll: 10)
        let api: APIServices
        do { api = try APIServices(store: store, config: apiConfig, registry: WorkerRegistry(), bus: busAPI) } catch {
            stderrLine("decnet up: API: \(error)")
            throw ExitCode(64)
        }
        let adminPassword = settings.string("api.admin_password")
        let adminUser = settings.string("api.admin_user") ?? "admin"
        let generated = try api.bootstrapAdmin(username: adminUser, password: adminPassword)
        let apiService = try APIServer.service(
            api, host: host, port: port,
            tls: try tlsConfig.map { try APITLS.serverConfiguration(certificate: $0.certificate, key: $0.key) }
        ) { bound in
            let scheme = tlsConfig == nil ? "http" : "https"
            let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            if let portFile { _ = writeWholeFile(portFile, Array("\(bound)\n".utf8)) }
            stdoutLine(
                "decnet up: dashboard \(scheme)://\(shown.contains(":") ? "[\(shown)]" : shown):\(bound)/"
                    + (tlsConfig.map { " (certificate \($0.certificate))" } ?? ""))
            if let generated { stdoutLine("decnet up: user \(adminUser), one-time password \(generated) (change it at first login)") }
        }

        var services: [any Service] = [BusBrokerService(server: broker, started: true)]
        for b in [busSensor, busDecoys, busProfiler, busMutator, busAPI] { services.append(BusClientService(bus: b)) }
        services.append(ThreadService(name: "store", run: { writer.waitUntilClosed() }, stop: { writer.close() }))
        services.append(
            ThreadService(
                name: "decoys",
                run: {
                    decoys.run(); pipeline.close()
                }, stop: { decoys.stop() }))
        if let sensor {
            services.append(ThreadService(name: "sensor", run: { _ = try sensor.run(store: writer) }, stop: { sensor.requestStop() }))
        }
        services.append(
            ReopenOnHangupService {
                pipeline.requestReopen(); sensor?.requestReopen()
            })
        services.append(ThreadService(name: "profiler", run: { profiler.run() }, stop: { profiler.stop() }))
        services.append(HeartbeatService(bus: busProfiler, worker: "profiler"))
        services.append(ThreadService(name: "mutator", run: { mutatorLoop.run() }, stop: { mutatorLoop.stop() }))
        services.append(TaskService(name: "mutator.follow") { await mutatorLoop.follow(bus: busMutator) })
        services.append(HeartbeatService(bus: busMutator, worker: "mutator"))
        services.append(apiService)
        if let lan { services.append(DemoAttackerService(lan: lan, store: store)) }
        let group = services
        try runBlocking { try await DaemonGroup.run(group, logger: Logger.decnet("up")) }
        let s = writer.statistics
        stderrLine("decnet up: stopped; store committed=\(s.committed) dropped=\(s.dropped)")
    }

    /// The API's signing secret: api.jwt_secret, else one kept in <state>/jwt-secret (0600).
    func apiSecret(state: String) throws -> String {
        if let s = DecnetConfiguration.current.string("api.jwt_secret") { return s }
        let file = state + "/jwt-secret"
        if let b = readFile(file, limit: 4096) {
            let s = String(decoding: b, as: UTF8.self).trimmingCharacters(in: [" ", "\n"])
            if s.utf8.count >= 32 { return s }
        }
        let s = Base64URL.encode(randomSecretBytes(48))
        guard writeWholeFile(file, Array((s + "\n").utf8), mode: 0o600) else {
            stderrLine("decnet up: cannot write \(file)")
            throw ExitCode(73)
        }
        return s
    }
}
