// NetnsRuntime.swift: a decky is a Linux network namespace `<prefix><name>` with one interface, eth0,
// carrying the decky's MAC and IP on the LAN:
//   - parent is a bridge: a veth pair, host end `dn<hash>` enslaved to the bridge (tests, topologies);
//   - otherwise: a macvlan (bridge mode) on the parent NIC (production, like the original's decnet_lan).
// The host end carries the ifalias `decnet:<namespace>` so leftovers of a crash are found by name.
// Links and namespaces are made with iproute2 (`ip -batch`); sysctls and sockets inside a namespace go
// through setns on one dedicated thread (NetnsThread). Every operation is idempotent; reconcile() makes
// the host match a desired list, adopting what already matches and removing what nobody wants.
import CDecnetSystem
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The one thread that enters decky namespaces. Jobs run in order; callers block or get a callback.
public final class NetnsThread: @unchecked Sendable {
    public static let shared = NetnsThread()
    private let lock = ConditionMutex()
    private var jobs: [() -> Void] = []

    private var tid: pthread_t?

    private init() {
        tid = spawnThread(name: "decnet-netns") { [unowned self] in
            while true {
                self.lock.lock()
                while self.jobs.isEmpty { self.lock.wait() }
                let job = self.jobs.removeFirst()
                self.lock.unlock()
                job()
            }
        }
    }

    public func async(_ job: @escaping @Sendable () -> Void) {
        lock.withLock { jobs.append(job); lock.signal() }
    }

    /// Runs `body` on the netns thread and waits for it (inline when already there).
    public func sync<T>(_ body: @escaping () -> T) -> T {
        if let t = lock.withLock({ tid }), pthread_equal(t, pthread_self()) != 0 { return body() }
        let done = ConditionMutex()
        var result: T?
        let job: () -> Void = { let r = body(); done.withLock { result = r; done.signal() } }
        lock.withLock { jobs.append(job); lock.signal() }
        done.lock()
        while result == nil { done.wait() }
        let r = result!
        done.unlock()
        return r
    }
}

/// An open handle on a decky namespace (/run/netns/<ns>).
public final class NamespaceHandle: @unchecked Sendable {
    public let name: String
    public let fd: Int32

    public init(name: String) throws {
        let f = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { throw RuntimeError("namespace \(name): \(String(cString: strerror(errno)))") }
        self.name = name
        fd = f
    }
    deinit { close(fd) }

    /// A socket created inside this namespace (on the netns thread).
    public func socket(domain: Int32, type: Int32, nonblocking: Bool = true) throws -> Int32 {
        let fd = self.fd
        let r = NetnsThread.shared.sync { cs_netns_socket(fd, domain, type, 0, nonblocking ? 1 : 0) }
        guard r >= 0 else { throw RuntimeError("socket in \(name): \(String(cString: strerror(-r)))") }
        return r
    }

    public func setSysctls(_ kv: [(String, String)]) -> [String] {
        let fd = self.fd
        return NetnsThread.shared.sync {
            var failed: [String] = []
            for (k, v) in kv {
                let r = cs_netns_sysctl_write(fd, k, v)
                if r != 0 { failed.append("\(k)=\(v): \(String(cString: strerror(-r)))") }
            }
            return failed
        }
    }

    public func sysctl(_ key: String) -> String? {
        let fd = self.fd
        return NetnsThread.shared.sync {
            var buf = [CChar](repeating: 0, count: 256)
            let n = cs_netns_sysctl_read(fd, key, &buf, 256)
            return n >= 0 ? cString(buf) : nil
        }
    }
}

public struct DeckyRuntime: Sendable {
    public let prefix: String
    public let network: FleetNetwork

    public init(prefix: String, network: FleetNetwork) {
        self.prefix = prefix
        self.network = network
    }

    public func namespace(_ decky: String) -> String { prefix + decky }

    /// `dn` + 8 hex of the namespace name: a stable host-side link name within IFNAMSIZ.
    public func hostLink(_ decky: String) -> String {
        var h: UInt32 = 0x811c_9dc5
        for b in namespace(decky).utf8 { h ^= UInt32(b); h &*= 0x0100_0193 }
        let hex: [Character] = Array("0123456789abcdef")
        return "dn" + String((0..<8).map { hex[Int(h >> (28 - 4 * UInt32($0)) & 15)] })
    }

    var parentIsBridge: Bool { access("/sys/class/net/\(network.interface)/bridge", F_OK) == 0 }

    // MARK: host inspection

