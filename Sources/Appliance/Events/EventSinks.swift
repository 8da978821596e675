// EventSinks.swift: where events go: JSON Lines and RFC 5424 files (rotating by size, reopened on
// SIGHUP), the store (through StoreWriter), and the bus (`decky.<decky>.traffic`, bus-eligible events of
// known deckies). One writer thread renders and writes in batches; producers never wait: past the queue's
// capacity events are dropped and counted.
//
// Crash behaviour: a batch is written with one write(2) per file and only ever ends on a line boundary,
// so a process killed between writes leaves whole lines. The kernel may still cut a single write of
// several pages short when SIGKILL lands inside it; every open therefore trims a partial last line
// (counted as `repaired_bytes`), so a file is whole-lined again as soon as the sensor starts.
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public enum SinkError: Error, CustomStringConvertible {
    case open(String)
    public var description: String { switch self { case .open(let m): return m } }
}

/// An append-only file rotated by size: `path` -> `path.1` -> ... -> `path.<keep>`. Several processes may
/// append to one file (the supervised decoy processes of `decnet serve`): each batch is one O_APPEND write,
/// the size that decides rotation is the file's (not this writer's count), rotation happens under an
/// exclusive flock, and a writer whose file was rotated by another one reopens `path` instead of rotating
/// again.
final class RotatingFile {
    let path: String
    let maxBytes: Int
    let keep: Int
    private(set) var fd: Int32 = -1
    private(set) var size = 0
    private(set) var repairedBytes = 0
    private(set) var writeErrors = 0
    private(set) var rotations = 0

    init(path: String, maxBytes: Int, keep: Int) throws {
        self.path = path
        self.maxBytes = max(maxBytes, 4096)
        self.keep = max(keep, 1)
        try open()
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    private func open() throws {
        let f = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard f >= 0 else { throw SinkError.open("cannot open \(path): \(String(cString: strerror(errno)))") }
        fd = f
        var st = stat()
        size = fstat(f, &st) == 0 ? Int(st.st_size) : 0
        repairTail()
    }

    /// Trims a partial last line (a write cut short by a crash).
    private func repairTail() {
        guard size > 0 else { return }
        let r = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard r >= 0 else { return }
        defer { Glibc.close(r) }
        var end = size
        var buf = [UInt8](repeating: 0, count: 65536)
        while end > 0 {
            let start = max(0, end - buf.count)
            let n = buf.withUnsafeMutableBytes { pread(r, $0.baseAddress, end - start, off_t(start)) }
            guard n == end - start else { return }
            if end == size && buf[n - 1] == 0x0a { return }          // already whole
            if let i = buf[0..<n].lastIndex(of: 0x0a) {
                let keepBytes = start + i + 1
                if ftruncate(fd, off_t(keepBytes)) == 0 { repairedBytes += size - keepBytes; size = keepBytes }
                return
            }
            end = start
        }
        if ftruncate(fd, 0) == 0 { repairedBytes += size; size = 0 }
    }

    func reopen() throws {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        try open()
    }

    /// True when `path` is still the file this writer has open.
    private func stillCurrent() -> Bool {
        var a = stat(), b = stat()
        guard fd >= 0, fstat(fd, &a) == 0, stat(path, &b) == 0 else { return false }
        size = Int(a.st_size)
        return a.st_ino == b.st_ino && a.st_dev == b.st_dev
    }

    private func rotate() {
        guard fd >= 0 else { try? open(); return }
        // Whoever holds the lock on the current file rotates it; the others find `path` replaced and reopen.
        flock(fd, LOCK_EX)
        if stillCurrent() && size > 0 && size > maxBytes / 2 {
            for k in stride(from: keep - 1, through: 1, by: -1) { _ = rename("\(path).\(k)", "\(path).\(k + 1)") }
            _ = rename(path, "\(path).1")
            rotations += 1
        }
        flock(fd, LOCK_UN)
        Glibc.close(fd)
        fd = -1
        try? open()
    }

    /// Appends whole lines. A failed write is counted; what was not written is lost, never retried
    /// into a half line.
    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if !stillCurrent() { if fd >= 0 { Glibc.close(fd); fd = -1 }; try? open() }      // rotated by another writer
        if size > 0 && size + bytes.count > maxBytes { rotate() }
        guard fd >= 0 else { writeErrors += 1; return }
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 { if errno == EINTR { continue }; writeErrors += 1; break }
                off += n
            }
            size += off
        }
    }

    func sync() { if fd >= 0 { _ = fdatasync(fd) } }
}

