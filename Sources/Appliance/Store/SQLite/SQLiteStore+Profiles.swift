// SQLiteStore+Profiles.swift: the profiler's side of the SQLite store (ProfileStoring): correlation events in id
// order, attacker profiles and fingerprints upserted with the cursor in one transaction.
import Fingerprint
import GRDB

extension SQLiteStore: DecnetStore {}

extension SQLiteStore {
    public func allAttackers() throws -> [AttackerRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, credential_count, bounty_count, is_traversal, score, profile FROM attackers"
            ).map { r in
                AttackerRecord(
                    uuid: r[0], ip: r[1], firstSeen: r[2], lastSeen: r[3], eventCount: r[4], serviceCount: r[5], deckyCount: r[6],
                    credentialCount: r[7], bountyCount: r[8], isTraversal: r[9], score: r[10], profile: r[11])
            }
        }
    }

    /// Rows after `after` (ascending, at most `limit`) as correlation events: only the columns the correlator
    /// reads (no raw line), the fields JSON scanned in place.
    public func correlationEvents(after: Int64, limit: Int) throws -> [CorrelationEvent] {
        try pool.read { db in
            var out: [CorrelationEvent] = []
            out.reserveCapacity(limit)
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, timestamp, decky, service, event_type, attacker_ip, fields FROM logs WHERE id > ? ORDER BY id LIMIT ?
                    """, arguments: [after, limit])
            while let r = try rows.next() {
                out.append(
                    CorrelationEvent(id: r[0], timestamp: r[1], decky: r[2], service: r[3], eventType: r[4], attackerIP: r[5], fieldsJSON: r[6]))
            }
            return out
        }
    }

    /// The profiler benchmark's floor: the same columns of every row read with the same cursor, decoded into
    /// values and dropped. Returns the row count.
    public func readCorrelationColumns() throws -> Int {
        try pool.read { db in
            var n = 0, sum = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT id, timestamp, decky, service, event_type, attacker_ip, fields FROM logs ORDER BY id")
            while let r = try rows.next() {
                let id: Int64 = r[0], ts: Double = r[1], a: String = r[2], b: String = r[3], c: String = r[4], d: String = r[5], f: String = r[6]
                sum &+= Int(id) &+ Int(ts) &+ a.utf8.count &+ b.utf8.count &+ c.utf8.count &+ d.utf8.count &+ f.utf8.count
                n += 1
            }
            return sum == -1 ? -1 : n
        }
    }

    /// Removes every attacker profile (and, by cascade, their fingerprints): the profiler benchmark's reset.
    public func deleteAllAttackers() throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM attacker_fingerprints")
            try db.execute(sql: "UPDATE credentials SET attacker_uuid = NULL")
            try db.execute(sql: "DELETE FROM attackers")
        }
    }

    /// Upserts attackers and their fingerprints, links their credentials, and moves the cursor: one transaction.
    public func saveProfiles(
        _ attackers: [AttackerRecord], fingerprints: [(uuid: String, kind: String, value: String, count: Int, first: Double, last: Double)],
        cursorKey: String, cursor: String
    ) throws {
        let now = wallClockSeconds()
        try pool.write { db in
            let up = try db.makeStatement(
                sql: """
                    INSERT INTO attackers (uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, credential_count,
                                           bounty_count, is_traversal, score, profile, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (ip) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                      event_count = excluded.event_count, service_count = excluded.service_count, decky_count = excluded.decky_count,
                      credential_count = excluded.credential_count, bounty_count = excluded.bounty_count,
                      is_traversal = excluded.is_traversal, score = excluded.score, profile = excluded.profile, updated_at = excluded.updated_at
                    """)
            let link = try db.makeStatement(sql: "UPDATE credentials SET attacker_uuid = ? WHERE attacker_ip = ? AND attacker_uuid IS NULL")
            for a in attackers {
                try up.execute(arguments: [
                    a.uuid, a.ip, a.firstSeen, a.lastSeen, a.eventCount, a.serviceCount, a.deckyCount,
                    a.credentialCount, a.bountyCount, a.isTraversal, a.score, a.profile, now,
                ])
                try link.execute(arguments: [a.uuid, a.ip])
            }
            let fp = try db.makeStatement(
                sql: """
                    INSERT INTO attacker_fingerprints (attacker_uuid, kind, value, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (attacker_uuid, kind, value) DO UPDATE SET last_seen = excluded.last_seen, count = excluded.count
                    """)
            for f in fingerprints { try fp.execute(arguments: [f.uuid, f.kind, f.value, f.first, f.last, f.count]) }
            try db.execute(
                sql: "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [cursorKey, cursor])
        }
    }
}
