// APICaches.swift: the per-process TTL caches of spec §10.4 (concurrent callers of a missing or stale key
// collapse onto one load), single-use SSE tickets, and the login rate limiter.
import Appliance
import Fingerprint
import NIOConcurrencyHelpers

/// A TTL cache whose misses coalesce: while one caller loads a key, every other caller of that key awaits
/// the same load instead of hitting the database again. Failures are not cached.
final class CoalescingCache<Value: Sendable>: Sendable {
    private enum Entry { case ready(Value, until: Double); case loading(Task<Value, any Error>) }
    private let ttl: Double
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(ttl: Double) { self.ttl = ttl }

    func get(_ key: String, load: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let now = monotonicSeconds()
        let task: Task<Value, any Error> = entries.withLockedValue { e in
            switch e[key] {
            case .ready(let v, let until)? where until > now:
                return Task { v }
            case .loading(let t)?:
                return t
            default:
                let t = Task { try await load() }
                e[key] = .loading(t)
                return t
            }
        }
        do {
            let v = try await task.value
            entries.withLockedValue { e in
                if case .loading? = e[key] { e[key] = .ready(v, until: monotonicSeconds() + ttl) }
            }
            return v
        } catch {
            entries.withLockedValue { e in if case .loading? = e[key] { e[key] = nil } }
            throw error
        }
    }

    func invalidate(_ key: String? = nil) {
        entries.withLockedValue { e in if let key { e[key] = nil } else { e.removeAll() } }
    }
}

func randomBytes(_ n: Int) -> [UInt8] {
    // SystemRandomNumberGenerator is getrandom(2) on Linux: cryptographically secure, never short.
    var rng = SystemRandomNumberGenerator()
    return (0..<n).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
}

/// Single-use SSE tickets (spec §10.2): 32 random bytes, url-safe, 60 s, bound to the session (token) that
/// minted them; popped on redeem even when expired.
final class TicketBook: Sendable {
    static let lifetime = 60.0
    private let tickets = NIOLockedValueBox<[String: (Identity, Double)]>([:])

    func issue(for identity: Identity) -> String {
        let t = Base64URL.encode(randomBytes(32))
        let now = monotonicSeconds()
        tickets.withLockedValue { d in
            if d.count > 1000 { d = d.filter { $0.value.1 > now } }
            // The ticket keeps the minting token's jti/iat/exp: redeeming re-checks them (a ticket
            // minted before logout or a password change does not redeem).
            d[t] = (identity, now + TicketBook.lifetime)
        }
        return t
    }

    func redeem(_ ticket: String) -> Identity? {
        guard let (id, until) = tickets.withLockedValue({ $0.removeValue(forKey: ticket) }) else { return nil }
        return until > monotonicSeconds() ? id : nil
    }
}

/// A fixed-window limiter: at most `limit` hits per `window` seconds per key.
final class RateLimiter: Sendable {
    let limit: Int
    let window: Double
    let enabled: Bool
    private let hits = NIOLockedValueBox<[String: (start: Double, count: Int)]>([:])

    init(limit: Int, window: Double, enabled: Bool = true) {
        self.limit = limit
        self.window = window
        self.enabled = enabled
    }

    /// True when `key` already used its `limit` hits in the current window (does not count a hit).
    func isOver(_ key: String, now: Double = monotonicSeconds()) -> Bool {
        guard enabled else { return false }
        return hits.withLockedValue { h in
            guard let e = h[key], now - e.start < window else { return false }
            return e.count >= limit
        }
    }

    /// Counts one hit; false when the key is over its limit in the current window.
    func allow(_ key: String, now: Double = monotonicSeconds()) -> Bool {
        guard enabled else { return true }
        return hits.withLockedValue { h in
            if h.count > 10_000 { h = h.filter { now - $0.value.start < window } }
            var e = h[key] ?? (now, 0)
            if now - e.start >= window { e = (now, 0) }
            e.count += 1
            h[key] = e
            return e.count <= limit
        }
    }
}

/// Random bytes from the system source, for secrets the executable creates (the JWT key file).
public func randomSecretBytes(_ n: Int) -> [UInt8] { randomBytes(n) }

/// The login limiter (spec §10.1's 10 per 5 minutes) built so that it cannot be turned against the owner:
/// - per source: every attempt counts; IPv4 by address, IPv6 by /64 (one host owns a whole /64);
/// - per username: only failures count, and a username over its limit refuses only the sources that have
///   failed for it in the window. Anyone can still slow themselves down, nobody can lock `admin` out for
///   everyone: the owner, from a source that has not failed, gets through with the right password.
final class LoginLimiter: Sendable {
    let perSource: RateLimiter
    let failuresPerUser: RateLimiter
    let limit: Int
    let window: Double
    let enabled: Bool
    /// (username, source) pairs that failed in the current window, with the time of their last failure.
    private let failedPairs = NIOLockedValueBox<[String: Double]>([:])

    init(limit: Int, window: Double = 300, enabled: Bool = true) {
        self.limit = limit
        self.window = window
        self.enabled = enabled
        perSource = RateLimiter(limit: limit, window: window, enabled: enabled)
        failuresPerUser = RateLimiter(limit: limit, window: window, enabled: enabled)
    }

    /// The bucket of a client address: IPv4 as is, IPv6 by its /64, IPv4-mapped IPv6 as the IPv4.
    static func sourceKey(_ ip: String) -> String {
        guard let a = IPAddress(parsing: ip) else { return ip }
        let b = a.bytes
        if a.version == 6 {
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return b[12..<16].map { String($0) }.joined(separator: ".") }
            return Hex.bytes(Array(b[0..<8])) + "::/64"
        }
        return a.description
    }

    /// Whether this attempt may be checked. Counts the attempt against the source.
    func allow(source: String, username: String, now: Double = monotonicSeconds()) -> Bool {
        guard enabled else { return true }
        let src = LoginLimiter.sourceKey(source)
        guard perSource.allow("ip:" + src, now: now) else { return false }
        guard failuresPerUser.isOver("user:" + username, now: now) else { return true }
        // The account is under attack: only sources with no failure for it in this window may try.
        return failedPairs.withLockedValue { d in
            guard let t = d[username + "\u{0}" + src] else { return true }
            return now - t >= window
        }
    }

    func recordFailure(source: String, username: String, now: Double = monotonicSeconds()) {
        guard enabled else { return }
        let src = LoginLimiter.sourceKey(source)
        _ = failuresPerUser.allow("user:" + username, now: now)
        failedPairs.withLockedValue { d in
            if d.count > 10_000 { d = d.filter { now - $0.value < window } }
            d[username + "\u{0}" + src] = now
        }
    }
}
