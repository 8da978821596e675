// Handlers.swift: the routes with more than one step: health, the live event stream, deploy/teardown.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import NIOCore

enum Health {
    /// spec §10.5: `{status, components{name: {status, detail?}}}`; only `database` is critical here (the
    /// API serves from it); a worker that heartbeats but went quiet and an unreachable bus degrade.
    /// Below this much free space on the store's filesystem, writers fail (SQLite needs room for the WAL).
    static let minFreeBytes = 16 << 20

    static func respond(_ api: APIServices) async throws -> Response {
        // One entry per name: a name reported twice (the API's bus connection and the bus daemon's heartbeat)
        // is merged, failing wins.
        var components: [(String, (ok: Bool, detail: [String]))] = []
        func add(_ name: String, _ ok: Bool, _ detail: String?) {
            if let i = components.firstIndex(where: { $0.0 == name }) {
                components[i].1.ok = components[i].1.ok && ok
                if let detail { components[i].1.detail.append(detail) }
            } else {
                components.append((name, (ok, detail.map { [$0] } ?? [])))
            }
        }
        var critical = false, degraded = false
        let store = api.store
        let dbOK = (try? await api.dbProbeCache.get("db") { _ = try await store.maxLogID(); return true }) ?? false
        add("database", dbOK, dbOK ? nil : "query failed")
        if !dbOK { critical = true }
        // The API only reads; writers (serve, sensor) drop events when the disk is full. Say so here.
        if let free = store.freeBytes() {
            let ok = free >= minFreeBytes
            add("store", ok, ok ? nil : "disk almost full: \(free / 1024) KiB free where the store lives; writers drop events")
            if !ok { degraded = true }
        }
        if let bus = api.bus as? UnixSocketBus {
            let up = bus.isConnected
            add("bus", up, up ? nil : "not connected")
            if !up { degraded = true }
        }
        for w in api.registry.snapshot() where w.status != .unknown || w.installed {
            var ok = w.status == .ok
            var detail = w.status == .stale ? "no heartbeat for \(Dashboard.whole(.number(w.secondsSince ?? 0))) s" : (w.status == .unknown ? "not started" : nil)
            if w.extra["store_failing"]?.boolValue == true || (w.extra["store_failing"]?.doubleValue ?? 0) > 0 { ok = false; detail = "cannot write to the store" }
            add(w.name, ok, detail)
            if !ok { degraded = true }
        }
        let status = critical ? "unhealthy" : (degraded ? "degraded" : "healthy")
        let body = components.map { ($0.0, component($0.1.ok, $0.1.detail.isEmpty ? nil : $0.1.detail.joined(separator: "; "))) }
        return JSONResponse.make(.object([("status", .string(status)), ("components", .object(body))]),
                                 status: critical ? .serviceUnavailable : .ok)
    }

    static func component(_ ok: Bool, _ detail: String?) -> JSONValue {
        var m: [(String, JSONValue)] = [("status", .string(ok ? "ok" : "failing"))]
        if let detail { m.append(("detail", .string(detail))) }
        return .object(m)
    }
}

/// `GET /api/v1/stream` (spec §10.6): keepalive comment first, then stats + histogram, then every second the
/// logs newer than the last one sent (≤ 50 per frame), stats + histogram every 10 s and after new logs, a
/// keepalive comment when 15 s pass without a frame.
enum EventStream {
    /// How often an open stream re-checks its session (seconds).
    static let recheckSeconds = 2

