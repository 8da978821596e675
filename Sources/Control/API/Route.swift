// Route.swift: one route = method, path, who may call it, its parameters and body schema, its responses and
// its handler. The router is built from the table and /openapi.json is printed from the same table.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import NIOCore

public enum Access: String, Sendable {
    /// No token needed (login, openapi).
    case anonymous
    /// Any valid token, even one whose user must still change the password (logout, change-password).
    case authenticated
    case viewer
    case admin
    /// viewer or admin, by `Authorization: Bearer` or a single-use `?ticket=` (SSE).
    case stream
}

public struct Param: Sendable {
    var name: String
    var schema: Schema
    var required: Bool
    var description: String
    init(_ name: String, _ schema: Schema, required: Bool = false, _ description: String = "") {
        self.name = name
        self.schema = schema
        self.required = required
        self.description = description
    }
}

public struct Reply: Sendable {
    var status: Int
    var description: String
    var schema: Schema?
    var contentType: String = "application/json"
}

struct Route: Sendable {
    var method: HTTPRequest.Method
    /// Relative to /api/v1, OpenAPI style: `/attackers/{uuid}`.
    var path: String
    var access: Access
    var tag: String
    var summary: String
    var query: [Param] = []
    var pathParams: [Param] = []
    var body: Schema? = nil
    var bodyLimit: Int = 64 << 10
    var replies: [Reply]
    /// Extra error statuses this route can answer besides the ones its shape implies (404, 409, 429, 503).
    var errors: [Int] = []
    var handler: @Sendable (APICall) async throws -> Response
}

/// What a handler gets: the validated inputs, the caller and the services.
struct APICall: Sendable {
    var request: Request
    var identity: Identity?
    var api: APIServices
    var query: [String: JSONValue]
    /// Integer query parameters as parsed (never through Double: 2^63-1 stays exact).
    var ints: [String: Int] = [:]
    var path: [String: String]
    var body: JSONValue?
    var peer: String

    func q(_ name: String) -> String? { query[name]?.stringValue }
    func qInt(_ name: String, _ fallback: Int) -> Int { ints[name] ?? fallback }
    func qDouble(_ name: String) -> Double? { query[name]?.doubleValue }
    func member(_ name: String) -> JSONValue? { body?[name] }
    var me: Identity { identity! }
}

enum RouteDispatch {
    static let jsonPrefix = "application/json"

    /// Authenticates, authorises, validates and runs one route. Every refusal is an `APIError`.
    static func run(_ route: Route, _ request: Request, _ context: APIContext, api: APIServices) async throws -> Response {
        let identity = try await authorise(route, request, api: api)
        var query: [String: JSONValue] = [:]
        var ints: [String: Int] = [:]
        let items = request.uri.queryParameters
        for p in route.query {
            let all = items.getAll(p.name)
            if all.count > 1 { throw APIError.unprocessable("query.\(p.name): given more than once") }
            let raw: String? = all.first
            let isText: Bool = if case .string = p.schema { true } else { false }
            guard let raw = isText ? raw.flatMap(normaliseAbsent) : raw else {
                if p.required { throw APIError.unprocessable("query.\(p.name): field required") }
                continue
            }
            query[p.name] = try parseParam(raw, p, where: "query")
            if case .integer = p.schema { ints[p.name] = try parseInteger(raw, p, name: "query.\(p.name)") }
        }
        var pathValues: [String: String] = [:]
        for p in route.pathParams {
            guard let raw = context.parameters.get(p.name) else { throw APIError.notFound() }
            let decoded = raw.removingPercentEncoding ?? raw
            _ = try parseParam(decoded, p, where: "path")
            pathValues[p.name] = decoded
        }
        var body: JSONValue? = nil
        if let schema = route.body {
            body = try await readBody(request, limit: route.bodyLimit)
            do {
                try schema.validate(body!, path: "body", components: OpenAPIDocument.components)
            } catch {
                throw APIError(error.structural ? .badRequest : .unprocessableContent, error.message)
            }
        }
        let call = APICall(request: request, identity: identity, api: api, query: query, ints: ints, path: pathValues,
                           body: body, peer: context.remoteAddress.map(APIServices.peerKey) ?? "unknown")
        return try await route.handler(call)
    }

    /// The methods routed for a concrete path (nil when no route template matches it): a known path with
    /// another method is a 405, not a 404.
    static func allowedMethods(_ path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // Literal segments win over captures (as in the router): /deckies/lifecycle is not /deckies/{decky_name}.
        var methods: [String] = []
        var best = -1
        for r in templates {
            guard r.parts.count == parts.count,
                  zip(r.parts, parts).allSatisfy({ $0.0.hasPrefix("{") || $0.0 == $0.1 }) else { continue }
            let literals = r.parts.filter { !$0.hasPrefix("{") }.count
            if literals > best { best = literals; methods = [] }
            if literals == best { methods.append(r.method) }
        }
        if path == "/openapi.json" { methods.append("GET") }
        return methods.isEmpty ? nil : methods
    }

