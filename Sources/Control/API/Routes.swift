// Routes.swift: the REST API's route table (spec §10.7), built from one <Resource>Controller per resource, and
// the shapes the controllers share. Handlers are small: validated inputs in, one store call (through the §10.4
// caches where the spec has one), JSON out.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

/// A resource's routes with their metadata (access, schema, replies): the declarative table that RBAC and the
/// OpenAPI document are checked against.
protocol APIController {
    static var routes: [Route] { get }
}

enum APIRoutes {
    static let prefix = "/api/v1"

    /// Every resource's controller; the route table (RBAC, OpenAPI, dispatch) is built from them.
    static let controllers: [any APIController.Type] = [
        AuthController.self, EventsController.self, AttackersController.self, SystemController.self,
        DeckiesController.self, ConfigController.self, UsersController.self, SwarmAPIController.self,
    ]

    static var all: [Route] { controllers.flatMap { $0.routes } }

    // MARK: shared shapes

    /// The largest row id a client may name (2^53 - 1: exact in every JSON client).
    static let maxID = 9_007_199_254_740_991
    static let limit = Param("limit", .integer(min: 1, max: 1000), "Page size (default 50)")
    static let offset = Param("offset", .integer(min: 0, max: 1_000_000_000), "Rows to skip")
    static let search = Param("search", .text(max: 512), "Terms: key:value (decky, service, event_type, attacker_ip) or raw-line substrings")
    static let startTime = Param("start_time", .timestamp, "RFC 3339 date-time (inclusive)")
    static let endTime = Param("end_time", .timestamp, "RFC 3339 date-time (inclusive)")

    static func paged(_ item: String) -> Schema {
        .obj([Prop("total", .integer(min: 0, max: nil)), Prop("limit", .int), Prop("offset", .int), Prop("data", .array(.ref(item)))])
    }
    static let message = Schema.obj([Prop("message", .text)])
    static func ok(_ schema: Schema, _ d: String = "OK") -> [Reply] { [Reply(status: 200, description: d, schema: schema)] }

    static func logFilter(_ c: APICall) throws -> LogFilter {
        LogFilter(search: c.q("search"), start: try c.q("start_time").map { try parseTime($0, "start_time") },
                  end: try c.q("end_time").map { try parseTime($0, "end_time") })
    }

    /// RFC 3339 date-time (`2026-11-23T10:00:00Z`, `…+01:00`, fractional seconds).
    static func parseTime(_ s: String, _ name: String) throws -> Double {
        if let t = ISOTime.parse(s) { return t }
        throw APIError.unprocessable("query.\(name): expected an RFC 3339 date-time such as 2026-11-23T10:00:00Z")
    }

    /// A valid bcrypt hash of nothing anyone knows, verified when the username does not exist.
    static let dummyHash = (try? Passwords.hash(Base64URL.encode(randomBytes(24)))) ?? ""

    static let deckyName = Param("decky_name", .text(min: 1, max: 64, pattern: "^[a-z0-9][a-z0-9._-]{0,63}$"), required: true)
    static let userUUID = Param("user_uuid", .text(min: 1, max: 64), required: true)
    static let roleSchema = Schema.text(enumValues: Role.allCases.map(\.rawValue))
}

/// The `config_limits` / `config_globals` state keys (spec §10.7).
enum ConfigState {
    static let limitsKey = "config_limits", globalsKey = "config_globals"

    static func load(_ store: any DecnetStore) throws -> JSONValue {
        let limits = try store.state(limitsKey).flatMap { try? JSONValue.parse($0) }
        let globals = try store.state(globalsKey).flatMap { try? JSONValue.parse($0) }
        let limit = limits?["deployment_limit"]?.doubleValue ?? 10
        let interval = globals?["global_mutation_interval"]?.stringValue ?? "30m"
        return .object([("deployment_limit", .number(limit)), ("global_mutation_interval", .string(interval))])
    }

    static func with(_ base: JSONValue, role: Role) -> JSONValue {
        guard case .object(let m) = base else { return base }
        return .object([("role", .string(role.rawValue))] + m)
    }
}

extension WorkerStatus {
    var json: JSONValue {
        .object([("name", .string(name)), ("status", .string(status.rawValue)),
                 ("last_heartbeat", lastHeartbeatTS.map { .string(isoTime($0)) } ?? .null),
                 ("seconds_since", secondsSince.map { .number(($0 * 10).rounded() / 10) } ?? .null),
                 ("installed", .bool(installed)), ("extra", extra)])
    }
}

extension DeckyRecord {
    var json: JSONValue {
        let services = (try? JSONValue.parse(self.services)) ?? .array([])
        let cfg = (try? JSONValue.parse(config)).flatMap { $0.isObject ? $0 : nil } ?? .object([])
        return .object([("name", .string(name)), ("host_uuid", .string(hostUUID)), ("ip", .string(ip)),
                        ("mac", mac.map(JSONValue.string) ?? .null), ("services", services), ("state", .string(state)),
                        ("last_error", lastError.map(JSONValue.string) ?? .null), ("updated_at", .string(isoTime(updatedAt))),
                        ("config", cfg)])
    }

    /// Lifecycle view (spec §10.7): the decky row's state is its deploy status.
    var lifecycleJSON: JSONValue {
        let status = switch state { case "running": "succeeded"; case "failed": "failed"; default: "running" }
        return .object([("id", .string(name)), ("decky_name", .string(name)), ("host_uuid", .string(hostUUID)),
                        ("operation", .string("deploy")), ("status", .string(status)), ("error", lastError.map(JSONValue.string) ?? .null),
                        ("updated_at", .string(isoTime(updatedAt)))])
    }
}
