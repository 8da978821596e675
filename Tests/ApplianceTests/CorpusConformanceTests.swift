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
