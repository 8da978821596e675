// BusServer.swift: the host-local broker behind `decnet bus` (UNIX socket, NATS-style wildcards, drop-oldest).
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where the bus socket lives (spec §1.1; `bus.socket` in the configuration).
public func defaultBusSocketPath() -> String { DecnetConfiguration.current.busSocket }

public enum BusServerError: Error, CustomStringConvertible, Equatable {
    case parentMissing(String)
    case notASocket(String)
    case notOurs(String, uid: UInt32)
    case inUse(String)
    case pathTooLong(String)
    case bindFailed(String, String)

    public var description: String {
        switch self {
        case .parentMissing(let p): return "bus: socket directory \(p) does not exist (create it, e.g. systemd RuntimeDirectory=decnet)"
        case .notASocket(let p): return "bus: \(p) exists and is not a socket; refusing to replace it"
        case .notOurs(let p, let uid): return "bus: \(p) is a socket owned by uid \(uid), not us; refusing to replace it"
        case .inUse(let p): return "bus: another broker is already listening on \(p)"
        case .pathTooLong(let p): return "bus: socket path \(p) is longer than a UNIX socket address allows"
        case .bindFailed(let p, let why): return "bus: cannot listen on \(p): \(why)"
        }
    }
}

/// Counters of the broker, read from any thread.
public struct BusServerStats: Sendable, Equatable {
    public var connections = 0
    public var published = 0
    public var delivered = 0
    public var dropped = 0
    public var protocolErrors = 0
}

/// The host-local broker (`decnet bus`): UNIX socket, the original's framing, NATS wildcards, per-connection
/// outbound queue of 1024 frames with drop-oldest (counted), at-most-once, publishers never block.
/// All broker state lives on one event loop; frames are encoded once per event and shared by reference.
public final class BusServer: @unchecked Sendable {
    public let path: String
    public let group: String?
    public let heartbeatInterval: Double
    let loopGroup: MultiThreadedEventLoopGroup
    let loop: any EventLoop
    private var channel: (any Channel)?
    private let log = ProcessLog("bus.server")
    private let started = monotonicSeconds()

    // Loop-confined state.
    var connections: [ObjectIdentifier: BrokerConnection] = [:]
    var dirty: [BrokerConnection] = []
    private let statsLock = ConditionMutex()
    private var _stats = BusServerStats()

    public init(path: String = defaultBusSocketPath(), group: String? = "decnet", heartbeatInterval: Double = 10) {
        self.path = path
        self.group = group
        self.heartbeatInterval = heartbeatInterval
        loopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = loopGroup.next()
    }

    public var stats: BusServerStats { statsLock.withLock { _stats } }
    func count(_ body: (inout BusServerStats) -> Void) { statsLock.withLock { body(&_stats) } }

