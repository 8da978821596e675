// DeckyService.swift: the long-running side of the deckies (`decnet serve`): reconciles the host with the
// recorded fleet at start (adopting what a crash left, removing what nobody wants), serves every decky's
// decoys, and follows the store: deckies deployed or torn down by other commands are picked up within a
// poll interval. A decky whose namespace was recreated underneath it (another inode) is re-served.
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

public final class DeckyService: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var prefix = "decnet-"
        public var poll: Double = 1.0
        public var artifactsDir: String?
        public var limits = DecoyServer.Limits()
        /// Distinct closed ports one source must probe within a minute to be reported as a scan.
        public var scanThreshold = 5
        public init() {}
    }

    let fleet: DeckyFleet
    let config: Configuration
    let server: DecoyServer
    let scans: ScanDetector
    let group: MultiThreadedEventLoopGroup
    var serving: [String: (spec: DeckySpec, inode: UInt64)] = [:]
    let log = ProcessLog("deckies")
    let stopLock = ConditionMutex()
    var stopping = false

    public init(fleet: DeckyFleet, configuration: Configuration, sink: @escaping @Sendable ([SensorEvent]) -> Void) {
        self.fleet = fleet
        config = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        server = DecoyServer(group: group, artifactsDir: configuration.artifactsDir, limits: configuration.limits, sink: sink)
        scans = ScanDetector(sink: sink, threshold: configuration.scanThreshold)
    }

    public var decoyServer: DecoyServer { server }

    var lastSeen: [String: String] = [:]

    /// One pass: when the records changed (or a served namespace vanished), reconcile under the fleet lock
    /// and bring the served set in line. A quiet fleet costs one store read per poll.
    public func sync(force: Bool = false) {
        do {
            let now = try fleet.entries().entries
            let seen = Dictionary(now.map { ($0.spec.name, $0.state + $0.spec.json.serialized) }, uniquingKeysWith: { a, _ in a })
            let intact = serving.allSatisfy { DeckyService.inode("/run/netns/\(config.prefix)\($0.key)") == $0.value.inode }
            if !force && seen == lastSeen && intact { return }
            _ = seen
            let entries: [DeckyFleet.Entry] = try fleet.locked {
                if let out = try fleet.reconcileRecorded(prefix: config.prefix) {
                    if !out.adopted.isEmpty { log.info("adopted \(out.adopted.count) existing decky namespace(s)") }
                    if !out.created.isEmpty { log.info("created \(out.created.count) decky namespace(s): \(out.created.prefix(8).joined(separator: ", "))") }
                    if !out.removed.isEmpty { log.info("removed \(out.removed.count) leftover namespace(s): \(out.removed.prefix(8).joined(separator: ", "))") }
                    for (n, e) in out.failed { log.error("decky \(n): \(e)") }
                }
                return try fleet.entries().entries
            }
            apply(entries)
            log.info("serving \(serving.count) decky(ies), \(server.listenerCount) listener(s)")
            lastSeen = Dictionary(entries.map { ($0.spec.name, $0.state + $0.spec.json.serialized) }, uniquingKeysWith: { a, _ in a })
        } catch {
            log.error("fleet sync failed: \(error)")
        }
    }

    func apply(_ entries: [DeckyFleet.Entry]) {
        let want = Dictionary(entries.filter { $0.state == "running" }.map { ($0.spec.name, $0.spec) }, uniquingKeysWith: { a, _ in a })
        for (name, _) in serving where want[name] == nil {
            server.stop(decky: name)
            scans.unwatch(name)
            serving[name] = nil
            log.info("stopped serving \(name)")
        }
        for (name, spec) in want {
            let ns = config.prefix + name
            let inode = DeckyService.inode("/run/netns/\(ns)")
            if let cur = serving[name], cur.spec == spec, cur.inode == inode, inode != 0 { continue }
            do {
                let h = try NamespaceHandle(name: ns)
                try server.start(decky: spec, namespace: h)
                scans.watch(spec, namespace: h)
                serving[name] = (spec, inode)
                log.info("serving \(name) \(spec.ip) [\(spec.services.joined(separator: ","))]")
            } catch {
                serving[name] = nil
                log.error("cannot serve \(name): \(error)")
            }
        }
    }

    static func inode(_ path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    /// Syncs every `poll` seconds until stop().
    public func run() {
        sync(force: true)
        while true {
            stopLock.lock()
            if !stopping { stopLock.wait(seconds: config.poll) }
            let done = stopping
            stopLock.unlock()
            if done { break }
            sync()
        }
        server.stopAll()
        scans.stop()
        try? group.syncShutdownGracefully()
    }

    public func stop() { stopLock.withLock { stopping = true; stopLock.signal() } }
}
