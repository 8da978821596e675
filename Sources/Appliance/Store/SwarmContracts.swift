// SwarmContracts.swift: what the swarm needs from the store. On the master: enrolled hosts (with their pinned
// certificate fingerprints), join tokens (only the secret's hash), decky shards, and the events workers ship
// (idempotent by (worker, seq)). On a worker: its own `logs` rows are the outbox (the row id is the sequence,
// written in the same transaction as the event), with the acknowledged cursor kept in `state`.

/// Host states: `enrolled` (joined, no heartbeat yet), `active`, `stale` (no heartbeat for 75 s),
/// `unreachable` (120 s), `evicted` (may re-enroll with a new token), `banned` (may not), `decommissioned`.
public struct SwarmHostRecord: Sendable, Equatable {
    public var uuid: String
    public var name: String
    public var address: String
    public var agentPort: Int
    public var status: String
    /// SHA-256 (hex) of the current certificate's DER: the pin every master listener checks.
    public var fingerprint: String
    /// The certificate before the last renewal, still accepted until `previousUntil` (the grace window).
    public var previousFingerprint: String?
    public var previousUntil: Double?
    public var bootID: String?
    public var heartbeatSeq: Int64
    public var lastHeartbeat: Double?
    public var enrolledAt: Double
    /// The last event sequence committed from this worker, and how many rows that was in all.
    public var committedSeq: Int64
    public var ingested: Int64
    public var version: String?
    /// The newest event sequence in the worker's outbox at its last heartbeat (lag = this - committedSeq).
    public var outboxNewest: Int64 = 0

    public init(
        uuid: String, name: String, address: String, agentPort: Int = 8765, status: String = "enrolled", fingerprint: String,
        previousFingerprint: String? = nil, previousUntil: Double? = nil, bootID: String? = nil, heartbeatSeq: Int64 = 0,
        lastHeartbeat: Double? = nil, enrolledAt: Double, committedSeq: Int64 = 0, ingested: Int64 = 0, version: String? = nil,
        outboxNewest: Int64 = 0
    ) {
        self.uuid = uuid
        self.name = name
        self.address = address
        self.agentPort = agentPort
        self.status = status
        self.fingerprint = fingerprint
        self.previousFingerprint = previousFingerprint
        self.previousUntil = previousUntil
        self.bootID = bootID
        self.heartbeatSeq = heartbeatSeq
        self.lastHeartbeat = lastHeartbeat
        self.enrolledAt = enrolledAt
        self.committedSeq = committedSeq
        self.ingested = ingested
        self.version = version
        self.outboxNewest = outboxNewest
    }

    /// States whose certificate may still complete a handshake with the master.
    public static let admitted: Set<String> = ["enrolled", "active", "stale", "unreachable"]
}

public struct SwarmTokenRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Hex SHA-256 of the token's secret; the secret itself is never stored.
    public var secretHash: String
    public var createdAt: Double
    public var expiresAt: Double
    public var usedAt: Double?
    public var hostUUID: String?

    public init(id: String, name: String, secretHash: String, createdAt: Double, expiresAt: Double, usedAt: Double? = nil, hostUUID: String? = nil) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.hostUUID = hostUUID
    }
}

/// Why an enrollment was refused (the controller maps each to a status and an audit event).
public enum SwarmEnrollError: Error, Equatable, Sendable {
    case unknownToken, tokenUsed, tokenExpired, badProof, nameTaken, nameBanned
}

/// The outcome of a heartbeat against the stored host.
public enum SwarmHeartbeatOutcome: Sendable, Equatable {
    case accepted
    /// A sequence number not above the last one from the same boot: refused, nothing changed.
    case regressingSequence(last: Int64)
    /// The boot id before the last reboot came back: two machines hold one certificate.
    case cloned(previousBoot: String)
    case unknownHost
}

public struct SwarmShardRecord: Sendable, Equatable {
    public var deckyName: String
    public var hostUUID: String
    public var ip: String
    public var services: String
    public var state: String
    public var lastError: String?
    public var updatedAt: Double

    public init(deckyName: String, hostUUID: String, ip: String, services: String, state: String, lastError: String? = nil, updatedAt: Double) {
        self.deckyName = deckyName
        self.hostUUID = hostUUID
        self.ip = ip
        self.services = services
        self.state = state
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

public protocol SwarmStoring: Sendable {
    func swarmHosts() throws -> [SwarmHostRecord]
    func swarmHost(uuid: String) throws -> SwarmHostRecord?
    func insertSwarmToken(_ t: SwarmTokenRecord) throws
    func swarmTokens() throws -> [SwarmTokenRecord]
    /// In one transaction: the token is unused, unexpired and `proofOK` accepts it; an evicted host of the same
    /// name is replaced, a banned one refuses; the token is marked used and the host inserted.
    func enrollSwarmHost(tokenID: String, now: Double, proofOK: (SwarmTokenRecord) -> Bool, host: SwarmHostRecord) throws(SwarmEnrollError)
    /// Sets a host's status and writes `audit` (an event row) in the same transaction. False when no such host.
    @discardableResult func setSwarmHostStatus(uuid: String, status: String, audit: LogRecord?) throws -> Bool
    /// Installs a renewed certificate; the old pin stays valid until `graceUntil`.
    func renewSwarmHost(uuid: String, fingerprint: String, graceUntil: Double) throws
    /// Records a heartbeat (status `active`, sequence, boot id) unless it regresses or looks cloned.
    func swarmHeartbeat(uuid: String, seq: Int64, bootID: String, version: String, outboxNewest: Int64, now: Double) throws -> SwarmHeartbeatOutcome
    /// `active` hosts silent past `stale` seconds become `stale`, past `unreachable` `unreachable`. Returns changes.
    func ageSwarmHosts(now: Double, stale: Double, unreachable: Double) throws -> [(uuid: String, status: String)]
    /// Commits shipped events from `host`: rows whose sequence is above the committed one are inserted with
    /// the host as origin; returns the committed sequence after the batch (idempotent by (host, seq)).
    func ingestSwarmEvents(host: String, events: [(seq: Int64, record: LogRecord)]) throws -> Int64
    /// Writes an audit event on its own.
    func writeAudit(_ r: LogRecord) throws
    func upsertShard(_ s: SwarmShardRecord) throws
    func shards() throws -> [SwarmShardRecord]
    @discardableResult func deleteShards(hostUUID: String) throws -> Int
    /// The local outbox: events with id above `after`, oldest first, and the newest id.
    func outbox(after: Int64, limit: Int) throws -> [LogRecord]
    func newestLogID() throws -> Int64
}
