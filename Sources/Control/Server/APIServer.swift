// APIServer.swift: builds the Hummingbird application from the route table (+ /openapi.json and the
// dashboard) and runs it until SIGINT/SIGTERM.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

import NIOConcurrencyHelpers
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

    /// The API as one service: the HTTP(S) server, the worker registry fed from the bus, and the health
    /// heartbeat. `tls` nil serves plain HTTP.
    public static func service(_ api: APIServices, host: String, port: Int, tls: TLSConfiguration? = nil,
                               onBound: @escaping @Sendable (Int) -> Void = { _ in }) throws -> APIService {
        let budget = ConnectionBudget(perClient: api.config.maxConnectionsPerClient)
        // idleTimeout also bounds a request head that never completes (slowloris): the clock only moves on
        // whole HTTP parts; a response being written (an SSE stream) is never cut.
        let http: HTTPServerBuilder = .http1(configuration: .init(additionalChannelHandlers: [ClientBudgetHandler(budget)],
                                                                  idleTimeout: .seconds(Int64(api.config.idleTimeoutSeconds))))
        let app = Application(
            router: router(api),
            server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            configuration: .init(address: .hostname(host, port: port), serverName: "decnet", backlog: 1024),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) },
            logger: Logger.decnet("api.http")
        )
        return APIService(app: app, api: api)
    }

    /// Runs the API until SIGINT/SIGTERM (its own service group).
    public static func run(_ api: APIServices, host: String, port: Int, tls: TLSConfiguration? = nil,
                           onBound: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let s = try service(api, host: host, port: port, tls: tls, onBound: onBound)
        try await DaemonGroup.run([s], logger: Logger.decnet("api"))
    }
}

/// The API server with its side tasks (worker registry, heartbeat), as one ServiceLifecycle service.
public struct APIService: Service {
    let app: Application<RouterResponder<APIContext>>
    let api: APIServices

    public func run() async throws {
        let api = self.api
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let bus = api.bus { group.addTask { await cancelWhenGracefulShutdown { await api.registry.run(bus: bus) } } }
            group.addTask { await cancelWhenGracefulShutdown { await runHealthHeartbeat(bus: api.bus, worker: "api") } }
            try await app.run()
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
        // same-origin: our own form posts carry a real Origin (no-referrer made browsers send "null"), other sites get nothing.
        r.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if r.headers[HTTPField.Name("Content-Security-Policy")!] == nil {
            r.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; frame-ancestors 'none'"
        }
        return r
    }
}

/// Concurrent connections per client address (IPv6 by /64). Past the budget a new connection is closed as
/// soon as it is set up, so one source's idle sockets cannot take every descriptor the API has.
final class ConnectionBudget: Sendable {
    let perClient: Int
    private let open = NIOLockedValueBox<[String: Int]>([:])
    init(perClient: Int) { self.perClient = perClient }

    func take(_ key: String) -> Bool {
        open.withLockedValue { d in
            let n = d[key, default: 0]
            guard n < perClient else { return false }
            d[key] = n + 1
            return true
        }
    }

    func give(_ key: String) {
        open.withLockedValue { d in
            if let n = d[key] { d[key] = n > 1 ? n - 1 : nil }
        }
    }
}

final class ClientBudgetHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny   // passes everything through untouched
    let budget: ConnectionBudget
    var key: String?

    init(_ budget: ConnectionBudget) { self.budget = budget }

    func handlerAdded(context: ChannelHandlerContext) {
        let k = LoginLimiter.sourceKey(context.channel.remoteAddress?.ipAddress ?? "unknown")
        if budget.take(k) { key = k } else { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let key { budget.give(key) }
        key = nil
    }
}
