// CorrelationTests.swift: the pure correlation engine: identical profiles for any batching and for replays,
// traversal order by first contact, phases, score ordering, fingerprint links across IPs.
@testable import Fingerprint
import Testing

@Suite struct CorrelationTests {
    /// A deterministic event stream: scanners, brute-forcers, one attacker walking three deckies.
    static func stream(_ n: Int = 3_000) -> [CorrelationEvent] {
        var out: [CorrelationEvent] = []
        var x: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
        let types = ["scan.portscan.detected", "telnet.login.failed", "telnet.command.input", "http.request", "tcp_syn_fingerprint",
                     "ftp.session.file_download"]
        for i in 0..<n {
            let ip = "10.0.0.\(next() % 40)"
            let t = types[Int(next() % UInt64(types.count))]
            var prints: [(kind: String, value: String)] = []
            if t == "tcp_syn_fingerprint" { prints = [("ja4t", "64240_2-4-8-1-3_1460_\(next() % 3)"), ("p0f_os", "Linux 2.2.x-3.x")] }
            // Timestamps are not monotonic in id order (sensor and decoys keep their own clocks).
            out.append(CorrelationEvent(id: Int64(i + 1), timestamp: 1000 + Double(i) + Double(next() % 5), decky: "decky-\(next() % 5)",
                                        service: t.split(separator: ".").first.map(String.init) ?? "tcp", eventType: t, attackerIP: ip,
                                        fingerprints: prints, credential: t.contains("login"), authSuccess: false,
                                        artifact: t.contains("download")))
        }
        return out
    }

    @Test func sameEventsAnyBatchingSameProfiles() {
        let events = CorrelationTests.stream()
        var whole = CorrelationEngine()
        whole.fold(events)
        for size in [1, 7, 100, 999] {
            var e = CorrelationEngine()
            var i = 0
            while i < events.count { e.fold(events[i..<min(i + size, events.count)]); i += size }
            #expect(e.profiles == whole.profiles, "batch size \(size)")
        }
    }

    @Test func replayedEventsAreFoldedOnce() {
        let events = CorrelationTests.stream()
        var e = CorrelationEngine()
        e.fold(events)
        let once = e.profiles
        let again = e.fold(events)             // at-least-once delivery: the same stream again
        #expect(again.folded == 0 && again.skipped == events.count)
        e.fold(events[1000..<2000])            // or a part of it
        #expect(e.profiles == once)
        // A restart from stored profiles continues exactly where it stopped.
        var first = CorrelationEngine()
        first.fold(events[0..<1500])
        var resumed = CorrelationEngine(profiles: Array(first.profiles.values), lastEventID: first.lastEventID)
        resumed.fold(events)
        #expect(resumed.profiles == once)
    }

    @Test func traversalIsFirstContactOrderAndPhasesAndScore() {
        let ev: [CorrelationEvent] = [
            // Arrives first but happened last: the order is by time, not arrival.
            CorrelationEvent(id: 1, timestamp: 300, decky: "c", service: "http", eventType: "http.login.failed", attackerIP: "1.1.1.1", credential: true),
            CorrelationEvent(id: 2, timestamp: 100, decky: "a", service: "tcp", eventType: "scan.portscan.detected", attackerIP: "1.1.1.1",
                             fingerprints: [("ja4t", "64240_2-4-8-1-3_1460_7"), ("p0f_os", "Linux")]),
            CorrelationEvent(id: 3, timestamp: 200, decky: "b", service: "telnet", eventType: "telnet.login.success", attackerIP: "1.1.1.1",
                             credential: true, authSuccess: true),
            CorrelationEvent(id: 4, timestamp: 210, decky: "b", service: "telnet", eventType: "telnet.command.input", attackerIP: "1.1.1.1"),
            CorrelationEvent(id: 5, timestamp: 150, decky: "decnet-prober", service: "tcp", eventType: "probe", attackerIP: "1.1.1.1"),
            // A pure scanner over the same three deckies.
            CorrelationEvent(id: 6, timestamp: 100, decky: "a", service: "tcp", eventType: "scan.portscan.detected", attackerIP: "2.2.2.2",
                             fingerprints: [("ja4t", "64240_2-4-8-1-3_1460_7")]),
            CorrelationEvent(id: 7, timestamp: 101, decky: "b", service: "tcp", eventType: "scan.portscan.detected", attackerIP: "2.2.2.2"),
            CorrelationEvent(id: 8, timestamp: 102, decky: "c", service: "tcp", eventType: "scan.portscan.detected", attackerIP: "2.2.2.2"),
        ]
        var e = CorrelationEngine()
        let r = e.fold(ev)
        #expect(r.newIPs == ["1.1.1.1", "2.2.2.2"])
        let p = e.profiles["1.1.1.1"]!
        #expect(p.traversal == ["a", "b", "c"], "internal decnet- hostnames are not deckies")
        #expect(p.isTraversal && p.eventCount == 5 && p.credentialCount == 2 && p.authSuccesses == 1)
        #expect(p.phaseList == [.scan, .auth, .command])
        #expect(p.fingerprints["ja4t"]?["64240_2-4-8-1-3_1460_7"] == 1 && p.fingerprints["p0f_os"]?["Linux"] == 1)
        #expect(p.firstSeen == 100 && p.lastSeen == 300)
        let scanner = e.profiles["2.2.2.2"]!
        #expect(scanner.isTraversal && scanner.phaseList == [.scan])
        #expect(p.score > scanner.score, "an attacker that logged in and ran commands outranks a scanner")
        let rel = e.related(to: "2.2.2.2")
        #expect(rel.count == 1 && rel[0].ip == "1.1.1.1" && rel[0].shared == ["ja4t:64240_2-4-8-1-3_1460_7"])
        #expect(e.related(to: "9.9.9.9").isEmpty)
        #expect(e.related(to: "2.2.2.2", maxSharing: 1).isEmpty, "a fingerprint shown by too many IPs links nobody")
    }

    @Test func scoreIsDocumentedArithmetic() {
        var p = AttackerProfile(ip: "x", firstSeen: 0, lastSeen: 0, lastEventID: 0)
        p.eventCount = 9
        p.deckies = ["a": .init(firstSeen: 0, firstID: 1, events: 9)]
        p.services = ["ssh": 9]
        // 3 (decky) + 2 (service) + 2*log10(10) = 7
        #expect(p.score == 7)
        p.phases[.command] = 1
        #expect(p.score == 27)
        #expect(abs(Score.log10(1000) - 3) < 1e-9 && abs(Score.log10(2) - 0.30103) < 1e-5 && Score.log10(1) == 0)
    }
}
