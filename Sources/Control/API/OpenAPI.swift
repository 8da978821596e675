// OpenAPI.swift: /openapi.json (OpenAPI 3.1), printed from the route table the router is built from. Each
// route's error statuses follow from its shape: a token → 401, a role → 403, parameters → 422, a body →
// 400/413/415/422, path parameters → 404.
import Appliance
import Fingerprint

enum OpenAPIDocument {
    static let components: [String: Schema] = {
        let ts = Schema.timestamp
        let nullableText = Schema.nullable(.text)
        return [
            "Error": .obj([Prop("detail", .text)]),
            "Token": .obj([Prop("access_token", .text), Prop("token_type", .text), Prop("must_change_password", .boolean)]),
            "LogRow": .obj([Prop("id", .int), Prop("timestamp", ts), Prop("decky", .text), Prop("service", .text),
                            Prop("event_type", .text), Prop("attacker_ip", .text), Prop("severity", .int), Prop("raw_line", .text),
                            Prop("fields", .nullable(.freeObject)), Prop("msg", nullableText)]),
            "Bucket": .obj([Prop("time", ts), Prop("count", .int)]),
            "Bounty": .obj([Prop("id", .int), Prop("timestamp", ts), Prop("decky", .text), Prop("service", .text),
                            Prop("attacker_ip", .text), Prop("bounty_type", .text), Prop("payload", .nullable(.freeObject))]),
            "Credential": .obj([Prop("id", .int), Prop("attacker_ip", .text), Prop("attacker_uuid", nullableText),
                                Prop("decky_name", .text), Prop("service", .text), Prop("principal", nullableText),
                                Prop("secret_kind", .text), Prop("secret_sha256", .text), Prop("secret_printable", nullableText),
                                Prop("outcome", nullableText), Prop("first_seen", ts), Prop("last_seen", ts), Prop("attempt_count", .int)]),
            "Stats": .obj([Prop("total_logs", .int), Prop("unique_attackers", .int), Prop("active_deckies", .int), Prop("deployed_deckies", .int)]),
            "Attacker": .obj(attackerProps),
            "AttackerDetail": .obj(attackerProps + [
                Prop("fingerprints", .array(.obj([Prop("kind", .text), Prop("value", .text), Prop("first_seen", ts),
                                                  Prop("last_seen", ts), Prop("count", .int)]))),
                Prop("credentials", .array(.ref("Credential"))), Prop("recent_events", .array(.ref("LogRow"))),
            ]),
            "Health": .obj([Prop("status", .text(enumValues: ["healthy", "degraded", "unhealthy"])), Prop("components", .freeObject)]),
            "Worker": .obj([Prop("name", .text), Prop("status", .text(enumValues: ["ok", "stale", "unknown"])),
                            Prop("last_heartbeat", .nullable(ts)), Prop("seconds_since", .nullable(.number)),
                            Prop("installed", .boolean), Prop("extra", .freeObject)]),
            "Decky": .obj([Prop("name", .text), Prop("host_uuid", .text), Prop("ip", .text), Prop("mac", nullableText),
                           Prop("services", .array(.text)), Prop("state", .text), Prop("last_error", nullableText),
                           Prop("updated_at", ts), Prop("config", .freeObject)]),
            "Lifecycle": .obj([Prop("id", .text), Prop("decky_name", .text), Prop("host_uuid", .text), Prop("operation", .text),
                               Prop("status", .text(enumValues: ["pending", "running", "succeeded", "failed"])),
                               Prop("error", nullableText), Prop("updated_at", ts)]),
            "SwarmHost": .obj([Prop("uuid", .text), Prop("name", .text), Prop("address", .text), Prop("agent_port", .int),
                               Prop("status", .text(enumValues: ["enrolled", "active", "stale", "unreachable", "evicted", "banned", "decommissioned"])),
                               Prop("last_heartbeat", .nullable(.number)), Prop("heartbeat_age", .nullable(.number)),
                               Prop("client_cert_fingerprint", .text), Prop("enrolled_at", .number), Prop("version", nullableText),
                               Prop("events_committed_seq", .int), Prop("events_ingested", .int), Prop("shipping_lag", .int)]),
            "SwarmShard": .obj([Prop("decky_name", .text), Prop("host_uuid", .text), Prop("host_name", .text), Prop("host_status", .text),
                                Prop("decky_ip", .text), Prop("services", .array(.text)), Prop("state", .text), Prop("last_error", nullableText),
                                Prop("updated_at", .number)]),
            "SwarmToken": .obj([Prop("id", .text), Prop("name", .text), Prop("created_at", .number), Prop("expires_at", .number),
                                Prop("state", .text(enumValues: ["valid", "used", "expired"])), Prop("host_uuid", nullableText)]),
            "User": .obj([Prop("uuid", .text), Prop("username", .text), Prop("role", .text(enumValues: ["admin", "viewer"])),
                          Prop("must_change_password", .boolean)]),
            "Config": .obj([Prop("role", .text(enumValues: ["admin", "viewer"])), Prop("deployment_limit", .int),
                            Prop("global_mutation_interval", .text), Prop("users", .array(.ref("User")), required: false),
                            Prop("developer_mode", .boolean, required: false)]),
        ]
    }()

