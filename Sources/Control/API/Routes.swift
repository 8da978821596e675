// Routes.swift: the REST API's route table (spec §10.7, for the subsystems that have landed). Handlers are
// small: validated inputs in, one store call (through the §10.4 caches where the spec has one), JSON out.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

enum APIRoutes {
    static let prefix = "/api/v1"

    static var all: [Route] { auth + data + fleet + config }

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

    // MARK: auth

    static var auth: [Route] {
        [
            Route(method: .post, path: "/auth/login", access: .anonymous, tag: "auth", summary: "Log in; returns a bearer token",
                  body: .body([Prop("username", .text(min: 1, max: 64)), Prop("password", .text(min: 1, max: 72, pattern: Passwords.pattern))]),
                  replies: ok(.ref("Token")), errors: [401, 429]) { c in
                let username = c.member("username")!.stringValue!, password = c.member("password")!.stringValue!
                guard c.api.login.allow(source: c.peer, username: username) else {
                    throw APIError(.tooManyRequests, "Too many login attempts; try again later")
                }
                guard password.utf8.count <= Passwords.maxBytes else {
                    throw APIError.unprocessable("body.password: at most 72 bytes")
                }
                let user = try await c.api.loginUserCache.get(username) { [store = c.api.store] in try store.user(username: username) }
                let hash = user?.passwordHash
                // Verify against a real-cost hash even for unknown users: no timing oracle on usernames.
                let valid = try await APIServices.offload { Passwords.verify(password, hash: hash ?? dummyHash) }
                guard let user, valid else {
                    if user == nil { c.api.loginUserCache.invalidate(username) }
                    c.api.login.recordFailure(source: c.peer, username: username)
                    throw APIError(.unauthorized, "Incorrect username or password", headers: [.wwwAuthenticate: "Bearer"])
                }
                return JSONResponse.make(.object([("access_token", .string(c.api.issueToken(for: user))), ("token_type", .string("bearer")),
                                                  ("must_change_password", .bool(user.mustChangePassword))]))
            },
            Route(method: .post, path: "/auth/change-password", access: .authenticated, tag: "auth", summary: "Change your own password (revokes all your sessions)",
                  body: .body([Prop("old_password", .text(min: 1, max: 72, pattern: Passwords.pattern)), Prop("new_password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern))]),
                  replies: ok(message), errors: [401, 429]) { c in
                guard c.api.changePassword.allow(c.me.uuid) else { throw APIError(.tooManyRequests, "Too many attempts; try again later") }
                let old = c.member("old_password")!.stringValue!, new = c.member("new_password")!.stringValue!
                guard var user = try c.api.store.user(uuid: c.me.uuid) else { throw APIError.unauthenticated }
                let hash = user.passwordHash
                guard try await APIServices.offload({ Passwords.verify(old, hash: hash) }) else {
                    throw APIError(.unauthorized, "Incorrect password", headers: [.wwwAuthenticate: "Bearer"])
                }
                do { try Passwords.checkNew(new) } catch { throw APIError.unprocessable("body.new_password: \(error)") }
                user.passwordHash = try await APIServices.offload { try Passwords.hash(new) }
                user.mustChangePassword = false
                user.tokensValidFrom = wallClockSeconds()
                try c.api.store.updateUser(user)
                c.api.invalidateUser(user.uuid)
                return JSONResponse.message("Password updated successfully")
            },
            Route(method: .post, path: "/auth/logout", access: .authenticated, tag: "auth", summary: "Revoke this token", replies: ok(message)) { c in
                if let jti = c.me.jti {
                    try c.api.store.revokeToken(jti: jti, userUUID: c.me.uuid, expiresAt: Double(c.me.expires ?? 0), now: wallClockSeconds())
                    c.api.revokedCache.invalidate(jti)
                }
                return JSONResponse.message("Logged out")
            },
            Route(method: .post, path: "/auth/sse-ticket", access: .viewer, tag: "auth", summary: "A single-use 60 s ticket for an SSE stream",
                  replies: ok(.obj([Prop("ticket", .text), Prop("expires_in", .int)]))) { c in
                JSONResponse.make(.object([("ticket", .string(c.api.tickets.issue(for: c.me))), ("expires_in", .int(Int(TicketBook.lifetime)))]))
            },
        ]
    }

    /// A valid bcrypt hash of nothing anyone knows, verified when the username does not exist.
    static let dummyHash = (try? Passwords.hash(Base64URL.encode(randomBytes(24)))) ?? ""

    // MARK: data

    static var data: [Route] {
        [
            Route(method: .get, path: "/logs", access: .viewer, tag: "events", summary: "Events, newest first",
                  query: [limit, offset, search, startTime, endTime], replies: ok(paged("LogRow"))) { c in
                let f = try logFilter(c), lim = c.qInt("limit", 50), off = c.qInt("offset", 0)
                let store = c.api.store
                let rows = try store.logPageBytes(f, limit: lim, offset: off)
                let total = f.search == nil && f.start == nil && f.end == nil
                    ? try await c.api.logTotalCache.get("all") { try store.logCount(f) }
                    : try store.logCount(f)
                return JSONResponse.paged(total: total, limit: lim, offset: off, data: rows)
            },
            Route(method: .get, path: "/logs/histogram", access: .viewer, tag: "events", summary: "Event counts per time bucket",
                  query: [search, startTime, endTime, Param("interval_minutes", .integer(min: 1, max: 10_080), "Bucket width (default 15)")],
                  replies: ok(.array(.ref("Bucket")))) { c in
                let f = try logFilter(c), interval = c.qInt("interval_minutes", 15)
                let store = c.api.store
                let load: @Sendable () async throws -> [JSONValue] = { try store.logHistogram(f, interval: Double(interval * 60)) }
                let rows = f.isEmpty && interval == 15 ? try await c.api.histogramCache.get("default", load: load) : try await load()
                return JSONResponse.make(.array(rows))
            },
            Route(method: .get, path: "/bounty", access: .viewer, tag: "events", summary: "Harvested bounty (credentials, fingerprints, artifacts)",
                  query: [limit, offset, Param("bounty_type", .text(max: 64)), search], replies: ok(paged("Bounty"))) { c in
                let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), type = c.q("bounty_type"), s = c.q("search")
                let store = c.api.store
                let load: @Sendable () async throws -> Page = { try store.bountyPage(type: type, search: s, limit: lim, offset: off) }
                let page = lim == 50 && off == 0 && type == nil && s == nil ? try await c.api.bountyCache.get("default", load: load) : try await load()
                return JSONResponse.paged(total: page.total, limit: lim, offset: off, rows: page.rows)
            },
            Route(method: .get, path: "/credentials", access: .viewer, tag: "events", summary: "Captured credentials",
                  query: [limit, offset, search, Param("service", .text(max: 64)), Param("attacker_ip", .text(max: 64))],
                  replies: ok(paged("Credential"))) { c in
                let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), s = c.q("search"), svc = c.q("service"), ip = c.q("attacker_ip")
                let store = c.api.store
                let load: @Sendable () async throws -> Page = { try store.credentialPage(search: s, service: svc, attackerIP: ip, limit: lim, offset: off) }
                let page = lim == 50 && off == 0 && s == nil && svc == nil && ip == nil
                    ? try await c.api.credentialCache.get("default", load: load) : try await load()
                return JSONResponse.paged(total: page.total, limit: lim, offset: off, rows: page.rows)
            },
            Route(method: .get, path: "/stats", access: .viewer, tag: "events", summary: "Counters for the overview", replies: ok(.ref("Stats"))) { c in
                let store = c.api.store
                return JSONResponse.make(try await c.api.statsCache.get("stats") { try store.apiStats() })
            },
            Route(method: .get, path: "/stream", access: .stream, tag: "events",
                  summary: "Live events (SSE): `event: message` frames with stats, histogram and new logs",
                  query: [Param("lastEventId", .integer(min: 0, max: APIRoutes.maxID), "Start after this log id (default: the newest)"), search, startTime, endTime,
                          Param("ticket", .text(max: 128), "Single-use ticket from POST /auth/sse-ticket (instead of a bearer header)")],
                  replies: [Reply(status: 200, description: "text/event-stream", schema: .text, contentType: "text/event-stream")],
                  errors: [429]) { c in
                try EventStream.respond(c)
            },
            Route(method: .get, path: "/attackers", access: .viewer, tag: "attackers", summary: "Attacker profiles",
                  query: [limit, offset, Param("search", .text(max: 512), "Substring of the IP"),
                          Param("sort_by", .text(enumValues: AttackerSort.allCases.map(\.rawValue)), "recent (default), active, traversals or score"),
                          Param("service", .text(max: 64))],
                  replies: ok(paged("Attacker"))) { c in
                let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), s = c.q("search"), svc = c.q("service")
                let sort = c.q("sort_by").flatMap(AttackerSort.init(rawValue:)) ?? .recent
                let store = c.api.store
                let rows = try store.attackerPageBytes(search: s, service: svc, sort: sort, limit: lim, offset: off)
                let total = s == nil && svc == nil
                    ? try await c.api.attackerTotalCache.get("all") { try store.attackerCount(search: nil, service: nil) }
                    : try store.attackerCount(search: s, service: svc)
                return JSONResponse.paged(total: total, limit: lim, offset: off, data: rows)
            },
            Route(method: .get, path: "/attackers/{uuid}", access: .viewer, tag: "attackers",
                  summary: "One attacker with fingerprints, credentials and recent events",
                  pathParams: [Param("uuid", .text(min: 1, max: 64), required: true)], replies: ok(.ref("AttackerDetail"))) { c in
                guard let d = try c.api.store.attackerDetail(uuid: c.path["uuid"]!) else { throw APIError.notFound("Attacker not found") }
                return JSONResponse.make(d)
            },
        ]
    }

