// BadInputTests.swift: truncated, corrupt and foreign inputs give flows-so-far plus a clear error
// naming the file and byte offset, and never crash.
import Appliance
import Foundation
import TestSupport
import Testing

func sniffFile(_ path: String) throws -> (SniffFileResult, [String]) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-bad-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    var cfg = SniffConfiguration(files: [path])
    cfg.outputPath = out
    cfg.progress = false
    let r = try OfflineSniffer(config: cfg).run()[0]
    let lines = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    return (r, lines)
}

@Test func truncatedCapturesKeepFlowsAndNameTheOffset() throws {
    var rng = SystemRandomNumberGenerator()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-trunc-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var truncatedWithError = 0
    for pcap in Corpus.pcaps {
        let data = try Data(contentsOf: pcap)
        for _ in 0..<4 {
            let cut = Int.random(in: 1..<data.count, using: &rng)
            let path = dir.appendingPathComponent("\(pcap.lastPathComponent).\(cut)").path
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            let (r, lines) = try sniffFile(path)
            for l in lines { #expect(l.hasPrefix("{\"pcap\":")) }
            if let e = r.error {
                truncatedWithError += 1
                #expect(e.contains(path))
                #expect(e.contains("byte offset") || e.contains("too short") || e.contains("truncated"), "\(e)")
            }
        }
    }
    #expect(truncatedWithError > 0)
}

@Test func largeFileTruncatedMidPacketStillEmitsEarlierFlows() throws {
    let src = Corpus.pcapDir.appendingPathComponent("tls-handshake.pcapng")
    let data = try Data(contentsOf: src)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-half-\(getpid()).pcapng").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try data.prefix(data.count / 2 + 3).write(to: URL(fileURLWithPath: path))
    let (r, lines) = try sniffFile(path)
    #expect(r.error != nil)
    #expect(lines.count > 10)
}

@Test func foreignFilesGetClearErrors() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-text-\(getpid()).pcap").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data("hello, not a capture\n".utf8).write(to: URL(fileURLWithPath: path))
    let (r, lines) = try sniffFile(path)
    #expect(lines.isEmpty)
    #expect(r.error?.contains("not a pcap or pcapng file") == true)
    let (m, _) = try sniffFile("/nonexistent/decnet.pcap")
    #expect(m.error?.contains("cannot open") == true)
}

@Test func formatDetectedByMagicNotName() throws {
    // ipv6.pcapng is a classic pcap; it must produce the same flows as its twin tls-alpn-h2.pcap
    let (a, la) = try sniffFile(Corpus.pcapDir.appendingPathComponent("ipv6.pcapng").path)
    let (b, lb) = try sniffFile(Corpus.pcapDir.appendingPathComponent("tls-alpn-h2.pcap").path)
    #expect(a.error == nil && b.error == nil)
    #expect(la.map { $0.replacingOccurrences(of: "ipv6.pcapng", with: "X") } == lb.map { $0.replacingOccurrences(of: "tls-alpn-h2.pcap", with: "X") })
}
