// Configuration.swift: the one place decnet reads its settings and the process environment.
// Precedence, lowest first: built-in defaults < /etc/decnet/decnet.ini (or --config / DECNET_CONFIG)
// < DECNET_* environment < command-line flags (applied by each command as `flag ?? configuration.x`).
// Every setting is one row of `DecnetConfiguration.settings` (the README's table is generated from it:
// `decnet config --table`). A file with unknown keys, wrong types or conflicting values is refused at start
// with every problem and its line number at once.
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The type a setting's text must have.
public enum SettingKind: Sendable, Equatable {
    case text, path, secret
    case bool
    case integer(ClosedRange<Int>)
    case choice([String])

    var describe: String {
        switch self {
        case .text: return "text"
        case .path: return "path"
        case .secret: return "secret"
        case .bool: return "true|false"
        case .integer(let r): return "integer \(r.lowerBound)...\(r.upperBound)"
        case .choice(let c): return c.joined(separator: "|")
        }
    }
}

/// One row of the configuration table: `[section] key` in the file, `env` in the environment.
public struct Setting: Sendable {
    public let key: String  // "section.key"
    public let env: String
    public let kind: SettingKind
    public let defaultValue: String?
    public let help: String
    public var section: String { String(key.prefix { $0 != "." }) }
    public var name: String { String(key.drop { $0 != "." }.dropFirst()) }
}

/// Every problem found while loading, each with where it came from ("decnet.ini:12", "DECNET_X").
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// Typed settings of one decnet process. Loaded once by the command (`DecnetConfiguration.load`) and
/// installed as `DecnetConfiguration.current` for the parts that need it deep inside (bus path, log level).
public struct DecnetConfiguration: Sendable {
    public static let defaultFile = "/etc/decnet/decnet.ini"

