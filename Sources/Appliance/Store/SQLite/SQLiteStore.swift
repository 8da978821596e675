// SQLiteStore.swift: the SQLite backend of the store contracts (GRDB pool, WAL), opening, writes, retention.
import GRDB
import GRDBSQLite
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Why the store refused to open or to act. Every case names the file so the operator knows which one.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case notADatabase(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case migrationFailed(path: String, reason: String)
    case newerSchema(path: String, migration: String)

    public var description: String {
        switch self {
        case .notADatabase(let path, let reason):
            return "store: \(path) is not a usable SQLite database (\(reason)); refusing to touch it"
        case .unreadable(let path, let reason):
            return "store: cannot open \(path): \(reason)"
        case .migrationFailed(let path, let reason):
            return "store: migrating \(path) failed: \(reason); nothing was changed"
        case .newerSchema(let path, let migration):
            return "store: \(path) has schema migration '\(migration)' that this build does not know; refusing to run an older decnet on a newer database"
        }
    }
}

/// The SQLite implementation of `EventRepository`: a GRDB `DatabasePool` (WAL, one writer, concurrent
/// readers) over the system SQLite.
///
/// Durability: WAL with `synchronous=NORMAL`. A committed transaction survives a process crash (`kill -9`);
/// a power loss may lose the last transactions but never corrupts the file. The batch writer commits at
/// most `StoreWriter.Configuration.maxBatch` items per transaction, which bounds what a crash can lose.
public final class SQLiteStore: EventRepository, @unchecked Sendable {
    public let path: String
    public var location: String { path }
    let pool: DatabasePool

    /// Bytes free to unprivileged writers on the store's filesystem (nil when it cannot be read).
    public func freeBytes() -> Int? {
        var st = statvfs()
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard statvfs(dir.isEmpty ? "/" : dir, &st) == 0 else { return nil }
        return Int(st.f_bavail) &* Int(st.f_frsize)
    }

    /// Opens (creating if absent) and migrates the database at `path`. An existing file that is not a
    /// SQLite database, or is unreadable, or carries migrations this build does not know, is refused with a
    /// `StoreError` and left untouched.
    public init(path: String, readers: Int = 4) throws {
        self.path = path
        if try SQLiteStore.checkExistingFile(path) == false {
            try SQLiteStore.createFile(path)
        } else {
            // Refuse a newer schema before anything opens the file for writing: the pool's WAL set-up and
            // checkpoint used to change a database this build then refused.
            try SQLiteStore.refuseNewerSchema(path)
        }
        var config = Configuration()
        config.maximumReaderCount = readers
        config.busyMode = .timeout(5)
        config.label = "decnet.store"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Index pages stay cached across batches (the default 2 MB evicts them and re-reads with pread);
            // reads go through mmap; checkpoints run every ~32 MB of WAL instead of every 4 MB.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
        }
        // Opening switches a new file to WAL, which needs the file to itself for a moment: another process
        // opening the same new store at once answers SQLITE_BUSY. Retry for up to 5 s.
        var opened: DatabasePool? = nil
        var attempt = 0
        while opened == nil {
            do {
                opened = try DatabasePool(path: path, configuration: config)
            } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY && attempt < 100 {
                attempt += 1
                pauseThread(seconds: 0.05)   // the other opener holds the new file for a moment
            } catch {
                throw StoreError.unreadable(path: path, reason: SQLiteStore.describe(error))
            }
        }
        pool = opened!
        var st = stat()
        if stat(path, &st) == 0 {
            let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
            fileKey = key
            SQLiteStore.openedFiles.withLockedValue { $0[key, default: 0] += 1 }
        }
        do {
            // Fails fast on a damaged file whose header looked right.
            _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch {
            throw StoreError.notADatabase(path: path, reason: SQLiteStore.describe(error))
        }
        try migrate()
    }

    /// (device, inode) -> open stores, for every database file this process has open: see checkExistingFile.
    static let openedFiles = NIOLockedValueBox<[[UInt64]: Int]>([:])
    private var fileKey: [UInt64]? = nil

