// OfflineSniffer.swift: runs the C engine over capture files and writes one JSON line per flow.
// The decode thread (C) produces records into the SPSC ring; this thread consumes them, folds them
// per flow and writes reports. Offline input waits for the consumer instead of dropping records.
import CPacket
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public struct SniffConfiguration: Sendable {
    public var files: [String]
    public var outputPath: String?          // nil: standard output
    public var streamBytes: UInt32 = 65536
    public var ringSlots: UInt32 = 1024
    public var progress: Bool = true
    public var p0fDatabasePath: String? = "/etc/p0f/p0f.fp"
    public init(files: [String]) { self.files = files }
}

public struct SniffFileResult: Sendable {
    public var path: String
    public var error: String?
    public var stats: cp_engine_stats
    public var consumerCPUSeconds: Double = 0
}

public enum SniffError: Error, CustomStringConvertible {
    case output(String)
    public var description: String {
        switch self { case .output(let m): return m }
    }
}

/// Buffered writer over a FILE*; the one place sniff output touches the file system.
final class LineWriter {
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool
    init(path: String?) throws {
        if let path {
            guard let f = fopen(path, "w") else { throw SniffError.output("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
            file = f
            owned = true
        } else {
            file = fdopen(dup(1), "w")!
            owned = true
        }
        setvbuf(file, nil, _IOFBF, 1 << 20)
    }
    func write(_ report: FlowReport) {
        report.bytes.withUnsafeBufferPointer { b in _ = fwrite(b.baseAddress, 1, b.count, file) }
        fputc(0x7d, file)     // "}"
        fputc(0x0a, file)
    }
    func close() { fflush(file); if owned { fclose(file) } }
}

public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

public struct OfflineSniffer {
    public let config: SniffConfiguration
    public init(config: SniffConfiguration) { self.config = config }

    /// Loads the system p0f database if present (LGPL; read at run time, never bundled).
    public static func loadP0f(_ path: String?) -> P0fDatabase? {
        guard let path, let data = readFile(path, limit: 8 << 20) else { return nil }
        let db = P0fDatabase(text: String(decoding: data, as: UTF8.self))
        return db.count > 0 ? db : nil
    }

    public func run() throws -> [SniffFileResult] {
        let out = try LineWriter(path: config.outputPath)
        defer { out.close() }
        let p0f = Self.loadP0f(config.p0fDatabasePath)
        var results: [SniffFileResult] = []
        for path in config.files {
            results.append(sniff(path: path, out: out, p0f: p0f))
        }
        return results
    }

    func sniff(path: String, out: LineWriter, p0f: P0fDatabase?) -> SniffFileResult {
        var err = CP_CAP_OK
        var msg = [CChar](repeating: 0, count: 512)
        guard let cap = cp_capture_open_file(path, &err, &msg, msg.count) else {
            return SniffFileResult(path: path, error: cString(msg), stats: cp_engine_stats())
        }
        var cfg = cp_engine_config()
        cp_engine_config_defaults(&cfg)
        cfg.ring_slots = config.ringSlots
        cfg.stream_bytes = config.streamBytes
        cfg.block_when_full = 1
        guard let engine = cp_engine_create(&cfg) else {
            cp_capture_close(cap)
            return SniffFileResult(path: path, error: "\(path): cannot create the packet engine", stats: cp_engine_stats())
        }
        defer { cp_engine_destroy(engine); cp_capture_close(cap) }
        let size = cap.pointee.size
        guard cp_engine_start(engine, cap, &msg, msg.count) == 0 else {
            return SniffFileResult(path: path, error: "\(path): \(cString(msg))", stats: cp_engine_stats())
        }
        let ring = cp_engine_ring(engine)!
        let name = String(path.split(separator: "/").last ?? Substring(path))
        var assembler = FlowAssembler(options: .init(p0f: p0f))
        let showProgress = config.progress && size >= 64 << 20
        let start = monotonicSeconds()
        let cpuAtStart = cp_thread_cpu_ns()
        var lastProgress = start
        var endError: String? = nil
        var idle = 0
        loop: while true {
            guard let slot = cp_ring_peek(ring) else {
                // Empty ring: sleep until the decode thread has a batch for us (futex), or 1 ms.
                idle += 1
                cp_ring_wait_readable(ring, 1_000)
                if showProgress && idle % 64 == 0 {
                    let now = monotonicSeconds()
                    if now - lastProgress >= 1 {
                        lastProgress = now
                        var s = cp_engine_stats()
                        cp_engine_get_stats(engine, &s)
                        let mbps = Double(s.input_bytes) / 1e6 / max(now - start, 1e-9)
                        stderrLine("sniff: \(name): \(s.packets) packets, \(decimalText(mbps, 1)) MB/s, \(s.flows) flows, \(Int(Double(s.input_bytes) * 100 / Double(max(size, 1))))%")
                    }
                }
                continue
            }
            idle = 0
            let rec = PacketRecord(decodingLazily: slot)
            cp_ring_release(ring)
            if case .inputEnd(let status, _, let message) = rec.body {
                if status != 0 { endError = "\(path): \(message)" }
                break loop
            }
            if let report = assembler.add(rec, pcap: name) { out.write(report) }
        }
        cp_engine_join(engine)
        let consumerCPU = Double(cp_thread_cpu_ns() - cpuAtStart) / 1e9
        var stats = cp_engine_stats()
        cp_engine_get_stats(engine, &stats)
        return SniffFileResult(path: path, error: endError, stats: stats, consumerCPUSeconds: consumerCPU)
    }
}

extension SniffFileResult {
    /// The final summary line(s) for stderr.
    public static func summary(_ results: [SniffFileResult], seconds: Double) -> String {
        var packets: UInt64 = 0, bytes: UInt64 = 0, flows: UInt64 = 0, drops: UInt64 = 0, perr: UInt64 = 0, waits: UInt64 = 0
        var decodeCPU = 0.0, consumerCPU = 0.0
        var anomalies = [UInt64](repeating: 0, count: Anomaly.count)
        for r in results {
            packets += r.stats.packets; bytes += r.stats.bytes; flows += r.stats.flows
            drops += r.stats.ring_drops; perr += r.stats.parse_errors; waits += r.stats.ring_waits
            decodeCPU += Double(r.stats.decode_cpu_ns) / 1e9; consumerCPU += r.consumerCPUSeconds
            withUnsafeBytes(of: r.stats.anomalies) { raw in
                for i in 0..<Anomaly.count { anomalies[i] += raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
            }
        }
        let an = (0..<Anomaly.count).filter { anomalies[$0] > 0 }.map { "\(Anomaly.name($0))=\(anomalies[$0])" }
        let pps = seconds > 0 ? Double(packets) / seconds : 0
        return "sniff: \(results.count) file(s), \(packets) packets, \(bytes) bytes, \(flows) flows, "
            + "\(decimalText(seconds, 1)) s, \(Int(pps)) packets/s, cpu s: decode \(decimalText(decodeCPU, 2)) fingerprint \(decimalText(consumerCPU, 2)), ring drops \(drops) (consumer waits \(waits)), parse errors \(perr), "
            + "anomalies: \(an.isEmpty ? "none" : an.joined(separator: " "))"
    }
}

/// A NUL-terminated C buffer as a String (invalid UTF-8 replaced).
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
