/// Deterministic, realistic-looking event rows for store benchmarks and crash tests: 10,000 attacker
/// addresses, 20 deckies, 8 services, a dozen event types, RFC 5424 raw lines of ~220 bytes and ~200-byte
/// JSON field sets. Rows are built up front so a benchmark measures the store, not the generator.
///
/// `sessionLength` shapes the attacker column: 1 = every row from an independent random address (the worst
/// case for the attacker index); n > 1 = 64 concurrent attacker sessions of about n events each, rows
/// interleaved across them (what a deception network sees: bursts from each source).
public struct SyntheticLoad: Sendable {
    public let rows: [LogRecord]

    public init(distinct: Int = 65_536, sessionLength: Int = 1, seed: UInt64 = 0x5eed) {
        let services = ["ssh", "http", "https", "telnet", "ftp", "smtp", "redis", "mysql"]
        let types = ["connect", "disconnect", "login_attempt", "command", "tls_session", "tcp_syn_fingerprint",
                     "tcp_flow_timing", "http_request_fingerprint", "ssh_client_banner", "file_captured",
                     "port_scan", "quic_client_hello"]
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        var rows: [LogRecord] = []
        rows.reserveCapacity(distinct)
        var active = (0..<64).map { _ in (Int(next() % 10_000), 0) }
        for i in 0..<distinct {
            let r = next()
            let a: Int
            if sessionLength <= 1 {
                a = Int(r % 10_000)
            } else {
                let slot = Int((r >> 48) % 64)
                if active[slot].1 >= sessionLength { active[slot] = (Int(next() % 10_000), 0) }
                active[slot].1 += 1
                a = active[slot].0
            }
            let ip = "198.51.\(a / 100).\(a % 100 + 1)"
            let decky = "decky-\(String(Int((r >> 16) % 20) + 1))"
            let service = services[Int((r >> 24) % UInt64(services.count))]
            let type = types[Int((r >> 32) % UInt64(types.count))]
            let port = 1024 + Int((r >> 40) % 60_000)
            let fields = #"{"src_ip":"\#(ip)","src_port":"\#(port)","dst_ip":"10.0.0.\#(i % 200 + 2)","dst_port":"22","username":"root","session_id":"s\#(i)","ja4":"t13d1516h2_8daaf6152771_02713d6af862"}"#
            let raw = #"<134>1 2026-11-23T10:00:00.000000+00:00 \#(decky) \#(service) - \#(type) [relay@55555 src_ip="\#(ip)" src_port="\#(port)" dst_port="22" username="root" session_id="s\#(i)"] synthetic event \#(i)"#
            rows.append(LogRecord(timestamp: 0, decky: decky, service: service, eventType: type, attackerIP: ip,
                                  severity: 6, rawLine: raw, fields: fields, msg: nil))
        }
        self.rows = rows
    }

    /// Row `i` of an endless stream: the pool cycled, with a strictly increasing timestamp.
    @inline(__always)
    public func row(_ i: Int, start: Double) -> LogRecord {
        var r = rows[i % rows.count]
        r.timestamp = start + Double(i) * 1e-4
        return r
    }
}
