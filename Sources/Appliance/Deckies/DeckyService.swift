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
        /// This process serves the deckies whose name hashes to `shard.index` of `shard.count` (the supervisor
        /// runs one decoy process per shard, so a trap in one takes down only its deckies). Only shard 0
        /// reconciles the namespaces; the others serve what exists and retry what does not yet.
        public var shard: (index: Int, count: Int) = (0, 1)
        public init() {}
    }

    /// The shard a decky belongs to (FNV-1a of its name: stable across processes and restarts).
    public static func shard(of name: String, count: Int) -> Int {
        guard count > 1 else { return 0 }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(count))
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
            let reconciles = config.shard.index == 0
            let entries: [DeckyFleet.Entry] = try fleet.locked {
                guard reconciles else { return try fleet.entries().entries }
                if let out = try fleet.reconcileRecorded(prefix: config.prefix) {
                    if !out.adopted.isEmpty { log.info("adopted \(out.adopted.count) existing decky namespace(s)") }
                    if !out.created.isEmpty { log.info("created \(out.created.count) decky namespace(s): \(out.created.prefix(8).joined(separator: ", "))") }
                    if !out.removed.isEmpty { log.info("removed \(out.removed.count) leftover namespace(s): \(out.removed.prefix(8).joined(separator: ", "))") }
                    for (n, e) in out.failed { log.error("decky \(n): \(e)") }
                }
                return try fleet.entries().entries
            }
            let complete = apply(entries)
            log.info("serving \(serving.count) decky(ies), \(server.listenerCount) listener(s)"
                     + (config.shard.count > 1 ? " (shard \(config.shard.index + 1) of \(config.shard.count))" : ""))
            // A decky that could not be served yet (its namespace not made yet by shard 0) is retried next poll.
            lastSeen = complete || reconciles ? Dictionary(entries.map { ($0.spec.name, $0.state + $0.spec.json.serialized) }, uniquingKeysWith: { a, _ in a }) : [:]
        } catch {
            log.error("fleet sync failed: \(error)")
        }
    }

    /// Serves exactly this shard's running deckies; false when one of them could not be served.
    @discardableResult
    func apply(_ entries: [DeckyFleet.Entry]) -> Bool {
        let mine = entries.filter { $0.state == "running" && DeckyService.shard(of: $0.spec.name, count: config.shard.count) == config.shard.index }
        let want = Dictionary(mine.map { ($0.spec.name, $0.spec) }, uniquingKeysWith: { a, _ in a })
        var complete = true
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
                complete = false
                log.error("cannot serve \(name): \(error)")
            }
        }
        return complete
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
