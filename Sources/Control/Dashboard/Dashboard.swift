// Dashboard.swift: server-rendered pages (login, overview with a live feed, attackers, attacker detail,
// deckies, workers). The session is the API's own access token in an HttpOnly, SameSite=Strict cookie;
// every value that came from the network is HTML-escaped (attackers choose their usernames, user agents and
// commands: a honeypot dashboard is a stored-XSS target by design). Scripts and styles are served from
// /static so the CSP can forbid inline code.
import Appliance
import Fingerprint
import HTTPTypes
import Hummingbird
import NIOCore

enum Dashboard {
    static let cookie = "decnet_session"

    static func register(on router: Router<APIContext>, api: APIServices) {
        router.get("/static/app.js") { _, _ in asset(DashboardAssets.script, "text/javascript; charset=utf-8") }
        router.get("/static/app.css") { _, _ in asset(DashboardAssets.style, "text/css; charset=utf-8") }
        router.get("/login") { request, _ in
            loginPage(error: request.uri.queryParameters["error"] != nil ? "Incorrect username or password" : nil)
        }
        router.post("/login") { request, context in try await login(request, context, api) }
        router.post("/logout") { request, _ in
            let form = try await formFields(request)
            guard sameOrigin(request), let id = await identity(request, api, allowMustChange: true),
                  checkCSRF(form["csrf"], id, api) else { return forbidden() }
            if let jti = id.jti {
                try? api.store.revokeToken(jti: jti, userUUID: id.uuid, expiresAt: Double(id.expires ?? 0), now: wallClockSeconds())
                api.revokedCache.invalidate(jti)
            }
            var r = redirect("/login")
            r.headers[.setCookie] = "\(cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
            return r
        }
        router.get("/password") { request, _ in
            guard let id = await identity(request, api, allowMustChange: true) else { return redirect("/login") }
            return page("Change password", nav: false, body: passwordForm(error: request.uri.queryParameters["error"].map(String.init),
                                                                         csrf: csrfToken(id, api)))
        }
        router.post("/password") { request, _ in try await changePassword(request, api) }
        router.post("/ui/ticket") { request, _ in
            guard sameOrigin(request), let id = await identity(request, api) else { return APIError.unauthenticated.response }
            guard checkCSRF(request.headers[HTTPField.Name("X-CSRF-Token")!], id, api) else { return APIError.forbidden("CSRF token missing or wrong").response }
            return JSONResponse.make(.object([("ticket", .string(api.tickets.issue(for: id)))]))
        }
        router.get("/") { request, _ in try await authed(request, api) { _ in try await overview(api) } }
        router.get("/attackers") { request, _ in try await authed(request, api) { _ in try await attackers(request, api) } }
        router.get("/attackers/{uuid}") { request, context in
            try await authed(request, api) { _ in try await attackerDetail(context.parameters.get("uuid") ?? "", api) }
        }
        router.get("/deckies") { request, _ in try await authed(request, api) { _ in try deckies(api) } }
        router.get("/workers") { request, _ in try await authed(request, api) { _ in workers(api) } }
        router.get("/swarm") { request, _ in try await authed(request, api) { _ in try swarm(api) } }
    }

    // MARK: session

    static func sessionToken(_ r: Request) -> String? { cookieValue(r, cookie) }

    static func identity(_ r: Request, _ api: APIServices, allowMustChange: Bool = false) async -> Identity? {
        guard let t = sessionToken(r), let id = try? await api.authenticate(token: t) else { return nil }
        if id.mustChangePassword && !allowMustChange { return nil }
        return id
    }

    /// A POST from a page of ours: the Origin (or Referer) names this host when the browser sends one.
    /// SameSite=Strict cookies and the CSRF token are the other two locks.
    static func sameOrigin(_ r: Request) -> Bool {
        guard let host = r.head.authority else { return false }
        // "null" is what a browser sends under a no-referrer policy or from a privacy context: no claim either way,
        // the CSRF token decides.
        let claimed = [r.headers[.origin], r.headers[.referer]].compactMap { $0 }.filter { $0 != "null" }
        guard let origin = claimed.first else { return true }
        return origin == "http://\(host)" || origin == "https://\(host)" || origin.hasPrefix("http://\(host)/") || origin.hasPrefix("https://\(host)/")
    }

