// Profiler.swift: the profiler worker (spec §8.3): folds new `logs` rows into attacker profiles with the
// pure CorrelationEngine, writes the touched profiles, their fingerprints and the cursor in one transaction
// (a crash replays nothing twice and loses nothing), then publishes `attacker.observed` (first sighting of
// an IP) and `attacker.scored` (every update). Runs on its own thread; never blocks an event loop.
import Fingerprint

extension CorrelationEvent {
    static let wanted: [String] = CorrelationEvent.fingerprintKinds + ["secret_b64", "auth_result", "stored_as"]

    /// A log row reduced to what the correlator reads; the fields JSON is scanned, not parsed into a tree.
    public init(_ r: LogRecord) {
        self.init(id: r.id ?? 0, timestamp: r.timestamp, decky: r.decky, service: r.service, eventType: r.eventType,
                  attackerIP: r.attackerIP, fieldsJSON: r.fields)
    }

    init(id: Int64, timestamp: Double, decky: String, service: String, eventType: String, attackerIP: String, fieldsJSON: String) {
        var prints: [(kind: String, value: String)] = []
        var credential = false, success = false, artifact = false
        var bytes = Array(fieldsJSON.utf8)
        bytes.withUnsafeBytes { raw in
            try? JSONScanner.members(of: raw) { key, range in
                guard let k = CorrelationEvent.key(key) else { return }
                let value = CorrelationEvent.stringValue(raw, range)
                switch k {
                case "secret_b64": credential = true
                case "auth_result": success = value == "success" || value == "accepted"
                case "stored_as": artifact = !(value ?? "").isEmpty
                default: if let value, !value.isEmpty { prints.append((k, value)) }
                }
            }
        }
        bytes.removeAll()
        self.init(id: id, timestamp: timestamp, decky: decky, service: service, eventType: eventType,
                  attackerIP: attackerIP, fingerprints: prints, credential: credential, authSuccess: success, artifact: artifact)
    }

    /// The wanted key these raw bytes spell, without allocating for the others.
    static func key(_ k: UnsafeRawBufferPointer) -> String? {
        for w in wanted where w.utf8.count == k.count && w.utf8.elementsEqual(k) { return w }
        return nil
    }

    /// A JSON string value's text (escape-free fast path; escapes through the full parser).
    static func stringValue(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        guard range.count >= 2, raw[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: raw[range])))?.stringValue
    }
}

extension AttackerProfile {
    /// The `attackers.profile` JSON: what the API shows (`services`, `deckies` in traversal order, phases,
    /// fingerprints) plus the counters the engine resumes from.
    public var json: JSONValue { json(related: []) }

    /// The profile JSON with the IPs it is linked to by shared fingerprints (`related`).
    public func json(related: [(ip: String, shared: [String])]) -> JSONValue {
        .object([
            ("services", .array(serviceList.map(JSONValue.string))),
            ("deckies", .array(traversal.map(JSONValue.string))),
            ("phases", .array(phaseList.map { .string($0.rawValue) })),
            ("phase_first_seen", .object(phaseList.map { ($0.rawValue, .number(phases[$0]!)) })),
            ("fingerprints", .object(fingerprints.keys.sorted().map { k in
                (k, .object(fingerprints[k]!.keys.sorted().map { ($0, .number(Double(fingerprints[k]![$0]!))) }))
            })),
            ("related", .array(related.map { .object([("ip", .string($0.ip)), ("shared", .array($0.shared.map(JSONValue.string)))]) })),
            ("state", .object([
                ("last_event_id", .number(Double(lastEventID))),
                ("service_events", .object(services.keys.sorted().map { ($0, .number(Double(services[$0]!))) })),
                ("decky_contacts", .object(traversal.map { d in
                    let c = deckies[d]!
                    return (d, .array([.number(c.firstSeen), .number(Double(c.firstID)), .number(Double(c.events))]))
                })),
                ("credentials", .number(Double(credentialCount))), ("auth_successes", .number(Double(authSuccesses))),
                ("artifacts", .number(Double(artifactCount))),
            ])),
        ])
    }

