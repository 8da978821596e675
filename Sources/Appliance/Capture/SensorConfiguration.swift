// SensorConfiguration.swift: what `decnet sensor` runs with, from defaults, an INI file and flags.
//
//   [sensor]
//   interface = eth1            ; capture interface
//   bpf = tcp or udp port 443   ; optional capture filter
//   snaplen = 65535
//   promiscuous = true
//   immediate = false           ; false: TPACKET_V3 blocks (fast); true: per-packet wakeups
//   buffer_mb = 64              ; kernel ring
//   flow_idle_timeout = 120     ; seconds
//   memory_cap_mb = 1024        ; sizes the flow tables so the process stays under this
//   max_flows = 0               ; 0: derived from memory_cap_mb
//   scope = all                 ; all | deckies (only traffic to/from a decky address)
//   log_file = /var/log/decnet/decnet.log   ; RFC 5424 lines; JSON Lines go to <log_file>.json
//   max_file_mb = 100
//   keep_files = 5
//   db = /var/lib/decnet/decnet.db          ; "" or store = false: no store sink
//   store = true
//   max_events_per_second = 20000
//   stats_interval = 10
//
//   [deckies]
//   web01 = 192.168.1.50        ; address -> decky name (the decky registry will feed this later)
//
// Every problem in a file is reported at once, with its line number.
import Fingerprint

public struct SensorConfiguration: Sendable {
    public var interface: String = ""
    public var bpf: String? = nil
    public var snaplen = 65535
    public var promiscuous = true
    public var immediate = false
    public var bufferMB = 64
    public var timeoutMs = 100
    public var ringSlots = 4096
    public var streamBytes = 65536
    public var idleTimeout = 120
    public var memoryCapMB = 1024
    public var maxFlows = 0
    public var deckiesOnly = false
    public var logFile: String? = nil
    public var maxFileMB = 100
    public var keepFiles = 5
    public var dbPath: String? = nil
    public var maxEventsPerSecond = 20_000
    public var statsInterval = 10.0
    public var deckies: [IPAddress: String] = [:]
    public var p0fDatabasePath: String? = "/etc/p0f/p0f.fp"
    public var busEnabled = true

    public init() {}

    /// Bytes one tracked flow costs at most while it carries no stream data: the C flow (944 B +
    /// allocator and hash overhead) plus the Swift session state and its dictionary slot, and the
    /// allocator's fragmentation under churn. 1,600 left a 10 M-source SYN flood at 469-498 MiB under a
    /// 512 MiB cap (too close); 2,000 is what the flood measures as safe.
    public static let bytesPerFlow = 2_000
    /// What is not per-flow: the record ring, the kernel ring mapped into the process, the sink and
    /// store queues at capacity, the runtime and code.
    public var fixedBytes: Int {
        ringSlots * 8192 + bufferMB << 20 + 16_384 * 2_000 + 20_000 * 1_200 + 48 << 20
    }

    /// The flow cap: as configured, or what fits in memory_cap_mb after the fixed costs (80% of it,
    /// leaving room for stream buffers of the flows that carry data).
    public var effectiveMaxFlows: Int {
        if maxFlows > 0 { return maxFlows }
        let room = (memoryCapMB << 20) - fixedBytes
        return max(1024, room * 8 / 10 / Self.bytesPerFlow)
    }

    public enum Problem: Error, CustomStringConvertible {
        case invalid([String])
        public var description: String {
            switch self { case .invalid(let p): return p.joined(separator: "\n") }
        }
    }

