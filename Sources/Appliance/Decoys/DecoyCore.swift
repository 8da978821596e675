// DecoyCore.swift: the one shape every decoy has.
//
// A decoy is a session type: bytes in, bytes/events/close out, no I/O of its own. DecoyChannelHandler
// (DecoyServer.swift) feeds it from a NIO channel; tests feed it directly. Sessions read attacker bytes
// through LineBuffer or their own bounded framing, and every limit hit becomes data (an anomaly field or
// event), never a crash. Events use the common envelope of ../shared/spec/decoys.md §4: the endpoints,
// session_id and transport on every event; principal/username/secret_kind/secret_printable/secret_b64/
// auth_result on every credential; ids are dotted `<service>.<category>.<action>`.
import Crypto
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

/// What a session asks of its connection.
public final class DecoyIO {
    public enum Output { case bytes([UInt8], delay: Double), close(delay: Double), call(delay: Double, () -> Void) }
    public private(set) var outputs: [Output] = []
    public private(set) var events: [SensorEvent] = []
    /// Set by the server: opens a passive data listener in the decky's namespace (FTP).
    public var dataListener: ((_ onConnect: @escaping (DataConnection) -> Void, _ ready: @escaping (Int?) -> Void) -> Void)?

    /// Set by the server: a session that queued output from a callback (not from receive) calls it.
    public var wake: (() -> Void)?

    public init() {}

    public func send(_ bytes: [UInt8], after delay: Double = 0) { outputs.append(.bytes(bytes, delay: delay)) }
    public func send(_ text: String, after delay: Double = 0) { send(Array(text.utf8), after: delay) }
    public func close(after delay: Double = 0) { outputs.append(.close(delay: delay)) }
    public func emit(_ e: SensorEvent) { events.append(e) }
    /// Runs `body` after `delay` seconds (in order with sends); what it queues goes out then.
    public func after(_ delay: Double, _ body: @escaping () -> Void) { outputs.append(.call(delay: delay, body)) }

    public func drain() -> ([Output], [SensorEvent]) {
        defer { outputs.removeAll(); events.removeAll() }
        return (outputs, events)
    }
}

/// A secondary connection a session owns (FTP data channel).
public protocol DataConnection: AnyObject {
    func write(_ bytes: [UInt8], then close: Bool)
    var onData: (([UInt8]) -> Void)? { get set }
    var onClose: (() -> Void)? { get set }
    func close()
}

/// Who a session talks to and what it is.
public struct DecoySessionInfo: Sendable {
    public let decky: DeckySpec
    public let service: String
    public let sessionID: String
    public let client: IPAddress, clientPort: UInt16
    public let local: IPAddress, localPort: UInt16
    public let artifactsDir: String?
    /// The serving decoy server's per-decky state (a private one for a session made outside a server).
    public let states: DeckyStates

    public init(decky: DeckySpec, service: String, sessionID: String = newSessionID(), client: IPAddress, clientPort: UInt16,
                local: IPAddress, localPort: UInt16, artifactsDir: String?, states: DeckyStates = DeckyStates()) {
        self.decky = decky
        self.service = service
        self.sessionID = sessionID
        self.client = client
        self.clientPort = clientPort
        self.local = local
        self.localPort = localPort
        self.artifactsDir = artifactsDir
        self.states = states
    }

    public func config(_ key: String) -> String? { decky.config(service, key) }
    public var distro: DistroProfile { decky.distroProfile }
    /// A generator seeded by decky and service: versions and salts stay put across restarts.
    public var personaRandom: SeededRandom { SeededRandom(seed: decky.name + "/" + service) }

    /// An event with the envelope filled; `fields` in any order.
    public func event(_ spec: EventSpec, _ fields: [(String, String)] = []) -> SensorEvent {
        var e = SensorEvent(spec, timestampNs: wallClockNs(), src: client, srcPort: clientPort, dst: local, dstPort: localPort)
        e.decky = decky.name
        e.set(unordered: [("session_id", sessionID), ("transport", "tcp")] + fields)
        return e
    }
}

