// HTTPDecoy.swift: an nginx (or Apache) front page as the distro ships it. Error pages are the server's
// own stock pages with its own header order (an Apache page under an nginx header is the tell of
// decoys.md §1.1), keep-alive, bounded request parsing (nginx's limits: 8 KiB header lines -> 400,
// 1 MiB bodies -> 413, chunked bodies decoded), and every credential recorded: Basic/Bearer/Digest
// Authorization headers and login forms. Service keys: `server_header` (e.g. "Apache/2.4.57 (Debian)";
// default: the distro's nginx), `title` (login page title), `accept` (credential policy; default never).
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

/// The same events under `http` and `https`.
struct HTTPEvents: Sendable {
    let request: EventSpec, login: EventSpec
    init(_ service: String) {
        request = DecoyEvents.spec(service, "request", [
            "method", "path", "query", "version", "host", "user_agent", "headers", "body", "body_size", "body_sha256",
            "status", "bytes", "ja4h", "anomaly",
        ])
        login = DecoyEvents.spec(service, "login.attempt", ["mechanism", "path"], credential: true)
    }
    var all: [EventSpec] { [DecoyEvents.connect(request.service), DecoyEvents.closed(request.service), request, login] }
    static let http = HTTPEvents("http"), https = HTTPEvents("https")
}