    // MARK: fleet, workers, health

    static let deckyName = Param("decky_name", .text(min: 1, max: 64, pattern: "^[a-z0-9][a-z0-9._-]{0,63}$"), required: true)

    static var fleet: [Route] {
        [
            Route(method: .get, path: "/health", access: .viewer, tag: "system", summary: "Component health; 503 when a critical one fails",
                  replies: [Reply(status: 200, description: "healthy or degraded", schema: .ref("Health")),
                            Reply(status: 503, description: "unhealthy", schema: .ref("Health"))]) { c in
                try await Health.respond(c.api)
            },
            Route(method: .get, path: "/workers", access: .viewer, tag: "system", summary: "Worker registry (heartbeats)",
                  replies: ok(.array(.ref("Worker")))) { c in
                JSONResponse.make(.array(c.api.registry.snapshot().map(\.json)))
            },
            Route(method: .post, path: "/workers/{name}/stop", access: .admin, tag: "system", summary: "Ask a worker to stop (bus control intent)",
                  pathParams: [Param("name", .text(min: 1, max: 64, pattern: "^[a-z][a-z0-9_-]*$"), required: true)],
                  replies: [Reply(status: 202, description: "stop requested", schema: .obj([Prop("message", .text), Prop("worker", .text)]))],
                  errors: [404, 409]) { c in
                let name = c.path["name"]!
                guard WorkerRegistry.knownWorkers.contains(name) else { throw APIError.notFound("Unknown worker '\(name)'") }
                // No bus, no way to reach the worker: a state conflict the operator can fix (start `decnet bus`).
                let unavailable = APIError.conflict("Event bus unavailable: stop intents travel over the bus (is `decnet bus` running?)")
                guard let bus = c.api.bus, let topic = try? Topic.systemControl(name) else { throw unavailable }
                do {
                    try await bus.publish(topic, .object([("action", .string("stop")), ("requested_by", .string(c.me.username))]), type: "control")
                } catch {
                    throw unavailable
                }
                return JSONResponse.make(.object([("message", .string("Stop requested")), ("worker", .string(name))]), status: .accepted)
            },
            Route(method: .get, path: "/system/deployment-mode", access: .viewer, tag: "system", summary: "unihost or swarm",
                  replies: ok(.obj([Prop("mode", .text), Prop("role", .text), Prop("swarm_host_count", .int)]))) { _ in
                JSONResponse.make(.object([("mode", .string("unihost")), ("role", .string("master")), ("swarm_host_count", .int(0))]))
            },
            Route(method: .get, path: "/deckies", access: .viewer, tag: "deckies", summary: "The decky fleet", replies: ok(.array(.ref("Decky")))) { c in
                let store = c.api.store
                return JSONResponse.make(try await c.api.deckyCache.get("all") { .array(try store.deckies().map(\.json)) })
            },
            Route(method: .get, path: "/deckies/lifecycle", access: .viewer, tag: "deckies", summary: "Deploy progress of the given deckies",
                  query: [Param("ids", .text(min: 1, max: 4096), required: true, "Comma-separated decky names (lifecycle ids), at most 200; empty names are skipped")],
                  replies: ok(.obj([Prop("rows", .array(.ref("Lifecycle")))]))) { c in
                let ids = c.q("ids")!.split(separator: ",").map { String($0).trimmingCharacters(in: [" "]) }.filter { !$0.isEmpty }
                // `ids=,` names no decky: no rows (it was schema-valid and answered 422).
                guard ids.count <= 200 else { throw APIError.unprocessable("query.ids: at most 200 ids") }
                let want = Set(ids)
                let rows = try c.api.store.deckies().filter { want.contains($0.name) }.map(\.lifecycleJSON)
                return JSONResponse.make(.object([("rows", .array(rows))]))
            },
            Route(method: .post, path: "/deckies/deploy", access: .admin, tag: "deckies",
                  summary: "Deploy deckies from INI text; `decnet serve` brings them up",
                  body: .body([Prop("ini_content", .text(max: 512 << 10)), Prop("replace_fleet", .boolean, required: false)]),
                  // Admin-only (the token is checked before the body is read); room for 512 Ki characters of 4-byte UTF-8.
                  bodyLimit: 8 << 20,
                  replies: [Reply(status: 202, description: "accepted", schema: .obj([Prop("message", .text), Prop("mode", .text), Prop("lifecycle_ids", .array(.text))]))],
                  errors: [409]) { c in
                try await DeployRoute.deploy(c)
            },
            Route(method: .post, path: "/deckies/{decky_name}/mutate", access: .admin, tag: "deckies",
                  summary: "Rotate this decky's services now (trigger operator); `decnet serve` swaps the decoys",
                  pathParams: [deckyName],
                  replies: [Reply(status: 202, description: "mutated", schema: .obj([Prop("lifecycle_ids", .array(.text)),
                                                                                   Prop("old_services", .array(.text)), Prop("new_services", .array(.text))]))],
                  errors: [404]) { c in
                try await DeployRoute.mutate(c)
            },
            Route(method: .delete, path: "/deckies/{decky_name}", access: .admin, tag: "deckies", summary: "Tear one decky down",
                  pathParams: [deckyName], replies: [Reply(status: 204, description: "removed", schema: nil)], errors: [404]) { c in
                try await DeployRoute.remove(c)
            },
        ]
    }