    static func respond(_ c: APICall) throws -> Response {
        let filter = try APIRoutes.logFilter(c)
        guard let slot = c.api.openStream(c.me.uuid) else {
            throw APIError(.tooManyRequests, "SSE connection limit (\(c.api.config.sseMaxPerUser)) reached")
        }
        let api = c.api
        let identity = c.me
        let start = c.ints["lastEventId"].map { Int64($0) }
        let body = ResponseBody { writer in
            withExtendedLifetime(slot) {}
            try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
            let store = api.store
            var last: Int64
            if let start { last = start } else { last = try await store.maxLogID() }
            func frame(_ type: String, _ data: JSONValue) -> ByteBuffer {
                ByteBuffer(string: "event: message\ndata: " + JSONValue.object([("type", .string(type)), ("data", data)]).serialized + "\n\n")
            }
            func summary(fresh: Bool = false) async throws -> [ByteBuffer] {
                // The first frame is read fresh: a page rendered a moment ago must not see its counters go back
                // to a cached figure older than itself (the periodic frames use the 5 s cache).
                if fresh { api.statsCache.invalidate("stats") }
                let stats = try await api.statsCache.get("stats") { try await store.apiStats() }
                let hist = filter.isEmpty ? try await api.histogramCache.get("default") { try await store.logHistogram(filter, interval: 900) }
                                          : try await store.logHistogram(filter, interval: 900)
                return [frame("stats", stats), frame("histogram", .array(hist))]
            }
            try await writer.write(contentsOf: try await summary(fresh: true))
            var tick = 0, quiet = 0.0
            let lifetime = api.config.sseMaxSeconds
            while !Task.isCancelled && tick < lifetime {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                tick += 1
                quiet += 1
                // Revocation reaches open streams: logout, password or role change, user deletion, expiry.
                var probe = false
                if tick % EventStream.recheckSeconds == 0 {
                    let still = try? await api.revalidate(identity)
                    guard let still, !still.mustChangePassword else {
                        try? await writer.write(ByteBuffer(string: "event: error\ndata: {\"type\":\"error\",\"message\":\"Session ended\"}\n\n"))
                        break
                    }
                    probe = true
                }
                do {
                    let rows = try await store.logsAfter(last, filter, limit: 50)
                    if let id = rows.last?["id"]?.doubleValue, let v = CheckedMath.exactInt(id, in: 0...Int.max) { last = Int64(v) }
                    var out: [ByteBuffer] = []
                    if !rows.isEmpty { out.append(frame("logs", .array(rows))) }
                    if !rows.isEmpty || tick % 10 == 0 { out += try await summary() }
                    if out.isEmpty && quiet >= 15 { out.append(ByteBuffer(string: ": keepalive\n\n")) }
                    // A 3-byte comment at each re-check: a client that went away (reset, crash) fails this write
                    // within seconds and its slot comes back, instead of at the next 10 s summary.
                    if out.isEmpty && probe { try await writer.write(ByteBuffer(string: ":\n\n")) }
                    if !out.isEmpty {
                        quiet = 0
                        try await writer.write(contentsOf: out)
                    }
                } catch let e as CancellationError {
                    throw e
                } catch {
                    try? await writer.write(ByteBuffer(string: "event: error\ndata: {\"type\":\"error\",\"message\":\"Stream interrupted\"}\n\n"))
                    break
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache",
                                               HTTPField.Name("X-Accel-Buffering")!: "no"], body: body)
    }
}

/// Deploy and teardown record the wanted fleet in the store under the fleet lock; `decnet serve` (root, the
/// one process that touches namespaces) reconciles the host with it. The API itself never needs root.
enum DeployRoute {
    static func deploy(_ c: APICall) async throws -> Response {
        let text = c.member("ini_content")!.stringValue!.replacingOccurrences(of: "\r\n", with: "\n")
        let replace = c.member("replace_fleet")?.boolValue ?? false
        guard !text.trimmingCharacters(in: [" ", "\n", "\t"]).isEmpty else { throw APIError.conflict("INI content is empty") }
        guard text.contains("[") else { throw APIError.conflict("INI has no sections") }
        let api = c.api
        let store = api.store
        let fleet = DeckyFleet(store: store, lockPath: api.config.fleetLockPath)
        let prefix = (try? fleet.prefix()) ?? nil ?? api.config.netnsPrefix
        let result: Result<[DeckySpec], APIError> = try await APIServices.offload {
            try fleet.locked {
                let entries = try fleet.entries().entries
                var req = DeployRequest()
                req.ini = (text, "ini_content")
                let existing = replace ? [] : entries.map(\.spec)
                let planned: (FleetNetwork, [DeckySpec])
                do {
                    planned = try DeckyPlanner.plan(req, host: HostFacts.probe(), existing: existing, existingNetwork: try fleet.network())
                } catch let e as PlanError {
                    return .failure(APIError.conflict("Invalid INI config: " + e.problems.joined(separator: "; ")))
                }
                let (net, specs) = planned
                if let clash = specs.first(where: { s in existing.contains { $0.name == s.name } }) {
                    return .failure(APIError.conflict("decky '\(clash.name)' already exists; submit with replace_fleet=true to replace the fleet"))
                }
                let limit = Dashboard.whole(try ConfigState.load(store)["deployment_limit"] ?? .number(10))
                let total = existing.count + specs.count
                guard total <= limit else {
                    return .failure(APIError.conflict("Deployment limit exceeded: \(total) deckies requested, limit is \(limit)"))
                }
                if replace {
                    let keep = Set(specs.map(\.name))
                    for e in entries where !keep.contains(e.spec.name) { try fleet.remove(e.spec.name) }
                }
                try fleet.setNetwork(net, prefix: prefix)
                for s in specs { try fleet.record(s, state: "pending") }
                return .success(specs)
            }
        }
        let specs = try result.get()
        let names = specs.map(\.name)
        Mutator(fleet: fleet, logPath: api.config.mutationLogPath, publish: publishFunction(api.bus)).announce(specs, .creation, actor: c.me.username)
        api.deckyCache.invalidate()
        api.statsCache.invalidate()
        return JSONResponse.make(.object([
            ("message", .string("Deploy accepted (\(names.count) decky/ies, mode=unihost). Poll /deckies/lifecycle?ids=... for completion.")),
            ("mode", .string("unihost")), ("lifecycle_ids", .array(names.map(JSONValue.string))),
        ]), status: .accepted)
    }

