// Worker health (spec §2): heartbeats, stop intents over the bus, and the registry that folds heartbeats
// into ok / stale / unknown.

/// Every daemon: publish `system.<worker>.health` `{worker, ts, …extra}` every `interval` seconds until the
/// task is cancelled. `extra` errors are swallowed; a NullBus makes the publishes no-ops.
public func runHealthHeartbeat(bus: (any Bus)?, worker: String, interval: Double = 30,
                               extra: (@Sendable () throws -> [(String, JSONValue)])? = nil) async {
    guard let topic = try? Topic.systemHealth(worker) else { return }
    while !Task.isCancelled {
        var payload: [(String, JSONValue)] = [("worker", .string(worker)), ("ts", .number(wallClockSeconds()))]
        if let extra, let more = try? extra() { payload += more }
        await bus?.publishSafely(topic, .object(payload), type: Topic.Leaf.health)
        try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
}

/// Waits for a stop intent on `system.<worker>.control` (`{"action":"stop","requested_by":…}`) and returns
/// who asked. Other actions are ignored. Returns nil when the subscription ends or the task is cancelled.
public func waitForStopIntent(bus: any Bus, worker: String) async -> String? {
    guard let topic = try? Topic.systemControl(worker), let sub = try? bus.subscribe(topic) else { return nil }
    defer { sub.close() }
    let log = ProcessLog("bus.worker")
    return await withTaskCancellationHandler {
        for await event in sub {
            if event.payload["action"]?.stringValue == "stop" {
                let who = event.payload["requested_by"]?.stringValue ?? "unknown"
                log.info("\(worker): stop requested by \(who)")
                return who
            }
            log.debug("\(worker): ignoring control action \(event.payload["action"]?.serialized ?? "null")")
        }
        return nil
    } onCancel: {
        sub.close()
    }
}

public enum WorkerState: String, Sendable { case ok, stale, unknown }

public struct WorkerStatus: Sendable, Equatable {
    public var name: String
    public var status: WorkerState
    public var lastHeartbeatTS: Double?
    public var secondsSince: Double?
    public var extra: JSONValue
    public var installed: Bool
}

/// Which `decnet-<name>.service` units are installed, from `systemctl list-unit-files` (never a shell),
/// cached 30 s. No systemd (or any failure) → empty set, cached the same way.
public final class InstalledUnits: @unchecked Sendable {
    public typealias Runner = @Sendable ([String]) -> (status: Int32, output: String)
    private let runner: Runner
    private let ttl: Double
    private let lock = ConditionMutex()
    private var cached: (at: Double, names: Set<String>)?

    public init(ttl: Double = 30, runner: @escaping Runner = { runProgram($0) }) {
        self.ttl = ttl
        self.runner = runner
    }

    public func names(now: Double = monotonicSeconds()) -> Set<String> {
        if let c = lock.withLock({ cached }), now - c.at < ttl { return c.names }
        let r = runner(["systemctl", "list-unit-files", "decnet-*.service", "--no-legend"])
        var names = Set<String>()
        if r.status == 0 {
            for line in r.output.split(separator: "\n") {
                guard let unit = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { continue }
                guard unit.hasPrefix("decnet-"), unit.hasSuffix(".service") else { continue }
                let name = String(unit.dropFirst("decnet-".count).dropLast(".service".count))
                if InstalledUnits.validName(name) { names.insert(name) }
            }
        }
        lock.withLock { cached = (now, names) }
        return names
    }

    /// `^[a-z][a-z0-9_-]*$`
    public static func validName(_ s: String) -> Bool {
        guard let f = s.utf8.first, f >= UInt8(ascii: "a") && f <= UInt8(ascii: "z") else { return false }
        return s.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// Folds heartbeats into per-worker status. Only names in `knownWorkers` get rows (arbitrary publishers
/// cannot add any). One subscription (`system.*.health`, which also matches `system.bus.health`), so the
/// broker heartbeat is recorded once, not twice as in the original.
public final class WorkerRegistry: @unchecked Sendable {
    public static let knownWorkers = ["api", "bus", "collector", "profiler", "sniffer", "prober", "mutator",
                                      "reconciler", "reuse-correlator", "attribution", "enrich", "clusterer",
                                      "campaign-clusterer", "ttp", "webhook", "orchestrator", "agent", "forwarder",
                                      "updater"]
    public static let okWindow = 90.0

    private let lock = ConditionMutex()
    private var lastSeen: [String: (ts: Double, payload: JSONValue)] = [:]
    public let installed: InstalledUnits

    public init(installed: InstalledUnits = InstalledUnits()) { self.installed = installed }

    /// Records one event if it is `system.<known>.health`.
    public func ingest(_ event: BusEvent) {
        let parts = event.topic.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "system", parts[2] == "health" else { return }
        let name = String(parts[1])
        guard WorkerRegistry.knownWorkers.contains(name) else { return }
        let ts = event.payload["ts"]?.doubleValue ?? event.ts
        lock.withLock { lastSeen[name] = (ts, event.payload) }
    }

    public func snapshot(now: Double = wallClockSeconds()) -> [WorkerStatus] {
        let seen = lock.withLock { lastSeen }
        let units = installed.names()
        return WorkerRegistry.knownWorkers.map { name in
            guard let s = seen[name] else {
                return WorkerStatus(name: name, status: .unknown, lastHeartbeatTS: nil, secondsSince: nil,
                                    extra: .object([]), installed: units.contains(name))
            }
            let since = max(0, now - s.ts)
            var extra: [(String, JSONValue)] = []
            if case .object(let members) = s.payload {
                extra = members.filter { $0.0 != "worker" && $0.0 != "ts" }
            }
            return WorkerStatus(name: name, status: since < WorkerRegistry.okWindow ? .ok : .stale,
                                lastHeartbeatTS: s.ts, secondsSince: since, extra: .object(extra),
                                installed: units.contains(name))
        }
    }

    /// Consumes heartbeats until the bus closes or the task is cancelled.
    public func run(bus: any Bus) async {
        guard let sub = try? bus.subscribe("system.*.health") else { return }
        await withTaskCancellationHandler {
            for await e in sub { ingest(e) }
        } onCancel: {
            sub.close()
        }
    }
}
