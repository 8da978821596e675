import Fingerprint

// EventCatalogue.swift: every event the sensor emits, with its id (RFC 5424 MSGID), severity, bus
// eligibility, fields (in output order) and dedup key, in one place. Builders refuse fields that are
// not listed here, and a test walks the corpus to hold every emitted event to this table.
// Names and dedup keys follow ../shared/spec/decnet-reference.md §7.2/§7.3 where the original has the
// event; ssh_kex, tcp_flow_timing's JA4L fields and anomaly.<kind> are ours.

public enum EventSeverity: Int, Sendable {
    case error = 3, warning = 4, info = 6
}

public struct EventSpec: Sendable, Hashable {
    public let id: String
    public let severity: EventSeverity
    /// Published on `decky.<decky>.traffic` (the original's _BUS_TRAFFIC_EVENTS).
    public let bus: Bool
    /// Every field the event may carry, in output order. The four endpoint fields always come first.
    public let fields: [String]
    /// Fields that must be present (non-empty is not required: e.g. wscale "" when the SYN had none).
    public let required: Set<String>
    /// Dedup key fields (joined with "|"), scoped by src_ip; empty = never deduplicated.
    public let dedup: [String]
    /// RFC 5424 APP-NAME and the store's `service`: "sniffer" for the sensor, the slug for a decoy.
    public let service: String

    init(_ id: String, _ severity: EventSeverity, bus: Bool, fields: [String], optional: Set<String> = [], dedup: [String],
         service: String = EventCatalogue.appName) {
        self.id = id
        self.severity = severity
        self.bus = bus
        self.fields = EventCatalogue.endpoint + fields
        self.required = Set(self.fields).subtracting(optional)
        self.dedup = dedup
        self.service = service
    }

    /// Index of a field in output order (decoy events are built from unordered field lists).
    public func position(_ name: String) -> Int? { fields.firstIndex(of: name) }

    public static func == (a: Self, b: Self) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }
}

public enum EventCatalogue {
    static let endpoint = ["src_ip", "src_port", "dst_ip", "dst_port"]
    /// RFC 5424 APP-NAME of every sensor line (the original's sniffer).
    public static let appName = "sniffer"
    /// SD-ID of the structured data element (placeholder PEN, as the original).
    public static let sdID = "relay@55555"

    public static let tcpSynFingerprint = EventSpec("tcp_syn_fingerprint", .info, bus: true, fields: [
        "ttl", "initial_ttl", "hop_distance", "window", "mss", "wscale", "options_sig", "has_sack", "has_timestamps",
        "tos", "dscp", "ecn", "ipid_class", "ipid_samples", "isn_class", "isn_samples", "os_guess",
        "ja4t", "p0f_signature", "p0f_os",
    ], optional: ["ja4t", "p0f_signature", "p0f_os"],
       // spec §7.2's key plus the two full signatures: a source that changes its stack is news.
       dedup: ["os_guess", "options_sig", "ipid_class", "isn_class", "ja4t", "p0f_signature"])

    public static let tcpFlowTiming = EventSpec("tcp_flow_timing", .info, bus: true, fields: [
        "packets", "bytes", "duration_s", "mean_iat_ms", "min_iat_ms", "max_iat_ms", "retransmits", "ended_by",
        "ja4l_c", "ja4l_s",
    ], optional: ["ja4l_c", "ja4l_s"], dedup: ["dst_ip", "dst_port"])

    public static let tlsClientHello = EventSpec("tls_client_hello", .info, bus: false, fields: [
        "ja3", "ja4", "tls_version", "sni", "alpn", "raw_ciphers", "raw_extensions",
    ], dedup: ["ja3", "ja4"])

    public static let tlsSession = EventSpec("tls_session", .warning, bus: true, fields: [
        "ja3", "ja3s", "ja4", "ja4s", "tls_version", "client_versions", "cipher", "sni", "alpn", "raw_ciphers",
        "raw_extensions", "ja4x", "ja4l_rtt_ms", "ja4l_client_ttl",
    ], optional: ["ja4s", "ja4x", "ja4l_rtt_ms", "ja4l_client_ttl"], dedup: ["ja3", "ja3s", "ja4", "ja4s"])

    public static let quicClientHello = EventSpec("quic_client_hello", .warning, bus: true, fields: [
        "ja4_quic", "sni", "alpn", "raw_ciphers",
    ], dedup: ["src_ip", "ja4_quic"])

    public static let sshClientBanner = EventSpec("ssh_client_banner", .info, bus: true, fields: [
        "ssh_version",
    ], dedup: ["ssh_version"])

