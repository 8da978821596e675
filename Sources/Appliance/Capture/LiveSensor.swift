// LiveSensor.swift: `decnet sensor`: libpcap on an interface -> C decode thread -> SPSC ring -> this
// consumer thread (sessions -> events -> dedup/rate gate) -> sink thread (files, store, bus).
// Nothing on the capture path ever waits for a slower stage: the ring, the sink queue and the store
// queue each drop and count when full. Counters: kernel (pcap_stats), ring, sinks, store, gate.
import CPacket
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public enum SensorError: Error, CustomStringConvertible {
    case noInterface(String)
    case permission(String)
    case filter(String)
    case capture(String)
    case configuration(String)
    case sink(String)

    public var description: String {
        switch self {
        case .noInterface(let m), .permission(let m), .filter(let m), .capture(let m), .configuration(let m), .sink(let m): return m
        }
    }

    /// sysexits(3) codes, so scripts and systemd can tell the causes apart.
    public var exitCode: Int32 {
        switch self {
        case .noInterface: return 66        // EX_NOINPUT
        case .permission: return 77         // EX_NOPERM
        case .filter, .configuration: return 64   // EX_USAGE
        case .capture: return 69            // EX_UNAVAILABLE
        case .sink: return 73               // EX_CANTCREAT
        }
    }
}

public struct SensorStats: Sendable {
    public var engine = cp_engine_stats()
    public var sinks = EventPipeline.Stats()
    public var store: StoreWriter.Stats? = nil
    public var gate = EventGate.Counters()
    public var tracker = SessionTracker.Counters()
    public var events = 0
    public var openSessions = 0
    public var eventCounts: [String: Int] = [:]

    /// Every counter, named once, in the order the stats line and the JSON use.
    public var counters: [(String, UInt64)] {
        let e = engine
        var c: [(String, UInt64)] = [
            ("packets", e.packets), ("kernel_received", e.kernel_received), ("kernel_dropped", e.kernel_dropped),
            ("if_dropped", e.if_dropped), ("ring_drops", e.ring_drops), ("parse_errors", e.parse_errors),
            ("flows", e.flows), ("flows_active", e.flows_active), ("flows_evicted", e.flows_evicted),
            ("sessions", UInt64(openSessions)), ("sessions_evicted", UInt64(tracker.flowsEvicted)),
            ("events", UInt64(events)), ("duplicates", UInt64(gate.duplicates)), ("rate_limited", UInt64(gate.rateLimited)),
            ("sink_dropped", UInt64(sinks.dropped)), ("written", UInt64(sinks.written)),
            ("write_errors", UInt64(sinks.writeErrors)), ("repaired_bytes", UInt64(sinks.repairedBytes)),
        ]
        if let st = store {
            c.append(("store_committed", UInt64(st.committed)))
            c.append(("store_dropped", UInt64(st.dropped + sinks.storeDropped)))
            c.append(("store_failed", UInt64(st.failed)))
            c.append(("store_failing", st.failing ? 1 : 0))
        }
        return c
    }

    /// One line for the process log.
    public var line: String { counters.map { "\($0.0)=\($0.1)" }.joined(separator: " ") }

    public var json: JSONValue { .object(counters.map { ($0.0, .number(Double($0.1))) }) }
}

public final class LiveSensor: @unchecked Sendable {
    public let config: SensorConfiguration
    let publisher: ThreadSafePublisher?
    let log = ProcessLog("sniffer")
    private let state = ConditionMutex()
    private var stopRequested = false
    private var engine: OpaquePointer?
    private var pipeline: EventPipeline?
    private var snapshot = SensorStats()

    public init(config: SensorConfiguration, publisher: ThreadSafePublisher? = nil) {
        self.config = config
        self.publisher = publisher
    }

