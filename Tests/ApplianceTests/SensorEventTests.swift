// SensorEventTests.swift: the event catalogue holds for everything the tracker emits over the corpus;
// the RFC 5424 / JSON renderings match spec §9.1/§9.3; the dedup/rate gate; the sink files (rotation,
// crash repair); the sensor configuration's error reporting.
@testable import Appliance
import Fingerprint
import Foundation
import TestSupport
import Testing

@Suite struct SensorEventTests {
    @Test func everyCorpusEventFollowsTheCatalogue() throws {
        var seen: Set<String> = []
        for pcap in Corpus.pcaps {
            let events = try SessionTracker.events(file: pcap.path)
            for e in events {
                let spec = try #require(EventCatalogue.spec(e.spec.id), "\(e.spec.id) not in the catalogue")
                let names = e.fields.map(\.0)
                #expect(Set(names).count == names.count, "\(e.spec.id): duplicate field in \(names)")
                #expect(Set(names).isSubset(of: Set(spec.fields)), "\(e.spec.id): fields \(Set(names).subtracting(spec.fields)) not in the catalogue")
                #expect(spec.required.isSubset(of: Set(names)), "\(e.spec.id) from \(pcap.lastPathComponent): missing \(spec.required.subtracting(names))")
                #expect(e.timestampNs > 0)
                seen.insert(e.spec.id.hasPrefix("anomaly.") ? "anomaly" : e.spec.id)
            }
        }
        // The corpus exercises every fixed event type and at least one anomaly kind.
        #expect(seen.isSuperset(of: EventCatalogue.fixed.map(\.id)), "never emitted: \(Set(EventCatalogue.fixed.map(\.id)).subtracting(seen))")
        #expect(seen.contains("anomaly"))
        // ids are unique and MSGID-sized (RFC 5424: at most 32 printable characters)
        let ids = EventCatalogue.fixed.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count <= 32 && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f } })
    }

    @Test func sessionsAreOrientedClientFirstAndCarryTheDecky() throws {
        let pcap = Corpus.pcapDir.appendingPathComponent("tls-alpn-h2.pcap").path
        let plain = try SessionTracker.events(file: pcap)
        let session = try #require(plain.first { $0.spec.id == "tls_session" })
        let server = try #require(IPAddress(parsing: session.value("dst_ip")!))
        #expect(session.value("dst_port") == "443")
        #expect(session.decky == nil)
        let named = try SessionTracker.events(file: pcap, options: .init(deckies: [server: "web01"]))
        #expect(named.allSatisfy { $0.decky == "web01" })
        let scoped = try SessionTracker.events(file: pcap, options: .init(deckies: [IPAddress(parsing: "192.0.2.99")!: "x"], deckiesOnly: true))
        #expect(scoped.isEmpty)
    }

    func sample(_ spec: EventSpec = EventCatalogue.sshClientBanner, ns: UInt64 = 1_700_000_000_123_456_789, src: String = "198.51.100.7",
                version: String = "SSH-2.0-OpenSSH_9.2p1") -> SensorEvent {
        var e = SensorEvent(spec, timestampNs: ns, src: IPAddress(parsing: src)!, srcPort: 40000,
                            dst: IPAddress(parsing: "10.0.0.5")!, dstPort: 22)
        if spec.fields.contains("ssh_version") { e.set("ssh_version", version) }
        e.decky = "decky-01"
        return e
    }

    @Test func rfc5424LineIsTheOriginalFormat() {
        let line = String(decoding: EventFormat.rfc5424(sample(version: #"SSH-2.0-x "q" \b] ok"#)), as: UTF8.self)
        #expect(line == #"<134>1 2023-11-14T22:13:20.123456+00:00 decky-01 sniffer - ssh_client_banner [relay@55555 src_ip="198.51.100.7" src_port="40000" dst_ip="10.0.0.5" dst_port="22" ssh_version="SSH-2.0-x \"q\" \\b\] ok"]"#)
        var warn = sample(EventCatalogue.tlsSession)
        warn.decky = nil
        #expect(String(decoding: EventFormat.rfc5424(warn), as: UTF8.self).hasPrefix("<132>1 2023-11-14T22:13:20.123456+00:00 - sniffer - tls_session [relay@55555 "))
    }

    @Test func jsonRecordIsTheCollectorsShape() throws {
        let e = sample(version: "SSH-2.0-\u{1}x")
        let raw = EventFormat.rfc5424(e)
        let (line, fields) = EventFormat.json(e, rawLine: raw)
        let v = try JSONValue.parse(line)
        #expect(v["timestamp"]?.stringValue == "2023-11-14 22:13:20")
        #expect(v["ts"]?.stringValue == "2023-11-14T22:13:20.123456+00:00")
        #expect(v["decky"]?.stringValue == "decky-01")
        #expect(v["service"]?.stringValue == "sniffer")
        #expect(v["event_type"]?.stringValue == "ssh_client_banner")
        #expect(v["attacker_ip"]?.stringValue == "198.51.100.7")
        #expect(v["fields"]?["ssh_version"]?.stringValue == "SSH-2.0-\u{1}x")
        #expect(v["raw_line"]?.stringValue == String(decoding: raw, as: UTF8.self))
        #expect(try JSONValue.parse(fields) == v["fields"]!)
    }

    @Test func gateDeduplicatesPerSourceWithinTheTTL() {
        var g = EventGate()
        let t0: UInt64 = 1_700_000_000_000_000_000
        let results = [
            g.admit(sample(ns: t0)),
            g.admit(sample(ns: t0 + 10_000_000_000)),                          // same key, 10 s later
            g.admit(sample(ns: t0 + 10_000_000_000, src: "198.51.100.8")),     // other source
            g.admit(sample(ns: t0 + 10_000_000_000, version: "SSH-2.0-Go")),  // other value
            g.admit(sample(ns: t0 + 301_000_000_000)),                         // after 300 s
        ]
        #expect(results == [true, false, true, true, true])
        #expect(g.counters == EventGate.Counters(passed: 4, duplicates: 1, rateLimited: 0, dedupResets: 0))
    }

    @Test func gateStaysBoundedAndRateLimits() {
        var o = EventGate.Options()
        o.maxKeys = 1000
        o.maxEventsPerSecond = 100
        var g = EventGate(options: o)
        let t0: UInt64 = 1_700_000_000_000_000_000
        var passed = 0
        for i in 0..<10_000 {   // 10,000 distinct sources within one second: 100 + refill pass
            let src = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
            if g.admit(sample(ns: t0 + UInt64(i) * 100_000, src: src)) { passed += 1 }
        }
        #expect(passed >= 100 && passed <= 201, "passed \(passed)")
        #expect(g.counters.rateLimited == 10_000 - passed)
        #expect(g.keys <= 1000)
    }

    @Test func sinkFilesRotateAndRepairATornLastLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-sink-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.log"
        try Data("whole line\nhalf a li".utf8).write(to: URL(fileURLWithPath: path))
        var cfg = EventPipeline.Configuration()
        cfg.rfc5424Path = path
        cfg.jsonlPath = path + ".json"
        cfg.maxFileBytes = 8192
        cfg.keepFiles = 2
        let p = try EventPipeline(configuration: cfg, store: nil, publisher: nil)
        #expect(p.statistics.repairedBytes == 9)
        for i in 0..<200 { p.submit([sample(ns: 1_700_000_000_000_000_000 + UInt64(i))]) }
        p.close()
        let s = p.statistics
        #expect(s.written == 200 && s.dropped == 0 && s.rotations > 0)
        var lines = 0
        for f in [path, path + ".1", path + ".2", path + ".json", path + ".json.1", path + ".json.2"] {
            guard let d = FileManager.default.contents(atPath: f) else { continue }
            #expect(d.last == 0x0a, "\(f) does not end with a newline")
            #expect(d.count <= 8192 + 2048 + 1024, "\(f): \(d.count) bytes")   // max + one chunk (max/4) + a line
            if f.hasSuffix(".json") || f.contains(".json.") {
                for l in d.split(separator: 0x0a) { _ = try JSONValue.parse(Array(l)); lines += 1 }
            }
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        #expect(lines > 0 && lines <= 200)
    }

    @Test func configurationListsEveryProblemWithItsLine() {
        var c = SensorConfiguration()
        let text = """
        [sensor]
        interface = eth9
        snaplen = 12
        promiscuous = maybe
        colour = blue
        [deckies]
        web = 10.0.0.300
        db1 = 10.0.0.5
        db2 = 10.0.0.5
        [other]
        """
        do {
            try c.apply(ini: text, name: "s.ini")
            Issue.record("accepted a bad file")
        } catch {
            let lines = "\(error)".split(separator: "\n").map(String.init)
            #expect(lines == [
                "s.ini:3: snaplen must be an integer in 64...262144, got \"12\"",
                "s.ini:4: promiscuous must be true or false, got \"maybe\"",
                "s.ini:5: unknown key colour",
                "s.ini:7: decky web: \"10.0.0.300\" is not an IP address",
                "s.ini:9: 10.0.0.5 is already decky db1",
                "s.ini:10: unknown section [other]",
            ])
        }
        var ok = SensorConfiguration()
        do { try ok.apply(ini: "[sensor]\ninterface = eth1 ; SPAN\nscope = deckies\n[deckies]\nweb01 = 192.0.2.10\n", name: "x") } catch { Issue.record("\(error)") }
        #expect(ok.interface == "eth1" && ok.deckiesOnly && ok.deckies[IPAddress(parsing: "192.0.2.10")!] == "web01")
        #expect(ok.effectiveMaxFlows > 100_000)
    }
}
