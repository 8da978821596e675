// AuthTests.swift: bcrypt through libxcrypt (cost, 72-byte limit, wrong password), HS256 access tokens
// (round trip, tampering, alg confusion, expiry, claims), and the users / revoked-token tables.
@testable import Appliance
@testable import Control
import Foundation
import Testing

@Suite struct AuthTests {
    @Test func bcryptHashesAndVerifies() throws {
        let h = try Passwords.hash("correct horse battery", cost: 4)     // low cost keeps the test quick
        #expect(h.hasPrefix("$2b$04$") && h.count == 60)
        #expect(Passwords.verify("correct horse battery", hash: h))
        #expect(!Passwords.verify("correct horse batterx", hash: h))
        #expect(!Passwords.verify("x", hash: "not-a-hash"))
        #expect(try Passwords.hash("same", cost: 4) != Passwords.hash("same", cost: 4), "salted")
        #expect(throws: PasswordError.tooLong) { try Passwords.hash(String(repeating: "a", count: 73)) }
        #expect(throws: PasswordError.tooShort(12)) { try Passwords.checkNew("short") }
        #expect(!Passwords.verify(String(repeating: "a", count: 73), hash: h))
        let twelve = try Passwords.hash("twelve-chars", cost: 12)
        #expect(twelve.hasPrefix("$2b$12$"))
    }

    @Test func accessTokensRoundTripAndRefuseTampering() throws {
        let s = try TokenSigner(secret: String(repeating: "k", count: 40))
        let c = AccessClaims(uuid: "u-1", jti: "abc123", issuedAt: 1000, expires: 1000 + 240 * 60)
        let t = s.sign(c)
        #expect(try s.verify(t, now: 1001) == c)
        #expect(throws: TokenError.expired) { try s.verify(t, now: c.expires) }
        // A flipped payload byte, another key, alg none, garbage.
        var parts = t.split(separator: ".").map(String.init)
        let forged = Base64URL.encode(Array(#"{"uuid":"admin","jti":"x","iat":1,"exp":99999999999,"iss":"decnet","aud":"decnet-dashboard","typ":"access"}"#.utf8))
        #expect(throws: TokenError.badSignature) { try s.verify([parts[0], forged, parts[2]].joined(separator: "."), now: 1001) }
        let other = try TokenSigner(secret: String(repeating: "z", count: 40))
        #expect(throws: TokenError.badSignature) { try other.verify(t, now: 1001) }
        parts[0] = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        #expect(throws: TokenError.unsupportedAlgorithm) { try s.verify(parts.joined(separator: "."), now: 1001) }
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**", String(repeating: "A", count: 5000)] {
            #expect(throws: TokenError.self) { try s.verify(junk, now: 1001) }
        }
        #expect(throws: TokenError.self) { try TokenSigner(secret: "secret") }
        #expect(Base64URL.decode(Base64URL.encode([0xfb, 0xff, 0x01])) == [0xfb, 0xff, 0x01])
    }

    @Test func usersAndRevokedTokensPersist() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("s.db").path)
        let u = UserRecord(uuid: "u-1", username: "admin", passwordHash: try Passwords.hash("admin-password-1", cost: 4), role: "admin", mustChangePassword: true)
        try store.insertUser(u)
        #expect(throws: UserStoreError.duplicateUsername) { try store.insertUser(UserRecord(uuid: "u-2", username: "admin", passwordHash: "x", role: "viewer", mustChangePassword: false)) }
        var back = try #require(try store.user(username: "admin"))
        #expect(back == u && Passwords.verify("admin-password-1", hash: back.passwordHash))
        back.mustChangePassword = false
        back.tokensValidFrom = 1234.5
        #expect(try store.updateUser(back))
        #expect(try store.user(uuid: "u-1") == back)
        try store.revokeToken(jti: "j1", userUUID: "u-1", expiresAt: 2000, now: 1000)
        #expect(try store.isRevoked(jti: "j1") && !store.isRevoked(jti: "j2"))
        try store.revokeToken(jti: "j2", userUUID: "u-1", expiresAt: 4000, now: 3000)   // prunes j1 (expired)
        #expect(try !store.isRevoked(jti: "j1") && store.isRevoked(jti: "j2"))
        #expect(try store.deleteUser(uuid: "u-1") && store.users().isEmpty)
    }
}