    /// Rebuilds a profile from a stored row (nil when the row predates the profiler's state).
    public init?(row a: AttackerRecord) {
        guard let j = try? JSONValue.parse(a.profile), let st = j["state"], case .object(let svc)? = st["service_events"],
              case .object(let contacts)? = st["decky_contacts"] else { return nil }
        self.init(ip: a.ip, firstSeen: a.firstSeen, lastSeen: a.lastSeen, lastEventID: Int64(st["last_event_id"]?.doubleValue ?? 0))
        eventCount = a.eventCount
        for (k, v) in svc { services[k] = Int(v.doubleValue ?? 0) }
        for (k, v) in contacts {
            guard case .array(let t) = v, t.count == 3, let f = t[0].doubleValue, let id = t[1].doubleValue, let n = t[2].doubleValue else { continue }
            deckies[k] = DeckyContact(firstSeen: f, firstID: Int64(id), events: Int(n))
        }
        credentialCount = Int(st["credentials"]?.doubleValue ?? 0)
        authSuccesses = Int(st["auth_successes"]?.doubleValue ?? 0)
        artifactCount = Int(st["artifacts"]?.doubleValue ?? 0)
        if case .object(let prints)? = j["fingerprints"] {
            for (kind, values) in prints {
                guard case .object(let vs) = values else { continue }
                for (v, n) in vs { fingerprints[kind, default: [:]][v] = Int(n.doubleValue ?? 0) }
            }
        }
        if case .object(let ph)? = j["phase_first_seen"] {
            for (k, v) in ph { if let p = Phase(rawValue: k), let t = v.doubleValue { phases[p] = t } }
        }
    }
}

public final class ProfilerWorker: @unchecked Sendable {
    public static let cursorKey = "attacker_worker_cursor"
    public struct Configuration: Sendable {
        /// Rows read per query.
        public var page = 10_000
        /// Events folded per commit at most (a commit also happens once caught up, and at least every second).
        /// The cost of a commit is the profiles it rewrites: a large one rewrites each busy attacker once for
        /// many events.
        public var batch = 200_000
        /// While catching up, commit at least this often (seconds). Once caught up every pass commits.
        public var maxCommitDelay = 5.0
        public var interval = 1.0
        public init() {}
    }

    let store: any ProfileStoring
    let publish: (@Sendable (String, JSONValue, String) -> Void)?
    let config: Configuration
    public private(set) var engine: CorrelationEngine
    /// Seconds spent reading rows, scanning + folding them, and committing (since start; for the benchmark).
    public private(set) var timings = (read: 0.0, fold: 0.0, commit: 0.0)
    var uuids: [String: String] = [:]
    let log = ProcessLog("profiler")
    private let stopLock = ConditionMutex()
    private var stopping = false

    /// Loads the stored profiles and cursor. `publish(topic, payload, type)` is called after each commit.
    public init(store: any ProfileStoring, config: Configuration = Configuration(),
                publish: (@Sendable (String, JSONValue, String) -> Void)? = nil) throws {
        self.store = store
        self.config = config
        self.publish = publish
        let cursor = try store.state(ProfilerWorker.cursorKey).flatMap { try? JSONValue.parse($0) }?["last_log_id"]?.doubleValue ?? 0
        var profiles: [AttackerProfile] = []
        for a in try store.allAttackers() {
            uuids[a.ip] = a.uuid
            if let p = AttackerProfile(row: a) { profiles.append(p) }
        }
        engine = CorrelationEngine(profiles: profiles, lastEventID: Int64(cursor))
    }

