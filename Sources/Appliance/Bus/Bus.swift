// The bus contract shared by the socket client, the in-process FakeBus and the no-op NullBus (spec §1.7),
// the event envelope (§1.3) and the subscription queue (§1.4: bounded, drop-oldest, counted).

/// The envelope, schema version 1: `{v, id, topic, type, ts, payload}`.
public struct BusEvent: Sendable, Equatable {
    public var v: Int
    public var id: String
    public var topic: String
    public var type: String
    public var ts: Double
    public var payload: JSONValue

    public init(topic: String, payload: JSONValue, type: String = "", v: Int = 1,
                ts: Double = wallClockSeconds(), id: String = newEventID()) {
        self.v = v
        self.id = id
        self.topic = topic
        self.type = type
        self.ts = ts
        self.payload = payload
    }

    /// Reads an EVT body. The topic comes from the frame header, never from the body (a publisher must not
    /// spoof topics); missing fields get the original's defaults.
    public init(topic: String, body: [UInt8]) throws(JSONError) {
        let v = body.isEmpty ? JSONValue.object([]) : try JSONValue.parse(body)
        guard case .object = v else { throw JSONError.notAnObject }
        let payload = v["payload"] ?? .object([])
        self.init(topic: topic,
                  payload: payload.isTruthy ? payload : .object([]),
                  type: v["type"]?.stringValue ?? "",
                  v: Int(v["v"]?.doubleValue ?? 1),
                  ts: v["ts"]?.doubleValue ?? wallClockSeconds(),
                  id: v["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? newEventID())
    }

    public var json: JSONValue {
        .object([("v", .number(Double(v))), ("id", .string(id)), ("topic", .string(topic)), ("type", .string(type)),
                 ("ts", .number(ts)), ("payload", payload)])
    }
}

/// A uuid4 as 32 lowercase hex characters.
public func newEventID() -> String {
    var g = SystemRandomNumberGenerator()
    var bytes = (g.next() as UInt64, g.next() as UInt64)
    var out = [UInt8](repeating: 0, count: 32)
    withUnsafeMutableBytes(of: &bytes) { raw in
        out.withUnsafeMutableBytes { uuid4Hex(random: raw, into: $0) }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Writes 16 random bytes as a uuid4 in 32 lowercase hex characters (version and variant bits set in
/// `random` too). Shared by `newEventID` and the broker's pooled ids.
func uuid4Hex(random: UnsafeMutableRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
    random[6] = (random[6] & 0x0F) | 0x40
    random[8] = (random[8] & 0x3F) | 0x80
    let hex: StaticString = "0123456789abcdef"
    let h = hex.utf8Start
    for i in 0..<16 {
        out[2 * i] = h[Int(random[i] >> 4)]
        out[2 * i + 1] = h[Int(random[i] & 15)]
    }
}

public enum BusError: Error, Equatable, CustomStringConvertible {
    case closed
    case unavailable(String)
    case invalidPattern(String)

    public var description: String {
        switch self {
        case .closed: return "bus is closed"
        case .unavailable(let why): return "bus unavailable: \(why)"
        case .invalidPattern(let p): return "invalid subscription pattern \(p.debugDescription)"
        }
    }
}

/// Pub/sub transport contract. `connect` and `close` are idempotent.
public protocol Bus: AnyObject, Sendable {
    func connect() async throws
    func publish(_ topic: String, _ payload: JSONValue, type: String) async throws
    /// Registers a subscription now (events that match from now on are queued for it).
    func subscribe(_ pattern: String) throws -> BusSubscription
    func close() async
    var isClosed: Bool { get }
    /// For threads outside Swift concurrency (the capture thread): never blocks, never throws, drops and
    /// counts when the bus cannot take the event.
    func publishFromAnyThread(_ topic: String, _ payload: JSONValue, type: String)
}

private let publishLog = ProcessLog("bus.publish")

extension Bus {
    /// Publishes and swallows every error (one warning line). For use after the store has committed.
    public func publishSafely(_ topic: String, _ payload: JSONValue, type: String = "") async {
        do {
            try await publish(topic, payload, type: type)
        } catch {
            publishLog.warning("publish_safely: dropped topic=\(topic): \(error)")
        }
    }
}

/// A synchronous publisher callable from any thread; a nil bus makes it a no-op (spec §1.9).
public struct ThreadSafePublisher: Sendable {
    let bus: (any Bus)?

    public init(_ bus: (any Bus)?) { self.bus = bus }

    public func callAsFunction(_ topic: String, _ payload: JSONValue, type: String = "") {
        guard let bus, !bus.isClosed else { return }
        bus.publishFromAnyThread(topic, payload, type: type)
    }
}

/// One subscription: an async sequence of events with its own bounded queue (drop-oldest, counted).
/// Iteration ends when the subscription or its bus closes.
public final class BusSubscription: AsyncSequence, @unchecked Sendable {
    public typealias Element = BusEvent
    public let pattern: String
    private let lock = ConditionMutex()
    private var queue: [BusEvent] = []
    private var head = 0
    private var waiter: CheckedContinuation<BusEvent?, Never>?
    private var finished = false
    private var _dropped = 0
    private let depth: Int
    private let onClose: @Sendable (BusSubscription) -> Void

    init(pattern: String, depth: Int = BusLimits.queueDepth, onClose: @escaping @Sendable (BusSubscription) -> Void) {
        self.pattern = pattern
        self.depth = depth
        self.onClose = onClose
    }

    /// Events discarded because the consumer fell more than `depth` events behind.
    public var dropped: Int { lock.withLock { _dropped } }

    /// Queues an event (drop-oldest when full). Returns false when the subscription has ended.
    @discardableResult
    func deliver(_ event: BusEvent) -> Bool {
        lock.lock()
        if finished { lock.unlock(); return false }
        if let w = waiter {
            waiter = nil
            lock.unlock()
            w.resume(returning: event)
            return true
        }
        if queue.count - head >= depth {
            head += 1
            _dropped += 1
        }
        queue.append(event)
        if head > 256 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        lock.unlock()
        return true
    }

    /// Ends iteration (already-queued events are still delivered first).
    func finish() {
        lock.lock()
        finished = true
        let w = waiter
        waiter = nil
        lock.unlock()
        w?.resume(returning: nil)
    }

    public var isFinished: Bool { lock.withLock { finished } }

    /// Closes the subscription: iteration ends and the bus forgets the pattern (UNSUB when it was the last).
    public func close() {
        let first = lock.withLock { !finished }
        finish()
        if first { onClose(self) }
    }

    public func next() async -> BusEvent? {
        lock.lock()
        if head < queue.count {
            let e = queue[head]
            head += 1
            if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
            lock.unlock()
            return e
        }
        if finished { lock.unlock(); return nil }
        return await withCheckedContinuation { (c: CheckedContinuation<BusEvent?, Never>) in
            waiter = c
            lock.unlock()
        }
    }

    /// Waits at most `seconds` for the next event.
    public func next(timeout seconds: Double) async -> BusEvent? {
        await withTaskGroup(of: BusEvent?.self) { group in
            group.addTask { await self.next() }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { self.cancelWaiter() }
            group.cancelAll()
            // An event that raced the timeout is not lost: it goes back to the head of the queue.
            if first == nil, let late = await group.next() ?? nil { self.requeueFront(late) }
            return first
        }
    }

    private func requeueFront(_ e: BusEvent) {
        lock.withLock {
            if head > 0 { head -= 1; queue[head] = e } else { queue.insert(e, at: 0) }
        }
    }

    private func cancelWaiter() {
        lock.lock()
        let w = waiter
        waiter = nil
        lock.unlock()
        w?.resume(returning: nil)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sub: BusSubscription
        public mutating func next() async -> BusEvent? { await sub.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sub: self) }
}

/// Validates a subscription pattern: non-empty, no whitespace, no empty tokens except none at all.
func validatePattern(_ p: String) throws(BusError) {
    if p.isEmpty || p.unicodeScalars.contains(where: { $0.properties.isWhitespace }) || p.utf8.contains(where: { $0 >= 0x80 }) {
        throw .invalidPattern(p)
    }
}

/// Local subscriptions of one bus instance, matched per event.
final class SubscriptionTable: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var subs: [ObjectIdentifier: BusSubscription] = [:]

    func add(_ s: BusSubscription) { lock.withLock { subs[ObjectIdentifier(s)] = s } }

    /// Removes `s`; returns true when no remaining subscription uses the same pattern.
    func remove(_ s: BusSubscription) -> Bool {
        lock.withLock {
            subs[ObjectIdentifier(s)] = nil
            return !subs.values.contains { $0.pattern == s.pattern }
        }
    }

    var patterns: Set<String> { lock.withLock { Set(subs.values.map(\.pattern)) } }

    func deliver(_ event: BusEvent) {
        let targets = lock.withLock { subs.values.filter { topicMatches(pattern: $0.pattern, topic: event.topic) } }
        for t in targets { t.deliver(event) }
    }

    func finishAll() {
        let all = lock.withLock { () -> [BusSubscription] in
            let a = Array(subs.values)
            subs.removeAll()
            return a
        }
        for s in all { s.finish() }
    }
}

/// In-process bus with the same matching and queues; delivers to the publisher's own subscriptions too.
/// Publishing after close throws (the strict test contract of spec §1.5).
public final class FakeBus: Bus, @unchecked Sendable {
    private let table = SubscriptionTable()
    private let lock = ConditionMutex()
    private var closed = false
    private let depth: Int

    public init(queueSize: Int = BusLimits.queueDepth) { depth = queueSize }

    public func connect() async throws { if isClosed { throw BusError.closed } }

    public func publish(_ topic: String, _ payload: JSONValue, type: String = "") async throws {
        if isClosed { throw BusError.closed }
        table.deliver(BusEvent(topic: topic, payload: payload, type: type))
    }

    public func publishFromAnyThread(_ topic: String, _ payload: JSONValue, type: String) {
        if isClosed { return }
        table.deliver(BusEvent(topic: topic, payload: payload, type: type))
    }

    public func subscribe(_ pattern: String) throws -> BusSubscription {
        if isClosed { throw BusError.closed }
        try validatePattern(pattern)
        let s = BusSubscription(pattern: pattern, depth: depth) { [weak self] s in _ = self?.table.remove(s) }
        table.add(s)
        return s
    }

    public func close() async {
        lock.withLock { closed = true }
        table.finishAll()
    }

    public var isClosed: Bool { lock.withLock { closed } }
}

/// Bus disabled (DECNET_BUS_ENABLED=false): publishes vanish, subscriptions end at once.
public final class NullBus: Bus, @unchecked Sendable {
    public init() {}
    public func connect() async throws {}
    public func publish(_ topic: String, _ payload: JSONValue, type: String = "") async throws {}
    public func publishFromAnyThread(_ topic: String, _ payload: JSONValue, type: String) {}
    public func subscribe(_ pattern: String) throws -> BusSubscription {
        let s = BusSubscription(pattern: pattern) { _ in }
        s.finish()
        return s
    }
    public func close() async {}
    public var isClosed: Bool { false }
}

/// `(topic, payload, type)` publishing from any thread, or nil without a bus (workers take this shape).
public func publishFunction(_ bus: (any Bus)?) -> (@Sendable (String, JSONValue, String) -> Void)? {
    guard bus != nil else { return nil }
    let p = ThreadSafePublisher(bus)
    return { topic, payload, type in p(topic, payload, type: type) }
}
