// CorpusConformanceTests.swift: sniff over every shared corpus capture, scored by the corpus' own
// check.py. Every remaining failure must be listed (and explained) in
// Tests/Fixtures/corpus-known-failures.txt; a new failure, or a listed one that now passes, fails.
import Appliance
import Foundation
import TestSupport
import Testing

func runCheck(_ output: String, extra: [String]) throws -> (status: Int32, text: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", Corpus.sharedDir.appendingPathComponent("corpus/check.py").path, output,
                   Corpus.sharedDir.appendingPathComponent("corpus/expected").path] + extra
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Test func corpusConformance() throws {
    let pcaps = Corpus.pcaps
    try #require(pcaps.count >= 28, "shared corpus not found at \(Corpus.pcapDir.path)")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-corpus-\(getpid()).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    var cfg = SniffConfiguration(files: pcaps.map(\.path))
    cfg.outputPath = out
    cfg.progress = false
    let results = try OfflineSniffer(config: cfg).run()
    #expect(results.allSatisfy { $0.error == nil }, "\(results.compactMap(\.error))")

    let (_, text) = try runCheck(out, extra: ["--skip-fields", "ja4d,ja4l,ja4ls", "-v"])
    let failures = Set(text.split(separator: "\n").compactMap { line -> String? in
        guard line.hasPrefix("MISMATCH") || line.hasPrefix("missing") else { return nil }
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count > 2, let field = line.range(of: "] ")?.upperBound else { return nil }
        let name = line[field...].split(separator: ":").first ?? ""
        return "\(parts[0]) \(parts[1]) \(line[line.range(of: "[")!.lowerBound..<line.range(of: "]")!.upperBound]) \(name)"
    })
    let knownText = try String(contentsOf: Corpus.repoRoot.appendingPathComponent("Tests/Fixtures/corpus-known-failures.txt"), encoding: .utf8)
    let known = Set(knownText.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty })
    #expect(failures.subtracting(known).isEmpty, "new corpus failures: \(failures.subtracting(known).sorted())")
    #expect(known.subtracting(failures).isEmpty, "fixed, remove from the known list: \(known.subtracting(failures).sorted())")
    let summary = text.split(separator: "\n").last.map(String.init) ?? ""
    #expect(summary.hasSuffix(" passed, \(known.count) failed"), "check.py said: \(summary)")
}

