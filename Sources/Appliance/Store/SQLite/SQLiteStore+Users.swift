// SQLiteStore+Users.swift: the control plane's accounts (`users`) and revoked token ids (`revoked_tokens`), spec
// §10.2. Password hashes are stored as given (bcrypt strings); this layer never sees a password.
import GRDB

extension SQLiteStore {
    static func userRow(_ r: Row) -> UserRecord {
        UserRecord(uuid: r[0], username: r[1], passwordHash: r[2], role: r[3], mustChangePassword: r[4], tokensValidFrom: r[5])
    }
    static let userColumns = "uuid, username, password_hash, role, must_change_password, tokens_valid_from"

    public func users() throws -> [UserRecord] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.userColumns) FROM users ORDER BY username").map(SQLiteStore.userRow) }
    }

    public func user(uuid: String) throws -> UserRecord? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT \(SQLiteStore.userColumns) FROM users WHERE uuid = ?", arguments: [uuid]).map(SQLiteStore.userRow) }
    }

    public func user(username: String) throws -> UserRecord? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT \(SQLiteStore.userColumns) FROM users WHERE username = ?", arguments: [username]).map(SQLiteStore.userRow) }
    }

    public func insertUser(_ u: UserRecord) throws {
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO users (\(SQLiteStore.userColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [u.uuid, u.username, u.passwordHash, u.role, u.mustChangePassword, u.tokensValidFrom])
            }
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
            throw UserStoreError.duplicateUsername
        }
    }

    /// Replaces every column but the uuid. False when no such user.
    @discardableResult
    public func updateUser(_ u: UserRecord) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE users SET username = ?, password_hash = ?, role = ?, must_change_password = ?, tokens_valid_from = ? WHERE uuid = ?",
                           arguments: [u.username, u.passwordHash, u.role, u.mustChangePassword, u.tokensValidFrom, u.uuid])
            return db.changesCount > 0
        }
    }

    @discardableResult
    public func deleteUser(uuid: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE uuid = ?", arguments: [uuid])
            return db.changesCount > 0
        }
    }

    /// Adds a token id to the denylist (kept until the token would have expired) and prunes expired ones.
    public func revokeToken(jti: String, userUUID: String, expiresAt: Double, now: Double) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM revoked_tokens WHERE expires_at < ?", arguments: [now])
            try db.execute(sql: "INSERT OR IGNORE INTO revoked_tokens (jti, user_uuid, expires_at, revoked_at) VALUES (?, ?, ?, ?)",
                           arguments: [jti, userUUID, expiresAt, now])
        }
    }

    public func isRevoked(jti: String) throws -> Bool {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM revoked_tokens WHERE jti = ?", arguments: [jti]) != nil }
    }
}