public final class HTTPDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "http", ports: [80], events: HTTPEvents.http.all, idleTimeout: 75,      // nginx keepalive_timeout
        persona: { HTTPDecoy.serverHeader($0) }, make: { HTTPDecoy($0) })

    static func serverHeader(_ info: DecoySessionInfo) -> String { info.config("server_header") ?? info.distro.nginx }

    static let maxHeaderLine = 8192, maxHeaderBlock = 32768, maxBody = 1 << 20, keptBody = 8192

    let info: DecoySessionInfo
    let ev: HTTPEvents
    let server: String
    let apache: Bool
    let policy: CredentialPolicy
    var buf: [UInt8] = []
    var requests = 0
    var closed = false

    init(_ info: DecoySessionInfo) {
        self.info = info
        ev = info.service == "https" ? .https : .http
        server = HTTPDecoy.serverHeader(info)
        apache = server.hasPrefix("Apache")
        policy = CredentialPolicy(info.config("accept"), default: .never)
    }

    public func end(reason: String, _ io: DecoyIO) {
        if !buf.isEmpty && requests == 0 {
            // A request that never completed: still evidence.
            io.emit(info.event(ev.request, [("method", ""), ("path", ""), ("status", "0"), ("bytes", "0"),
                                                    ("body_size", String(buf.count)), ("anomaly", "incomplete_request")]))
        }
    }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        guard !closed else { return }
        buf += bytes
        while !closed, let consumed = parseOne(io) { buf.removeFirst(consumed) }
    }

    struct Request {
        var method = "", target = "", version = ""
        var headers: [(String, String)] = []
        func header(_ n: String) -> String? { headers.first { $0.0.lowercased() == n }?.1 }
    }

    /// Parses and answers one request; returns bytes consumed, or nil when more are needed.
    func parseOne(_ io: DecoyIO) -> Int? {
        // Skip leading CRLFs between pipelined requests (nginx does).
        var start = 0
        while start < buf.count && (buf[start] == 0x0d || buf[start] == 0x0a) { start += 1 }
        guard let headEnd = findHeaderEnd(from: start) else {
            if buf.count - start > HTTPDecoy.maxHeaderBlock { fail(io, 400, anomaly: "header_too_large") }
            else if lineTooLong(from: start) { fail(io, 414, anomaly: "line_too_long") }
            return nil
        }
        let head = Array(buf[start..<headEnd.lineEnd])
        var lines = split(head)
        guard !lines.isEmpty else { fail(io, 400, anomaly: "empty_request"); return nil }
        let reqLine = lines.removeFirst()
        let parts = reqLine.split(separator: 0x20, omittingEmptySubsequences: true)
        var r = Request()
        guard parts.count == 3 || parts.count == 2 else { fail(io, 400, anomaly: "bad_request_line"); return nil }
        r.method = DecoyEvents.printable(parts[0], max: 64)
        r.target = DecoyEvents.printable(parts[1], max: 4096)
        r.version = parts.count == 3 ? DecoyEvents.printable(parts[2], max: 16) : "HTTP/0.9"
        guard r.method.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "_" || $0 == "-") }), !r.method.isEmpty,
              r.version.hasPrefix("HTTP/1.") || r.version == "HTTP/0.9" else { fail(io, 400, anomaly: "bad_request_line"); return nil }
        for l in lines {
            guard l.count <= HTTPDecoy.maxHeaderLine else { fail(io, 400, anomaly: "header_too_large"); return nil }
            guard let c = l.firstIndex(of: 0x3a), c > 0 else { fail(io, 400, anomaly: "bad_header"); return nil }
            r.headers.append((DecoyEvents.printable(l[..<c], max: 256), DecoyEvents.printable(l[(c + 1)...], max: 8192).trimmingSpaces))
        }
        if r.version == "HTTP/1.1" && r.header("host") == nil { fail(io, 400, anomaly: "missing_host"); return nil }
        // Body.
        var consumed = headEnd.bodyStart
        var body: [UInt8] = []
        if let te = r.header("transfer-encoding"), te.lowercased().contains("chunked") {
            switch decodeChunked(from: consumed) {
            case .needMore:
                if buf.count - consumed > HTTPDecoy.maxBody + 65536 { fail(io, 413, anomaly: "body_too_large") }
                return nil
            case .invalid: fail(io, 400, anomaly: "bad_chunked"); return nil
            case .done(let b, let end): body = b; consumed = end
            }
        } else if let cl = r.header("content-length") {
            guard let n = CheckedInt.parse(cl, in: 0...Int.max) else { fail(io, 400, anomaly: "bad_content_length"); return nil }
            guard n <= HTTPDecoy.maxBody else { fail(io, 413, anomaly: "body_too_large"); return nil }
            guard buf.count - consumed >= n else { return nil }
            body = Array(buf[consumed..<(consumed + n)])
            consumed += n
        }
        requests += 1
        respond(r, body: body, io)
        return consumed
    }

    func findHeaderEnd(from s: Int) -> (lineEnd: Int, bodyStart: Int)? {
        var i = s
        while i + 1 < buf.count {
            if buf[i] == 0x0a {
                if buf[i + 1] == 0x0a { return (i, i + 2) }
                if buf[i + 1] == 0x0d, i + 2 < buf.count, buf[i + 2] == 0x0a { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }

    func lineTooLong(from s: Int) -> Bool {
        var run = 0
        for b in buf[s...] { run = b == 0x0a ? 0 : run + 1; if run > HTTPDecoy.maxHeaderLine { return true } }
        return false
    }

    func split(_ head: [UInt8]) -> [ArraySlice<UInt8>] {
        head.split(separator: 0x0a, omittingEmptySubsequences: false).map { $0.last == 0x0d ? $0.dropLast() : $0 }
    }

    enum Chunked { case needMore, invalid, done([UInt8], Int) }

    func decodeChunked(from s: Int) -> Chunked {
        var i = s
        var out: [UInt8] = []
        while true {
            guard let nl = buf[i...].firstIndex(of: 0x0a) else { return buf.count - i > 64 ? .invalid : .needMore }
            var sizeText = buf[i..<nl]
            if sizeText.last == 0x0d { sizeText = sizeText.dropLast() }
            if let semi = sizeText.firstIndex(of: 0x3b) { sizeText = sizeText[..<semi] }
            // Hex digits only (Int(_, radix:) took "-1" and the slice below trapped), within the body limit.
            while sizeText.last == 0x20 || sizeText.last == 0x09 { sizeText = sizeText.dropLast() }
            guard sizeText.count <= 8, let n = CheckedInt.parse(sizeText, radix: 16, in: 0...HTTPDecoy.maxBody) else { return .invalid }
            i = nl + 1
            if n == 0 {
                // Trailers up to the blank line.
                while true {
                    guard let e = buf[i...].firstIndex(of: 0x0a) else { return .needMore }
                    let blank = e == i || (e == i + 1 && buf[i] == 0x0d)
                    i = e + 1
                    if blank { return .done(out, i) }
                }
            }
            guard out.count + n <= HTTPDecoy.maxBody else { return .invalid }   // both ≤ maxBody: no overflow
            guard buf.count >= i + n + 1 else { return .needMore }
            out += buf[i..<(i + n)]
            i += n
            if buf[i] == 0x0d { guard buf.count > i + 1 else { return .needMore }; i += 1 }
            guard buf[i] == 0x0a else { return .invalid }
            i += 1
        }
    }

    // MARK: responses

    func respond(_ r: Request, body: [UInt8], _ io: DecoyIO) {
        let q = r.target.firstIndex(of: "?")
        let path = String(r.target[..<(q ?? r.target.endIndex)])
        let query = q.map { String(r.target[r.target.index(after: $0)...]) } ?? ""
        var status = 404
        var page: [UInt8] = []
        var extra: [(String, String)] = []
        var credentials: [(String, String, [UInt8], String)] = []   // (mechanism, user, secret, kind)

        if let auth = r.header("authorization") {
            let sp = auth.firstIndex(of: " ")
            let scheme = String(auth[..<(sp ?? auth.endIndex)]).lowercased()
            let value = sp.map { String(auth[auth.index(after: $0)...]).trimmingSpaces } ?? ""
            switch scheme {
            case "basic":
                let raw = Base64.decode(value) ?? Array(value.utf8)
                let c = raw.firstIndex(of: 0x3a) ?? raw.endIndex
                credentials.append(("basic", String(decoding: raw[..<c], as: UTF8.self), c < raw.endIndex ? Array(raw[(c + 1)...]) : [], "plaintext"))
            case "bearer": credentials.append(("bearer", "", Array(value.utf8), "http_bearer"))
            case "digest":
                let user = value.split(separator: ",").first { $0.trimmingSpaces.hasPrefix("username=") }
                    .map { String($0.trimmingSpaces.dropFirst(9)).trimming("\"") } ?? ""
                credentials.append(("digest", user, Array(value.utf8), "http_digest_md5"))
            default: break
            }
        }
        let lower = path.lowercased()
        let isLogin = ["/login", "/signin", "/wp-login.php", "/admin/login", "/user/login", "/auth"].contains(lower)
        if r.method == "POST", isLogin || !body.isEmpty, let form = formCredentials(body, contentType: r.header("content-type")) {
            credentials.append(("form", form.0, form.1, "plaintext"))
        }
        let protected = lower.hasPrefix("/admin") || lower.hasPrefix("/manager") || lower.hasPrefix("/phpmyadmin") || lower.hasPrefix("/private")
        var accepted = false
        for (i, c) in credentials.enumerated() {
            let ok = policy.accepts(user: c.1, password: c.2, attempt: requests + i)
            accepted = accepted || ok
            io.emit(info.event(ev.login, DecoyEvents.credential(principal: c.1.isEmpty ? nil : c.1, username: c.1, secret: c.2, kind: c.3,
                                                                         result: ok ? "success" : "failed") + [("mechanism", c.0), ("path", path)]))
        }
        switch r.method {
        case "GET", "HEAD", "POST":
            if path == "/" || path == "/index.html" || path == "/index.nginx-debian.html" {
                status = r.method == "POST" ? 405 : 200
                page = status == 200 ? Array(defaultPage.utf8) : []
            } else if isLogin {
                status = 200
                page = Array(loginPage(failed: r.method == "POST").utf8)
            } else if protected && !accepted {
                status = 401
                extra.append(("WWW-Authenticate", "Basic realm=\"Restricted\""))
            } else if protected {
                status = 403
            }
        default:
            status = 405
        }
        if page.isEmpty { page = Array(errorPage(status, host: r.header("host")).utf8) }
        var headers = responseHead(status: status, length: page.count, html: true, static200: status == 200 && !isLogin, extra: extra)
        let keepAlive = r.version == "HTTP/1.1" ? r.header("connection")?.lowercased() != "close" : r.header("connection")?.lowercased() == "keep-alive"
        let closeAfter = !keepAlive || status == 400 || status == 413 || status == 414
        headers = headers.replacingOccurrences(of: "Connection: keep-alive", with: closeAfter ? "Connection: close" : "Connection: keep-alive")
        var out = Array(headers.utf8)
        if r.method != "HEAD" { out += page }
        io.send(out, after: credentials.isEmpty ? 0 : 0.3)
        var bodyHash = ""
        if !body.isEmpty { bodyHash = Digest.sha256Hex(bytes: body) }
        let headerText = r.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        var fp: [(String, String)] = []
        #if JA4Plus
        fp.append(("ja4h", JA4H(method: r.method, version: r.version, headers: r.headers.map { (name: $0.0, value: $0.1) }).hash))
        #endif
        io.emit(info.event(ev.request, fp + [
            ("method", r.method), ("path", String(path.prefix(2048))), ("query", String(query.prefix(2048))), ("version", r.version),
            ("host", r.header("host") ?? ""), ("user_agent", r.header("user-agent") ?? ""),
            ("headers", String(headerText.prefix(8192))), ("body", DecoyEvents.printable(body, max: HTTPDecoy.keptBody)),
            ("body_size", String(body.count)), ("body_sha256", bodyHash), ("status", String(status)), ("bytes", String(out.count)),
        ]))
        if closeAfter { closed = true; io.close() }
    }

    func formCredentials(_ body: [UInt8], contentType: String?) -> (String, [UInt8])? {
        guard contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? true else { return nil }
        var user: String?, pass: [UInt8]?
        for pair in body.split(separator: 0x26) {
            let kv = pair.split(separator: 0x3d, maxSplits: 1, omittingEmptySubsequences: false)
            let k = String(decoding: percentDecode(kv[0]), as: UTF8.self).lowercased()
            let v = kv.count > 1 ? percentDecode(kv[1]) : []
            if ["user", "username", "login", "email", "log", "usr", "name", "uname"].contains(k) { user = String(decoding: v, as: UTF8.self) }
            if ["pass", "password", "pwd", "passwd", "pw", "secret"].contains(k) { pass = v }
        }
        guard let pass else { return nil }
        return (user ?? "", pass)
    }

    func percentDecode(_ s: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        let a = Array(s)
        var i = 0
        while i < a.count {
            if a[i] == 0x25, i + 2 < a.count, let v = UInt8(String(decoding: a[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) { out.append(v); i += 3 }
            else { out.append(a[i] == 0x2b ? 0x20 : a[i]); i += 1 }
        }
        return out
    }

    /// A request we refuse before routing (nginx answers and closes).
    func fail(_ io: DecoyIO, _ status: Int, anomaly: String) {
        let page = Array(errorPage(status, host: nil).utf8)
        var head = responseHead(status: status, length: page.count, html: true, static200: false, extra: [])
        head = head.replacingOccurrences(of: "Connection: keep-alive", with: "Connection: close")
        io.send(Array(head.utf8) + page)
        io.emit(info.event(ev.request, [("status", String(status)), ("bytes", String(head.utf8.count + page.count)),
                                                ("body_size", String(buf.count)), ("anomaly", anomaly)]))
        closed = true
        io.close()
    }

    static let reasons: [Int: String] = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                                         405: "Not Allowed", 413: "Request Entity Too Large", 414: "Request-URI Too Large"]

    func responseHead(status: Int, length: Int, html: Bool, static200: Bool, extra: [(String, String)]) -> String {
        let reason = apache && status == 405 ? "Method Not Allowed" : (apache && status == 413 ? "Request Entity Too Large" : HTTPDecoy.reasons[status] ?? "Error")
        var h = "HTTP/1.1 \(status) \(reason)\r\n"
        if apache {
            h += "Date: \(httpDate())\r\nServer: \(server)\r\n"
            if static200 { h += "Last-Modified: Thu, 14 Mar 2024 09:22:11 GMT\r\nETag: \"\(String(length, radix: 16))-613a2b5d1c6c0\"\r\nAccept-Ranges: bytes\r\n" }
            for (k, v) in extra { h += "\(k): \(v)\r\n" }
            h += "Content-Length: \(length)\r\n"
            h += "Connection: keep-alive\r\n"
            h += "Content-Type: text/html\(static200 ? "" : "; charset=iso-8859-1")\r\n\r\n"
        } else {
            h += "Server: \(server)\r\nDate: \(httpDate())\r\nContent-Type: text/html\r\nContent-Length: \(length)\r\n"
            if static200 { h += "Last-Modified: Thu, 14 Mar 2024 09:22:11 GMT\r\n" }
            h += "Connection: keep-alive\r\n"
            for (k, v) in extra { h += "\(k): \(v)\r\n" }
            if static200 { h += "ETag: \"65f2c1f3-\(String(length, radix: 16))\"\r\nAccept-Ranges: bytes\r\n" }
            h += "\r\n"
        }
        return h
    }

    func errorPage(_ status: Int, host: String?) -> String {
        let reason = HTTPDecoy.reasons[status] ?? "Error"
        if apache {
            let (title, text): (String, String) = {
                switch status {
                case 401: return ("401 Unauthorized", "<h1>Unauthorized</h1>\n<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n")
                case 403: return ("403 Forbidden", "<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n")
                case 404: return ("404 Not Found", "<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n")
                case 405: return ("405 Method Not Allowed", "<h1>Method Not Allowed</h1>\n<p>The requested method is not allowed for this URL.</p>\n")
                default: return ("\(status) \(reason)", "<h1>\(reason)</h1>\n<p>Your browser sent a request that this server could not understand.<br />\n</p>\n")
                }
            }()
            let h = host.map { String($0.split(separator: ":").first ?? "") } ?? info.decky.ip.description
            return "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>\(title)</title>\n</head><body>\n\(text)<hr>\n<address>\(server) Server at \(h) Port \(info.localPort)</address>\n</body></html>\n"
        }
        return "<html>\r\n<head><title>\(status) \(reason)</title></head>\r\n<body>\r\n<center><h1>\(status) \(reason)</h1></center>\r\n<hr><center>\(server)</center>\r\n</body>\r\n</html>\r\n"
    }

    var defaultPage: String {
        if apache { return "<html><body><h1>It works!</h1></body></html>\n" }
        return "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\n    body {\n        width: 35em;\n        margin: 0 auto;\n        font-family: Tahoma, Verdana, Arial, sans-serif;\n    }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n"
    }

    func loginPage(failed: Bool) -> String {
        let title = info.config("title") ?? "Sign in"
        return "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>\(title)</title></head>\n<body>\n<h2>\(title)</h2>\n\(failed ? "<p class=\"error\">Invalid username or password.</p>\n" : "")<form method=\"post\" action=\"/login\">\n<label>Username <input name=\"username\" autocomplete=\"username\"></label><br>\n<label>Password <input name=\"password\" type=\"password\"></label><br>\n<button type=\"submit\">Sign in</button>\n</form>\n</body>\n</html>\n"
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for now.
func httpDate() -> String {
    var t = time(nil)
    var tmv = tm()
    gmtime_r(&t, &tmv)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func p2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(days[Int(tmv.tm_wday)]), \(p2(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) \(p2(tmv.tm_hour)):\(p2(tmv.tm_min)):\(p2(tmv.tm_sec)) GMT"
}
