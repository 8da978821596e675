// Store.swift: `decnet store check|retention|bench`: open, prune and measure the event store.
import Appliance
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Default database: `store.path` (DECNET_DB_PATH), else <state.directory>/decnet.db.
func defaultDatabasePath() -> String { DecnetConfiguration.current.databasePath }

func openStore(_ path: String) throws -> any DecnetStore {
    do {
        return try Stores.open(path: path)
    } catch {
        stderrLine("decnet: \(error)")
        throw ExitCode(2)
    }
}

struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect, prune and benchmark the event store (SQLite, WAL).",
        subcommands: [Check.self, Retention.self, Bench.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open (creating and migrating if needed) the store and print its row counts.")

        @Option(name: .long, help: "Database file (default $DECNET_DB_PATH or /var/lib/decnet/decnet.db).")
        var db: String = defaultDatabasePath()

        func run() throws {
            let store = try openStore(db)
            let logs = try store.countLogs(LogQuery())
            let last = try store.logs(LogQuery(limit: 1)).first?.id ?? 0
            print("store \(db): ok, logs=\(logs) last_id=\(last) bytes=\(try store.sizeInBytes())")
        }
    }

    struct Retention: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete old events by age and/or size now.")

        @Option(name: .long, help: "Database file.")
        var db: String = defaultDatabasePath()

        @Option(name: .long, help: "Delete events older than this many days.")
        var maxAgeDays: Double?

        @Option(name: .long, help: "Delete the oldest events while the database is larger than this many MiB.")
        var maxMib: Int64?

        func run() throws {
            let store = try openStore(db)
            let r = try store.applyRetention(
                RetentionPolicy(maxAge: maxAgeDays.map { $0 * 86_400 }, maxBytes: maxMib.map { $0 << 20 }),
                now: wallClockSeconds())
            print("retention: deleted \(r.deletedByAge) by age, \(r.deletedBySize) by size; \(r.bytesAfter) bytes in use")
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Insert synthetic events through the batch writer and report events/s.",
            discussion: "Prints `committed N` after every commit when --progress is given (crash tests read it).")

        @Option(name: .long, help: "Database file (created if absent).")
        var db: String

        @Option(name: .long, help: "Events to insert.")
        var events: Int = 1_000_000

        @Option(name: .long, help: "Events per attacker session (1 = every event from an independent random source, the attacker index's worst case).")
        var sessionLength: Int = 1

        @Option(name: .long, help: "Events per transaction.")
        var batch: Int = 5_000

        @Flag(name: .long, help: "Print `committed N` after every commit.")
        var progress = false

        @Option(name: .long, help: "Events per second (paced; 0 = as fast as the writer takes them). A steady producer for the swarm's shipping tests.")
        var rate: Double = 0

        func run() throws {
            let store = try openStore(db)
            let load = SyntheticLoad(sessionLength: sessionLength)
            let writer = StoreWriter(
                repository: store,
                configuration: .init(maxBatch: batch, maxDelay: 0.25, capacity: max(batch * 8, 50_000)),
                onError: { message in stderrLine(message) })
            let start = wallClockSeconds()
            let t0 = monotonicSeconds()
            var chunk = StoreBatch()
            chunk.logs.reserveCapacity(batch)
            var lastReported = 0
            for i in 0..<events {
                if rate > 0 {
                    // Paced: event i is due at t0 + i/rate; submit what is due every 10 ms.
                    let due = t0 + Double(i) / rate
                    let now = monotonicSeconds()
                    if due > now {
                        if !chunk.logs.isEmpty { writer.submit(chunk); chunk = StoreBatch() }
                        pauseThread(seconds: due - now)
                    }
                }
                chunk.logs.append(load.row(i, start: start))
                if chunk.logs.count == batch || i == events - 1 {
                    // Block-free producer: if the writer is behind, wait for it rather than drop (a benchmark).
                    writer.waitUntilPending(atMost: batch * 4)
                    writer.submit(chunk)
                    chunk = StoreBatch()
                    chunk.logs.reserveCapacity(batch)
                    if progress {                  // once per chunk, not per row (the writer's lock)
                        let c = writer.statistics.committed
                        if c != lastReported { print("committed \(c)"); fflushStdout(); lastReported = c }
                    }
                }
            }
            writer.flush()
            let dt = monotonicSeconds() - t0
            let s = writer.statistics
            writer.close()
            if progress { print("committed \(s.committed)"); fflushStdout() }
            let rate = Double(s.committed) / dt
            print("store bench: \(s.committed) events in \(s.batches) transactions, \(format3(dt)) s, \(Int(rate)) events/s (dropped \(s.dropped), failed \(s.failed))")
        }
    }
}

func format3(_ x: Double) -> String {
    let v = (x * 1000).rounded() / 1000
    return "\(v)"
}

func fflushStdout() { fflush(nil) }