public final class EventPipeline: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var jsonlPath: String?
        public var rfc5424Path: String?
        public var maxFileBytes: Int = 100 << 20
        public var keepFiles: Int = 5
        public var queueCapacity: Int = 65_536
        public var flushInterval: Double = 0.2
        public init() {}
    }

    public struct Stats: Sendable {
        public var submitted = 0, dropped = 0, written = 0, storeDropped = 0, busPublished = 0
        public var writeErrors = 0, repairedBytes = 0, rotations = 0, reopens = 0
    }

    let config: Configuration
    let store: StoreWriter?
    let publisher: ThreadSafePublisher?
    let lock = ConditionMutex()
    var queue: [SensorEvent] = []
    var stats = Stats()
    var closing = false, reopenRequested = false
    var jsonl: RotatingFile?, rfc: RotatingFile?
    var thread: pthread_t?
    let log = ProcessLog("sniffer")

    public init(configuration: Configuration, store: StoreWriter?, publisher: ThreadSafePublisher?) throws {
        config = configuration
        self.store = store
        self.publisher = publisher
        if let p = configuration.jsonlPath { jsonl = try RotatingFile(path: p, maxBytes: configuration.maxFileBytes, keep: configuration.keepFiles) }
        if let p = configuration.rfc5424Path { rfc = try RotatingFile(path: p, maxBytes: configuration.maxFileBytes, keep: configuration.keepFiles) }
        stats.repairedBytes = (jsonl?.repairedBytes ?? 0) + (rfc?.repairedBytes ?? 0)
        queue.reserveCapacity(4096)
        thread = spawnThread(name: "decnet-sinks") { [unowned self] in self.run() }
    }

    /// Never blocks on I/O: queues or drops (counted).
    public func submit(_ events: [SensorEvent]) {
        guard !events.isEmpty else { return }
        lock.withLock {
            stats.submitted += events.count
            let room = config.queueCapacity - queue.count
            if room >= events.count { queue += events } else {
                if room > 0 { queue += events.prefix(room) }
                stats.dropped += events.count - max(room, 0)
            }
            lock.signal()
        }
    }

    /// Reopen the files at the next turn (SIGHUP after logrotate).
    public func requestReopen() { lock.withLock { reopenRequested = true; lock.signal() } }

    public var statistics: Stats { lock.withLock { stats } }

    /// Writes what is queued, closes the files and stops the thread. The store writer is the caller's.
    public func close() {
        lock.withLock { closing = true; lock.signal() }
        if let t = thread { joinThread(t); thread = nil }
    }

    private func run() {
        while true {
            lock.lock()
            while queue.isEmpty && !closing && !reopenRequested { lock.wait(seconds: config.flushInterval) }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let done = closing
            let reopen = reopenRequested
            reopenRequested = false
            lock.unlock()
            if reopen { doReopen() }
            if !batch.isEmpty { write(batch) }
            if done && batch.isEmpty { break }
        }
        jsonl?.sync()
        rfc?.sync()
        jsonl = nil
        rfc = nil
    }

    private func doReopen() {
        do {
            try jsonl?.reopen()
            try rfc?.reopen()
            lock.withLock { stats.reopens += 1 }
            log.info("sink files reopened")
        } catch {
            log.error("reopen failed: \(error)")
        }
    }

    private func write(_ batch: [SensorEvent]) {
        var jbuf: [UInt8] = [], rbuf: [UInt8] = []
        jbuf.reserveCapacity(batch.count * 900)
        rbuf.reserveCapacity(batch.count * 500)
        var logs: [LogRecord] = []
        var extras = StoreBatch()
        if store != nil { logs.reserveCapacity(batch.count) }
        var published = 0
        // Files get whole-line chunks of at most `chunk` bytes, so one big batch cannot overshoot the
        // rotation size by more than a chunk.
        let chunk = min(64 << 10, max(config.maxFileBytes / 4, 1024))
        for e in batch {
            let raw = EventFormat.rfc5424(e)
            let (line, fields) = EventFormat.json(e, rawLine: raw)
            rbuf += raw; rbuf.append(0x0a)
            jbuf += line; jbuf.append(0x0a)
            if jbuf.count >= chunk { jsonl?.write(jbuf); jbuf.removeAll(keepingCapacity: true) }
            if rbuf.count >= chunk { rfc?.write(rbuf); rbuf.removeAll(keepingCapacity: true) }
            if store != nil {
                let ts = Double(e.timestampNs / 1000) / 1e6
                let fieldsText = String(decoding: fields, as: UTF8.self)
                logs.append(LogRecord(timestamp: ts, decky: e.decky ?? "",
                                      service: e.spec.service, eventType: e.spec.id, attackerIP: e.srcIP,
                                      severity: e.spec.severity.rawValue, rawLine: String(decoding: raw, as: UTF8.self),
                                      fields: fieldsText))
                EventPipeline.derivedRows(e, ts: ts, fields: fieldsText, into: &extras)
            }
            if let publisher, e.spec.bus, let d = e.decky, let topic = try? Topic.deckyTraffic(d) {
                var payload: [(String, JSONValue)] = [("decky", .string(d)), ("event_type", .string(e.spec.id)),
                                                      ("ts", .number(Double(e.timestampNs / 1000) / 1e6))]
                for (k, v) in e.orderedFields { payload.append((k, .string(v))) }
                publisher(topic, .object(payload), type: e.spec.id)
                published += 1
            }
        }
        jsonl?.write(jbuf)
        rfc?.write(rbuf)
        var storeDropped = 0
        extras.logs = logs
        if let store, !logs.isEmpty, !store.submit(extras) { storeDropped = logs.count }
        lock.withLock {
            stats.written += batch.count
            stats.storeDropped += storeDropped
            stats.busPublished += published
            stats.writeErrors = (jsonl?.writeErrors ?? 0) + (rfc?.writeErrors ?? 0)
            stats.rotations = (jsonl?.rotations ?? 0) + (rfc?.rotations ?? 0)
        }
    }

    /// Rows an event implies beyond its log line: a credential (any event carrying `secret_b64`) goes to
    /// `credentials` (deduplicated per attacker/decky/service/secret/principal) and to `bounty` as the
    /// original's `credential` bounty; a stored upload (`sha256` + `stored_as`) goes to `artifacts`.
    static func derivedRows(_ e: SensorEvent, ts: Double, fields: String, into batch: inout StoreBatch) {
        let decky = e.decky ?? ""
        if let b64 = e.value("secret_b64") {
            let principal = e.value("principal") ?? e.value("username")
            let kind = e.value("secret_kind") ?? "plaintext"
            let secretHash = Digest.sha256Hex(bytes: Base64.decode(b64) ?? Array(b64.utf8))
            batch.credentials.append(CredentialRecord(
                attackerIP: e.srcIP, deckyName: decky, service: e.spec.service, principal: principal, secretKind: kind,
                secretSHA256: secretHash, secretB64: b64, secretPrintable: e.value("secret_printable"),
                outcome: e.value("auth_result"), fields: fields, seen: ts))
            var payload: [UInt8] = []
            JSONValue.object([
                ("principal", principal.map { .string($0) } ?? .null), ("secret_kind", .string(kind)),
                ("secret_printable", .string(e.value("secret_printable") ?? "")), ("secret_b64", .string(b64)),
                ("auth_result", .string(e.value("auth_result") ?? "")), ("session_id", .string(e.value("session_id") ?? "")),
                ("event_type", .string(e.spec.id)),
            ]).serialize(into: &payload)
            batch.bounty.append(BountyRecord(timestamp: ts, decky: decky, service: e.spec.service, attackerIP: e.srcIP,
                                             bountyType: "credential", payload: String(decoding: payload, as: UTF8.self)))
        }
        if let sha = e.value("sha256"), let path = e.value("stored_as"), !path.isEmpty {
            batch.artifacts.append(ArtifactRecord(
                timestamp: ts, decky: decky, service: e.spec.service, attackerIP: e.srcIP, sessionID: e.value("session_id"),
                kind: e.spec.id, sha256: sha, size: Int64(e.value("size") ?? "") ?? 0, storedAs: path, fields: fields))
        }
    }
}
