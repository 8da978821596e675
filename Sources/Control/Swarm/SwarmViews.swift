// SwarmViews.swift: hosts, shards and tokens as the API, the dashboard and `decnet swarm hosts --json` show
// them (never a secret: tokens appear as id, name and state).
import Appliance

public enum SwarmViews {
    static func strings(_ v: JSONValue?) -> [String] {
        guard case .array(let a)? = v else { return [] }
        return a.compactMap(\.stringValue)
    }

    public static func host(_ h: SwarmHostRecord, now: Double) -> JSONValue {
        .object([
            ("uuid", .string(h.uuid)), ("name", .string(h.name)), ("address", .string(h.address)), ("agent_port", .number(Double(h.agentPort))),
            ("status", .string(h.status)), ("last_heartbeat", h.lastHeartbeat.map { .number($0) } ?? .null),
            ("heartbeat_age", h.lastHeartbeat.map { .number((now - $0).rounded()) } ?? .null),
            ("client_cert_fingerprint", .string(h.fingerprint)), ("enrolled_at", .number(h.enrolledAt)),
            ("version", h.version.map { .string($0) } ?? .null), ("events_committed_seq", .number(Double(h.committedSeq))),
            ("events_ingested", .number(Double(h.ingested))),
            ("shipping_lag", .number(Double(max(0, h.outboxNewest - h.committedSeq)))),
        ])
    }

    public static func shard(_ s: SwarmShardRecord, hosts: [String: SwarmHostRecord]) -> JSONValue {
        let h = hosts[s.hostUUID]
        return .object([
            ("decky_name", .string(s.deckyName)), ("host_uuid", .string(s.hostUUID)), ("host_name", .string(h?.name ?? "<unknown>")),
            ("host_status", .string(h?.status ?? "unknown")), ("decky_ip", .string(s.ip)),
            ("services", .array(strings(try? JSONValue.parse(s.services)).map { .string($0) })), ("state", .string(s.state)),
            ("last_error", s.lastError.map { .string($0) } ?? .null), ("updated_at", .number(s.updatedAt)),
        ])
    }

    public static func token(_ t: SwarmTokenRecord, now: Double) -> JSONValue {
        .object([
            ("id", .string(t.id)), ("name", .string(t.name)), ("created_at", .number(t.createdAt)), ("expires_at", .number(t.expiresAt)),
            ("state", .string(t.usedAt != nil ? "used" : t.expiresAt < now ? "expired" : "valid")),
            ("host_uuid", t.hostUUID.map { .string($0) } ?? .null),
        ])
    }
}
