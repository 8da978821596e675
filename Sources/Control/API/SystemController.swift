// SystemController.swift: Health, the worker registry and worker stop intents, the deployment mode.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum SystemController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .get, path: "/health", access: .viewer, tag: "system", summary: "Component health; 503 when a critical one fails",
                    replies: [
                        Reply(status: 200, description: "healthy or degraded", schema: .ref("Health")),
                        Reply(status: 503, description: "unhealthy", schema: .ref("Health")),
                    ]
                ) { c in
                    try await Health.respond(c.api)
                },
                Route(
                    method: .get, path: "/workers", access: .viewer, tag: "system", summary: "Worker registry (heartbeats)",
                    replies: ok(.array(.ref("Worker")))
                ) { c in
                    JSONResponse.make(.array(c.api.registry.snapshot().map(\.json)))
                },
                Route(
                    method: .post, path: "/workers/{name}/stop", access: .admin, tag: "system", summary: "Ask a worker to stop (bus control intent)",
                    pathParams: [Param("name", .text(min: 1, max: 64, pattern: "^[a-z][a-z0-9_-]*$"), required: true)],
                    replies: [Reply(status: 202, description: "stop requested", schema: .obj([Prop("message", .text), Prop("worker", .text)]))],
                    errors: [404, 409]
                ) { c in
                    let name = c.path["name"]!
                    guard WorkerRegistry.knownWorkers.contains(name) else { throw APIError.notFound("Unknown worker '\(name)'") }
                    // No bus, no way to reach the worker: a state conflict the operator can fix (start `decnet bus`).
                    let unavailable = APIError.conflict("Event bus unavailable: stop intents travel over the bus (is `decnet bus` running?)")
                    guard let bus = c.api.bus, let topic = try? Topic.systemControl(name) else { throw unavailable }
                    do {
                        try await bus.publish(
                            topic, .object([("action", .string("stop")), ("requested_by", .string(c.me.username))]), type: "control")
                    } catch {
                        throw unavailable
                    }
                    return JSONResponse.make(.object([("message", .string("Stop requested")), ("worker", .string(name))]), status: .accepted)
                },
                Route(
                    method: .get, path: "/system/deployment-mode", access: .viewer, tag: "system", summary: "unihost or swarm",
                    replies: ok(.obj([Prop("mode", .text), Prop("role", .text), Prop("swarm_host_count", .int)]))
                ) { _ in
                    JSONResponse.make(.object([("mode", .string("unihost")), ("role", .string("master")), ("swarm_host_count", .int(0))]))
                },
            ]
        }
    }
}
