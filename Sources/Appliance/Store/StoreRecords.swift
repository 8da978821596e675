// Row types of the store. Column names follow ../shared/spec/decnet-reference.md §11 where the original has the
// table; JSON columns hold UTF-8 JSON text, written once by the producer and never re-encoded here.
// Times are epoch seconds (REAL) so range scans and retention are index seeks.

/// One event line (`logs`): the RFC 5424 fields of the line plus its structured fields as JSON.
public struct LogRecord: Sendable, Equatable {
    public var id: Int64?
    public var timestamp: Double
    public var decky: String
    public var service: String
    public var eventType: String
    public var attackerIP: String
    public var severity: Int
    public var rawLine: String
    public var fields: String
    public var msg: String?

    public init(id: Int64? = nil, timestamp: Double, decky: String, service: String, eventType: String,
                attackerIP: String, severity: Int = 6, rawLine: String = "", fields: String = "{}", msg: String? = nil) {
        self.id = id
        self.timestamp = timestamp
        self.decky = decky
        self.service = service
        self.eventType = eventType
        self.attackerIP = attackerIP
        self.severity = severity
        self.rawLine = rawLine
        self.fields = fields
        self.msg = msg
    }
}

/// Filters for reading `logs`. All set fields must match; results are newest first unless `ascending`.
public struct LogQuery: Sendable, Equatable {
    public var afterID: Int64?
    public var since: Double?
    public var until: Double?
    public var decky: String?
    public var service: String?
    public var eventType: String?
    public var attackerIP: String?
    public var limit: Int
    public var offset: Int
    public var ascending: Bool

    public init(afterID: Int64? = nil, since: Double? = nil, until: Double? = nil, decky: String? = nil,
                service: String? = nil, eventType: String? = nil, attackerIP: String? = nil,
                limit: Int = 100, offset: Int = 0, ascending: Bool = false) {
        self.afterID = afterID
        self.since = since
        self.until = until
        self.decky = decky
        self.service = service
        self.eventType = eventType
        self.attackerIP = attackerIP
        self.limit = limit
        self.offset = offset
        self.ascending = ascending
    }
}

/// A bounty row: something of value an attacker left (credential, fingerprint, ip leak, artifact...).
public struct BountyRecord: Sendable, Equatable {
    public var id: Int64?
    public var timestamp: Double
    public var decky: String
    public var service: String
    public var attackerIP: String
    public var bountyType: String
    public var payload: String

    public init(id: Int64? = nil, timestamp: Double, decky: String, service: String, attackerIP: String,
                bountyType: String, payload: String = "{}") {
        self.id = id
        self.timestamp = timestamp
        self.decky = decky
        self.service = service
        self.attackerIP = attackerIP
        self.bountyType = bountyType
        self.payload = payload
    }
}

/// A captured credential. Deduplicated on (attacker_ip, decky_name, service, secret_kind, secret_sha256,
/// principal_key); a repeat bumps `attempt_count` and `last_seen`.
public struct CredentialRecord: Sendable, Equatable {
    public var attackerIP: String
    public var deckyName: String
    public var service: String
    public var principal: String?
    public var secretKind: String
    public var secretSHA256: String
    public var secretB64: String?
    public var secretPrintable: String?
    public var outcome: String?
    public var fields: String
    public var firstSeen: Double
    public var lastSeen: Double
    public var attemptCount: Int

    public init(attackerIP: String, deckyName: String, service: String, principal: String?,
                secretKind: String = "plaintext", secretSHA256: String, secretB64: String?,
                secretPrintable: String?, outcome: String?, fields: String = "{}", seen: Double) {
        self.attackerIP = attackerIP
        self.deckyName = deckyName
        self.service = service
        self.principal = principal
        self.secretKind = secretKind
        self.secretSHA256 = secretSHA256
        self.secretB64 = secretB64
        self.secretPrintable = secretPrintable
        self.outcome = outcome
        self.fields = fields
        self.firstSeen = seen
        self.lastSeen = seen
        self.attemptCount = 1
    }
}

/// A file an attacker uploaded or a message a decoy stored; the bytes live on disk under `storedAs`.
public struct ArtifactRecord: Sendable, Equatable {
    public var id: Int64?
    public var timestamp: Double
    public var decky: String
    public var service: String
    public var attackerIP: String
    public var sessionID: String?
    public var kind: String
    public var sha256: String
    public var size: Int64
    public var storedAs: String
    public var fields: String

    public init(id: Int64? = nil, timestamp: Double, decky: String, service: String, attackerIP: String,
                sessionID: String?, kind: String, sha256: String, size: Int64, storedAs: String, fields: String = "{}") {
        self.id = id
        self.timestamp = timestamp
        self.decky = decky
        self.service = service
        self.attackerIP = attackerIP
        self.sessionID = sessionID
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.storedAs = storedAs
        self.fields = fields
    }
}

/// One decky as the runtime last recorded it.
public struct DeckyRecord: Sendable, Equatable {
    public var name: String
    public var hostUUID: String
    public var ip: String
    public var mac: String?
    public var services: String
    public var config: String
    public var state: String
    public var lastError: String?
    public var updatedAt: Double

    public init(name: String, hostUUID: String = "local", ip: String, mac: String? = nil, services: String = "[]",
                config: String = "{}", state: String, lastError: String? = nil, updatedAt: Double) {
        self.name = name
        self.hostUUID = hostUUID
        self.ip = ip
        self.mac = mac
        self.services = services
        self.config = config
        self.state = state
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

/// The last heartbeat a worker sent (`system.<worker>.health`), persisted so a restarted API still knows it.
public struct HeartbeatRecord: Sendable, Equatable {
    public var worker: String
    public var ts: Double
    public var payload: String

    public init(worker: String, ts: Double, payload: String = "{}") {
        self.worker = worker
        self.ts = ts
        self.payload = payload
    }
}

/// An attacker profile row (filled by the profiler; columns follow spec §8.3 where they exist).
public struct AttackerRecord: Sendable, Equatable {
    public var uuid: String
    public var ip: String
    public var firstSeen: Double
    public var lastSeen: Double
    public var eventCount: Int
    public var serviceCount: Int
    public var deckyCount: Int
    public var credentialCount: Int
    public var bountyCount: Int
    public var isTraversal: Bool
    public var score: Double
    public var profile: String

    public init(uuid: String, ip: String, firstSeen: Double, lastSeen: Double, eventCount: Int = 0,
                serviceCount: Int = 0, deckyCount: Int = 0, credentialCount: Int = 0, bountyCount: Int = 0,
                isTraversal: Bool = false, score: Double = 0, profile: String = "{}") {
        self.uuid = uuid
        self.ip = ip
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.eventCount = eventCount
        self.serviceCount = serviceCount
        self.deckyCount = deckyCount
        self.credentialCount = credentialCount
        self.bountyCount = bountyCount
        self.isTraversal = isTraversal
        self.score = score
        self.profile = profile
    }
}

/// Retention: rows of `logs` older than `maxAge` seconds go; then, while the database is larger than
/// `maxBytes`, the oldest `logs` rows go in chunks. Nil disables that rule.
public struct RetentionPolicy: Sendable, Equatable {
    public var maxAge: Double?
    public var maxBytes: Int64?

    public init(maxAge: Double? = nil, maxBytes: Int64? = nil) {
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }
}

public struct RetentionResult: Sendable, Equatable {
    public var deletedByAge: Int
    public var deletedBySize: Int
    public var bytesAfter: Int64
}
