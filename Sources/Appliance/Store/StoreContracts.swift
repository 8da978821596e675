// StoreContracts.swift: what each consumer needs from the store, as narrow protocols returning Sendable
// values, so a second backend (PostgreSQL) implements them and plugs into the same callers and the same
// contract tests (Tests/ApplianceTests/StoreContractTests.swift). `Stores.open` picks the backend; nothing
// outside Appliance/Store names the SQLite implementation, GRDB or SQL (Tests/ArchitectureTests).
import Fingerprint

/// A page of rows plus the total number of rows that match the same filters.
public struct Page: Sendable {
    public var total: Int
    public var rows: [JSONValue]
    public init(total: Int, rows: [JSONValue]) {
        self.total = total
        self.rows = rows
    }
}

/// `/logs` filters. `search` is whitespace-separated terms: `key:value` (decky, service, event_type,
/// attacker_ip or ip) matches that column exactly, any other term is a substring of the raw line.
public struct LogFilter: Sendable, Equatable {
    public var search: String?
    public var start: Double?
    public var end: Double?
    public init(search: String? = nil, start: Double? = nil, end: Double? = nil) {
        self.search = search
        self.start = start
        self.end = end
    }
    public var isEmpty: Bool { search == nil && start == nil && end == nil }
}

public enum AttackerSort: String, Sendable, CaseIterable { case recent, active, traversals, score }

public struct UserRecord: Sendable, Equatable {
    public var uuid: String
    public var username: String
    public var passwordHash: String
    public var role: String
    public var mustChangePassword: Bool
    /// Tokens issued before this time (seconds) are refused: set on password and role changes.
    public var tokensValidFrom: Double?

    public init(uuid: String, username: String, passwordHash: String, role: String, mustChangePassword: Bool, tokensValidFrom: Double? = nil) {
        self.uuid = uuid
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.mustChangePassword = mustChangePassword
        self.tokensValidFrom = tokensValidFrom
    }
}

public enum UserStoreError: Error, Equatable { case duplicateUsername }

extension UserRecord {
    public var summary: JSONValue {
        .object([
            ("uuid", .string(uuid)), ("username", .string(username)), ("role", .string(role)),
            ("must_change_password", .bool(mustChangePassword)),
        ])
    }
}

extension JSONValue {
    public var isObject: Bool { if case .object = self { return true }; return false }
}

/// Key/value state (JSON text): worker cursors, deployment settings, ingest positions.
public protocol StateStoring: Sendable {
    func state(_ key: String) throws -> String?
    func setState(_ key: String, _ value: String) throws
}

/// The recorded fleet (deckies and their settings) for deploy/serve/teardown/mutate and the API.
public protocol FleetStoring: StateStoring, EventRepository {
    /// Where the store lives (a path or a URL without credentials), for messages and sibling files.
    var path: String { get }
}

/// The profiler: events in id order, attacker profiles out, with its cursor in the same transaction.
public protocol ProfileStoring: StateStoring {
    var path: String { get }
    func allAttackers() throws -> [AttackerRecord]
    func attackers(limit: Int, offset: Int) throws -> [AttackerRecord]
    func correlationEvents(after: Int64, limit: Int) throws -> [CorrelationEvent]
    func saveProfiles(
        _ attackers: [AttackerRecord], fingerprints: [(uuid: String, kind: String, value: String, count: Int, first: Double, last: Double)],
        cursorKey: String, cursor: String) throws
    /// The profiler benchmark's floor and reset.
    func readCorrelationColumns() throws -> Int
    func deleteAllAttackers() throws
}

/// Accounts and revoked tokens (spec §10.2).
public protocol UserStoring: Sendable {
    func users() throws -> [UserRecord]
    func user(uuid: String) throws -> UserRecord?
    func user(username: String) throws -> UserRecord?
    func insertUser(_ u: UserRecord) throws
    @discardableResult func updateUser(_ u: UserRecord) throws -> Bool
    @discardableResult func deleteUser(uuid: String) throws -> Bool
    func revokeToken(jti: String, userUUID: String, expiresAt: Double, now: Double) throws
    func isRevoked(jti: String) throws -> Bool
    func userSummaries() throws -> [JSONValue]
}

/// The REST API's reads (spec §10.7), rows in the API's field names; async (GRDB's async reads: a reader
/// connection is awaited, never a cooperative thread blocked).
public protocol APIReading: Sendable {
    func logPage(_ f: LogFilter, limit: Int, offset: Int) async throws -> [JSONValue]
    func logPageBytes(_ f: LogFilter, limit: Int, offset: Int) async throws -> [UInt8]
    func logCount(_ f: LogFilter) async throws -> Int
    func logsAfter(_ afterID: Int64, _ f: LogFilter, limit: Int) async throws -> [JSONValue]
    func maxLogID() async throws -> Int64
    func logHistogram(_ f: LogFilter, interval: Double) async throws -> [JSONValue]
    func apiStats() async throws -> JSONValue
    func bountyPage(type: String?, search: String?, limit: Int, offset: Int) async throws -> Page
    func credentialPage(search: String?, service: String?, attackerIP: String?, limit: Int, offset: Int) async throws -> Page
    func attackerPage(search: String?, service: String?, sort: AttackerSort, limit: Int, offset: Int) async throws -> [JSONValue]
    func attackerPageBytes(search: String?, service: String?, sort: AttackerSort, limit: Int, offset: Int) async throws -> [UInt8]
    func attackerCount(search: String?, service: String?) async throws -> Int
    func attackerDetail(uuid: String) async throws -> JSONValue?
    /// Free space where the store lives (health), nil when unknown.
    func freeBytes() -> Int?
}

/// Everything one store offers: what the single-box appliance and the API hold.
public protocol DecnetStore: FleetStoring, ProfileStoring, UserStoring, APIReading, SwarmStoring {}

/// Opens the configured backend.
public enum Stores {
    /// The SQLite store at `path` (created with its schema when new; refused when newer than this build).
    public static func open(path: String) throws -> any DecnetStore { try SQLiteStore(path: path) }

    /// A store error worded for operators (disk full, read-only, corrupt, busy).
    public static func describe(_ error: any Error) -> String { SQLiteStore.describe(error) }
}
