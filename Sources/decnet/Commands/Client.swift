// Client.swift: `decnet login | attackers | logs | users` (and `decnet status`): CLI clients that talk only to
// the REST API, with the token `decnet login` saved (ClientSession).
import Appliance
import ArgumentParser
import Control
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "API base url, http:// or https:// (default: $DECNET_API_URL, the one `decnet login` saved, or http://127.0.0.1:8000).")
    var url: String?

    @Option(name: .long, help: "PEM CA or self-signed certificate to trust for https (default: $DECNET_CA_FILE, the one `decnet login` saved, or the system store).")
    var caFile: String?

    func client(needToken: Bool = true) throws -> APIClient {
        let saved = ClientSession.load()
        let env = DecnetConfiguration.current.clientURL
        let base = url ?? env ?? saved?.url ?? "http://127.0.0.1:8000"
        // A saved CA belongs to the saved URL only.
        let ca = caFile ?? DecnetConfiguration.current.clientCAFile ?? (base == saved?.url ? saved?.caFile : nil)
        let token = DecnetConfiguration.current.clientToken ?? saved?.token
        if needToken && token == nil {
            stderrLine("decnet: not logged in; run `decnet login` first")
            throw ExitCode(77)
        }
        do { return try APIClient(url: base, token: token, caFile: ca) } catch {
            stderrLine("decnet: \(error)")
            throw ExitCode(64)
        }
    }
}

/// Runs a client call; API errors become one line on stderr and an exit code (401 → 77, 403 → 77, 404 → 66,
/// other 4xx → 65, transport/5xx → 69).
func clientCall<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ClientError {
        stderrLine("decnet \(what): \(e.message)")
        if e.status == 401 { stderrLine("decnet \(what): the saved token is invalid or expired; run `decnet login`") }
        switch e.status {
        case 401?, 403?: throw ExitCode(77)
        case 404?: throw ExitCode(66)
        case let s? where s < 500: throw ExitCode(65)
        default: throw ExitCode(69)
        }
    }
}

func readSecret(prompt: String, fromStdin: Bool) -> String {
    if fromStdin || isatty(0) == 0 {
        return readLine(strippingNewline: true) ?? ""
    }
    guard let p = getpass(prompt) else { return "" }
    return String(cString: p)
}

/// A query value (search terms keep their `key:value` colons readable).
func q(_ s: String) -> String { percentEncoded(s, keeping: ":") }

func table(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = min(60, max(widths[i], c.count)) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            let t = c.count > widths[i] ? String(c.prefix(widths[i] - 1)) + "…" : c
            return i == cells.count - 1 ? t : t.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

extension JSONValue {
    var text: String {
        switch self {
        // What the server relays came from attackers: no control character reaches the terminal raw.
        case .string(let s): return ControlCharacters.escaped(s)
        case .number(let d): return CheckedMath.exactInt(d, in: -999_999_999_999_999...999_999_999_999_999).map { String($0) } ?? String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        case .array(let a): return a.map(\.text).joined(separator: ",")
        case .object: return serialized
        }
    }
    var items: [JSONValue] { if case .array(let a) = self { return a }; return [] }
}

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in to the API and save the token (~/.config/decnet/client.json, 0600).")
    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "Username.") var username: String = "admin"
    @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false

    func run() throws {
        let c = try client.client(needToken: false)
        c.token = nil
        let pw = readSecret(prompt: "Password for \(username): ", fromStdin: passwordStdin)
        let reply = try clientCall("login") {
            try c.call("POST", "/api/v1/auth/login", json: .object([("username", .string(username)), ("password", .string(pw))]))
        }
        guard let token = reply["access_token"]?.stringValue else { stderrLine("decnet login: no token in the reply"); throw ExitCode(69) }
        try clientCall("login") { try ClientSession.save(url: c.url, token: token, caFile: c.caFile.map(absolutePath)) }
        print("logged in as \(username) at \(c.url)")
        if reply["must_change_password"]?.boolValue == true {
            print("password change required: run `decnet users passwd` before anything else")
        }
    }
}