    static let templates: [(method: String, parts: [Substring])] = APIRoutes.all.map {
        ($0.method.rawValue, (APIRoutes.prefix + $0.path).split(separator: "/", omittingEmptySubsequences: false))
    }

    /// `null`, `NULL`, `undefined` and "" mean absent (spec §10.4).
    static func normaliseAbsent(_ s: String) -> String? {
        (s.isEmpty || s == "null" || s == "NULL" || s == "undefined") ? nil : s
    }

    static func parseParam(_ raw: String, _ p: Param, where location: String) throws -> JSONValue {
        let name = "\(location).\(p.name)"
        let value: JSONValue
        switch p.schema {
        case .integer:
            value = .number(Double(try parseInteger(raw, p, name: name)))
        case .number:
            guard let v = Double(raw), v.isFinite else { throw APIError.unprocessable("\(name): expected a number") }
            value = .number(v)
        case .boolean:
            switch raw.lowercased() {
            case "true", "1": value = .bool(true)
            case "false", "0": value = .bool(false)
            default: throw APIError.unprocessable("\(name): expected true or false")
            }
        case .string(let rule):
            do { try rule.check(raw, path: name) } catch {
                throw location == "path" ? APIError.notFound() : APIError.unprocessable(error.message)
            }
            value = .string(raw)
        default:
            value = .string(raw)
        }
        return value
    }

    /// Digits (and a '-'), no '+', no spaces, no overflow: CheckedInt, then the schema's range.
    static func parseInteger(_ raw: String, _ p: Param, name: String) throws -> Int {
        guard case .integer(let lo, let hi) = p.schema else { throw APIError.unprocessable("\(name): expected an integer") }
        guard let v = CheckedInt.parse(raw, in: Int.min...Int.max) else { throw APIError.unprocessable("\(name): expected an integer") }
        do { try Schema.checkRange(v, lo, hi, name) } catch { throw APIError.unprocessable(error.message) }
        return v
    }

    static func readBody(_ request: Request, limit: Int) async throws -> JSONValue {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix(jsonPrefix) else {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "Request body larger than \(limit) bytes")
        }
        let bytes = buffer.readableBytesView
        if bytes.isEmpty { throw APIError.badRequest("Request body is empty; expected a JSON object") }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw APIError.badRequest("Malformed JSON: \(error)")
        }
    }

    static func bearer(_ request: Request) -> String? {
        guard let h = request.headers[.authorization] else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: [" "])
    }

    static func authorise(_ route: Route, _ request: Request, api: APIServices) async throws -> Identity? {
        if route.access == .anonymous { return nil }
        var identity: Identity
        if let token = bearer(request) {
            identity = try await api.authenticate(token: token)
        } else if route.access == .stream, let ticket = request.uri.queryParameters["ticket"].map(String.init),
                  let viaTicket = api.tickets.redeem(ticket) {
            // The session that minted the ticket must still be valid (not logged out, no password change since).
            identity = try await api.revalidate(viaTicket)
        } else {
            throw APIError.unauthenticated
        }
        switch route.access {
        case .anonymous, .authenticated:
            break
        case .viewer, .stream:
            if identity.mustChangePassword { throw APIError.forbidden("Password change required before accessing this resource") }
        case .admin:
            if identity.mustChangePassword { throw APIError.forbidden("Password change required before accessing this resource") }
            if identity.role != .admin { throw APIError.forbidden("Admin role required") }
        }
        return identity
    }
}

/// Turns anything a handler throws into the envelope; unknown errors become a 500 with an id that the log
/// line carries too (never the error text: it may hold internals).
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let log = ProcessLog("api")

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            return e.response
        } catch let e as HTTPError {
            if e.status == .notFound, let allowed = RouteDispatch.allowedMethods(request.uri.path), !allowed.isEmpty {
                return APIError(.methodNotAllowed, "Method Not Allowed", headers: [.allow: allowed.joined(separator: ", ")]).response
            }
            let detail = e.status == .notFound ? "Not Found" : (e.body ?? e.status.reasonPhrase)
            return APIError(e.status, detail).response
        } catch {
            let id = Hex.bytes(randomBytes(6))
            log.error("\(request.method) \(request.uri.path): internal error \(id): \(type(of: error)): \(error)")
            return JSONResponse.make(.object([("detail", .string("Internal Server Error")), ("error_id", .string(id))]),
                                     status: .internalServerError)
        }
    }
}