    /// Applies an INI file on top of the current values; every problem is listed.
    public mutating func apply(ini text: String, name: String) throws {
        var problems: [String] = []
        var section = ""
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let where_ = "\(name):\(i + 1)"
            var line = Substring(rawLine)
            if let c = line.firstIndex(where: { $0 == ";" || $0 == "#" }) { line = line[..<c] }
            let t = line.trimmingSpaces
            if t.isEmpty { continue }
            if t.hasPrefix("[") {
                guard t.hasSuffix("]"), t.count > 2 else { problems.append("\(where_): malformed section header \(t)"); continue }
                section = String(t.dropFirst().dropLast()).trimmingSpaces.lowercased()
                if section != "sensor" && section != "deckies" { problems.append("\(where_): unknown section [\(section)]") }
                continue
            }
            guard let eq = t.firstIndex(of: "=") else { problems.append("\(where_): expected key = value"); continue }
            let key = String(t[..<eq]).trimmingSpaces.lowercased()
            let value = String(t[t.index(after: eq)...]).trimmingSpaces
            if section == "deckies" {
                guard let ip = IPAddress(parsing: value) else { problems.append("\(where_): decky \(key): \(value.debugDescription) is not an IP address"); continue }
                if let other = deckies[ip], other != key { problems.append("\(where_): \(value) is already decky \(other)") }
                deckies[ip] = key
                continue
            }
            guard section == "sensor" else { problems.append("\(where_): \(key) outside a [sensor] section"); continue }
            if let p = set(key, value) { problems.append("\(where_): \(p)") }
        }
        if !problems.isEmpty { throw Problem.invalid(problems) }
    }

    /// Sets one key; returns a problem text or nil.
    mutating func set(_ key: String, _ v: String) -> String? {
        func int(_ lo: Int, _ hi: Int, _ assign: (Int) -> Void) -> String? {
            guard let n = Int(v), n >= lo, n <= hi else { return "\(key) must be an integer in \(lo)...\(hi), got \(v.debugDescription)" }
            assign(n)
            return nil
        }
        func bool(_ assign: (Bool) -> Void) -> String? {
            switch v.lowercased() {
            case "true", "yes", "on", "1": assign(true)
            case "false", "no", "off", "0": assign(false)
            default: return "\(key) must be true or false, got \(v.debugDescription)"
            }
            return nil
        }
        switch key {
        case "interface": guard !v.isEmpty else { return "interface is empty" }; interface = v
        case "bpf": bpf = v.isEmpty ? nil : v
        case "snaplen": return int(64, 262_144) { snaplen = $0 }
        case "promiscuous": return bool { promiscuous = $0 }
        case "immediate": return bool { immediate = $0 }
        case "buffer_mb": return int(1, 4096) { bufferMB = $0 }
        case "ring_slots": return int(256, 1 << 20) { ringSlots = $0 }
        case "stream_bytes": return int(1024, 1 << 24) { streamBytes = $0 }
        case "flow_idle_timeout": return int(1, 86_400) { idleTimeout = $0 }
        case "memory_cap_mb": return int(128, 1 << 20) { memoryCapMB = $0 }
        case "max_flows": return int(0, 1 << 26) { maxFlows = $0 }
        case "scope":
            switch v.lowercased() {
            case "all": deckiesOnly = false
            case "deckies": deckiesOnly = true
            default: return "scope must be all or deckies, got \(v.debugDescription)"
            }
        case "log_file": logFile = v.isEmpty ? nil : v
        case "max_file_mb": return int(1, 1 << 20) { maxFileMB = $0 }
        case "keep_files": return int(1, 100) { keepFiles = $0 }
        case "db": dbPath = v.isEmpty ? nil : v
        case "store": return bool { if !$0 { dbPath = nil } }
        case "max_events_per_second": return int(0, 10_000_000) { maxEventsPerSecond = $0 }
        case "stats_interval": return int(0, 86_400) { statsInterval = Double($0) }
        case "p0f_db": p0fDatabasePath = v.isEmpty ? nil : v
        case "bus": return bool { busEnabled = $0 }
        default: return "unknown key \(key)"
        }
        return nil
    }

    /// Checks that hold however the values were set.
    public func validate() throws {
        var problems: [String] = []
        if interface.isEmpty { problems.append("no interface: give --interface IF or interface = IF in [sensor]") }
        if maxFlows == 0 && (memoryCapMB << 20) - fixedBytes < 32 << 20 {
            problems.append("memory_cap_mb = \(memoryCapMB) leaves no room for flows (fixed costs are \(fixedBytes >> 20) MB: lower buffer_mb or ring_slots)")
        }
        if !problems.isEmpty { throw Problem.invalid(problems) }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension IPAddress {
    /// Text form (IPv4 dotted quad or any IPv6 form inet_pton accepts); nil when it is not an address.
    public init?(parsing s: String) {
        var b6 = [UInt8](repeating: 0, count: 16)
        if s.contains(":") {
            guard inet_pton(AF_INET6, s, &b6) == 1 else { return nil }
            self.init(version: 6, bytes: b6)
        } else {
            var b4 = [UInt8](repeating: 0, count: 4)
            guard inet_pton(AF_INET, s, &b4) == 1 else { return nil }
            self.init(version: 4, bytes: b4)
        }
    }
}