struct Attackers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List attacker profiles (GET /api/v1/attackers).")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Print the API's JSON.") var json = false
    @Option(name: .long, help: "Rows (1..1000).") var limit = 50
    @Option(name: .long, help: "IP substring.") var search: String?
    @Option(name: .long, help: "recent | active | traversals") var sort = "recent"

    func run() throws {
        let c = try client.client()
        var path = "/api/v1/attackers?limit=\(limit)&sort_by=\(q(sort))"
        if let search { path += "&search=\(q(search))" }
        let r = try clientCall("attackers") { try c.call("GET", path) }
        if json { print(r.serialized); return }
        table(["IP", "LAST SEEN", "EVENTS", "SERVICES", "CREDS", "SCORE", "UUID"], r["data"]?.items.map { a in
            [a["ip"]?.text ?? "", a["last_seen"]?.text ?? "", a["event_count"]?.text ?? "", a["services"]?.text ?? "",
             a["credential_count"]?.text ?? "", a["score"]?.text ?? "", a["uuid"]?.text ?? ""]
        } ?? [])
        print("\(r["total"]?.text ?? "0") attackers")
    }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show events (GET /api/v1/logs); --follow streams new ones (SSE).")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "One JSON object per line.") var json = false
    @Flag(name: [.short, .long], help: "Keep printing new events as they arrive.") var follow = false
    @Option(name: .long, help: "Rows (1..1000).") var limit = 50
    @Option(name: .long, help: "Search terms (key:value or raw-line text).") var search: String?

    func printRow(_ r: JSONValue) {
        if json { print(r.serialized) } else {
            print([r["timestamp"]?.text ?? "", r["decky"]?.text ?? "", r["service"]?.text ?? "", r["event_type"]?.text ?? "",
                   r["attacker_ip"]?.text ?? ""].joined(separator: "  "))
        }
        fflush(nil)
    }

    func run() throws {
        let c = try client.client()
        var path = "/api/v1/logs?limit=\(limit)"
        if let search { path += "&search=\(q(search))" }
        let r = try clientCall("logs") { try c.call("GET", path) }
        let rows = (r["data"]?.items ?? []).reversed()
        for row in rows { printRow(row) }
        guard follow else { return }
        let last = rows.last?["id"]?.doubleValue.flatMap { CheckedMath.exactInt($0, in: 0...Int.max) } ?? 0
        var stream = "/api/v1/stream?lastEventId=\(last)"
        if let search { stream += "&search=\(q(search))" }
        try clientCall("logs") {
            try c.stream(stream) { data in
                if let m = try? JSONValue.parse(data), m["type"]?.stringValue == "logs" { for row in m["data"]?.items ?? [] { printRow(row) } }
                return true
            }
        }
    }
}

