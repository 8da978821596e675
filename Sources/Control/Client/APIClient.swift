// APIClient.swift: the CLI's client of the REST API (async-http-client; http and https with a pinned CA).
import AsyncHTTPClient
import Appliance
import NIOCore
import NIOHTTP1
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

public struct ClientError: Error, CustomStringConvertible {
    public var message: String
    public var status: Int?
    public init(_ message: String, status: Int? = nil) {
        self.message = message
        self.status = status
    }
    public var description: String { message }
}

public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var json: JSONValue? { try? JSONValue.parse(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The CLI's client of the REST API on async-http-client: http:// and https:// (system trust store, or one PEM
/// CA / self-signed certificate given with --ca-file), one request at a time from synchronous commands.
/// TLS verification is never turned off; a URL with another scheme or an unreadable CA file is an error.
public final class APIClient {
    public let url: String          // scheme://host:port, no path
    public let host: String
    public let port: Int
    public let secure: Bool
    public var token: String?
    public let caFile: String?
    private let http: HTTPClient

    public init(url: String, token: String?, caFile: String? = nil) throws {
        let scheme: String
        if url.hasPrefix("http://") { scheme = "http" } else if url.hasPrefix("https://") { scheme = "https" } else {
            let given = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
            throw ClientError("API url \(url.debugDescription): unknown scheme \(given.debugDescription) (use http:// or https://)")
        }
        secure = scheme == "https"
        var rest = url.dropFirst(scheme.count + 3)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]"), let p = CheckedInt.parse(rest[rest.index(after: colon)...], in: 1...65535) {
            host = String(rest[..<colon]).trimmingCharacters(in: ["[", "]"])
            port = p
        } else {
            host = String(rest).trimmingCharacters(in: ["[", "]"])
            port = secure ? 443 : 80
        }
        guard !host.isEmpty else { throw ClientError("API url \(url.debugDescription) has no host") }
        self.url = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        self.token = token
        self.caFile = caFile
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            guard secure else { throw ClientError("--ca-file is for https:// URLs; \(url) is plain http") }
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !roots.isEmpty else { throw ClientError("no certificate in \(caFile)") }
                tls.trustRoots = .certificates(roots)
            } catch let e as ClientError { throw e } catch {
                throw ClientError("cannot read the CA file \(caFile): \(error)")
            }
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                              timeout: .init(connect: .seconds(10), read: .seconds(120)))
        config.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    deinit { try? http.syncShutdown() }

    // MARK: requests

    public func request(_ method: String, _ path: String, json: JSONValue? = nil) throws -> HTTPReply {
        var req = try HTTPClient.Request(url: url + path, method: HTTPMethod(rawValue: method))
        headers(&req.headers, accept: "application/json")
        if let json {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(Array(json.serialized.utf8))
        }
        let reply: HTTPClient.Response
        do { reply = try http.execute(request: req, deadline: .now() + .seconds(120)).wait() } catch { throw explain(error) }
        var body: [UInt8] = []
        if var b = reply.body { body = b.readBytes(length: b.readableBytes) ?? [] }
        guard body.count <= 64 << 20 else { throw ClientError("reply too large") }
        return HTTPReply(status: Int(reply.status.code), headers: reply.headers.map { ($0.name.lowercased(), $0.value) }, body: body)
    }

    /// GET an SSE stream and hand each `data:` payload to `onData` until the server closes or it returns false.
    public func stream(_ path: String, onData: @escaping (String) -> Bool) throws {
        var req = try HTTPClient.Request(url: url + path, method: .GET)
        headers(&req.headers, accept: "text/event-stream")
        let delegate = SSEDelegate(onData: onData)
        let task = http.execute(request: req, delegate: delegate)
        delegate.task = task
        do { try task.wait() } catch is HTTPClientError where delegate.stoppedByCaller {
            return
        } catch let e as ClientError {
            throw e
        } catch {
            if delegate.stoppedByCaller { return }
            throw explain(error)
        }
    }

    private func headers(_ h: inout HTTPHeaders, accept: String) {
        h.add(name: "User-Agent", value: "decnet-cli")
        h.add(name: "Accept", value: accept)
        if let token { h.add(name: "Authorization", value: "Bearer \(token)") }
    }

    /// One line for what went wrong, naming the likely cause (an untrusted certificate, a refused connection).
    func explain(_ error: any Error) -> ClientError {
        let text = "\(error)"
        if let e = error as? NIOSSLError {
            return ClientError("TLS to \(url) failed: \(tlsWhy(e))")
        }
        if text.contains("certificate verify failed") || text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("unable to get local issuer") {
            return ClientError("TLS to \(url) failed: the server's certificate is not trusted" +
                               (caFile.map { " by \($0)" } ?? " by the system's CA store (pin it with --ca-file)"))
        }
        if text.contains("connectTimeout") || text.contains("connectionRefused") || text.contains("Connection refused") {
            return ClientError("cannot connect to \(url) (is `decnet api` running?)")
        }
        return ClientError("request to \(url) failed: \(text)")
    }

    private func tlsWhy(_ e: NIOSSLError) -> String {
        let t = "\(e)"
        if t.contains("CERTIFICATE_VERIFY_FAILED") || t.contains("certificate verify failed") {
            return "the server's certificate is not trusted" + (caFile.map { " by \($0)" } ?? " by the system's CA store (pin it with --ca-file)") + " (\(t))"
        }
        return t
    }

    /// `{"detail": …}` of an error reply, or its status.
    public static func detail(_ status: Int, _ body: [UInt8]) -> String {
        if let j = try? JSONValue.parse(body), let d = j["detail"]?.stringValue { return "HTTP \(status): \(d)" }
        return "HTTP \(status)"
    }

    /// The reply's JSON when 2xx, else a ClientError carrying the server's detail.
    public func call(_ method: String, _ path: String, json: JSONValue? = nil) throws -> JSONValue {
        let r = try request(method, path, json: json)
        guard (200..<300).contains(r.status) else { throw ClientError(Self.detail(r.status, r.body), status: r.status) }
        return r.json ?? .null
    }
}

