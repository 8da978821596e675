// Correlation.swift: events in, attacker profiles out (spec §8.2-8.3). Pure: no I/O, no clock, no globals.
//
// Determinism: the engine folds events in the order given and ignores any event whose id is not above the
// last one folded, so at-least-once delivery (a replay after a crash, a batch fed twice) and any batching
// of the same ordered stream give identical profiles. First-contact order is by (timestamp, id), never by
// arrival.

/// One event as the correlator needs it: the log row's columns plus the few fields it reads.
public struct CorrelationEvent: Sendable, Equatable {
    public var id: Int64
    public var timestamp: Double
    public var decky: String
    public var service: String
    public var eventType: String
    public var attackerIP: String
    /// Fingerprint fields (`ja3`, `ja4`, `ja4h`, `hassh`, `ja4t`, `p0f_os`, `p0f_signature`) when present.
    public var fingerprints: [(kind: String, value: String)]
    /// The event carried a credential (`secret_b64`); `authSuccess` when the decoy accepted it.
    public var credential: Bool
    public var authSuccess: Bool
    /// The event stored an upload (an artifact).
    public var artifact: Bool

    public init(id: Int64, timestamp: Double, decky: String, service: String, eventType: String, attackerIP: String,
                fingerprints: [(kind: String, value: String)] = [], credential: Bool = false, authSuccess: Bool = false,
                artifact: Bool = false) {
        self.id = id
        self.timestamp = timestamp
        self.decky = decky
        self.service = service
        self.eventType = eventType
        self.attackerIP = attackerIP
        self.fingerprints = fingerprints
        self.credential = credential
        self.authSuccess = authSuccess
        self.artifact = artifact
    }

    public static func == (a: CorrelationEvent, b: CorrelationEvent) -> Bool {
        a.id == b.id && a.timestamp == b.timestamp && a.decky == b.decky && a.service == b.service && a.eventType == b.eventType
            && a.attackerIP == b.attackerIP && a.credential == b.credential && a.authSuccess == b.authSuccess && a.artifact == b.artifact
            && a.fingerprints.elementsEqual(b.fingerprints, by: { $0.kind == $1.kind && $0.value == $1.value })
    }

    /// The fingerprint kinds the correlator keeps (and links attackers by, but for the OS label).
    public static let fingerprintKinds = ["ja3", "ja4", "ja4h", "hassh", "ja4t", "p0f_os", "p0f_signature"]
    /// Kinds specific enough to say "probably the same tool/host" across IPs (an OS label is not).
    public static let linkingKinds: Set<String> = ["ja3", "ja4", "ja4h", "hassh", "ja4t", "p0f_signature"]
}

/// Kill-chain phase hints, in chain order.
public enum Phase: String, Sendable, CaseIterable, Comparable {
    case scan, auth, command, exfiltration

    public static func < (a: Phase, b: Phase) -> Bool { a.order < b.order }
    var order: Int { Phase.allCases.firstIndex(of: self)! }

    /// The phase an event suggests, if any. Event ids are the catalogue's: sensor ids (`scan.portscan.detected`)
    /// and dotted decoy ids `<service>.<category>.<action>` (`telnet.login.failed`, `telnet.command.input`,
    /// `ftp.session.file_download`, ...).
    public static func of(_ e: CorrelationEvent) -> Phase? {
        of(type: e.eventType) ?? (e.credential ? .auth : nil)
    }

    /// The phase an event type suggests on its own (the engine memoises this per type).
    public static func of(type t: String) -> Phase? {
        if t.hasPrefix("scan.") || t.contains(".scan.") { return .scan }
        if t.contains("download") || t.contains("exfil") || t.hasSuffix(".dump") { return .exfiltration }
        if t.contains(".command.") || t.hasPrefix("command.") || t.hasSuffix(".command") || t.hasSuffix(".exec") { return .command }
        if t.contains(".login.") || t.contains(".auth.") || t.hasPrefix("login.") || t.hasPrefix("auth.") { return .auth }
        return nil
    }
}

/// Everything known about one source IP. Values only: a profile can be stored and loaded back.
public struct AttackerProfile: Sendable, Equatable {
    public var ip: String
    public var firstSeen: Double
    public var lastSeen: Double
    public var lastEventID: Int64
    public var eventCount: Int = 0
    public var services: [String: Int] = [:]
    /// Per decky: first contact (timestamp, event id) and event count.
    public var deckies: [String: DeckyContact] = [:]
    public var credentialCount: Int = 0
    public var authSuccesses: Int = 0
    public var artifactCount: Int = 0
    /// kind → value → times seen.
    public var fingerprints: [String: [String: Int]] = [:]
    /// Phase → first time seen.
    public var phases: [Phase: Double] = [:]

    public struct DeckyContact: Sendable, Equatable {
        public var firstSeen: Double
        public var firstID: Int64
        public var events: Int
        public init(firstSeen: Double, firstID: Int64, events: Int) {
            self.firstSeen = firstSeen
            self.firstID = firstID
            self.events = events
        }
    }

