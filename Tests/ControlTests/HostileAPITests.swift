// HostileAPITests.swift: regression tests for issue 16's API findings that need no server (the live ones are
// Tests/API/hostile_api.py): a signed token with exp >= 2^63 trapped; integer query parameters went through
// Double and trapped converting back.
@testable import Appliance
@testable import Control
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct HostileAPITests {
    @Test func hugeNumericDatesAreMalformedNotATrap() throws {
        let s = try TokenSigner(secret: String(repeating: "k", count: 40))
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        for (exp, iat) in [("9223372036854775808", "1"), ("1e300", "1"), ("4102444800", "1e300"), ("-1", "1"), ("4102444800", "-5")] {
            let payload = Base64URL.encode(Array(#"{"uuid":"u","jti":"j","iat":\#(iat),"exp":\#(exp),"iss":"decnet","aud":"decnet-dashboard","typ":"access"}"#.utf8))
            let input = header + "." + payload
            let token = input + "." + Base64URL.encode(s.mac(input.utf8))
            #expect(throws: TokenError.self, "exp \(exp) iat \(iat)") { try s.verify(token, now: 1000) }
        }
    }

    @Test func integerParametersNeverPassThroughDouble() throws {
        let p = Param("lastEventId", .integer(min: 0, max: APIRoutes.maxID))
        #expect(try RouteDispatch.parseInteger("42", p, name: "q") == 42)
        for bad in ["9223372036854775807", "99999999999999999999", "+1", "-1", "1.0", "1e3", " 1", "0x10"] {
            #expect(throws: APIError.self, "\(bad)") { try RouteDispatch.parseInteger(bad, p, name: "q") }
        }
        let offset = APIRoutes.offset
        #expect(try RouteDispatch.parseInteger("1000000000", offset, name: "q") == 1_000_000_000)
        #expect(throws: APIError.self) { try RouteDispatch.parseInteger("1000000001", offset, name: "q") }
        // Every integer query parameter of the table has a maximum (schemathesis can send any Int otherwise).
        for r in APIRoutes.all { for q in r.query { if case .integer(_, let hi) = q.schema { #expect(hi != nil, "\(r.path) \(q.name)") } } }
    }

    @Test func streamSlotsComeBackOnEveryPath() throws {
        let api = try APIServices.forTests()
        var slots: [APIServices.StreamSlot] = []
        for _ in 0..<api.config.sseMaxPerUser { slots.append(try #require(api.openStream("u"))) }
        #expect(api.openStream("u") == nil, "limit reached")
        slots.removeLast()
        #expect(api.openStreams("u") == api.config.sseMaxPerUser - 1, "a dropped slot (reset before the body ran) is released")
        do { let again = api.openStream("u"); #expect(again != nil) }
        slots.removeAll()
        #expect(api.openStreams("u") == 0)
    }
}

extension APIServices {
    /// An API over a fresh store in a temporary directory (no bus).
    static func forTests(_ tweak: (inout APIConfiguration) -> Void = { _ in }) throws -> APIServices {
        let dir = "/tmp/decnet-apitest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        makeDirectories(dir)
        let store = try SQLiteStore(path: dir + "/t.db")
        var cfg = APIConfiguration(jwtSecret: String(repeating: "s", count: 40), fleetLockPath: dir + "/fleet.lock")
        tweak(&cfg)
        return try APIServices(store: store, config: cfg, registry: WorkerRegistry(), bus: nil)
    }
}

@Suite struct LoginLimiterTests {
    /// Anyone could keep `admin` locked out for everyone (10 failures per 5 minutes per username), and the per-IP
    /// bucket keyed the full IPv6 /128.
    @Test func theOwnerIsNeverLockedOutByAnotherSource() {
        let l = LoginLimiter(limit: 3, window: 300)
        for _ in 0..<3 { #expect(l.allow(source: "203.0.113.9", username: "admin", now: 1000)); l.recordFailure(source: "203.0.113.9", username: "admin", now: 1000) }
        #expect(!l.allow(source: "203.0.113.9", username: "admin", now: 1001), "the attacking source is limited")
        #expect(l.allow(source: "198.51.100.1", username: "admin", now: 1001), "a source that has not failed still gets through")
        l.recordFailure(source: "198.51.100.1", username: "admin", now: 1001)
        #expect(!l.allow(source: "198.51.100.1", username: "admin", now: 1002), "once it fails while the account is under attack, it waits too")
        #expect(l.allow(source: "198.51.100.1", username: "admin", now: 1400), "a new window")
    }

    @Test func ipv6SourcesAreBucketedBySlash64() {
        #expect(LoginLimiter.sourceKey("2001:db8:1:2::1") == LoginLimiter.sourceKey("2001:db8:1:2:ffff:eeee:dddd:cccc"))
        #expect(LoginLimiter.sourceKey("2001:db8:1:2::1") != LoginLimiter.sourceKey("2001:db8:1:3::1"))
        #expect(LoginLimiter.sourceKey("::ffff:192.0.2.7") == "192.0.2.7" && LoginLimiter.sourceKey("192.0.2.7") == "192.0.2.7")
        let l = LoginLimiter(limit: 2, window: 300)
        #expect(l.allow(source: "2001:db8::1", username: "a", now: 1) && l.allow(source: "2001:db8::2", username: "b", now: 1))
        #expect(!l.allow(source: "2001:db8::3", username: "c", now: 1), "one /64 is one source")
    }
}