    static func authed(_ r: Request, _ api: APIServices, _ body: (Identity) async throws -> Response) async throws -> Response {
        guard let t = sessionToken(r), let id = try? await api.authenticate(token: t) else { return redirect("/login") }
        if id.mustChangePassword { return redirect("/password") }
        return try await $pageCSRF.withValue(csrfToken(id, api)) { try await body(id) }
    }

    // MARK: CSRF

    /// The CSRF token of the page being rendered (the nav's logout form and the live feed's ticket request).
    @TaskLocal static var pageCSRF: String?
    static let csrfCookie = "decnet_csrf"

    /// A signed session's CSRF token: HMAC of its jti under the API's key (nothing to store, dies with the session).
    static func csrfToken(_ id: Identity, _ api: APIServices) -> String {
        Base64URL.encode(api.signer.mac(Array(("csrf:" + (id.jti ?? "")).utf8)))
    }

    static func checkCSRF(_ given: String?, _ id: Identity, _ api: APIServices) -> Bool {
        guard let given, id.jti != nil else { return false }
        return constantTimeEqual(Array(given.utf8), Array(csrfToken(id, api).utf8))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func cookieValue(_ r: Request, _ name: String) -> String? {
        guard let header = r.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: [" "]).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return String(kv[1]) }
        }
        return nil
    }

    /// The login page with a fresh pre-session CSRF token: the same random value in an HttpOnly
    /// SameSite=Strict cookie and in the form (double submit); POST /login needs both to match.
    static func loginPage(error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Base64URL.encode(randomBytes(24))
        var r = page("Log in", nav: false, body: loginForm(error: error, csrf: token), status: status)
        r.headers[.setCookie] = "\(csrfCookie)=\(token); Path=/; Max-Age=3600; HttpOnly; SameSite=Strict"
        return r
    }

    static func forbidden() -> Response {
        page("Forbidden", nav: false, body: "<p class=\"error\">This form expired or did not come from this dashboard. <a href=\"/login\">Log in again</a>.</p>", status: .forbidden)
    }

    static func login(_ request: Request, _ context: APIContext, _ api: APIServices) async throws -> Response {
        let form = try await formFields(request)
        // Login CSRF: the form must come from our login page (Origin/Referer when sent, and the double-submit token).
        guard sameOrigin(request), let cookieToken = cookieValue(request, csrfCookie), let formToken = form["csrf"],
              constantTimeEqual(Array(cookieToken.utf8), Array(formToken.utf8)) else { return forbidden() }
        let username = form["username"] ?? "", password = form["password"] ?? ""
        let peer = context.remoteAddress.map(APIServices.peerKey) ?? "unknown"
        guard api.login.allow(source: peer, username: username) else {
            return loginPage(error: "Too many login attempts; try again later", status: .tooManyRequests)
        }
        guard !username.isEmpty, !password.isEmpty, password.utf8.count <= Passwords.maxBytes,
              let user = try api.store.user(username: username) else {
            _ = try await APIServices.offload { Passwords.verify(password, hash: APIRoutes.dummyHash) }
            api.login.recordFailure(source: peer, username: username)
            return redirect("/login?error=1")
        }
        let hash = user.passwordHash
        guard try await APIServices.offload({ Passwords.verify(password, hash: hash) }) else {
            api.login.recordFailure(source: peer, username: username)
            return redirect("/login?error=1")
        }
        var r = redirect(user.mustChangePassword ? "/password" : "/")
        r.headers[.setCookie] = "\(cookie)=\(api.issueToken(for: user)); Path=/; Max-Age=\(api.config.tokenMinutes * 60); HttpOnly; SameSite=Strict"
        return r
    }

    static func changePassword(_ request: Request, _ api: APIServices) async throws -> Response {
        let form = try await formFields(request)
        guard let id = await identity(request, api, allowMustChange: true) else { return redirect("/login") }
        guard sameOrigin(request), checkCSRF(form["csrf"], id, api) else { return forbidden() }
        guard var user = try api.store.user(uuid: id.uuid) else { return redirect("/login") }
        let old = form["old_password"] ?? "", new = form["new_password"] ?? ""
        let hash = user.passwordHash
        guard old.utf8.count <= Passwords.maxBytes, try await APIServices.offload({ Passwords.verify(old, hash: hash) }) else {
            return redirect("/password?error=Wrong+current+password")
        }
        do { try Passwords.checkNew(new) } catch { return redirect("/password?error=New+password:+12+to+72+bytes") }
        user.passwordHash = try await APIServices.offload { try Passwords.hash(new) }
        user.mustChangePassword = false
        user.tokensValidFrom = wallClockSeconds()
        try api.store.updateUser(user)
        api.invalidateUser(user.uuid)
        // Every session was revoked, this one included: log in again with the new password.
        var r = redirect("/login")
        r.headers[.setCookie] = "\(cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
        return r
    }

    static func formFields(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 8 << 10)
        return decodeForm(String(buffer: buffer))
    }

    /// `application/x-www-form-urlencoded` fields (last value wins).
    static func decodeForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2 { out[decode(kv[0])] = decode(kv[1]) }
        }
        return out
    }

    // MARK: pages

    static func overview(_ api: APIServices) async throws -> Response {
        let stats = try await api.store.apiStats()
        let recent = try await api.store.logPage(LogFilter(), limit: 25, offset: 0)
        func counter(_ key: String, _ label: String) -> String {
            "<div class=\"counter\"><span id=\"stat-\(key)\" class=\"num\">\(whole(stats[key]))</span><span class=\"label\">\(label)</span></div>"
        }
        let rows = recent.map(logRow).joined()
        let body = storeBanner(api) + """
            <section class="counters">\(counter("total_logs", "events"))\(counter("unique_attackers", "attackers"))\(counter("active_deckies", "active deckies"))\(counter("deployed_deckies", "deployed deckies"))</section>
            <h2>Live events <span id="feed-state" class="muted">connecting…</span></h2>
            <table class="feed"><thead><tr><th>time</th><th>decky</th><th>service</th><th>event</th><th>attacker</th></tr></thead>
            <tbody id="feed">\(rows)</tbody></table>
            """
        return page("Overview", body: body, script: true)
    }

    static func logRow(_ r: JSONValue) -> String {
        "<tr><td>\(h(r["timestamp"]?.stringValue ?? ""))</td><td>\(h(r["decky"]?.stringValue ?? ""))</td><td>\(h(r["service"]?.stringValue ?? ""))</td><td>\(h(r["event_type"]?.stringValue ?? ""))</td><td>\(h(r["attacker_ip"]?.stringValue ?? ""))</td></tr>"
    }

    static func attackers(_ request: Request, _ api: APIServices) async throws -> Response {
        let search = request.uri.queryParameters["search"].map(String.init).flatMap { $0.isEmpty ? nil : String($0.prefix(512)) }
        // Digits only, at most the API's own offset bound; anything else is the first page.
        let offset = request.uri.queryParameters["offset"].flatMap { CheckedInt.parse($0, in: 0...1_000_000_000) } ?? 0
        let rows = try await api.store.attackerPage(search: search, service: nil, sort: .score, limit: 50, offset: offset)
        let total = try await api.store.attackerCount(search: search, service: nil)
        let trs = rows.map { a -> String in
            let uuid = a["uuid"]?.stringValue ?? ""
            let services = strings(a["services"])
            return "<tr><td><a href=\"/attackers/\(h(uuid))\">\(h(a["ip"]?.stringValue ?? ""))</a></td><td>\(h(a["last_seen"]?.stringValue ?? ""))</td><td>\(whole(a["event_count"]))</td><td>\(h(services.joined(separator: ", ")))</td><td>\(whole(a["credential_count"]))</td><td>\(decimalText(a["score"]?.doubleValue ?? 0, 1))</td></tr>"
        }.joined()
        let next = CheckedMath.saturatingAdd(offset, 50) < total ? "<a href=\"/attackers?offset=\(offset + 50)\(search.map { "&search=" + percentEncoded($0) } ?? "")\">next page</a>" : ""
        let body = """
            <form class="search" method="get" action="/attackers"><input name="search" placeholder="IP contains…" value="\(h(search ?? ""))"><button>Search</button></form>
            <p class="muted">\(total) attackers, highest score first</p>
            <table><thead><tr><th>ip</th><th>last seen</th><th>events</th><th>services</th><th>credentials</th><th>score</th></tr></thead><tbody>\(trs)</tbody></table>\(next)
            """
        return page("Attackers", body: body)
    }

    static func attackerDetail(_ uuid: String, _ api: APIServices) async throws -> Response {
        guard uuid.utf8.count <= 64, let a = try await api.store.attackerDetail(uuid: uuid) else {
            return page("Not found", body: "<p>No such attacker.</p>", status: .notFound)
        }
        func list(_ key: String) -> [JSONValue] { if case .array(let x)? = a[key] { return x }; return [] }
        let facts = [("first seen", a["first_seen"]?.stringValue ?? ""), ("last seen", a["last_seen"]?.stringValue ?? ""),
                     ("events", String(whole(a["event_count"]))),
                     ("deckies", list("deckies").compactMap(\.stringValue).joined(separator: ", ")),
                     ("services", list("services").compactMap(\.stringValue).joined(separator: ", ")),
                     ("kill chain", strings(a["profile"]?["phases"]).joined(separator: " → ")),
                     ("traversal", a["is_traversal"]?.boolValue == true ? "yes" : "no"),
                     ("related IPs", (a["profile"]?["related"].map { v -> [String] in
                         if case .array(let r) = v { return r.compactMap { $0["ip"]?.stringValue } } else { return [] } } ?? []).joined(separator: ", ")),
                     ("score", decimalText(a["score"]?.doubleValue ?? 0, 1))]
            .map { "<tr><th>\($0.0)</th><td>\(h($0.1))</td></tr>" }.joined()
        let prints = list("fingerprints").map {
            "<tr><td>\(h($0["kind"]?.stringValue ?? ""))</td><td class=\"mono\">\(h($0["value"]?.stringValue ?? ""))</td><td>\(whole($0["count"]))</td></tr>"
        }.joined()
        let creds = list("credentials").map {
            "<tr><td>\(h($0["service"]?.stringValue ?? ""))</td><td>\(h($0["decky_name"]?.stringValue ?? ""))</td><td class=\"mono\">\(h($0["principal"]?.stringValue ?? ""))</td><td class=\"mono\">\(h($0["secret_printable"]?.stringValue ?? "(binary)"))</td><td>\(whole($0["attempt_count"]))</td></tr>"
        }.joined()
        let events = list("recent_events").map(logRow).joined()
        let timeline = list("timeline").map { t -> String in
            if t["kind"]?.stringValue == "mutation" {
                return "<tr class=\"mutation\"><td>\(h(t["timestamp"]?.stringValue ?? ""))</td><td>\(h(t["decky"]?.stringValue ?? ""))</td><td colspan=\"2\">mutation (\(h(t["trigger"]?.stringValue ?? ""))): \(h(strings(t["old_services"]).joined(separator: ","))) → \(h(strings(t["new_services"]).joined(separator: ",")))</td></tr>"
            }
            let host = t["host"]?.stringValue ?? ""
            return "<tr><td>\(h(t["timestamp"]?.stringValue ?? ""))</td><td>\(h(t["decky"]?.stringValue ?? ""))\(host.isEmpty ? "" : " <span class=\"muted\">@\(h(host))</span>")</td><td>\(h(t["service"]?.stringValue ?? ""))</td><td>\(h(t["event_type"]?.stringValue ?? ""))</td></tr>"
        }.joined()
        // The swarm workers the attacker's hops landed on, in order of first contact.
        var hosts: [String] = []
        for t in list("timeline") { if let n = t["host"]?.stringValue, !n.isEmpty, !hosts.contains(n) { hosts.append(n) } }
        let hostsLine = hosts.isEmpty ? "" : " <span class=\"muted\" id=\"swarm-hosts\">across workers: \(h(hosts.joined(separator: " → ")))</span>"
        let body = """
            <h2 class="mono">\(h(a["ip"]?.stringValue ?? ""))</h2><table class="facts">\(facts)</table>
            <h2>Fingerprints</h2><table><thead><tr><th>kind</th><th>value</th><th>seen</th></tr></thead><tbody>\(prints)</tbody></table>
            <h2>Credentials</h2><table><thead><tr><th>service</th><th>decky</th><th>user</th><th>secret</th><th>attempts</th></tr></thead><tbody>\(creds)</tbody></table>
            <h2>Traversal timeline <span class="muted">\(h(list("deckies").compactMap(\.stringValue).joined(separator: " → ")))</span>\(hostsLine)</h2>
            <table class="timeline"><thead><tr><th>time</th><th>decky</th><th>service</th><th>event</th></tr></thead><tbody>\(timeline)</tbody></table>
            <h2>Recent events</h2><table><thead><tr><th>time</th><th>decky</th><th>service</th><th>event</th><th>attacker</th></tr></thead><tbody>\(events)</tbody></table>
            """
        return page("Attacker \(a["ip"]?.stringValue ?? "")", body: body)
    }

    static func deckies(_ api: APIServices) throws -> Response {
        let trs = try api.store.deckies().map { d -> String in
            let services = strings(try? JSONValue.parse(d.services))
            return "<tr><td>\(h(d.name))</td><td>\(h(d.ip))</td><td>\(h(d.mac ?? ""))</td><td>\(h(services.joined(separator: ", ")))</td><td class=\"state-\(h(d.state))\">\(h(d.state))</td><td>\(h(d.lastError ?? ""))</td></tr>"
        }.joined()
        return page("Deckies", body: "<table><thead><tr><th>name</th><th>ip</th><th>mac</th><th>services</th><th>state</th><th>error</th></tr></thead><tbody>\(trs)</tbody></table>")
    }

    /// Swarm hosts (status, last heartbeat, event shipping and its lag) and the decky shards they hold.
    static func swarm(_ api: APIServices) throws -> Response {
        let now = wallClockSeconds()
        let hosts = try api.store.swarmHosts()
        let byID = Dictionary(hosts.map { ($0.uuid, $0) }, uniquingKeysWith: { $1 })
        let hrows = hosts.map { x -> String in
            let hb = x.lastHeartbeat.map { "\(Int(max(0, now - $0))) s ago" } ?? "never"
            return "<tr><td>\(h(x.name))</td><td class=\"mono\">\(h(x.uuid))</td><td>\(h(x.address)):\(x.agentPort)</td><td class=\"state-\(h(x.status))\">\(h(x.status))</td><td>\(hb)</td><td>\(h(x.version ?? ""))</td><td>\(x.ingested)</td><td>\(max(0, x.outboxNewest - x.committedSeq))</td></tr>"
        }.joined()
        let srows = try api.store.shards().map { x -> String in
            let services = strings(try? JSONValue.parse(x.services))
            return "<tr><td>\(h(x.deckyName))</td><td>\(h(byID[x.hostUUID]?.name ?? "<unknown>"))</td><td>\(h(x.ip))</td><td>\(h(services.joined(separator: ", ")))</td><td class=\"state-\(h(x.state))\">\(h(x.state))</td><td>\(h(x.lastError ?? ""))</td></tr>"
        }.joined()
        let body = """
            <h2>Hosts</h2><table id="swarm-hosts"><thead><tr><th>name</th><th>uuid</th><th>agent</th><th>status</th><th>last heartbeat</th><th>version</th><th>events shipped</th><th>shipping lag</th></tr></thead><tbody>\(hrows)</tbody></table>
            <h2>Decky shards</h2><table id="swarm-shards"><thead><tr><th>decky</th><th>host</th><th>ip</th><th>services</th><th>state</th><th>error</th></tr></thead><tbody>\(srows)</tbody></table>
            """
        return page("Swarm", body: body)
    }

    static func workers(_ api: APIServices) -> Response {
        let trs = api.registry.snapshot().map { w in
            "<tr><td>\(h(w.name))</td><td class=\"state-\(w.status.rawValue)\">\(w.status.rawValue)</td><td>\(w.lastHeartbeatTS.map(isoTime) ?? "never")</td><td>\(w.installed ? "yes" : "no")</td></tr>"
        }.joined()
        return page("Workers", body: storeBanner(api) + "<table><thead><tr><th>worker</th><th>status</th><th>last heartbeat</th><th>installed</th></tr></thead><tbody>\(trs)</tbody></table>")
    }

    /// The store's state where an operator looks first: events are being dropped when its disk is full.
    static func storeBanner(_ api: APIServices) -> String {
        guard let free = api.store.freeBytes(), free < Health.minFreeBytes else { return "" }
        return "<p class=\"error banner\" id=\"store-failing\">Store degraded: \(free / 1024) KiB free where the event store lives; decoys and the sensor are dropping events until there is room.</p>"
    }

    static func loginForm(error: String?, csrf: String) -> String {
        """
        <form class="login" method="post" action="/login"><h1>decnet</h1>\(error.map { "<p class=\"error\">\(h($0))</p>" } ?? "")
        <input type="hidden" name="csrf" value="\(h(csrf))">
        <label>Username <input name="username" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button></form>
        """
    }

    static func passwordForm(error: String?, csrf: String) -> String {
        """
        <form class="login" method="post" action="/password"><h1>Change password</h1>\(error.map { "<p class=\"error\">\(h($0))</p>" } ?? "")
        <input type="hidden" name="csrf" value="\(h(csrf))">
        <label>Current password <input name="old_password" type="password" autocomplete="current-password" required></label>
        <label>New password (12+ characters) <input name="new_password" type="password" autocomplete="new-password" minlength="12" required></label>
        <button type="submit">Change</button></form>
        """
    }

    // MARK: rendering

    static func strings(_ v: JSONValue?) -> [String] {
        guard case .array(let items)? = v else { return [] }
        return items.compactMap { $0.stringValue }
    }

    static func page(_ title: String, nav: Bool = true, body: String, script: Bool = false, status: HTTPResponse.Status = .ok) -> Response {
        let menu = nav ? """
            <nav><a class="brand" href="/">decnet</a><a href="/">Overview</a><a href="/attackers">Attackers</a><a href="/deckies">Deckies</a><a href="/swarm">Swarm</a><a href="/workers">Workers</a>
            <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(h(pageCSRF ?? ""))"><button>Log out</button></form></nav>
            """ : ""
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(title)) · decnet</title><link rel="stylesheet" href="/static/app.css">\(pageCSRF.map { "<meta name=\"csrf-token\" content=\"\(h($0))\">" } ?? "")</head>
            <body>\(menu)<main>\(nav ? "<h1>\(h(title))</h1>" : "")\(body)</main>\(script ? "<script src=\"/static/app.js\"></script>" : "")</body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, _ type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ to: String) -> Response {
        Response(status: .seeOther, headers: [.location: to, .cacheControl: "no-store"])
    }

    /// A count from the store as text (never traps on a value that is not a whole Int).
    static func whole(_ v: JSONValue?) -> Int { v?.doubleValue.flatMap { CheckedMath.exactInt($0.rounded(.down), in: Int.min...Int.max) } ?? 0 }

    /// HTML text/attribute escaping.
    static func h(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}

/// URL percent-encoding: letters, digits, `-._` and the bytes of `keeping` stay; every other UTF-8 byte is %XX.
public func percentEncoded(_ s: String, keeping: String = "") -> String {
    let extra = Set(keeping.utf8)
    var out = ""
    for b in s.utf8 {
        if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f || extra.contains(b) {
            out.unicodeScalars.append(UnicodeScalar(b))
        } else {
            out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
        }
    }
    return out
}