    public static let settings: [Setting] = [
        Setting(
            key: "state.directory", env: "DECNET_STATE_DIR", kind: .path, defaultValue: "/var/lib/decnet",
            help: "State: the store, secrets, TLS files, artifacts (decnet up)."),
        Setting(
            key: "store.path", env: "DECNET_DB_PATH", kind: .path, defaultValue: nil,
            help: "SQLite event store (default <state.directory>/decnet.db)."),
        Setting(
            key: "logs.ingest_file", env: "DECNET_INGEST_LOG_FILE", kind: .path, defaultValue: "/var/log/decnet/decnet.log",
            help: "RFC 5424 event log the sensor and mutator append to."),
        Setting(
            key: "logs.decoy_file", env: "DECNET_DECOY_LOG_FILE", kind: .path, defaultValue: "/var/log/decnet/decoys.log",
            help: "RFC 5424 event log of the decoys."),
        Setting(
            key: "logs.developer", env: "DECNET_DEVELOPER", kind: .bool, defaultValue: "false",
            help: "Debug lines in process logs; API error details."),
        Setting(
            key: "bus.enabled", env: "DECNET_BUS_ENABLED", kind: .bool, defaultValue: "true",
            help: "Publish to and subscribe from the local bus."),
        Setting(
            key: "bus.type", env: "DECNET_BUS_TYPE", kind: .choice(["unix", "fake"]), defaultValue: "unix",
            help: "unix (the broker's socket) or fake (in-process, tests)."),
        Setting(
            key: "bus.socket", env: "DECNET_BUS_SOCKET", kind: .path, defaultValue: nil,
            help: "Broker socket (default /run/decnet/bus.sock when writable, else ~/.decnet/bus.sock)."),
        Setting(
            key: "bus.group", env: "DECNET_BUS_GROUP", kind: .text, defaultValue: "decnet",
            help: "Group that may connect to the broker's socket."),
        Setting(
            key: "deckies.netns_prefix", env: "DECNET_NETNS_PREFIX", kind: .text, defaultValue: nil,
            help: "Prefix of namespace and link names (default: the fleet's, else decnet-)."),
        Setting(
            key: "deckies.artifacts_dir", env: "DECNET_ARTIFACTS_DIR", kind: .path, defaultValue: "/var/lib/decnet/artifacts",
            help: "Where decoys keep uploaded files."),
        Setting(
            key: "deckies.supervisor_restarts", env: "DECNET_SUPERVISOR_RESTARTS", kind: .integer(0...1_000_000), defaultValue: nil,
            help: "Test hook: a decoy shard exits after this many restarts of its supervisor."),
        Setting(
            key: "api.jwt_secret", env: "DECNET_JWT_SECRET", kind: .secret, defaultValue: nil,
            help: ">= 32 characters; default a random secret kept in <db>.jwt-secret (0600)."),
        Setting(
            key: "api.admin_user", env: "DECNET_ADMIN_USER", kind: .text, defaultValue: "admin",
            help: "The first admin's name."),
        Setting(
            key: "api.admin_password", env: "DECNET_ADMIN_PASSWORD", kind: .secret, defaultValue: nil,
            help: "First start only; without it a one-time password is printed once."),
        Setting(
            key: "api.jwt_exp_minutes", env: "DECNET_JWT_EXP_MINUTES", kind: .integer(1...(7 * 24 * 60)), defaultValue: "240",
            help: "Access token lifetime."),
        Setting(
            key: "api.limiter_enabled", env: "DECNET_LIMITER_ENABLED", kind: .bool, defaultValue: "true",
            help: "Login rate limiting."),
        Setting(
            key: "api.login_limit", env: "DECNET_LOGIN_LIMIT", kind: .integer(1...1_000_000), defaultValue: "10",
            help: "Logins per 5 minutes per IP and per username."),
        Setting(
            key: "api.sse_max_per_user", env: "DECNET_SSE_MAX_PER_USER", kind: .integer(1...1000), defaultValue: "5",
            help: "Concurrent event streams per user."),
        Setting(
            key: "api.sse_max_seconds", env: "DECNET_SSE_MAX_SECONDS", kind: .integer(1...86_400), defaultValue: "3600",
            help: "An event stream is closed (and may reconnect) after this long."),
        Setting(
            key: "api.max_connections_per_client", env: "DECNET_MAX_CONNECTIONS_PER_CLIENT", kind: .integer(1...100_000), defaultValue: "64",
            help: "Open connections per client address."),
        Setting(
            key: "api.idle_timeout_seconds", env: "DECNET_IDLE_TIMEOUT_SECONDS", kind: .integer(1...3600), defaultValue: "30",
            help: "Idle connections are closed after this long."),
        Setting(
            key: "api.tls", env: "DECNET_API_TLS", kind: .choice(["off", "auto", "files"]), defaultValue: "off",
            help: "off; auto (self-signed pair made on first start); files (api.tls_cert/api.tls_key)."),
        Setting(
            key: "api.tls_cert", env: "DECNET_API_TLS_CERT", kind: .path, defaultValue: nil,
            help: "PEM certificate chain for HTTPS."),
        Setting(
            key: "api.tls_key", env: "DECNET_API_TLS_KEY", kind: .path, defaultValue: nil,
            help: "PEM private key for HTTPS."),
        Setting(
            key: "client.url", env: "DECNET_API_URL", kind: .text, defaultValue: nil,
            help: "API the CLI talks to (http:// or https://)."),
        Setting(
            key: "client.token", env: "DECNET_API_TOKEN", kind: .secret, defaultValue: nil,
            help: "Bearer token for the CLI (default: the one `decnet login` saved)."),
        Setting(
            key: "client.ca_file", env: "DECNET_CA_FILE", kind: .path, defaultValue: nil,
            help: "PEM CA (or self-signed certificate) the CLI trusts for https."),
        Setting(
            key: "client.config_file", env: "DECNET_CLIENT_CONFIG", kind: .path, defaultValue: nil,
            help: "Where `decnet login` keeps url and token (default ~/.config/decnet/client.json)."),
        Setting(
            key: "export.syslog", env: "DECNET_EXPORT_SYSLOG", kind: .text, defaultValue: nil,
            help: "HOST:PORT of a SIEM: the master exports every event as RFC 5425 syslog over TLS (octet-counted)."),
        Setting(
            key: "export.syslog_ca", env: "DECNET_EXPORT_SYSLOG_CA", kind: .path, defaultValue: nil,
            help: "PEM CA that signs the SIEM's certificate (default: the system trust store)."),
        Setting(
            key: "export.syslog_cert", env: "DECNET_EXPORT_SYSLOG_CERT", kind: .path, defaultValue: nil,
            help: "PEM client certificate for a SIEM that requires mutual TLS (with export.syslog_key)."),
        Setting(
            key: "export.syslog_key", env: "DECNET_EXPORT_SYSLOG_KEY", kind: .path, defaultValue: nil,
            help: "PEM private key of export.syslog_cert."),
        Setting(
            key: "privileges.user", env: "DECNET_USER", kind: .text, defaultValue: "decnet",
            help: "Unprivileged user daemons switch to after setup."),
        Setting(
            key: "privileges.unconfined", env: "DECNET_UNCONFINED", kind: .bool, defaultValue: "false",
            help: "Skip the capability drop, user switch and seccomp (debugging only)."),
        Setting(
            key: "privileges.seccomp_log", env: "DECNET_SECCOMP_LOG", kind: .bool, defaultValue: "false",
            help: "Log instead of kill on a system call outside the allow-list."),
    ]

    /// Text value and where it came from ("default", "decnet.ini:3", "DECNET_X", "flag").
    public private(set) var values: [String: (value: String, origin: String)] = [:]