    deinit {
        if let key = fileKey {
            SQLiteStore.openedFiles.withLockedValue { m in
                let n = m[key, default: 1] - 1
                m[key] = n > 0 ? n : nil
            }
        }
    }

    /// Creates an empty database with the physical layout WAL mode can no longer change: 16 KiB pages
    /// (shallower index trees, fewer splits: measured +20% ingest here) and incremental auto-vacuum (lets
    /// retention give space back). Mode 0660: events are sensitive; the group is the service group that the
    /// root daemons (sensor, serve) join and the unprivileged ones (api, profiler, mutator) run as.
    static func createFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o660)
        if fd < 0 && errno == EEXIST { return }      // another process is creating it right now: open theirs
        guard fd >= 0 else { throw StoreError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o660)   // not narrowed by the umask: SQLite gives the WAL and SHM files this mode too
        close(fd)
        do {
            let q = try DatabaseQueue(path: path)
            try q.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA page_size = 16384")
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
            try q.close()
        } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY {
            return      // another process opened the new file first and owns its layout now
        } catch {
            throw StoreError.unreadable(path: path, reason: SQLiteStore.describe(error))
        }
    }

    /// Refuses a file that exists but is not SQLite (a wrong path, a truncated copy, a config file).
    /// Returns false when there is no file yet.
    @discardableResult
    static func checkExistingFile(_ path: String) throws -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return false }
            throw StoreError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError.notADatabase(path: path, reason: "not a regular file")
        }
        if st.st_size == 0 { return true }
        // Never open and close a raw descriptor on a database this process already has open: close() drops
        // every POSIX lock the process holds on the file, SQLite's included, and the next process to close its
        // connection then thinks it is the last one and resets the WAL under our readers ("database disk image
        // is malformed"; found by swarm.sh with the agent's second open of its store and `store bench`).
        if SQLiteStore.openedFiles.withLockedValue({ $0[[UInt64(st.st_dev), UInt64(st.st_ino)], default: 0] > 0 }) { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        let magic = Array("SQLite format 3".utf8) + [0]
        guard n == 16, header == magic else {
            throw StoreError.notADatabase(path: path, reason: n < 16 ? "file is shorter than a SQLite header" : "no SQLite header")
        }
        return true
    }

    /// Reads the applied migrations through a read-only connection and throws `newerSchema` for one this
    /// build does not know.
    static func refuseNewerSchema(_ path: String) throws {
        var config = Configuration()
        config.readonly = true
        let applied: [String]
        do {
            let q = try DatabaseQueue(path: path, configuration: config)
            applied = try q.read { db in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            try q.close()
        } catch {
            return   // unreadable here: the normal open below reports it
        }
        let known = Set(StoreSchema.migrator().migrations)
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StoreError.newerSchema(path: path, migration: unknown)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    private func migrate() throws {
        let migrator = StoreSchema.migrator()
        do {
            let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
            let known = Set(migrator.migrations)
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw StoreError.newerSchema(path: path, migration: unknown)
            }
            do {
                try migrator.migrate(pool)
            } catch {
                // Two processes opening a new store at once (serve's decoy processes, the sensor, the API):
                // one wins each migration's transaction and the other fails on its CREATE TABLE. That is
                // fine when every migration this build knows is applied now.
                let now = try pool.read { db in try migrator.appliedIdentifiers(db) }
                guard Set(migrator.migrations).isSubset(of: Set(now)) else { throw error }
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.migrationFailed(path: path, reason: SQLiteStore.describe(error))
        }
    }

    // MARK: writes

    public func write(_ batch: StoreBatch) throws {
        if batch.isEmpty { return }
        try pool.write { db in
            if !batch.logs.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields, msg)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                // The hot path binds through the C API: no per-row argument arrays.
                let h = st.sqliteStatement
                for r in batch.logs {
                    sqlite3_reset(h)
                    sqlite3_bind_double(h, 1, r.timestamp)
                    bindText(h, 2, r.decky)
                    bindText(h, 3, r.service)
                    bindText(h, 4, r.eventType)
                    bindText(h, 5, r.attackerIP)
                    sqlite3_bind_int64(h, 6, Int64(r.severity))
                    bindText(h, 7, r.rawLine)
                    bindText(h, 8, r.fields)
                    if let m = r.msg { bindText(h, 9, m) } else { sqlite3_bind_null(h, 9) }
                    let rc = sqlite3_step(h)
                    guard rc == SQLITE_DONE else {
                        throw DatabaseError(resultCode: ResultCode(rawValue: rc),
                                            message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                    }
                }
                sqlite3_reset(h)
                sqlite3_clear_bindings(h)
            }
            if !batch.bounty.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT INTO bounty (timestamp, decky, service, attacker_ip, bounty_type, payload)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for r in batch.bounty {
                    st.setUncheckedArguments([r.timestamp, r.decky, r.service, r.attackerIP, r.bountyType, r.payload])
                    try st.execute()
                }
            }
            if !batch.credentials.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT INTO credentials (attacker_ip, decky_name, service, principal, principal_key, secret_kind,
                        secret_sha256, secret_b64, secret_printable, outcome, fields, first_seen, last_seen, attempt_count)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT (attacker_ip, decky_name, service, secret_kind, secret_sha256, principal_key)
                    DO UPDATE SET attempt_count = attempt_count + 1,
                        last_seen = max(last_seen, excluded.last_seen),
                        first_seen = min(first_seen, excluded.first_seen),
                        outcome = coalesce(excluded.outcome, outcome)
                    """)
                for r in batch.credentials {
                    st.setUncheckedArguments([r.attackerIP, r.deckyName, r.service, r.principal, r.principal ?? "",
                                              r.secretKind, r.secretSHA256, r.secretB64, r.secretPrintable, r.outcome,
                                              r.fields, r.firstSeen, r.lastSeen])
                    try st.execute()
                }
            }
            if !batch.artifacts.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT INTO artifacts (timestamp, decky, service, attacker_ip, session_id, kind, sha256, size, stored_as, fields)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for r in batch.artifacts {
                    st.setUncheckedArguments([r.timestamp, r.decky, r.service, r.attackerIP, r.sessionID, r.kind,
                                              r.sha256, r.size, r.storedAs, r.fields])
                    try st.execute()
                }
            }
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @inline(__always)
    private func bindText(_ h: OpaquePointer?, _ index: Int32, _ value: String) {
        var v = value
        v.withUTF8 { u in
            _ = sqlite3_bind_text(h, index, UnsafeRawPointer(u.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self), Int32(u.count), SQLiteStore.transient)
        }
    }

    // MARK: log reads

    private static func whereClause(_ q: LogQuery) -> (String, StatementArguments) {
        var parts: [String] = []
        var args = StatementArguments()
        if let v = q.afterID { parts.append("id > ?"); args += [v] }
        if let v = q.since { parts.append("timestamp >= ?"); args += [v] }
        if let v = q.until { parts.append("timestamp < ?"); args += [v] }
        if let v = q.decky { parts.append("decky = ?"); args += [v] }
        if let v = q.service { parts.append("service = ?"); args += [v] }
        if let v = q.eventType { parts.append("event_type = ?"); args += [v] }
        if let v = q.attackerIP { parts.append("attacker_ip = ?"); args += [v] }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), args)
    }

    public func logs(_ query: LogQuery) throws -> [LogRecord] {
        let (clause, args) = SQLiteStore.whereClause(query)
        let sql = "SELECT id, timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields, msg FROM logs"
            + clause + " ORDER BY id " + (query.ascending ? "ASC" : "DESC") + " LIMIT ? OFFSET ?"
        var all = args
        all += [max(0, query.limit), max(0, query.offset)]
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: all).map { row in
                LogRecord(id: row[0], timestamp: row[1], decky: row[2], service: row[3], eventType: row[4],
                          attackerIP: row[5], severity: row[6], rawLine: row[7], fields: row[8], msg: row[9])
            }
        }
    }

    public func countLogs(_ query: LogQuery) throws -> Int {
        let (clause, args) = SQLiteStore.whereClause(query)
        return try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM logs" + clause, arguments: args) ?? 0 }
    }

    /// `select` + optional `WHERE attacker_ip = ?` + `order` + `LIMIT ?`, each row mapped by `row`.
    private func fetch<T>(_ select: String, attackerIP: String?, order: String, limit: Int,
                          _ row: @escaping (Row) -> T) throws -> [T] {
        var args = StatementArguments()
        var sql = select
        if let attackerIP { sql += " WHERE attacker_ip = ?"; args += [attackerIP] }
        sql += " ORDER BY \(order) LIMIT ?"
        args += [limit]
        return try pool.read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(row) }
    }

    public func bounty(attackerIP: String?, limit: Int) throws -> [BountyRecord] {
        try fetch("SELECT id, timestamp, decky, service, attacker_ip, bounty_type, payload FROM bounty",
                  attackerIP: attackerIP, order: "id DESC", limit: limit) { row in
            BountyRecord(id: row[0], timestamp: row[1], decky: row[2], service: row[3], attackerIP: row[4],
                         bountyType: row[5], payload: row[6])
        }
    }

    public func credentials(attackerIP: String?, limit: Int) throws -> [CredentialRecord] {
        try fetch("""
            SELECT attacker_ip, decky_name, service, principal, secret_kind, secret_sha256, secret_b64,
                   secret_printable, outcome, fields, first_seen, last_seen, attempt_count FROM credentials
            """, attackerIP: attackerIP, order: "last_seen DESC", limit: limit) { row in
            var c = CredentialRecord(attackerIP: row[0], deckyName: row[1], service: row[2], principal: row[3],
                                     secretKind: row[4], secretSHA256: row[5], secretB64: row[6],
                                     secretPrintable: row[7], outcome: row[8], fields: row[9], seen: row[10])
            c.lastSeen = row[11]
            c.attemptCount = row[12]
            return c
        }
    }

    public func artifacts(attackerIP: String?, limit: Int) throws -> [ArtifactRecord] {
        try fetch("""
            SELECT id, timestamp, decky, service, attacker_ip, session_id, kind, sha256, size, stored_as, fields
            FROM artifacts
            """, attackerIP: attackerIP, order: "id DESC", limit: limit) { row in
            ArtifactRecord(id: row[0], timestamp: row[1], decky: row[2], service: row[3], attackerIP: row[4],
                           sessionID: row[5], kind: row[6], sha256: row[7], size: row[8], storedAs: row[9],
                           fields: row[10])
        }
    }

    // MARK: state, heartbeats, deckies, attackers

    public func state(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM state WHERE key = ?", arguments: [key]) }
    }

    public func setState(_ key: String, _ value: String) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }

    public func recordHeartbeat(_ h: HeartbeatRecord) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO worker_heartbeats (worker, ts, payload) VALUES (?, ?, ?)
                ON CONFLICT (worker) DO UPDATE SET ts = excluded.ts, payload = excluded.payload
                """, arguments: [h.worker, h.ts, h.payload])
        }
    }

    public func heartbeats() throws -> [HeartbeatRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT worker, ts, payload FROM worker_heartbeats ORDER BY worker").map {
                HeartbeatRecord(worker: $0[0], ts: $0[1], payload: $0[2])
            }
        }
    }

    public func upsertDecky(_ d: DeckyRecord) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO deckies (host_uuid, name, ip, mac, services, config, state, last_error, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (host_uuid, name) DO UPDATE SET ip = excluded.ip, mac = excluded.mac,
                    services = excluded.services, config = excluded.config, state = excluded.state,
                    last_error = excluded.last_error, updated_at = excluded.updated_at
                """, arguments: [d.hostUUID, d.name, d.ip, d.mac, d.services, d.config, d.state, d.lastError, d.updatedAt])
        }
    }

    public func deckies() throws -> [DeckyRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, host_uuid, ip, mac, services, config, state, last_error, updated_at FROM deckies
                ORDER BY host_uuid, name
                """).map {
                DeckyRecord(name: $0[0], hostUUID: $0[1], ip: $0[2], mac: $0[3], services: $0[4], config: $0[5],
                            state: $0[6], lastError: $0[7], updatedAt: $0[8])
            }
        }
    }

    @discardableResult
    public func deleteDecky(name: String, hostUUID: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM deckies WHERE host_uuid = ? AND name = ?", arguments: [hostUUID, name])
            return db.changesCount > 0
        }
    }

    public func upsertAttacker(_ a: AttackerRecord) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO attackers (uuid, ip, first_seen, last_seen, event_count, service_count, decky_count,
                    credential_count, bounty_count, is_traversal, score, profile, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ip) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                    event_count = excluded.event_count, service_count = excluded.service_count,
                    decky_count = excluded.decky_count, credential_count = excluded.credential_count,
                    bounty_count = excluded.bounty_count, is_traversal = excluded.is_traversal,
                    score = excluded.score, profile = excluded.profile, updated_at = excluded.updated_at
                """, arguments: [a.uuid, a.ip, a.firstSeen, a.lastSeen, a.eventCount, a.serviceCount, a.deckyCount,
                                 a.credentialCount, a.bountyCount, a.isTraversal, a.score, a.profile, a.lastSeen])
        }
    }

    private static func attackerRow(_ r: Row) -> AttackerRecord {
        AttackerRecord(uuid: r[0], ip: r[1], firstSeen: r[2], lastSeen: r[3], eventCount: r[4], serviceCount: r[5],
                       deckyCount: r[6], credentialCount: r[7], bountyCount: r[8], isTraversal: r[9], score: r[10],
                       profile: r[11])
    }

    private static let attackerColumns = """
        SELECT uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, credential_count,
               bounty_count, is_traversal, score, profile FROM attackers
        """

    public func attacker(ip: String) throws -> AttackerRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: SQLiteStore.attackerColumns + " WHERE ip = ?", arguments: [ip]).map(SQLiteStore.attackerRow)
        }
    }

    public func attackers(limit: Int, offset: Int) throws -> [AttackerRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: SQLiteStore.attackerColumns + " ORDER BY score DESC, last_seen DESC LIMIT ? OFFSET ?",
                             arguments: [limit, offset]).map(SQLiteStore.attackerRow)
        }
    }

    // MARK: retention

    public func sizeInBytes() throws -> Int64 {
        try pool.read { db in try SQLiteStore.usedBytes(db) }
    }

    static func usedBytes(_ db: Database) throws -> Int64 {
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        return (pages - free) * size
    }

    /// Deletes in chunks of `chunk` rows so the writer lock is never held for long.
    public func applyRetention(_ policy: RetentionPolicy, now: Double) throws -> RetentionResult {
        let chunk = 20_000
        var byAge = 0
        var bySize = 0
        if let maxAge = policy.maxAge {
            let cutoff = now - maxAge
            while true {
                let n = try pool.write { db -> Int in
                    try db.execute(sql: """
                        DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE timestamp < ? ORDER BY timestamp LIMIT ?)
                        """, arguments: [cutoff, chunk])
                    let logs = db.changesCount
                    try db.execute(sql: "DELETE FROM bounty WHERE id IN (SELECT id FROM bounty WHERE timestamp < ? LIMIT ?)",
                                   arguments: [cutoff, chunk])
                    return logs + db.changesCount
                }
                byAge += n
                if n == 0 { break }
            }
        }
        if let maxBytes = policy.maxBytes {
            while true {
                let n = try pool.write { db -> Int in
                    guard try SQLiteStore.usedBytes(db) > maxBytes else { return 0 }
                    try db.execute(sql: "DELETE FROM logs WHERE id IN (SELECT id FROM logs ORDER BY id LIMIT ?)",
                                   arguments: [chunk / 4])
                    return db.changesCount
                }
                bySize += n
                if n == 0 { break }
            }
        }
        if byAge + bySize > 0 {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        }
        return RetentionResult(deletedByAge: byAge, deletedBySize: bySize, bytesAfter: try sizeInBytes())
    }
}
