// APIClient.swift: the CLI's client of the REST API. A small blocking HTTP/1.1 client over a TCP socket
// (the CLI runs one request at a time; no event loop needed): Content-Length and chunked bodies, and a
// line reader for SSE. Plain HTTP only: the API listens on loopback by default; a remote API belongs
// behind a TLS-terminating proxy, and `--url https://…` is refused rather than sent in clear.
import Appliance
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

public final class APIClient {
    public let host: String
    public let port: Int
    public var token: String?

    /// `url`: `http://HOST:PORT` (path ignored).
    public init(url: String, token: String?) throws {
        guard url.hasPrefix("http://") else {
            throw ClientError(url.hasPrefix("https://") ? "https is not supported by the CLI client yet; reach the API over loopback or an SSH tunnel" : "API url must start with http://")
        }
        var rest = url.dropFirst("http://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let colon = rest.lastIndex(of: ":"), let p = Int(rest[rest.index(after: colon)...]) {
            host = String(rest[..<colon]).trimmingCharacters(in: ["[", "]"])
            port = p
        } else {
            host = String(rest)
            port = 80
        }
        self.token = token
    }

    // MARK: requests

    public func request(_ method: String, _ path: String, json: JSONValue? = nil) throws -> HTTPReply {
        let conn = try Connection(host: host, port: port)
        defer { conn.close() }
        try conn.send(head(method, path, body: json.map { Array($0.serialized.utf8) }))
        return try conn.readReply()
    }

    /// GET an SSE stream and hand each `data:` payload to `onData` until the server closes or it returns false.
    public func stream(_ path: String, onData: (String) -> Bool) throws {
        let conn = try Connection(host: host, port: port)
        defer { conn.close() }
        try conn.send(head("GET", path, body: nil, accept: "text/event-stream"))
        let (status, headers) = try conn.readHead()
        guard status == 200 else {
            let body = try conn.readBody(headers)
            throw ClientError(Self.detail(status, body), status: status)
        }
        let chunked = headers.contains { $0.0 == "transfer-encoding" && $0.1.lowercased().contains("chunked") }
        var lines = SSELines(conn: conn, chunked: chunked)
        while let line = try lines.next() {
            if line.hasPrefix("data: ") && !onData(String(line.dropFirst(6))) { return }
        }
    }

    func head(_ method: String, _ path: String, body: [UInt8]?, accept: String = "application/json") -> [UInt8] {
        var h = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: decnet-cli\r\nAccept: \(accept)\r\nConnection: close\r\n"
        if let token { h += "Authorization: Bearer \(token)\r\n" }
        if let body { h += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" } else if method != "GET" { h += "Content-Length: 0\r\n" }
        return Array((h + "\r\n").utf8) + (body ?? [])
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

/// One TCP connection with a read buffer.
final class Connection {
    let fd: Int32
    var buffer: [UInt8] = []
    var eof = false

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else {
            throw ClientError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        var lastError = "no address"
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; return }
                lastError = String(cString: strerror(errno))
                Glibc.close(s)
            }
            ai = a.pointee.ai_next
        }
        throw ClientError("cannot connect to \(host):\(port): \(lastError) (is `decnet api` running?)")
    }

    func close() { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw ClientError("send failed: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    func fill() throws -> Bool {
        if eof { return false }
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; throw ClientError("read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { eof = true; return false }
            buffer += chunk[0..<n]
            return true
        }
    }

    func readLine() throws -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<i])
                buffer.removeFirst(i + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if buffer.count > 1 << 20 { throw ClientError("line too long in reply") }
            if try !fill() { return buffer.isEmpty ? nil : { let s = String(decoding: buffer, as: UTF8.self); buffer = []; return s }() }
        }
    }

    func readHead() throws -> (Int, [(String, String)]) {
        guard let status = try readLine() else { throw ClientError("connection closed before a reply") }
        let parts = status.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else { throw ClientError("not an HTTP reply") }
        var headers: [(String, String)] = []
        while let line = try readLine(), !line.isEmpty {
            guard let c = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<c].lowercased(), String(line[line.index(after: c)...]).trimmingCharacters(in: [" "])))
        }
        return (code, headers)
    }

    func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { if try !fill() { throw ClientError("reply body cut short") } }
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }

    func readBody(_ headers: [(String, String)]) throws -> [UInt8] {
        if headers.contains(where: { $0.0 == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            var out: [UInt8] = []
            while let size = try readLine() {
                guard let n = Int(size.split(separator: ";")[0], radix: 16) else { throw ClientError("bad chunk size") }
                if n == 0 { _ = try readLine(); break }
                out += try readExactly(n)
                _ = try readLine()
                if out.count > 64 << 20 { throw ClientError("reply too large") }
            }
            return out
        }
        if let len = headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }) {
            guard len <= 64 << 20 else { throw ClientError("reply too large") }
            return try readExactly(len)
        }
        while try fill() { if buffer.count > 64 << 20 { throw ClientError("reply too large") } }
        defer { buffer = [] }
        return buffer
    }

    func readReply() throws -> HTTPReply {
        let (status, headers) = try readHead()
        return HTTPReply(status: status, headers: headers, body: try readBody(headers))
    }
}

/// Lines of an SSE body, through chunked framing when the server uses it.
struct SSELines {
    let conn: Connection
    let chunked: Bool
    var pending: [UInt8] = []
    var remainingInChunk = 0

    init(conn: Connection, chunked: Bool) {
        self.conn = conn
        self.chunked = chunked
    }

    mutating func next() throws -> String? {
        if !chunked { return try conn.readLine() }
        while true {
            if let i = pending.firstIndex(of: 10) {
                let line = Array(pending[..<i])
                pending.removeFirst(i + 1)
                return String(decoding: line, as: UTF8.self)
            }
            guard let size = try conn.readLine(), let n = Int(size.split(separator: ";").first ?? "", radix: 16) else { return nil }
            if n == 0 { return nil }
            pending += try conn.readExactly(n)
            _ = try conn.readLine()
        }
    }
}

/// Where `decnet login` keeps the API url and token: $DECNET_CLIENT_CONFIG or ~/.config/decnet/client.json
/// (directory 0700, file 0600).
public enum ClientSession {
    public static var path: String {
        DecnetConfiguration.current.clientConfigFile
    }

    public static func load() -> (url: String, token: String)? {
        guard let b = readFile(path, limit: 65536), let j = try? JSONValue.parse(b),
              let url = j["url"]?.stringValue, let token = j["token"]?.stringValue else { return nil }
        return (url, token)
    }

    public static func save(url: String, token: String) throws {
        let p = path
        if let slash = p.lastIndex(of: "/") {
            let dir = String(p[..<slash])
            _ = makeDirectories(dir)
            chmod(dir, 0o700)
        }
        let text = JSONValue.object([("url", .string(url)), ("token", .string(token))]).serialized + "\n"
        guard writeWholeFile(p, Array(text.utf8), mode: 0o600) else { throw ClientError("cannot write \(p): \(String(cString: strerror(errno)))") }
    }
}