struct Users: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API users (admin) and your own password.",
        subcommands: [List.self, Add.self, Delete.self, Role.self, ResetPassword.self, Passwd.self], defaultSubcommand: List.self)

    static func findUUID(_ c: APIClient, _ name: String) throws -> String {
        let cfg = try clientCall("users") { try c.call("GET", "/api/v1/config") }
        guard let u = cfg["users"]?.items.first(where: { $0["username"]?.stringValue == name || $0["uuid"]?.stringValue == name }),
              let id = u["uuid"]?.stringValue else {
            stderrLine("decnet users: no user \(name.debugDescription)")
            throw ExitCode(66)
        }
        return id
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var client: ClientOptions
        @Flag(name: .long) var json = false
        func run() throws {
            let c = try client.client()
            let cfg = try clientCall("users") { try c.call("GET", "/api/v1/config") }
            guard let users = cfg["users"] else { stderrLine("decnet users: admin role required"); throw ExitCode(77) }
            if json { print(users.serialized); return }
            table(["USERNAME", "ROLE", "MUST CHANGE", "UUID"], users.items.map {
                [$0["username"]?.text ?? "", $0["role"]?.text ?? "", $0["must_change_password"]?.text ?? "", $0["uuid"]?.text ?? ""]
            })
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (password read from stdin or prompted; they must change it at first login).")
        @OptionGroup var client: ClientOptions
        @Argument var username: String
        @Option(name: .long, help: "admin | viewer") var role = "viewer"
        @Flag(name: .long) var passwordStdin = false
        func run() throws {
            let c = try client.client()
            let pw = readSecret(prompt: "Password for \(username): ", fromStdin: passwordStdin)
            let u = try clientCall("users add") {
                try c.call("POST", "/api/v1/config/users", json: .object([("username", .string(username)), ("password", .string(pw)), ("role", .string(role))]))
            }
            print("created \(u["username"]?.text ?? username) (\(u["role"]?.text ?? role)) \(u["uuid"]?.text ?? "")")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user (by username or uuid).")
        @OptionGroup var client: ClientOptions
        @Argument var user: String
        func run() throws {
            let c = try client.client()
            let id = try Users.findUUID(c, user)
            _ = try clientCall("users delete") { try c.call("DELETE", "/api/v1/config/users/\(q(id))") }
            print("deleted \(user)")
        }
    }

    struct Role: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's role (revokes their sessions).")
        @OptionGroup var client: ClientOptions
        @Argument var user: String
        @Argument(help: "admin | viewer") var role: String
        func run() throws {
            let c = try client.client()
            let id = try Users.findUUID(c, user)
            _ = try clientCall("users role") { try c.call("PUT", "/api/v1/config/users/\(q(id))/role", json: .object([("role", .string(role))])) }
            print("\(user) is now \(role)")
        }
    }

    struct ResetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "Set another user's password (they must change it).")
        @OptionGroup var client: ClientOptions
        @Argument var user: String
        @Flag(name: .long) var passwordStdin = false
        func run() throws {
            let c = try client.client()
            let id = try Users.findUUID(c, user)
            let pw = readSecret(prompt: "New password for \(user): ", fromStdin: passwordStdin)
            _ = try clientCall("users reset-password") {
                try c.call("PUT", "/api/v1/config/users/\(q(id))/reset-password", json: .object([("new_password", .string(pw))]))
            }
            print("password reset for \(user)")
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change your own password (stdin: current, then new, one per line). Logs every session out.")
        @OptionGroup var client: ClientOptions
        @Flag(name: .long) var passwordStdin = false
        func run() throws {
            let c = try client.client()
            let old = readSecret(prompt: "Current password: ", fromStdin: passwordStdin)
            let new = readSecret(prompt: "New password (12+ characters): ", fromStdin: passwordStdin)
            _ = try clientCall("users passwd") {
                try c.call("POST", "/api/v1/auth/change-password", json: .object([("old_password", .string(old)), ("new_password", .string(new))]))
            }
            print("password changed; every session was logged out: run `decnet login` again")
        }
    }
}

/// `decnet status`: health, counters and the fleet from the API.
func apiStatus(_ client: ClientOptions, json: Bool) throws {
    let c = try client.client()
    let health = try clientCall("status") { () -> JSONValue in
        let r = try c.request("GET", "/api/v1/health")
        guard r.status == 200 || r.status == 503, let j = r.json else { throw ClientError(APIClient.detail(r.status, r.body), status: r.status) }
        return j
    }
    let stats = try clientCall("status") { try c.call("GET", "/api/v1/stats") }
    let deckies = try clientCall("status") { try c.call("GET", "/api/v1/deckies") }
    if json {
        print(JSONValue.object([("health", health), ("stats", stats), ("deckies", deckies)]).serialized)
        return
    }
    print("health: \(health["status"]?.text ?? "?")")
    if case .object(let comps)? = health["components"] {
        for (name, v) in comps { print("  \(name): \(v["status"]?.text ?? "?")\(v["detail"].map { " (\($0.text))" } ?? "")") }
    }
    print("events: \(stats["total_logs"]?.text ?? "0")  attackers: \(stats["unique_attackers"]?.text ?? "0")  deckies: \(stats["active_deckies"]?.text ?? "0") running / \(stats["deployed_deckies"]?.text ?? "0")")
    if !deckies.items.isEmpty {
        table(["DECKY", "IP", "SERVICES", "STATE"], deckies.items.map { [$0["name"]?.text ?? "", $0["ip"]?.text ?? "", $0["services"]?.text ?? "", $0["state"]?.text ?? ""] })
    }
    if health["status"]?.stringValue == "unhealthy" { throw ExitCode(1) }
}