    public init(ip: String, firstSeen: Double, lastSeen: Double, lastEventID: Int64) {
        self.ip = ip
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.lastEventID = lastEventID
    }

    /// Deckies in first-contact order (the traversal).
    public var traversal: [String] {
        deckies.sorted { ($0.value.firstSeen, $0.value.firstID, $0.key) < ($1.value.firstSeen, $1.value.firstID, $1.key) }.map(\.key)
    }
    public var isTraversal: Bool { deckies.count >= 2 }
    public var serviceList: [String] { services.keys.sorted() }
    /// Phases seen, in chain order.
    public var phaseList: [Phase] { phases.keys.sorted() }

    /// The score (documented in `Score`).
    public var score: Double { Score.of(self) }

    mutating func fold(_ e: CorrelationEvent, phase: Phase?) {
        eventCount += 1
        if e.timestamp < firstSeen { firstSeen = e.timestamp }
        if e.timestamp > lastSeen { lastSeen = e.timestamp }
        lastEventID = e.id
        if !e.service.isEmpty { services[e.service, default: 0] += 1 }
        if !e.decky.isEmpty {
            if var c = deckies[e.decky] {
                c.events += 1
                if (e.timestamp, e.id) < (c.firstSeen, c.firstID) { c.firstSeen = e.timestamp; c.firstID = e.id }
                deckies[e.decky] = c
            } else {
                deckies[e.decky] = DeckyContact(firstSeen: e.timestamp, firstID: e.id, events: 1)
            }
        }
        if e.credential { credentialCount += 1 }
        if e.authSuccess { authSuccesses += 1 }
        if e.artifact { artifactCount += 1 }
        for f in e.fingerprints where !f.value.isEmpty { fingerprints[f.kind, default: [:]][f.value, default: 0] += 1 }
        if let p = phase {
            if let t = phases[p] { if e.timestamp < t { phases[p] = e.timestamp } } else { phases[p] = e.timestamp }
        }
    }
}

/// How dangerous an attacker looks, from what it did (weights chosen so that doing more of the kill chain
/// always outranks touching more of the network):
///
/// | signal | points |
/// |---|---|
/// | each distinct decky | 3 |
/// | touched ≥ 2 deckies (traversal) | 5 |
/// | each distinct service | 2 |
/// | scan phase | 2 |
/// | auth phase (tried credentials) | 10 |
/// | each credential tried (at most 20 counted) | 0.5 |
/// | a credential accepted | 15 |
/// | command phase | 20 |
/// | exfiltration phase | 25 |
/// | each artifact left (at most 5 counted) | 10 |
/// | volume: 2 × log10(events + 1) | ≤ ~12 |
public enum Score {
    public static func of(_ p: AttackerProfile) -> Double {
        var s = 3.0 * Double(p.deckies.count) + 2.0 * Double(p.services.count)
        if p.isTraversal { s += 5 }
        if p.phases[.scan] != nil { s += 2 }
        if p.phases[.auth] != nil { s += 10 }
        s += 0.5 * Double(min(p.credentialCount, 20))
        if p.authSuccesses > 0 { s += 15 }
        if p.phases[.command] != nil { s += 20 }
        if p.phases[.exfiltration] != nil { s += 25 }
        s += 10 * Double(min(p.artifactCount, 5))
        s += 2 * log10(Double(p.eventCount) + 1)
        return (s * 100).rounded() / 100
    }

    /// log10 without Foundation.
    static func log10(_ x: Double) -> Double {
        // ln(x)/ln(10) via the exponent and a short series on the mantissa (x ≥ 1 here).
        guard x > 0 else { return 0 }
        var m = x, e = 0.0
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        let y = (m - 1) / (m + 1), y2 = y * y
        var term = y, sum = 0.0, k = 1.0
        for _ in 0..<30 { sum += term / k; term *= y2; k += 2 }
        return e + 2 * sum / 2.302585092994046
    }
}

/// What one fold changed: IPs seen for the first time, and every IP whose profile moved.
public struct FoldResult: Sendable, Equatable {
    public var newIPs: [String] = []
    public var touched: Set<String> = []
    /// Fingerprints seen in this fold, with the first and last time in it.
    public var prints: [TouchedPrint: Span] = [:]
    public var folded = 0
    public var skipped = 0

    public init() {}

    /// This fold followed by `later`.
    public mutating func merge(_ later: FoldResult) {
        let known = Set(newIPs)
        newIPs += later.newIPs.filter { !known.contains($0) }
        touched.formUnion(later.touched)
        for (t, s) in later.prints {
            if let cur = prints[t] { prints[t] = Span(first: min(cur.first, s.first), last: max(cur.last, s.last)) } else { prints[t] = s }
        }
        folded += later.folded
        skipped += later.skipped
    }
}

public struct TouchedPrint: Hashable, Sendable {
    public var ip: String
    public var kind: String
    public var value: String
}