/// Splits an SSE body into lines and hands `data:` payloads over; a non-200 reply becomes a ClientError.
private final class SSEDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void
    let onData: (String) -> Bool
    var task: HTTPClient.Task<Void>?
    var status = 0
    var errorBody: [UInt8] = []
    var pending: [UInt8] = []
    var stoppedByCaller = false

    init(onData: @escaping (String) -> Bool) { self.onData = onData }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        var b = buffer
        let bytes = b.readBytes(length: b.readableBytes) ?? []
        if status != 200 {
            if errorBody.count < 65536 { errorBody += bytes }
            return task.eventLoop.makeSucceededVoidFuture()
        }
        pending += bytes
        while let i = pending.firstIndex(of: 10), !stoppedByCaller {
            var line = Array(pending[..<i])
            pending.removeFirst(i + 1)
            if line.last == 13 { line.removeLast() }
            let s = String(decoding: line, as: UTF8.self)
            if s.hasPrefix("data: ") && !onData(String(s.dropFirst(6))) {
                stoppedByCaller = true
                task.cancel()
            }
        }
        if pending.count > 1 << 20 { pending = [] }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        if status != 200 && !stoppedByCaller { throw ClientError(APIClient.detail(status, errorBody), status: status) }
    }
}

/// Where `decnet login` keeps the API url and token: $DECNET_CLIENT_CONFIG or ~/.config/decnet/client.json
/// (directory 0700, file 0600).
public enum ClientSession {
    public static var path: String {
        DecnetConfiguration.current.clientConfigFile
    }

    public static func load() -> (url: String, token: String, caFile: String?)? {
        guard let b = readFile(path, limit: 65536), let j = try? JSONValue.parse(b),
              let url = j["url"]?.stringValue, let token = j["token"]?.stringValue else { return nil }
        return (url, token, j["ca_file"]?.stringValue)
    }

    public static func save(url: String, token: String, caFile: String? = nil) throws {
        let p = path
        if let slash = p.lastIndex(of: "/") {
            let dir = String(p[..<slash])
            _ = makeDirectories(dir)
            chmod(dir, 0o700)
        }
        var fields: [(String, JSONValue)] = [("url", .string(url)), ("token", .string(token))]
        if let caFile { fields.append(("ca_file", .string(caFile))) }
        let text = JSONValue.object(fields).serialized + "\n"
        guard writeWholeFile(p, Array(text.utf8), mode: 0o600) else { throw ClientError("cannot write \(p): \(String(cString: strerror(errno)))") }
    }
}
