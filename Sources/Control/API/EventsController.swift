// EventsController.swift: Events: logs, histogram, bounty, credentials, stats and the live stream.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum EventsController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .get, path: "/logs", access: .viewer, tag: "events", summary: "Events, newest first",
                    query: [limit, offset, search, startTime, endTime], replies: ok(paged("LogRow"))
                ) { c in
                    let f = try logFilter(c), lim = c.qInt("limit", 50), off = c.qInt("offset", 0)
                    let store = c.api.store
                    let rows = try await store.logPageBytes(f, limit: lim, offset: off)
                    let total =
                        f.search == nil && f.start == nil && f.end == nil
                        ? try await c.api.logTotalCache.get("all") { try await store.logCount(f) }
                        : try await store.logCount(f)
                    return JSONResponse.paged(total: total, limit: lim, offset: off, data: rows)
                },
                Route(
                    method: .get, path: "/logs/histogram", access: .viewer, tag: "events", summary: "Event counts per time bucket",
                    query: [search, startTime, endTime, Param("interval_minutes", .integer(min: 1, max: 10_080), "Bucket width (default 15)")],
                    replies: ok(.array(.ref("Bucket")))
                ) { c in
                    let f = try logFilter(c), interval = c.qInt("interval_minutes", 15)
                    let store = c.api.store
                    let load: @Sendable () async throws -> [JSONValue] = { try await store.logHistogram(f, interval: Double(interval * 60)) }
                    let rows = f.isEmpty && interval == 15 ? try await c.api.histogramCache.get("default", load: load) : try await load()
                    return JSONResponse.make(.array(rows))
                },
                Route(
                    method: .get, path: "/bounty", access: .viewer, tag: "events", summary: "Harvested bounty (credentials, fingerprints, artifacts)",
                    query: [limit, offset, Param("bounty_type", .text(max: 64)), search], replies: ok(paged("Bounty"))
                ) { c in
                    let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), type = c.q("bounty_type"), s = c.q("search")
                    let store = c.api.store
                    let load: @Sendable () async throws -> Page = { try await store.bountyPage(type: type, search: s, limit: lim, offset: off) }
                    let page =
                        lim == 50 && off == 0 && type == nil && s == nil ? try await c.api.bountyCache.get("default", load: load) : try await load()
                    return JSONResponse.paged(total: page.total, limit: lim, offset: off, rows: page.rows)
                },
                Route(
                    method: .get, path: "/credentials", access: .viewer, tag: "events", summary: "Captured credentials",
                    query: [limit, offset, search, Param("service", .text(max: 64)), Param("attacker_ip", .text(max: 64))],
                    replies: ok(paged("Credential"))
                ) { c in
                    let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), s = c.q("search"), svc = c.q("service"), ip = c.q("attacker_ip")
                    let store = c.api.store
                    let load: @Sendable () async throws -> Page = {
                        try await store.credentialPage(search: s, service: svc, attackerIP: ip, limit: lim, offset: off)
                    }
                    let page =
                        lim == 50 && off == 0 && s == nil && svc == nil && ip == nil
                        ? try await c.api.credentialCache.get("default", load: load) : try await load()
                    return JSONResponse.paged(total: page.total, limit: lim, offset: off, rows: page.rows)
                },
                Route(method: .get, path: "/stats", access: .viewer, tag: "events", summary: "Counters for the overview", replies: ok(.ref("Stats")))
                { c in
                    let store = c.api.store
                    return JSONResponse.make(try await c.api.statsCache.get("stats") { try await store.apiStats() })
                },
                Route(
                    method: .get, path: "/stream", access: .stream, tag: "events",
                    summary: "Live events (SSE): `event: message` frames with stats, histogram and new logs",
                    query: [
                        Param("lastEventId", .integer(min: 0, max: APIRoutes.maxID), "Start after this log id (default: the newest)"), search,
                        startTime, endTime,
                        Param("ticket", .text(max: 128), "Single-use ticket from POST /auth/sse-ticket (instead of a bearer header)"),
                    ],
                    replies: [Reply(status: 200, description: "text/event-stream", schema: .text, contentType: "text/event-stream")],
                    errors: [429]
                ) { c in
                    try EventStream.respond(c)
                },
            ]
        }
    }
}
