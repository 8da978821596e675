// DecoyServer.swift: every decky's listening sockets, served by one process on one NIO event loop group.
// Sockets are created inside the decky's namespace on the netns thread (setns), bound to the decky's
// address and handed to NIO (ServerBootstrap.withBoundSocket), so N deckies x M services cost file
// descriptors, not processes. A DecoyChannelHandler drives one DecoySession per connection.
import Fingerprint
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

public final class DecoyServer: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Concurrent connections one source address may hold on one decky: one client's idle sockets use up
        /// its own budget, not the decky's services' (they used to share 256 per decky).
        public var connectionsPerSourcePerDecky = 64
        /// Concurrent connections one source address may hold across every decky (a scanner's parallel
        /// connections to many deckies fit; one source cannot take the process's descriptors).
        public var connectionsPerSource = 1024
        /// Concurrent connections per decky and service (past either budget, new ones are closed at once and counted).
        public var connectionsPerService = 256
        /// Bytes one connection may send before it is closed.
        public var maxSessionBytes = 16 << 20
        /// Events one session may emit; past it one `session.closed` still goes out.
        public var maxSessionEvents = 2_000
        public init() {}
    }

    let group: MultiThreadedEventLoopGroup
    let sink: @Sendable ([SensorEvent]) -> Void
    let artifactsDir: String?
    /// Every served decky's decoy state (keyspaces, uploads, host keys, TLS contexts), dropped with the decky.
    let states = DeckyStates()
    let limits: Limits
    let lock = ConditionMutex()
    var listeners: [String: [Channel]] = [:]
    var live: [String: [ObjectIdentifier: Channel]] = [:]
    var perService: [String: Int] = [:]
    var perSource: [String: Int] = [:]
    var perSourceDecky: [String: Int] = [:]
    var namespaces: [String: NamespaceHandle] = [:]
    public private(set) var refused = 0
    let log = ProcessLog("decoys")

    public init(group: MultiThreadedEventLoopGroup, artifactsDir: String?, limits: Limits = Limits(),
                sink: @escaping @Sendable ([SensorEvent]) -> Void) {
        self.group = group
        self.artifactsDir = artifactsDir
        self.limits = limits
        self.sink = sink
    }

    public var deckies: [String] { lock.withLock { Array(listeners.keys).sorted() } }
    public var listenerCount: Int { lock.withLock { listeners.values.reduce(0) { $0 + $1.count } } }
    public var connectionCount: Int { lock.withLock { live.values.reduce(0) { $0 + $1.count } } }

    /// Opens every service of `decky` inside namespace `ns`. On failure nothing of this decky stays open.
    public func start(decky: DeckySpec, namespace ns: NamespaceHandle) throws {
        stop(decky: decky.name)
        var opened: [Channel] = []
        do {
            for svc in decky.services {
                guard let def = DecoyRegistry.decoy(svc) else { throw RuntimeError("\(decky.name): no decoy for \(svc)") }
                for port in def.ports {
                    let fd = try DecoyServer.listeningSocket(ns, ip: decky.ip, port: port)
                    let ch = try ServerBootstrap(group: group)
                        .childChannelOption(.allowRemoteHalfClosure, value: false)
                        .childChannelInitializer { [unowned self] ch in
                            ch.eventLoop.makeCompletedFuture {
                                try ch.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(Int64(def.idleTimeout))))
                                try ch.pipeline.syncOperations.addHandler(DecoyChannelHandler(server: self, decky: decky, definition: def, namespace: ns))
                            }
                        }
                        .withBoundSocket(fd).wait()
                    opened.append(ch)
                }
            }
        } catch {
            for c in opened { try? c.close().wait() }
            throw error
        }
        lock.withLock { listeners[decky.name] = opened; namespaces[decky.name] = ns }
        let prepares = decky.services.compactMap { s in DecoyRegistry.decoy(s)?.prepare.map { (s, $0) } }
        if !prepares.isEmpty {
            let (dir, log, states) = (artifactsDir, log, states)
            let t = spawnThread(name: "decoy-prepare") {
                for (service, prepare) in prepares {
                    if let problem = prepare(decky, dir, states) { log.error("decky \(decky.name) \(service): \(problem)") }
                }
            }
            pthread_detach(t)
        }
    }

    /// Closes the decky's listeners and live connections.
    public func stop(decky: String) {
        let (ls, conns) = lock.withLock { () -> ([Channel], [Channel]) in
            let l = listeners.removeValue(forKey: decky) ?? []
            let c = Array((live.removeValue(forKey: decky) ?? [:]).values)
            namespaces[decky] = nil
            return (l, c)
        }
        for c in ls { try? c.close().wait() }
        for c in conns { c.close(promise: nil) }
        states.drop(decky: decky)
    }

    public func stopAll() { for d in deckies { stop(decky: d) } }

    static func listeningSocket(_ ns: NamespaceHandle, ip: IPv4, port: UInt16) throws -> Int32 {
        let fd = try ns.socket(domain: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = ip.value.bigEndian
        let r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0, listen(fd, 511) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw RuntimeError("\(ns.name): bind/listen \(ip):\(port): \(e)")
        }
        return fd
    }

    func register(_ ch: Channel, decky: String, service: String, source: String) -> Bool {
        lock.withLock {
            guard listeners[decky] != nil else { return false }
            let svcKey = decky + "/" + service, srcKey = source + "/" + decky
            guard perSource[source, default: 0] < limits.connectionsPerSource,
                  perSourceDecky[srcKey, default: 0] < limits.connectionsPerSourcePerDecky,
                  perService[svcKey, default: 0] < limits.connectionsPerService else { refused += 1; return false }
            live[decky, default: [:]][ObjectIdentifier(ch)] = ch
            perSource[source, default: 0] += 1
            perSourceDecky[srcKey, default: 0] += 1
            perService[svcKey, default: 0] += 1
            return true
        }
    }

    func unregister(_ ch: Channel, decky: String, service: String, source: String) {
        lock.withLock {
            _ = live[decky]?.removeValue(forKey: ObjectIdentifier(ch))
            let svcKey = decky + "/" + service, srcKey = source + "/" + decky
            if let n = perSource[source] { perSource[source] = n > 1 ? n - 1 : nil }
            if let n = perSourceDecky[srcKey] { perSourceDecky[srcKey] = n > 1 ? n - 1 : nil }
            if let n = perService[svcKey] { perService[svcKey] = n > 1 ? n - 1 : nil }
        }
    }
}

