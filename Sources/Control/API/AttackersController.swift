// AttackersController.swift: Attacker profiles and their detail.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum AttackersController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .get, path: "/attackers", access: .viewer, tag: "attackers", summary: "Attacker profiles",
                    query: [
                        limit, offset, Param("search", .text(max: 512), "Substring of the IP"),
                        Param("sort_by", .text(enumValues: AttackerSort.allCases.map(\.rawValue)), "recent (default), active, traversals or score"),
                        Param("service", .text(max: 64)),
                    ],
                    replies: ok(paged("Attacker"))
                ) { c in
                    let lim = c.qInt("limit", 50), off = c.qInt("offset", 0), s = c.q("search"), svc = c.q("service")
                    let sort = c.q("sort_by").flatMap(AttackerSort.init(rawValue:)) ?? .recent
                    let store = c.api.store
                    let rows = try await store.attackerPageBytes(search: s, service: svc, sort: sort, limit: lim, offset: off)
                    let total =
                        s == nil && svc == nil
                        ? try await c.api.attackerTotalCache.get("all") { try await store.attackerCount(search: nil, service: nil) }
                        : try await store.attackerCount(search: s, service: svc)
                    return JSONResponse.paged(total: total, limit: lim, offset: off, data: rows)
                },
                Route(
                    method: .get, path: "/attackers/{uuid}", access: .viewer, tag: "attackers",
                    summary: "One attacker with fingerprints, credentials and recent events",
                    pathParams: [Param("uuid", .text(min: 1, max: 64), required: true)], replies: ok(.ref("AttackerDetail"))
                ) { c in
                    guard let d = try await c.api.store.attackerDetail(uuid: c.path["uuid"]!) else { throw APIError.notFound("Attacker not found") }
                    return JSONResponse.make(d)
                },
            ]
        }
    }
}