    /// Binds the socket (after the safety checks) and starts serving and heartbeating.
    public func start() throws {
        try prepareSocketPath()
        let bootstrap = ServerBootstrap(group: loopGroup)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 32 << 10, high: 256 << 10))
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(BrokerConnection(server: self))
                }
            }
        let old = umask(0o117)          // the socket is born 0660: no window where others can connect
        defer { umask(old) }
        do {
            channel = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).wait()
        } catch {
            throw BusServerError.bindFailed(path, "\(error)")
        }
        chmod(path, 0o660)
        applyGroup()
        log.info("listening on \(path) (mode=660 group=\(group ?? "<inherit>"))")
        if heartbeatInterval > 0 {
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: .nanoseconds(Int64(heartbeatInterval * 1e9))) { [self] _ in
                heartbeat()
            }
        }
    }

    /// Blocks until `close` is called from elsewhere.
    public func wait() throws { try channel?.closeFuture.wait() }

    /// Closes the listener and every connection, removes the socket file. Idempotent.
    public func close() {
        guard let ch = channel else { return }
        channel = nil
        try? ch.close().wait()
        try? loop.submit { [self] in
            for c in connections.values { c.context?.close(promise: nil) }
        }.wait()
        unlink(path)
        try? loopGroup.syncShutdownGracefully()
        log.info("closed")
    }

    // MARK: socket path safety

    private func prepareSocketPath() throws {
        if path.utf8.count >= 108 { throw BusServerError.pathTooLong(path) }
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dir = parent.isEmpty ? "/" : parent
        if access(dir, F_OK) != 0 {
            let home = ProcessEnvironment.home ?? ""
            if !home.isEmpty && dir == home + "/.decnet" {
                mkdir(dir, 0o700)
            } else {
                throw BusServerError.parentMissing(dir)
            }
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }        // nothing there
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw BusServerError.notASocket(path) }
        if st.st_uid != getuid() && getuid() != 0 { throw BusServerError.notOurs(path, uid: st.st_uid) }
        if BusServer.someoneListens(path) { throw BusServerError.inUse(path) }
        unlink(path)                                      // stale socket of a crashed broker
    }

    static func someoneListens(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: b)
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }

    private func applyGroup() {
        guard let group, !group.isEmpty else { return }
        guard let gr = getgrnam(group) else {
            log.debug("group \(group) does not exist; socket keeps the process group")
            return
        }
        if chown(path, uid_t.max, gr.pointee.gr_gid) != 0 {
            log.debug("chown \(path) to group \(group) failed: \(String(cString: strerror(errno)))")
        }
    }

    // MARK: loop-confined broker logic

    func register(_ c: BrokerConnection) {
        connections[ObjectIdentifier(c)] = c
        count { $0.connections = connections.count }
    }

    func unregister(_ c: BrokerConnection) {
        connections[ObjectIdentifier(c)] = nil
        count { $0.connections = connections.count }
    }

    /// Fans one encoded EVT frame out to every other connection with a matching pattern.
    func fanOut(topic: UnsafeRawBufferPointer, frame: ByteBuffer, origin: BrokerConnection?) {
        var delivered = 0
        var dropped = 0
        for c in connections.values where c !== origin && c.matches(topic) {
            if c.enqueue(frame) { dropped += 1 }
            delivered += 1
            if !c.isDirty {
                c.isDirty = true
                dirty.append(c)
            }
        }
        count {
            $0.published += 1
            $0.delivered += delivered
            $0.dropped += dropped
        }
    }

    func flushDirty() {
        for c in dirty {
            c.isDirty = false
            c.flush()
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Builds the EVT frame for a publish: the server mints id, ts and v (spec §1.3).
    /// Event ids for this broker (loop-confined).
    var ids = EventIDSource()

    /// `ts` of events minted in the current read burst (one clock read and one float format per burst,
    /// not per event: the events of a burst arrive within microseconds). Loop-confined.
    private var tsBytes: [UInt8] = []
    private var tsAt = -1.0

    func refreshTimestamp() {
        let now = monotonicSeconds()
        if now - tsAt > 0.0005 {
            tsAt = now
            tsBytes = Array(wallClockSeconds().description.utf8)
        }
    }

    func evtFrame(topic: UnsafeRawBufferPointer, type: UnsafeRawBufferPointer?, payload: UnsafeRawBufferPointer?,
                  allocator: ByteBufferAllocator) -> ByteBuffer {
        if tsBytes.isEmpty { refreshTimestamp() }
        let plainTopic = topic.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }   // ASCII header: usually true
        var quoted: [UInt8] = []
        if !plainTopic { JSONWriter.string(String(decoding: topic, as: UTF8.self), into: &quoted) }
        let topicLen = plainTopic ? topic.count + 2 : quoted.count
        let typeLen = type?.count ?? 2
        let payloadLen = payload?.count ?? 2
        // Exact size: "EVT " topic "\n" len4, then {"v":1,"id":" (13) id (32) ","topic": (10) ,"type": (8) ,"ts": (6)
        // ,"payload": (11) } (1) = 81 fixed body bytes. (80 here wrote one byte past the buffer whenever the
        // allocation came out exactly `total` bytes: a broker crash seen once in CI.)
        let total = 4 + topic.count + 5 + 81 + topicLen + typeLen + tsBytes.count + payloadLen
        var buf = allocator.buffer(capacity: total)
        buf.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            var i = 0
            @inline(__always) func put(_ s: StaticString) {
                memcpy(out.baseAddress! + i, s.utf8Start, s.utf8CodeUnitCount)
                i += s.utf8CodeUnitCount
            }
            @inline(__always) func put(_ b: UnsafeRawBufferPointer) {
                if b.count > 0 { memcpy(out.baseAddress! + i, b.baseAddress!, b.count) }
                i += b.count
            }
            put("EVT ")
            put(topic)
            out[i] = 0x0A
            let lenAt = i + 1
            i += 5
            put(#"{"v":1,"id":""#)
            ids.write(into: UnsafeMutableRawBufferPointer(rebasing: out[i..<(i + 32)]))
            i += 32
            put(#"","topic":"#)
            if plainTopic {
                out[i] = 0x22; i += 1
                put(topic)
                out[i] = 0x22; i += 1
            } else {
                quoted.withUnsafeBytes { put($0) }
            }
            put(#","type":"#)
            if let type { put(type) } else { put(#""""#) }
            put(#","ts":"#)
            tsBytes.withUnsafeBytes { put($0) }
            put(#","payload":"#)
            if let payload { put(payload) } else { put("{}") }
            out[i] = UInt8(ascii: "}")
            i += 1
            let bodyLen = i - (lenAt + 4)
            out[lenAt] = UInt8(truncatingIfNeeded: bodyLen >> 24)
            out[lenAt + 1] = UInt8(truncatingIfNeeded: bodyLen >> 16)
            out[lenAt + 2] = UInt8(truncatingIfNeeded: bodyLen >> 8)
            out[lenAt + 3] = UInt8(truncatingIfNeeded: bodyLen)
            return i
        }
        return buf
    }

    /// Publishes from the broker itself (its heartbeat). Loop-confined.
    func publishLocal(topic: String, payload: JSONValue, type: String) {
        var p: [UInt8] = []
        payload.serialize(into: &p)
        var t: [UInt8] = []
        JSONWriter.string(type, into: &t)
        var topicCopy = topic
        topicCopy.withUTF8 { tb in
            p.withUnsafeBytes { pb in
                t.withUnsafeBytes { tyb in
                    let frame = evtFrame(topic: UnsafeRawBufferPointer(tb), type: tyb, payload: pb,
                                                   allocator: ByteBufferAllocator())
                    fanOut(topic: UnsafeRawBufferPointer(tb), frame: frame, origin: nil)
                }
            }
        }
        flushDirty()
    }

    private func heartbeat() {
        let s = stats
        let uptime = ((monotonicSeconds() - started) * 1000).rounded() / 1000
        publishLocal(topic: Topic.busHealth, payload: .object([
            ("pid", .number(Double(getpid()))), ("uptime_sec", .number(uptime)), ("ts", .number(wallClockSeconds())),
            ("connections", .number(Double(s.connections))), ("published", .number(Double(s.published))),
            ("dropped", .number(Double(s.dropped))), ("protocol_errors", .number(Double(s.protocolErrors))),
        ]), type: Topic.Leaf.busHealth)
    }
}

/// uuid4 hex ids from the kernel CSPRNG, drawn 4 KiB at a time (one getrandom per 256 ids instead of two
/// per event: that syscall was a quarter of the broker's CPU).
struct EventIDSource {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var used = 4096
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    /// Writes 32 hex characters into `o` (exactly 32 bytes).
    mutating func write(into o: UnsafeMutableRawBufferPointer) {
        if used + 16 > pool.count {
            let got = pool.withUnsafeMutableBytes { raw in read(EventIDSource.urandom, raw.baseAddress, raw.count) }
            if got != pool.count {          // /dev/urandom does not return short reads of 4 KiB; be safe anyway
                var g = SystemRandomNumberGenerator()
                pool.withUnsafeMutableBytes { raw in
                    for i in stride(from: 0, to: raw.count, by: 8) { raw.storeBytes(of: g.next() as UInt64, toByteOffset: i, as: UInt64.self) }
                }
            }
            used = 0
        }
        pool.withUnsafeMutableBytes { p in
            uuid4Hex(random: UnsafeMutableRawBufferPointer(rebasing: p[used..<(used + 16)]), into: o)
        }
        used += 16
    }
}

/// One client connection on the broker's loop: frame parsing, its patterns, its bounded outbound queue.
final class BrokerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned let server: BusServer
    var context: ChannelHandlerContext?
    var peerName = "<unknown>"
    var patterns: [String] = []
    private var patternBytes: [[UInt8]] = []
    private var inbound: ByteBuffer?
    private var scanned = 0
    private var queue = CircularBuffer<ByteBuffer>(initialCapacity: 16)
    /// Frames written since the last flush, coalesced into one buffer (one write syscall per flush).
    private var pendingOut: ByteBuffer?
    var isDirty = false
    private var closed = false
    private let log = ProcessLog("bus.server")

    init(server: BusServer) { self.server = server }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        server.register(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed = true
        server.unregister(self)
        self.context = nil
    }

    func matches(_ topic: UnsafeRawBufferPointer) -> Bool {
        for p in patternBytes {
            if p.withUnsafeBytes({ topicMatches(pattern: $0, topic: topic) }) { return true }
        }
        return false
    }

    /// Queues or writes a frame. Returns true when the oldest queued frame had to be dropped.
    func enqueue(_ frame: ByteBuffer) -> Bool {
        guard let context, !closed else { return false }
        if queue.isEmpty && context.channel.isWritable {
            var f = frame
            // 64 KiB buffers, written out when 48 KiB are queued: below malloc's mmap threshold, so a
            // flush does not cost page faults (measured: 15% of the broker's CPU at 16 subscribers).
            if pendingOut == nil {
                pendingOut = context.channel.allocator.buffer(capacity: max(65_536, frame.readableBytes))
            }
            pendingOut!.writeBuffer(&f)
            if pendingOut!.readableBytes >= 48 << 10 { flush() }
            return false
        }
        var dropped = false
        if queue.count >= BusLimits.queueDepth {
            _ = queue.removeFirst()
            dropped = true
            log.debug("subscriber queue full, dropped event for \(peerName)")
        }
        queue.append(frame)
        return dropped
    }

    func flush() {
        guard let context else { return }
        if let out = pendingOut {
            pendingOut = nil
            context.write(NIOAny(out), promise: nil)
        }
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable else { return }
        while context.channel.isWritable, let f = queue.popFirst() {
            context.write(NIOAny(f), promise: nil)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if inbound == nil {
            inbound = incoming
        } else {
            inbound!.writeBuffer(&incoming)
        }
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        server.flushDirty()
    }

    private func process(context: ChannelHandlerContext) {
        guard var buf = inbound else { return }
        server.refreshTimestamp()
        inbound = nil
        do {
            while buf.readableBytes > 0, !closed {
                let used: Int? = try buf.withUnsafeReadableBytes { raw throws(BusProtocolError) -> Int? in
                    guard let f = try BusFrameParser.locate(raw, scanned: &scanned) else { return nil }
                    try handle(f, raw, context: context)
                    return f.consumed
                }
                guard let used else { break }
                buf.moveReaderIndex(forwardBy: used)
            }
        } catch {
            server.count { $0.protocolErrors += 1 }
            log.warning("protocol error from \(peerName): \(error); dropping connection")
            closed = true
            context.close(promise: nil)
            return
        }
        if buf.readableBytes > 0 {
            buf.discardReadBytes()
            inbound = buf
        }
    }

    private func handle(_ f: BusFrameParser.Located, _ raw: UnsafeRawBufferPointer,
                        context: ChannelHandlerContext) throws(BusProtocolError) {
        switch f.verb {
        case .hello:
            if !f.args.isEmpty { peerName = f.args }
            log.debug("HELLO from \(peerName)")
        case .sub:
            guard !f.args.isEmpty else { throw .missingArgument(.sub) }
            if !patterns.contains(f.args) {
                patterns.append(f.args)
                patternBytes.append(Array(f.args.utf8))
            }
        case .unsub:
            if let i = patterns.firstIndex(of: f.args) {
                patterns.remove(at: i)
                patternBytes.remove(at: i)
            }
        case .pub:
            guard !f.args.isEmpty else { throw .missingArgument(.pub) }
            let body = UnsafeRawBufferPointer(rebasing: raw[f.body])
            var typeRange: Range<Int>?
            var payloadRange: Range<Int>?
            if body.count > 0 {
                do throws(JSONError) {
                    try JSONScanner.members(of: body) { key, value in
                        if key.count == 4 && memcmp(key.baseAddress!, "type", 4) == 0 { typeRange = value }
                        else if key.count == 7 && memcmp(key.baseAddress!, "payload", 7) == 0 { payloadRange = value }
                    }
                } catch {
                    throw .badBody(error.description)
                }
            }
            // The original keeps `payload or {}` and `type or ""` (Python truthiness).
            let payload = payloadRange.map { UnsafeRawBufferPointer(rebasing: body[$0]) }.flatMap { rawTruthy($0) ? $0 : nil }
            let type = typeRange.map { UnsafeRawBufferPointer(rebasing: body[$0]) }.flatMap { rawTruthy($0) ? $0 : nil }
            var topic = f.args
            topic.withUTF8 { tb in
                let frame = server.evtFrame(topic: UnsafeRawBufferPointer(tb), type: type, payload: payload,
                                               allocator: context.channel.allocator)
                server.fanOut(topic: UnsafeRawBufferPointer(tb), frame: frame, origin: self)
            }
        case .bye:
            closed = true
            context.close(promise: nil)
        case .evt:
            throw .unexpectedVerb(.evt)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log.debug("\(peerName) disconnected: \(error)")
        context.close(promise: nil)
    }
}

/// Python truthiness of a raw, already-validated JSON value.
func rawTruthy(_ v: UnsafeRawBufferPointer) -> Bool {
    guard let first = v.first else { return false }
    switch first {
    case UInt8(ascii: "n"), UInt8(ascii: "f"): return false           // null, false
    case UInt8(ascii: "t"): return true
    case UInt8(ascii: "\""): return v.count > 2
    case UInt8(ascii: "{"), UInt8(ascii: "["):
        var i = 1                   // validated JSON: the first non-blank byte after the bracket tells
        while i < v.count, v[i] == 0x20 || v[i] == 0x0A || v[i] == 0x0D || v[i] == 0x09 { i += 1 }
        return i < v.count && v[i] != UInt8(ascii: "}") && v[i] != UInt8(ascii: "]")
    default:
        return (Double(String(decoding: v, as: UTF8.self)) ?? 0) != 0
    }
}
