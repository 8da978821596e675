// APIServer.swift: builds the Hummingbird application from the route table (+ /openapi.json and the
// dashboard) and runs it until SIGINT/SIGTERM.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import NIOCore

public enum APIServer {
    /// The router: every API route, /openapi.json, the dashboard pages.
    static func router(_ api: APIServices) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware())
        let routes = APIRoutes.all
        for route in routes {
            router.on(RouterPath(APIRoutes.prefix + route.path), method: route.method) { request, context in
                try await RouteDispatch.run(route, request, context, api: api)
            }
        }
        let doc = OpenAPIDocument.document(routes).serialized
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: doc)))
        }
        Dashboard.register(on: router, api: api)
        return router
    }

    /// The OpenAPI document as served (for tests and `decnet api --print-openapi`).
    public static func openAPIJSON() -> String { OpenAPIDocument.document(APIRoutes.all).serialized }

    /// Every route as (method, path, access): the RBAC table test compares this against its own table.
    public static func routeTable() -> [(method: String, path: String, access: String)] {
        APIRoutes.all.map { ($0.method.rawValue, APIRoutes.prefix + $0.path, $0.access.rawValue) }
    }

    public static func run(_ api: APIServices, host: String, port: Int, onBound: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = Application(
            router: router(api),
            configuration: .init(address: .hostname(host, port: port), serverName: "decnet", backlog: 1024),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let bus = api.bus { group.addTask { await api.registry.run(bus: bus) } }
            group.addTask { await runHealthHeartbeat(bus: api.bus, worker: "api") }
            try await app.runService()
            group.cancelAll()
        }
    }
}

/// Conservative headers on every response: no sniffing, no framing, no referrer leaks, and a CSP that only
/// allows the dashboard's own scripts and styles.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = APIContext
    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var r = try await next(request, context)
        r.headers[.xContentTypeOptions] = "nosniff"
        r.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        r.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if r.headers[HTTPField.Name("Content-Security-Policy")!] == nil {
            r.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; frame-ancestors 'none'"
        }
        return r
    }
}