    public static let sshKex = EventSpec("ssh_kex", .info, bus: true, fields: [
        "client_banner", "server_banner", "hassh", "hassh_algorithms", "hassh_server", "hassh_server_algorithms",
        "encryption", "ja4ssh",
    ], optional: ["client_banner", "server_banner", "hassh", "hassh_algorithms", "hassh_server",
                  "hassh_server_algorithms", "encryption", "ja4ssh"],
       dedup: ["hassh", "hassh_server", "ja4ssh"])   // ja4ssh: each session's own behaviour is news

    public static let httpRequestFingerprint = EventSpec("http_request_fingerprint", .info, bus: true, fields: [
        "ja4h", "method", "host", "path", "user_agent", "http_version",
    ], optional: ["ja4h"], dedup: ["src_ip", "ja4h"])

    /// `anomaly.<kind>`: one spec per anomaly kind the packet core reports (cp_anomaly.h).
    public static func anomaly(_ kind: String) -> EventSpec {
        EventSpec("anomaly." + kind, .warning, bus: false, fields: ["kind", "proto"], dedup: ["kind"])
    }

    public static let fixed: [EventSpec] = [
        tcpSynFingerprint, tcpFlowTiming, tlsClientHello, tlsSession, quicClientHello, sshClientBanner, sshKex,
        httpRequestFingerprint,
    ]

    /// The spec for an id, including `anomaly.<kind>` for known kinds.
    public static func spec(_ id: String) -> EventSpec? {
        if let s = fixed.first(where: { $0.id == id }) { return s }
        if let s = DecoyRegistry.eventSpecs[id] { return s }
        if id == ScanEvents.detected.id { return ScanEvents.detected }
        if id.hasPrefix("anomaly.") {
            let kind = String(id.dropFirst(8))
            if anomalyKinds.contains(kind) { return anomaly(kind) }
        }
        return nil
    }

    public static var anomalyKinds: Set<String> { Set((0..<Anomaly.count).map(Anomaly.name)) }
}

/// One event: envelope + string fields in catalogue order (RFC 5424 SD values are strings).
public struct SensorEvent: Sendable {
    public let spec: EventSpec
    public var timestampNs: UInt64
    public var decky: String?
    public let src: IPAddress, dst: IPAddress
    public private(set) var fields: [(String, String)] = []

    public init(_ spec: EventSpec, timestampNs: UInt64, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) {
        self.spec = spec
        self.timestampNs = timestampNs
        self.src = src
        self.dst = dst
        fields.reserveCapacity(spec.fields.count)
        fields.append(("src_ip", src.description))
        fields.append(("src_port", String(srcPort)))
        fields.append(("dst_ip", dst.description))
        fields.append(("dst_port", String(dstPort)))
    }

    /// Sets a field, in catalogue order (the tracker sets them in the order the catalogue lists them, so
    /// lines need no reordering). Debug builds check the name and the order; the catalogue test runs the
    /// tracker over the whole corpus in debug, so a release build can trust it.
    public mutating func set(_ name: String, _ value: String?) {
        guard let value else { return }
        assert(spec.fields.contains(name), "\(spec.id) has no field \(name) in the catalogue")
        assert(fields.allSatisfy { $0.0 != name }, "\(spec.id): \(name) set twice")
        assert(spec.fields.firstIndex(of: name)! > spec.fields.firstIndex(of: fields.last!.0)!, "\(spec.id): \(name) out of catalogue order")
        fields.append((name, value))
    }

    /// Sets several fields given in any order (decoy events: low rate, built from dictionaries).
    /// Names the catalogue does not list are a programming error (asserted in debug, dropped in release).
    public mutating func set(unordered kv: [(String, String)]) {
        let sorted = kv.compactMap { k, v -> (Int, String, String)? in
            guard let i = spec.position(k) else { assertionFailure("\(spec.id) has no field \(k)"); return nil }
            return (i, k, v)
        }.sorted { $0.0 < $1.0 }
        for (_, k, v) in sorted where !fields.contains(where: { $0.0 == k }) { fields.append((k, v)) }
    }

    public func value(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
    public var srcIP: String { fields[0].1 }

    /// Fields in catalogue order (the order lines are written in).
    public var orderedFields: [(String, String)] { fields }

    /// A hash of the dedup key (src_ip, event id, the spec's dedup fields), nil when the event is never
    /// deduplicated. Hashed in place: the key itself is never built as a string.
    public var dedupHash: Int? {
        guard !spec.dedup.isEmpty else { return nil }
        var h = Hasher()
        h.combine(src)
        h.combine(spec.id)
        for name in spec.dedup { h.combine(value(name)) }
        return h.finalize()
    }
}
