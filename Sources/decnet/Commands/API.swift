// API.swift: `decnet api`: the REST API and dashboard (Control), on the store and (when running) the bus.
import Appliance
import ArgumentParser
import Control
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

struct APICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the REST API (/api/v1, /openapi.json) and the dashboard.",
        discussion: """
        Environment: DECNET_JWT_SECRET (>= 32 chars; default: a random secret kept in <db>.jwt-secret, mode 0600),
        DECNET_ADMIN_USER (admin), DECNET_ADMIN_PASSWORD (first start only; without it a one-time password is
        printed once on stderr), DECNET_JWT_EXP_MINUTES (240), DECNET_LIMITER_ENABLED (true),
        DECNET_LOGIN_LIMIT (10 logins per 5 minutes per IP and per username), DECNET_SSE_MAX_PER_USER (5),
        DECNET_DEVELOPER (false).
        """)

    @Option(name: .long, help: "HOST:PORT to listen on (port 0 picks a free one).")
    var bind: String = "127.0.0.1:8000"

    @Option(name: .long, help: "Event store (default $DECNET_DB_PATH or /var/lib/decnet/decnet.db).")
    var db: String?

    @Option(name: .long, help: "Write the bound port to this file once listening (tests, supervisors).")
    var portFile: String?

    @Option(name: .long, help: "HTTPS: off, auto (a self-signed pair made on first start beside the store) or files (--tls-cert/--tls-key; implied by them).")
    var tls: String?

    @Option(name: .long, help: "PEM certificate chain for HTTPS.")
    var tlsCert: String?

    @Option(name: .long, help: "PEM private key for HTTPS.")
    var tlsKey: String?

    @Flag(name: .long, help: "Print the OpenAPI document and exit.")
    var printOpenapi = false

    @Option(name: .long, help: "Fleet CA directory when this box is the swarm master (made when named and absent; default <state.directory>/swarm when it exists).")
    var swarmCaDir: String?

    // The root command stays synchronous: daemons block SIGTERM/SIGINT before any thread exists (an async
    // root would start the concurrency runtime's threads first and a TERM could kill them unhandled).
    func run() throws {
        if printOpenapi { print(APIServer.openAPIJSON()); return }
        ProcessLimits.raiseDescriptorLimit()
        // Before any thread exists (capabilities are per thread): the API needs no privilege at all. The files
        // it keeps using become the service user's first (the fleet lock is made now, as root).
        let path = db ?? defaultDatabasePath()
        makeParentDirectory(path)
        let lock = path + ".fleet.lock"
        let lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o660)
        if lfd >= 0 { close(lfd) }
        // Certificate files are read (and an auto pair made) while still privileged; the key stays in memory.
        let host = bind.lastIndex(of: ":").map { String(bind[..<$0]).trimmingCharacters(in: ["[", "]"]) } ?? bind
        let tlsConfig = try tlsConfiguration(dbPath: path, host: host)
        // The fleet CA is read while still privileged (its directory is 0700); the keys stay in memory.
        let swarmDefault = DecnetConfiguration.current.stateDirectory + "/swarm"
        let authority: SwarmAuthority?
        do {
            if let dir = swarmCaDir { authority = try SwarmAuthority.loadOrCreate(directory: dir, names: []) }
            else if access(swarmDefault + "/ca.crt", F_OK) == 0 { authority = try SwarmAuthority.loadOrCreate(directory: swarmDefault, names: []) }
            else { authority = nil }
        } catch {
            stderrLine("decnet api: fleet CA: \(error)")
            throw ExitCode(73)
        }
        confineOrExit(.api, shared: [path, lock, path + ".jwt-secret"] + (DecnetConfiguration.current.explicitIngestLogFile.map { [$0] } ?? []), "api")
        let command = self
        try runBlocking { try await command.serve(tls: tlsConfig?.0, swarm: authority) }
    }

    func serve(tls tlsConfig: TLSConfiguration?, swarm: SwarmAuthority?) async throws {
        guard let colon = bind.lastIndex(of: ":"), let port = CheckedInt.parse(bind[bind.index(after: colon)...], in: 0...65535) else {
            stderrLine("decnet api: --bind must be HOST:PORT, got \(bind.debugDescription)")
            throw ExitCode(64)
        }
        let host = String(bind[..<colon]).trimmingCharacters(in: ["[", "]"])
        let path = db ?? defaultDatabasePath()
        makeParentDirectory(path)
        let store = try openStore(path)
        var config = APIConfiguration(jwtSecret: try jwtSecret(dbPath: path), fleetLockPath: path + ".fleet.lock")
        // Numbers were checked (digits, bounds) when the configuration loaded.
        let settings = DecnetConfiguration.current
        if let v = settings.int("api.jwt_exp_minutes") { config.tokenMinutes = v }
        if let v = settings.int("api.sse_max_per_user") { config.sseMaxPerUser = v }
        if let v = settings.int("api.sse_max_seconds") { config.sseMaxSeconds = v }
        if let v = settings.int("api.max_connections_per_client") { config.maxConnectionsPerClient = v }
        if let v = settings.int("api.idle_timeout_seconds") { config.idleTimeoutSeconds = v }
        config.limiterEnabled = settings.bool("api.limiter_enabled") ?? true
        if let v = settings.int("api.login_limit") { config.loginLimit = v }
        config.developer = settings.developer
        if let p = settings.netnsPrefix { config.netnsPrefix = p }
        config.mutationLogPath = settings.explicitIngestLogFile
        config.swarmAuthority = swarm
        if !config.limiterEnabled { stderrLine("decnet api: WARNING: rate limiting is disabled (DECNET_LIMITER_ENABLED=false)") }

        var bus: (any Bus)? = nil
        if let b = try? makeBus(clientName: "api"), !(b is NullBus) {
            bus = b
            if let u = b as? UnixSocketBus { try? await u.connect() }
        }
        let api: APIServices
        do {
            api = try APIServices(store: store, config: config, registry: WorkerRegistry(), bus: bus)
        } catch {
            stderrLine("decnet api: DECNET_JWT_SECRET must be at least 32 characters and not a known default")
            throw ExitCode(64)
        }
        let adminPassword = env("api.admin_password")
        if let p = adminPassword {
            do { try Passwords.checkNew(p) } catch {
                stderrLine("decnet api: DECNET_ADMIN_PASSWORD: \(error) (12 to 72 printable ASCII characters)")
                throw ExitCode(64)
            }
        }
        let adminUser = env("api.admin_user") ?? "admin"
        do {
            if let generated = try api.bootstrapAdmin(username: adminUser, password: adminPassword) {
                stderrLine("decnet api: created user '\(adminUser)' (admin) with one-time password: \(generated)")
                stderrLine("decnet api: it is shown only now; you must change it at first login")
            }
        } catch {
            stderrLine("decnet api: cannot create the first admin: \(error)")
            throw ExitCode(70)
        }
        let portFile = self.portFile
        stderrLine("decnet api: listening on \(tlsConfig == nil ? "http" : "https")://\(bind) (db \(path))")
        try await APIServer.run(api, host: host, port: port, tls: tlsConfig) { bound in
            if let portFile { _ = writeWholeFile(portFile, Array("\(bound)\n".utf8)) }
            StartupNotes.shared.flush(to: ProcessLog("api"))
        }
    }

    func env(_ key: String) -> String? { DecnetConfiguration.current.string(key) }

    /// HTTPS from flags over the configuration: files when given, a self-signed pair with `auto`, else none.
    func tlsConfiguration(dbPath: String, host: String) throws -> (TLSConfiguration, String)? {
        var settings = DecnetConfiguration.current
        settings.set("api.tls", tls)
        settings.set("api.tls_cert", tlsCert)
        settings.set("api.tls_key", tlsKey)
        if tlsCert != nil || tlsKey != nil, tls == nil { settings.set("api.tls", "files") }
        let mode = settings.string("api.tls") ?? "off"
        guard ["off", "auto", "files"].contains(mode) else {
            stderrLine("decnet api: --tls must be off, auto or files, got \(mode.debugDescription)")
            throw ExitCode(64)
        }
        var cert = settings.string("api.tls_cert"), key = settings.string("api.tls_key")
        if mode == "off" {
            if cert != nil || key != nil { stderrLine("decnet api: --tls off conflicts with --tls-cert/--tls-key"); throw ExitCode(64) }
            return nil
        }
        if mode == "auto" {
            if tlsCert != nil || tlsKey != nil { stderrLine("decnet api: --tls auto makes its own pair; drop --tls-cert/--tls-key"); throw ExitCode(64) }
            let dir = (dbPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
            do {
                let made = try APITLS.ensureSelfSigned(directory: dir.isEmpty ? "." : dir, extraNames: [host])
                (cert, key) = (made.certificate, made.key)
                stderrLine("decnet api: self-signed certificate \(made.certificate) (pin it with `decnet login --ca-file \(made.certificate)`)")
            } catch {
                stderrLine("decnet api: \(error)")
                throw ExitCode(73)
            }
        }
        guard let cert, let key else { stderrLine("decnet api: --tls files needs --tls-cert and --tls-key"); throw ExitCode(64) }
        do { return (try APITLS.serverConfiguration(certificate: cert, key: key), cert) } catch {
            stderrLine("decnet api: \(error)")
            throw ExitCode(66)
        }
    }

    /// DECNET_JWT_SECRET, else the secret in `<db>.jwt-secret` (created once, 0600, 48 random bytes).
    func jwtSecret(dbPath: String) throws -> String {
        if let s = env("api.jwt_secret") { return s }
        let file = dbPath + ".jwt-secret"
        if let b = readFile(file, limit: 4096) {
            let s = String(decoding: b, as: UTF8.self).trimmingCharacters(in: [" ", "\n"])
            if s.utf8.count >= 32 { return s }
        }
        let s = Base64URL.encode(randomSecretBytes(48))
        guard writeWholeFile(file, Array((s + "\n").utf8), mode: 0o600) else {
            stderrLine("decnet api: cannot write \(file); set DECNET_JWT_SECRET")
            throw ExitCode(73)
        }
        return s
    }
}

/// Runs async work from a synchronous command and waits for it (the main thread parks on a condition).
func runBlocking(_ body: sending @escaping () async throws -> Void) throws {
    final class Box: @unchecked Sendable { var result: Result<Void, any Error>? }
    let done = ConditionMutex()
    let box = Box()
    Task {
        let r: Result<Void, any Error>
        do { try await body(); r = .success(()) } catch { r = .failure(error) }
        done.withLock { box.result = r; done.signal() }
    }
    done.withLock { while box.result == nil { done.wait(seconds: 3600) } }
    try box.result!.get()
}

/// Confines this daemon (Confinement.apply) or ends it: a daemon that cannot drop what it should not keep
/// does not run.
func confineOrExit(_ role: DaemonRole, shared: [String] = [], _ name: String) {
    do {
        try Confinement.apply(role, shared: shared)
    } catch {
        stderrLine("decnet \(name): cannot drop privileges: \(error)")
        exit(71)
    }
}
