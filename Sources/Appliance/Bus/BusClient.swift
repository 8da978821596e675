// BusClient.swift: the bus client (UnixSocketBus) with reconnect, loopback delivery and bounded publishing.
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The production bus client (spec §1.4) with the fixes the original lacked:
/// - auto-reconnect with backoff (50 ms doubling to 1 s) and re-subscription of every open pattern;
/// - local loopback: a client's own matching subscriptions receive its own publishes (the broker never
///   echoes to the publisher, as in the original, so this is delivered here exactly once);
/// - `publishFromAnyThread` for threads outside Swift concurrency.
/// Publishing while disconnected drops the event and counts it (at-most-once); publishing after `close`
/// drops with one warning, then debug lines (spec §1.5).
public final class UnixSocketBus: Bus, @unchecked Sendable {
    public let socketPath: String
    public let clientName: String
    private let group: any EventLoopGroup
    private let table = SubscriptionTable()
    private let lock = ConditionMutex()
    private var channel: (any Channel)?
    private var patternRefs: [String: Int] = [:]
    private var closed = false
    private var warnedClosed = false
    private var reconnecting = false
    private var everConnected = false
    private var _dropped = 0
    private var _reconnects = 0
    private var pendingBytes: [UInt8] = []
    private var pendingFrames = 0
    private var drainScheduled = false
    /// Publishes waiting for the event loop; past this, new ones are dropped and counted.
    static let maxPendingFrames = 4096
    private let log = ProcessLog("bus.client")

    public init(socketPath: String = defaultBusSocketPath(), clientName: String? = nil,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.socketPath = socketPath
        self.clientName = clientName ?? "decnet-bus-client[\(getpid())]"
        self.group = group
    }

    /// Events dropped because the client was disconnected or closed when they were published.
    public var dropped: Int { lock.withLock { _dropped } }
    public var reconnects: Int { lock.withLock { _reconnects } }
    public var isConnected: Bool { lock.withLock { channel?.isActive ?? false } }
    public var isClosed: Bool { lock.withLock { closed } }

    // MARK: connection

