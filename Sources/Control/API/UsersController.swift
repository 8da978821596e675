// UsersController.swift: User accounts (admins).
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum UsersController: APIController {
        static var routes: [Route] {
            [
                Route(
                    method: .post, path: "/config/users", access: .admin, tag: "users",
                    summary: "Create a user (must change the password at first login)",
                    body: .body([
                        Prop("username", .text(min: 1, max: 64, pattern: "^[A-Za-z0-9._@-]+$")),
                        Prop("password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern)),
                        Prop("role", roleSchema, required: false),
                    ]),
                    replies: ok(.ref("User")), errors: [409]
                ) { c in
                    let pw = c.member("password")!.stringValue!
                    do { try Passwords.checkNew(pw) } catch { throw APIError.unprocessable("body.password: \(error)") }
                    let hash = try await APIServices.offload { try Passwords.hash(pw) }
                    let u = UserRecord(
                        uuid: newSessionID(), username: c.member("username")!.stringValue!, passwordHash: hash,
                        role: c.member("role")?.stringValue ?? "viewer", mustChangePassword: true)
                    do { try c.api.store.insertUser(u) } catch UserStoreError.duplicateUsername {
                        throw APIError.conflict("User '\(u.username)' already exists")
                    }
                    c.api.invalidateUser(u.uuid)
                    return JSONResponse.make(u.summary)
                },
                Route(
                    method: .delete, path: "/config/users/{user_uuid}", access: .admin, tag: "users", summary: "Delete a user (not yourself)",
                    pathParams: [userUUID], replies: ok(message), errors: [404]
                ) { c in
                    let id = c.path["user_uuid"]!
                    guard id != c.me.uuid else { throw APIError.forbidden("You cannot delete your own account") }
                    guard try c.api.store.deleteUser(uuid: id) else { throw APIError.notFound("User not found") }
                    c.api.invalidateUser(id)
                    return JSONResponse.message("User deleted")
                },
                Route(
                    method: .put, path: "/config/users/{user_uuid}/role", access: .admin, tag: "users",
                    summary: "Change a user's role (revokes their sessions)",
                    pathParams: [userUUID], body: .body([Prop("role", roleSchema)]), replies: ok(message), errors: [404]
                ) { c in
                    let id = c.path["user_uuid"]!
                    guard id != c.me.uuid else { throw APIError.forbidden("You cannot change your own role") }
                    guard var u = try c.api.store.user(uuid: id) else { throw APIError.notFound("User not found") }
                    u.role = c.member("role")!.stringValue!
                    u.tokensValidFrom = wallClockSeconds()
                    try c.api.store.updateUser(u)
                    c.api.invalidateUser(id)
                    return JSONResponse.message("User role updated")
                },
                Route(
                    method: .put, path: "/config/users/{user_uuid}/reset-password", access: .admin, tag: "users",
                    summary: "Set a user's password (must change it at next login; revokes their sessions)",
                    pathParams: [userUUID], body: .body([Prop("new_password", .text(min: Passwords.minLength, max: 72, pattern: Passwords.pattern))]),
                    replies: ok(message), errors: [404]
                ) { c in
                    let id = c.path["user_uuid"]!
                    guard id != c.me.uuid else { throw APIError.forbidden("Use POST /auth/change-password for your own password") }
                    let pw = c.member("new_password")!.stringValue!
                    do { try Passwords.checkNew(pw) } catch { throw APIError.unprocessable("body.new_password: \(error)") }
                    guard var u = try c.api.store.user(uuid: id) else { throw APIError.notFound("User not found") }
                    u.passwordHash = try await APIServices.offload { try Passwords.hash(pw) }
                    u.mustChangePassword = true
                    u.tokensValidFrom = wallClockSeconds()
                    try c.api.store.updateUser(u)
                    c.api.invalidateUser(id)
                    return JSONResponse.message("Password reset")
                },
            ]
        }
    }
}
