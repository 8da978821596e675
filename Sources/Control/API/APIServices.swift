// APIServices.swift: what every handler shares: the store, the token signer, the caches of spec §10.4, the
// SSE tickets, the rate limiters, the worker registry and the bus.
import Appliance
import Fingerprint
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

public struct APIConfiguration: Sendable {
    public var jwtSecret: String
    public var tokenMinutes: Int = 240
    public var limiterEnabled: Bool = true
    /// Logins per 5 minutes, per client IP and per username (spec §10.1: 10).
    public var loginLimit: Int = 10
    public var sseMaxPerUser: Int = 5
    /// A stream ends after this many seconds (EventSource reconnects; the slot and the session are re-checked).
    public var sseMaxSeconds: Int = 3600
    /// Concurrent connections one client address may hold (IPv6 by /64).
    public var maxConnectionsPerClient: Int = 128
    /// Seconds a connection may sit without a complete request (header timeout and idle timeout in one).
    public var idleTimeoutSeconds: Int = 15
    /// Developer mode (`DECNET_DEVELOPER=true`): /config/reinit works.
    public var developer: Bool = false
    /// Lock file of the decky fleet (deploy/teardown from the API share the CLI's lock).
    public var fleetLockPath: String
    public var netnsPrefix: String = "decnet-"
    /// Where mutations made through the API log their RFC 5424 `decky_mutated` line (nil: store + bus only).
    public var mutationLogPath: String? = nil
    /// The fleet CA when this API runs on the swarm master (tokens, decommission, dispatch need it).
    public var swarmAuthority: SwarmAuthority? = nil

    public init(jwtSecret: String, fleetLockPath: String) {
        self.jwtSecret = jwtSecret
        self.fleetLockPath = fleetLockPath
    }
}

public final class APIServices: Sendable {
    public let store: any DecnetStore
    public let config: APIConfiguration
    let swarm: SwarmOperations
    let signer: TokenSigner
    let tickets = TicketBook()
    let registry: WorkerRegistry
    let bus: (any Bus)?
    let log = ProcessLog("api")

    // spec §10.4
    let statsCache = CoalescingCache<JSONValue>(ttl: 5)
    let logTotalCache = CoalescingCache<Int>(ttl: 2)
    let attackerTotalCache = CoalescingCache<Int>(ttl: 2)
    let bountyCache = CoalescingCache<Page>(ttl: 5)
    let credentialCache = CoalescingCache<Page>(ttl: 5)
    let histogramCache = CoalescingCache<[JSONValue]>(ttl: 5)
    let deckyCache = CoalescingCache<JSONValue>(ttl: 5)
    let configCache = CoalescingCache<JSONValue>(ttl: 5)
    let userCache = CoalescingCache<UserRecord?>(ttl: 10)
    let loginUserCache = CoalescingCache<UserRecord?>(ttl: 5)
    let revokedCache = CoalescingCache<Bool>(ttl: 10)
    let dbProbeCache = CoalescingCache<Bool>(ttl: 1)

    // spec §10.1 rate limits
    let login: LoginLimiter
    let changePassword: RateLimiter
    let sseOpen = NIOLockedValueBox<[String: Int]>([:])
    let startedAt = monotonicSeconds()

    public init(store: any DecnetStore, config: APIConfiguration, registry: WorkerRegistry, bus: (any Bus)?) throws {
        self.store = store
        self.config = config
        self.signer = try TokenSigner(secret: config.jwtSecret)
        self.registry = registry
        self.bus = bus
        swarm = SwarmOperations(store: store, authority: config.swarmAuthority)
        login = LoginLimiter(limit: config.loginLimit, window: 300, enabled: config.limiterEnabled)
        changePassword = RateLimiter(limit: 5, window: 60, enabled: config.limiterEnabled)
    }

    /// Runs blocking work (bcrypt at cost 12 takes ~0.25 s) off the async executor.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    static func peerKey(_ address: SocketAddress) -> String { address.ipAddress ?? "unknown" }

    // MARK: users and tokens

    func user(uuid: String) async throws -> UserRecord? {
        try await userCache.get(uuid) { [store] in try store.user(uuid: uuid) }
    }