    static let attackerProps: [Prop] = [
        Prop("uuid", .text), Prop("ip", .text), Prop("first_seen", .timestamp), Prop("last_seen", .timestamp),
        Prop("event_count", .int), Prop("service_count", .int), Prop("decky_count", .int), Prop("credential_count", .int),
        Prop("bounty_count", .int), Prop("is_traversal", .boolean), Prop("score", .number),
        Prop("services", .array(.text)), Prop("deckies", .array(.text)), Prop("profile", .freeObject),
    ]

    static func json(_ s: Schema) -> JSONValue {
        switch s {
        case .string(let r):
            var m: [(String, JSONValue)] = [("type", .string("string"))]
            if let v = r.minLength { m.append(("minLength", .int(v))) }
            if let v = r.maxLength { m.append(("maxLength", .int(v))) }
            if let v = r.pattern { m.append(("pattern", .string(v))) }
            if let v = r.enumValues { m.append(("enum", .array(v.map(JSONValue.string)))) }
            if let v = r.format { m.append(("format", .string(v))) }
            return .object(m)
        case .integer(let lo, let hi):
            var m: [(String, JSONValue)] = [("type", .string("integer"))]
            if let lo { m.append(("minimum", .int(lo))) }
            if let hi { m.append(("maximum", .int(hi))) }
            return .object(m)
        case .number: return .object([("type", .string("number"))])
        case .boolean: return .object([("type", .string("boolean"))])
        case .array(let item): return .object([("type", .string("array")), ("items", json(item))])
        case .freeObject: return .object([("type", .string("object"))])
        case .nullable(let inner):
            return .object([("anyOf", .array([json(inner), .object([("type", .string("null"))])]))])
        case .ref(let name): return .object([("$ref", .string("#/components/schemas/\(name)"))])
        case .object(let props, let closed):
            var m: [(String, JSONValue)] = [("type", .string("object")),
                                            ("properties", .object(props.map { ($0.name, json($0.schema)) }))]
            let req = props.filter(\.required).map { JSONValue.string($0.name) }
            if !req.isEmpty { m.append(("required", .array(req))) }
            if closed { m.append(("additionalProperties", .bool(false))) }
            return .object(m)
        }
    }

    static func errorReply(_ d: String) -> JSONValue {
        .object([("description", .string(d)),
                 ("content", .object([("application/json", .object([("schema", .object([("$ref", .string("#/components/schemas/Error"))]))]))]))])
    }

    static let reasons: [Int: String] = [400: "Malformed or structurally invalid request", 401: "Missing, invalid, expired or revoked token",
                                         403: "Role or password-change requirement not met", 404: "Not found",
                                         409: "Conflict", 413: "Body too large", 415: "Body is not application/json",
                                         422: "Invalid parameter value", 429: "Rate limited", 503: "Unavailable"]