/// `path` made absolute against the working directory (a saved CA file must survive a `cd`).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil else { return path }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
}

extension ClientOptions {
    /// Fleet commands (deploy, teardown, mutate) go through the API when one is configured explicitly: `--url`,
    /// DECNET_API_URL or `[client] url`. A saved login alone does not move them off the box (`status` uses it).
    var apiConfigured: Bool { url != nil || DecnetConfiguration.current.clientURL != nil }
}

/// `decnet deploy` through the API: the deploy file goes to POST /deckies/deploy (the API plans and creates).
func apiDeploy(_ client: ClientOptions, iniPath: String?) throws {
    guard let iniPath else {
        stderrLine("decnet deploy: through the API (\(client.url ?? DecnetConfiguration.current.clientURL ?? "")) a deploy is a file: give --config FILE, or add --local for a flag-described plan on this box")
        throw ExitCode(64)
    }
    guard let b = readFile(iniPath, limit: 512 << 10) else {
        stderrLine("decnet deploy: cannot read \(iniPath): \(String(cString: strerror(errno)))")
        throw ExitCode(64)
    }
    let c = try client.client()
    let reply = try clientCall("deploy") {
        try c.call("POST", "/api/v1/deckies/deploy", json: .object([("ini_content", .string(String(decoding: b, as: UTF8.self)))]))
    }
    print("\(reply["message"]?.text ?? "accepted") (mode \(reply["mode"]?.text ?? "?"))")
    for id in reply["lifecycle_ids"]?.items ?? [] { print("  \(id.text)") }
}

/// The names of the deckies the API knows.
func apiDeckyNames(_ c: APIClient, _ what: String) throws -> [String] {
    try clientCall(what) { try c.call("GET", "/api/v1/deckies") }.items.compactMap { $0["name"]?.stringValue }
}

/// `decnet teardown` through the API: DELETE /deckies/{name} for one or every decky.
func apiTeardown(_ client: ClientOptions, id: String?) throws {
    let c = try client.client()
    let names = try id.map { [$0] } ?? apiDeckyNames(c, "teardown")
    for n in names {
        _ = try clientCall("teardown") { try c.call("DELETE", "/api/v1/deckies/\(percentEncoded(n, keeping: ""))") }
    }
    print("removed \(names.count) decky(ies)\(names.isEmpty ? "" : ": " + names.joined(separator: ", "))")
}

/// `decnet mutate --id/--all` through the API: POST /deckies/{name}/mutate.
func apiMutate(_ client: ClientOptions, id: String?) throws {
    let c = try client.client()
    let names = try id.map { [$0] } ?? apiDeckyNames(c, "mutate")
    if names.isEmpty { stderrLine("decnet mutate: no deckies deployed"); throw ExitCode(66) }
    for n in names {
        let r = try clientCall("mutate") { try c.call("POST", "/api/v1/deckies/\(percentEncoded(n, keeping: ""))/mutate") }
        let old = (r["old_services"]?.items ?? []).map(\.text).joined(separator: ","), new = (r["new_services"]?.items ?? []).map(\.text).joined(separator: ",")
        print("\(n): \(old) -> \(new)")
    }
}
