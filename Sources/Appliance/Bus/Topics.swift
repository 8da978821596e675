// Topic matching (spec §1.6, NATS rules) and the canonical topic catalogue (spec §1.11) as typed builders.

/// NATS-style match: tokens split on `.`; `*` matches exactly one non-empty token; `>` matches one or more
/// remaining tokens (anything after `>` in the pattern is ignored, as the original does); otherwise token
/// counts must agree. Works on UTF-8 bytes, no allocation.
public func topicMatches(pattern: String, topic: String) -> Bool {
    var p = pattern
    var t = topic
    return p.withUTF8 { pb in t.withUTF8 { tb in topicMatches(pattern: UnsafeRawBufferPointer(pb), topic: UnsafeRawBufferPointer(tb)) } }
}

public func topicMatches(pattern pb: UnsafeRawBufferPointer, topic tb: UnsafeRawBufferPointer) -> Bool {
    let dot = UInt8(ascii: ".")
    var pi = 0, ti = 0
    var topicHasToken = true          // "a." has a second, empty token; "" has one empty token
    while true {
        var pe = pi
        while pe < pb.count && pb[pe] != dot { pe += 1 }
        let pLen = pe - pi
        if pLen == 1 && pb[pi] == UInt8(ascii: ">") { return topicHasToken }
        if !topicHasToken { return false }
        var te = ti
        while te < tb.count && tb[te] != dot { te += 1 }
        let tLen = te - ti
        if pLen == 1 && pb[pi] == UInt8(ascii: "*") {
            if tLen == 0 { return false }
        } else {
            if pLen != tLen { return false }
            var k = 0
            while k < pLen {
                if pb[pi + k] != tb[ti + k] { return false }
                k += 1
            }
        }
        if te < tb.count { ti = te + 1 } else { topicHasToken = false }
        if pe < pb.count { pi = pe + 1 } else { return !topicHasToken }
    }
}

public enum TopicError: Error, Equatable, CustomStringConvertible {
    case invalidSegment(String)
    case emptyLeaf

    public var description: String {
        switch self {
        case .invalidSegment(let s): return "invalid topic segment \(s.debugDescription): must be non-empty with no '.', '*', '>' or whitespace"
        case .emptyLeaf: return "topic leaf must not be empty"
        }
    }
}

/// Builders for every topic the appliance publishes. Variable segments are validated (non-empty, no `.`,
/// `*`, `>` or whitespace; `:` and `-` allowed); fixed dotted leaves like `session.ended` are constants.
public enum Topic {
    public enum Leaf {
        public static let enqueued = "enqueued", applying = "applying", applied = "applied", failed = "failed"
        public static let status = "status", state = "state", traffic = "traffic", mutateRequest = "mutate_request"
        public static let mutation = "mutation", lifecycle = "lifecycle", observed = "observed", scored = "scored"
        public static let fingerprinted = "fingerprinted", sessionStarted = "session.started"
        public static let sessionEnded = "session.ended", health = "health", control = "control"
        public static let busHealth = "bus.health", log = "log"
    }

    public static func segment(_ s: String) throws(TopicError) -> String {
        if s.isEmpty { throw .invalidSegment(s) }
        for u in s.unicodeScalars {
            if u == "." || u == "*" || u == ">" || u.properties.isWhitespace { throw .invalidSegment(s) }
        }
        return s
    }

    static func leaf(_ s: String) throws(TopicError) -> String {
        if s.isEmpty { throw .emptyLeaf }
        return s
    }

    // system.*
    public static func system(_ leaf: String) throws(TopicError) -> String { "system." + (try Topic.leaf(leaf)) }
    public static func systemHealth(_ worker: String) throws(TopicError) -> String { "system.\(try segment(worker)).health" }
    public static func systemControl(_ worker: String) throws(TopicError) -> String { "system.\(try segment(worker)).control" }
    public static let busHealth = "system.bus.health"
    public static let systemLog = "system.log"

    // decky.*
    public static func decky(_ id: String, _ eventType: String) throws(TopicError) -> String {
        "decky.\(try segment(id)).\(try segment(eventType))"
    }
    public static func deckyState(_ id: String) throws(TopicError) -> String { try decky(id, Leaf.state) }
    public static func deckyMutation(_ id: String) throws(TopicError) -> String { try decky(id, Leaf.mutation) }
    public static func deckyMutateRequest(_ id: String) throws(TopicError) -> String { try decky(id, Leaf.mutateRequest) }
    public static func deckyTraffic(_ id: String) throws(TopicError) -> String { try decky(id, Leaf.traffic) }
    public static func deckyLifecycle(_ id: String) throws(TopicError) -> String { try decky(id, Leaf.lifecycle) }

    // swarm.*
    /// `swarm.host.<host_uuid>.state`: a swarm host's status changed (enrolled, active, stale, unreachable, evicted,
    /// banned, decommissioned).
    public static func swarmHostState(_ id: String) throws(TopicError) -> String { "swarm.host.\(try segment(id)).state" }

    // topology.*
    public static func topologyMutation(_ id: String, _ state: String) throws(TopicError) -> String {
        "topology.\(try segment(id)).mutation.\(try segment(state))"
    }
    public static func topologyStatus(_ id: String) throws(TopicError) -> String { "topology.\(try segment(id)).status" }

    // attacker.*
    public static func attacker(_ leaf: String) throws(TopicError) -> String { "attacker." + (try Topic.leaf(leaf)) }
    public static let attackerObserved = "attacker.observed"
    public static let attackerScored = "attacker.scored"
    public static let attackerFingerprinted = "attacker.fingerprinted"
    public static let attackerSessionStarted = "attacker.session.started"
    public static let attackerSessionEnded = "attacker.session.ended"
    public static func attackerObservation(_ primitive: String) throws(TopicError) -> String {
        "attacker.observation." + (try Topic.leaf(primitive))
    }

    // other roots
    public static func credential(_ leaf: String) throws(TopicError) -> String { "credential." + (try Topic.leaf(leaf)) }
    public static func identity(_ leaf: String) throws(TopicError) -> String { "identity." + (try Topic.leaf(leaf)) }
    public static func campaign(_ leaf: String) throws(TopicError) -> String { "campaign." + (try Topic.leaf(leaf)) }
}
