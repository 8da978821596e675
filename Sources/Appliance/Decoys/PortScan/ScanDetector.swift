// ScanDetector.swift: port-scan events for deckies. Each served decky gets a packet socket on its eth0
// (inside its namespace, kernel BPF: inbound IPv4 TCP without ACK, i.e. SYN, NULL, FIN and Xmas probes);
// one thread reads them all. ScanTracker, the pure part, counts distinct *closed* ports per source per
// window and emits one `scan.portscan.detected` per source, decky and window once a threshold is
// crossed (OpenCanary's SYN/NULL/FIN/Xmas scan types become the `kind` field).
import CDecnetSystem
import CPacket
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

enum ScanEvents {
    static let detected = EventSpec("scan.portscan.detected", .warning, bus: true,
                                    fields: ["session_id", "transport", "kind", "ports_count", "ports", "packets", "window_s"],
                                    optional: ["session_id"], dedup: [], service: "portscan")
}

/// A probe as the tracker sees it.
public struct ScanProbe: Sendable {
    public var src: IPAddress, srcPort: UInt16, dstPort: UInt16, flags: UInt8, timestampNs: UInt64
    public init(src: IPAddress, srcPort: UInt16, dstPort: UInt16, flags: UInt8, timestampNs: UInt64) {
        self.src = src; self.srcPort = srcPort; self.dstPort = dstPort; self.flags = flags; self.timestampNs = timestampNs
    }

    /// OpenCanary's names for the probe (flags: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32).
    public var kind: String {
        switch flags & 0x3f {
        case 0: return "null"
        case 0x01: return "fin"
        case 0x29: return "xmas"
        case 0x02: return "syn"
        default: return flags & 0x02 != 0 ? "syn" : "other"
        }
    }
}

public struct ScanTracker {
    public var threshold = 5
    public var windowNs: UInt64 = 60_000_000_000
    public var maxSources = 65_536
    struct Window { var start: UInt64; var ports: Set<UInt16>; var kinds: Set<String>; var packets: Int; var reported: Bool }
    struct Key: Hashable { let src: IPAddress; let decky: String }
    var windows: [Key: Window] = [:]
    public private(set) var evictions = 0

    public init() {}

    /// Feeds a probe to a decky whose open ports are `open`; returns an event when this probe makes the
    /// source a scanner for the current window.
    public mutating func observe(_ p: ScanProbe, decky: DeckySpec, open: Set<UInt16>) -> SensorEvent? {
        if p.flags & 0x04 != 0 { return nil }                                        // RSTs end connections, they do not probe
        if p.flags & 0x02 != 0 && open.contains(p.dstPort) { return nil }             // a SYN to an open port is a connect
        let key = Key(src: p.src, decky: decky.name)
        var w = windows[key] ?? Window(start: p.timestampNs, ports: [], kinds: [], packets: 0, reported: false)
        if p.timestampNs &- w.start > windowNs { w = Window(start: p.timestampNs, ports: [], kinds: [], packets: 0, reported: false) }
        w.packets += 1
        if w.ports.count < 4096 { w.ports.insert(p.dstPort) }
        w.kinds.insert(p.kind)
        var out: SensorEvent?
        if !w.reported && w.ports.count >= threshold {
            w.reported = true
            var e = SensorEvent(ScanEvents.detected, timestampNs: p.timestampNs, src: p.src, srcPort: p.srcPort,
                                dst: IPAddress(version: 4, bytes: decky.ip.bytes), dstPort: p.dstPort)
            e.decky = decky.name
            e.set(unordered: [("transport", "tcp"), ("kind", w.kinds.count == 1 ? w.kinds.first! : w.kinds.sorted().joined(separator: "+")),
                              ("ports_count", String(w.ports.count)),
                              ("ports", w.ports.sorted().prefix(64).map(String.init).joined(separator: ",")),
                              ("packets", String(w.packets)), ("window_s", String(windowNs / 1_000_000_000))])
            out = e
        }
        if windows[key] == nil && windows.count >= maxSources {
            // Bounded: drop expired windows, and if a flood of sources still fills the table, start over.
            windows = windows.filter { p.timestampNs &- $0.value.start <= windowNs }
            if windows.count >= maxSources { windows.removeAll(keepingCapacity: true); evictions += 1 }
        }
        windows[key] = w
        return out
    }