    // MARK: config and users

    static let userUUID = Param("user_uuid", .text(min: 1, max: 64), required: true)
    static let roleSchema = Schema.text(enumValues: Role.allCases.map(\.rawValue))

    static var config: [Route] {
        [
            Route(method: .get, path: "/config", access: .viewer, tag: "config", summary: "Limits and globals (admins also get the user list)",
                  replies: ok(.ref("Config"))) { c in
                let store = c.api.store
                let base = try await c.api.configCache.get("config") { try ConfigState.load(store) }
                guard c.me.role == .admin, case .object(var members) = base else {
                    return JSONResponse.make(ConfigState.with(base, role: c.me.role))
                }
                members.insert(("role", .string("admin")), at: 0)
                members.append(("users", .array(try store.userSummaries())))
                if c.api.config.developer { members.append(("developer_mode", .bool(true))) }
                return JSONResponse.make(.object(members))
            },
            Route(method: .put, path: "/config/deployment-limit", access: .admin, tag: "config", summary: "Maximum number of deckies",
                  body: .body([Prop("deployment_limit", .integer(min: 1, max: 500))]), replies: ok(message)) { c in
                try c.api.store.setState(ConfigState.limitsKey, JSONValue.object([("deployment_limit", c.member("deployment_limit")!)]).serialized)
                c.api.configCache.invalidate()
                return JSONResponse.message("Deployment limit updated")
            },
            Route(method: .put, path: "/config/global-mutation-interval", access: .admin, tag: "config", summary: "Default mutation interval",
                  body: .body([Prop("global_mutation_interval", .text(min: 2, max: 16, pattern: "^[1-9][0-9]*[mdMyY]$"))]), replies: ok(message)) { c in
                try c.api.store.setState(ConfigState.globalsKey, JSONValue.object([("global_mutation_interval", c.member("global_mutation_interval")!)]).serialized)
                c.api.configCache.invalidate()
                return JSONResponse.message("Global mutation interval updated")
            },
            Route(method: .post, path: "/config/users", access: .admin, tag: "users", summary: "Create a user (must change the password at first login)",
                  body: .body([Prop("username", .text(min: 1, max: 64, pattern: "^[A-Za-z0-9._@-]+$")), Prop("password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern)),
                               Prop("role", roleSchema, required: false)]),
                  replies: ok(.ref("User")), errors: [409]) { c in
                let pw = c.member("password")!.stringValue!
                do { try Passwords.checkNew(pw) } catch { throw APIError.unprocessable("body.password: \(error)") }
                let hash = try await APIServices.offload { try Passwords.hash(pw) }
                let u = UserRecord(uuid: newSessionID(), username: c.member("username")!.stringValue!, passwordHash: hash,
                                   role: c.member("role")?.stringValue ?? "viewer", mustChangePassword: true)
                do { try c.api.store.insertUser(u) } catch UserStoreError.duplicateUsername {
                    throw APIError.conflict("User '\(u.username)' already exists")
                }
                c.api.invalidateUser(u.uuid)
                return JSONResponse.make(u.summary)
            },
            Route(method: .delete, path: "/config/users/{user_uuid}", access: .admin, tag: "users", summary: "Delete a user (not yourself)",
                  pathParams: [userUUID], replies: ok(message), errors: [404]) { c in
                let id = c.path["user_uuid"]!
                guard id != c.me.uuid else { throw APIError.forbidden("You cannot delete your own account") }
                guard try c.api.store.deleteUser(uuid: id) else { throw APIError.notFound("User not found") }
                c.api.invalidateUser(id)
                return JSONResponse.message("User deleted")
            },
            Route(method: .put, path: "/config/users/{user_uuid}/role", access: .admin, tag: "users", summary: "Change a user's role (revokes their sessions)",
                  pathParams: [userUUID], body: .body([Prop("role", roleSchema)]), replies: ok(message), errors: [404]) { c in
                let id = c.path["user_uuid"]!
                guard id != c.me.uuid else { throw APIError.forbidden("You cannot change your own role") }
                guard var u = try c.api.store.user(uuid: id) else { throw APIError.notFound("User not found") }
                u.role = c.member("role")!.stringValue!
                u.tokensValidFrom = wallClockSeconds()
                try c.api.store.updateUser(u)
                c.api.invalidateUser(id)
                return JSONResponse.message("User role updated")
            },
            Route(method: .put, path: "/config/users/{user_uuid}/reset-password", access: .admin, tag: "users",
                  summary: "Set a user's password (must change it at next login; revokes their sessions)",
                  pathParams: [userUUID], body: .body([Prop("new_password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern))]), replies: ok(message), errors: [404]) { c in
                let id = c.path["user_uuid"]!
                guard id != c.me.uuid else { throw APIError.forbidden("Use POST /auth/change-password for your own password") }
                let pw = c.member("new_password")!.stringValue!
                do { try Passwords.checkNew(pw) } catch { throw APIError.unprocessable("body.new_password: \(error)") }
                guard var u = try c.api.store.user(uuid: id) else { throw APIError.notFound("User not found") }
                u.passwordHash = try await APIServices.offload { try Passwords.hash(pw) }
                u.mustChangePassword = true
                u.tokensValidFrom = wallClockSeconds()
                try c.api.store.updateUser(u)
                c.api.invalidateUser(id)
                return JSONResponse.message("Password reset")
            },
        ]
    }
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