public struct Span: Equatable, Sendable {
    public var first: Double
    public var last: Double
}

/// The correlation engine: profiles by IP, a fingerprint → IPs index for linking, and the id of the last
/// event folded.
public struct CorrelationEngine: Sendable {
    public private(set) var profiles: [String: AttackerProfile] = [:]
    public private(set) var lastEventID: Int64 = 0
    /// A linking fingerprint → the IPs that showed it.
    var byFingerprint: [FingerprintKey: Set<String>] = [:]
    /// Per event type: its phase (`Phase.of(type:)` does substring searches; types are few, events many).
    var phaseByType: [String: Phase?] = [:]
    /// Hostnames of our own machinery (prober, correlator) are not attackers' deckies.
    public static let internalDeckyPrefix = "decnet-"

    struct FingerprintKey: Hashable, Sendable {
        var kind: String
        var value: String
    }

    public init() {}

    /// Starts from stored profiles (and the id they were folded up to).
    public init(profiles: [AttackerProfile], lastEventID: Int64) {
        self.lastEventID = lastEventID
        for p in profiles {
            self.profiles[p.ip] = p
            for (kind, values) in p.fingerprints where CorrelationEvent.linkingKinds.contains(kind) {
                for v in values.keys { byFingerprint[FingerprintKey(kind: kind, value: v), default: []].insert(p.ip) }
            }
        }
    }

    /// Folds events (in the given order); events at or below the last folded id are skipped.
    @discardableResult
    public mutating func fold(_ events: some Sequence<CorrelationEvent>) -> FoldResult {
        fold(Array(events))
    }

    /// The same, for an array (non-generic: callers in other modules get the specialised loop).
    @discardableResult
    public mutating func fold(_ events: [CorrelationEvent]) -> FoldResult {
        var r = FoldResult()
        fold(events, into: &r)
        return r
    }

    /// Folds an array, accumulating what changed into `r` (a worker folding page after page before one commit).
    public mutating func fold(_ events: [CorrelationEvent], into r: inout FoldResult) {
        for e in events {
            guard e.id > lastEventID else { r.skipped += 1; continue }
            lastEventID = e.id
            guard !e.attackerIP.isEmpty else { r.skipped += 1; continue }
            let typePhase: Phase?
            if let memo = phaseByType[e.eventType] { typePhase = memo } else {
                typePhase = Phase.of(type: e.eventType)
                phaseByType[e.eventType] = typePhase
            }
            let phase = typePhase ?? (e.credential ? .auth : nil)
            if e.decky.utf8.count >= 7 && e.decky.hasPrefix(CorrelationEngine.internalDeckyPrefix) {
                var copy = e
                copy.decky = ""
                fold(copy, phase: phase, into: &r)
            } else {
                fold(e, phase: phase, into: &r)
            }
        }
    }

    mutating func fold(_ e: CorrelationEvent, phase: Phase?, into r: inout FoldResult) {
        if profiles[e.attackerIP]?.fold(e, phase: phase) == nil {
            var p = AttackerProfile(ip: e.attackerIP, firstSeen: e.timestamp, lastSeen: e.timestamp, lastEventID: e.id)
            p.fold(e, phase: phase)
            profiles[e.attackerIP] = p
            r.newIPs.append(e.attackerIP)
        }
        for f in e.fingerprints where !f.value.isEmpty {
            let t = TouchedPrint(ip: e.attackerIP, kind: f.kind, value: f.value)
            if var span = r.prints[t] {
                span.first = min(span.first, e.timestamp)
                span.last = max(span.last, e.timestamp)
                r.prints[t] = span
            } else {
                r.prints[t] = Span(first: e.timestamp, last: e.timestamp)
                if CorrelationEvent.linkingKinds.contains(f.kind) {
                    byFingerprint[FingerprintKey(kind: f.kind, value: f.value), default: []].insert(e.attackerIP)
                }
            }
        }
        r.touched.insert(e.attackerIP)
        r.folded += 1
    }

    /// Other IPs that showed one of this IP's linking fingerprints, each with the shared "kind:value"s;
    /// at most `limit`, sorted by IP. A fingerprint that more than `maxSharing` IPs show (a stock OS stack,
    /// a popular browser) says nothing about who is behind them and links nobody.
    public func related(to ip: String, limit: Int = 20, maxSharing: Int = 50) -> [(ip: String, shared: [String])] {
        guard let p = profiles[ip] else { return [] }
        var shared: [String: [String]] = [:]
        for (kind, values) in p.fingerprints where CorrelationEvent.linkingKinds.contains(kind) {
            for v in values.keys {
                guard let ips = byFingerprint[FingerprintKey(kind: kind, value: v)], ips.count <= maxSharing else { continue }
                for other in ips where other != ip { shared[other, default: []].append(kind + ":" + v) }
            }
        }
        return shared.keys.sorted().prefix(limit).map { ($0, shared[$0]!.sorted()) }
    }
}