public func wallClockNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// A random (v4) UUID.
public func newSessionID() -> String {
    var g = SystemRandomNumberGenerator()
    var b = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
    b[6] = b[6] & 0x0f | 0x40
    b[8] = b[8] & 0x3f | 0x80
    return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { Hex.bytes(b[$0]) }.joined(separator: "-")
}

/// One decoy session. All calls come from one thread (the connection's event loop).
public protocol DecoySession: AnyObject {
    func start(_ io: DecoyIO)
    func receive(_ bytes: [UInt8], _ io: DecoyIO)
    /// Idle timeout or a peer that went away; a last chance to emit.
    func end(reason: String, _ io: DecoyIO)
}

extension DecoySession {
    /// Most servers wait for the client; most sessions have nothing to add at the end.
    public func start(_ io: DecoyIO) {}
    public func end(reason: String, _ io: DecoyIO) {}
}

/// How a service is registered: ports, a session factory and its events.
public struct DecoyDefinition: Sendable {
    public let slug: String
    public let ports: [UInt16]
    public let events: [EventSpec]
    /// Seconds of silence before the server closes a connection.
    public let idleTimeout: Double
    /// Product and version the decoy claims (the `persona` field of session.connect).
    public let persona: @Sendable (DecoySessionInfo) -> String
    public let make: @Sendable (DecoySessionInfo) -> DecoySession
    /// Work done once per decky when its listeners open, off the event loop (key generation), so the
    /// first connection is answered as promptly as later ones: (decky, artifacts directory) -> a problem the
    /// operator must hear of (a key that cannot be read or written), logged once by the server; nil when all is well.
    public var prepare: (@Sendable (DeckySpec, String?, DeckyStates) -> String?)? = nil
    /// Problems with a decky's `[name.<service>]` keys, checked by deploy before anything is created.
    public var checkConfig: (@Sendable ([String: String]) -> [String])? = nil
    /// Bytes one connection may send, when the service streams them to disk instead of holding them (SSH
    /// uploads); nil = the server's limit.
    public var maxSessionBytes: Int? = nil
}

/// Event specs for decoys: envelope fields first, then the event's own, then credential fields.
public enum DecoyEvents {
    public static let envelope = ["session_id", "transport"]
    public static let credential = ["principal", "username", "secret_kind", "secret_printable", "secret_b64", "auth_result"]

    public static func spec(_ service: String, _ action: String, _ fields: [String] = [], credential: Bool = false,
                            severity: EventSeverity = .info, optional: Set<String> = []) -> EventSpec {
        let all = envelope + fields + (credential ? DecoyEvents.credential : [])
        return EventSpec("\(service).\(action)", severity, bus: true, fields: all,
                         optional: optional.union(fields).union(credential ? ["principal"] : []), dedup: [], service: service)
    }

    public static func connect(_ s: String) -> EventSpec { spec(s, "session.connect", ["persona"]) }
    public static func closed(_ s: String) -> EventSpec { spec(s, "session.closed", ["duration_s", "bytes_in", "bytes_out", "reason"]) }

    /// Credential fields of one attempt: printable with bytes outside 0x20-0x7e as '?', and the raw bytes.
    public static func credential(principal: String?, username: String, secret: [UInt8], kind: String = "plaintext",
                                  result: String) -> [(String, String)] {
        var f: [(String, String)] = [("username", username), ("secret_kind", kind),
                                     ("secret_printable", printable(secret)), ("secret_b64", Base64.encode(secret)),
                                     ("auth_result", result)]
        if let principal { f.append(("principal", principal)) }
        return f
    }