    static func operation(_ r: Route) -> JSONValue {
        var responses: [(String, JSONValue)] = []
        for reply in r.replies {
            var m: [(String, JSONValue)] = [("description", .string(reply.description))]
            if let s = reply.schema {
                m.append(("content", .object([(reply.contentType, .object([("schema", json(s))]))])))
            }
            responses.append((String(reply.status), .object(m)))
        }
        var errors = Set(r.errors)
        if r.access != .anonymous { errors.insert(401) }
        if r.access == .viewer || r.access == .admin || r.access == .stream { errors.insert(403) }
        if !r.query.isEmpty || r.body != nil { errors.insert(422) }
        // The HTTP parser refuses request lines and headers past its limits (a query string can get there).
        if !r.query.isEmpty { errors.insert(400) }
        if r.body != nil { errors.formUnion([400, 413, 415]) }
        if !r.pathParams.isEmpty { errors.insert(404) }
        for code in errors.sorted() where !r.replies.contains(where: { $0.status == code }) {
            responses.append((String(code), errorReply(reasons[code] ?? "Error")))
        }
        var params: [JSONValue] = []
        for p in r.pathParams {
            params.append(.object([("name", .string(p.name)), ("in", .string("path")), ("required", .bool(true)), ("schema", json(p.schema))]))
        }
        for p in r.query {
            var schema = json(p.schema)
            // spec §10.4: `null`, `NULL`, `undefined` and "" mean "not given" for optional text filters.
            if !p.required, case .string(let rule) = p.schema, rule.format != nil || rule.enumValues != nil || rule.pattern != nil || (rule.minLength ?? 0) > 0 {
                schema = .object([("anyOf", .array([schema, .object([("enum", .array(["", "null", "NULL", "undefined"].map(JSONValue.string)))])]))])
            }
            var m: [(String, JSONValue)] = [("name", .string(p.name)), ("in", .string("query")), ("required", .bool(p.required)),
                                            ("schema", schema)]
            if !p.description.isEmpty { m.append(("description", .string(p.description))) }
            params.append(.object(m))
        }
        var op: [(String, JSONValue)] = [("tags", .array([.string(r.tag)])), ("summary", .string(r.summary)),
                                         ("operationId", .string(operationID(r)))]
        if !params.isEmpty { op.append(("parameters", .array(params))) }
        if let body = r.body {
            op.append(("requestBody", .object([("required", .bool(true)),
                                               ("content", .object([("application/json", .object([("schema", json(body))]))]))])))
        }
        op.append(("responses", .object(responses)))
        switch r.access {
        case .anonymous: op.append(("security", .array([])))
        case .stream: op.append(("security", .array([.object([("bearer", .array([]))]), .object([("ticket", .array([]))])])))
        default: op.append(("security", .array([.object([("bearer", .array([]))])])))
        }
        op.append(("x-decnet-access", .string(r.access.rawValue)))
        return .object(op)
    }

    static func operationID(_ r: Route) -> String {
        let words = r.path.split(whereSeparator: { "/{}-_".contains($0) }).map { $0.prefix(1).uppercased() + $0.dropFirst() }
        return r.method.rawValue.lowercased() + words.joined()
    }

    static func document(_ routes: [Route]) -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        for r in routes {
            let p = APIRoutes.prefix + r.path
            let entry = (r.method.rawValue.lowercased(), operation(r))
            if let i = paths.firstIndex(where: { $0.0 == p }) { paths[i].1.append(entry) } else { paths.append((p, [entry])) }
        }
        return .object([
            ("openapi", .string("3.1.0")),
            ("info", .object([("title", .string("decnet API")), ("version", .string("1.0.0")),
                              ("description", .string("Deception-network appliance: events, attackers, deckies, workers, users."))])),
            ("paths", .object(paths.map { ($0.0, .object($0.1)) })),
            ("components", .object([
                ("schemas", .object(components.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })),
                ("securitySchemes", .object([
                    ("bearer", .object([("type", .string("http")), ("scheme", .string("bearer")), ("bearerFormat", .string("JWT"))])),
                    ("ticket", .object([("type", .string("apiKey")), ("in", .string("query")), ("name", .string("ticket"))])),
                ])),
            ])),
        ])
    }
}
