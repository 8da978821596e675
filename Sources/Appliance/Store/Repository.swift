// The store's contract. Callers depend on `EventRepository` only, so a PostgreSQL implementation can be added
// beside `SQLiteStore` without touching them. Every method is synchronous and thread-safe: the batch writer
// calls it from its own thread, readers from anywhere (async callers hop to a thread first; see StoreWriter).

/// Everything one transaction writes. The batch writer folds many producers' items into one of these.
public struct StoreBatch: Sendable {
    public var logs: [LogRecord] = []
    public var bounty: [BountyRecord] = []
    public var credentials: [CredentialRecord] = []
    public var artifacts: [ArtifactRecord] = []

    public init(logs: [LogRecord] = [], bounty: [BountyRecord] = [], credentials: [CredentialRecord] = [],
                artifacts: [ArtifactRecord] = []) {
        self.logs = logs
        self.bounty = bounty
        self.credentials = credentials
        self.artifacts = artifacts
    }

    public var count: Int { logs.count + bounty.count + credentials.count + artifacts.count }
    public var isEmpty: Bool { count == 0 }

    public mutating func append(contentsOf other: StoreBatch) {
        logs.append(contentsOf: other.logs)
        bounty.append(contentsOf: other.bounty)
        credentials.append(contentsOf: other.credentials)
        artifacts.append(contentsOf: other.artifacts)
    }
}

public protocol EventRepository: Sendable {
    /// Where the events go, for messages (a path, a URL without credentials).
    var location: String { get }

    /// Writes the whole batch in one transaction: all of it lands or none of it does.
    func write(_ batch: StoreBatch) throws

    func logs(_ query: LogQuery) throws -> [LogRecord]
    func countLogs(_ query: LogQuery) throws -> Int
    func bounty(attackerIP: String?, limit: Int) throws -> [BountyRecord]
    func credentials(attackerIP: String?, limit: Int) throws -> [CredentialRecord]
    func artifacts(attackerIP: String?, limit: Int) throws -> [ArtifactRecord]

    /// Key/value state (JSON text): worker cursors, deployment config, ingest positions.
    func state(_ key: String) throws -> String?
    func setState(_ key: String, _ value: String) throws

    func recordHeartbeat(_ heartbeat: HeartbeatRecord) throws
    func heartbeats() throws -> [HeartbeatRecord]

    func upsertDecky(_ decky: DeckyRecord) throws
    func deckies() throws -> [DeckyRecord]
    @discardableResult func deleteDecky(name: String, hostUUID: String) throws -> Bool

    func upsertAttacker(_ attacker: AttackerRecord) throws
    func attacker(ip: String) throws -> AttackerRecord?
    func attackers(limit: Int, offset: Int) throws -> [AttackerRecord]

    /// Applies a retention policy (age first, then size) and returns what it removed.
    func applyRetention(_ policy: RetentionPolicy, now: Double) throws -> RetentionResult

    /// Size of the database in bytes (pages in use, excluding free pages and the WAL).
    func sizeInBytes() throws -> Int64
}
