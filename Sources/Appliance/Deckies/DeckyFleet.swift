// DeckyFleet.swift: the fleet's desired state lives in the store (`deckies` rows, one per decky, its
// DeckySpec as JSON in `config`; the fleet network and namespace prefix as `state` keys), and every
// change to it or to the host runs under one lock file, so `decnet deploy`, `decnet teardown` and the
// serving process never reconcile at the same time.
#if canImport(Glibc)
import Glibc
#endif

public final class DeckyFleet: @unchecked Sendable {
    public static let networkKey = "fleet.network"
    public static let prefixKey = "fleet.netns_prefix"

    public let store: any FleetStoring
    public let lockPath: String

    public init(store: any FleetStoring, lockPath: String) {
        self.store = store
        self.lockPath = lockPath
    }

    /// Runs `body` holding the fleet lock (flock on `lockPath`, waits for other holders).
    public func locked<T>(_ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError("cannot open lock \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { if errno != EINTR { throw RuntimeError("flock \(lockPath): \(String(cString: strerror(errno)))") } }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }

    public func network() throws -> FleetNetwork? {
        guard let t = try store.state(DeckyFleet.networkKey), let j = try? JSONValue.parse(t) else { return nil }
        return FleetNetwork(json: j)
    }

    public func prefix() throws -> String? { try store.state(DeckyFleet.prefixKey) }

    public func setNetwork(_ n: FleetNetwork?, prefix: String) throws {
        try store.setState(DeckyFleet.networkKey, n?.json.serialized ?? "")
        try store.setState(DeckyFleet.prefixKey, prefix)
    }

    public struct Entry: Sendable { public var spec: DeckySpec; public var state: String; public var lastError: String? }

    /// Every decky recorded for this host (rows whose config does not parse are reported, not dropped).
    public func entries() throws -> (entries: [Entry], unreadable: [String]) {
        var out: [Entry] = [], bad: [String] = []
        for r in try store.deckies() where r.hostUUID == "local" {
            if let j = try? JSONValue.parse(r.config), let s = DeckySpec(json: j) { out.append(Entry(spec: s, state: r.state, lastError: r.lastError)) }
            else { bad.append(r.name) }
        }
        return (out, bad)
    }

    public func record(_ spec: DeckySpec, state: String, error: String? = nil) throws {
        try store.upsertDecky(DeckyRecord(name: spec.name, ip: spec.ip.description, mac: spec.mac,
                                          services: JSONValue.array(spec.services.map { .string($0) }).serialized,
                                          config: spec.json.serialized, state: state, lastError: error, updatedAt: wallClockSeconds()))
    }

    public func remove(_ name: String) throws { try store.deleteDecky(name: name, hostUUID: "local") }

    /// Reconciles the host with the recorded fleet and records each decky's outcome. Lock held by caller.
    public func reconcileRecorded(prefix: String) throws -> DeckyRuntime.Outcome? {
        let (entries, _) = try entries()
        guard let net = try network() else {
            // No fleet: remove whatever a previous run left with this prefix.
            let rt = DeckyRuntime(prefix: prefix, network: FleetNetwork(interface: "lo", subnet: IPv4Network("0.0.0.0/32")!, gateway: nil))
            return rt.reconcile([])
        }
        let rt = DeckyRuntime(prefix: prefix, network: net)
        let out = rt.reconcile(entries.map(\.spec))
        let failed = Dictionary(out.failed, uniquingKeysWith: { a, _ in a })
        for e in entries {
            if let f = failed[e.spec.name] { try record(e.spec, state: "failed", error: f) }
            else if e.state != "running" || e.lastError != nil { try record(e.spec, state: "running") }
        }
        return out
    }
}

extension HostFacts {
    /// Interfaces, IPv4 networks and default gateways of this host (root namespace).
    public static func probe() -> HostFacts {
        var ifs = Set<String>()
        if let d = opendir("/sys/class/net") {
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n != "." && n != ".." { ifs.insert(n) }
            }
            closedir(d)
        }
        var nets: [String: [(IPv4, Int)]] = [:]
        let a = runProgram(["ip", "-j", "-4", "addr", "show"])
        if a.status == 0, case .array(let links)? = try? JSONValue.parse(a.output) {
            for l in links {
                guard let name = l["ifname"]?.stringValue, case .array(let infos)? = l["addr_info"] else { continue }
                for i in infos {
                    if let ip = i["local"]?.stringValue.flatMap(IPv4.init), let p = i["prefixlen"]?.doubleValue, name != "lo" {
                        nets[name, default: []].append((ip, Int(p)))
                    }
                }
            }
        }
        var gws: [String: IPv4] = [:]
        let r = runProgram(["ip", "-j", "-4", "route", "show", "default"])
        if r.status == 0, case .array(let routes)? = try? JSONValue.parse(r.output) {
            for rt in routes {
                if let dev = rt["dev"]?.stringValue, let gw = rt["gateway"]?.stringValue.flatMap(IPv4.init) { gws[dev] = gw }
            }
        }
        return HostFacts(interfaces: ifs, networks: nets, defaultGateway: gws)
    }
}