    public static func namespaces(prefix: String) -> [String] {
        guard let d = opendir("/run/netns") else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n.hasPrefix(prefix) && n != "." && n != ".." { out.append(n) }
        }
        return out.sorted()
    }

    /// Root-namespace links whose ifalias says they belong to a namespace with `prefix`: (link, namespace).
    public static func aliasedLinks(prefix: String) -> [(String, String)] {
        guard let d = opendir("/sys/class/net") else { return [] }
        defer { closedir(d) }
        var out: [(String, String)] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard n.hasPrefix("dn"), let a = readFile("/sys/class/net/\(n)/ifalias", limit: 512) else { continue }
            let alias = String(decoding: a, as: UTF8.self).trimming("\n ")
            if alias.hasPrefix("decnet:" + prefix) { out.append((n, String(alias.dropFirst(7)))) }
        }
        return out
    }

    /// What eth0 inside the namespace carries, nil when the namespace or eth0 is missing.
    func inspect(_ decky: String) -> (mac: String, addrs: [String], up: Bool)? {
        let r = runProgram(["ip", "-n", namespace(decky), "-j", "addr", "show", "dev", "eth0"])
        guard r.status == 0, case .array(let a)? = try? JSONValue.parse(r.output), let o = a.first else { return nil }
        var addrs: [String] = []
        if case .array(let infos)? = o["addr_info"] {
            for i in infos where i["family"]?.stringValue == "inet" {
                if let l = i["local"]?.stringValue, let p = i["prefixlen"]?.doubleValue { addrs.append("\(l)/\(Int(p))") }
            }
        }
        var up = false
        if case .array(let flags)? = o["flags"] { up = flags.contains(.string("UP")) }
        return (o["address"]?.stringValue ?? "", addrs, up)
    }

    /// True when the decky's namespace exists and eth0 is exactly what the spec says (and, for a veth,
    /// its host end is on the bridge).
    public func matches(_ spec: DeckySpec) -> Bool {
        guard let i = inspect(spec.name), i.up, i.mac == spec.mac,
              i.addrs == ["\(spec.ip)/\(network.subnet.prefix)"] else { return false }
        if parentIsBridge {
            let link = hostLink(spec.name)
            guard let m = readFile("/sys/class/net/\(link)/master/uevent", limit: 4096) else { return false }
            return String(decoding: m, as: UTF8.self).contains("INTERFACE=\(network.interface)\n")
        }
        return true
    }

    // MARK: create / destroy

    /// Creates the decky from nothing (call destroy first when something partial may exist).
    public func create(_ spec: DeckySpec) throws {
        let ns = namespace(spec.name), link = hostLink(spec.name)
        var root = "netns add \(ns)\n"
        if parentIsBridge {
            root += "link add \(link) type veth peer name eth0 netns \(ns)\n"
            root += "link set \(link) alias decnet:\(ns)\n"
            root += "link set \(link) master \(network.interface) up\n"
        } else {
            root += "link add link \(network.interface) name \(link) address \(spec.mac) netns \(ns) type macvlan mode bridge\n"
        }
        try ipBatch(nil, root)
        if let failed = Optional(try NamespaceHandle(name: ns).setSysctls(spec.osProfile.sysctls)), !failed.isEmpty {
            throw RuntimeError("\(spec.name): sysctl \(failed.joined(separator: "; "))")
        }
        var inner = parentIsBridge ? "" : "link set \(link) name eth0\n"
        inner += "link set eth0 address \(spec.mac)\n"
        inner += "link set lo up\n"
        inner += "addr add \(spec.ip)/\(network.subnet.prefix) dev eth0\n"
        inner += "link set eth0 up\n"
        if let gw = network.gateway { inner += "route add default via \(gw) dev eth0\n" }
        try ipBatch(ns, inner)
    }

    /// Removes the decky's links and namespace; missing pieces are fine.
    public func destroy(_ decky: String) {
        let ns = namespace(decky)
        if access("/run/netns/\(ns)", F_OK) == 0 {
            _ = runProgram(["ip", "-n", ns, "link", "del", "eth0"])
            _ = runProgram(["ip", "netns", "del", ns])
        }
        let link = hostLink(decky)
        if access("/sys/class/net/\(link)", F_OK) == 0 { _ = runProgram(["ip", "link", "del", link]) }
    }

    func ipBatch(_ ns: String?, _ commands: String) throws {
        var argv = ["ip"]
        if let ns { argv += ["-n", ns] }
        argv += ["-batch", "-"]
        let r = runProgram(argv, input: commands, captureStderr: true)
        guard r.status == 0 else {
            throw RuntimeError("ip\(ns.map { " -n " + $0 } ?? ""): \(r.output.trimming("\n "))")
        }
    }

    // MARK: reconcile

    public struct Outcome: Sendable {
        public var adopted: [String] = [], created: [String] = [], removed: [String] = []
        public var failed: [(String, String)] = []
    }

    /// Makes the host match `desired`: adopts matching deckies, (re)creates the rest, removes every
    /// namespace and host link with this prefix that no desired decky owns.
    public func reconcile(_ desired: [DeckySpec]) -> Outcome {
        var out = Outcome()
        let want = Set(desired.map { namespace($0.name) })
        for ns in DeckyRuntime.namespaces(prefix: prefix) where !want.contains(ns) {
            destroy(String(ns.dropFirst(prefix.count)))
            out.removed.append(String(ns.dropFirst(prefix.count)))
        }
        for (link, ns) in DeckyRuntime.aliasedLinks(prefix: prefix) where !want.contains(ns) {
            _ = runProgram(["ip", "link", "del", link])
        }
        for spec in desired {
            if matches(spec) {
                // Adopted: re-assert the persona's sysctls (cheap, and a crash may have cut creation short).
                let failed = (try? NamespaceHandle(name: namespace(spec.name)).setSysctls(spec.osProfile.sysctls)) ?? ["namespace vanished"]
                if failed.isEmpty { out.adopted.append(spec.name) } else { out.failed.append((spec.name, failed.joined(separator: "; "))) }
                continue
            }
            destroy(spec.name)
            do {
                try create(spec)
                out.created.append(spec.name)
            } catch {
                destroy(spec.name)
                out.failed.append((spec.name, "\(error)"))
            }
        }
        return out
    }
}
