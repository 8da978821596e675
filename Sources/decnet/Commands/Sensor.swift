// Sensor.swift: `decnet sensor --interface IF [--bpf EXPR] [--config FILE]`: live capture into events.
// Precedence: built-in defaults < environment (DECNET_INGEST_LOG_FILE, DECNET_DB_PATH) < --config < flags.
import Appliance
import ArgumentParser
import Fingerprint
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

struct Sensor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture on an interface and turn flows into deduplicated events (files, store, bus).",
        discussion: """
        Events go to <log-file> (RFC 5424 lines, the original DECNET's format) and <log-file>.json (JSON Lines),
        to the store, and bus-eligible ones of known deckies to decky.<name>.traffic. SIGTERM/SIGINT flush every
        open flow and sink and exit; SIGHUP reopens the log files (logrotate). Exit codes: 64 bad filter or
        configuration, 66 no such interface, 69 capture failure, 73 cannot create an output, 77 not permitted.
        """)

    @Option(name: .long, help: "Interface to capture on.")
    var interface: String?

    @Option(name: .long, help: "BPF capture filter (libpcap syntax).")
    var bpf: String?

    @Option(name: .long, help: "INI configuration file ([sensor] keys and a [deckies] name = IP map).")
    var config: String?

    @Option(name: .long, help: "RFC 5424 event log; JSON Lines go to <log-file>.json (default $DECNET_INGEST_LOG_FILE or /var/log/decnet/decnet.log).")
    var logFile: String?

    @Option(name: .long, help: "Event store (default $DECNET_DB_PATH or /var/lib/decnet/decnet.db).")
    var db: String?

    @Flag(name: .long, help: "Do not write events to the store.")
    var noStore = false

    @Option(name: .long, help: "A decky address: NAME=IP (repeatable; adds to the config file's [deckies]).")
    var decky: [String] = []

    @Option(name: .long, help: "Memory the sensor sizes its flow tables for (MiB).")
    var memoryCapMb: Int?

    @Option(name: .long, help: "Flow table cap (default: derived from the memory cap).")
    var maxFlows: Int?

    @Option(name: .long, help: "Seconds between stats lines on stderr (0: none).")
    var statsInterval: Int?

    @Flag(name: .long, help: "Immediate mode (a wakeup per packet) instead of TPACKET_V3 blocks.")
    var immediate = false

    @Option(name: .long, help: "Write the final counters as JSON to this file at exit.")
    var statsFile: String?

    func run() throws {
        ProcessLimits.raiseDescriptorLimit()
        // Before any thread: opening a packet socket (promiscuous, TPACKET_V3) takes CAP_NET_RAW, nothing more.
        confineOrExit(.sensor, "sensor")
        var cfg = SensorConfiguration()
        cfg.logFile = DecnetConfiguration.current.ingestLogFile
        cfg.dbPath = defaultDatabasePath()
        if let config {
            guard let bytes = readFile(config, limit: 1 << 20) else {
                stderrLine("decnet sensor: cannot read \(config): \(String(cString: strerror(errno)))")
                throw ExitCode(64)
            }
            do { try cfg.apply(ini: String(decoding: bytes, as: UTF8.self), name: config) } catch {
                for line in "\(error)".split(separator: "\n") { stderrLine("decnet sensor: \(line)") }
                throw ExitCode(64)
            }
        }
        if let interface { cfg.interface = interface }
        if let bpf { cfg.bpf = bpf.isEmpty ? nil : bpf }
        if let logFile { cfg.logFile = logFile.isEmpty ? nil : logFile }
        if let db { cfg.dbPath = db.isEmpty ? nil : db }
        if noStore { cfg.dbPath = nil }
        if let memoryCapMb { cfg.memoryCapMB = memoryCapMb }
        if let maxFlows { cfg.maxFlows = maxFlows }
        if let statsInterval { cfg.statsInterval = Double(statsInterval) }
        if immediate { cfg.immediate = true }
        var problems: [String] = []
        for d in decky {
            let parts = d.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let ip = IPAddress(parsing: parts[1]) else {
                problems.append("--decky \(d.debugDescription): expected NAME=IP with an IPv4 or IPv6 address"); continue
            }
            cfg.deckies[ip] = parts[0]
        }
        do { try cfg.validate() } catch { problems.append("\(error)") }
        if !problems.isEmpty {
            for p in problems { stderrLine("decnet sensor: \(p)") }
            throw ExitCode(64)
        }

        if let logFile = cfg.logFile { makeParentDirectory(logFile) }
        var writer: StoreWriter? = nil
        if let path = cfg.dbPath {
            makeParentDirectory(path)
            do {
                let store = try Stores.open(path: path)
                writer = StoreWriter(repository: store, configuration: .init(maxBatch: 5_000, maxDelay: 0.25, capacity: 20_000))
            } catch {
                stderrLine("decnet sensor: \(error)")
                throw ExitCode(73)
            }
        }
        var bus: (any Bus)? = nil
        if cfg.busEnabled, let b = try? makeBus(clientName: "sniffer"), !(b is NullBus) { bus = b }
        let sensor = LiveSensor(config: cfg, publisher: bus.map { ThreadSafePublisher($0) })
        let result = ResultBox<SensorStats>()
        let store = writer
        // One service group: TERM/INT (or a bus stop intent) stop the capture, which flushes every open flow and
        // sink; HUP reopens the files; the bus client closes last, after the sensor's last publish.
        do {
            try runBlocking {
                try await DaemonGroup.run(logger: .decnet("sniffer")) { shutdown in
                    var services: [any Service] = []
                    if let bus { services.append(BusClientService(bus: bus)) }
                    services.append(ThreadService(name: "sensor", run: {
                        result.set(try sensor.run(store: store, ready: { StartupNotes.shared.flush(to: ProcessLog("sniffer")) }))
                    }, stop: { sensor.requestStop() }))
                    services.append(ReopenOnHangupService { sensor.requestReopen() })
                    if let bus { services.append(StopIntentService(bus: bus, worker: "sniffer", shutdown: shutdown)) }
                    return services
                }
            }
        } catch let e as SensorError {
            stderrLine("decnet sensor: \(e)")
            writer?.close()
            throw ExitCode(e.exitCode)
        } catch {
            stderrLine("decnet sensor: \(error)")
            writer?.close()
            throw ExitCode(70)
        }
        writer?.close()
        let stats = result.value ?? sensor.statistics
        var final = stats
        final.store = writer?.statistics
        stderrLine("decnet sensor: stopped; \(final.line)")
        if let statsFile {
            var out: [UInt8] = []
            final.json.serialize(into: &out)
            out.append(0x0a)
            _ = writeWholeFile(statsFile, out)
        }
    }
}