    public func connect() async throws {
        if lock.withLock({ closed }) { throw BusError.closed }
        if lock.withLock({ channel?.isActive ?? false }) { return }
        // A full listen backlog (EAGAIN on a UNIX socket) is transient: the broker is busy accepting.
        // Retry for up to 2 s before reporting it; any other error is reported at once.
        let deadline = monotonicSeconds() + 2
        while true {
            do {
                _ = try await openChannel().get()
                return
            } catch let e as IOError where e.errnoCode == EAGAIN && monotonicSeconds() < deadline {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
    }

    /// One connection attempt; on success installs the channel and replays HELLO + SUBs.
    private func openChannel() -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: group)
            .channelInitializer { [weak self] ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(BusClientHandler(owner: self))
                }
            }
        return bootstrap.connect(unixDomainSocketPath: socketPath).flatMapThrowing { [self] ch -> any Channel in
            let (replay, accept): ([String], Bool) = lock.withLock {
                if closed { return ([], false) }
                if let existing = channel, existing.isActive { return ([], false) }   // lost a race: keep the first
                channel = ch
                everConnected = true
                return (Array(patternRefs.keys), true)
            }
            guard accept else {
                ch.close(promise: nil)
                if let existing = lock.withLock({ channel }) { return existing }
                throw BusError.closed
            }
            var out: [UInt8] = []
            try? BusFrameEncoder.encode(.hello, args: clientName, into: &out)
            for p in replay { try? BusFrameEncoder.encode(.sub, args: p, into: &out) }
            ch.writeAndFlush(ch.allocator.buffer(bytes: out), promise: nil)
            return ch
        }
    }

    /// Called by the handler when the connection ends.
    fileprivate func connectionLost(_ ch: any Channel) {
        let start: Bool = lock.withLock {
            guard channel === ch else { return false }
            channel = nil
            if closed || reconnecting { return false }
            reconnecting = true
            return true
        }
        if start {
            log.warning("connection to \(socketPath) lost; reconnecting")
            scheduleReconnect(delay: 0.05)
        }
    }

    /// Starts a background connection attempt (with the reconnect backoff) when there is no connection and
    /// none is being made. Checked and claimed under one lock, so concurrent callers start one attempt.
    private func ensureConnecting() {
        let start: Bool = lock.withLock {
            guard channel == nil, !reconnecting, !closed else { return false }
            reconnecting = true
            return true
        }
        if start { scheduleReconnect(delay: 0) }
    }

    private func scheduleReconnect(delay: Double) {
        group.next().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [weak self] in
            guard let self else { return }
            if self.lock.withLock({ self.closed }) {
                self.lock.withLock { self.reconnecting = false }
                return
            }
            self.openChannel().whenComplete { result in
                switch result {
                case .success:
                    self.lock.withLock {
                        self.reconnecting = false
                        self._reconnects += 1
                    }
                    self.log.info("reconnected to \(self.socketPath)")
                case .failure:
                    self.scheduleReconnect(delay: min(max(delay * 2, 0.05), 1.0))   // a first attempt at 0 must still back off
                }
            }
        }
    }

    // MARK: publish

    public func publish(_ topic: String, _ payload: JSONValue, type: String = "") async throws {
        if noteIfClosed(topic) { return }
        let needConnect = lock.withLock { channel == nil && !everConnected }
        if needConnect { try await connect() }        // lazy first connect: may throw (publishSafely catches)
        send(topic, payload, type: type)
    }

    public func publishFromAnyThread(_ topic: String, _ payload: JSONValue, type: String) {
        if noteIfClosed(topic) { return }
        ensureConnecting()
        send(topic, payload, type: type)
    }

    private func noteIfClosed(_ topic: String) -> Bool {
        let (isClosed, first): (Bool, Bool) = lock.withLock {
            guard closed else { return (false, false) }
            _dropped += 1
            let first = !warnedClosed
            warnedClosed = true
            return (true, first)
        }
        if isClosed {
            if first { log.warning("publish on closed bus dropped topic=\(topic)") }
            else { log.debug("publish on closed bus dropped topic=\(topic)") }
        }
        return isClosed
    }

    private func send(_ topic: String, _ payload: JSONValue, type: String) {
        // Loopback first: the publisher's own subscriptions see the event even though the broker skips it.
        table.deliver(BusEvent(topic: topic, payload: payload, type: type))
        guard let ch = lock.withLock({ channel }), ch.isActive else {
            lock.withLock { _dropped += 1 }
            log.debug("bus disconnected, dropped topic=\(topic)")
            return
        }
        var body: [UInt8] = []
        body.reserveCapacity(64)
        body.append(contentsOf: #"{"type":"#.utf8)
        JSONWriter.string(type, into: &body)
        body.append(contentsOf: #","payload":"#.utf8)
        payload.serialize(into: &body)
        body.append(UInt8(ascii: "}"))
        let frame: [UInt8]
        do {
            frame = try BusFrameEncoder.encode(.pub, args: topic, body: body)
        } catch {
            lock.withLock { _dropped += 1 }
            log.warning("cannot publish topic=\(topic): \(error)")
            return
        }
        // Frames wait in one bounded buffer and go out in one write per event-loop turn: a producer thread
        // faster than the socket neither grows memory without bound nor floods the loop with one task per
        // event. Past the bound, or while the socket is backed up, events are dropped and counted.
        let schedule: Bool = lock.withLock {
            if pendingFrames >= UnixSocketBus.maxPendingFrames {
                _dropped += 1
                return false
            }
            pendingBytes.append(contentsOf: frame)
            pendingFrames += 1
            if drainScheduled { return false }
            drainScheduled = true
            return true
        }
        if schedule { ch.eventLoop.execute { [self] in drain() } }
    }

    /// Runs on the channel's loop: writes everything pending in one buffer.
    private func drain() {
        let (bytes, n, ch): ([UInt8], Int, (any Channel)?) = lock.withLock {
            let out = (pendingBytes, pendingFrames, channel)
            pendingBytes = []
            pendingFrames = 0
            drainScheduled = false
            return out
        }
        guard n > 0 else { return }
        guard let ch, ch.isActive, ch.isWritable else {
            lock.withLock { _dropped += n }
            log.debug("bus socket not writable, dropped \(n) events")
            return
        }
        ch.writeAndFlush(ch.allocator.buffer(bytes: bytes), promise: nil)
    }

    // MARK: subscribe

    public func subscribe(_ pattern: String) throws -> BusSubscription {
        if lock.withLock({ closed }) { throw BusError.closed }
        try validatePattern(pattern)
        let sub = BusSubscription(pattern: pattern) { [weak self] s in self?.unsubscribe(s) }
        table.add(sub)
        let (first, ch): (Bool, (any Channel)?) = lock.withLock {
            let n = patternRefs[pattern, default: 0]
            patternRefs[pattern] = n + 1
            return (n == 0, channel)
        }
        if first, let ch { sendControl(.sub, pattern, on: ch) }
        ensureConnecting()                          // lazy connect; the SUB is replayed on connect
        return sub
    }

    private func unsubscribe(_ s: BusSubscription) {
        _ = table.remove(s)
        let (last, ch): (Bool, (any Channel)?) = lock.withLock {
            let n = (patternRefs[s.pattern] ?? 1) - 1
            if n <= 0 { patternRefs[s.pattern] = nil } else { patternRefs[s.pattern] = n }
            return (n <= 0, channel)
        }
        if last, let ch { sendControl(.unsub, s.pattern, on: ch) }
    }

    private func sendControl(_ verb: BusVerb, _ arg: String, on ch: any Channel) {
        guard let frame = try? BusFrameEncoder.encode(verb, args: arg) else { return }
        ch.writeAndFlush(ch.allocator.buffer(bytes: frame), promise: nil)
    }

    fileprivate func received(_ event: BusEvent) { table.deliver(event) }

    // MARK: close

    public func close() async {
        let ch: (any Channel)? = lock.withLock {
            if closed { return nil }
            closed = true
            let c = channel
            channel = nil
            return c
        }
        if let ch {
            if let bye = try? BusFrameEncoder.encode(.bye) {
                try? await ch.writeAndFlush(ch.allocator.buffer(bytes: bye)).get()
            }
            try? await ch.close().get()
        }
        table.finishAll()
    }
}

/// Reads EVT frames for one client connection.
private final class BusClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    weak var owner: UnixSocketBus?
    private var inbound: ByteBuffer?
    private var scanned = 0
    private let log = ProcessLog("bus.client")

    init(owner: UnixSocketBus?) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if inbound == nil { inbound = incoming } else { inbound!.writeBuffer(&incoming) }
        guard var buf = inbound else { return }
        inbound = nil
        do {
            while buf.readableBytes > 0 {
                let parsed = try buf.withUnsafeReadableBytes { raw throws(BusProtocolError) in
                    try BusFrameParser.parse(raw, scanned: &scanned)
                }
                guard let (frame, used) = parsed else { break }
                buf.moveReaderIndex(forwardBy: used)
                switch frame.verb {
                case .evt:
                    do {
                        owner?.received(try BusEvent(topic: frame.args, body: frame.body))
                    } catch {
                        log.warning("malformed EVT body on \(frame.args): \(error)")
                    }
                case .bye:
                    context.close(promise: nil)
                    return
                default:
                    log.debug("ignoring \(frame.verb.rawValue) from broker")
                }
            }
        } catch {
            log.warning("protocol error from broker: \(error); reconnecting")
            context.close(promise: nil)
            return
        }
        if buf.readableBytes > 0 {
            buf.discardReadBytes()
            inbound = buf
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        owner?.connectionLost(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The bus factory (spec §1.7): bus.enabled = false → NullBus; bus.type unix (default) or fake.
public func makeBus(clientName: String, socketPath: String? = nil,
                   configuration: DecnetConfiguration = .current) throws -> any Bus {
    if !configuration.busEnabled { return NullBus() }
    let type = configuration.busType
    switch type {
    case "unix", "": return UnixSocketBus(socketPath: socketPath ?? defaultBusSocketPath(), clientName: clientName)
    case "fake": return FakeBus()
    default: throw BusError.unavailable("unknown DECNET_BUS_TYPE \(type.debugDescription)")
    }
}
