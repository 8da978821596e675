// APIHTTP.swift: the request context, the one error envelope and JSON responses of the REST API.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import NIOCore

/// Who is calling: filled by the auth step of a route before its handler runs.
public struct Identity: Sendable, Equatable {
    public var uuid: String
    public var username: String
    public var role: Role
    public var mustChangePassword: Bool
    /// The access token's id and expiry (logout revokes exactly this token). A stream ticket carries the
    /// token it was minted from: revoking that token revokes the ticket and the stream it opened.
    public var jti: String?
    public var expires: Int?
    /// The token's iat (compared with the user's tokens_valid_from on every re-check).
    public var issuedAt: Double?

    public init(uuid: String, username: String, role: Role, mustChangePassword: Bool, jti: String?, expires: Int?, issuedAt: Double? = nil) {
        self.uuid = uuid
        self.username = username
        self.role = role
        self.mustChangePassword = mustChangePassword
        self.jti = jti
        self.expires = expires
        self.issuedAt = issuedAt
    }
}

public enum Role: String, Sendable, CaseIterable { case admin, viewer }

public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var remoteAddress: SocketAddress?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
    /// Bodies are read by `APIRequest.body` with each route's own limit; this is the hard ceiling.
    public var maxUploadSize: Int { 1 << 20 }
}

/// Every error the API returns: `{"detail": "..."}` with the status (FastAPI's shape, which clients of the
/// original already parse). 5xx bodies never carry internals; the log line gets an error id to match.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }

    public static func badRequest(_ d: String) -> APIError { APIError(.badRequest, d) }
    public static func unprocessable(_ d: String) -> APIError { APIError(.unprocessableContent, d) }
    public static func notFound(_ d: String = "Not found") -> APIError { APIError(.notFound, d) }
    public static func conflict(_ d: String) -> APIError { APIError(.conflict, d) }
    public static func forbidden(_ d: String) -> APIError { APIError(.forbidden, d) }
    public static let unauthenticated = APIError(.unauthorized, "Could not validate credentials",
                                                 headers: [.wwwAuthenticate: "Bearer"])

    var response: Response {
        var h = headers
        h[.contentType] = "application/json"
        h[.cacheControl] = "no-store"
        return Response(status: status, headers: h,
                        body: .init(byteBuffer: ByteBuffer(string: JSONValue.object([("detail", .string(detail))]).serialized)))
    }
}

enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        value.serialize(into: &bytes)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func paged(total: Int, limit: Int, offset: Int, rows: [JSONValue]) -> Response {
        make(.object([("total", .number(Double(total))), ("limit", .number(Double(limit))),
                      ("offset", .number(Double(offset))), ("data", .array(rows))]))
    }

    /// A page whose rows are already JSON array bytes.
    static func paged(total: Int, limit: Int, offset: Int, data: [UInt8]) -> Response {
        var b: [UInt8] = []
        b.reserveCapacity(data.count + 64)
        b += Array("{\"total\":\(total),\"limit\":\(limit),\"offset\":\(offset),\"data\":".utf8)
        b += data
        b.append(UInt8(ascii: "}"))
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: b)))
    }

    static func message(_ m: String, status: HTTPResponse.Status = .ok) -> Response {
        make(.object([("message", .string(m))]), status: status)
    }
}

extension JSONValue {
    static func int(_ v: Int) -> JSONValue { .number(Double(v)) }
}