/// The live path (engine → ring → SessionTracker, what `decnet sensor` and `decnet up` run) over the same
/// corpus, its events turned into per-flow records with the corpus' field names and scored by check.py on
/// every field it emits. It must score exactly as the offline path (`decnet sniff`) does on those fields:
/// the same passes and the same failures, so the live fold cannot drift from the one the corpus scores.
@Test func corpusConformanceThroughTheLivePath() throws {
    let pcaps = Corpus.pcaps
    try #require(pcaps.count >= 28, "shared corpus not found at \(Corpus.pcapDir.path)")
    let tmp = FileManager.default.temporaryDirectory
    let liveOut = tmp.appendingPathComponent("decnet-corpus-live-\(getpid()).jsonl").path
    let offOut = tmp.appendingPathComponent("decnet-corpus-off-\(getpid()).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: liveOut); try? FileManager.default.removeItem(atPath: offOut) }

    // Event field -> corpus field; list fields accumulate per flow in capture order.
    let rename = ["sni": "tls_server_name", "ja4_quic": "ja4", "p0f_signature": "p0f_syn"]
    let scalar: Set<String> = ["ja3", "ja3s", "ja4", "ja4s", "ja4t", "hassh", "hassh_server", "tls_server_name", "p0f_syn"]
    let lists: Set<String> = ["ja4h", "ja4x", "ja4ssh"]
    var lines: [String] = []
    for url in pcaps {
        let events = try SessionTracker.events(file: url.path, options: .init(p0f: OfflineSniffer.loadP0f(SniffConfiguration(files: []).p0fDatabasePath)))
        // One record per flow (direction-independent key), fields merged; a second value for a scalar is kept
        // as the first (check.py would report the conflict otherwise).
        var order: [String] = []
        var flows: [String: [String: JSONValue]] = [:]
        for e in events {
            guard let sp = e.value("src_port"), let dp = e.value("dst_port") else { continue }
            let a = "\(e.srcIP)|\(sp)", b = "\(e.value("dst_ip") ?? "")|\(dp)"
            let key = a < b ? a + "|" + b : b + "|" + a
            var rec = flows[key] ?? [
                "pcap": .string(url.lastPathComponent), "src": .string(e.srcIP), "dst": .string(e.value("dst_ip") ?? ""),
                "sport": .number(Double(sp) ?? 0), "dport": .number(Double(dp) ?? 0),
                "proto": .string(e.spec.id.hasPrefix("quic") ? "udp" : "tcp"),
            ]
            if flows[key] == nil { order.append(key) }
            for (k, v) in e.fields {
                let name = rename[k] ?? k
                if e.spec.id == "tcp_syn_fingerprint" && name == "p0f_syn" && v.isEmpty { continue }
                if scalar.contains(name) {
                    if rec[name] == nil { rec[name] = .string(v) }
                } else if lists.contains(name) {
                    guard case .array(var have) = rec[name] ?? .array([]) else { continue }
                    have += v.split(separator: ",").map { .string(String($0)) }
                    rec[name] = .array(have)
                }
            }
            flows[key] = rec
        }
        for k in order {
            var rec = flows[k]!
            if case .string(let j) = rec["ja4"] ?? .null, j.hasPrefix("q") { rec["ja3"] = nil }   // see below
            lines.append(JSONValue.object(rec.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).serialized)
        }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: liveOut, atomically: true, encoding: .utf8)

    var cfg = SniffConfiguration(files: pcaps.map(\.path))
    cfg.outputPath = offOut
    cfg.progress = false
    _ = try OfflineSniffer(config: cfg).run()
    // One documented difference in what is emitted, not in how it is computed: the event catalogue's
    // quic_client_hello carries ja4_quic and no JA3 (spec §"quic_client_hello"; JA3 of a QUIC flow shows up
    // live only in tls_session, when the ServerHello is seen), so JA3 of QUIC flows is compared on neither side.
    let offLines = try String(contentsOfFile: offOut, encoding: .utf8).split(separator: "\n").map { line -> String in
        guard let j = try? JSONValue.parse(Array(line.utf8)), case .object(let members) = j,
              members.contains(where: { $0.0 == "ja4" && ($0.1.stringValue ?? "").hasPrefix("q") }) else { return String(line) }
        return JSONValue.object(members.filter { $0.0 != "ja3" }).serialized
    }
    try (offLines.joined(separator: "\n") + "\n").write(toFile: offOut, atomically: true, encoding: .utf8)

    func verdicts(_ text: String) -> (failures: Set<String>, summary: String) {
        let f = Set(text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("MISMATCH") || $0.hasPrefix("missing") })
        return (f, text.split(separator: "\n").last.map(String.init) ?? "")
    }
    let skip = ["--skip-fields", "ja4d,ja4l,ja4ls,ja4l_c,ja4l_s"]
    let (_, liveText) = try runCheck(liveOut, extra: skip + ["--only-emitted-fields", "-v"])
    // The fields the live path emitted, as check.py counted them (its per-field table).
    let firstWords: Set<String> = Set(liveText.split(separator: "\n").compactMap { line -> String? in
        line.split(separator: " ").first.map { String($0) }
    })
    let candidates: [String] = ["ja4", "ja4s", "ja4h", "ja4x", "ja4t", "ja4ssh", "ja3", "ja3s", "hassh", "hassh_server", "tls_server_name", "p0f_syn"]
    let emitted: [String] = candidates.filter { firstWords.contains($0) }
    try #require(emitted.count >= 10, "live path emitted only \(emitted): \(liveText.suffix(2000))")
    let (_, offText) = try runCheck(offOut, extra: ["--fields", emitted.joined(separator: ","), "-v"])
    let live = verdicts(liveText), off = verdicts(offText)
    #expect(live.failures == off.failures,
            "live only: \(live.failures.subtracting(off.failures).sorted().prefix(20)); offline only: \(off.failures.subtracting(live.failures).sorted().prefix(20))")
    #expect(live.summary == off.summary, "live \(live.summary) vs offline \(off.summary) on \(emitted)")
    print("corpus through the live path on \(emitted.joined(separator: ",")): \(live.summary) (offline: \(off.summary))")
}
