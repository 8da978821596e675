// EventGate.swift: what stands between the session tracker and the sinks.
//   Dedup: one event per (src_ip, event, dedup key) per TTL (300 s, spec §7.2), GC every 60 s of event
//   time; the table is capped (a flood of distinct sources clears it, counted, rather than growing).
//   Rate limit: a token bucket over all events (burst = one second's worth) so a flood cannot turn the
//   disk into the bottleneck; what it refuses is counted, never queued.
// Times are the events' own (packet time), so the gate is deterministic over a capture.

public struct EventGate: Sendable {
    public struct Options: Sendable {
        public var dedupTTLNs: UInt64 = 300 * 1_000_000_000
        public var gcIntervalNs: UInt64 = 60 * 1_000_000_000
        public var maxKeys: Int = 1 << 18
        /// Events per second let through (0 = unlimited).
        public var maxEventsPerSecond: Int = 20_000
        public init() {}
    }

    public struct Counters: Sendable, Equatable {
        public var passed = 0, duplicates = 0, rateLimited = 0, dedupResets = 0
    }

    public let options: Options
    public private(set) var counters = Counters()
    var seen: [Int: UInt64] = [:]      // hash of the dedup key -> last time it passed
    var lastGC: UInt64 = 0
    var tokens: Double
    var lastRefill: UInt64 = 0

    public init(options: Options = Options()) {
        self.options = options
        tokens = Double(options.maxEventsPerSecond)
    }

    public var keys: Int { seen.count }

    /// True when the event should go out.
    public mutating func admit(_ e: SensorEvent) -> Bool {
        let now = e.timestampNs
        if now >= lastGC &+ options.gcIntervalNs { gc(now) }
        let key = e.dedupHash
        if let key, let t = seen[key], now < t &+ options.dedupTTLNs, now >= t { counters.duplicates += 1; return false }
        if options.maxEventsPerSecond > 0 {
            let rate = Double(options.maxEventsPerSecond)
            if now > lastRefill {
                tokens = min(rate, tokens + Double(now - lastRefill) / 1e9 * rate)
                lastRefill = now
            }
            guard tokens >= 1 else { counters.rateLimited += 1; return false }
            tokens -= 1
        }
        if let key {
            if seen.count >= options.maxKeys { gc(now) }
            if seen.count >= options.maxKeys { seen.removeAll(keepingCapacity: true); counters.dedupResets += 1 }
            seen[key] = now
        }
        counters.passed += 1
        return true
    }

    mutating func gc(_ now: UInt64) {
        lastGC = now
        guard !seen.isEmpty else { return }
        let ttl = options.dedupTTLNs
        seen = seen.filter { now < $0.value &+ ttl && now >= $0.value }
    }
}
