// Mutator.swift: service rotation (spec §3). A mutation rewrites a decky's recorded services under the fleet
// lock; `decnet serve` sees the record change and swaps the decoys in the running namespace (no namespace is
// recreated). Every mutation is announced on both sinks of spec §3.6: an RFC 5424 `decky_mutated` line and
// `decky.<name>.mutation` on the bus; it is also stored as a `decky_mutated` log row, so timelines can show
// it between an attacker's hops.
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public enum MutationTrigger: String, Sendable, CaseIterable {
    case creation, retirement, scheduled, `operator`
    case behavioral, healer, federation            // reserved (spec §3.5)
}

public struct Mutation: Sendable, Equatable {
    public var decky: String
    public var oldServices: [String]
    public var newServices: [String]
    public var trigger: MutationTrigger
    public var actor: String?
    public var timestamp: Double

    /// `{decky, old_services, new_services, trigger, actor?}` (the bus payload).
    public var payload: JSONValue {
        var m: [(String, JSONValue)] = [("decky", .string(decky)), ("old_services", .array(oldServices.map(JSONValue.string))),
                                        ("new_services", .array(newServices.map(JSONValue.string))), ("trigger", .string(trigger.rawValue))]
        if let actor, !actor.isEmpty { m.append(("actor", .string(actor))) }
        return .object(m)
    }

    /// spec §3.6: `<134>1 TS <decky> mutator - decky_mutated [relay@55555 decky=.. old_services=.. new_services=.. trigger=.. actor=..]`
    public var syslogLine: String {
        func esc(_ s: String) -> String {
            var o = ""
            for c in s { if c == "\"" || c == "\\" || c == "]" { o.append("\\") }; o.append(c) }
            return o
        }
        var sd = "decky=\"\(esc(decky))\" old_services=\"\(esc(oldServices.joined(separator: ",")))\" new_services=\"\(esc(newServices.joined(separator: ",")))\" trigger=\"\(trigger.rawValue)\""
        if let actor, !actor.isEmpty { sd += " actor=\"\(esc(actor))\"" }
        return "<134>1 \(isoTime(timestamp)) \(decky) mutator - decky_mutated [relay@55555 \(sd)]"
    }

    var logRecord: LogRecord {
        LogRecord(timestamp: timestamp, decky: decky, service: "mutator", eventType: "decky_mutated", attackerIP: "",
                  severity: 6, rawLine: syslogLine, fields: payload.serialized)
    }
}

public enum MutationError: Error, Equatable, CustomStringConvertible {
    case noSuchDecky(String), emptyPool(String)
    public var description: String {
        switch self {
        case .noSuchDecky(let n): return "no decky named \(n.debugDescription)"
        case .emptyPool(let n): return "decky \(n): no services to rotate to"
        }
    }
}

public final class Mutator: @unchecked Sendable {
    public static let lastMutatedKey = "mutator.last_mutated"
    public static let defaultInterval = 30.0 * 60

    let fleet: DeckyFleet
    let logPath: String?
    let publish: (@Sendable (String, JSONValue, String) -> Void)?
    let log = ProcessLog("mutator")
    var rng: any RandomNumberGenerator

    public init(fleet: DeckyFleet, logPath: String?, rng: any RandomNumberGenerator = SystemRandomNumberGenerator(),
                publish: (@Sendable (String, JSONValue, String) -> Void)? = nil) {
        self.fleet = fleet
        self.logPath = logPath
        self.rng = rng
        self.publish = publish
    }

    /// spec §3.1: the archetype's services (else every decoy we implement), limited to implemented ones, sorted.
    public static func pool(for spec: DeckySpec) -> [String] {
        let available = Set(DecoyRegistry.availableSlugs)
        let base = spec.archetype.flatMap(Archetype.named)?.services ?? DecoyRegistry.availableSlugs
        return Array(Set(base).intersection(available)).sorted()
    }

    /// spec §3.1: 1...min(3, |pool|) distinct services, retried until the set differs (at most 20 tries).
    public static func pick(current: [String], pool: [String], using rng: inout some RandomNumberGenerator) -> [String]? {
        guard !pool.isEmpty else { return nil }
        var chosen: [String] = current
        for _ in 0..<21 {
            let count = Int.random(in: 1...min(3, pool.count), using: &rng)
            chosen = Array(pool.shuffled(using: &rng).prefix(count)).sorted()
            if Set(chosen) != Set(current) { break }
        }
        return chosen
    }

    func lastMutated() -> [String: Double] {
        guard let t = try? fleet.store.state(Mutator.lastMutatedKey), let j = try? JSONValue.parse(t), case .object(let m) = j else { return [:] }
        var out: [String: Double] = [:]
        for (k, v) in m { if let d = v.doubleValue { out[k] = d } }
        return out
    }

    func setLastMutated(_ d: [String: Double]) throws {
        try fleet.store.setState(Mutator.lastMutatedKey, JSONValue.object(d.keys.sorted().map { ($0, .number(d[$0]!)) }).serialized)
    }

    /// Rotates one decky's services now. Throws for an unknown decky or an empty pool.
    @discardableResult
    public func mutate(_ name: String, trigger: MutationTrigger, actor: String? = nil, now: Double = wallClockSeconds()) throws -> Mutation {
        let m: Mutation = try fleet.locked {
            guard let e = try fleet.entries().entries.first(where: { $0.spec.name == name }) else { throw MutationError.noSuchDecky(name) }
            var spec = e.spec
            var g = rng
            guard let new = Mutator.pick(current: spec.services, pool: Mutator.pool(for: spec), using: &g) else { throw MutationError.emptyPool(name) }
            rng = g
            let old = spec.services
            spec.services = new
            try fleet.record(spec, state: e.state, error: e.lastError)
            var last = lastMutated()
            last[name] = now
            try setLastMutated(last)
            return Mutation(decky: name, oldServices: old, newServices: new, trigger: trigger, actor: actor, timestamp: now)
        }
        emit(m)
        return m
    }