    public init() {
        for s in Self.settings { if let d = s.defaultValue { values[s.key] = (d, "default") } }
    }

    // MARK: the process-wide copy

    private static let box = ConfigurationBox()
    /// The configuration the running command loaded (defaults + environment until a command loads one).
    public static var current: DecnetConfiguration { box.value }
    public static func install(_ c: DecnetConfiguration) { box.set(c) }

    // MARK: loading

    /// Defaults, then the file (`path`, else DECNET_CONFIG, else /etc/decnet/decnet.ini when present), then the
    /// environment. Throws every problem at once.
    public static func load(
        file path: String? = nil,
        environment: [String: String] = ProcessEnvironment.all
    ) throws(ConfigurationError) -> DecnetConfiguration {
        var c = DecnetConfiguration()
        var problems: [String] = []
        let explicit = path ?? environment["DECNET_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let file = explicit ?? defaultFile
        if let bytes = readConfigFile(file) {
            problems += c.apply(ini: String(decoding: bytes, as: UTF8.self), name: file)
        } else if explicit != nil {
            problems.append("\(file): cannot be read")
        }
        for s in settings {
            guard let v = environment[s.env], !v.isEmpty else { continue }
            if let why = check(v, s.kind) { problems.append("\(s.env): \(why)") } else { c.values[s.key] = (v, s.env) }
        }
        problems += c.conflicts()
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return c
    }

    /// Parses INI text (`[section]`, `key = value`, `#`/`;` comments) into this configuration; returns problems.
    public mutating func apply(ini text: String, name: String) -> [String] {
        var problems: [String] = []
        var section = ""
        var seen: [String: Int] = [:]
        let known = Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.key, $0) })
        let sections = Set(Self.settings.map(\.section))
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let at = "\(name):\(n + 1)"
            let line = raw.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed()
            let l = String(line)
            if l.isEmpty || l.hasPrefix("#") || l.hasPrefix(";") { continue }
            if l.hasPrefix("[") {
                guard l.hasSuffix("]") else { problems.append("\(at): malformed section header \(l.debugDescription)"); continue }
                section = String(l.dropFirst().dropLast()).trimmedSpaces
                if !sections.contains(section) { problems.append("\(at): unknown section [\(section)]") }
                continue
            }
            guard let eq = l.firstIndex(of: "=") else { problems.append("\(at): expected key = value, got \(l.debugDescription)"); continue }
            let k = String(l[..<eq]).trimmedSpaces, v = String(l[l.index(after: eq)...]).trimmedSpaces
            guard !section.isEmpty else { problems.append("\(at): \(k) is outside any [section]"); continue }
            guard sections.contains(section) else { continue }  // already reported
            let key = "\(section).\(k)"
            guard let s = known[key] else { problems.append("\(at): unknown key \(k) in [\(section)]"); continue }
            if let first = seen[key] {
                problems.append("\(at): \(k) in [\(section)] is already set on line \(first)")
                continue
            }
            seen[key] = n + 1
            if let why = Self.check(v, s.kind) { problems.append("\(at): \(k): \(why)"); continue }
            values[key] = (v, at)
        }
        return problems
    }

    /// A flag's value wins over everything else.
    public mutating func set(_ key: String, _ value: String?) {
        guard let value else { return }
        values[key] = (value, "flag")
    }

    static func check(_ v: String, _ kind: SettingKind) -> String? {
        switch kind {
        case .text, .secret: return v.utf8.contains(where: { $0 < 0x20 }) ? "control characters are not allowed" : nil
        case .path:
            return v.hasPrefix("/") || v.hasPrefix("~") || v.hasPrefix(".")
                ? nil : "must be a path (absolute or ./relative), got \(v.debugDescription)"
        case .bool:
            return ["true", "false", "1", "0", "yes", "no"].contains(v.lowercased()) ? nil : "must be true or false, got \(v.debugDescription)"
        case .integer(let r):
            return CheckedInt.parse(v, in: r) == nil ? "must be an integer in \(r.lowerBound)...\(r.upperBound), got \(v.debugDescription)" : nil
        case .choice(let c): return c.contains(v) ? nil : "must be one of \(c.joined(separator: ", ")), got \(v.debugDescription)"
        }
    }

    /// Values that are each fine but cannot go together.
    func conflicts() -> [String] {
        var out: [String] = []
        func origin(_ k: String) -> String { values[k]?.origin ?? "default" }
        let tls = string("api.tls") ?? "off"
        let cert = values["api.tls_cert"], key = values["api.tls_key"]
        if (cert == nil) != (key == nil) {
            out.append("\(origin(cert == nil ? "api.tls_key" : "api.tls_cert")): api.tls_cert and api.tls_key go together")
        }
        if tls == "auto", cert != nil { out.append("\(origin("api.tls_cert")): api.tls_cert conflicts with api.tls = auto (\(origin("api.tls")))") }
        if tls == "files", cert == nil { out.append("\(origin("api.tls")): api.tls = files needs api.tls_cert and api.tls_key") }
        if bool("bus.enabled") == false, values["bus.socket"].map({ $0.origin != "default" }) == true {
            out.append("\(origin("bus.socket")): bus.socket is set but bus.enabled = false (\(origin("bus.enabled")))")
        }
        return out
    }

    // MARK: typed reads

    public func string(_ key: String) -> String? { values[key]?.value }
    public func origin(_ key: String) -> String? { values[key]?.origin }
    public func bool(_ key: String) -> Bool? {
        guard let v = values[key]?.value.lowercased() else { return nil }
        return v == "true" || v == "1" || v == "yes"
    }
    public func int(_ key: String) -> Int? { values[key].flatMap { CheckedInt.parse($0.value, in: Int.min...Int.max) } }

    public var stateDirectory: String { string("state.directory") ?? "/var/lib/decnet" }
    public var databasePath: String { string("store.path") ?? stateDirectory + "/decnet.db" }
    public var ingestLogFile: String { string("logs.ingest_file") ?? "/var/log/decnet/decnet.log" }
    /// Set only when chosen (file, environment or flag), for parts that log there only when asked to.
    public var explicitIngestLogFile: String? { origin("logs.ingest_file") == "default" ? nil : string("logs.ingest_file") }
    public var decoyLogFile: String { string("logs.decoy_file") ?? "/var/log/decnet/decoys.log" }
    public var developer: Bool { bool("logs.developer") ?? false }
    public var busEnabled: Bool { bool("bus.enabled") ?? true }
    public var busType: String { string("bus.type") ?? "unix" }
    public var busGroup: String { string("bus.group") ?? "decnet" }
    /// spec §1.1: the configured socket verbatim; else /run/decnet/bus.sock when /run/decnet is writable;
    /// else ~/.decnet/bus.sock.
    public var busSocket: String {
        if let p = string("bus.socket") { return p }
        if access("/run/decnet", W_OK) == 0 { return "/run/decnet/bus.sock" }
        return (ProcessEnvironment.home ?? "/root") + "/.decnet/bus.sock"
    }
    public var netnsPrefix: String? { string("deckies.netns_prefix") }
    public var artifactsDirectory: String { string("deckies.artifacts_dir") ?? "/var/lib/decnet/artifacts" }
    public var supervisorRestartLimit: Int? { int("deckies.supervisor_restarts") }
    public var serviceUser: String { string("privileges.user") ?? "decnet" }
    public var unconfined: Bool { bool("privileges.unconfined") ?? false }
    public var seccompLogOnly: Bool { bool("privileges.seccomp_log") ?? false }
    public var clientURL: String? { string("client.url") }
    public var clientToken: String? { string("client.token") }
    public var clientCAFile: String? { string("client.ca_file") }
    public var clientConfigFile: String {
        string("client.config_file") ?? (ProcessEnvironment.home ?? "/root") + "/.config/decnet/client.json"
    }

    /// The README's table: one row per setting.
    public static func markdownTable() -> String {
        var out = "| `[section] key` | environment | type | default | meaning |\n|---|---|---|---|---|\n"
        for s in settings {
            out += "| `[\(s.section)] \(s.name)` | `\(s.env)` | \(s.kind.describe) | \(s.defaultValue.map { "`\($0)`" } ?? "—") | \(s.help) |\n"
        }
        return out
    }
}

private extension String {
    var trimmedSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

private func readConfigFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while out.count <= 1 << 20 {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { return out }
        out += buf[0..<n]
    }
    return nil  // over 1 MiB: not a configuration file
}

private final class ConfigurationBox: Sendable {
    private let stored = NIOLockedValueBox<DecnetConfiguration?>(nil)
    var value: DecnetConfiguration {
        stored.withLockedValue { s in
            if let s { return s }
            let c = (try? DecnetConfiguration.load()) ?? DecnetConfiguration()
            s = c
            return c
        }
    }
    func set(_ c: DecnetConfiguration) { stored.withLockedValue { $0 = c } }
}

/// The process environment that is not configuration: who we are, where home is, the supervisor's markers
/// for its children, and the environment handed to programs we start.
public enum ProcessEnvironment {
    public static var all: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let e = p.pointee {
            let s = String(cString: e)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
    public static func value(_ name: String) -> String? {
        guard let p = getenv(name), p.pointee != 0 else { return nil }
        return String(cString: p)
    }
    public static var home: String? { value("HOME") }
    public static var user: String? { value("USER") }
    /// The C environment block, for posix_spawn.
    public static var block: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> { environ }
}
