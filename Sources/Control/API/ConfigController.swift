// ConfigController.swift: Limits and globals.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum ConfigController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .get, path: "/config", access: .viewer, tag: "config", summary: "Limits and globals (admins also get the user list)",
                    replies: ok(.ref("Config"))
                ) { c in
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
                Route(
                    method: .put, path: "/config/deployment-limit", access: .admin, tag: "config", summary: "Maximum number of deckies",
                    body: .body([Prop("deployment_limit", .integer(min: 1, max: 500))]), replies: ok(message)
                ) { c in
                    try c.api.store.setState(
                        ConfigState.limitsKey, JSONValue.object([("deployment_limit", c.member("deployment_limit")!)]).serialized)
                    c.api.configCache.invalidate()
                    return JSONResponse.message("Deployment limit updated")
                },
                Route(
                    method: .put, path: "/config/global-mutation-interval", access: .admin, tag: "config", summary: "Default mutation interval",
                    body: .body([Prop("global_mutation_interval", .text(min: 2, max: 16, pattern: "^[1-9][0-9]*[mdMyY]$"))]), replies: ok(message)
                ) { c in
                    try c.api.store.setState(
                        ConfigState.globalsKey, JSONValue.object([("global_mutation_interval", c.member("global_mutation_interval")!)]).serialized)
                    c.api.configCache.invalidate()
                    return JSONResponse.message("Global mutation interval updated")
                },
            ]
        }
    }
}