    /// Opens the capture (errors here are the operator's: no interface, no privilege, bad filter).
    func openCapture() throws -> UnsafeMutablePointer<cp_capture> {
        var err = CP_CAP_OK
        var msg = [CChar](repeating: 0, count: 512)
        let cap: UnsafeMutablePointer<cp_capture>? = config.interface.withCString { ifc in
            (config.bpf ?? "").withCString { bpf in
                var lc = cp_live_config(interface: ifc, bpf: bpf, snaplen: Int32(config.snaplen),
                                        promiscuous: config.promiscuous ? 1 : 0, immediate: config.immediate ? 1 : 0,
                                        buffer_bytes: Int32(config.bufferMB << 20), timeout_ms: Int32(config.timeoutMs))
                return cp_capture_open_live(&lc, &err, &msg, msg.count)
            }
        }
        if let cap { return cap }
        let text = cString(msg)
        switch err {
        case CP_CAP_ERR_NOIFACE: throw SensorError.noInterface("no such interface: \(config.interface) (\(text))")
        case CP_CAP_ERR_PERM: throw SensorError.permission("capture on \(config.interface) not permitted: \(text)")
        case CP_CAP_ERR_FILTER: throw SensorError.filter("bad BPF filter \((config.bpf ?? "").debugDescription): \(text)")
        default: throw SensorError.capture("cannot capture on \(config.interface): \(text)")
        }
    }

    public func requestStop() {
        state.withLock {
            stopRequested = true
            if let e = engine { cp_engine_request_stop(e) }
        }
    }

    public func requestReopen() { state.withLock { pipeline }?.requestReopen() }

    public var statistics: SensorStats { state.withLock { snapshot } }

    /// Runs until requestStop(); returns the final counters. `ready` is called once capture is live.
    public func run(store: StoreWriter?, ready: (() -> Void)? = nil) throws -> SensorStats {
        let cap = try openCapture()
        var pcfg = EventPipeline.Configuration()
        pcfg.rfc5424Path = config.logFile
        pcfg.jsonlPath = config.logFile.map { $0 + ".json" }
        pcfg.maxFileBytes = config.maxFileMB << 20
        pcfg.keepFiles = config.keepFiles
        pcfg.queueCapacity = 16_384
        let pipeline: EventPipeline
        do {
            pipeline = try EventPipeline(configuration: pcfg, store: store, publisher: publisher)
        } catch {
            cp_capture_close(cap)
            throw SensorError.sink("\(error)")
        }
        var ecfg = cp_engine_config()
        cp_engine_config_defaults(&ecfg)
        ecfg.ring_slots = UInt32(config.ringSlots)
        ecfg.stream_bytes = UInt32(config.streamBytes)
        ecfg.max_flows = UInt32(config.effectiveMaxFlows)
        ecfg.idle_timeout_s = UInt32(config.idleTimeout)
        ecfg.block_when_full = 0                       // live: drop and count, never stall the wire
        guard let eng = cp_engine_create(&ecfg) else {
            cp_capture_close(cap)
            pipeline.close()
            throw SensorError.capture("cannot create the packet engine (ring of \(config.ringSlots) slots)")
        }
        var msg = [CChar](repeating: 0, count: 256)
        guard cp_engine_start(eng, cap, &msg, msg.count) == 0 else {
            cp_engine_destroy(eng); cp_capture_close(cap); pipeline.close()
            throw SensorError.capture(cString(msg))
        }
        state.withLock {
            engine = eng
            self.pipeline = pipeline
            if stopRequested { cp_engine_request_stop(eng) }      // a stop that came while starting
        }
        log.info("capturing on \(config.interface)\(config.bpf.map { " filter \($0.debugDescription)" } ?? "") max_flows=\(config.effectiveMaxFlows) memory_cap_mb=\(config.memoryCapMB)")
        ready?()

        var tracker = SessionTracker(options: .init(
            p0f: OfflineSniffer.loadP0f(config.p0fDatabasePath), deckies: config.deckies, deckiesOnly: config.deckiesOnly,
            maxFlows: config.effectiveMaxFlows, maxSources: 1 << 16))
        var gopts = EventGate.Options()
        gopts.maxEventsPerSecond = config.maxEventsPerSecond
        var gate = EventGate(options: gopts)
        let ring = cp_engine_ring(eng)!
        var produced: [SensorEvent] = []
        var outgoing: [SensorEvent] = []
        produced.reserveCapacity(64)
        outgoing.reserveCapacity(1024)
        var events = 0
        var counts: [String: Int] = [:]
        var lastRecordNs: UInt64 = 0
        var lastTick = monotonicSeconds(), lastStatsLog = lastTick, lastBeat = lastTick - 25
        var sinceTick = 0

        func pass() {
            for e in produced where gate.admit(e) {
                outgoing.append(e)
                events += 1
                counts[e.spec.id, default: 0] += 1
            }
            produced.removeAll(keepingCapacity: true)
        }
        func collect() -> SensorStats {
            var s = SensorStats()
            cp_engine_get_stats(eng, &s.engine)
            s.sinks = pipeline.statistics
            s.store = store?.statistics
            s.gate = gate.counters
            s.tracker = tracker.counters
            s.events = events
            s.openSessions = tracker.openFlows
            s.eventCounts = counts
            return s
        }
        func tick(force: Bool) {
            let now = monotonicSeconds()
            guard force || now - lastTick >= 0.25 else { return }
            lastTick = now
            let wall = UInt64(wallClockSeconds() * 1e9)
            tracker.sweep(nowNs: max(wall, lastRecordNs), into: &produced)
            pass()
            pipeline.submit(outgoing)
            outgoing.removeAll(keepingCapacity: true)
            let s = collect()
            state.withLock { snapshot = s }
            if config.statsInterval > 0 && now - lastStatsLog >= config.statsInterval {
                lastStatsLog = now
                log.info("stats \(s.line)")
            }
            if let publisher, now - lastBeat >= 30, let topic = try? Topic.systemHealth("sniffer") {
                lastBeat = now
                var payload: [(String, JSONValue)] = [("worker", .string("sniffer")), ("ts", .number(wallClockSeconds())),
                                                      ("interface", .string(config.interface))]
                if case .object(let m) = s.json { payload += m }
                publisher(topic, .object(payload), type: Topic.Leaf.health)
            }
        }

        var endError: String? = nil
        loop: while true {
            guard let slot = cp_ring_peek(ring) else {
                if !outgoing.isEmpty { pipeline.submit(outgoing); outgoing.removeAll(keepingCapacity: true) }
                tick(force: false)
                cp_ring_wait_readable(ring, 50_000)
                continue
            }
            let rec = PacketRecord(decodingLazily: slot)
            cp_ring_release(ring)
            if case .inputEnd(let status, _, let message) = rec.body {
                if status != 0 { endError = message }
                break loop
            }
            if rec.timestampNs > lastRecordNs { lastRecordNs = rec.timestampNs }
            tracker.add(rec, into: &produced)
            if !produced.isEmpty { pass() }
            if outgoing.count >= 512 { pipeline.submit(outgoing); outgoing.removeAll(keepingCapacity: true) }
            sinceTick += 1
            if sinceTick >= 1024 { sinceTick = 0; tick(force: false) }
        }
        cp_engine_join(eng)
        tracker.finish(into: &produced)
        pass()
        tick(force: true)
        pipeline.close()
        store?.flush()
        let final = collect()
        state.withLock { engine = nil; self.pipeline = nil; snapshot = final }
        cp_engine_destroy(eng)
        cp_capture_close(cap)
        if let endError { throw SensorError.capture("capture on \(config.interface) ended: \(endError)") }
        return final
    }
}

