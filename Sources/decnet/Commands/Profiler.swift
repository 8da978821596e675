// Profiler.swift: `decnet profiler [run] | bench`: the attacker-profile worker and its benchmark.
import Appliance
import ArgumentParser
import Fingerprint
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

struct ProfilerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiler",
        abstract: "Fold events into attacker profiles (the profiler worker), or benchmark the fold.",
        subcommands: [Run.self, Bench.self], defaultSubcommand: Run.self)

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow the store: fold new events every --interval seconds, write attackers, publish attacker.observed / attacker.scored.")
        @Option(name: .long, help: "Event store (default $DECNET_DB_PATH or /var/lib/decnet/decnet.db).") var db: String?
        @Option(name: .long, help: "Seconds between passes.") var interval: Double = 1
        @Option(name: .long, help: "Events folded per commit at most.") var batch: Int = 200_000
        @Flag(name: .long, help: "Catch up once and exit.") var once = false

        func run() throws {
            if !once {
                ProcessLimits.raiseDescriptorLimit()
                confineOrExit(.profiler, shared: [db ?? defaultDatabasePath()], "profiler")
            }
            let store = try openStore(db ?? defaultDatabasePath())
            var bus: (any Bus)? = nil
            if !once, let b = try? makeBus(clientName: "profiler"), !(b is NullBus) { bus = b }
            var cfg = ProfilerWorker.Configuration()
            cfg.interval = max(0.05, interval)
            cfg.batch = max(1, batch)
            let worker: ProfilerWorker
            do {
                worker = try ProfilerWorker(store: store, config: cfg, publish: publishFunction(bus))
            } catch {
                stderrLine("decnet profiler: \(error)")
                throw ExitCode(70)
            }
            if once {
                let n = try worker.catchUp()
                print("profiler: folded \(n) events; \(worker.engine.profiles.count) attackers; cursor \(worker.engine.lastEventID)")
                return
            }
            StartupNotes.shared.flush(to: ProcessLog("profiler"))
            stderrLine("decnet profiler: following \(store.path) from event \(worker.engine.lastEventID)")
            try runBlocking {
                try await DaemonGroup.run(logger: .decnet("profiler")) { shutdown in
                    var services: [any Service] = []
                    if let bus { services.append(BusClientService(bus: bus)) }
                    services.append(HeartbeatService(bus: bus, worker: "profiler"))
                    services.append(ThreadService(name: "profiler", run: { worker.run() }, stop: { worker.stop() }))
                    if let bus { services.append(StopIntentService(bus: bus, worker: "profiler", shutdown: shutdown)) }
                    return services
                }
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the fold: engine alone, and store → profiles end to end, against a bare store read (the floor).")
        @Option(name: .long, help: "Scratch database (created; existing rows are reused).") var db: String
        @Option(name: .long, help: "Events.") var events: Int = 1_000_000
        @Option(name: .long, help: "Distinct attacker IPs.") var attackers: Int = 10_000

        func run() throws {
            let store = try openStore(db)
            if try store.countLogs(LogQuery()) < events {
                var rng = SeededRandom(seed: "profiler-bench")
                let services = ["ssh", "telnet", "http", "https", "ftp", "smtp", "redis", "mysql"]
                let types = ["session.connect", "login.failed", "command.input", "request", "tcp_syn_fingerprint"]
                var batch = StoreBatch()
                for i in 0..<events {
                    let a = Int(rng.next() % UInt64(attackers))
                    let svc = services[Int(rng.next() % UInt64(services.count))]
                    let t = types[Int(rng.next() % UInt64(types.count))]
                    var fields = "{\"src_port\":\"\(40000 + i % 20000)\""
                    if t == "tcp_syn_fingerprint" { fields += ",\"ja4t\":\"64240_2-4-8-1-3_1460_7\",\"p0f_os\":\"Linux 2.2.x-3.x\"" }
                    if t == "login.failed" { fields += ",\"username\":\"root\",\"secret_b64\":\"cm9vdA==\",\"auth_result\":\"failed\"" }
                    if t == "request" { fields += ",\"ja4h\":\"ge11nn05enus_\(a % 97)_000000000000\"" }
                    fields += "}"
                    batch.logs.append(LogRecord(timestamp: 1_795_000_000 + Double(i) * 0.01, decky: "decky-\(a % 20 + 1)", service: svc,
                                                eventType: "\(svc).\(t)", attackerIP: "10.\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)", fields: fields))
                    if batch.logs.count == 10_000 { try store.write(batch); batch = StoreBatch() }
                }
                if !batch.logs.isEmpty { try store.write(batch) }
            }
            // Floor: the columns the worker reads, out of SQLite with the same cursor, nothing else.
            var t0 = monotonicSeconds()
            let n = try store.readCorrelationColumns()
            let floor = Double(n) / (monotonicSeconds() - t0)
            // The rows as LogRecords (for the scan and fold stages below).
            var after: Int64 = 0
            var rows: [LogRecord] = []
            rows.reserveCapacity(events)
            while true {
                let page = try store.logs(LogQuery(afterID: after, limit: 5_000, ascending: true))
                if page.isEmpty { break }
                after = page.last!.id!
                rows += page
            }
            // Scan: rows → correlation events (fields JSON scanned).
            t0 = monotonicSeconds()
            let evs = rows.map(CorrelationEvent.init)
            let scan = Double(evs.count) / (monotonicSeconds() - t0)
            // Engine alone.
            t0 = monotonicSeconds()
            var engine = CorrelationEngine()
            engine.fold(evs)
            let fold = Double(evs.count) / (monotonicSeconds() - t0)
            // End to end: a fresh worker from cursor 0 (read, scan, fold, write profiles + fingerprints + cursor).
            try store.setState(ProfilerWorker.cursorKey, "{\"last_log_id\":0}")
            try store.deleteAllAttackers()
            t0 = monotonicSeconds()
            let worker = try ProfilerWorker(store: store)
            let folded = try worker.catchUp()
            let e2e = Double(folded) / (monotonicSeconds() - t0)
            func r(_ x: Double) -> String { String(Int(x.rounded())) }
            print("profiler bench: \(n) events, \(engine.profiles.count) attackers")
            print("  floor (store read, same columns)  \(r(floor)) events/s")
            print("  scan (row -> event)       \(r(scan)) events/s")
            print("  fold (engine alone)       \(r(fold)) events/s")
            print("  end to end (worker)       \(r(e2e)) events/s  = \(format3(e2e / floor)) x floor")
            let t = worker.timings
            print("    worker seconds: read \(format3(t.read)), scan+fold \(format3(t.fold)), commit \(format3(t.commit))")
        }
    }
}
