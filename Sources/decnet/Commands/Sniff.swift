// Sniff.swift: `decnet sniff --read FILE [--read FILE ...] [--out PATH]`: one JSON line per flow.
import Appliance
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct Sniff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fingerprint every flow of pcap/pcapng files (JA3/JA4+/HASSH/p0f) as JSON Lines.")

    @Option(name: .long, help: "Capture file to read (pcap or pcapng, detected by content). Repeatable.")
    var read: [String] = []

    @Option(name: .long, help: "Write JSON Lines here instead of standard output.")
    var out: String?

    @Option(name: .long, help: "Per-direction TCP bytes handed to the L7 parsers (default 65536).")
    var streamBytes: UInt32 = 65536

    @Option(name: .long, help: "p0f database for OS labels (read when present; default /etc/p0f/p0f.fp).")
    var p0fDb: String = "/etc/p0f/p0f.fp"

    @Flag(name: .long, help: "Do not print progress lines for large files.")
    var quiet = false

    func validate() throws {
        if read.isEmpty { throw ValidationError("give at least one --read FILE") }
    }

    func run() throws {
        var cfg = SniffConfiguration(files: read)
        cfg.outputPath = out
        cfg.streamBytes = streamBytes
        cfg.progress = !quiet
        cfg.p0fDatabasePath = p0fDb
        let t0 = monotonicSeconds()
        let results: [SniffFileResult]
        do {
            results = try OfflineSniffer(config: cfg).run()
        } catch {
            stderrLine("decnet sniff: \(error)")
            throw ExitCode(2)
        }
        stderrLine(SniffFileResult.summary(results, seconds: monotonicSeconds() - t0))
        var failed = false
        for r in results where r.error != nil {
            stderrLine("decnet sniff: error: \(r.error!)")
            failed = true
        }
        if failed { throw ExitCode(1) }
    }
}