extension SessionTracker {
    /// A capture file through the engine and this tracker (no gate): every event the sensor would make
    /// from that traffic. For tests and offline checks; the live path is LiveSensor.run.
    public static func events(file path: String, options: Options = Options()) throws -> [SensorEvent] {
        var err = CP_CAP_OK
        var msg = [CChar](repeating: 0, count: 512)
        guard let cap = cp_capture_open_file(path, &err, &msg, msg.count) else { throw SensorError.capture(cString(msg)) }
        var cfg = cp_engine_config()
        cp_engine_config_defaults(&cfg)
        cfg.block_when_full = 1
        guard let engine = cp_engine_create(&cfg) else { cp_capture_close(cap); throw SensorError.capture("cannot create the engine") }
        defer { cp_engine_destroy(engine); cp_capture_close(cap) }
        guard cp_engine_start(engine, cap, &msg, msg.count) == 0 else { throw SensorError.capture(cString(msg)) }
        let ring = cp_engine_ring(engine)!
        var opts = options
        opts.decryptsTLS13 = true        // the engine reads the file's key logs, if any
        var tracker = SessionTracker(options: opts)
        var out: [SensorEvent] = []
        var failure: String? = nil
        while true {
            guard let slot = cp_ring_peek(ring) else { cp_ring_wait_readable(ring, 1_000); continue }
            let rec = PacketRecord(decodingLazily: slot)
            cp_ring_release(ring)
            if case .inputEnd(let status, _, let message) = rec.body { if status != 0 { failure = message }; break }
            tracker.add(rec, into: &out)
        }
        cp_engine_join(engine)
        tracker.finish(into: &out)
        if let failure { throw SensorError.capture("\(path): \(failure)") }
        return out
    }
}