    /// Folds everything new, page by page, committing profiles + cursor every `batch` events, every second,
    /// and once caught up; returns the number of events folded.
    @discardableResult
    public func catchUp() throws -> Int {
        var total = 0
        var pending = FoldResult()
        var since = monotonicSeconds()
        while true {
            var t = monotonicSeconds()
            let rows = try store.correlationEvents(after: engine.lastEventID, limit: config.page)
            timings.read += monotonicSeconds() - t
            t = monotonicSeconds()
            if !rows.isEmpty {
                let before = pending.folded
                engine.fold(rows, into: &pending)
                total += pending.folded - before
            }
            timings.fold += monotonicSeconds() - t
            let caughtUp = rows.count < config.page
            if pending.folded + pending.skipped > 0 && (caughtUp || pending.folded >= config.batch || monotonicSeconds() - since >= config.maxCommitDelay) {
                t = monotonicSeconds()
                try commit(pending)
                timings.commit += monotonicSeconds() - t
                pending = FoldResult()
                since = monotonicSeconds()
            }
            if caughtUp { return total }
        }
    }

    /// Writes the profiles a fold touched, their new fingerprints and the cursor in one transaction, then
    /// publishes.
    func commit(_ result: FoldResult) throws {
        var records: [AttackerRecord] = []
        var prints: [(uuid: String, kind: String, value: String, count: Int, first: Double, last: Double)] = []
        for ip in result.touched.sorted() {
            guard let p = engine.profiles[ip] else { continue }
            let uuid = uuids[ip] ?? newSessionID()
            uuids[ip] = uuid
            records.append(AttackerRecord(uuid: uuid, ip: ip, firstSeen: p.firstSeen, lastSeen: p.lastSeen, eventCount: p.eventCount,
                                          serviceCount: p.services.count, deckyCount: p.deckies.count,
                                          credentialCount: p.credentialCount, bountyCount: p.credentialCount + p.artifactCount,
                                          isTraversal: p.isTraversal, score: p.score, profile: p.json(related: engine.related(to: ip)).serialized))
        }
        for (t, span) in result.prints {
            guard let uuid = uuids[t.ip], let n = engine.profiles[t.ip]?.fingerprints[t.kind]?[t.value] else { continue }
            prints.append((uuid, t.kind, t.value, n, span.first, span.last))
        }
        let cursor = JSONValue.object([("last_log_id", .number(Double(engine.lastEventID)))]).serialized
        try store.saveProfiles(records, fingerprints: prints, cursorKey: ProfilerWorker.cursorKey, cursor: cursor)
        if let publish {
            let newIPs = Set(result.newIPs)
            for r in records {
                let ip = r.ip
                if newIPs.contains(ip), let p = engine.profiles[ip] {
                    publish("attacker.observed", .object([("attacker_ip", .string(ip)), ("attacker_uuid", .string(r.uuid)),
                                                          ("first_seen", .string(isoTime(p.firstSeen))),
                                                          ("deckies", .array(p.traversal.map(JSONValue.string)))]), "observed")
                }
                publish("attacker.scored", .object([("attacker_ip", .string(ip)), ("attacker_uuid", .string(r.uuid)),
                                                    ("event_count", .number(Double(r.eventCount))), ("service_count", .number(Double(r.serviceCount))),
                                                    ("decky_count", .number(Double(r.deckyCount))), ("bounty_count", .number(Double(r.bountyCount))),
                                                    ("credential_count", .number(Double(r.credentialCount))), ("is_traversal", .bool(r.isTraversal)),
                                                    ("score", .number(r.score))]), "scored")
            }
        }
    }

    /// Catches up every `interval` seconds until stop().
    public func run() {
        while true {
            do { try catchUp() } catch { log.error("profiler: \(error)") }
            let done: Bool = stopLock.withLock {
                if !stopping { stopLock.wait(seconds: config.interval) }
                return stopping
            }
            if done { return }
        }
    }

    public func stop() { stopLock.withLock { stopping = true; stopLock.signal() } }
}
