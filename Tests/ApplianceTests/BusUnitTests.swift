// BusUnitTests.swift: framing, JSON scanning, wildcard matching (spec §1.6 + NATS rules), topic builders,
// FakeBus/NullBus contracts, and the worker registry.
@testable import Appliance
import NIOCore
import Foundation
import Testing

func parseAll(_ bytes: [UInt8]) throws -> [BusFrame] {
    var out: [BusFrame] = []
    var offset = 0
    var scanned = 0
    while offset < bytes.count {
        let r = try bytes.withUnsafeBytes { raw in
            try BusFrameParser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]), scanned: &scanned)
        }
        guard let (f, used) = r else { break }
        out.append(f)
        offset += used
    }
    return out
}

@Test func framesRoundTripAndMatchTheOriginalBytes() throws {
    let body = Array(#"{"payload":{"a":1},"type":"x"}"#.utf8)
    let pub = try BusFrameEncoder.encode(.pub, args: "decky.web01.mutation", body: body)
    #expect(Array(pub.prefix(25)) == [UInt8]("PUB decky.web01.mutation\n".utf8))
    #expect(Array(pub[25..<29]) == [0, 0, 0, UInt8(body.count)])
    #expect(try BusFrameEncoder.encode(.bye) == Array("BYE\n".utf8) + [0, 0, 0, 0])
    #expect(try BusFrameEncoder.encode(.hello, args: "api  ") == Array("HELLO api\n".utf8) + [0, 0, 0, 0])
    let frames = try parseAll(pub + Array("SUB  system.*.health \r\n".utf8) + [0, 0, 0, 0])
    #expect(frames == [BusFrame(verb: .pub, args: "decky.web01.mutation", body: body), BusFrame(verb: .sub, args: "system.*.health")])
    // Byte-at-a-time delivery parses the same frames.
    var partial: [UInt8] = []
    var got: [BusFrame] = []
    var scanned = 0
    for b in pub {
        partial.append(b)
        if let (f, used) = try partial.withUnsafeBytes({ try BusFrameParser.parse($0, scanned: &scanned) }) {
            got.append(f)
            partial.removeFirst(used)
        }
    }
    #expect(got == [BusFrame(verb: .pub, args: "decky.web01.mutation", body: body)])
}

@Test func malformedFramesAreProtocolErrors() {
    let cases: [([UInt8], BusProtocolError)] = [
        (Array("\n".utf8) + [0, 0, 0, 0], .emptyHeader),
        (Array("\r\n".utf8) + [0, 0, 0, 0], .emptyHeader),
        (Array("FOO bar\n".utf8) + [0, 0, 0, 0], .unknownVerb("FOO")),
        (Array("pub x\n".utf8) + [0, 0, 0, 0], .unknownVerb("pub")),
        (Array("PUB x\n".utf8) + [0, 0x10, 0, 1], .bodyTooLarge(0x100001)),
        (Array("PUB caf\u{e9}\n".utf8) + [0, 0, 0, 0], .nonASCIIHeader),
        ([UInt8](repeating: UInt8(ascii: "A"), count: 5000), .headerTooLong),
    ]
    for (bytes, expected) in cases {
        var scanned = 0
        #expect(throws: expected) { _ = try bytes.withUnsafeBytes { try BusFrameParser.parse($0, scanned: &scanned) } }
    }
    // A header of exactly 4096 bytes including LF is allowed; 4097 is not.
    let ok = Array("PUB ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 4091) + [0x0A, 0, 0, 0, 0]
    var scanned = 0
    #expect((try? ok.withUnsafeBytes { try BusFrameParser.parse($0, scanned: &scanned) }) != nil)
    let tooLong = Array("PUB ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 4092) + [0x0A, 0, 0, 0, 0]
    scanned = 0
    #expect(throws: BusProtocolError.headerTooLong) { _ = try tooLong.withUnsafeBytes { try BusFrameParser.parse($0, scanned: &scanned) } }
    // Need-more is not an error.
    scanned = 0
    let short = [UInt8]("PUB a.b\n".utf8) + [0, 0]
    let needMore = try? short.withUnsafeBytes { try BusFrameParser.parse($0, scanned: &scanned) }.map { $0.consumed }
    #expect(needMore == .some(nil))
}

@Test func jsonScannerValidatesAndFindsMembers() throws {
    func members(_ s: String) throws(JSONError) -> [String: String] {
        var out: [String: String] = [:]
        let bytes = Array(s.utf8)
        let r: Result<Void, JSONError> = bytes.withUnsafeBytes { raw in
            do throws(JSONError) {
                try JSONScanner.members(of: raw) { k, v in
                    out[String(decoding: k, as: UTF8.self)] = String(decoding: UnsafeRawBufferPointer(rebasing: raw[v]), as: UTF8.self)
                }
                return .success(())
            } catch { return .failure(error) }
        }
        try r.get()
        return out
    }
    #expect(try members(#" {"type": "x", "payload": {"a": [1, 2.5e3, -0.1, true, null, "\u00e9\n"]}, "type":"y"} "#)
            == ["type": #""y""#, "payload": #"{"a": [1, 2.5e3, -0.1, true, null, "\u00e9\n"]}"#])
    for bad in ["", "[]", "1", #"{"a":}"#, #"{"a":1,}"#, #"{"a":01}"#, #"{"a":"\x"}"#, "{\"a\":\"\u{1}\"}", #"{"a":1} x"#,
                #"{"a":tru}"#, String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
        #expect(throws: JSONError.self, "\(bad)") { _ = try members(bad) }
    }
    let invalidUTF8: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
    #expect(throws: JSONError.self) { _ = try JSONValue.parse(invalidUTF8) }
    let v = try JSONValue.parse(#"{"k":"a\"b\\c\u00e9\ud83d\ude00","n":[1,2.5,-3e2],"o":{},"t":true,"z":null}"#)
    #expect(v["k"] == .string("a\"b\\c\u{e9}\u{1F600}"))
    #expect(v["n"] == .array([.number(1), .number(2.5), .number(-300)]))
    #expect(try JSONValue.parse(v.serialized) == v)
}

@Test func wildcardMatchingTable() {
    // (pattern, topic, expected): spec §1.6 examples and NATS rules as the original implements them.
    let table: [(String, String, Bool)] = [
        ("topology.>", "topology.abc.status", true),
        ("topology.>", "topology.abc.mutation.applied", true),
        ("topology.>", "topology", false),
        ("topology.>", "topology.", true),              // one (empty) token remains
        ("topology.*.mutation.enqueued", "topology.t1.mutation.enqueued", true),
        ("topology.*.mutation.enqueued", "topology.t1.mutation.applied", false),
        ("decky.*.mutate_request", "decky.web01.mutate_request", true),
        ("system.*.health", "system.bus.health", true),
        ("system.*.health", "system..health", false),   // * needs a non-empty token
        ("system.*.health", "system.a.b.health", false),
        ("*", "a", true), ("*", "a.b", false), ("*", "", false),
        (">", "a", true), (">", "a.b.c", true), (">", "", true),
        ("a.>.c", "a.b", true),                          // tokens after > are ignored
        ("a.b", "a.b", true), ("a.b", "a.b.c", false), ("a.b.c", "a.b", false), ("a.b", "a.c", false),
        ("a.*", "a.", false), ("a.", "a.", true), ("a.*.c", "a.b.c", true), ("*.*", "a.b", true),
        ("attacker.session.ended", "attacker.session.ended", true), ("attacker.>", "attacker.session.ended", true),
        ("decky.host:web-01.state", "decky.host:web-01.state", true),
    ]
    for (p, t, want) in table {
        #expect(topicMatches(pattern: p, topic: t) == want, "\(p) vs \(t)")
    }
}

@Test func topicBuildersValidateSegments() throws {
    #expect(try Topic.systemHealth("reuse-correlator") == "system.reuse-correlator.health")
    #expect(try Topic.systemControl("sniffer") == "system.sniffer.control")
    #expect(try Topic.deckyState("local:web01") == "decky.local:web01.state")
    #expect(try Topic.deckyMutation("web01") == "decky.web01.mutation")
    #expect(try Topic.deckyMutateRequest("web01") == "decky.web01.mutate_request")
    #expect(try Topic.deckyTraffic("web01") == "decky.web01.traffic")
    #expect(try Topic.topologyMutation("t1", Topic.Leaf.applied) == "topology.t1.mutation.applied")
    #expect(try Topic.topologyStatus("t1") == "topology.t1.status")
    #expect(try Topic.attacker(Topic.Leaf.sessionEnded) == Topic.attackerSessionEnded)
    #expect(try Topic.system(Topic.Leaf.busHealth) == Topic.busHealth)
    for bad in ["", "a.b", "a*", ">", "a b", "a\tb", "x\n"] {
        #expect(throws: TopicError.self) { _ = try Topic.deckyState(bad) }
        #expect(throws: TopicError.self) { _ = try Topic.systemHealth(bad) }
    }
    #expect(throws: TopicError.emptyLeaf) { _ = try Topic.attacker("") }
}

@Test func fakeBusDeliversToOwnSubscribersAndDropsOldest() async throws {
    let bus = FakeBus(queueSize: 4)
    let sub = try bus.subscribe("decky.*.mutation")
    let other = try bus.subscribe("system.>")
    for i in 0..<6 { try await bus.publish("decky.web\(i).mutation", .object([("i", .number(Double(i)))]), type: "mutation") }
    #expect(sub.dropped == 2)
    var seen: [Double] = []
    for _ in 0..<4 { seen.append((await sub.next())!.payload["i"]!.doubleValue!) }
    #expect(seen == [2, 3, 4, 5])
    #expect(other.dropped == 0)
    await bus.close()
    #expect(await sub.next() == nil)
    await #expect(throws: BusError.closed) { try await bus.publish("a.b", .object([])) }
    #expect(throws: BusError.closed) { _ = try bus.subscribe("a") }

    let null = NullBus()
    try await null.publish("a.b", .object([]))
    #expect(await (try null.subscribe("a.>")).next() == nil)
    ThreadSafePublisher(nil)("a.b", .object([]))           // nil bus: no-op
}

@Test func registryFoldsHeartbeatsIntoStates() async throws {
    let units = InstalledUnits(runner: { argv in
        #expect(argv == ["systemctl", "list-unit-files", "decnet-*.service", "--no-legend"])
        return (0, "decnet-api.service enabled enabled\ndecnet-bus.service disabled enabled\nother.service enabled\ndecnet-Bad.service x\n")
    })
    let registry = WorkerRegistry(installed: units)
    let now = 10_000.0
    registry.ingest(BusEvent(topic: "system.sniffer.health", payload: .object([("worker", .string("sniffer")), ("ts", .number(now - 10)), ("pkts", .number(5))])))
    registry.ingest(BusEvent(topic: "system.bus.health", payload: .object([("pid", .number(1)), ("ts", .number(now - 100))])))
    registry.ingest(BusEvent(topic: "system.evil.health", payload: .object([("ts", .number(now))])))
    registry.ingest(BusEvent(topic: "system.api.control", payload: .object([("ts", .number(now))])))
    let rows = Dictionary(uniqueKeysWithValues: registry.snapshot(now: now).map { ($0.name, $0) })
    #expect(rows.count == WorkerRegistry.knownWorkers.count)
    #expect(rows["evil"] == nil)
    #expect(rows["sniffer"]?.status == .ok)
    #expect(rows["sniffer"]?.secondsSince == 10)
    #expect(rows["sniffer"]?.extra == .object([("pkts", .number(5))]))
    #expect(rows["bus"]?.status == .stale)
    #expect(rows["bus"]?.installed == true)
    #expect(rows["api"]?.status == .unknown && rows["api"]?.installed == true)
    #expect(rows["profiler"]?.installed == false)
    #expect(InstalledUnits(runner: { _ in (1, "") }).names().isEmpty)        // no systemd: empty, not an error
    #expect(InstalledUnits(runner: { _ in (-1, "") }).names().isEmpty)

    // Heartbeat + stop intent over a FakeBus, end to end.
    let bus = FakeBus()
    let feed = Task { await registry.run(bus: bus) }
    let beat = Task { await runHealthHeartbeat(bus: bus, worker: "profiler", interval: 0.05, extra: { [("cursor", .number(7))] }) }
    let stop = Task { await waitForStopIntent(bus: bus, worker: "profiler") }
    try await Task.sleep(nanoseconds: 300_000_000)
    try await bus.publish("system.profiler.control", .object([("action", .string("start"))]), type: "control")
    try await bus.publish("system.profiler.control", .object([("action", .string("stop")), ("requested_by", .string("admin"))]), type: "control")
    #expect(await stop.value == "admin")
    let row = registry.snapshot().first { $0.name == "profiler" }
    #expect(row?.status == .ok)
    #expect(row?.extra["cursor"] == .number(7))
    beat.cancel()
    feed.cancel()
    await bus.close()
}

/// EVT frames of every size fit the buffer computed for them (the size was once one byte short: the broker
/// crashed when the allocation came out exactly that size).
@Test func evtFramesFitTheirComputedSize() throws {
    let server = BusServer(path: "/nonexistent-decnet-dir/unused.sock", group: "", heartbeatInterval: 0)
    let allocator = ByteBufferAllocator()
    let topic = Array("decky.d2.mutate_request".utf8), type = Array(#""mutate_request""#.utf8)
    for n in 0..<700 {
        let payload = Array(("{\"k\":\"" + String(repeating: "x", count: n) + "\"}").utf8)
        let frame = topic.withUnsafeBytes { t in type.withUnsafeBytes { ty in payload.withUnsafeBytes { p in
            server.evtFrame(topic: t, type: ty, payload: p, allocator: allocator) } } }
        var f = frame
        let head = f.readString(length: 4 + topic.count + 1)
        #expect(head == "EVT decky.d2.mutate_request\n")
        let len = f.readInteger(as: UInt32.self)
        #expect(Int(len ?? 0) == f.readableBytes)
        let body = try JSONValue.parse(f.readBytes(length: f.readableBytes) ?? [])
        #expect(body["payload"]?["k"]?.stringValue?.count == n)
    }
}