    func invalidateUser(_ uuid: String) {
        userCache.invalidate(uuid)
        loginUserCache.invalidate()
        configCache.invalidate()
    }

    /// Verifies an access token all the way (spec §10.2): signature and claims, then `revalidate`.
    func authenticate(token: String) async throws -> Identity {
        let now = Int(wallClockSeconds())
        guard let claims = try? signer.verify(token, now: now) else { throw APIError.unauthenticated }
        return try await revalidate(Identity(uuid: claims.uuid, username: "", role: .viewer, mustChangePassword: false,
                                             jti: claims.jti, expires: claims.expires, issuedAt: claims.issuedAt))
    }

    /// The checks that can change after a token was signed, run at authentication and again every few
    /// seconds by live streams: the user still exists (role and must-change from the store, not the token),
    /// the token is not older than the user's `tokens_valid_from` (password change, role change, reset), its
    /// jti is not revoked (logout), it has not expired. An identity without jti/iat/exp is refused.
    func revalidate(_ id: Identity) async throws -> Identity {
        guard let jti = id.jti, let iat = id.issuedAt, let exp = id.expires else { throw APIError.unauthenticated }
        guard Double(exp) > wallClockSeconds() else { throw APIError.unauthenticated }
        guard let user = try await user(uuid: id.uuid) else { throw APIError.unauthenticated }
        if let from = user.tokensValidFrom, iat < from { throw APIError.unauthenticated }
        let revoked = try await revokedCache.get(jti) { [store] in try store.isRevoked(jti: jti) }
        if revoked { throw APIError.unauthenticated }
        return Identity(uuid: user.uuid, username: user.username, role: Role(rawValue: user.role) ?? .viewer,
                        mustChangePassword: user.mustChangePassword, jti: jti, expires: exp, issuedAt: iat)
    }

    func issueToken(for user: UserRecord) -> String {
        // iat in milliseconds, never earlier than the user's tokens_valid_from (clock steps within a request).
        let now = max((wallClockSeconds() * 1000).rounded(.up) / 1000, user.tokensValidFrom ?? 0)
        return signer.sign(AccessClaims(uuid: user.uuid, jti: Hex.bytes(randomBytes(16)), issuedAt: now,
                                        expires: Int(now) + config.tokenMinutes * 60))
    }

    /// First start: the admin account. `DECNET_ADMIN_PASSWORD` if given (re-synced while the account still
    /// must change its password), else a generated one printed once on stderr. Returns that generated
    /// password (nil when none was generated).
    public func bootstrapAdmin(username: String, password: String?) throws -> String? {
        if let existing = try store.user(username: username) {
            if let password, existing.mustChangePassword, !Passwords.verify(password, hash: existing.passwordHash) {
                var u = existing
                u.passwordHash = try Passwords.hash(password)
                try store.updateUser(u)
            }
            return nil
        }
        guard try store.users().isEmpty else { return nil }
        let generated = password == nil ? Base64URL.encode(randomBytes(18)) : nil
        let pw = password ?? generated!
        try store.insertUser(UserRecord(uuid: newSessionID(), username: username, passwordHash: try Passwords.hash(pw),
                                        role: "admin", mustChangePassword: true))
        return generated
    }

    // MARK: streams

    /// A held SSE slot. The slot is given back when the last reference goes: the stream body ending,
    /// the response being dropped before its body ran (a client that resets at once), or an error on the
    /// way; no path can leak it.
    final class StreamSlot: Sendable {
        let release: @Sendable () -> Void
        init(release: @escaping @Sendable () -> Void) { self.release = release }
        deinit { release() }
    }

    func openStream(_ user: String) -> StreamSlot? {
        let ok = sseOpen.withLockedValue { d in
            let n = d[user, default: 0]
            guard n < config.sseMaxPerUser else { return false }
            d[user] = n + 1
            return true
        }
        guard ok else { return nil }
        return StreamSlot { [sseOpen] in
            sseOpen.withLockedValue { d in
                let n = d[user, default: 1] - 1
                d[user] = n > 0 ? n : nil
            }
        }
    }

    /// Open slots of a user (tests, health).
    func openStreams(_ user: String) -> Int { sseOpen.withLockedValue { $0[user, default: 0] } }
}
