// StoreSchema.swift: the SQLite schema as append-only GRDB migrations.
import GRDB

/// Versioned schema. Migrations are append-only: never edit a registered one, add the next.
///
/// `logs` carries two indexes only: `timestamp` (time ranges, histograms, retention; appends at the right
/// edge, cheap) and `attacker_ip` (attacker detail). Measured here on 1 M synthetic events: each extra
/// single-column index on a low-cardinality column (decky, service, event_type) costs ~15% of ingest, and
/// all three together took the writer from ~150 k to ~90 k events/s. Filters on those columns scan
/// newest-first by id and stop at the page limit, which is fast for the common values.
/// Table and column names follow ../shared/spec/decnet-reference.md §11 where the original has the table.
enum StoreSchema {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE logs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    timestamp REAL NOT NULL,
                    decky TEXT NOT NULL DEFAULT '',
                    service TEXT NOT NULL DEFAULT '',
                    event_type TEXT NOT NULL DEFAULT '',
                    attacker_ip TEXT NOT NULL DEFAULT '',
                    severity INTEGER NOT NULL DEFAULT 6,
                    raw_line TEXT NOT NULL DEFAULT '',
                    fields TEXT NOT NULL DEFAULT '{}',
                    msg TEXT,
                    trace_id TEXT,
                    span_id TEXT
                );
                CREATE INDEX ix_logs_timestamp ON logs (timestamp);
                CREATE INDEX ix_logs_attacker_ip ON logs (attacker_ip);

                CREATE TABLE bounty (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    timestamp REAL NOT NULL,
                    decky TEXT NOT NULL DEFAULT '',
                    service TEXT NOT NULL DEFAULT '',
                    attacker_ip TEXT NOT NULL DEFAULT '',
                    bounty_type TEXT NOT NULL,
                    payload TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX ix_bounty_timestamp ON bounty (timestamp);
                CREATE INDEX ix_bounty_attacker_ip ON bounty (attacker_ip);
                CREATE INDEX ix_bounty_bounty_type ON bounty (bounty_type);

                CREATE TABLE attackers (
                    uuid TEXT PRIMARY KEY,
                    ip TEXT NOT NULL UNIQUE,
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    event_count INTEGER NOT NULL DEFAULT 0,
                    service_count INTEGER NOT NULL DEFAULT 0,
                    decky_count INTEGER NOT NULL DEFAULT 0,
                    credential_count INTEGER NOT NULL DEFAULT 0,
                    bounty_count INTEGER NOT NULL DEFAULT 0,
                    is_traversal INTEGER NOT NULL DEFAULT 0,
                    score REAL NOT NULL DEFAULT 0,
                    profile TEXT NOT NULL DEFAULT '{}',
                    updated_at REAL NOT NULL
                );
                CREATE INDEX ix_attackers_last_seen ON attackers (last_seen);
                CREATE INDEX ix_attackers_score ON attackers (score);

                CREATE TABLE attacker_fingerprints (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    attacker_uuid TEXT NOT NULL REFERENCES attackers (uuid) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    count INTEGER NOT NULL DEFAULT 1,
                    UNIQUE (attacker_uuid, kind, value)
                );
                CREATE INDEX ix_attacker_fingerprints_value ON attacker_fingerprints (kind, value);

                CREATE TABLE credentials (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    attacker_ip TEXT NOT NULL,
                    attacker_uuid TEXT REFERENCES attackers (uuid) ON DELETE SET NULL,
                    decky_name TEXT NOT NULL,
                    service TEXT NOT NULL,
                    principal TEXT,
                    principal_key TEXT NOT NULL DEFAULT '',
                    secret_kind TEXT NOT NULL DEFAULT 'plaintext',
                    secret_sha256 TEXT NOT NULL,
                    secret_b64 TEXT,
                    secret_printable TEXT,
                    outcome TEXT,
                    fields TEXT NOT NULL DEFAULT '{}',
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    attempt_count INTEGER NOT NULL DEFAULT 1,
                    CONSTRAINT uq_credentials_dedup UNIQUE (attacker_ip, decky_name, service, secret_kind, secret_sha256, principal_key)
                );
                CREATE INDEX ix_credentials_attacker_ip ON credentials (attacker_ip);
                CREATE INDEX ix_credentials_secret ON credentials (secret_sha256, service);
                CREATE INDEX ix_credentials_principal ON credentials (principal, service);
                CREATE INDEX ix_credentials_last_seen ON credentials (last_seen);

                CREATE TABLE artifacts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    timestamp REAL NOT NULL,
                    decky TEXT NOT NULL DEFAULT '',
                    service TEXT NOT NULL DEFAULT '',
                    attacker_ip TEXT NOT NULL DEFAULT '',
                    session_id TEXT,
                    kind TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    stored_as TEXT NOT NULL,
                    fields TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX ix_artifacts_attacker_ip ON artifacts (attacker_ip);
                CREATE INDEX ix_artifacts_sha256 ON artifacts (sha256);

                CREATE TABLE deckies (
                    host_uuid TEXT NOT NULL DEFAULT 'local',
                    name TEXT NOT NULL,
                    ip TEXT NOT NULL,
                    mac TEXT,
                    services TEXT NOT NULL DEFAULT '[]',
                    config TEXT NOT NULL DEFAULT '{}',
                    state TEXT NOT NULL,
                    last_error TEXT,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (host_uuid, name)
                );
                CREATE INDEX ix_deckies_state ON deckies (state);

                CREATE TABLE users (
                    uuid TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'viewer')),
                    must_change_password INTEGER NOT NULL DEFAULT 0,
                    tokens_valid_from REAL
                );
                CREATE TABLE revoked_tokens (
                    jti TEXT PRIMARY KEY,
                    user_uuid TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    revoked_at REAL NOT NULL
                );
                CREATE INDEX ix_revoked_tokens_expires_at ON revoked_tokens (expires_at);

                CREATE TABLE state (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );

                CREATE TABLE worker_heartbeats (
                    worker TEXT PRIMARY KEY,
                    ts REAL NOT NULL,
                    payload TEXT NOT NULL DEFAULT '{}'
                );
                """)
        }
        // The swarm (issue 18): shipped events keep their worker and its sequence (unique: shipping is
        // idempotent), enrolled hosts with their pinned fingerprints, join tokens (secret hashes), shards.
        m.registerMigration("v2-swarm") { db in
            try db.execute(sql: """
                ALTER TABLE logs ADD COLUMN origin_host TEXT;
                ALTER TABLE logs ADD COLUMN origin_seq INTEGER;
                CREATE UNIQUE INDEX ux_logs_origin ON logs (origin_host, origin_seq) WHERE origin_host IS NOT NULL;

                CREATE TABLE swarm_hosts (
                    uuid TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    address TEXT NOT NULL DEFAULT '',
                    agent_port INTEGER NOT NULL DEFAULT 8765,
                    status TEXT NOT NULL,
                    cert_fingerprint TEXT NOT NULL UNIQUE,
                    previous_fingerprint TEXT,
                    previous_until REAL,
                    boot_id TEXT,
                    previous_boot TEXT,
                    heartbeat_seq INTEGER NOT NULL DEFAULT 0,
                    last_heartbeat REAL,
                    enrolled_at REAL NOT NULL,
                    committed_seq INTEGER NOT NULL DEFAULT 0,
                    ingested INTEGER NOT NULL DEFAULT 0,
                    version TEXT
                );
                CREATE INDEX ix_swarm_hosts_name ON swarm_hosts (name);

                CREATE TABLE swarm_tokens (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL,
                    host_uuid TEXT
                );

                CREATE TABLE decky_shards (
                    decky_name TEXT PRIMARY KEY,
                    host_uuid TEXT NOT NULL,
                    ip TEXT NOT NULL DEFAULT '',
                    services TEXT NOT NULL DEFAULT '[]',
                    state TEXT NOT NULL,
                    last_error TEXT,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX ix_decky_shards_host ON decky_shards (host_uuid);
                """)
        }
        // Shipping lag on the dashboard: the newest outbox sequence each worker reported in its heartbeat.
        m.registerMigration("v3-swarm-outbox") { db in
            try db.execute(sql: "ALTER TABLE swarm_hosts ADD COLUMN outbox_newest INTEGER NOT NULL DEFAULT 0")
        }
        return m
    }
}
