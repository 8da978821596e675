// SQLiteStore+Swarm.swift: swarm hosts, join tokens, shards and shipped events (SwarmContracts.swift).
import GRDB

extension SQLiteStore: SwarmStoring {
    static let hostColumns = """
        uuid, name, address, agent_port, status, cert_fingerprint, previous_fingerprint, previous_until, boot_id, \
        heartbeat_seq, last_heartbeat, enrolled_at, committed_seq, ingested, version, outbox_newest
        """

    static func hostRow(_ r: Row) -> SwarmHostRecord {
        SwarmHostRecord(
            uuid: r[0], name: r[1], address: r[2], agentPort: r[3], status: r[4], fingerprint: r[5], previousFingerprint: r[6],
            previousUntil: r[7], bootID: r[8], heartbeatSeq: r[9], lastHeartbeat: r[10], enrolledAt: r[11], committedSeq: r[12],
            ingested: r[13], version: r[14], outboxNewest: r[15])
    }

    public func swarmHosts() throws -> [SwarmHostRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(SQLiteStore.hostColumns) FROM swarm_hosts ORDER BY name, enrolled_at").map(SQLiteStore.hostRow)
        }
    }

    public func swarmHost(uuid: String) throws -> SwarmHostRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(SQLiteStore.hostColumns) FROM swarm_hosts WHERE uuid = ?", arguments: [uuid]).map(SQLiteStore.hostRow)
        }
    }

    public func insertSwarmToken(_ t: SwarmTokenRecord) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO swarm_tokens (id, name, secret_hash, created_at, expires_at, used_at, host_uuid) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [t.id, t.name, t.secretHash, t.createdAt, t.expiresAt, t.usedAt, t.hostUUID])
        }
    }

    public func swarmTokens() throws -> [SwarmTokenRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, name, secret_hash, created_at, expires_at, used_at, host_uuid FROM swarm_tokens ORDER BY created_at"
            ).map {
                SwarmTokenRecord(id: $0[0], name: $0[1], secretHash: $0[2], createdAt: $0[3], expiresAt: $0[4], usedAt: $0[5], hostUUID: $0[6])
            }
        }
    }

    public func enrollSwarmHost(tokenID: String, now: Double, proofOK: (SwarmTokenRecord) -> Bool, host: SwarmHostRecord) throws(SwarmEnrollError) {
        let result: SwarmEnrollError?
        do {
            result = try pool.write { db -> SwarmEnrollError? in
                guard
                    let r = try Row.fetchOne(
                        db, sql: "SELECT id, name, secret_hash, created_at, expires_at, used_at, host_uuid FROM swarm_tokens WHERE id = ?",
                        arguments: [tokenID])
                else { return .unknownToken }
                let t = SwarmTokenRecord(id: r[0], name: r[1], secretHash: r[2], createdAt: r[3], expiresAt: r[4], usedAt: r[5], hostUUID: r[6])
                guard proofOK(t) else { return .badProof }
                if t.usedAt != nil { return .tokenUsed }
                if t.expiresAt < now { return .tokenExpired }
                let same = try String.fetchAll(db, sql: "SELECT status FROM swarm_hosts WHERE name = ?", arguments: [host.name])
                if same.contains("banned") { return .nameBanned }
                if same.contains(where: { SwarmHostRecord.admitted.contains($0) }) { return .nameTaken }
                try db.execute(sql: "DELETE FROM swarm_hosts WHERE name = ? AND status IN ('evicted', 'decommissioned')", arguments: [host.name])
                try db.execute(sql: "UPDATE swarm_tokens SET used_at = ?, host_uuid = ? WHERE id = ?", arguments: [now, host.uuid, tokenID])
                try db.execute(
                    sql: "INSERT INTO swarm_hosts (\(SQLiteStore.hostColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        host.uuid, host.name, host.address, host.agentPort, host.status, host.fingerprint, host.previousFingerprint,
                        host.previousUntil, host.bootID, host.heartbeatSeq, host.lastHeartbeat, host.enrolledAt, host.committedSeq,
                        host.ingested, host.version, host.outboxNewest,
                    ])
                return nil
            }
        } catch {
            // A store failure is not the client's fault; the controller reports it as 503.
            result = .unknownToken
        }
        if let result { throw result }
    }

    @discardableResult
    public func setSwarmHostStatus(uuid: String, status: String, audit: LogRecord?) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE swarm_hosts SET status = ? WHERE uuid = ?", arguments: [status, uuid])
            let changed = db.changesCount > 0
            if changed, let audit { try SQLiteStore.insertAudit(db, audit) }
            return changed
        }
    }

    public func renewSwarmHost(uuid: String, fingerprint: String, graceUntil: Double) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE swarm_hosts SET previous_fingerprint = cert_fingerprint, previous_until = ?, cert_fingerprint = ? WHERE uuid = ?",
                arguments: [graceUntil, fingerprint, uuid])
        }
    }

    public func swarmHeartbeat(
        uuid: String, seq: Int64, bootID: String, version: String, outboxNewest: Int64, now: Double
    ) throws -> SwarmHeartbeatOutcome {
        try pool.write { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT boot_id, heartbeat_seq, previous_boot FROM swarm_hosts WHERE uuid = ?", arguments: [uuid])
            else {
                return .unknownHost
            }
            let boot: String? = r[0], last: Int64 = r[1], previous: String? = r[2]
            if let boot, boot == bootID {
                if seq <= last { return .regressingSequence(last: last) }
            } else if let previous, previous == bootID {
                // A machine that rebooted never comes back with its old boot id: two machines hold one identity.
                return .cloned(previousBoot: boot ?? "")
            } else if boot != nil {
                try db.execute(sql: "UPDATE swarm_hosts SET previous_boot = boot_id WHERE uuid = ?", arguments: [uuid])
            }
            try db.execute(
                sql: """
                    UPDATE swarm_hosts SET status = 'active', boot_id = ?, heartbeat_seq = ?, last_heartbeat = ?, version = ?, outbox_newest = ?
                    WHERE uuid = ? AND status IN ('enrolled', 'active', 'stale', 'unreachable')
                    """, arguments: [bootID, seq, now, version, outboxNewest, uuid])
            return .accepted
        }
    }

    public func ageSwarmHosts(now: Double, stale: Double, unreachable: Double) throws -> [(uuid: String, status: String)] {
        try pool.write { db in
            var out: [(String, String)] = []
            for r in try Row.fetchAll(db, sql: "SELECT uuid, status, last_heartbeat FROM swarm_hosts WHERE status IN ('active', 'stale')") {
                let uuid: String = r[0], status: String = r[1]
                guard let last: Double = r[2] else { continue }
                let next = now - last >= unreachable ? "unreachable" : now - last >= stale ? "stale" : "active"
                if next != status {
                    try db.execute(sql: "UPDATE swarm_hosts SET status = ? WHERE uuid = ?", arguments: [next, uuid])
                    out.append((uuid, next))
                }
            }
            return out
        }
    }

    public func ingestSwarmEvents(host: String, events: [(seq: Int64, record: LogRecord)]) throws -> Int64 {
        try pool.write { db in
            guard var committed = try Int64.fetchOne(db, sql: "SELECT committed_seq FROM swarm_hosts WHERE uuid = ?", arguments: [host]) else {
                return -1
            }
            let st = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO logs (timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields, msg, origin_host, origin_seq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var added: Int64 = 0
            for (seq, r) in events where seq > committed {
                try st.execute(arguments: [
                    r.timestamp, r.decky, r.service, r.eventType, r.attackerIP, r.severity, r.rawLine, r.fields, r.msg, host, seq,
                ])
                added += Int64(db.changesCount)
                committed = seq
            }
            try db.execute(
                sql: "UPDATE swarm_hosts SET committed_seq = ?, ingested = ingested + ? WHERE uuid = ?", arguments: [committed, added, host])
            return committed
        }
    }

    static func insertAudit(_ db: Database, _ r: LogRecord) throws {
        try db.execute(
            sql:
                "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields, msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [r.timestamp, r.decky, r.service, r.eventType, r.attackerIP, r.severity, r.rawLine, r.fields, r.msg])
    }

    public func writeAudit(_ r: LogRecord) throws { try pool.write { db in try SQLiteStore.insertAudit(db, r) } }

    public func upsertShard(_ s: SwarmShardRecord) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO decky_shards (decky_name, host_uuid, ip, services, state, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (decky_name) DO UPDATE SET host_uuid = excluded.host_uuid, ip = excluded.ip, services = excluded.services,
                        state = excluded.state, last_error = excluded.last_error, updated_at = excluded.updated_at
                    """, arguments: [s.deckyName, s.hostUUID, s.ip, s.services, s.state, s.lastError, s.updatedAt])
        }
    }

    public func shards() throws -> [SwarmShardRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT decky_name, host_uuid, ip, services, state, last_error, updated_at FROM decky_shards ORDER BY decky_name"
            ).map {
                SwarmShardRecord(deckyName: $0[0], hostUUID: $0[1], ip: $0[2], services: $0[3], state: $0[4], lastError: $0[5], updatedAt: $0[6])
            }
        }
    }

    @discardableResult
    public func deleteShards(hostUUID: String) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM decky_shards WHERE host_uuid = ?", arguments: [hostUUID])
            return db.changesCount
        }
    }

    public func outbox(after: Int64, limit: Int) throws -> [LogRecord] {
        try logs(LogQuery(afterID: after, limit: limit, ascending: true))
    }

    public func newestLogID() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM logs") ?? 0 }
    }
}
