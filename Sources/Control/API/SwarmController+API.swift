// SwarmController+API.swift: the swarm under /api/v1/swarm: hosts and their decky shards (viewers), join tokens,
// evict/ban/decommission, dispatch and teardown (admins). The same operations as `decnet swarm ...`
// (Control/Swarm/SwarmOperations.swift); what needs the fleet CA answers 409 where this API is not the master's.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    static let hostUUID = Param(
        "host_uuid", .text(min: 1, max: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), required: true,
        "Host uuid (or name)")

    enum SwarmAPIController: APIController {
        static func fail(_ e: Error) -> APIError {
            if let f = e as? SwarmOperations.Failure {
                if f.notFound { return APIError.notFound(f.description) }
                return APIError(.conflict, f.description)
            }
            return APIError(.serviceUnavailable, Stores.describe(e))
        }

        static func hostJSON(_ c: APICall, _ ref: String) throws -> JSONValue {
            do { return SwarmViews.host(try c.api.swarm.host(ref), now: wallClockSeconds()) } catch { throw fail(error) }
        }

        /// POST /swarm/hosts/{host_uuid}/<verb>: evict and ban differ only in the status they set.
        static func revokeRoute(_ verb: String, status: String, summary: String) -> Route {
            Route(
                method: .post, path: "/swarm/hosts/{host_uuid}/\(verb)", access: .admin, tag: "swarm", summary: summary,
                pathParams: [hostUUID], replies: ok(.ref("SwarmHost")), errors: [404]
            ) { c in
                do { _ = try c.api.swarm.revoke(c.path["host_uuid"]!, as: status, actor: c.me.username) } catch { throw fail(error) }
                return JSONResponse.make(try hostJSON(c, c.path["host_uuid"]!))
            }
        }

        static var routes: [Route] {
            [
                Route(
                    method: .get, path: "/swarm/hosts", access: .viewer, tag: "swarm",
                    summary: "Enrolled swarm hosts with status, heartbeat and shipping",
                    replies: ok(.array(.ref("SwarmHost")))
                ) { c in
                    let now = wallClockSeconds()
                    return JSONResponse.make(.array(try c.api.store.swarmHosts().map { SwarmViews.host($0, now: now) }))
                },
                Route(
                    method: .get, path: "/swarm/hosts/{host_uuid}", access: .viewer, tag: "swarm", summary: "One swarm host",
                    pathParams: [hostUUID], replies: ok(.ref("SwarmHost")), errors: [404]
                ) { c in
                    JSONResponse.make(try hostJSON(c, c.path["host_uuid"]!))
                },
                Route(
                    method: .get, path: "/swarm/deckies", access: .viewer, tag: "swarm", summary: "Decky shards: which worker holds which decky",
                    replies: ok(.array(.ref("SwarmShard")))
                ) { c in
                    let hosts = Dictionary(try c.api.store.swarmHosts().map { ($0.uuid, $0) }, uniquingKeysWith: { $1 })
                    return JSONResponse.make(.array(try c.api.store.shards().map { SwarmViews.shard($0, hosts: hosts) }))
                },
                Route(
                    method: .get, path: "/swarm/tokens", access: .admin, tag: "swarm", summary: "Join tokens (id, name, state; never the secret)",
                    replies: ok(.array(.ref("SwarmToken")))
                ) { c in
                    let now = wallClockSeconds()
                    return JSONResponse.make(.array(try c.api.store.swarmTokens().map { SwarmViews.token($0, now: now) }))
                },
                Route(
                    method: .post, path: "/swarm/tokens", access: .admin, tag: "swarm",
                    summary: "A single-use join token for one worker (shown once; only its hash is stored)",
                    body: .body([
                        Prop("name", .text(min: 1, max: 63, pattern: "^[a-z0-9][a-z0-9._-]{0,62}$")),
                        Prop("ttl_seconds", .integer(min: 60, max: 7 * 86_400), required: false),
                    ]),
                    replies: [
                        Reply(
                            status: 201, description: "created",
                            schema: .obj([
                                Prop("token", .text), Prop("id", .text), Prop("name", .text),
                                Prop("expires_at", .number),
                            ]))
                    ],
                    errors: [409]
                ) { c in
                    let name = c.member("name")!.stringValue!, ttl = c.member("ttl_seconds")?.doubleValue ?? 1800
                    let now = wallClockSeconds()
                    do {
                        let t = try c.api.swarm.createToken(name: name, ttl: ttl, now: now)
                        return JSONResponse.make(
                            .object([
                                ("token", .string(t.description)), ("id", .string(t.id)), ("name", .string(name)),
                                ("expires_at", .number(now + ttl)),
                            ]), status: .created)
                    } catch { throw fail(error) }
                },
                revokeRoute("evict", status: "evicted", summary: "Revoke a worker's certificate (it may join again with a new token)"),
                revokeRoute("ban", status: "banned", summary: "Revoke a worker's certificate and refuse its name for good"),
                Route(
                    method: .delete, path: "/swarm/hosts/{host_uuid}", access: .admin, tag: "swarm",
                    summary: "Decommission: revoke first, then a signed self-destruct (best effort; retried while pending), then its shards",
                    pathParams: [hostUUID],
                    replies: ok(
                        .obj([
                            Prop("host_uuid", .text), Prop("self_destruct", .text(enumValues: ["accepted", "pending"])), Prop("detail", .text),
                            Prop("shards_removed", .int),
                        ])),
                    errors: [404, 409]
                ) { c in
                    do {
                        let r = try await c.api.swarm.decommission(c.path["host_uuid"]!, actor: c.me.username)
                        return JSONResponse.make(
                            .object([
                                ("host_uuid", .string(r.host.uuid)), ("self_destruct", .string(r.selfDestructed ? "accepted" : "pending")),
                                ("detail", .string(r.detail)), ("shards_removed", .number(Double(r.shardsRemoved))),
                            ]))
                    } catch { throw fail(error) }
                },
                Route(
                    method: .post, path: "/swarm/hosts/{host_uuid}/teardown", access: .admin, tag: "swarm",
                    summary: "Remove every decky on one worker (asynchronous: its shards go tearing_down, then away or teardown_failed)",
                    pathParams: [hostUUID],
                    replies: [
                        Reply(
                            status: 202, description: "queued",
                            schema: .obj([Prop("host_uuid", .text), Prop("accepted", .boolean), Prop("detail", .text)]))
                    ],
                    errors: [404, 409]
                ) { c in
                    let ops = c.api.swarm
                    let h: SwarmHostRecord
                    do { h = try ops.host(c.path["host_uuid"]!) } catch { throw fail(error) }
                    do { _ = try ops.authority } catch { throw fail(error) }
                    for s in try c.api.store.shards() where s.hostUUID == h.uuid {
                        var t = s
                        t.state = "tearing_down"
                        t.lastError = nil
                        t.updatedAt = wallClockSeconds()
                        try c.api.store.upsertShard(t)
                    }
                    Task {
                        let (ok, why) = (try? await ops.teardown(h.uuid)) ?? (false, "teardown failed")
                        if !ok {
                            for s in (try? ops.store.shards()) ?? [] where s.hostUUID == h.uuid {
                                var t = s
                                t.state = "teardown_failed"
                                t.lastError = String(why.prefix(512))
                                try? ops.store.upsertShard(t)
                            }
                        }
                    }
                    return JSONResponse.make(
                        .object([("host_uuid", .string(h.uuid)), ("accepted", .bool(true)), ("detail", .string("teardown queued"))]),
                        status: .accepted)
                },
                Route(
                    method: .post, path: "/swarm/deckies/{decky_name}/mutate", access: .admin, tag: "swarm",
                    summary: "Rotate one swarm decky's services now, on the worker that holds it",
                    pathParams: [deckyName],
                    replies: ok(
                        .obj([
                            Prop("decky_name", .text), Prop("host_name", .text), Prop("old_services", .array(.text)),
                            Prop("new_services", .array(.text)),
                        ])),
                    errors: [404, 409]
                ) { c in
                    do {
                        let (h, old, new) = try await c.api.swarm.mutate(decky: c.path["decky_name"]!)
                        return JSONResponse.make(
                            .object([
                                ("decky_name", .string(c.path["decky_name"]!)), ("host_name", .string(h.name)),
                                ("old_services", .array(old.map { .string($0) })), ("new_services", .array(new.map { .string($0) })),
                            ]))
                    } catch { throw fail(error) }
                },
                Route(
                    method: .post, path: "/swarm/check", access: .admin, tag: "swarm",
                    summary: "Probe every enrolled worker's agent over pinned mTLS",
                    replies: ok(
                        .obj([
                            Prop(
                                "results",
                                .array(
                                    .obj([
                                        Prop("host_uuid", .text), Prop("host_name", .text), Prop("reachable", .boolean),
                                        Prop("detail", .text),
                                    ])))
                        ])),
                    errors: [409]
                ) { c in
                    do {
                        let results = try await c.api.swarm.check()
                        return JSONResponse.make(
                            .object([
                                (
                                    "results",
                                    .array(
                                        results.map { r in
                                            .object([
                                                ("host_uuid", .string(r.host.uuid)), ("host_name", .string(r.host.name)),
                                                ("reachable", .bool(r.reachable)),
                                                ("detail", .string(r.reachable ? "ok" : "probe failed")),
                                            ])
                                        })
                                )
                            ]))
                    } catch { throw fail(error) }
                },
                Route(
                    method: .post, path: "/swarm/deploy", access: .admin, tag: "swarm",
                    summary: "Dispatch a fleet INI's deckies to the workers (round-robin, or `host = NAME` in a section)",
                    body: .body([Prop("ini_content", .text(max: 512 << 10))]), bodyLimit: 8 << 20,
                    replies: ok(
                        .obj([
                            Prop(
                                "results",
                                .array(
                                    .obj([
                                        Prop("host_uuid", .text), Prop("host_name", .text), Prop("ok", .boolean),
                                        Prop("deckies", .array(.text)), Prop("detail", .text),
                                    ])))
                        ])),
                    errors: [409]
                ) { c in
                    do {
                        let results = try await c.api.swarm.dispatch(ini: c.member("ini_content")!.stringValue!)
                        return JSONResponse.make(
                            .object([
                                (
                                    "results",
                                    .array(
                                        results.map { r in
                                            .object([
                                                ("host_uuid", .string(r.host.uuid)), ("host_name", .string(r.host.name)), ("ok", .bool(r.ok)),
                                                ("deckies", .array(r.deckies.map { .string($0) })), ("detail", .string(r.detail)),
                                            ])
                                        })
                                )
                            ]))
                    } catch { throw fail(error) }
                },
            ]
        }
    }
}