    /// Parses an Ethernet frame carrying IPv4/TCP into a probe (nil for anything else or truncated).
    public static func parse(_ frame: UnsafeRawBufferPointer, timestampNs: UInt64) -> ScanProbe? {
        var off = 12
        guard frame.count >= 14 else { return nil }
        var type = UInt16(frame[off]) << 8 | UInt16(frame[off + 1])
        off += 2
        if type == 0x8100, frame.count >= 18 { type = UInt16(frame[16]) << 8 | UInt16(frame[17]); off = 18 }
        guard type == 0x0800, frame.count >= off + 20, frame[off] >> 4 == 4 else { return nil }
        let ihl = Int(frame[off] & 0x0f) * 4
        guard ihl >= 20, frame[off + 9] == 6, frame.count >= off + ihl + 14 else { return nil }
        // Only first fragments carry the TCP header.
        guard (UInt16(frame[off + 6]) << 8 | UInt16(frame[off + 7])) & 0x1fff == 0 else { return nil }
        let src = IPAddress(version: 4, bytes: Array(frame[(off + 12)..<(off + 16)]))
        let t = off + ihl
        return ScanProbe(src: src, srcPort: UInt16(frame[t]) << 8 | UInt16(frame[t + 1]),
                         dstPort: UInt16(frame[t + 2]) << 8 | UInt16(frame[t + 3]), flags: frame[t + 13], timestampNs: timestampNs)
    }
}

/// The reader thread: one packet socket per decky, poll(2) over all of them.
public final class ScanDetector: @unchecked Sendable {
    struct Watch { let fd: Int32; let decky: DeckySpec; let open: Set<UInt16> }
    let lock = ConditionMutex()
    var watches: [Int32: Watch] = [:]
    var byDecky: [String: Int32] = [:]
    var tracker = ScanTracker()
    let sink: @Sendable ([SensorEvent]) -> Void
    var stopping = false
    var thread: pthread_t?
    let log = ProcessLog("portscan")

    public init(sink: @escaping @Sendable ([SensorEvent]) -> Void, threshold: Int = 5) {
        self.sink = sink
        tracker.threshold = threshold
        thread = spawnThread(name: "decnet-portscan") { [unowned self] in self.run() }
    }

    /// Starts watching a decky (replacing an earlier watch of the same name).
    public func watch(_ decky: DeckySpec, namespace ns: NamespaceHandle) {
        unwatch(decky.name)
        var err = [CChar](repeating: 0, count: 256)
        let nsfd = ns.fd
        let filter = "inbound and ip and tcp and dst host \(decky.ip) and tcp[tcpflags] & tcp-ack == 0"
        let fd = NetnsThread.shared.sync { cs_netns_packet_socket(nsfd, "eth0", filter, &err, 256) }
        guard fd >= 0 else { log.error("\(decky.name): no scan detection: \(cString(err))"); return }
        var open = Set<UInt16>()
        for s in decky.services { for p in DecoyRegistry.decoy(s)?.ports ?? [] { open.insert(p) } }
        lock.withLock { watches[fd] = Watch(fd: fd, decky: decky, open: open); byDecky[decky.name] = fd; lock.broadcast() }
    }

    public func unwatch(_ name: String) {
        let fd: Int32? = lock.withLock {
            guard let fd = byDecky.removeValue(forKey: name) else { return nil }
            watches[fd] = nil
            return fd
        }
        // The reader only touches descriptors it finds in `watches` under the lock, and polls a snapshot:
        // closing here can at worst cost it one empty wakeup.
        if let fd { close(fd) }
    }

    public func stop() {
        lock.withLock { stopping = true; lock.broadcast() }
        if let t = thread { joinThread(t); thread = nil }
        for n in lock.withLock({ Array(byDecky.keys) }) { unwatch(n) }
    }

    private func run() {
        var buf = [UInt8](repeating: 0, count: 2048)
        while !lock.withLock({ stopping }) {
            var fds = lock.withLock { watches.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
            // Nothing to watch: sleep until a watch is added or stop() (both broadcast).
            if fds.isEmpty { lock.withLock { if watches.isEmpty && !stopping { lock.wait(seconds: 5) } }; continue }
            let n = poll(&fds, nfds_t(fds.count), 200)
            guard n > 0 else { continue }
            var out: [SensorEvent] = []
            for p in fds where p.revents & Int16(POLLIN) != 0 {
                let fd = p.fd
                // Bounded per wakeup so one flooded decky cannot starve the others.
                for _ in 0..<256 {
                    guard let w = lock.withLock({ watches[fd] }) else { break }
                    let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 2048, Int32(MSG_DONTWAIT)) }
                    guard r > 0 else { break }
                    let probe = buf.withUnsafeBytes { ScanTracker.parse(UnsafeRawBufferPointer(rebasing: $0[0..<r]), timestampNs: wallClockNs()) }
                    if let p = probe, let e = lock.withLock({ tracker.observe(p, decky: w.decky, open: w.open) }) { out.append(e) }
                }
            }
            if !out.isEmpty { sink(out) }
        }
    }
}