    /// Announces deckies appearing (`creation`: old = []) or going (`retirement`: new = []), spec §3.6.
    public func announce(_ specs: [DeckySpec], _ trigger: MutationTrigger, actor: String? = nil, now: Double = wallClockSeconds()) {
        for s in specs {
            let (old, new): ([String], [String]) = trigger == .retirement ? (s.services, []) : ([], s.services)
            emit(Mutation(decky: s.name, oldServices: old, newServices: new, trigger: trigger, actor: actor, timestamp: now), quiet: true)
        }
    }

    /// Both sinks of spec §3.6 (+ the store row); each failing is logged and never blocks the others.
    public func emit(_ m: Mutation, quiet: Bool = false) {
        if let logPath {
            makeParentDirectory(logPath)
            if !appendLine(logPath, m.syslogLine) { log.warning("cannot append to \(logPath)") }
        }
        do { try fleet.store.write(StoreBatch(logs: [m.logRecord])) } catch { log.warning("store: \(error)") }
        if let publish, let topic = try? Topic.deckyMutation(m.decky) { publish(topic, m.payload, "mutation") }
        if !quiet { log.info("\(m.decky): [\(m.oldServices.joined(separator: ","))] -> [\(m.newServices.joined(separator: ","))] (\(m.trigger.rawValue))") }
    }

    /// spec §3.3: mutates every due decky (or exactly `only`, or all when `force`); returns seconds until the
    /// next one is due (nil: nothing scheduled).
    public func mutateDue(force: Bool = false, only: Set<String>? = nil, now: Double = wallClockSeconds()) -> Double? {
        let trigger: MutationTrigger = (force || only != nil) ? MutationTrigger.`operator` : MutationTrigger.scheduled
        guard let entries = try? fleet.entries().entries else { return nil }
        let last = lastMutated()
        var nextDue: Double? = nil
        for e in entries {
            let name = e.spec.name
            if let only, !only.contains(name) { continue }
            let interval = e.spec.mutateInterval.map { Double($0) * 60 }
            if interval == nil && !force && only == nil { continue }
            var due = force || only != nil
            if !due, let interval {
                let elapsed = now - (last[name] ?? 0)
                if elapsed >= interval { due = true } else { nextDue = min(nextDue ?? .infinity, interval - elapsed) }
            }
            guard due else { continue }
            do {
                try mutate(name, trigger: trigger, now: now)
                if let interval, !force, only == nil { nextDue = min(nextDue ?? .infinity, interval) }
            } catch {
                log.warning("\(name): \(error)")
            }
        }
        return nextDue
    }
}

/// Appends one line (and a newline) to a file, creating it 0640.
func appendLine(_ path: String, _ line: String) -> Bool {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
}

/// The watch loop (spec §3.4): mutate what is due, sleep min(next due, poll) with a 1 s floor, wake at once
/// on `request` (a `decky.<name>.mutate_request` on the bus), log only when the fleet appears or goes.
public final class MutatorLoop: @unchecked Sendable {
    let mutator: Mutator
    let poll: Double
    private let cond = ConditionMutex()
    private var pending = Set<String>()
    private var wake = false
    private var stopping = false
    let log = ProcessLog("mutator")

    public init(mutator: Mutator, poll: Double = 10) {
        self.mutator = mutator
        self.poll = max(0.1, poll)
    }

    public func request(_ decky: String) {
        cond.withLock { pending.insert(decky); wake = true; cond.signal() }
    }

    public func stop() { cond.withLock { stopping = true; cond.signal() } }

    /// Sleep length after a pass (spec §3.4).
    public static func sleepFor(nextDue: Double?, poll: Double) -> Double {
        guard let n = nextDue, n <= poll else { return poll }
        return max(1.0, n)
    }

    public func run() {
        var present: Bool? = nil
        while true {
            let requested: Set<String> = cond.withLock { let p = pending; pending = []; wake = false; return p }
            let next = mutator.mutateDue(only: requested.isEmpty ? nil : requested)
            let now = next != nil || !((try? mutator.fleet.entries().entries.isEmpty) ?? true)
            if present != now {
                log.info(now ? "active deployment observed" : "no active deployment; mutator idling")
                present = now
            }
            let timeout = MutatorLoop.sleepFor(nextDue: next, poll: poll)
            let done: Bool = cond.withLock {
                if !wake && !stopping { cond.wait(seconds: timeout) }
                return stopping
            }
            if done { return }
        }
    }

    /// Feeds `decky.*.mutate_request` into `request` until the subscription ends. The decky is the topic's
    /// second token, else the payload's `name`.
    public func follow(bus: any Bus) async {
        guard let sub = try? bus.subscribe("decky.*.mutate_request") else { return }
        await withTaskCancellationHandler {
            for await e in sub {
                let parts = e.topic.split(separator: ".")
                let name = parts.count >= 3 ? String(parts[1]) : (e.payload["name"]?.stringValue ?? "")
                if !name.isEmpty { request(name) }
            }
        } onCancel: { sub.close() }
    }
}