extension SocketAddress {
    var decnetIP: IPAddress? { ipAddress.flatMap { IPAddress(parsing: $0) } }
    var decnetPort: UInt16 { UInt16(port ?? 0) }
}

final class DecoyChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned let server: DecoyServer
    let decky: DeckySpec
    let def: DecoyDefinition
    let ns: NamespaceHandle
    var session: DecoySession?
    var info: DecoySessionInfo?
    let io = DecoyIO()
    var readyAt = NIODeadline.now()
    var bytesIn = 0, bytesOut = 0, events = 0
    var started = NIODeadline.now()
    var endReason = "peer_closed"
    var registered = false
    var source = ""
    var closing = false

    init(server: DecoyServer, decky: DeckySpec, definition: DecoyDefinition, namespace: NamespaceHandle) {
        self.server = server
        self.decky = decky
        def = definition
        ns = namespace
    }

    func channelActive(context: ChannelHandlerContext) {
        let ch = context.channel
        source = ch.remoteAddress?.ipAddress ?? "unknown"
        guard server.register(ch, decky: decky.name, service: def.slug, source: source) else { context.close(promise: nil); return }
        registered = true
        guard let r = ch.remoteAddress, let l = ch.localAddress, let rip = r.decnetIP, let lip = l.decnetIP else {
            context.close(promise: nil); return
        }
        let info = DecoySessionInfo(decky: decky, service: def.slug, client: rip, clientPort: r.decnetPort,
                                    local: lip, localPort: l.decnetPort, artifactsDir: server.artifactsDir, states: server.states)
        self.info = info
        started = .now()
        readyAt = started
        io.dataListener = { [weak self] onConnect, ready in self?.openDataListener(context: context, onConnect: onConnect, ready: ready) }
        io.wake = { [weak self] in self?.flush(context) }
        let s = def.make(info)
        session = s
        emit([info.event(DecoyEvents.connect(def.slug), [("persona", def.persona(info))])])
        s.start(io)
        flush(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        guard let s = session, !closing else { return }
        bytesIn += buf.readableBytes
        if bytesIn > def.maxSessionBytes ?? server.limits.maxSessionBytes {
            endReason = "size_limit"
            closeNow(context)
            return
        }
        let bytes = buf.readBytes(length: buf.readableBytes) ?? []
        s.receive(bytes, io)
        flush(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            endReason = "idle_timeout"
            closeNow(context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        endReason = "error"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered { server.unregister(context.channel, decky: decky.name, service: def.slug, source: source) }
        if let s = session, let info {
            s.end(reason: endReason, io)
            let (_, evs) = io.drain()
            let dur = Double((NIODeadline.now() - started).nanoseconds) / 1e9
            emit(evs + [info.event(DecoyEvents.closed(def.slug), [
                ("duration_s", decimalText(dur, 3)), ("bytes_in", String(bytesIn)), ("bytes_out", String(bytesOut)),
                ("reason", endReason)])], force: true)
        }
        session = nil
        io.dataListener = nil
        io.wake = nil
        context.fireChannelInactive()
    }

    private func closeNow(_ context: ChannelHandlerContext) {
        closing = true
        context.close(promise: nil)
    }

    private func emit(_ evs: [SensorEvent], force: Bool = false) {
        guard !evs.isEmpty else { return }
        var out = evs
        if !force {
            let room = server.limits.maxSessionEvents - events
            if room <= 0 { return }
            if out.count > room { out = Array(out.prefix(room)) }
        }
        events += out.count
        server.sink(out)
    }

    /// Sends what the session queued, honouring delays in order.
    private func flush(_ context: ChannelHandlerContext) {
        let (outs, evs) = io.drain()
        emit(evs)
        let now = NIODeadline.now()
        for o in outs {
            switch o {
            case .bytes(let b, let d):
                readyAt = max(readyAt, now) + .nanoseconds(Int64(d * 1e9))
                bytesOut += b.count
                if readyAt <= now {
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: b)), promise: nil)
                } else {
                    let ch = context.channel
                    context.eventLoop.scheduleTask(deadline: readyAt) {
                        ch.writeAndFlush(ch.allocator.buffer(bytes: b), promise: nil)
                    }
                }
            case .call(let d, let body):
                let at = max(readyAt, now) + .nanoseconds(Int64(d * 1e9))
                // The timer runs on this loop; the bound values say so to the compiler.
                let bound = NIOLoopBound((self, context, body), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(deadline: at) {
                    let (handler, ctx, body) = bound.value
                    guard handler.session != nil else { return }
                    body()
                    handler.flush(ctx)
                }
            case .close(let d):
                readyAt = max(readyAt, now) + .nanoseconds(Int64(d * 1e9))
                closing = true
                if endReason == "peer_closed" { endReason = "server_closed" }
                let ch = context.channel
                if readyAt <= now { ch.close(promise: nil) } else {
                    context.eventLoop.scheduleTask(deadline: readyAt) { ch.close(promise: nil) }
                }
            }
        }
    }

    // MARK: FTP-style passive data channels

    private func openDataListener(context: ChannelHandlerContext, onConnect: @escaping (DataConnection) -> Void,
                                  ready: @escaping (Int?) -> Void) {
        let loop = context.eventLoop
        let ip = decky.ip
        let ns = self.ns
        let client = info?.client
        // Both callbacks belong to this connection's loop; every call below happens on it.
        let readyOnLoop = NIOLoopBound(ready, eventLoop: loop)
        let connectOnLoop = NIOLoopBound(onConnect, eventLoop: loop)
        NetnsThread.shared.async {
            let fd: Int32
            do { fd = try DecoyServer.listeningSocket(ns, ip: ip, port: 0) } catch { loop.execute { readyOnLoop.value(nil) }; return }
            var sa = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            let port = Int(UInt16(bigEndian: sa.sin_port))
            let accepted = NIOLockedValueBox(false)
            let listenerBox = NIOLockedValueBox<Channel?>(nil)
            let fut = ServerBootstrap(group: loop, childGroup: loop)
                .childChannelInitializer { ch in
                    // One connection, from the control connection's client only (vsftpd's pasv_promiscuous=NO).
                    let first = accepted.withLockedValue { a -> Bool in defer { a = true }; return !a }
                    guard first, ch.remoteAddress?.decnetIP == client else { return ch.close() }
                    let conn = DataChannel(channel: ch)
                    // Closing the listener before the child is registered would take the child with it:
                    // vsftpd's one-connection listener goes once the connection is active.
                    conn.activated = { listenerBox.withLockedValue { $0 }?.close(promise: nil) }
                    return ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(conn)
                        connectOnLoop.value(conn)
                    }
                }
                .withBoundSocket(fd)
            fut.whenSuccess { listener in
                listenerBox.withLockedValue { $0 = listener }
                if accepted.withLockedValue({ $0 }) { listener.close(promise: nil) }
                readyOnLoop.value(port)
                // Nobody came within 60 s: the listener goes.
                loop.scheduleTask(in: .seconds(60)) { listener.close(promise: nil) }
            }
            fut.whenFailure { _ in readyOnLoop.value(nil) }
        }
    }
}

/// A data connection handed to a session (FTP). Callbacks run on the control connection's loop.
final class DataChannel: ChannelInboundHandler, DataConnection, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let channel: Channel
    /// Data that arrived before the session attached is delivered when it does.
    var onData: (([UInt8]) -> Void)? {
        didSet { if let onData, !pending.isEmpty { let p = pending; pending = []; for b in p { onData(b) } } }
    }
    var onClose: (() -> Void)? {
        didSet { if ended, let onClose { onClose() } }
    }
    var pending: [[UInt8]] = []
    var ended = false

    init(channel: Channel) { self.channel = channel }
    var activated: (() -> Void)?

    func channelActive(context: ChannelHandlerContext) {
        activated?()
        activated = nil
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var b = unwrapInboundIn(data)
        let bytes = b.readBytes(length: b.readableBytes) ?? []
        if let onData { onData(bytes) } else { pending.append(bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        onClose?()
        context.fireChannelInactive()
    }

    func write(_ bytes: [UInt8], then close: Bool) {
        let ch = channel
        let f = ch.writeAndFlush(ch.allocator.buffer(bytes: bytes))
        if close { f.whenComplete { _ in ch.close(promise: nil) } }
    }

    func close() { channel.close(promise: nil) }
}