    public static func printable(_ b: some Collection<UInt8>, max: Int = 512) -> String {
        String(decoding: b.prefix(max).map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// Which credentials a decoy accepts (service key `accept`):
///   `never`, `any`, `after:N` (the Nth attempt of a session and later), or
///   `user:pass,user2:pass2` (fixed pairs; `*` as a password accepts any for that user).
public struct CredentialPolicy: Sendable, Equatable {
    public enum Rule: Sendable, Equatable { case never, any, after(Int), fixed([(String, String)])
        public static func == (a: Rule, b: Rule) -> Bool {
            switch (a, b) {
            case (.never, .never), (.any, .any): return true
            case let (.after(x), .after(y)): return x == y
            case let (.fixed(x), .fixed(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }
    }
    public let rule: Rule

    public init(_ text: String?, default d: Rule) {
        guard let t = text?.trimmingSpaces, !t.isEmpty else { rule = d; return }
        switch t {
        case "never": rule = .never
        case "any": rule = .any
        default:
            if t.hasPrefix("after:"), let n = Int(t.dropFirst(6)), n >= 1 { rule = .after(n); return }
            var pairs: [(String, String)] = []
            for p in t.split(separator: ",") {
                let kv = p.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2 { pairs.append((kv[0].trimmingSpaces, kv[1].trimmingSpaces)) }
            }
            rule = pairs.isEmpty ? d : .fixed(pairs)
        }
    }

    /// `attempt` counts from 1 within the session.
    public func accepts(user: String, password: [UInt8], attempt: Int) -> Bool {
        switch rule {
        case .never: return false
        case .any: return true
        case .after(let n): return attempt >= n
        case .fixed(let pairs):
            let p = String(decoding: password, as: UTF8.self)
            return pairs.contains { $0.0 == user && ($0.1 == "*" || $0.1 == p) }
        }
    }
}

/// Lines from a byte stream: `\n` ends a line (a `\r` before it is dropped). A line longer than `max`
/// is cut: the first `max` bytes come out with `overflow` set and the rest up to the newline is skipped.
public struct LineBuffer {
    public let max: Int
    private var buf: [UInt8] = []
    private var skipping = false

    public init(max: Int) { self.max = max }

    public var pending: Int { buf.count }

    public mutating func feed(_ bytes: [UInt8], _ line: (_ line: [UInt8], _ overflow: Bool) -> Void) {
        for b in bytes {
            if b == 0x0a {
                if skipping { skipping = false; buf.removeAll(keepingCapacity: true); continue }
                if buf.last == 0x0d { buf.removeLast() }
                line(buf, false)
                buf.removeAll(keepingCapacity: true)
                continue
            }
            if skipping { continue }
            buf.append(b)
            if buf.count > max {
                line(Array(buf.prefix(max)), true)
                buf.removeAll(keepingCapacity: true)
                skipping = true
            }
        }
    }
}

/// How much attackers may leave on this host's disk (the disk the store shares): bytes kept per source
/// address, per decky and in total. Uploads past a quota are counted, not kept. The total starts from what
/// the artifacts directory already holds. `decnet serve --artifact-quota-*-mb` sets the limits.
public final class ArtifactQuota: @unchecked Sendable {
    public struct Limits: Sendable, Equatable {
        public var perSource: Int = 256 << 20
        public var perDecky: Int = 1 << 30
        public var total: Int = 4 << 30
        public init(perSource: Int = 256 << 20, perDecky: Int = 1 << 30, total: Int = 4 << 30) {
            self.perSource = perSource
            self.perDecky = perDecky
            self.total = total
        }
    }

    public static let shared = ArtifactQuota()
    private let lock = ConditionMutex()
    private var limits = Limits()
    private var bySource: [String: Int] = [:]
    private var byDecky: [String: Int] = [:]
    private var total = 0
    /// Bytes refused by a quota since start.
    public private(set) var refusedBytes = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// New limits; `used` is what the artifacts directory holds already (counted against the total).
    public func configure(_ l: Limits, used: Int = 0) {
        lock.withLock { limits = l; total = used }
    }

    /// Grants up to `want` bytes for this source and decky (0 when a quota is used up) and counts them.
    public func grant(source: String, decky: String, want: Int) -> Int {
        lock.withLock {
            let room = max(0, min(limits.perSource - bySource[source, default: 0], limits.perDecky - byDecky[decky, default: 0],
                                  limits.total - total))
            let n = min(want, room)
            if n > 0 {
                bySource[source, default: 0] += n
                byDecky[decky, default: 0] += n
                total += n
            }
            refusedBytes += want - n
            return n
        }
    }

    public var used: Int { lock.withLock { total } }

    /// Bytes under `dir` (regular files, recursively), for `configure(used:)`.
    public static func diskUsage(_ dir: String) -> Int {
        guard let d = opendir(dir) else { return 0 }
        defer { closedir(d) }
        var sum = 0
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name == "." || name == ".." { continue }
            let p = dir + "/" + name
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR { sum += diskUsage(p) } else if (st.st_mode & S_IFMT) == S_IFREG { sum += Int(st.st_size) }
        }
        return sum
    }
}

/// Uploads written under `<root>/<decky>/<service>/`: streamed to a temporary file, hashed as they go,
/// capped at `cap` bytes and at the source's/decky's/host's `ArtifactQuota` (the rest is counted, not
/// kept), then renamed to the SHA-256 of exactly the bytes that reached the file (a short write, ENOSPC
/// included, stops keeping; the name never claims bytes the file does not hold).
public final class ArtifactWriter {
    public let cap: Int
    private var fd: Int32 = -1
    private var tmpPath = ""
    private var dir = ""
    private var digest = SHA256()
    private let source: String
    private let decky: String
    private let quota: ArtifactQuota
    public private(set) var size = 0
    public private(set) var received = 0
    /// Why bytes were not kept: "quota" (a quota ran out) or "write_error: <errno text>" (disk full...).
    public private(set) var limitedBy: String?

    public init?(root: String?, decky: String, service: String, source: String = "", cap: Int = 8 << 20,
                 quota: ArtifactQuota = .shared) {
        guard let root else { return nil }
        self.cap = cap
        self.source = source
        self.decky = decky
        self.quota = quota
        dir = "\(root)/\(decky)/\(service)"
        guard makeDirectories(dir) else { return nil }
        tmpPath = "\(dir)/.upload-\(newSessionID())"
        fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
    }

    deinit {
        if fd >= 0 { close(fd); unlink(tmpPath) }
    }

    public func write(_ bytes: [UInt8]) {
        received += bytes.count
        guard fd >= 0, limitedBy == nil || limitedBy == "quota" else { return }
        let room = cap - size
        guard room > 0 else { return }
        let want = min(bytes.count, room)
        let granted = quota.grant(source: source, decky: decky, want: want)
        if granted < want { limitedBy = "quota" }
        guard granted > 0 else { return }
        bytes.prefix(granted).withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    limitedBy = "write_error: \(String(cString: strerror(errno)))"
                    break
                }
                if n == 0 { limitedBy = "write_error: short write"; break }
                off += n
            }
            // Only what reached the file is hashed.
            if off > 0 { digest.update(bufferPointer: UnsafeRawBufferPointer(rebasing: b[0..<off])) }
            size += off
        }
    }

    /// (sha256 of what was kept, kept size, stored path, truncated).
    public func finish() -> (sha256: String, size: Int, path: String, truncated: Bool) {
        let sha = Hex.bytes(digest.finalize())
        if fd >= 0 {
            if fsync(fd) != 0, limitedBy == nil { limitedBy = "write_error: \(String(cString: strerror(errno)))" }
            close(fd)
            fd = -1
        }
        let final = "\(dir)/\(sha)"
        if rename(tmpPath, final) != 0 { unlink(tmpPath) }
        return (sha, size, final, received > size)
    }
}


/// State a decoy keeps per decky across connections (Redis's keyspace and config, FTP's uploads), so a
/// second connection sees what the first one changed, as on a real server. Values are classes the
/// sessions mutate under `lock`; the server drops a decky's state when it stops serving it.
public final class DeckyShared<T>: @unchecked Sendable {
    public let lock = ConditionMutex()
    public var value: T
    init(_ v: T) { value = v }
    public func with<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&value) } }
}

/// Every decky's decoy state, owned by one decoy server (no process-wide table): looked up by decky and
/// service, dropped with the decky. Sessions reach it through their `DecoySessionInfo`.
public final class DeckyStates: @unchecked Sendable {
    private var table: [String: AnyObject] = [:]
    private let lock = ConditionMutex()

    public init() {}

    public func get<T>(decky: String, service: String, _ make: () -> T) -> DeckyShared<T> {
        lock.withLock {
            let key = decky + "\u{0}" + service
            if let o = table[key] as? DeckyShared<T> { return o }
            let o = DeckyShared(make())
            table[key] = o
            return o
        }
    }

    public func drop(decky: String) {
        lock.withLock { table = table.filter { !$0.key.hasPrefix(decky + "\u{0}") } }
    }
}