    static func mutate(_ c: APICall) async throws -> Response {
        let name = c.path["decky_name"]!
        let api = c.api
        let fleet = DeckyFleet(store: api.store, lockPath: api.config.fleetLockPath)
        let bus = api.bus
        let mutator = Mutator(fleet: fleet, logPath: api.config.mutationLogPath,
                              publish: publishFunction(bus))
        let actor = c.me.username
        let result: Result<Mutation, APIError> = try await APIServices.offload {
            do { return .success(try mutator.mutate(name, trigger: MutationTrigger.`operator`, actor: actor)) } catch let e as MutationError {
                return .failure(APIError.notFound(e.description))
            }
        }
        let m = try result.get()
        api.deckyCache.invalidate()
        return JSONResponse.make(.object([("lifecycle_ids", .array([.string(name)])),
                                          ("old_services", .array(m.oldServices.map(JSONValue.string))),
                                          ("new_services", .array(m.newServices.map(JSONValue.string)))]), status: .accepted)
    }

    static func remove(_ c: APICall) async throws -> Response {
        let name = c.path["decky_name"]!
        let api = c.api
        let fleet = DeckyFleet(store: api.store, lockPath: api.config.fleetLockPath)
        let found: DeckySpec? = try await APIServices.offload {
            try fleet.locked {
                let entries = try fleet.entries().entries
                guard let e = entries.first(where: { $0.spec.name == name }) else { return nil }
                try fleet.remove(name)
                if entries.count == 1, let p = try fleet.prefix() { try fleet.setNetwork(nil, prefix: p) }
                return e.spec
            }
        }
        guard let gone = found else { throw APIError.notFound("Decky '\(name)' not found") }
        Mutator(fleet: fleet, logPath: api.config.mutationLogPath, publish: publishFunction(api.bus)).announce([gone], .retirement, actor: c.me.username)
        api.deckyCache.invalidate()
        api.statsCache.invalidate()
        return Response(status: .noContent)
    }
}

/// RFC 3339 date-times (`2026-11-23T10:00:00Z`, `…T10:00:00.5+01:00`): what OpenAPI's `date-time` means.
enum ISOTime {
    static func parse(_ s: String) -> Double? {
        let b = Array(s.utf8)
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func eat(_ c: UInt8) -> Bool { if i < b.count && b[i] == c { i += 1; return true }; return false }
        guard let y = num(4), eat(45), let mo = num(2), eat(45), let d = num(2), (1...12).contains(mo), (1...31).contains(d) else { return nil }
        // RFC 3339 date-time: the time, seconds and an offset are all required.
        let monthDays = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= monthDays[mo - 1] else { return nil }
        guard eat(84) || eat(116), let h = num(2), eat(58), let mi = num(2), eat(58), let ss = num(2), h < 24, mi < 60, ss < 61 else { return nil }
        var sec = Double(ss)
        if eat(46) {
            var scale = 0.1, digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 { sec += Double(b[i] - 48) * scale; scale /= 10; i += 1; digits += 1 }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        if eat(90) || eat(122) {
        } else if i < b.count, b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 45 ? -1 : 1
            i += 1
            guard let oh = num(2), eat(58), let om = num(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + h * 3600 + mi * 60 - offset) + sec
    }
}
