// AuthController.swift: Authentication: login, logout, password change, SSE tickets.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum AuthController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .post, path: "/auth/login", access: .anonymous, tag: "auth", summary: "Log in; returns a bearer token",
                    body: .body([Prop("username", .text(min: 1, max: 64)), Prop("password", .text(min: 1, max: 72, pattern: Passwords.pattern))]),
                    replies: ok(.ref("Token")), errors: [401, 429]
                ) { c in
                    let username = c.member("username")!.stringValue!, password = c.member("password")!.stringValue!
                    guard c.api.login.allow(source: c.peer, username: username) else {
                        throw APIError(.tooManyRequests, "Too many login attempts; try again later")
                    }
                    guard password.utf8.count <= Passwords.maxBytes else {
                        throw APIError.unprocessable("body.password: at most 72 bytes")
                    }
                    let user = try await c.api.loginUserCache.get(username) { [store = c.api.store] in try store.user(username: username) }
                    let hash = user?.passwordHash
                    // Verify against a real-cost hash even for unknown users: no timing oracle on usernames.
                    let valid = try await APIServices.offload { Passwords.verify(password, hash: hash ?? dummyHash) }
                    guard let user, valid else {
                        if user == nil { c.api.loginUserCache.invalidate(username) }
                        c.api.login.recordFailure(source: c.peer, username: username)
                        throw APIError(.unauthorized, "Incorrect username or password", headers: [.wwwAuthenticate: "Bearer"])
                    }
                    return JSONResponse.make(
                        .object([
                            ("access_token", .string(c.api.issueToken(for: user))), ("token_type", .string("bearer")),
                            ("must_change_password", .bool(user.mustChangePassword)),
                        ]))
                },
                Route(
                    method: .post, path: "/auth/change-password", access: .authenticated, tag: "auth",
                    summary: "Change your own password (revokes all your sessions)",
                    body: .body([
                        Prop("old_password", .text(min: 1, max: 72, pattern: Passwords.pattern)),
                        Prop("new_password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern)),
                    ]),
                    replies: ok(message), errors: [401, 429]
                ) { c in
                    guard c.api.changePassword.allow(c.me.uuid) else { throw APIError(.tooManyRequests, "Too many attempts; try again later") }
                    let old = c.member("old_password")!.stringValue!, new = c.member("new_password")!.stringValue!
                    guard var user = try c.api.store.user(uuid: c.me.uuid) else { throw APIError.unauthenticated }
                    let hash = user.passwordHash
                    guard try await APIServices.offload({ Passwords.verify(old, hash: hash) }) else {
                        throw APIError(.unauthorized, "Incorrect password", headers: [.wwwAuthenticate: "Bearer"])
                    }
                    do { try Passwords.checkNew(new) } catch { throw APIError.unprocessable("body.new_password: \(error)") }
                    user.passwordHash = try await APIServices.offload { try Passwords.hash(new) }
                    user.mustChangePassword = false
                    user.tokensValidFrom = wallClockSeconds()
                    try c.api.store.updateUser(user)
                    c.api.invalidateUser(user.uuid)
                    return JSONResponse.message("Password updated successfully")
                },
                Route(method: .post, path: "/auth/logout", access: .authenticated, tag: "auth", summary: "Revoke this token", replies: ok(message)) {
                    c in
                    if let jti = c.me.jti {
                        try c.api.store.revokeToken(jti: jti, userUUID: c.me.uuid, expiresAt: Double(c.me.expires ?? 0), now: wallClockSeconds())
                        c.api.revokedCache.invalidate(jti)
                    }
                    return JSONResponse.message("Logged out")
                },
                Route(
                    method: .post, path: "/auth/sse-ticket", access: .viewer, tag: "auth", summary: "A single-use 60 s ticket for an SSE stream",
                    replies: ok(.obj([Prop("ticket", .text), Prop("expires_in", .int)]))
                ) { c in
                    JSONResponse.make(.object([("ticket", .string(c.api.tickets.issue(for: c.me))), ("expires_in", .int(Int(TicketBook.lifetime)))]))
                },
            ]
        }
    }
}
