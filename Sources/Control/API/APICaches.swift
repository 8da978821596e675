// APICaches.swift: the per-process TTL caches of spec §10.4 (concurrent callers of a missing or stale key
// collapse onto one load), single-use SSE tickets, and the login rate limiter.
import Appliance
import Fingerprint
import CPacket
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
    var b = [UInt8](repeating: 0, count: n)
    let rc = b.withUnsafeMutableBytes { cp_random_bytes($0.baseAddress, n) }
    precondition(rc == 0, "the system random source failed")
    return b
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
